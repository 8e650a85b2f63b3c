"""python -m studies.arm_counts [--variants b0,s,...] [--cores a53,a76,...] (make arm-counts):
instructions per inference of untrained files on emulated ARM cores, into runtime/arm/counts.csv.

Each variant is built untrained at 224 px with 1000 classes, converted to fp32 and int8 (uint8 I/O,
calibrated on the built-in photos; files cached in --files by a digest of the table), and counted on
each core, 1 thread (runtime.arm: a qemu plugin's instruction count, not a time). Rows already in the
table for other variants, precisions or cores are kept, so a rerun over a subset updates it in place.
make tflite reads the table to name the variant of a size class with the fewest instructions on the
core it checks the file on. Needs make arm-env.
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from core.cli import run_command
from core.files import ensure_writable
from core.tables import write_csv

DEFAULT_VARIANTS = "b0,ghost_b0,ghostlite_b0,s,ghost_s,ghostlite_s"
PRECISIONS = ("int8", "fp32")
SIZE = 224


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one name")
    return names


def build_parser() -> argparse.ArgumentParser:
    from runtime.arm.counts import TABLE
    from runtime.arm.cores import CORES

    p = argparse.ArgumentParser(prog="python -m studies.arm_counts", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", type=_names, default=_names(DEFAULT_VARIANTS),
                   help=f"comma-separated variants (default {DEFAULT_VARIANTS})")
    p.add_argument("--cores", type=_names, default=list(CORES), help=f"comma-separated cores (default {','.join(CORES)})")
    p.add_argument("--table", type=Path, default=TABLE, help=f"the CSV to update (default {TABLE})")
    p.add_argument("--files", type=Path, default=Path("bench-results/arm_counts/files"),
                   help="where the converted files are kept between runs")
    return p


def counted_rows(variants: list[str], cores: list[str], files: Path) -> list[dict]:
    import models
    from models.registry import base_name
    from runtime.arm import instructions_per_inference
    from studies.ghost_designs import convert_pair

    rows = []
    for name in variants:
        paths = convert_pair(models.get_variant(name), SIZE, files)
        for precision in PRECISIONS:
            for core in cores:
                count = instructions_per_inference(paths[precision], core)
                rows.append({"base": base_name(name), "variant": name, "precision": precision, "input_size": SIZE,
                             "core": core, "million_instructions": round(count / 1e6, 1)})
                print(f"{name} {precision} {core}: {count / 1e6:,.1f} M instructions per inference (emulated)",
                      flush=True)
    return rows


def study(variants: list[str], cores: list[str], table: Path, files: Path) -> str:
    import models
    from runtime.arm import core, default_env
    from runtime.arm.counts import COLUMNS, read_counts

    for name in variants:
        models.get_variant(name)  # an unknown name: one line naming the valid ones, before any work
    for name in cores:
        core(name)
    if problem := default_env().problem():
        raise RuntimeError(problem)
    ensure_writable(files)
    ensure_writable(table.parent)
    new = counted_rows(variants, cores, files)
    replaced = {(r["variant"], r["precision"], r["core"]) for r in new}
    kept = [dataclasses.asdict(c) for c in (read_counts(table) if table.is_file() else [])
            if (c.variant, c.precision, c.core) not in replaced]
    rows = sorted(kept + new, key=lambda r: (r["base"], r["variant"], r["precision"], r["core"]))
    write_csv(table, rows, COLUMNS)
    return f"{table}: {len(new)} counts written, {len(kept)} kept"


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    return run_command(lambda: study(a.variants, a.cores, a.table, a.files))


if __name__ == "__main__":
    raise SystemExit(main())
