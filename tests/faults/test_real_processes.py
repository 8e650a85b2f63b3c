"""One damaged input per command through a real `python -m ...` process, as make runs it: what
reaches the terminal (exit code, tracebacks, the error line among native logs) is what a user sees.
The other cases call each command's main() in this process, which is the same code but cheaper."""
import json
import os
import shutil

import pytest

from core.artifacts import MANIFEST
from tests.faults.conftest import TFLITE, VARIANT, json_text
from tests.faults.corrupt import damaged, damaged_json
from tests.faults.outcome import CLEAR, as_process, refusal, writes_under

GROUP = "real processes"
NO_PERF = "perf is not installed (make perf-install): python -m bench.profile cannot run here"


@pytest.fixture
def env(case) -> dict[str, str]:
    return {**os.environ, "TMPDIR": str(case.root / "tmp"), "TF_CPP_MIN_LOG_LEVEL": "2"}


def _truncated_artifact(case, good_artifacts):
    path = case.copy(good_artifacts, "artifacts") / VARIANT / TFLITE
    path.write_bytes(damaged("truncated", 0, path.read_bytes()))
    return path


def _truncated_keras(case, good_keras):
    path = case.copy(good_keras.parent, "run") / good_keras.name
    path.write_bytes(damaged("truncated", 0, path.read_bytes()))
    return path


@pytest.mark.fault(GROUP, "python -m convert.card FILE")
@pytest.mark.parametrize("kind", ["truncated-seed0"])
def test_card_process(kind, case, env, good_artifacts, verdict):
    path = _truncated_artifact(case, good_artifacts)
    finished, harmed = case.run(lambda: as_process("convert.card", [str(path)], env))
    verdict(refusal(finished, [path.name], harmed), CLEAR)


@pytest.mark.fault(GROUP, "python -m bench FILE --backends cpu --num_runs 2 --warmup_runs 1 --out OUT")
@pytest.mark.parametrize("kind", ["truncated-seed0"])
def test_bench_process(kind, case, env, good_artifacts, verdict):
    path, out = _truncated_artifact(case, good_artifacts), case.root / "bench-out"
    args = [str(path), "--backends", "cpu", "--num_runs", "2", "--warmup_runs", "1", "--no_progress", "--no_kernels",
            "--out", str(out)]
    finished, harmed = case.run(lambda: as_process("bench", args, env), writes_under("bench-out"))
    rows = json_text(out / "results.json")["records"] if (out / "results.json").is_file() else []
    verdict(refusal(finished, [path.name], harmed, rows), CLEAR)


@pytest.mark.fault(GROUP, f"python -m convert.ship {VARIANT} --precision fp32 --artifacts ARTIFACTS --out DIST")
@pytest.mark.parametrize("kind", ["garbage-manifest-seed0"])
def test_ship_process(kind, case, env, good_artifacts, verdict):
    folder = case.copy(good_artifacts, "artifacts") / VARIANT
    (folder / MANIFEST).write_text(damaged_json("garbage", 0, json.loads((folder / MANIFEST).read_text()), []))
    args = [VARIANT, "--precision", "fp32", "--artifacts", str(case.root / "artifacts"),
            "--out", str(case.root / "dist")]
    finished, harmed = case.run(lambda: as_process("convert.ship", args, env))
    verdict(refusal(finished, [MANIFEST], harmed), CLEAR)


@pytest.mark.fault(GROUP, "python -m convert b0 --size 48 --classes 8 --precision fp32 --weights FILE --out OUT")
@pytest.mark.parametrize("kind", ["truncated-keras-seed0"])
def test_convert_process(kind, case, env, good_keras, verdict):
    path = _truncated_keras(case, good_keras)  # b0: a registered variant (ghost_tiny exists only in this process)
    args = ["b0", "--size", "48", "--classes", "8", "--precision", "fp32", "--no-gpu-check", "--no-legacy-check",
            "--weights", str(path), "--out", str(case.root / "artifacts")]
    finished, harmed = case.run(lambda: as_process("convert", args, env))
    verdict(refusal(finished, [path.name], harmed), CLEAR)


@pytest.mark.fault(GROUP, "python -m studies.quant_report --variant b0 --size 48 --weights FILE --data DATA --out OUT")
@pytest.mark.parametrize("kind", ["truncated-keras-seed0"])
def test_quant_report_process(kind, case, env, good_keras, small_demo, verdict):
    path = _truncated_keras(case, good_keras)
    args = ["--variant", "b0", "--size", "48", "--weights", str(path), "--data", str(small_demo),
            "--out", str(case.root / "report")]
    finished, harmed = case.run(lambda: as_process("studies.quant_report", args, env))
    verdict(refusal(finished, [path.name], harmed), CLEAR)


@pytest.mark.fault(GROUP, "python -m train.evaluate --model FILE --data DATA --out OUT")
@pytest.mark.parametrize("kind", ["truncated-seed0"])
def test_evaluate_process(kind, case, env, good_artifacts, small_demo, verdict):
    path = _truncated_artifact(case, good_artifacts)
    args = ["--model", str(path), "--data", str(small_demo), "--out", str(case.root / "evaluation")]
    finished, harmed = case.run(lambda: as_process("train.evaluate", args, env))
    verdict(refusal(finished, [path.name], harmed), CLEAR)


@pytest.mark.skipif(shutil.which("perf") is None, reason=NO_PERF)
@pytest.mark.fault(GROUP, "python -m bench.profile FILE --out OUT")
@pytest.mark.parametrize("kind", ["truncated-seed0"])
def test_profile_process(kind, case, env, good_artifacts, verdict):
    path = _truncated_artifact(case, good_artifacts)
    finished, harmed = case.run(lambda: as_process("bench.profile", [str(path), "--out", str(case.root / "p")], env))
    verdict(refusal(finished, [path.name], harmed), CLEAR)
