"""`python -m runtime.arm MODEL.tflite ... --cores a76,a53`: instructions per inference of each
file on each emulated ARM core (qemu count, not a timing), and whether its outputs equal x86's."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.files import atomic_write

from .cores import CORES, core
from .emulate import run_on_core
from .env import default_env
from .numerics import agreement


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        self.exit(2, f"runtime.arm: error: {message}\n")


def _cores(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"no core named; valid: {', '.join(CORES)}")
    try:
        return [core(n).name for n in names]
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m runtime.arm", description=__doc__,
                epilog="cores: " + ", ".join(f"{c.name} ({c.title})" for c in CORES.values())
                       + ". Needs make arm-env. Each file runs twice per core (1 and 3 invokes).")
    p.add_argument("models", nargs="+", metavar="MODEL", help=".tflite files")
    p.add_argument("--cores", type=_cores, default=["a76"], help="comma-separated cores (default: a76)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per file and core (default: 600)")
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    return p


def _row(model: str, core_name: str, timeout: float) -> dict:
    run = run_on_core(model, core_name, timeout=timeout)
    row = {"model": model, "core": core_name, "core_title": CORES[core_name].title, "ok": run.ok,
           "reason": run.reason, "instructions_per_inference": run.instructions_per_inference,
           "emulation_s": round(run.seconds, 1), "measure": "emulated (qemu instruction count)"}
    if run.ok:
        match = agreement(model, run)
        row.update(bit_exact_vs_x86=match.bit_exact, max_abs_diff_vs_x86=match.max_abs_diff)
    return row


def _line(row: dict) -> str:
    head = f"{Path(row['model']).name} on {row['core_title']}:"
    if not row["ok"]:
        return f"{head} failed: {row['reason']}"
    same = "bit-exact" if row["bit_exact_vs_x86"] else f"max |diff| {row['max_abs_diff_vs_x86']:g}"
    return (f"{head} {row['instructions_per_inference'] / 1e6:,.1f} M instructions per inference "
            f"(emulated, qemu count); outputs vs x86: {same}; {row['emulation_s']} s")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if problem := default_env().problem():
        print(f"runtime.arm: error: {problem}", file=sys.stderr)
        return 2
    missing = [m for m in args.models if not Path(m).is_file()]
    if missing:
        print(f"runtime.arm: error: no such file: {missing[0]}", file=sys.stderr)
        return 2
    rows = []
    for model in args.models:
        for core_name in args.cores:
            rows.append(_row(model, core_name, args.timeout))
            print(_line(rows[-1]), flush=True)
    if args.json:
        atomic_write(Path(args.json), json.dumps(rows, indent=1) + "\n")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
