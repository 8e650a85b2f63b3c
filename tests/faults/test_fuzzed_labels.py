"""labels.txt, damaged or merely odd, given to make tflite (--labels) and found by make evaluate beside
a .keras model. Bad ones are refused naming the file; odd but valid ones (unicode, spaces inside a
name, CRLF line ends, a very long name) come out exactly as written."""
import shutil

import pytest

from convert.__main__ import main as convert_main
from tests.faults.conftest import CLASSES, SIZE, TFLITE, VARIANT, class_names, json_text
from tests.faults.corrupt import cases, random_name, rng_for
from tests.faults.outcome import CLEAR, OK, acceptance, in_process, refusal, writes_nothing, writes_under
from train.evaluate import main as evaluate_main, packed_labels

BAD = "damaged labels.txt"
ODD = "odd but valid labels.txt"
UNICODE = "aäöüßéçñ日本語中文кир "
REFUSED = {"empty": 1, "blank-lines": 1, "binary": 2, "latin-1": 1, "duplicate": 2, "too-few": 1, "too-many": 1,
           "huge-line": 1}
VALID = {"unicode-and-spaces": 2, "crlf-and-padding": 1, "huge-name": 1}
# The confusion matrix's font has no CJK glyphs: those names are drawn as boxes (the JSON keeps them).
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")


def _names(rng, count: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz") -> list[str]:
    names = []
    while len(names) < count:
        name = random_name(rng, alphabet, rng.randint(3, 12)).strip()
        if name and name not in names:
            names.append(name)
    return names


def labels_file(kind: str, seed: int, real: list[str]) -> tuple[bytes, list[str] | None]:
    """The bytes of a labels.txt of `kind` and the names it must give (None: it must be refused).
    Count-wise damage uses `real` (DATA's class names), so only the count is wrong."""
    rng = rng_for(kind, seed)
    if kind == "empty":
        return b"", None
    if kind == "blank-lines":
        return "".join(rng.choice(["\n", " \n", "\t\n", "\r\n"]) for _ in range(rng.randint(1, 20))).encode(), None
    if kind == "binary":
        return b"\xff" + rng.randbytes(rng.randint(1, 500)), None
    if kind == "latin-1":
        return "\n".join(name + "é" for name in _names(rng, CLASSES)).encode("latin-1"), None
    if kind == "duplicate":
        names = _names(rng, CLASSES - 1)
        names.insert(rng.randrange(len(names) + 1), rng.choice(names))
        return "\n".join(names).encode(), None
    if kind == "too-few":
        return "\n".join(rng.sample(real, CLASSES - 1)).encode(), None
    if kind == "too-many":
        names = list(real)
        names.insert(rng.randrange(len(names) + 1), random_name(rng))
        return "\n".join(names).encode(), None
    if kind == "huge-line":
        return random_name(rng, length=1_000_000).encode(), None
    if kind == "unicode-and-spaces":
        names = _names(rng, CLASSES, UNICODE)
        return "".join(f"{name}\n" for name in names).encode(), names
    if kind == "crlf-and-padding":
        names = [f"{a} {b}" for a, b in zip(_names(rng, CLASSES), _names(rng, CLASSES))]
        return "".join(f"  {name}\t\r\n" for name in names).encode(), names
    if kind == "huge-name":
        names = _names(rng, CLASSES - 1) + [random_name(rng, length=100_000)]
        return "\n".join(names).encode(), names
    raise ValueError(f"no labels damage called {kind!r}")


def _convert(case, labels):
    argv = [VARIANT, "--size", str(SIZE), "--classes", str(CLASSES), "--precision", "fp32", "--calib", "4",
            "--validate", "2", "--no-gpu-check", "--no-legacy-check", "--labels", str(labels),
            "--out", str(case.root / "artifacts")]
    return case.run(lambda: in_process(convert_main, argv), writes_under("artifacts"))


CONVERT = (f"python -m convert {VARIANT} --size {SIZE} --classes {CLASSES} --precision fp32 --labels FILE "
           "--out OUT")
EVALUATE = "python -m train.evaluate --model RUN/model.keras --data DATA --out OUT (labels.txt beside the model)"


@pytest.mark.fault(BAD, CONVERT)
@pytest.mark.parametrize(("kind", "seed"), cases(REFUSED))
def test_convert_refuses_a_bad_labels_file_naming_it(kind, seed, case, small_demo, tiny_variant, verdict):
    labels = case.root / "my labels.txt"
    labels.write_bytes(labels_file(kind, seed, class_names(small_demo))[0])
    finished, harmed = _convert(case, labels)
    verdict(refusal(finished, [labels.name], harmed), CLEAR)


@pytest.mark.fault(ODD, CONVERT)
@pytest.mark.parametrize(("kind", "seed"), cases(VALID))
def test_convert_packs_odd_but_valid_labels_exactly(kind, seed, case, small_demo, tiny_variant, verdict):
    labels = case.root / "my labels.txt"
    data, names = labels_file(kind, seed, class_names(small_demo))
    labels.write_bytes(data)
    finished, harmed = _convert(case, labels)

    def packed_differently() -> str:
        packed = packed_labels(case.root / "artifacts" / VARIANT / TFLITE)
        return "" if packed == names else f"packed {len(packed or [])} labels, not the {len(names)} written"
    verdict(acceptance(finished, harmed, packed_differently), OK)


def _run_with_labels(case, good_keras, data: bytes):
    run = case.copy(good_keras.parent, "run")
    (run / "labels.txt").write_bytes(data)
    return run


def _evaluate(case, run, data_folder, may_write=writes_under("evaluation")):
    argv = ["--model", str(run / "model.keras"), "--data", str(data_folder), "--split", "all",
            "--out", str(case.root / "evaluation")]
    return case.run(lambda: in_process(evaluate_main, argv), may_write)


@pytest.mark.fault(BAD, EVALUATE)
@pytest.mark.parametrize(("kind", "seed"), cases(REFUSED))
def test_evaluate_refuses_a_bad_labels_file_beside_the_model_naming_it(kind, seed, case, good_keras, small_demo,
                                                                        verdict):
    run = _run_with_labels(case, good_keras, labels_file(kind, seed, class_names(small_demo))[0])
    finished, harmed = _evaluate(case, run, small_demo, writes_nothing)
    verdict(refusal(finished, ["labels.txt"], harmed), CLEAR)


@pytest.mark.fault(ODD, EVALUATE)
@pytest.mark.parametrize(("kind", "seed"), cases({kind: n for kind, n in VALID.items() if kind != "huge-name"}))
def test_evaluate_scores_class_folders_named_as_odd_labels(kind, seed, case, good_keras, small_demo, verdict):
    data, names = labels_file(kind, seed, class_names(small_demo))
    run = _run_with_labels(case, good_keras, data)
    folder = case.root / "data set"
    for name, real in zip(names, class_names(small_demo)):
        shutil.copytree(small_demo / "val" / real, folder / name)
    finished, harmed = _evaluate(case, run, folder)

    def scored_differently() -> str:
        result = json_text(case.root / "evaluation" / "evaluation.json")
        wanted = (sorted(names), 4 * CLASSES)
        return "" if (result["classes"], result["images"]) == wanted else f"classes/images {result['classes']}"
    verdict(acceptance(finished, harmed, scored_differently), OK)
