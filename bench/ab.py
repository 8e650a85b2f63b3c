"""Which of two .tflite files is faster, on a noisy machine: `python -m bench.ab A.tflite B.tflite`

A sweep times its runs one after another, so drift in a shared machine's speed (other jobs,
clocks) lands on one file and not the other; on this project's 2-core CI machine that moved
single medians by 20-40%. Here both files are loaded in one process and timed in alternating
rounds (A, B, A, B, ...); each round's B/A ratio sees the same conditions, and the verdict is
the median of those ratios, with its spread.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

from .overhead import bare_interpreter, bare_median_ms


def ab_ratios(path_a: str, path_b: str, threads: int = 1, num_runs: int = 20, rounds: int = 9,
              warmup_runs: int = 3) -> tuple[list[float], list[float]]:
    """Per-round medians (ms) of A and of B, alternating."""
    a, b = bare_interpreter(path_a, threads), bare_interpreter(path_b, threads)
    a_ms, b_ms = [], []
    for _ in range(rounds):
        a_ms.append(bare_median_ms(a, num_runs, warmup_runs))
        b_ms.append(bare_median_ms(b, num_runs, warmup_runs))
    return a_ms, b_ms


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", help="a .tflite file")
    p.add_argument("b", help="the .tflite file to compare with A")
    p.add_argument("--num_threads", type=int, default=1)
    p.add_argument("--num_runs", type=int, default=20, help="timed runs per round")
    p.add_argument("--rounds", type=int, default=9)
    args = p.parse_args(argv)
    for path in (args.a, args.b):
        if not os.path.isfile(path):
            print(f"bench.ab: error: {path} is not a file", file=sys.stderr)
            return 2
    a_ms, b_ms = ab_ratios(args.a, args.b, args.num_threads, args.num_runs, args.rounds)
    ratios = sorted(b / a for a, b in zip(a_ms, b_ms))
    print(f"A {os.path.basename(args.a)}: p50 {statistics.median(a_ms):.2f} ms; "
          f"B {os.path.basename(args.b)}: p50 {statistics.median(b_ms):.2f} ms "
          f"({args.num_threads} thread(s), {args.rounds} alternating rounds of {args.num_runs} runs)")
    print(f"B/A latency {statistics.median(ratios):.3f} (rounds range {ratios[0]:.3f}-{ratios[-1]:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
