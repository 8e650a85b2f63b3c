"""Real runs of each backend in worker subprocesses, and the failure paths of the sweep."""

import os
import subprocess
import sys

import pytest

from bench.sweep import execute, plan
from core.artifacts import describe
from runtime.backends import REGISTRY, Context, check_gpu, check_legacy, parse_backends
from runtime.isolated import run_job
from runtime.jobs import BackendSpec, Job
from runtime.records import FAILED, OK, SKIPPED
from runtime.timing import RunSettings

from tests.conftest import client_python

FAST = RunSettings(num_runs=10, warmup_runs=2, min_secs=0)


def _job(path, backend, threads=1, **options):
    return Job(describe(path), BackendSpec.parse(backend), threads, FAST, options)


@pytest.mark.parametrize("backend", ["cpu", "interpreter"])
@pytest.mark.parametrize("which", ["fp32_model", "int8_model"])
def test_litert_cpu_backends_measure_real_models(backend, which, request):
    record = run_job(_job(request.getfixturevalue(which), backend, threads=2))
    assert record.status == OK, record.reason
    assert record.threads == 2 and "XNNPACK" in record.accelerator
    assert record.latency.runs == 10 and 0 < record.latency.p50_ms <= record.latency.p99_ms
    assert record.init_ms > 0 and record.first_ms > 0
    assert record.peak_rss_mb >= record.baseline_rss_mb > 0
    assert record.runtime.startswith("ai-edge-litert")


def test_compiled_model_reports_whether_xnnpack_took_the_whole_graph(fp32_model):
    assert run_job(_job(fp32_model, "cpu")).fully_accelerated is True


def test_gpu_runs_and_is_labelled_software_emulated_on_lavapipe(int8_model):
    availability = check_gpu(BackendSpec("gpu"), Context())
    if availability.reason:
        pytest.skip(availability.reason)
    job = Job(describe(int8_model), BackendSpec("gpu"), None, FAST, availability.options)
    record = run_job(job, timeout=300)
    assert record.status == OK, record.reason
    assert record.fully_accelerated is not None and record.latency.runs == 10
    device = availability.options["gpu_device"]
    assert record.software_emulated == device["software"]
    assert device["name"] in record.accelerator


def test_legacy_runtime_runs_in_its_own_environment_or_says_how_to_make_it(fp32_model, tmp_path):
    missing = check_legacy(BackendSpec("legacy"), Context(legacy_python=str(tmp_path / "python")))
    assert "make bench-legacy-env" in missing.reason
    python = client_python(Context().legacy_python, "bench-legacy-env")
    record = run_job(_job(fp32_model, "legacy"), python=python)
    assert record.status == OK, record.reason
    assert record.runtime.startswith("tflite-runtime 2.14")


def test_tensorflow_baseline_times_the_keras_model_once_per_keras_model(artifacts_dir):
    models = [describe(str(p)) for p in sorted((artifacts_dir / "b0").glob("*.tflite"))]
    planned = plan(models, parse_backends("tf"), [1], FAST, Context())
    cpu_rows = [p for p in planned if p.job.backend.name == "tf"]
    assert len(cpu_rows) == 1  # fp32 and int8 came from the same Keras model
    record = run_job(cpu_rows[0].job, timeout=300)
    assert record.status == OK, record.reason
    assert (record.model, record.precision, record.file_size_bytes) == ("b0 (Keras)", "keras-fp32", None)
    assert record.accelerator == "TensorFlow CPU" and record.latency.p50_ms > 0


def test_tf_skips_files_of_unknown_variant(fp32_model, tmp_path):
    path = tmp_path / "somebody_elses.tflite"
    path.write_bytes(open(fp32_model, "rb").read())
    [planned] = plan([describe(str(path))], parse_backends("tf"), [1], FAST, Context())
    assert "variant unknown" in planned.skip


def test_a_file_that_is_not_a_library_is_a_failed_row(fp32_model):
    record = run_job(_job(fp32_model, f"delegate:{fp32_model}"))
    assert record.status == FAILED and "ELF" in record.reason


def test_a_delegate_that_crashes_the_process_is_a_failed_row(fp32_model, crashing_library):
    record = run_job(_job(fp32_model, f"delegate:{crashing_library}"))
    assert record.status == FAILED and "SIGABRT" in record.reason


def test_a_run_past_its_timeout_is_killed_and_failed(fp32_model):
    job = Job(describe(fp32_model), BackendSpec("interpreter"), 1,
              RunSettings(num_runs=10**9, min_secs=3600, max_secs=3600))
    record = run_job(job, timeout=3)
    assert record.status == FAILED and "timed out after 3 s" in record.reason


def test_the_sweep_goes_on_after_failures_and_skips(fp32_model, crashing_library, tmp_path):
    specs = parse_backends(f"delegate:{crashing_library},legacy,interpreter")
    ctx = Context(legacy_python=str(tmp_path / "none"))
    records = execute(plan([describe(fp32_model)], specs, [1], FAST, ctx), progress=False)
    assert [r.status for r in records] == [FAILED, SKIPPED, OK]


def test_npu_is_skipped_with_the_reason_unless_a_usable_dispatch_library_exists():
    availability = REGISTRY["npu"].check(BackendSpec("npu"), Context())
    assert availability.reason == "" or "dispatch library" in availability.reason


@pytest.mark.parametrize("text, error", [
    ("cpu,tpu", "unknown backend 'tpu'"),
    ("delegate", "delegate needs a library"),
    ("delegate:/no/such/libdelegate.so", "delegate library not found"),
    ("android:phone", "android mode 'phone'"),
    ("delegate:libx.so;novalue", "not key=value"),
])
def test_bad_backend_specs_are_rejected(text, error):
    with pytest.raises(ValueError, match=error):
        parse_backends(text)


def test_backend_spec_carries_delegate_options():
    spec = BackendSpec.parse("delegate:/opt/libedgetpu.so.1;device=usb;x=1")
    assert (spec.name, spec.arg, spec.options, spec.label) == (
        "delegate", "/opt/libedgetpu.so.1", {"device": "usb", "x": "1"}, "delegate:libedgetpu.so.1")


def test_threads_apply_only_to_backends_with_cpu_threads(fp32_model):
    planned = plan([describe(fp32_model)], parse_backends("cpu,gpu,android:gpu,android"),
                   [1, 2], FAST, Context(dry_run=True))
    threads = [(p.job.backend.label, p.job.threads) for p in planned]
    assert threads == [("cpu", 1), ("cpu", 2), ("gpu", None), ("android:gpu", None),
                       ("android", 1), ("android", 2)]


def test_a_fatal_runtime_error_is_reported_by_its_check_line_not_its_stack_trace():
    from runtime.isolated import _failure

    stderr = ("MEAN: Tensor type(INT16) is not supported.\n"
              "F0000 00:00:1 object_reader.cc:82] Check failed: tfl_tensor && type == kTfLiteFloat32\n"
              "*** Check failure stack trace: ***\n    @     0x7f16529a6ce3  cfunction_call\n")
    reason = _failure(-6, stderr)
    assert reason.startswith("crashed with SIGABRT") and "Check failed: tfl_tensor" in reason


def test_workers_share_one_runtime_dir_that_is_removed_when_the_harness_exits(tmp_path):
    script = ("import os; os.environ.pop('XDG_RUNTIME_DIR', None); from runtime.isolated import worker_env; "
              "a, b = worker_env()['XDG_RUNTIME_DIR'], worker_env()['XDG_RUNTIME_DIR']; "
              "assert a == b and os.path.isdir(a); print(a)")
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert not os.path.exists(done.stdout.strip())
