import csv
import json
import subprocess
import sys

import pytest

from bench.cli import main


def test_cli_writes_table_csv_json_and_plots(artifacts_dir, tmp_path, capsys):
    out = tmp_path / "results"
    code = main([str(artifacts_dir / "*" / "*.tflite"), "--backends", "cpu,npu",
                 "--num_threads", "1", "--num_runs", "5", "--warmup_runs", "1",
                 "--min_secs", "0", "--out", str(out), "--no_progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| b0_fp32.tflite | fp32 | cpu | 1 |" in printed and "| npu |" in printed
    assert (out / "results.md").read_text() in printed
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [(r["model"], r["backend"]) for r in rows][:2] == [("b0_fp32.tflite", "cpu"), ("b0_fp32.tflite", "npu")]
    assert rows[0]["status"] == "ok"
    # The NPU row: measured where a device exists, otherwise a row that says why not.
    assert rows[1]["status"] == "ok" or (rows[1]["status"] in ("skipped", "failed") and rows[1]["reason"])
    data = json.load(open(out / "results.json"))
    assert data["machine"]["cpu"] and data["settings"]["num_runs"] == 5
    # Which kernels each file's op types ran on, where perf can sample; otherwise why not.
    kernels = data["kernels"]
    assert set(kernels) == {"b0_fp32.tflite", "b0_int8.tflite"} or kernels["all files"].startswith("not recorded")
    if "b0_int8.tflite" in kernels:
        assert kernels["b0_int8.tflite"]["DEPTHWISE_CONV_2D"] and "XNNPACK kernels per op type" in printed
    assert data["records"][0]["latency"]["runs"] == 5
    for png in ("latency_vs_size.png", "latency_bars.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [
    (["/no/such/model.tflite"], "no model file matches '/no/such/model.tflite'"),
    (["--backends", "cpu,warp"], "unknown backend 'warp'"),
    (["--num_threads", "two"], "comma-separated integers"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, fp32_model):
    if args[0].startswith("--"):
        args = [fp32_model, *args]
    result = subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_dry_run_prints_the_exact_adb_commands(fp32_model, capsys):
    code = main([fp32_model, "--backends", "android:gpu", "--dry_run",
                 "--android_binary", "/b/benchmark_model"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "adb push /b/benchmark_model /data/local/tmp/bench/benchmark_model" in printed
    assert "--graph=/data/local/tmp/bench/b0_fp32.tflite" in printed and "--use_gpu=true" in printed


def test_help_lists_every_backend():
    result = subprocess.run([sys.executable, "-m", "bench", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for name in ("cpu", "interpreter", "gpu", "npu", "delegate", "legacy", "tf", "android"):
        assert f"\n  {name} " in result.stdout


def test_make_bench_passes_backend_options_to_the_command_whole():
    """`;key=value` options (arm-a76;caches=on, delegate:lib;device=usb) would end the shell command unquoted."""
    import subprocess

    from core.environments import REPO_ROOT

    done = subprocess.run(["make", "-n", "bench", "BACKENDS=arm-a76;caches=on,delegate:/x/lib.so;device=usb",
                           "MODELS=m.tflite"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "--backends 'arm-a76;caches=on,delegate:/x/lib.so;device=usb' --num_threads" in done.stdout
