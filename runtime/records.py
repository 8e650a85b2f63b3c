"""The rows of the benchmark table and the summary statistics they carry.

Standard library only: the worker imports this inside the legacy (numpy<2) environment too.
"""
from __future__ import annotations

import dataclasses
import math
import statistics
from typing import Any, Sequence

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method) of already sorted values."""
    pos = (len(sorted_values) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclasses.dataclass
class Latency:
    """Warm latency over the timed runs (after warm-up), in milliseconds."""
    runs: int
    mean_ms: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    std_ms: float | None
    min_ms: float | None
    max_ms: float | None

    @classmethod
    def from_samples(cls, samples_ms: Sequence[float]) -> "Latency":
        s = sorted(samples_ms)
        std = statistics.pstdev(s) if len(s) > 1 else 0.0
        return cls(runs=len(s), mean_ms=statistics.fmean(s), p50_ms=percentile(s, 50),
                   p90_ms=percentile(s, 90), p99_ms=percentile(s, 99), std_ms=std,
                   min_ms=s[0], max_ms=s[-1])


@dataclasses.dataclass
class Record:
    """One (model, backend, threads) measurement; failed and skipped runs are rows too."""
    model: str                      # file name, or "<variant> (Keras)" for the tf baseline
    path: str
    variant: str                    # "unknown" when neither manifest nor file name tell
    precision: str
    backend: str                    # cpu, interpreter, gpu, npu, delegate:<lib>, legacy, tf, android:<mode>
    threads: int | None             # None: the backend has no CPU thread setting
    status: str = OK
    reason: str = ""                # why a row failed or was skipped
    accelerator: str = ""           # what actually ran it, e.g. "XNNPACK", "GPU: llvmpipe"
    fully_accelerated: bool | None = None
    software_emulated: bool = False  # GPU rows on lavapipe: not GPU timings
    emulated_core: str = ""         # arm-* rows: the ARM core qemu emulated (no timings: instructions)
    runtime: str = ""               # library and version that ran the model
    machine: str = ""
    file_size_bytes: int | None = None
    file_sha256: str = ""           # the file timed ("" for the Keras baseline): the model card matches on it
    init_ms: float | None = None
    first_ms: float | None = None
    latency: Latency | None = None
    peak_rss_mb: float | None = None      # peak resident memory of the process that ran it
    baseline_rss_mb: float | None = None  # resident memory before the model was loaded
    instructions_per_inference: int | None = None  # arm-* rows: executed instructions (qemu count), not a time
    # arm-*;caches=on rows: one inference through the core's modelled caches (runtime.arm.cores.Caches)
    l1d_accesses_per_inference: int | None = None
    l1d_misses_per_inference: int | None = None
    l1i_misses_per_inference: int | None = None
    l2_misses_per_inference: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    def flat(self) -> dict[str, Any]:
        """One level of keys (latency fields inlined), for CSV and tables."""
        row = dataclasses.asdict(self)
        latency = row.pop("latency") or {f.name: None for f in dataclasses.fields(Latency)}
        return {**row, **latency}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Record":
        data = dict(data)
        if data.get("latency") is not None:
            data["latency"] = Latency(**data["latency"])
        return cls(**data)


def accelerator_label(record: Record) -> str:
    label = record.accelerator
    if record.emulated_core:
        label += " EMULATED (qemu instruction count, not a timing)"
    if record.software_emulated:
        label += " SOFTWARE-EMULATED (not a GPU timing)"
    if record.fully_accelerated is not None:
        # LiteRT's own verdict: False means some ops run outside the accelerator (for the
        # CPU accelerator: outside XNNPACK, on the builtin kernels).
        label += ", fully accelerated" if record.fully_accelerated else ", NOT fully accelerated"
    return label
