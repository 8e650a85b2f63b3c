"""A full disk under OUT: a small tmpfs mounted in the case folder, holding what an earlier run
left there, then filled to the last block. Each command stops with one error line that says it
could not write (the file or folder, and why), leaves the earlier files as they were, and leaves
no temporary file. Needs the right to mount (root, or a container that grants it); where that is
refused, the cases skip and say so."""
import json
import os
import subprocess

import pytest

from bench.cli import main as bench_main
from convert.__main__ import main as convert_main
from tests.small_models import TRAIN_FAST
from tests.faults.conftest import CLASSES, SIZE, TFLITE, VARIANT
from tests.faults.outcome import CLEAR, in_process, refusal
from train.__main__ import main as train_main
from train.evaluate import main as evaluate_main

GROUP = "full disk under OUT"
DISK_MB = 8


@pytest.fixture
def full_disk(case):
    """case.root/disk: a tmpfs of DISK_MB, unmounted afterwards. fill() takes its last block."""
    disk = case.root / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({(mounted.stderr.strip() or 'mount failed')[:120]}): "
                    "a full disk needs the right to mount")

    def fill() -> None:
        handle = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(handle, b"\0" * 4096)
        except OSError:  # ENOSPC: full to the last block
            pass
        finally:
            os.close(handle)
    yield disk, fill
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _full_run(case, full_disk, before, argv_of, main, may_write=lambda path: False):
    """Copies `before` (an earlier run's folder, or nothing) onto the disk, fills it, runs main;
    `may_write`: what the command may write elsewhere."""
    disk, fill = full_disk
    out = disk / "out"
    if before is not None:
        case.copy(before, "disk/out")
    fill()
    finished, harmed = case.run(lambda: in_process(main, argv_of(out)),
                                lambda path: path == "disk/filler" or may_write(path))
    return finished, [h for h in harmed if "filler" not in h]


@pytest.mark.fault(GROUP, f"python -m convert {VARIANT} --precision fp32 ... --out OUT (an earlier file in OUT)")
@pytest.mark.parametrize("kind", ["full-after-an-earlier-conversion"])
def test_convert_into_a_full_disk_keeps_the_earlier_file(kind, case, full_disk, good_artifacts, small_demo, verdict):
    def argv(out):
        return [VARIANT, "--size", str(SIZE), "--classes", str(CLASSES), "--precision", "fp32", "--calib", "4",
                "--validate", "2", "--no-gpu-check", "--no-legacy-check", "--data", str(small_demo), "--out", str(out)]
    finished, harmed = _full_run(case, full_disk, good_artifacts, argv, convert_main)
    verdict(refusal(finished, ["cannot write", "No space left"], harmed), CLEAR)


@pytest.mark.fault(GROUP, "python -m bench FILE --backends cpu ... --out OUT (earlier results in OUT)")
@pytest.mark.parametrize("kind", ["full-after-earlier-results"])
def test_bench_into_a_full_disk_keeps_the_earlier_results(kind, case, full_disk, good_artifacts, good_bench_results,
                                                          verdict):
    earlier = case.root / "earlier"
    earlier.mkdir()
    (earlier / "results.json").write_text(json.dumps(good_bench_results))

    def argv(out):
        return [str(good_artifacts / VARIANT / TFLITE), "--backends", "cpu", "--num_runs", "2", "--warmup_runs", "1",
                "--num_threads", "1", "--min_secs", "0", "--no_progress", "--no_kernels", "--out", str(out)]
    finished, harmed = _full_run(case, full_disk, earlier, argv, bench_main,
                                 lambda path: path.startswith("tmp/bench-results-"))  # the rows, rescued
    rescued = [line for line in finished.error_lines if "bench-results-" in line]
    verdict(refusal(finished, ["No space left"], harmed) if rescued else
            refusal(finished, ["the rows rescued to TMPDIR/bench-results-PID.json"], harmed), CLEAR)


@pytest.mark.fault(GROUP, "python -m train.evaluate --model FILE --data DATA --out OUT")
@pytest.mark.parametrize("kind", ["full"])
def test_evaluate_into_a_full_disk_says_so(kind, case, full_disk, good_artifacts, small_demo, verdict):
    def argv(out):
        return ["--model", str(good_artifacts / VARIANT / TFLITE), "--data", str(small_demo), "--out", str(out)]
    finished, harmed = _full_run(case, full_disk, None, argv, evaluate_main)
    verdict(refusal(finished, ["cannot write", "No space left"], harmed), CLEAR)


@pytest.mark.fault(GROUP, "python -m train --variant ghost_tiny ... --out RUN")
@pytest.mark.parametrize("kind", ["full"])
def test_train_into_a_full_disk_says_so(kind, case, full_disk, small_demo, verdict):
    def argv(out):
        return [*TRAIN_FAST, "--data", str(small_demo), "--out", str(out)]
    finished, harmed = _full_run(case, full_disk, None, argv, train_main)
    # What a run folder may hold after the refusal: its lock, and the folders made before the first write.
    harmed = [h for h in harmed if not h.endswith("/.lock")]
    verdict(refusal(finished, ["cannot write", "No space left"], harmed), CLEAR)
