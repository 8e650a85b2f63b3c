"""Folders named with spaces, unicode, quotes and brackets (seeded): every command works there as
anywhere, and an error about a file there names it as it is."""
import pytest

from bench.cli import main as bench_main
from convert.__main__ import main as convert_main
from convert.card import main as card_main
from convert.ship import main as ship_main
from core.artifacts import sha256
from tests.faults.conftest import CLASSES, SIZE, TFLITE, VARIANT, json_text
from tests.faults.corrupt import damaged, random_name, rng_for
from tests.faults.outcome import CLEAR, OK, acceptance, in_process, refusal, writes_under
from train.evaluate import main as evaluate_main

GROUP = "paths with spaces and unicode"
ALPHABET = "ab yzäöüéñ日本語ßкий'(),&=+ "
QUICK_BENCH = ["--backends", "cpu", "--num_runs", "2", "--warmup_runs", "1", "--num_threads", "1", "--min_secs", "0",
               "--no_progress", "--no_kernels"]


def odd_name(seed: int) -> str:
    name = random_name(rng_for("odd-path", seed), ALPHABET, 12).strip()
    return f"{name} {seed}"  # never empty, never only spaces


def seeds(count: int) -> list:
    return [pytest.param(seed, id=f"odd-path-seed{seed}") for seed in range(count)]


def _odd_artifacts(case, good_artifacts, seed: int):
    return case.copy(good_artifacts, f"{odd_name(seed)}/artifacts")


@pytest.mark.fault(GROUP, "python -m convert.card FILE --json")
@pytest.mark.parametrize("seed", seeds(4))
def test_card_of_a_file_in_an_odd_folder(seed, case, good_artifacts, verdict):
    path = _odd_artifacts(case, good_artifacts, seed) / VARIANT / TFLITE
    finished, harmed = case.run(lambda: in_process(card_main, [str(path), "--json"]))
    verdict(acceptance(finished, harmed,
                       lambda: "" if sha256(path.read_bytes()) in finished.stdout else "no sha256"), OK)


@pytest.mark.fault(GROUP, "python -m train.evaluate --model FILE --data DATA --split all --out OUT")
@pytest.mark.parametrize("seed", seeds(4))
def test_evaluate_with_model_data_and_out_in_odd_folders(seed, case, good_artifacts, small_demo, verdict):
    path = _odd_artifacts(case, good_artifacts, seed) / VARIANT / TFLITE
    data = case.copy(small_demo, f"{odd_name(seed)}/data set")
    out = case.root / odd_name(seed) / "évaluation"
    argv = ["--model", str(path), "--data", str(data), "--split", "all", "--out", str(out)]
    finished, harmed = case.run(lambda: in_process(evaluate_main, argv), writes_under(f"{odd_name(seed)}/évaluation"))
    verdict(acceptance(finished, harmed, lambda: "" if json_text(out / "evaluation.json")["images"] == 128
                       else "not every image scored"), OK)


@pytest.mark.fault(GROUP, f"python -m convert.ship {VARIANT} --precision fp32 --artifacts ARTIFACTS --out DIST")
@pytest.mark.parametrize("seed", seeds(4))
def test_ship_from_and_to_odd_folders(seed, case, good_artifacts, verdict):
    artifacts = _odd_artifacts(case, good_artifacts, seed)
    dist = case.root / odd_name(seed) / "dist ✓"
    argv = [VARIANT, "--precision", "fp32", "--artifacts", str(artifacts), "--out", str(dist)]
    finished, harmed = case.run(lambda: in_process(ship_main, argv), writes_under(f"{odd_name(seed)}/dist ✓"))

    def not_shipped() -> str:
        shipped = dist / VARIANT / TFLITE
        return "" if shipped.is_file() and shipped.read_bytes() == (artifacts / VARIANT / TFLITE).read_bytes() \
            else "the shipped file is not the artifact"
    verdict(acceptance(finished, harmed, not_shipped), OK)


@pytest.mark.fault(GROUP, "python -m bench FILE --backends cpu --num_runs 2 --warmup_runs 1 --out OUT")
@pytest.mark.parametrize("seed", seeds(2))
def test_bench_of_a_file_in_an_odd_folder(seed, case, good_artifacts, verdict):
    path = _odd_artifacts(case, good_artifacts, seed) / VARIANT / TFLITE
    out = case.root / odd_name(seed) / "bench results"
    finished, harmed = case.run(lambda: in_process(bench_main, [str(path), *QUICK_BENCH, "--out", str(out)]),
                                writes_under(f"{odd_name(seed)}/bench results"))
    verdict(acceptance(finished, harmed, lambda: "" if [r["status"] for r in json_text(out / "results.json")["records"]]
                       == ["ok"] else "not measured"), OK)


@pytest.mark.fault(GROUP, f"python -m convert {VARIANT} --size {SIZE} --classes {CLASSES} --precision fp32 "
                          "--data DATA --out OUT")
@pytest.mark.parametrize("seed", seeds(2))
def test_convert_from_and_into_odd_folders(seed, case, small_demo, tiny_variant, verdict):
    data = case.copy(small_demo, f"{odd_name(seed)}/data set")
    out = case.root / odd_name(seed) / "artifacts"
    argv = [VARIANT, "--size", str(SIZE), "--classes", str(CLASSES), "--precision", "fp32", "--calib", "4",
            "--validate", "2", "--no-gpu-check", "--no-legacy-check", "--data", str(data), "--out", str(out)]
    finished, harmed = case.run(lambda: in_process(convert_main, argv), writes_under(f"{odd_name(seed)}/artifacts"))
    verdict(acceptance(finished, harmed, lambda: "" if (out / VARIANT / TFLITE).is_file() else "no file written"), OK)


@pytest.mark.fault(GROUP, "python -m convert.card FILE (damaged)")
@pytest.mark.parametrize("seed", seeds(2))
def test_card_names_a_damaged_file_in_an_odd_folder_as_it_is(seed, case, good_artifacts, verdict):
    path = _odd_artifacts(case, good_artifacts, seed) / VARIANT / TFLITE
    path.write_bytes(damaged("truncated", seed, path.read_bytes()))
    finished, harmed = case.run(lambda: in_process(card_main, [str(path)]))
    verdict(refusal(finished, [odd_name(seed)], harmed), CLEAR)
