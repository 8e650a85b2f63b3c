"""The timing loop shared by every in-process backend, with benchmark_model's semantics.

benchmark_model runs at least `num_runs` iterations *and* at least `min_secs` seconds, but stops
at `max_secs`; its first inference is reported on its own. The loop body is one call of
`step` between two clock reads, so the harness adds well under a microsecond per run
(checked against a bare invoke() loop by bench/overhead.py).
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable


@dataclasses.dataclass(frozen=True)
class RunSettings:
    num_runs: int = 50
    warmup_runs: int = 5
    min_secs: float = 1.0
    max_secs: float = 150.0


@dataclasses.dataclass
class Timing:
    first_ms: float
    samples_ms: list[float]


def _time_ms(step: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    step()
    return (time.perf_counter_ns() - start) / 1e6


def timed_runs(step: Callable[[], object], settings: RunSettings) -> list[float]:
    """Latencies (ms) of consecutive runs until the num_runs/min_secs/max_secs rule stops."""
    samples: list[float] = []
    clock, start = time.perf_counter_ns, time.perf_counter_ns()
    min_ns, max_ns = settings.min_secs * 1e9, settings.max_secs * 1e9
    while True:
        t0 = clock()
        step()
        t1 = clock()
        samples.append((t1 - t0) / 1e6)
        elapsed = t1 - start
        if elapsed >= max_ns or (len(samples) >= settings.num_runs and elapsed >= min_ns):
            return samples


def measure(step: Callable[[], object], settings: RunSettings) -> Timing:
    """First inference, then `warmup_runs` untimed runs, then the timed runs."""
    first_ms = _time_ms(step)
    for _ in range(settings.warmup_runs):
        step()
    return Timing(first_ms=first_ms, samples_ms=timed_runs(step, settings))
