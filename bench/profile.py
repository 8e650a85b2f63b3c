"""python -m bench.profile MODEL.tflite [OTHER.tflite ...] [--threads 1] [--seconds 8] [--out DIR]:
where the time of one inference goes, per XNNPACK kernel and per TFLite op type.

LiteRT's Python packages have no op profiler and XNNPACK runs the whole graph as one delegate
node, so the time per op comes from Linux `perf` sampling a worker that only invokes the
model: each sampled symbol (`xnn_qs8_qc8w_dwconv_...`, `xnn_qs8_qc8w_igemm_...`) is mapped to the
op type its kernel computes, and its share of the worker's CPU time is divided over the
invocations. The graph gives each op type's count and multiply-accumulates, so time per MAC
shows which ops the CPU's int8/fp32 kernels make expensive. Up to four files: side by side.

Writes OUT/profile.json, profile.md and profile.png.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.artifacts import describe
from core.cli import run_command
from core.environments import REPO_ROOT, with_repo_on_path
from core.files import temporary_directory
from core.plots import save_figure

# Kernel symbol -> the op type it computes (first match wins; XNNPACK's naming:
# xnn_<datatype>_<operation>_<variant>_ukernel_<tile>__<isa>).
KERNEL_OPS = (
    (r"dwconv", "DEPTHWISE_CONV_2D"),
    (r"igemm", "CONV_2D kxk"),
    (r"gemm", "CONV_2D 1x1 + FULLY_CONNECTED"),
    (r"hswish", "HARD_SWISH"),
    (r"lut|sigmoid", "LOGISTIC"),
    (r"vmulc?_|_vmul", "MUL"),
    (r"vaddc?_|_vadd", "ADD"),
    (r"gavgpool|rsum|rdsum|global_average|mean", "MEAN"),
    (r"vcvt|convert", "QUANTIZE / DEQUANTIZE"),
    (r"copy|memcpy|memmove|concat", "CONCATENATION (copies)"),
    (r"softmax|rmax|raddstoreexpminusmax", "SOFTMAX"),
    (r"vclamp|relu", "RELU"),
)
PERF_INSTALL = "make perf-install (Debian: apt-get install linux-perf)"


class ProfilerUnavailable(RuntimeError):
    """perf is missing or not permitted here."""


@dataclass
class Profile:
    model: str
    threads: int
    invokes: int
    mean_ms: float
    cpu: str
    kernels: list[dict] = field(default_factory=list)  # symbol, op_type, percent, ms
    op_types: list[dict] = field(default_factory=list)  # op_type, percent, ms, count, macs, ns_per_mac


# benchmark_model --enable_op_profiling=true names XNNPACK's operators (TF 2.9.1+) like
# "Convolution (NHWC, QC8) IGEMM"; TFLite's own ops by their builtin names.
XNNPACK_OPERATORS = (
    (r"Depthwise Convolution", "DEPTHWISE_CONV_2D"),
    (r"Convolution.*IGEMM", "CONV_2D kxk"),
    (r"Convolution|Fully Connected", "CONV_2D 1x1 + FULLY_CONNECTED"),
    (r"Sigmoid|Lookup", "LOGISTIC"),
    (r"HardSwish|Hard Swish", "HARD_SWISH"),
    (r"Multiply", "MUL"),
    (r"Add", "ADD"),
    (r"Copy|Concatenat", "CONCATENATION (copies)"),
    (r"Global Average Pooling|Mean|Sum", "MEAN"),
    (r"Convert", "QUANTIZE / DEQUANTIZE"),
    (r"Softmax", "SOFTMAX"),
)
_SUMMARY_ROW = re.compile(r"^\s*(.+?)\s+(\d+)\s+([\d.]+)\s+([\d.]+)%\s+[\d.]+%\s+[\d.]+\s+(\d+)\s*$")


def parse_op_profiling(text: str) -> list[dict]:
    """The last "Summary by node type" table of benchmark_model's op profiling (the regular
    runs; an earlier one covers initialisation), as op types with ms per inference and %."""
    sections = text.split("Summary by node type")
    if len(sections) < 2:
        raise ValueError("no 'Summary by node type' table: run benchmark_model with --enable_op_profiling=true")
    rows = {}
    for line in sections[-1].splitlines()[1:]:
        if line.strip().startswith("Timings") or line.startswith("="):
            break
        match = _SUMMARY_ROW.match(re.sub(r"^\s*INFO:\s*", "", line))  # newer logging prefixes lines
        if not match:
            continue
        node, count, ms, percent = match[1].strip(), int(match[2]), float(match[3]), float(match[4])
        name = next((op for pattern, op in XNNPACK_OPERATORS if re.search(pattern, node)), None) \
            or ("XNNPACK delegate (not broken down)" if "XNNPACK" in node else _graph_name(node))
        row = rows.setdefault(name, {"op_type": name, "ms": 0.0, "percent": 0.0, "count": 0})
        row["ms"] += ms
        row["percent"] += percent
        row["count"] += count
    if not rows:
        raise ValueError("its 'Summary by node type' table has no rows: a cut or damaged benchmark_model output")
    return sorted(rows.values(), key=lambda r: -r["ms"])


def _graph_name(op: str) -> str:
    """The profile's name for a TFLite op type (the kernels cannot tell 1x1 from FC, etc.)."""
    return {"FULLY_CONNECTED": "CONV_2D 1x1 + FULLY_CONNECTED", "CONCATENATION": "CONCATENATION (copies)",
            "QUANTIZE": "QUANTIZE / DEQUANTIZE", "DEQUANTIZE": "QUANTIZE / DEQUANTIZE"}.get(op, op)


def op_type_of(symbol: str) -> str:
    reference = re.search(r"tflite::ops::builtin::(\w+)::", symbol)
    if reference:  # an op outside XNNPACK, on TFLite's own kernels
        return _graph_name(reference.group(1).upper())
    if symbol.startswith("xnn_") or "xnnpack" in symbol.lower():
        for pattern, op in KERNEL_OPS:
            if re.search(pattern, symbol):
                return op
        return "XNNPACK other"
    if re.search(r"memcpy|memmove", symbol):
        return "CONCATENATION (copies)"
    return "outside the model (Python, loading, runtime)"


def isa_of(symbol: str) -> str | None:
    """The instruction set an XNNPACK kernel was written for, from its name's last `__` part
    (`..._ukernel_9p32c__avx512skx_mul32` -> avx512skx, `..._4x16c8__avx512vnni` -> avx512vnni)."""
    if not symbol.startswith("xnn_") or "__" not in symbol:
        return None
    return symbol.rsplit("__", 1)[1].split("_")[0] or None


def graph_ops(tflite: bytes) -> dict[str, dict]:
    """Count and multiply-accumulates per op type, with the profile's names for convolutions."""
    from ai_edge_litert.tools import flatbuffer_utils  # LiteRT alone: the profiler runs where TF is absent

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite))
    graph = model.subgraphs[0]
    table: dict[str, dict] = {}
    for op in graph.operators:
        name = flatbuffer_utils.opcode_to_name(model, op.opcodeIndex)
        shapes = [list(graph.tensors[i].shape) if i >= 0 else [] for i in op.inputs]
        out = list(graph.tensors[op.outputs[0]].shape)
        macs = 0
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            kernel = shapes[1]  # [out, kh, kw, in] or [1, kh, kw, channels]
            spatial = out[1] * out[2] * out[3] * kernel[1] * kernel[2]
            macs = spatial * (kernel[3] if name == "CONV_2D" else 1)
            if name == "CONV_2D":  # 1x1 convolutions run on the same gemm kernels as dense layers
                name = "CONV_2D kxk" if kernel[1] * kernel[2] > 1 else "FULLY_CONNECTED"
        elif name == "FULLY_CONNECTED":
            macs = shapes[1][0] * shapes[1][1]
        entry = table.setdefault(_graph_name(name), {"count": 0, "macs": 0})
        entry["count"] += 1
        entry["macs"] += int(macs)
    return table


def _perf() -> str:
    perf = shutil.which("perf")
    if perf is None:
        raise ProfilerUnavailable(f"perf is not installed: {PERF_INSTALL}")
    return perf


def record(model: str, threads: int, seconds: float, workdir: str) -> tuple[dict, str]:
    """Runs the invoke loop under `perf record`; returns the worker's counts and perf's report."""
    perf, data = _perf(), os.path.join(workdir, "perf.data")
    stats = os.path.join(workdir, "stats.json")
    worker = [sys.executable, "-m", "bench.profile_worker", model, str(threads), str(seconds), stats]
    # One BLAS thread: numpy's OpenBLAS otherwise spins a thread that shows up in the samples.
    env = with_repo_on_path({**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "OPENBLAS_NUM_THREADS": "1"})
    done = subprocess.run([perf, "record", "-F", "999", "-o", data, "--", *worker], capture_output=True,
                          text=True, cwd=REPO_ROOT, env=env)
    if done.returncode != 0 or not os.path.exists(stats):
        lines = [line for line in done.stderr.splitlines() if line.strip()] or ["no output"]
        hint = " (perf_event_paranoid? run as root or lower /proc/sys/kernel/perf_event_paranoid)" \
            if "paranoid" in done.stderr or "ermission" in done.stderr else ""
        raise ProfilerUnavailable(f"perf record failed: {lines[-1][:200]}{hint}")
    report = subprocess.run([perf, "report", "-i", data, "--stdio", "--sort", "symbol", "--no-children", "-q"],
                            capture_output=True, text=True, cwd=workdir)
    if report.returncode != 0:
        raise ProfilerUnavailable(f"perf report failed: {report.stderr.strip()[:200]}")
    return json.loads(Path(stats).read_text()), report.stdout


def parse_report(text: str) -> list[tuple[str, float]]:
    """(symbol, percent of samples) from `perf report --stdio --sort symbol -q`."""
    rows = []
    for line in text.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+\[[^\]]+\]\s+(.+?)\s*$", line)
        if match:
            symbol = re.sub(r"(\s+-)+$", "", match.group(2)).strip()  # perf pads empty columns with "-"
            rows.append((symbol, float(match.group(1))))
    return rows


def profile(model: str, threads: int = 1, seconds: float = 8.0) -> Profile:
    from .machine import machine_info

    with temporary_directory("profile-") as workdir:
        stats, report = record(model, threads, seconds, workdir)
    # perf's percentages are shares of the worker's whole CPU time; the kernels ran in the
    # timed loop and 3 warm-up invocations. With several threads these are CPU ms (summed).
    cpu_ms_per_invoke = 1000 * stats["cpu_seconds"] / (stats["invokes"] + 3)
    kernels = [{"symbol": symbol, "op_type": op_type_of(symbol), "percent": percent,
                "ms": round(percent / 100 * cpu_ms_per_invoke, 4)} for symbol, percent in parse_report(report)]
    graph = graph_ops(Path(model).read_bytes())
    by_type: dict[str, float] = {}
    isas: dict[str, dict[str, float]] = {}  # op type -> instruction set -> percent
    for k in kernels:
        by_type[k["op_type"]] = by_type.get(k["op_type"], 0.0) + k["percent"]
        if isa := isa_of(k["symbol"]):
            shares = isas.setdefault(k["op_type"], {})
            shares[isa] = shares.get(isa, 0.0) + k["percent"]
    op_types = []
    for name in sorted(set(by_type) | set(graph), key=lambda n: -by_type.get(n, 0.0)):
        percent, ops = by_type.get(name, 0.0), graph.get(name, {"count": 0, "macs": 0})
        ms = percent / 100 * cpu_ms_per_invoke
        op_types.append({"op_type": name, "percent": round(percent, 2), "ms": round(ms, 4), "count": ops["count"],
                         "macs": ops["macs"], "ns_per_mac": round(1e6 * ms / ops["macs"], 5) if ops["macs"] else None,
                         "kernels_isa": sorted(isas.get(name, {}), key=lambda i: -isas[name][i])})
    return Profile(model, threads, stats["invokes"], round(stats["mean_ms"], 4), machine_info().summary(), kernels,
                   op_types)


def kernels_by_op_type(model: str, seconds: float = 2.0) -> dict[str, list[str]]:
    """Which instruction sets XNNPACK's kernels used for each op type of `model` on this CPU (1
    thread, a short perf run). Raises ProfilerUnavailable where perf cannot sample."""
    return {row["op_type"]: row["kernels_isa"] for row in profile(model, 1, seconds).op_types if row["kernels_isa"]}


def markdown(profiles: list[Profile], top_kernels: int = 12) -> str:
    names = [Path(p.model).name for p in profiles]
    lines = [f"# Profile: {' vs '.join(names)}", "",
             f"{profiles[0].cpu}; {profiles[0].threads} thread(s); perf samples at 999 Hz over the invoke loop. "
             "Times are CPU ms per inference (the worker's CPU time split by sample shares): on a loaded "
             "machine they stay put while wall time grows.", ""]
    lines += [f"- {n}: {sum(r['ms'] for r in p.op_types):.3f} CPU ms per inference, {p.mean_ms:.3f} ms wall "
              f"({p.invokes} invocations)" for n, p in zip(names, profiles)]
    header = " | ".join(f"{n}: ms | % | count | ns/MAC | kernels for" for n in names)
    lines += ["", f"| op type | {header} |", "|---|" + "---:|---:|---:|---:|---|" * len(profiles)]
    rows = {}
    for i, p in enumerate(profiles):
        for row in p.op_types:
            rows.setdefault(row["op_type"], [None] * len(profiles))[i] = row
    for name, cells in sorted(rows.items(), key=lambda kv: -max((c or {}).get("ms", 0) for c in kv[1])):
        parts = []
        for c in cells:
            parts += (["-"] * 5 if c is None else
                      [f"{c['ms']:.3f}", f"{c['percent']:.1f}", str(c["count"]),
                       f"{c['ns_per_mac']:.4f}" if c["ns_per_mac"] is not None else "-",
                       ", ".join(c.get("kernels_isa") or []) or "-"])
        lines.append(f"| {name} | {' | '.join(parts)} |")
    for n, p in zip(names, profiles):
        lines += ["", f"Top kernels of {n}:", "", "| kernel | op type | % | ms |", "|---|---|---:|---:|"]
        lines += [f"| `{k['symbol'][:90]}` | {k['op_type']} | {k['percent']:.1f} | {k['ms']:.3f} |"
                  for k in p.kernels[:top_kernels]]
    return "\n".join(lines) + "\n"


def plot(path: Path, profiles: list[Profile]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = sorted({r["op_type"] for p in profiles for r in p.op_types if r["ms"] > 0},
                   key=lambda n: -max(next((r["ms"] for r in p.op_types if r["op_type"] == n), 0) for p in profiles))
    figure, axes = plt.subplots(figsize=(9, 0.45 * len(names) + 1.5))
    height = 0.8 / len(profiles)
    for i, p in enumerate(profiles):
        ms = [next((r["ms"] for r in p.op_types if r["op_type"] == n), 0) for n in names]
        axes.barh(np.arange(len(names)) + i * height, ms, height, label=f"{Path(p.model).name} ({p.mean_ms:.2f} ms)")
    axes.set_yticks(np.arange(len(names)) + height * (len(profiles) - 1) / 2, names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(f"ms per inference ({profiles[0].threads} thread(s))")
    axes.legend(fontsize=8)
    axes.set_title("time per op type (perf samples of the XNNPACK kernels)")
    save_figure(figure, path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", help="one .tflite, or up to four to compare side by side")
    p.add_argument("--benchmark-output", help="instead: a saved benchmark_model run with --enable_op_profiling=true "
                                              "(e.g. from a phone: BACKENDS='android:xnnpack;enable_op_profiling=true')")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=8.0, help="length of the sampled invoke loop per model")
    p.add_argument("--out", default="bench-results/profile")
    a = p.parse_args(argv)
    if a.benchmark_output:
        return run_command(lambda: _render_benchmark_output(a.benchmark_output))
    return run_command(lambda: _profile_files(a.models, a.threads, a.seconds, Path(a.out)))


def _profile_files(models: list[str], threads: int, seconds: float, out: Path) -> str:
    if not 1 <= len(models) <= 4:
        raise ValueError("give one .tflite file, or up to four to compare")
    for model in models:
        if not Path(model).is_file():
            raise FileNotFoundError(f"{model!r} is not a file; give a .tflite (make tflite writes artifacts/...)")
        if problem := describe(model).problem:  # before perf runs it: a damaged file is not perf's failure
            raise ValueError(f"{model!r} cannot be profiled: {problem}")
    profiles = [profile(model, threads, seconds) for model in models]
    out.mkdir(parents=True, exist_ok=True)
    (out / "profile.json").write_text(json.dumps([asdict(p) for p in profiles], indent=1))
    text = markdown(profiles)
    (out / "profile.md").write_text(text)
    plot(out / "profile.png", profiles)
    return text


def _render_benchmark_output(path: str) -> str:
    try:
        rows = parse_op_profiling(Path(path).read_text())
    except (OSError, ValueError) as error:  # ValueError: not text, or not benchmark_model's op profiling
        raise ValueError(f"--benchmark-output {path!r}: {error}") from None
    return "\n".join(["| op type | ms | % | count |", "|---|---:|---:|---:|"] +
                     [f"| {r['op_type']} | {r['ms']:.3f} | {r['percent']:.1f} | {r['count']} |" for r in rows])


if __name__ == "__main__":
    sys.exit(main())
