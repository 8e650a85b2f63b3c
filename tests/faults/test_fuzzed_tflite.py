"""A damaged .tflite handed to every command that reads one: in its folder (its manifest.json records
the sha256 of the good file) and as a stray file with no manifest (only LiteRT's verifier can tell)."""
import shutil

import pytest

from bench.cli import main as bench_main
from bench.profile import main as profile_main
from convert.card import main as card_main
from convert.ship import main as ship_main
from tests.faults.conftest import TFLITE, VARIANT, json_text
from tests.faults.corrupt import cases, damaged
from tests.faults.outcome import CLEAR, in_process, refusal, writes_under
from train.evaluate import main as evaluate_main

IN_FOLDER = "damaged .tflite in its folder"
STRAY = "damaged .tflite without a manifest"
QUICK_BENCH = ["--backends", "cpu", "--num_runs", "2", "--warmup_runs", "1", "--num_threads", "1", "--min_secs", "0",
               "--no_progress", "--no_kernels"]
DAMAGE = {"truncated": 4, "bit-flipped": 4, "zero-filled": 3, "random-bytes": 2, "empty": 1}
STRAY_DAMAGE = {"truncated": 2, "random-bytes": 1, "empty": 1}
NO_PERF = "perf is not installed (make perf-install): python -m bench.profile cannot run here"


def _damaged_artifact(case, good_artifacts, kind: str, seed: int):
    """The artifacts folder copied into the case, its .tflite damaged (bit flips and zeros in the
    middle of the file: weights, which the verifier cannot judge; only the sha256 can)."""
    path = case.copy(good_artifacts, "artifacts") / VARIANT / TFLITE
    data = path.read_bytes()
    path.write_bytes(damaged(kind, seed, data, (int(len(data) * 0.3), int(len(data) * 0.7))))
    return path


def _stray(case, good_artifacts, kind: str, seed: int):
    folder = case.root / "downloads"
    folder.mkdir()
    path = folder / TFLITE
    path.write_bytes(damaged(kind, seed, (good_artifacts / VARIANT / TFLITE).read_bytes()))
    return path


def _bench_refusal(case, path):
    out = case.root / "bench-out"
    finished, harmed = case.run(lambda: in_process(bench_main, [str(path), *QUICK_BENCH, "--out", str(out)]),
                                writes_under("bench-out"))
    rows = json_text(out / "results.json")["records"] if (out / "results.json").is_file() else []
    return refusal(finished, [path.name], harmed, [r for r in rows if r.get("path") == str(path)])


def _card_refusal(case, path):
    finished, harmed = case.run(lambda: in_process(card_main, [str(path)]))
    return refusal(finished, [path.name], harmed)


def _evaluate_refusal(case, path, small_demo):
    argv = ["--model", str(path), "--data", str(small_demo), "--out", str(case.root / "evaluation")]
    finished, harmed = case.run(lambda: in_process(evaluate_main, argv))
    return refusal(finished, [path.name], harmed)


@pytest.mark.fault(IN_FOLDER, "python -m convert.card FILE")
@pytest.mark.parametrize(("kind", "seed"), cases(DAMAGE))
def test_card_refuses_a_damaged_tflite_naming_it(kind, seed, case, good_artifacts, verdict):
    verdict(_card_refusal(case, _damaged_artifact(case, good_artifacts, kind, seed)), CLEAR)


@pytest.mark.fault(IN_FOLDER, "python -m bench FILE --backends cpu --num_runs 2 --warmup_runs 1 --out OUT")
@pytest.mark.parametrize(("kind", "seed"), cases(DAMAGE))
def test_bench_marks_a_damaged_tflite_failed_with_the_reason(kind, seed, case, good_artifacts, verdict):
    verdict(_bench_refusal(case, _damaged_artifact(case, good_artifacts, kind, seed)), CLEAR)


@pytest.mark.fault(IN_FOLDER, "python -m train.evaluate --model FILE --data DATA --out OUT")
@pytest.mark.parametrize(("kind", "seed"), cases(DAMAGE))
def test_evaluate_refuses_a_damaged_tflite_naming_it(kind, seed, case, good_artifacts, small_demo, verdict):
    verdict(_evaluate_refusal(case, _damaged_artifact(case, good_artifacts, kind, seed), small_demo), CLEAR)


@pytest.mark.fault(IN_FOLDER, f"python -m convert.ship {VARIANT} --precision fp32 --artifacts ARTIFACTS --out DIST")
@pytest.mark.parametrize(("kind", "seed"), cases(DAMAGE))
def test_ship_refuses_a_damaged_tflite_naming_it(kind, seed, case, good_artifacts, verdict):
    path = _damaged_artifact(case, good_artifacts, kind, seed)
    argv = [VARIANT, "--precision", "fp32", "--artifacts", str(case.root / "artifacts"),
            "--out", str(case.root / "dist")]
    finished, harmed = case.run(lambda: in_process(ship_main, argv))
    verdict(refusal(finished, [path.name], harmed), CLEAR)


@pytest.mark.skipif(shutil.which("perf") is None, reason=NO_PERF)
@pytest.mark.fault(IN_FOLDER, "python -m bench.profile FILE --out OUT")
@pytest.mark.parametrize(("kind", "seed"), cases(DAMAGE))
def test_profile_refuses_a_damaged_tflite_before_perf_runs(kind, seed, case, good_artifacts, verdict):
    path = _damaged_artifact(case, good_artifacts, kind, seed)
    finished, harmed = case.run(lambda: in_process(profile_main, [str(path), "--out", str(case.root / "profile")]))
    verdict(refusal(finished, [path.name], harmed), CLEAR)


@pytest.mark.fault(STRAY, "python -m convert.card FILE")
@pytest.mark.parametrize(("kind", "seed"), cases(STRAY_DAMAGE))
def test_card_refuses_a_damaged_stray_tflite_naming_it(kind, seed, case, good_artifacts, verdict):
    verdict(_card_refusal(case, _stray(case, good_artifacts, kind, seed)), CLEAR)


@pytest.mark.fault(STRAY, "python -m bench FILE --backends cpu --num_runs 2 --warmup_runs 1 --out OUT")
@pytest.mark.parametrize(("kind", "seed"), cases(STRAY_DAMAGE))
def test_bench_marks_a_damaged_stray_tflite_failed_with_the_reason(kind, seed, case, good_artifacts, verdict):
    verdict(_bench_refusal(case, _stray(case, good_artifacts, kind, seed)), CLEAR)


@pytest.mark.fault(STRAY, "python -m train.evaluate --model FILE --data DATA --out OUT")
@pytest.mark.parametrize(("kind", "seed"), cases(STRAY_DAMAGE))
def test_evaluate_refuses_a_damaged_stray_tflite_naming_it(kind, seed, case, good_artifacts, small_demo, verdict):
    verdict(_evaluate_refusal(case, _stray(case, good_artifacts, kind, seed), small_demo), CLEAR)
