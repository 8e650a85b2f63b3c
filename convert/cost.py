"""What a conversion costs: `python -m convert.cost [--variants b0,s,...] [--precisions ...]`

Runs the real `make tflite` job (`python -m convert`) once per variant and precision, each
in its own process, and records its wall time, the peak memory of its whole process tree
(calibration workers and the GPU check included, sampled every 0.2 s), the file size, the
int8 file's size over its floor (1 byte per conv/dense weight + 4 bytes of bias per output
channel) and the validation figures from the manifest. Writes conversion.md and .json in
--out next to the artifacts, which `make bench` can then time.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import psutil

from core.artifacts import artifact_name, read_manifest
from core.cli import run_command
from core.files import atomic_write, ensure_writable

DEFAULT_VARIANTS = "b0,s,ghost_b0,ghost_s"  # m and l work too: slow (minutes each at 480)
DEFAULT_PRECISIONS = "fp32,fp16,dynamic,int8,int16x8"


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants, now."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:  # exited between listing and reading
            pass
    return total


def run_conversion(variant: str, precision: str, out: Path, extra: list[str]) -> dict:
    command = [sys.executable, "-m", "convert", variant, "--precision", precision, "--out", str(out), *extra]
    started, peak = time.perf_counter(), 0
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process = psutil.Process(child.pid)
    while child.poll() is None:
        peak = max(peak, tree_rss(process))
        time.sleep(0.2)
    wall = time.perf_counter() - started
    _, stderr = child.communicate()
    row = {"variant": variant, "precision": precision, "wall_s": round(wall, 1), "peak_mb": round(peak / 2**20)}
    if child.returncode != 0:
        return {**row, "status": f"exit {child.returncode}: {(stderr.strip().splitlines() or [''])[-1][:200]}"}
    entry = read_manifest(out / variant)["artifacts"][artifact_name(variant, precision)]
    return {**row, "status": "ok", "size_mb": round(entry["size_bytes"] / 1e6, 2),
            "size_over_int8_floor": entry["size_over_int8_floor"],
            "cosine": round(entry["validation"]["cosine_mean"], 4),
            "top1_agreement": entry["validation"]["top1_agreement"],
            "xnnpack_partitions": entry.get("xnnpack_partitions"), "gpu": entry["gpu"].get("status"),
            "convert_s": entry["timings_s"].get("convert_s")}


COLUMNS = ["variant", "precision", "wall_s", "convert_s", "peak_mb", "size_mb", "size_over_int8_floor",
           "cosine", "top1_agreement", "xnnpack_partitions", "gpu", "status"]


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(row.get(c, "-")) for c in COLUMNS) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m convert.cost", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", default=DEFAULT_VARIANTS)
    p.add_argument("--precisions", default=DEFAULT_PRECISIONS)
    p.add_argument("--out", default="artifacts", help="artifacts folder; the tables go to OUT/conversion.*")
    p.add_argument("--convert-args", default="", help="extra arguments for python -m convert, e.g. '--calib 200'")
    a = p.parse_args(argv)
    return run_command(lambda: measure(a.variants.split(","), a.precisions.split(","), Path(a.out),
                                       a.convert_args.split()), ((ConversionsFailed, 1, ""),))


class ConversionsFailed(RuntimeError):
    """Some conversions failed: their rows say why (exit 1, the table is still written)."""


def measure(variants: list[str], precisions: list[str], out: Path, convert_args: list[str]) -> str:
    ensure_writable(out)
    rows = []
    for variant in variants:
        for precision in precisions:
            rows.append(run_conversion(variant, precision, out, convert_args))
            print(json.dumps(rows[-1]), flush=True)
    atomic_write(out / "conversion.json", json.dumps(rows, indent=1))
    atomic_write(out / "conversion.md", markdown(rows))
    failed = [row for row in rows if row["status"] != "ok"]
    if failed:
        print(markdown(rows))
        raise ConversionsFailed(f"{len(failed)} of {len(rows)} conversions failed; their rows say why ({out / 'conversion.md'})")
    return markdown(rows)


if __name__ == "__main__":
    sys.exit(main())
