"""`python -m bench`: the command line."""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from pathlib import Path

from core.artifacts import describe
from core.cli import stops_end_the_command
from core.files import ensure_writable
from runtime.backends import LEGACY_PYTHON, REGISTRY, Context, parse_backends
from runtime.timing import RunSettings

from .artifacts import DEFAULT_GLOB, distinct_names, expand
from .machine import machine_info

DEFAULT_BACKENDS = "cpu,interpreter,gpu,npu,legacy,tf"

EPILOG = f"""\
backends (each runs in its own subprocess; unavailable ones become rows saying why):
{chr(10).join(f"  {b.name:<12}{b.help}" for b in REGISTRY.values())}

measurement (as TFLite's benchmark_model does it):
  init      = load the model and prepare it (allocate, compile for the accelerator)
  first     = the first inference, timed on its own (shader compilation, caches, ...)
  then --warmup_runs untimed runs, then timed runs: at least --num_runs runs and
  at least --min_secs seconds, stopping at --max_secs. Latency columns are over those.
  peak MB   = high-water resident memory of the worker process (runtime included).

examples:
  python -m bench                                  # everything in {DEFAULT_GLOB}
  python -m bench artifacts/ghost_s/*.tflite --backends cpu,tf --num_threads 1,2,4
  python -m bench m.tflite --backends "delegate:/usr/lib/libedgetpu.so.1;device=usb"
  python -m bench m.tflite --backends android,android:gpu --android_binary ./benchmark_model
  python -m bench m.tflite --backends android --dry_run   # print the adb commands only
  python -m bench m.tflite --backends arm-a76,arm-a53     # emulated ARM cores: instructions (make arm-env)
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse prints usage too)
        self.exit(2, f"bench: error: {message}\n")


def _bounded(kind: type, low: float, inclusive: bool = True):
    """An argparse type: a number of `kind` >= low (or > low)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
        if value < low or (value == low and not inclusive):
            raise argparse.ArgumentTypeError(f"must be {'>=' if inclusive else '>'} {low:g}, got {text}")
        return value
    return parse


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"thread counts must be >= 1, got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m bench", formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Latency, memory and size of .tflite models across LiteRT "
                            "CPU/GPU/NPU, delegates, tflite-runtime, TensorFlow and phones.",
                epilog=EPILOG)
    p.add_argument("models", nargs="*", metavar="MODEL",
                   help=f".tflite files or glob patterns (default: {DEFAULT_GLOB})")
    p.add_argument("--backends", default=DEFAULT_BACKENDS,
                   help=f"comma-separated backends (default: {DEFAULT_BACKENDS})")
    p.add_argument("--num_threads", type=_int_list, default=[1, 2],
                   help="CPU thread counts to sweep, e.g. 1,2,4 (default: 1,2)")
    p.add_argument("--num_runs", type=_bounded(int, 1), default=50, help="minimum timed runs (default: 50)")
    p.add_argument("--warmup_runs", type=_bounded(int, 0), default=5,
                   help="untimed runs after the first inference (default: 5)")
    p.add_argument("--min_secs", type=_bounded(float, 0), default=1.0,
                   help="minimum seconds of timed runs (default: 1)")
    p.add_argument("--max_secs", type=_bounded(float, 0, inclusive=False), default=150.0,
                   help="stop timed runs after this many seconds (default: 150)")
    p.add_argument("--timeout", type=_bounded(float, 0, inclusive=False), default=600.0,
                   help="seconds before a run is killed and reported failed (default: 600)")
    p.add_argument("--out", default="bench-results",
                   help="directory for results.md/.csv/.json and plots (default: bench-results)")
    p.add_argument("--android_binary", help="benchmark_model built for the phone (android backend)")
    p.add_argument("--android_serial", help="adb device serial when several are attached")
    p.add_argument("--legacy_python", default=LEGACY_PYTHON,
                   help="python of the tflite-runtime environment (default: .venv-legacy)")
    p.add_argument("--dry_run", action="store_true",
                   help="print the planned runs (and the exact adb commands) and run nothing")
    p.add_argument("--no_progress", action="store_true", help="no progress bar")
    p.add_argument("--no_kernels", action="store_true",
                   help="skip recording which XNNPACK kernels (AVX2, VNNI, AMX, ...) each file's op types run on "
                        "(a 2 s perf run per file measured on cpu/interpreter; only where perf works)")
    return p


def _kernels(models: list, measured: set[str]) -> dict:
    """Per file measured on the CPU: op type -> instruction sets of its kernels, or why not."""
    from .profile import ProfilerUnavailable, kernels_by_op_type

    found = {}
    for model in (m for m in models if m.path in measured):
        try:
            found[model.name] = kernels_by_op_type(model.path)
        except ProfilerUnavailable as error:
            return {"all files": f"not recorded: {error}"}
    return found


def _rescue(records: list, machine, meta: dict) -> str:
    """Where the rows go when OUT cannot take them after all (a full disk, OUT removed mid-sweep)."""
    from .report import write_json

    path = os.path.join(tempfile.gettempdir(), f"bench-results-{os.getpid()}.json")
    write_json(records, path, {"machine": dataclasses.asdict(machine), **meta})
    return path


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with stops_end_the_command():
            return _bench(args)
    except KeyboardInterrupt:  # outside the sweep (whose rows are written as they come)
        print("bench: interrupted", file=sys.stderr)
        return 130


def _bench(args: argparse.Namespace) -> int:
    from .report import document, write_all, write_tables
    from .sweep import describe_plan, execute, plan

    try:
        specs = parse_backends(args.backends)
        models = distinct_names([describe(path) for path in expand(args.models)])
        if not args.dry_run:
            ensure_writable(Path(args.out))  # before the sweep, not after it
    except (ValueError, OSError) as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 2
    settings = RunSettings(num_runs=args.num_runs, warmup_runs=args.warmup_runs,
                           min_secs=args.min_secs, max_secs=args.max_secs)
    ctx = Context(android_binary=args.android_binary, android_serial=args.android_serial,
                  dry_run=args.dry_run, legacy_python=args.legacy_python)
    machine = machine_info()
    planned = plan(models, specs, args.num_threads, settings, ctx, machine.summary())
    if args.dry_run:
        print("\n".join(describe_plan(p) for p in planned))
        return 0
    meta = {"settings": dataclasses.asdict(settings), "backends": args.backends,
            "num_threads": args.num_threads}
    rescued = {}  # OUT's write error and the file that holds the rows instead, while OUT fails

    def save(rows, write=write_tables) -> dict[str, str]:
        try:
            paths = write(rows, args.out, machine, meta)
        except OSError as error:
            rescued.update(error=error, path=_rescue(rows, machine, meta))
            return {}
        rescued.clear()
        return paths

    try:
        records = execute(planned, timeout=args.timeout, progress=not args.no_progress, on_record=save)
    except KeyboardInterrupt:
        print(f"bench: interrupted; the rows measured so far are in {rescued.get('path', args.out)}", file=sys.stderr)
        return 130
    if not args.no_kernels:
        meta["kernels"] = _kernels([m for m in models if not m.problem],
                                   {r.path for r in records if r.ok and r.backend in ("cpu", "interpreter")})
    paths = save(records, write_all)
    print(document(records, machine, meta.get("kernels")))
    if rescued:
        print(f"bench: error: cannot write the results to {args.out!r} ({rescued['error']}); the measured rows "
              f"({len(records)}) are in {rescued['path']}", file=sys.stderr)
        return 2
    print("wrote " + ", ".join(paths.values()))
    return 0 if any(r.ok for r in records) or not records else 1
