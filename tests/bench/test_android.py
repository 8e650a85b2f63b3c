"""benchmark_model's output as printed by different TFLite/LiteRT versions, parsed to records."""
import pytest

from core.artifacts import ModelInfo
from runtime import android
from runtime.jobs import BackendSpec, Job
from runtime.timing import RunSettings

# TF 2.4-era: no log prefixes, no percentiles, "Peak memory footprint" wording.
OLD = """\
STARTING!
Log parameter values verbosely: [0]
Num threads: [4]
Graph: [/data/local/tmp/mobilenet_v1_1.0_224.tflite]
#threads used for CPU inference: [4]
Loaded model /data/local/tmp/mobilenet_v1_1.0_224.tflite
INFO: Initialized TensorFlow Lite runtime.
The input model file size (MB): 16.9008
Initialized session in 3.031ms.
Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
count=14 first=42148 curr=35270 min=34917 max=42148 avg=35813.1 std=1825

Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
count=50 first=35352 curr=35147 min=34738 max=37361 avg=35267.7 std=471

Inference timings in us: Init: 3031, First inference: 42148, Warmup (avg): 35813.1, Inference (avg): 35267.7
Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
Peak memory footprint (MB): init=2.89062 overall=22.2734
"""

# Recent LiteRT: every line "INFO: ", percentiles, %g printing an average as 2.10385e+04,
# memory delta plus periodic peak.
NEW = """\
INFO: STARTING!
INFO: Log parameter values verbosely: [0]
INFO: Num threads: [4]
INFO: Graph: [/data/local/tmp/bench/ghost_s_int8.tflite]
INFO: Use xnnpack: [1]
INFO: #threads used for CPU inference: [4]
INFO: Loaded model /data/local/tmp/bench/ghost_s_int8.tflite
INFO: Created TensorFlow Lite XNNPACK delegate for CPU.
INFO: Explicitly applied XNNPACK delegate, and the model graph will be completely executed by the delegate.
INFO: The input model file size (MB): 8.21542
INFO: Initialized session in 112.517ms.
INFO: Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
INFO: count=23 first=31233 curr=21034 min=20876 max=31233 avg=21884.5 std=2118 p5=20901 median=21102 p95=25412

INFO: Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
INFO: count=50 first=21120 curr=20987 min=20811 max=22734 avg=2.10385e+04 std=312 p5=20850 median=20990 p95=21700

INFO: Inference timings in us: Init: 112517, First inference: 31233, Warmup (avg): 21884.5, Inference (avg): 21038.5
INFO: Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
INFO: Memory footprint delta from the start of the tool (MB): init=31.8906 overall=43.2617
INFO: Overall peak memory footprint (MB) via periodic monitoring: 47.9531
INFO: Memory status at the end of exeution:
INFO: - VmRSS              : 52 MB
"""

# A slow GPU run: microsecond values past 1e6 come out in scientific notation everywhere.
SCIENTIFIC = """\
INFO: Initialized TensorFlow Lite runtime.
INFO: Created TensorFlow Lite delegate for GPU.
INFO: Initialized OpenCL-based API.
INFO: Created 1 GPU delegate kernels.
Initialized session in 2512.4ms.
Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
count=1 curr=1.2345e+06

Running benchmark for at least 10 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
count=10 first=1.15e+06 curr=1.1e+06 min=1.09e+06 max=1.15e+06 avg=1.1e+06 std=1.8e+04

Inference timings in us: Init: 2.5124e+06, First inference: 1.2345e+06, Warmup (avg): 1.2345e+06, Inference (avg): 1.1e+06
Memory footprint delta from the start of the tool (MB): init=120.5 overall=131.25
Overall peak memory footprint (MB) via periodic monitoring: -1e+00
"""


def test_old_format_without_prefixes_or_percentiles():
    out = android.parse_output(OLD)
    assert (out.init_ms, out.first_ms, out.warmup_avg_ms) == (3.031, 42.148, 35.8131)
    lat = out.latency
    assert (lat.runs, lat.mean_ms, lat.min_ms, lat.max_ms, lat.std_ms) == (50, 35.2677, 34.738, 37.361, 0.471)
    assert lat.p50_ms is None and lat.p90_ms is None
    assert (out.memory_init_mb, out.memory_overall_mb, out.peak_memory_mb) == (2.89062, 22.2734, None)


def test_new_format_with_prefixes_percentiles_and_scientific_average():
    out = android.parse_output(NEW)
    assert out.init_ms == 112.517 and out.first_ms == 31.233
    lat = out.latency
    assert lat.runs == 50 and lat.p50_ms == 20.99 and lat.mean_ms == pytest.approx(21.0385)
    assert (out.memory_init_mb, out.memory_overall_mb, out.peak_memory_mb) == (31.8906, 43.2617, 47.9531)


def test_scientific_notation_throughout():
    out = android.parse_output(SCIENTIFIC)
    assert out.init_ms == pytest.approx(2512.4) and out.first_ms == pytest.approx(1234.5)
    assert out.latency.runs == 10 and out.latency.mean_ms == pytest.approx(1100.0)
    assert out.latency.std_ms == pytest.approx(18.0)
    assert out.peak_memory_mb == -1.0  # "not monitored"; the runner falls back to overall=


def test_output_without_timings_is_an_error_naming_the_last_line():
    with pytest.raises(ValueError, match="Failed to apply GPU delegate"):
        android.parse_output("STARTING!\nERROR: Failed to apply GPU delegate.\n")


def test_commands_are_exact_adb_command_lines():
    model = ModelInfo(path="/art/ghost_s_int8.tflite", name="ghost_s_int8.tflite",
                      variant="ghost_s", precision="int8", size_bytes=1)
    job = Job(model, BackendSpec.parse("android:gpu;gpu_precision_loss_allowed=false"), None,
              RunSettings(num_runs=50, warmup_runs=5, min_secs=1, max_secs=150),
              {"android_binary": "/b/benchmark_model", "android_serial": "R58M"})
    assert android.render(android.commands(job)).splitlines() == [
        "adb -s R58M shell mkdir -p /data/local/tmp/bench",
        "adb -s R58M push /art/ghost_s_int8.tflite /data/local/tmp/bench/ghost_s_int8.tflite",
        "adb -s R58M push /b/benchmark_model /data/local/tmp/bench/benchmark_model",
        "adb -s R58M shell chmod 755 /data/local/tmp/bench/benchmark_model",
        "adb -s R58M shell /data/local/tmp/bench/benchmark_model "
        "--graph=/data/local/tmp/bench/ghost_s_int8.tflite --warmup_runs=5 --num_runs=50 "
        "--min_secs=1 --max_secs=150 --report_peak_memory_footprint=true --use_gpu=true "
        "--gpu_precision_loss_allowed=false",
    ]
