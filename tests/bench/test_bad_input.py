"""The hostile-input corpus for make bench: each case ends as a one-line error (exit 2) or a failed
row in a sweep that goes on, with nothing measured lost and no worker left running."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bench.artifacts import distinct_names, expand
from bench.cli import main
from bench.sweep import execute, plan
from core.artifacts import describe
from runtime.backends import Context, parse_backends
from runtime.isolated import run_job
from runtime.jobs import BackendSpec, Job
from runtime.records import FAILED, OK
from runtime.timing import RunSettings
from tests.conftest import ctrl_c_reaches

QUICK = ["--num_threads", "1", "--num_runs", "2", "--warmup_runs", "0", "--min_secs", "0", "--no_progress"]


def _bench(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True, **kwargs)


@pytest.fixture
def variant_folder(artifacts_dir, tmp_path):
    """A copy of the b0 artifacts (files + manifest) that a test may damage."""
    folder = tmp_path / "b0"
    shutil.copytree(artifacts_dir / "b0", folder)
    return folder


def _rows(out) -> dict[str, dict]:
    return {r["model"]: r for r in json.loads((out / "results.json").read_text())["records"]}


def test_damaged_files_are_failed_rows_that_name_the_check_and_the_sweep_goes_on(variant_folder, tmp_path):
    good, flipped = variant_folder / "b0_fp32.tflite", variant_folder / "b0_int8.tflite"
    data = bytearray(flipped.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 10] = bytes(b ^ 0xFF for b in data[middle:middle + 10])  # weights, not structure
    flipped.write_bytes(bytes(data))
    (variant_folder / "random_fp32.tflite").write_bytes(os.urandom(20000))
    (variant_folder / "cut_fp32.tflite").write_bytes(good.read_bytes()[:5000])
    out = tmp_path / "results"
    code = main([str(variant_folder / "*.tflite"), "--backends", "cpu", "--out", str(out), *QUICK])
    rows = _rows(out)
    assert code == 0 and rows["b0_fp32.tflite"]["status"] == OK
    assert rows["b0_int8.tflite"]["status"] == FAILED and "sha256 differs" in rows["b0_int8.tflite"]["reason"]
    assert "no TFL3 identifier" in rows["random_fp32.tflite"]["reason"]
    assert rows["cut_fp32.tflite"]["reason"].startswith("file check failed: LiteRT cannot open it")


def test_a_worker_that_writes_bytes_that_are_not_utf8_is_a_failed_row(fp32_model, tmp_path):
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\nprintf 'boom \\377\\376 here\\n' >&2\nexit 1\n")
    fake_python.chmod(0o755)
    job = Job(describe(fp32_model), BackendSpec("cpu"), 1, RunSettings())
    record = run_job(job, python=str(fake_python), timeout=30)
    assert record.status == FAILED and "boom" in record.reason and "exited with code 1" in record.reason


def test_a_failed_row_names_the_cause_litert_logged_not_only_its_source_location(fp32_model, tmp_path):
    # As LiteRT's GPU accelerator logged it on a machine whose NVIDIA Vulkan driver could not load.
    logged = ["ERROR: [delegate_webgpu.cc:359] Failed to initialize WebGPU environment: INTERNAL: No adapters found",
              "E0000 00:00:1795391629.100919     439 delegate_webgpu.cc:736] Failed to get or create delegate"]
    wrapper = tmp_path / "python"
    wrapper.write_text("#!/bin/sh\nprintf '%s\\n' " + " ".join(f"'{line}'" for line in logged)
                       + f" >&2\nexec {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    model = tmp_path / "emptied_fp32.tflite"
    shutil.copy(fp32_model, model)
    job = Job(describe(str(model)), BackendSpec("cpu"), 1, RunSettings())
    model.write_bytes(b"")  # the real worker's load then fails with LiteRT's own error
    record = run_job(job, python=str(wrapper), timeout=60)
    assert record.status == FAILED
    assert "LiteRT logged: Failed to initialize WebGPU environment: INTERNAL: No adapters found" in record.reason
    assert "libglvnd" in record.reason  # and what to do about it


@pytest.mark.parametrize("out_name", ["taken", "taken/results"])
def test_an_unusable_out_is_refused_before_anything_is_measured(fp32_model, tmp_path, out_name):
    (tmp_path / "taken").write_text("keep me")  # a regular file where OUT (or its parent) should be
    started = time.monotonic()
    result = _bench(fp32_model, "--backends", "cpu", "--out", str(tmp_path / out_name), *QUICK)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "OUT" in result.stderr
    assert time.monotonic() - started < 30  # refused up front, not after a sweep
    assert (tmp_path / "taken").read_text() == "keep me"


def test_an_out_nothing_can_be_created_in_is_refused_before_anything_is_measured(fp32_model):
    """/proc/nope: access() tells root that /proc is writable; only creating something there says no."""
    started = time.monotonic()
    result = _bench(fp32_model, "--backends", "cpu", "--out", "/proc/nope", *QUICK)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "cannot write to OUT folder '/proc/nope'" in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - started < 30


def test_results_that_out_cannot_take_after_the_sweep_are_kept_elsewhere_and_said_where(fp32_model, tmp_path):
    out, temp = tmp_path / "out", tmp_path / "temp"
    (out / "results.json").mkdir(parents=True)  # OUT passes the check up front, yet results.json cannot be written
    temp.mkdir()
    result = _bench(fp32_model, "--backends", "cpu", "--out", str(out), *QUICK, "--no_kernels",
                    env={**os.environ, "TMPDIR": str(temp)})
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    (rescued,) = temp.glob("bench-results-*.json")
    assert result.stderr.startswith(f"bench: error: cannot write the results to {str(out)!r}")
    assert result.stderr.rstrip().endswith(f"the measured rows (1) are in {rescued}")
    (row,) = json.loads(rescued.read_text())["records"]
    assert row["status"] == OK and row["latency"]["runs"] >= 2
    assert "| b0_fp32.tflite | fp32 | cpu |" in result.stdout  # the table is printed as ever


@pytest.mark.parametrize("flag, value", [
    ("--num_runs", "-1"), ("--num_runs", "0"), ("--warmup_runs", "-5"), ("--timeout", "0"),
    ("--timeout", "-1"), ("--max_secs", "0"), ("--min_secs", "-1"), ("--backends", ","),
])
def test_nonsense_flags_are_one_line_errors(fp32_model, tmp_path, flag, value):
    out = tmp_path / "out"
    result = _bench(fp32_model, f"{flag}={value}", "--out", str(out))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert flag.lstrip("-") in result.stderr or "no backend" in result.stderr
    assert not out.exists()


def test_each_row_is_written_as_it_comes(fp32_model, crashing_library):
    written = []
    planned = plan([describe(fp32_model)], parse_backends(f"delegate:{crashing_library},npu"), [1],
                   RunSettings(num_runs=1, warmup_runs=0, min_secs=0), Context())
    records = execute(planned, timeout=60, progress=False, on_record=lambda rows: written.append(len(rows)))
    assert written == [1, 2] and len(records) == 2


def _workers_under(folder) -> list[str]:
    result = subprocess.run(["pgrep", "-f", f"runtime.worker {folder}"], capture_output=True, text=True)
    return result.stdout.split()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_kills_the_worker_keeps_the_rows_and_leaves_no_temp_files(
        fp32_model, hanging_library, tmp_path, stop):
    temp, out = tmp_path / "temp", tmp_path / "out"
    temp.mkdir()
    bench = subprocess.Popen(
        [sys.executable, "-m", "bench", fp32_model, "--backends", f"npu,delegate:{hanging_library}",
         "--timeout", "300", "--out", str(out), *QUICK],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(temp)},
        preexec_fn=ctrl_c_reaches)
    deadline = time.monotonic() + 120
    while not _workers_under(temp) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _workers_under(temp), "the hanging worker never started"
    bench.send_signal(stop)
    _, stderr = bench.communicate(timeout=60)
    assert bench.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    assert not _workers_under(temp) and not list(temp.iterdir())
    assert [r["backend"] for r in json.loads((out / "results.json").read_text())["records"]] == ["npu"]


def test_the_default_glob_skips_rejected_files_and_same_names_get_their_folder(artifacts_dir, tmp_path):
    for folder in ("a", "b"):
        shutil.copytree(artifacts_dir / "b0", tmp_path / folder / "b0")
    (tmp_path / "a" / "b0" / "b0_fp32.rejected.tflite").write_bytes(b"old")
    paths = expand([str(tmp_path / "*" / "b0" / "*.tflite")])
    assert not any(p.endswith(".rejected.tflite") for p in paths)
    names = [m.name for m in distinct_names([describe(p) for p in paths if p.endswith("fp32.tflite")])]
    assert len(set(names)) == 2 and all(n.endswith("b0/b0_fp32.tflite") for n in names)
