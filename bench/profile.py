"""python -m bench.profile MODEL.tflite [OTHER.tflite ...] [--threads 1] [--seconds 8] [--backend cpu|arm-CORE]
[--out DIR]: where the time of one inference goes, per XNNPACK kernel and per TFLite op type.

LiteRT's Python packages have no op profiler and XNNPACK runs the whole graph as one delegate
node, so the time per op comes from Linux `perf` sampling a worker that only invokes the
model: each sampled symbol (`xnn_qs8_qc8w_dwconv_...`, `xnn_qs8_qc8w_igemm_...`) is mapped to the
op type its kernel computes, and its share of the worker's CPU time is divided over the
invocations. The graph gives each op type's count and multiply-accumulates, so time per MAC
shows which ops the CPU's int8/fp32 kernels make expensive. Up to four files: side by side.

`--backend arm-a76` (any core of runtime.arm.CORES; `make arm-env`): the same tables for an emulated
ARM core, in instructions per inference instead of time: the counting plugin's per-block counts,
named by the aarch64 LiteRT's symbols (runtime/arm/symbols.py). Emulated counts, not a measured time:
memory stalls and the core's instructions per cycle are not in them.

Writes OUT/profile.json, profile.md and profile.png, each replaced whole. `--replot profile.json`
draws a saved run again (profile.md and profile.png in OUT) without measuring.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from core.artifacts import describe
from core.cli import run_command
from core.environments import REPO_ROOT, with_repo_on_path
from core.files import atomic_write, temporary_directory
from core.plots import save_figure


@dataclass(frozen=True)
class OpType:
    """One row of the profile: the name it shows, and how each source names what belongs to it."""
    name: str
    kernel: str  # XNNPACK kernel symbol (perf, the ARM counter): xnn_<datatype>_<operation>_..._ukernel_<tile>__<isa>
    operator: str | None = None  # XNNPACK operator as benchmark_model --enable_op_profiling names it
    builtins: tuple[str, ...] = ()  # TFLite builtin ops (graph counts, TFLite's own kernels)


# The profile's one op-type table; the first row whose pattern matches wins.
OP_TYPES = (
    OpType("DEPTHWISE_CONV_2D", r"dwconv", r"Depthwise Convolution", ("DEPTHWISE_CONV_2D",)),
    OpType("CONV_2D kxk", r"igemm", r"Convolution.*IGEMM"),  # graph: CONV_2D with a kernel over 1x1
    OpType("CONV_2D 1x1 + FULLY_CONNECTED", r"gemm", r"Convolution|Fully Connected", ("FULLY_CONNECTED",)),
    OpType("HARD_SWISH", r"hswish", r"HardSwish|Hard Swish", ("HARD_SWISH",)),
    OpType("LOGISTIC", r"lut|sigmoid", r"Sigmoid|Lookup", ("LOGISTIC",)),
    OpType("MUL", r"vmulc?_|_vmul", r"Multiply", ("MUL",)),
    OpType("ADD", r"vaddc?_|_vadd", r"Add", ("ADD",)),
    OpType("MEAN", r"gavgpool|rsum|rdsum|global_average|mean", r"Global Average Pooling|Mean|Sum", ("MEAN",)),
    OpType("QUANTIZE / DEQUANTIZE", r"vcvt|convert", r"Convert", ("QUANTIZE", "DEQUANTIZE")),
    OpType("CONCATENATION (copies)", r"copy|memcpy|memmove|concat", r"Copy|Concatenat", ("CONCATENATION",)),
    OpType("SOFTMAX", r"softmax|rmax|raddstoreexpminusmax", r"Softmax", ("SOFTMAX",)),
    OpType("RELU", r"vclamp|relu"),
)
_BY_BUILTIN = {builtin: op.name for op in OP_TYPES for builtin in op.builtins}
XNNPACK_OTHER = "XNNPACK other"
OUTSIDE = "outside the model (Python, loading, runtime)"
DELEGATE = "XNNPACK delegate (not broken down)"
PERF_INSTALL = "make perf-install (Debian: apt-get install linux-perf)"


class ProfilerUnavailable(RuntimeError):
    """perf is missing or not permitted here."""


CPU_MS = "CPU ms"
M_INSTRUCTIONS = "M instructions"
PER_MAC = {CPU_MS: "ns/MAC", M_INSTRUCTIONS: "instr./MAC"}  # cost * 1e6 / MACs in either unit


@dataclass
class Profile:
    model: str
    threads: int
    invokes: int
    mean_ms: float | None  # wall time per invoke; None where emulated
    cpu: str
    unit: str = CPU_MS  # of every `cost`: CPU ms, or M instructions on an emulated core
    kernels: list[dict] = field(default_factory=list)  # symbol, op_type, percent, cost
    op_types: list[dict] = field(default_factory=list)  # op_type, percent, cost, count, macs, cost_per_mac
    note: str = ""  # where the figures come from, when not from a run of this profiler


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
        name = next((op.name for op in OP_TYPES if op.operator and re.search(op.operator, node)), None) \
            or (DELEGATE if "XNNPACK" in node else _graph_name(node))
        row = rows.setdefault(name, {"op_type": name, "ms": 0.0, "percent": 0.0, "count": 0})
        row["ms"] += ms
        row["percent"] += percent
        row["count"] += count
    if not rows:
        raise ValueError("its 'Summary by node type' table has no rows: a cut or damaged benchmark_model output")
    return sorted(rows.values(), key=lambda r: -r["ms"])


def _graph_name(op: str) -> str:
    """The profile's name for a TFLite builtin op (the kernels cannot tell 1x1 from FC, etc.)."""
    return _BY_BUILTIN.get(op, op)


def op_type_of(symbol: str) -> str:
    reference = re.search(r"tflite::ops::builtin::(\w+)::", symbol)
    if reference:  # an op outside XNNPACK, on TFLite's own kernels
        return _graph_name(reference.group(1).upper())
    if symbol.startswith("xnn_") or "xnnpack" in symbol.lower():
        return next((op.name for op in OP_TYPES if re.search(op.kernel, symbol)), XNNPACK_OTHER)
    if re.search(r"memcpy|memmove", symbol):
        return _BY_BUILTIN["CONCATENATION"]
    return OUTSIDE


def isa_of(symbol: str) -> str | None:
    """The instruction set an XNNPACK kernel was written for, from its name's last `__` part
    (`..._ukernel_9p32c__avx512skx_mul32` -> avx512skx, `..._4x16c8__avx512vnni` -> avx512vnni;
    ARM: `__asm_aarch64_neondot_ld128` -> neondot, `__asm_aarch64_neon_mlal_lane_cortex_a53` ->
    neon_mlal: plain NEON kernels differ by how they multiply, which is what separates the cores)."""
    if not symbol.startswith("xnn_") or "__" not in symbol:
        return None
    parts = symbol.rsplit("__", 1)[1].removeprefix("asm_").removeprefix("aarch64_").removeprefix("aarch32_").split("_")
    if parts[0] == "neon" and len(parts) > 1 and parts[1] in ("mlal", "mull", "dot", "i8mm", "fma"):
        return f"neon_{parts[1]}"
    return parts[0] or None


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
        macs, row = 0, _graph_name(name)
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            kernel = shapes[1]  # [out, kh, kw, in] or [1, kh, kw, channels]
            spatial = out[1] * out[2] * out[3] * kernel[1] * kernel[2]
            macs = spatial * (kernel[3] if name == "CONV_2D" else 1)
            if name == "CONV_2D":  # 1x1 convolutions run on the same gemm kernels as dense layers
                row = "CONV_2D kxk" if kernel[1] * kernel[2] > 1 else _graph_name("FULLY_CONNECTED")
        elif name == "FULLY_CONNECTED":
            macs = shapes[1][0] * shapes[1][1]
        entry = table.setdefault(row, {"count": 0, "macs": 0})
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
    return _by_op_type(Profile(model, threads, stats["invokes"], round(stats["mean_ms"], 4), machine_info().summary()),
                       parse_report(report), cpu_ms_per_invoke)


def arm_profile(model: str, core: str) -> Profile:
    """Instructions per inference of `model` on the emulated `core`, per kernel and op type (1 thread)."""
    from runtime.arm import checked_run, core as core_named

    run = checked_run(model, core, by_symbol=True)
    total = run.instructions_per_inference
    shares = [(symbol, 100 * count / total) for symbol, count in run.instructions_by_symbol.items()]
    cpu = f"{core_named(core).title} (emulated: qemu-user instruction counts, not time)"
    return _by_op_type(Profile(model, 1, 1, None, cpu, M_INSTRUCTIONS), shares, total / 1e6)


def _by_op_type(profile: Profile, shares: list[tuple[str, float]], cost_per_inference: float) -> Profile:
    """Fills `profile` from each symbol's percent of one inference's cost."""
    kernels = [{"symbol": symbol, "op_type": op_type_of(symbol), "percent": round(percent, 3),
                "cost": round(percent / 100 * cost_per_inference, 4)} for symbol, percent in shares]
    graph = graph_ops(Path(profile.model).read_bytes())
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
        cost = percent / 100 * cost_per_inference
        op_types.append({"op_type": name, "percent": round(percent, 2), "cost": round(cost, 4), "count": ops["count"],
                         "macs": ops["macs"], "cost_per_mac": round(1e6 * cost / ops["macs"], 5) if ops["macs"] else None,
                         "kernels_isa": sorted(isas.get(name, {}), key=lambda i: -isas[name][i])})
    return dataclasses.replace(profile, kernels=kernels, op_types=op_types)


def kernels_by_op_type(model: str, seconds: float = 2.0) -> dict[str, list[str]]:
    """Which instruction sets XNNPACK's kernels used for each op type of `model` on this CPU (1
    thread, a short perf run). Raises ProfilerUnavailable where perf cannot sample."""
    return {row["op_type"]: row["kernels_isa"] for row in profile(model, 1, seconds).op_types if row["kernels_isa"]}


HOW_MEASURED = {
    CPU_MS: "perf samples at 999 Hz over the invoke loop. Times are CPU ms per inference (the worker's CPU time "
            "split by sample shares): on a loaded machine they stay put while wall time grows.",
    M_INSTRUCTIONS: "**emulated**: instructions one inference executes (runs of 1 and 3 invokes, their difference "
                    "halved), counted per function by a qemu plugin; not a time (no memory stalls, no IPC).",
}


def markdown(profiles: list[Profile], top_kernels: int = 12) -> str:
    names = [Path(p.model).name for p in profiles]
    unit = profiles[0].unit
    lines = [f"# Profile: {' vs '.join(names)}", "",
             f"{profiles[0].cpu}; {profiles[0].threads} thread(s); {HOW_MEASURED[unit]}", ""]
    lines += [f"- {n}: {sum(r['cost'] for r in p.op_types):.3f} {unit} per inference"
              + (f", {p.mean_ms:.3f} ms wall" if p.mean_ms is not None else "")
              + (f" ({p.invokes} invocations)" if p.mean_ms is not None and p.invokes else "")
              + (f"; {p.note}" if p.note else "") for n, p in zip(names, profiles)]
    header = " | ".join(f"{n}: {unit} | % | count | {PER_MAC[unit]} | kernels for" for n in names)
    lines += ["", f"| op type | {header} |", "|---|" + "---:|---:|---:|---:|---|" * len(profiles)]
    rows = {}
    for i, p in enumerate(profiles):
        for row in p.op_types:
            rows.setdefault(row["op_type"], [None] * len(profiles))[i] = row
    for name, cells in sorted(rows.items(), key=lambda kv: -max((c or {}).get("cost", 0) for c in kv[1])):
        parts = []
        for c in cells:
            parts += (["-"] * 5 if c is None else
                      [f"{c['cost']:.3f}", f"{c['percent']:.1f}", "-" if c.get("count") is None else str(c["count"]),
                       f"{c['cost_per_mac']:.4f}" if c["cost_per_mac"] is not None else "-",
                       ", ".join(c.get("kernels_isa") or []) or "-"])
        lines.append(f"| {name} | {' | '.join(parts)} |")
    for n, p in [(n, p) for n, p in zip(names, profiles) if p.kernels]:
        lines += ["", f"Top kernels of {n}:", "", f"| kernel | op type | % | {unit} |", "|---|---|---:|---:|"]
        lines += [f"| `{k['symbol'][:90]}` | {k['op_type']} | {k['percent']:.1f} | {k['cost']:.3f} |"
                  for k in p.kernels[:top_kernels]]
    return "\n".join(lines) + "\n"


def plot(path: Path, profiles: list[Profile]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    def cost(p: Profile, op_type: str) -> float:
        return next((r["cost"] for r in p.op_types if r["op_type"] == op_type), 0)

    unit = profiles[0].unit
    names = sorted({r["op_type"] for p in profiles for r in p.op_types if r["cost"] > 0},
                   key=lambda n: (-max(cost(p, n) for p in profiles), n))  # ties by name: the same chart every run
    figure, axes = plt.subplots(figsize=(9, 0.45 * len(names) + 1.5))
    height = 0.8 / len(profiles)
    for i, p in enumerate(profiles):
        total = f"{p.mean_ms:.2f} ms" if p.mean_ms is not None else f"{sum(cost(p, n) for n in names):.1f} {unit}"
        axes.barh(np.arange(len(names)) + i * height, [cost(p, n) for n in names], height,
                  label=f"{Path(p.model).name} ({total}{' wall' if p.mean_ms is not None else ''})")
    axes.set_yticks(np.arange(len(names)) + height * (len(profiles) - 1) / 2, names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(f"{unit} per inference ({profiles[0].threads} thread(s))")
    axes.legend(fontsize=8)
    where = profiles[0].cpu.split(" [")[0].split(" (")[0]  # without the flag list or the emulation note
    axes.set_title(f"CPU time per op type (perf samples of XNNPACK's kernels)\n{where}" if unit == CPU_MS else
                   f"instructions per op type on {where} (emulated)", fontsize=10)
    save_figure(figure, path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="*", help="one .tflite, or up to four to compare side by side")
    p.add_argument("--benchmark-output", help="instead: a saved benchmark_model run with --enable_op_profiling=true "
                                              "(e.g. from a phone: BACKENDS='android:xnnpack;enable_op_profiling=true')")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=8.0, help="length of the sampled invoke loop per model")
    p.add_argument("--backend", default="cpu",
                   help="cpu (this machine, perf) or arm-CORE: instructions on an emulated ARM core "
                        "(arm-a53, arm-a72, arm-a76, arm-n1, arm-v9; make arm-env)")
    p.add_argument("--out", default="bench-results/profile")
    p.add_argument("--replot", metavar="PROFILE_JSON",
                   help="instead: OUT/profile.md and profile.png from a saved profile.json, without measuring")
    a = p.parse_args(argv)
    if a.replot:
        return run_command(lambda: _replot(Path(a.replot), Path(a.out)))
    if a.benchmark_output:
        return run_command(lambda: _render_benchmark_output(a.benchmark_output))
    return run_command(lambda: _profile_files(a.models, a.threads, a.seconds, Path(a.out), a.backend))


def _profiler(backend: str, threads: int, seconds: float) -> Callable[[str], Profile]:
    if backend == "cpu":
        return lambda model: profile(model, threads, seconds)
    from runtime.arm import core

    if not backend.startswith("arm-"):
        raise ValueError(f"--backend {backend!r}: cpu (this machine) or arm-CORE (an emulated ARM core)")
    core(backend.removeprefix("arm-"))  # an unknown core: one line naming the valid ones
    if threads != 1:
        raise ValueError("an emulated core counts one thread: leave --threads at 1 with --backend arm-*")
    return lambda model: arm_profile(model, backend.removeprefix("arm-"))


def _profile_files(models: list[str], threads: int, seconds: float, out: Path, backend: str = "cpu") -> str:
    measure = _profiler(backend, threads, seconds)
    if not 1 <= len(models) <= 4:
        raise ValueError("give one .tflite file, or up to four to compare")
    for model in models:
        if not Path(model).is_file():
            raise FileNotFoundError(f"{model!r} is not a file; give a .tflite (make tflite writes artifacts/...)")
        if problem := describe(model).problem:  # before perf runs it: a damaged file is not perf's failure
            raise ValueError(f"{model!r} cannot be profiled: {problem}")
    profiles = [measure(model) for model in models]
    atomic_write(out / "profile.json", json.dumps([asdict(p) for p in profiles], indent=1) + "\n")
    text = markdown(profiles)
    atomic_write(out / "profile.md", text)
    plot(out / "profile.png", profiles)
    return text


def load(path: Path) -> list[Profile]:
    """The profiles of a saved profile.json (what a run writes), to re-plot without measuring again."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text())
        if not isinstance(entries, list) or not 1 <= len(entries) <= 4:
            raise ValueError("not a list of one to four profiles")
        profiles = [Profile(**entry) for entry in entries]
        for p in profiles:
            for row in p.op_types:
                float(row["cost"]), str(row["op_type"])
    except FileNotFoundError:
        raise FileNotFoundError(f"{str(path)!r} is missing: make profile writes profile.json") from None
    except (ValueError, TypeError, KeyError, AttributeError) as error:  # JSONDecodeError is a ValueError
        problem = f"missing {error}" if isinstance(error, KeyError) else str(error).splitlines()[0][:120]
        raise ValueError(f"{str(path)!r} is not a profile.json of make profile: {problem}") from None
    return profiles


def _replot(raw: Path, out: Path) -> str:
    profiles = load(raw)
    text = markdown(profiles)
    atomic_write(out / "profile.md", text)
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
