"""The committed table of emulated instruction counts (counts.csv, written by `make arm-counts`):
untrained files of the shipped families at 224 px, 1 thread, on each emulated core. make tflite
reads it to say which variant of a size class executes the fewest instructions on the core a
user names, a question its one file cannot answer alone."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).with_name("counts.csv")
COLUMNS = ("base", "variant", "precision", "input_size", "core", "million_instructions")
# A CPU runs an fp16 file as fp32 (XNNPACK widens the weights at load: the same instructions, docs/arm.md).
COUNTED_AS = {"fp16": "fp32"}


@dataclass(frozen=True)
class Count:
    base: str  # the standard table of the size class (s for ghostlite_s)
    variant: str
    precision: str
    input_size: int
    core: str
    million_instructions: float


def read_counts(path: Path = TABLE) -> list[Count]:
    with open(path, newline="") as file:
        return [Count(r["base"], r["variant"], r["precision"], int(r["input_size"]), r["core"],
                      float(r["million_instructions"])) for r in csv.DictReader(file)]


def ranking(counts: list[Count], base: str, precision: str, core: str) -> list[Count]:
    """The size class's variants on `core` in `precision`, fewest instructions first ([] where
    `counts` has none of them)."""
    precision = COUNTED_AS.get(precision, precision)
    found = [c for c in counts if (c.base, c.precision, c.core) == (base, precision, core)]
    return sorted(found, key=lambda c: c.million_instructions)


def size_class_on_core(base: str, precision: str, core: str, path: Path = TABLE) -> dict | None:
    """What the table says of the size class of the standard table `base` (s for ghostlite_s) on
    `core` (for make tflite's manifest and summary): the variant with the fewest instructions and
    every variant's count; None where the table has no row of that class, precision and core."""
    try:
        counts = read_counts(path)
    except (OSError, KeyError, ValueError) as error:  # the table is the project's own: say it, don't stop the job
        return {"core": core, "unavailable": f"{path}: {error}; make arm-counts rewrites it"}
    ranked = ranking(counts, base, precision, core)
    if not ranked:
        return None
    return {"core": core, "precision": ranked[0].precision, "input_size": ranked[0].input_size,
            "fewest": ranked[0].variant, "million_instructions": {c.variant: c.million_instructions for c in ranked},
            "measure": "emulated instruction counts of untrained files, 1 thread (make arm-counts)"}
