"""The JSON files commands read back: manifest.json (ship, card, bench, a later make tflite),
evaluation.json and bench's results.json (ship's model card), state.json (make train's resume).
A command that depends on one refuses a garbled one naming it; a command that only consults
the manifest (card, bench) goes on with the file as if it had none; make tflite keeps a garbled
manifest aside and starts a new one."""
import json

import pytest

from bench.cli import main as bench_main
from convert.__main__ import main as convert_main
from convert.card import main as card_main
from convert.ship import main as ship_main
from core.artifacts import ENTRY_TYPES, MANIFEST, checked_entry, read_manifest, sha256
from tests.small_models import TRAIN_FAST
from tests.faults.conftest import CLASSES, SIZE, TFLITE, VARIANT, json_text
from tests.faults.corrupt import cases, damaged_json
from tests.faults.outcome import CLEAR, OK, acceptance, in_process, refusal, writes_under
from train.__main__ import main as train_main

WHOLE = {"truncated": 2, "garbage": 1, "empty-object": 1, "not-an-object": 2}
MANIFEST_DAMAGE = {**WHOLE, "wrong-type": 5, "missing-field": 3}
# What ship's model card reads from the entry; each must be there, with its type.
SHIPPED_FIELDS = ("sha256", "inputs", "outputs", "validation", "size_bytes", "input_size", "parameters",
                  "xnnpack_partitions")
EVALUATION_DAMAGE = {**WHOLE, "wrong-type": 2, "missing-field": 2}
RESULTS_DAMAGE = {**WHOLE, "wrong-type": 3, "missing-field": 3}
STATE_DAMAGE = {**WHOLE, "wrong-type": 2, "missing-field": 1}
BENCH = "python -m bench FILE --backends cpu --num_runs 2 --warmup_runs 1 --out OUT"
CONVERT_INTO = f"python -m convert {VARIANT} --precision fp32 ... --out OUT (OUT holds it)"
TRAIN = f"python -m train --variant {VARIANT} ... --out RUN (RUN/checkpoints/state.json)"
SHIP = f"python -m convert.ship {VARIANT} --precision fp32 --artifacts ARTIFACTS --out DIST --bench BENCH"
NUMBER, TEXT, OBJECT, ARRAY = (int, float), (str,), (dict,), (list,)  # JSON types, as damaged_json takes them


def _entry_fields(entry: dict) -> list:
    kinds = {key: kind if isinstance(kind, tuple) else (kind,) for key, kind in ENTRY_TYPES.items()}
    return [(["artifacts"], OBJECT), (["variant"], TEXT)] + [(["artifacts", TFLITE, key], kinds[key])
                                                             for key in ENTRY_TYPES if key in entry]


def _damaged_manifest(case, good_artifacts, kind: str, seed: int, missing=SHIPPED_FIELDS):
    folder = case.copy(good_artifacts, "artifacts") / VARIANT
    manifest = json_text(folder / MANIFEST)
    fields = ([(["artifacts", TFLITE, key], ()) for key in missing] if kind == "missing-field"
              else _entry_fields(manifest["artifacts"][TFLITE]))
    (folder / MANIFEST).write_text(damaged_json(kind, seed, manifest, fields))
    return folder


def _ship(case):
    argv = [VARIANT, "--precision", "fp32", "--artifacts", str(case.root / "artifacts"),
            "--out", str(case.root / "dist"), "--bench", str(case.root / "bench")]
    return case.run(lambda: in_process(ship_main, argv))


@pytest.mark.fault("damaged manifest.json", SHIP)
@pytest.mark.parametrize(("kind", "seed"), cases(MANIFEST_DAMAGE))
def test_ship_refuses_a_damaged_manifest_naming_it(kind, seed, case, good_artifacts, verdict):
    _damaged_manifest(case, good_artifacts, kind, seed)
    finished, harmed = _ship(case)
    verdict(refusal(finished, [MANIFEST], harmed), CLEAR)


@pytest.mark.fault("damaged manifest.json", "python -m convert.card FILE --json")
@pytest.mark.parametrize(("kind", "seed"), cases(MANIFEST_DAMAGE))
def test_card_reads_the_file_itself_when_its_manifest_is_damaged(kind, seed, case, good_artifacts, verdict):
    path = _damaged_manifest(case, good_artifacts, kind, seed, missing=("sha256", "precision")) / TFLITE
    finished, harmed = case.run(lambda: in_process(card_main, [str(path), "--json"]))

    def wrong_card() -> str:
        return "" if json.loads(finished.stdout)["sha256"] == sha256(path.read_bytes()) else "another file's sha256"
    verdict(acceptance(finished, harmed, wrong_card), OK)


@pytest.mark.fault("damaged manifest.json", BENCH)
@pytest.mark.parametrize(("kind", "seed"), cases({"truncated": 1, "not-an-object": 1, "wrong-type": 2}))
def test_bench_measures_the_file_when_its_manifest_is_damaged(kind, seed, case, good_artifacts, verdict):
    path = _damaged_manifest(case, good_artifacts, kind, seed) / TFLITE
    out = case.root / "bench-out"
    argv = [str(path), "--backends", "cpu", "--num_runs", "2", "--warmup_runs", "1", "--num_threads", "1",
            "--min_secs", "0", "--no_progress", "--no_kernels", "--out", str(out)]
    finished, harmed = case.run(lambda: in_process(bench_main, argv), writes_under("bench-out"))

    def not_measured() -> str:
        statuses = [row["status"] for row in json_text(out / "results.json")["records"]]
        return "" if statuses == ["ok"] else f"rows {statuses}"
    verdict(acceptance(finished, harmed, not_measured), OK)


@pytest.mark.fault("damaged manifest.json", CONVERT_INTO)
@pytest.mark.parametrize(("kind", "seed"), cases({"truncated": 1, "not-an-object": 1, "wrong-type": 2}))
def test_convert_keeps_a_damaged_manifest_aside_and_writes_a_good_one(kind, seed, case, good_artifacts, verdict):
    folder = _damaged_manifest(case, good_artifacts, kind, seed)
    argv = [VARIANT, "--size", str(SIZE), "--classes", str(CLASSES), "--precision", "fp32", "--calib", "4",
            "--validate", "2", "--no-gpu-check", "--no-legacy-check", "--out", str(case.root / "artifacts")]
    finished, harmed = case.run(lambda: in_process(convert_main, argv), writes_under("artifacts"))

    def manifest_wrong() -> str:
        entry = checked_entry(read_manifest(folder), TFLITE)
        written = sha256((folder / TFLITE).read_bytes())
        return "" if entry and entry["sha256"] == written else "no entry for the new file"
    verdict(acceptance(finished, harmed, manifest_wrong), OK)


def _with_evaluation(case, good_artifacts, good_evaluation, kind: str, seed: int):
    folder = case.copy(good_artifacts, "artifacts") / VARIANT / f"{TFLITE.removesuffix('.tflite')}_evaluation"
    folder.mkdir()
    fields = [(["top1"], NUMBER), (["images"], NUMBER), (["top5"], NUMBER)]
    (folder / "evaluation.json").write_text(damaged_json(kind, seed, good_evaluation, fields))


@pytest.mark.fault("damaged evaluation.json", SHIP)
@pytest.mark.parametrize(("kind", "seed"), cases(EVALUATION_DAMAGE))
def test_ship_refuses_a_damaged_evaluation_naming_it(kind, seed, case, good_artifacts, good_evaluation, verdict):
    _with_evaluation(case, good_artifacts, good_evaluation, kind, seed)
    finished, harmed = _ship(case)
    verdict(refusal(finished, ["evaluation.json"], harmed), CLEAR)


def _with_bench_results(case, good_artifacts, good_bench_results, kind: str, seed: int):
    """results.json whose row is about the case's own .tflite, damaged."""
    case.copy(good_artifacts, "artifacts")
    results = json.loads(json.dumps(good_bench_results))
    results["records"][0]["path"] = str(case.root / "artifacts" / VARIANT / TFLITE)
    row = ["records", 0]
    needed = [row + [key] for key in ("path", "backend", "runtime", "machine")] + [row + ["latency", "p50_ms"]]
    fields = ([(path, ()) for path in needed] if kind == "missing-field" else
              [(["records"], ARRAY), (row, OBJECT), (row + ["latency"], OBJECT), (row + ["latency", "p50_ms"], NUMBER),
               (row + ["path"], TEXT)])
    (case.root / "bench").mkdir()
    (case.root / "bench" / "results.json").write_text(damaged_json(kind, seed, results, fields))


@pytest.mark.fault("damaged bench results.json", SHIP)
@pytest.mark.parametrize(("kind", "seed"), cases(RESULTS_DAMAGE))
def test_ship_refuses_damaged_bench_results_naming_them(kind, seed, case, good_artifacts, good_bench_results, verdict):
    _with_bench_results(case, good_artifacts, good_bench_results, kind, seed)
    finished, harmed = _ship(case)
    verdict(refusal(finished, ["results.json"], harmed), CLEAR)


# A resumable run's state, but for other settings than the command's: a state.json that is read
# correctly is refused for its settings before any epoch (no training in this suite).
OTHER_RUN_STATE = {"fingerprint": {"variant": "ghost_b0", "size": 224}, "completed_epochs": 1, "history": [],
                   "best": None, "checkpoint": None, "pipeline_images_per_s": {}}


@pytest.mark.fault("damaged state.json", TRAIN)
@pytest.mark.parametrize(("kind", "seed"), cases(STATE_DAMAGE))
def test_train_refuses_a_damaged_state_naming_it(kind, seed, case, small_demo, tiny_variant, verdict):
    run = case.root / "my run"
    (run / "checkpoints").mkdir(parents=True)
    state = damaged_json(kind, seed, OTHER_RUN_STATE, [(["fingerprint"], OBJECT)])
    (run / "checkpoints" / "state.json").write_text(state)
    argv = [*TRAIN_FAST, "--data", str(small_demo), "--out", str(run)]
    finished, harmed = case.run(lambda: in_process(train_main, argv), lambda path: path == f"{run.name}/.lock")
    verdict(refusal(finished, ["state.json", run.name], harmed), CLEAR)  # .lock: the run folder's own lock
