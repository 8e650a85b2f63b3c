"""An OUT folder nothing can be written to: each command refuses it in one line naming it, before
any work, and leaves nothing. chmod 555 makes it for a user; root writes through chmod, so as
root the folder is made immutable (chattr +i), and where that is refused too the cases skip."""
import shutil
import subprocess

import pytest

from bench.cli import main as bench_main
from convert.__main__ import main as convert_main
from convert.ship import main as ship_main
from studies.quant_report import main as quant_report_main
from tests.faults.conftest import CLASSES, SIZE, TFLITE, VARIANT
from tests.faults.outcome import CLEAR, in_process, refusal
from train.evaluate import main as evaluate_main

GROUP = "read-only OUT folder"
NO_READ_ONLY = ("running as root, where chmod 555 does not stop writes, and chattr +i (immutable) is not "
                "available here: no read-only OUT can be made")


def _writes_get_through(folder) -> bool:
    probe = folder / ".probe"
    try:
        probe.write_text("")
    except PermissionError:
        return False
    probe.unlink()
    return True


def _chattr(flag: str, folder) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(folder)], capture_output=True).returncode == 0


@pytest.fixture
def locked(case):
    """case/locked, read-only for whoever runs the suite (skips where that cannot be made)."""
    folder = case.root / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = _writes_get_through(folder) and _chattr("+i", folder)
    if _writes_get_through(folder):
        folder.chmod(0o755)
        pytest.skip(NO_READ_ONLY)
    yield folder
    if immutable:
        _chattr("-i", folder)
    folder.chmod(0o755)  # so the case folder can be removed


def _refused(case, main, argv, locked):
    finished, harmed = case.run(lambda: in_process(main, argv))
    return refusal(finished, [locked.name], harmed)


@pytest.mark.fault(GROUP, "python -m bench FILE --backends cpu --out OUT")
@pytest.mark.parametrize("kind", ["chmod-555"])
def test_bench_refuses_a_read_only_out(kind, case, locked, good_artifacts, verdict):
    argv = [str(good_artifacts / VARIANT / TFLITE), "--backends", "cpu", "--no_progress", "--no_kernels",
            "--out", str(locked / "out")]
    verdict(_refused(case, bench_main, argv, locked), CLEAR)


@pytest.mark.fault(GROUP, f"python -m convert {VARIANT} --precision fp32 --out OUT")
@pytest.mark.parametrize("kind", ["chmod-555"])
def test_convert_refuses_a_read_only_out(kind, case, locked, tiny_variant, verdict):
    argv = [VARIANT, "--size", str(SIZE), "--classes", str(CLASSES), "--precision", "fp32", "--calib", "4",
            "--validate", "2", "--no-gpu-check", "--no-legacy-check", "--out", str(locked / "out")]
    verdict(_refused(case, convert_main, argv, locked), CLEAR)


@pytest.mark.fault(GROUP, "python -m train.evaluate --model FILE --data DATA --out OUT")
@pytest.mark.parametrize("kind", ["chmod-555"])
def test_evaluate_refuses_a_read_only_out(kind, case, locked, good_artifacts, small_demo, verdict):
    argv = ["--model", str(good_artifacts / VARIANT / TFLITE), "--data", str(small_demo), "--out", str(locked / "out")]
    verdict(_refused(case, evaluate_main, argv, locked), CLEAR)


@pytest.mark.fault(GROUP, f"python -m convert.ship {VARIANT} --precision fp32 --artifacts ARTIFACTS --out DIST")
@pytest.mark.parametrize("kind", ["chmod-555"])
def test_ship_refuses_a_read_only_out(kind, case, locked, good_artifacts, verdict):
    argv = [VARIANT, "--precision", "fp32", "--artifacts", str(good_artifacts), "--out", str(locked / "dist")]
    verdict(_refused(case, ship_main, argv, locked), CLEAR)


@pytest.mark.fault(GROUP, "python -m studies.quant_report --weights FILE --data DATA --out OUT")
@pytest.mark.parametrize("kind", ["chmod-555"])
def test_quant_report_refuses_a_read_only_out(kind, case, locked, good_keras, small_demo, verdict):
    argv = ["--variant", VARIANT, "--size", str(SIZE), "--weights", str(good_keras), "--data", str(small_demo),
            "--out", str(locked / "out")]
    verdict(_refused(case, quant_report_main, argv, locked), CLEAR)
