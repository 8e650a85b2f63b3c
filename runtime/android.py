"""A phone over adb: push the model and the official benchmark_model binary, run, parse.

The modes map to benchmark_model's flags; `android` alone is XNNPACK on the CPU cores.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess

from .jobs import Job
from .records import Latency, Record

REMOTE_DIR = "/data/local/tmp/bench"
MODES = {
    "xnnpack": ["--use_xnnpack=true"],
    "cpu": ["--use_xnnpack=false"],  # the reference kernels, as apps without XNNPACK get
    "gpu": ["--use_gpu=true"],
    "nnapi": ["--use_nnapi=true"],
}
THREADED_MODES = ("xnnpack", "cpu")


def mode_of(spec) -> str:
    return spec.arg or "xnnpack"


def _adb(job: Job) -> list[str]:
    serial = job.options.get("android_serial")
    return ["adb", "-s", serial] if serial else ["adb"]


def commands(job: Job) -> list[list[str]]:
    """The exact adb command lines, in order (printed by --dry_run)."""
    binary = job.options.get("android_binary") or "benchmark_model"
    remote_model = f"{REMOTE_DIR}/{job.model.name}"
    remote_binary = f"{REMOTE_DIR}/benchmark_model"
    s = job.settings
    flags = [f"--graph={remote_model}", f"--warmup_runs={s.warmup_runs}",
             f"--num_runs={s.num_runs}", f"--min_secs={s.min_secs:g}", f"--max_secs={s.max_secs:g}",
             "--report_peak_memory_footprint=true", *MODES[mode_of(job.backend)]]
    if job.threads:
        flags.append(f"--num_threads={job.threads}")
    for option, value in job.backend.options.items():  # any other benchmark_model flag
        flags.append(f"--{option}={value}")
    adb = _adb(job)
    return [adb + ["shell", "mkdir", "-p", REMOTE_DIR],
            adb + ["push", job.model.path, remote_model],
            adb + ["push", binary, remote_binary],
            adb + ["shell", "chmod", "755", remote_binary],
            adb + ["shell", remote_binary, *flags]]


def render(cmds: list[list[str]]) -> str:
    return "\n".join(shlex.join(c) for c in cmds)


# --- output parsing ----------------------------------------------------------------------
# benchmark_model's output changed across versions: "INFO: " prefixes (newer logging),
# %g formatting that prints large values as 1.23e+04, percentiles p5/median/p95 after std=
# (newer), and two wordings of the memory lines. The patterns below ignore prefixes and
# accept any float spelling.

_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_STATS = re.compile(r"count=(\d+)((?:\s+\w+=" + _NUM + r")+)")
_PAIR = re.compile(r"(\w+)=" + _NUM)
_TIMINGS = re.compile(r"Inference timings in us:\s*(.*)")
_TIMING_ITEM = re.compile(r"([A-Za-z][A-Za-z ()]*?):\s*" + _NUM)
_INIT_SESSION = re.compile(r"Initialized session in " + _NUM + r"\s*ms")
_MEM_DELTA = re.compile(r"(?:Memory footprint delta from the start of the tool|Peak memory "
                        r"footprint) \(MB\):\s*init=" + _NUM + r"\s+overall=" + _NUM)
_MEM_PEAK = re.compile(r"Overall peak memory footprint \(MB\) via periodic monitoring:\s*" + _NUM)


@dataclasses.dataclass
class BenchmarkOutput:
    """What one benchmark_model run printed, in milliseconds and MB."""
    init_ms: float | None = None
    first_ms: float | None = None
    warmup_avg_ms: float | None = None
    latency: Latency | None = None
    memory_init_mb: float | None = None
    memory_overall_mb: float | None = None
    peak_memory_mb: float | None = None


def _stats(line_match: re.Match) -> tuple[int, dict[str, float]]:
    return int(line_match[1]), {k: float(v) for k, v in _PAIR.findall(line_match[2])}


def _latency(count: int, us: dict[str, float]) -> Latency:
    ms = {k: v / 1000.0 for k, v in us.items()}
    return Latency(runs=count, mean_ms=ms["avg"], p50_ms=ms.get("median"), p90_ms=None,
                   p99_ms=None, std_ms=ms.get("std"), min_ms=ms.get("min"), max_ms=ms.get("max"))


def parse_output(text: str) -> BenchmarkOutput:
    """Parses benchmark_model's stdout. The last `count=` line is the timed run (the one
    before it is the warm-up); the `Inference timings` summary line wins where present.
    Raises ValueError when the output holds no timing at all (e.g. the tool failed)."""
    out = BenchmarkOutput()
    stats = [_stats(m) for m in _STATS.finditer(text)]
    if stats:
        out.latency = _latency(*stats[-1])
        out.first_ms = stats[0][1].get("first", 0) / 1000.0 if "first" in stats[0][1] else None
    if m := _INIT_SESSION.search(text):
        out.init_ms = float(m[1])
    if m := _TIMINGS.search(text):
        items = {k.strip(): float(v) / 1000.0 for k, v in _TIMING_ITEM.findall(m[1])}
        out.init_ms = items.get("Init", out.init_ms)
        out.first_ms = items.get("First inference", out.first_ms)
        out.warmup_avg_ms = items.get("Warmup (avg)")
        if out.latency is not None and "Inference (avg)" in items:
            out.latency.mean_ms = items["Inference (avg)"]
    if m := _MEM_DELTA.search(text):
        out.memory_init_mb, out.memory_overall_mb = float(m[1]), float(m[2])
    if m := _MEM_PEAK.search(text):
        out.peak_memory_mb = float(m[1])
    if out.latency is None:
        raise ValueError("no timing in benchmark_model output: " + _last_line(text))
    return out


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


# --- running (inside the worker subprocess) ----------------------------------------------

def _device_name(job: Job) -> str:
    props = []
    for prop in ("ro.product.model", "ro.soc.model"):
        result = subprocess.run(_adb(job) + ["shell", "getprop", prop], capture_output=True,
                                text=True, timeout=30)
        props.append(result.stdout.strip())
    return "android: " + " / ".join(p for p in props if p)


def run(job: Job) -> Record:
    *setup, bench = commands(job)
    for cmd in setup:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = subprocess.run(bench, capture_output=True, text=True)
    out = parse_output(result.stdout + "\n" + result.stderr)
    peak = out.peak_memory_mb if out.peak_memory_mb and out.peak_memory_mb > 0 else out.memory_overall_mb
    return job.record(accelerator=f"benchmark_model {' '.join(MODES[mode_of(job.backend)])}",
                      runtime=f"benchmark_model ({os.path.basename(job.options.get('android_binary', ''))})",
                      machine=_device_name(job), init_ms=out.init_ms, first_ms=out.first_ms,
                      latency=out.latency, peak_rss_mb=peak)
