"""bench.profile: perf samples of a real LiteRT invoke loop (or instruction counts on an emulated ARM
core), mapped to op types and MACs."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.profile import graph_ops, isa_of, main, op_type_of, parse_report
from convert.ops import op_summary, operators
from tests.conftest import require_arm_env

# Lines as `perf report --stdio --sort symbol --no-children -q` printed them on this project's machines.
RECORDED = """
    20.20%  [.] xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_7x16c8__avx512vnni_prfm
    18.60%  [.] xnn_qs8_qc8w_dwconv_minmax_fp32_ukernel_9p32c__avx512skx_mul32
    11.80%  [.] xnn_qs8_qc8w_igemm_minmax_fp32_ukernel_7x16c8__avx512vnni_prfm
     5.70%  [.] xnn_x8_lut_ukernel__avx512skx_vpshufb_u64
     5.10%  [.] xnn_qs8_vmul_minmax_fp32_ukernel__avx_mul16_ld64_u16
     1.30%  [.] _PyEval_EvalFrameDefault                                                                        -      -
     0.50%  [.] tflite::ops::builtin::quantize::Eval<(tflite::ops::builtin::quantize::KernelType)0>
"""


def test_kernel_symbols_map_to_the_op_types_they_compute():
    rows = dict(parse_report(RECORDED))
    assert len(rows) == 7 and rows["xnn_x8_lut_ukernel__avx512skx_vpshufb_u64"] == 5.7
    assert [op_type_of(symbol) for symbol in rows] == [
        "CONV_2D 1x1 + FULLY_CONNECTED", "DEPTHWISE_CONV_2D", "CONV_2D kxk", "LOGISTIC", "MUL",
        "outside the model (Python, loading, runtime)", "QUANTIZE / DEQUANTIZE"]
    assert [isa_of(symbol) for symbol in rows] == ["avx512vnni", "avx512skx", "avx512vnni", "avx512skx", "avx",
                                                   None, None]


def test_arm_kernel_names_give_how_they_multiply():
    assert [isa_of(symbol) for symbol in (
        "xnn_qs8_qc8w_igemm_minmax_fp32_ukernel_4x16c4__asm_aarch64_neondot_ld128",
        "xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_4x16__asm_aarch64_neon_mlal_lane_cortex_a53_prfm",
        "xnn_qs8_qc8w_dwconv_minmax_fp32_ukernel_9p16c__neonv8_mla8_ld64",
        "xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_4x16c8__neoni8mm")] == ["neondot", "neon_mlal", "neonv8", "neoni8mm"]


def test_graph_counts_every_op_and_the_macs_of_convolutions(int8_model):
    tflite = Path(int8_model).read_bytes()
    table = graph_ops(tflite)
    assert sum(entry["count"] for entry in table.values()) == sum(op_summary(operators(tflite)).values())
    assert table["DEPTHWISE_CONV_2D"]["macs"] > 0 and table["CONV_2D 1x1 + FULLY_CONNECTED"]["macs"] > 0
    assert table["CONV_2D kxk"]["count"] >= 1  # the stem


def test_the_profiler_reads_graphs_without_tensorflow(int8_model):
    # It must run where only LiteRT is installed (an edge board, a GPU machine's image).
    script = ("import sys; sys.modules['tensorflow'] = None  # any import of it now fails\n"
              "from pathlib import Path; from bench.profile import graph_ops\n"
              f"print(sum(e['count'] for e in graph_ops(Path({str(int8_model)!r}).read_bytes()).values()))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-500:]
    assert int(done.stdout) == sum(op_summary(operators(Path(int8_model).read_bytes())).values())


def test_amx_kernels_are_named_by_their_isa():
    # As perf named them on an Intel Xeon with AMX (amx_int8), where 3x3 and 1x1 int8 convolutions ran on
    # AMX tiles and depthwise ones on AVX-512.
    symbols = ["xnn_qs8_qc8w_igemm_minmax_fp32_ukernel_16x64c4__avx512amx",
               "xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_16x64c4__avx512amx"]
    assert [isa_of(s) for s in symbols] == ["avx512amx", "avx512amx"]
    assert [op_type_of(s) for s in symbols] == ["CONV_2D kxk", "CONV_2D 1x1 + FULLY_CONNECTED"]


def perf_works(tmp_path) -> bool:
    """perf installed and allowed to sample here (a kernel without its perf build, or a
    locked-down perf_event_paranoid, fails even `perf record true`)."""
    perf = shutil.which("perf")
    return perf is not None and subprocess.run([perf, "record", "-o", str(tmp_path / "probe.data"), "--", "true"],
                                               capture_output=True).returncode == 0


def test_two_files_profile_side_by_side(int8_model, fp32_model, tmp_path):
    if not perf_works(tmp_path):
        pytest.skip("perf cannot sample on this machine (make perf-install)")
    assert main([int8_model, fp32_model, "--seconds", "1", "--out", str(tmp_path)]) == 0
    profiles = json.loads((tmp_path / "profile.json").read_text())
    int8, fp32 = ({row["op_type"]: row for row in p["op_types"]} for p in profiles)
    assert int8["DEPTHWISE_CONV_2D"]["cost"] > 0 and int8["DEPTHWISE_CONV_2D"]["count"] > 0
    assert int8["DEPTHWISE_CONV_2D"]["kernels_isa"]  # which instruction set its kernels use here
    assert any(k["symbol"].startswith("xnn_qs8") for k in profiles[0]["kernels"])
    assert any(k["symbol"].startswith("xnn_f32") for k in profiles[1]["kernels"])
    assert fp32["CONV_2D 1x1 + FULLY_CONNECTED"]["cost_per_mac"] > 0 and profiles[0]["unit"] == "CPU ms"
    assert "| DEPTHWISE_CONV_2D |" in (tmp_path / "profile.md").read_text()
    assert (tmp_path / "profile.png").read_bytes()[:4] == b"\x89PNG"


def test_without_perf_the_error_says_how_to_get_it(int8_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no perf on it
    assert main([int8_model, "--seconds", "1", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert "perf is not installed" in error and "make perf-install" in error and "\n" not in error


# The op-profiling tail of a benchmark_model run, in the layout of TFLite's stats calculator
# (tab-separated columns; XNNPACK's operators named as TF 2.9.1+ profiles them inside the delegate).
BENCHMARK_MODEL_TAIL = (
    "Profiling Info for Benchmark Initialization:\n"
    "============================== Summary by node type ==============================\n"
    "\t             [Node type]\t  [count]\t  [avg ms]\t    [avg %]\t    [cdf %]\t  [mem KB]\t[times called]\n"
    "\t ModifyGraphWithDelegate\t        1\t    12.000\t    90.000%\t    90.000%\t     0.000\t        1\n"
    "Operator-wise Profiling Info for Regular Benchmark Runs:\n"
    "============================== Summary by node type ==============================\n"
    "\t             [Node type]\t  [count]\t  [avg ms]\t    [avg %]\t    [cdf %]\t  [mem KB]\t[times called]\n"
    "\tDepthwise Convolution (NHWC, QC8)\t       40\t     5.300\t    38.000%\t    38.000%\t     0.000\t       40\n"
    "\tConvolution (NHWC, QC8) GEMM\t       60\t     4.100\t    29.400%\t    67.400%\t     0.000\t       60\n"
    "\tConvolution (NHWC, QC8) IGEMM\t        3\t     0.700\t     5.000%\t    72.400%\t     0.000\t        3\n"
    "\tMultiply (ND, QS8)\t       80\t     1.000\t     7.200%\t    79.600%\t     0.000\t       80\n"
    "\tLookup Table (NC, X8)\t       90\t     0.900\t     6.500%\t    86.100%\t     0.000\t       90\n"
    "\t             QUANTIZE\t        1\t     0.050\t     0.400%\t    86.500%\t     0.000\t        1\n"
    "\n"
    "Timings (microseconds): count=50 first=14000 curr=13900 min=13800 max=14200 avg=13950 std=90\n")


def test_benchmark_model_op_profiling_becomes_the_same_per_op_type_form():
    from bench.profile import parse_op_profiling

    rows = {row["op_type"]: row for row in parse_op_profiling(BENCHMARK_MODEL_TAIL)}
    assert "ModifyGraphWithDelegate" not in rows  # the initialisation table is not the runs'
    assert rows["DEPTHWISE_CONV_2D"] == {"op_type": "DEPTHWISE_CONV_2D", "ms": 5.3, "percent": 38.0, "count": 40}
    assert rows["CONV_2D 1x1 + FULLY_CONNECTED"]["ms"] == 4.1 and rows["CONV_2D kxk"]["count"] == 3
    assert rows["LOGISTIC"]["count"] == 90 and rows["QUANTIZE / DEQUANTIZE"]["ms"] == 0.05
    with pytest.raises(ValueError, match="enable_op_profiling"):
        parse_op_profiling("count=50 avg=13950")


def test_a_saved_phone_run_prints_as_a_table(tmp_path, capsys):
    (tmp_path / "run.txt").write_text(BENCHMARK_MODEL_TAIL)
    assert main(["--benchmark-output", str(tmp_path / "run.txt")]) == 0
    assert "| DEPTHWISE_CONV_2D | 5.300 | 38.0 | 40 |" in capsys.readouterr().out
    assert main(["--benchmark-output", str(tmp_path / "missing.txt")]) == 2


def test_an_emulated_arm_core_profiles_in_instructions_per_kernel_and_op_type(int8_model, fp32_model, tmp_path):
    require_arm_env()
    assert main([int8_model, fp32_model, "--backend", "arm-a76", "--out", str(tmp_path)]) == 0
    int8, fp32 = json.loads((tmp_path / "profile.json").read_text())
    assert int8["unit"] == "M instructions" and int8["mean_ms"] is None and "emulated" in int8["cpu"]
    rows = {row["op_type"]: row for row in int8["op_types"]}
    assert rows["CONV_2D 1x1 + FULLY_CONNECTED"]["cost"] > 0 and "neondot" in rows["CONV_2D kxk"]["kernels_isa"]
    assert any(k["symbol"].startswith("xnn_f32") for k in fp32["kernels"])
    assert abs(sum(k["percent"] for k in int8["kernels"]) - 100) < 1  # every instruction named somewhere
    text = (tmp_path / "profile.md").read_text()
    assert "**emulated**" in text and "M instructions" in text


@pytest.mark.parametrize(("arguments", "message"), [
    (["--backend", "gpu"], "cpu (this machine) or arm-CORE"),
    (["--backend", "arm-a99"], "unknown ARM core 'a99'; valid: a53"),
    (["--backend", "arm-a76", "--threads", "4"], "an emulated core counts one thread")])
def test_a_backend_the_profiler_cannot_use_is_a_one_line_error(int8_model, tmp_path, capsys, arguments, message):
    assert main([int8_model, *arguments, "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error and not (tmp_path / "out").exists()
