"""Does the harness distort what it measures? `python -m bench.overhead MODEL.tflite`

Times the same model two ways in one run: through the harness exactly as a sweep runs it
(worker subprocess, `interpreter` backend) and with a bare `invoke()` loop in this process.
Rounds alternate between the two so that drift (thermal, other load) hits both alike; the
verdict is the median over rounds of harness median / neighbouring bare medians. Exit status 1 if they differ by more
than --tolerance (default 5%). Both are pinned to one core (--cpu; the worker inherits
it): on a shared machine, which core a run lands on moves latency by more than 5%.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time

from core.artifacts import describe
from runtime.isolated import run_job
from runtime.jobs import BackendSpec, Job
from runtime.loaders import random_input
from runtime.timing import RunSettings


@dataclasses.dataclass
class Overhead:
    bare_ms: list[float]      # per-round medians, one more than harness_ms (before and after)
    harness_ms: list[float]

    @property
    def ratios(self) -> list[float]:
        """Each harness round against the mean of the bare rounds just before and after it,
        so slow drift in the machine's speed cancels."""
        b = self.bare_ms
        return [h / ((b0 + b1) / 2) for h, b0, b1 in zip(self.harness_ms, b, b[1:])]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    def summary(self) -> str:
        return (f"bare invoke() p50 {statistics.median(self.bare_ms):.4f} ms, harness p50 "
                f"{statistics.median(self.harness_ms):.4f} ms; paired harness/bare "
                f"{self.ratio:.4f} ({(self.ratio - 1) * 100:+.2f}%) over "
                f"{len(self.harness_ms)} alternating rounds "
                f"(per round: {', '.join(f'{r:.3f}' for r in self.ratios)})")


def bare_interpreter(path: str, threads: int):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=threads)
    interpreter.allocate_tensors()
    for d in interpreter.get_input_details():
        interpreter.set_tensor(d["index"], random_input(d["shape"], d["dtype"]))
    return interpreter


def bare_median_ms(interpreter, num_runs: int, warmup_runs: int) -> float:
    """The reference: nothing but invoke() between two clock reads."""
    for _ in range(warmup_runs + 1):
        interpreter.invoke()
    samples = []
    for _ in range(num_runs):
        t0 = time.perf_counter_ns()
        interpreter.invoke()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    return statistics.median(samples)


def harness_median_ms(job: Job) -> float:
    record = run_job(job)
    if not record.ok:
        raise RuntimeError(f"harness run failed: {record.reason}")
    return record.latency.p50_ms


def compare(path: str, threads: int = 1, num_runs: int = 300, warmup_runs: int = 20,
            rounds: int = 7, cpus: set[int] | None = None) -> Overhead:
    if cpus:
        os.sched_setaffinity(0, cpus)
    settings = RunSettings(num_runs=num_runs, warmup_runs=warmup_runs, min_secs=0.0)
    job = Job(describe(path), BackendSpec("interpreter"), threads, settings)
    interpreter = bare_interpreter(path, threads)
    bare, harness = [bare_median_ms(interpreter, num_runs, warmup_runs)], []
    for _ in range(rounds):
        harness.append(harness_median_ms(job))
        bare.append(bare_median_ms(interpreter, num_runs, warmup_runs))
    return Overhead(bare, harness)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.overhead", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a .tflite file")
    p.add_argument("--num_threads", type=int, default=1)
    p.add_argument("--num_runs", type=int, default=300, help="timed runs per round")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--cpu", type=int, default=0, help="core to pin both to (-1: no pinning)")
    p.add_argument("--tolerance", type=float, default=0.05, help="allowed |harness/bare - 1|")
    args = p.parse_args(argv)
    cpus = None if args.cpu < 0 else set(range(args.cpu, args.cpu + args.num_threads))
    result = compare(args.model, args.num_threads, args.num_runs, rounds=args.rounds, cpus=cpus)
    print(result.summary())
    within = abs(result.ratio - 1) <= args.tolerance
    print(f"PASS: within {args.tolerance:.0%}" if within
          else f"FAIL: differs by more than {args.tolerance:.0%}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
