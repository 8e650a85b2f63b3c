"""Which Ghost design pays in int8 on this CPU: `python -m studies.ghost_designs [--base s] [--size 224]`

Each option is a Ghost design (models/tables.py) applied to one standard table by its name prefix
(`ghostmb_s`: the same name trains with `make train`). For each:
parameters, multiply-adds, int8 file size, and latency against the standard table measured
side by side (bench.ab: one process, alternating rounds) in int8 at 1 and 2 threads and in fp32
at 1 thread. Weights are untrained: latency and size do not depend on them (accuracy comes
from `make train`). Files are kept in OUT/files, so a rerun only measures. Writes
OUT/ghost_designs.{md,csv,json} with the machine's CPU flags: int8 conclusions hinge on them.

`--arm-cores a53,a76` (make arm-env): each int8 file's instructions per inference on those emulated
ARM cores too, against the base's on the same core: the design chosen for the cores apps ship to
(emulated counts, not time: runtime/arm).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
from pathlib import Path

from core.cli import run_command
from core.files import atomic_write, ensure_writable
from core.tables import write_csv
from runtime.arm.cores import CORES

# label -> the family prefix that derives the option from any table (models.registry)
OPTIONS: dict[str, str] = {
    "ghost (reference)": "ghost_",
    "ghostlite": "ghostlite_",
    "MBConv stages + head only": "ghostmb_",
    "expand convs + head only": "ghostexp_",
    "wide convs only (>= 512 out)": "ghostwide_",
    "3x3 cheap branch without act": "ghostnoact_",
    "no ResNet-D shortcuts": "ghostnod_",
    "MBConv + head with 1x1 cheap without act": "ghostmb1x1_",
    "ratio 3 where it divides": "ghostr3_",
    "ratio 4 where it divides": "ghostr4_",
    "ratio 4 from 256 channels": "ghostr4w_",
}


def _slug(option: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in option).strip("_")


def convert_pair(variant, size: int, folder: Path) -> dict[str, Path]:
    """The fp32 and int8 (uint8 I/O) files of an untrained `variant`, converted once: the name
    carries a digest of the whole table and of the builder's source, so a changed design or
    builder is never answered from the cache."""
    import models

    builder = b"".join(path.read_bytes() for path in sorted(Path(models.__file__).parent.glob("*.py")))
    digest = hashlib.sha256(f"{variant!r}{size}".encode() + builder).hexdigest()[:8]
    paths = {precision: folder / f"{_slug(variant.name)}_{digest}_{precision}.tflite" for precision in ("fp32", "int8")}
    if all(path.exists() for path in paths.values()):
        return paths
    from convert.recipes import convert
    from quantize import builtin_images

    model = models.build(variant, input_size=size, num_classes=1000, batch_size=1)
    images = builtin_images(size, calibration=8, validation=0).calibration
    for precision, path in paths.items():
        if not path.exists():
            atomic_write(path, convert(model, precision, images if precision == "int8" else None))
    return paths


def counts(variant, size: int) -> dict:
    import models
    from models.profile import count_macs

    model = models.build(variant, input_size=size, num_classes=1000)
    return {"parameters": model.count_params(), "gmacs": round(count_macs(model) / 1e9, 3)}


def ratio(base: Path, other: Path, threads: int, rounds: int) -> tuple[float, float, float, float]:
    """Median other/base latency over alternating rounds, its range, and base's median ms."""
    from bench.ab import ab_ratios

    base_ms, other_ms = ab_ratios(str(base), str(other), threads, num_runs=15, rounds=rounds)
    ratios = sorted(o / b for b, o in zip(base_ms, other_ms))
    return statistics.median(ratios), ratios[0], ratios[-1], statistics.median(base_ms)


def arm_ratios(base_int8: Path, int8: Path, cores: list[str], base_counts: dict[str, int]) -> dict:
    """Emulated instructions per inference of `int8` on each core, and against the base's there."""
    from runtime.arm import instructions_per_inference

    row = {}
    for core in cores:
        if core not in base_counts:
            base_counts[core] = instructions_per_inference(base_int8, core)
        count = instructions_per_inference(int8, core)
        row[f"int8_{core}_minstr"] = round(count / 1e6, 1)
        row[f"int8_{core}_vs_base"] = round(count / base_counts[core], 3)
    return row


def measure(base_name: str, options: dict[str, str], size: int, out: Path, rounds: int,
            arm_cores: list[str] = ()) -> list[dict]:
    import models

    base = models.get_variant(base_name)
    files = out / "files"
    base_files, base_counts = convert_pair(base, size, files), counts(base, size)
    base_instructions: dict[str, int] = {}  # per ARM core, counted once
    rows = []
    for option, prefix in options.items():
        variant = models.get_variant(prefix + base_name)
        paths, row = convert_pair(variant, size, files), {"option": option, "variant": variant.name,
                                                          **counts(variant, size)}
        row["params_vs_base"] = round(row["parameters"] / base_counts["parameters"], 3)
        row["int8_mb"] = round(paths["int8"].stat().st_size / 1e6, 2)
        row["int8_file"], row["base_int8_file"] = str(paths["int8"]), str(base_files["int8"])
        for precision, threads in (("int8", 1), ("int8", 2), ("fp32", 1)):
            median, low, high, base_ms = ratio(base_files[precision], paths[precision], threads, rounds)
            row[f"{precision}_{threads}t_vs_base"] = round(median, 3)
            row[f"{precision}_{threads}t_range"] = f"{low:.2f}-{high:.2f}"
            row[f"base_{precision}_{threads}t_ms"] = round(base_ms, 2)
        row.update(arm_ratios(base_files["int8"], paths["int8"], arm_cores, base_instructions))
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def markdown(rows: list[dict], base_name: str, size: int, machine: str) -> str:
    arm = [c for c in rows[0] if c.startswith("int8_") and c.endswith("_vs_base") and c[5:-8] in CORES]
    columns = ["option", "variant", "parameters", "params_vs_base", "gmacs", "int8_mb", "int8_1t_vs_base",
               "int8_1t_range", "int8_2t_vs_base", "int8_2t_range", "fp32_1t_vs_base", *arm]
    lines = [f"# Ghost designs against {base_name} at {size} px (untrained, int8 uint8 I/O)", "",
             f"Machine: {machine}. Ratios: latency / {base_name}'s, medians of alternating rounds (bench.ab); "
             f"{base_name} itself: int8 {rows[0]['base_int8_1t_ms']} ms at 1 thread, "
             f"{rows[0]['base_int8_2t_ms']} ms at 2, fp32 {rows[0]['base_fp32_1t_ms']} ms at 1."
             + (f" `int8_<core>_vs_base`: **emulated** ARM instructions per inference / {base_name}'s on that core "
                "(qemu instruction counts, 1 thread, not time)." if arm else ""), "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m studies.ghost_designs", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", default="s", help="the standard table the designs are applied to (default s)")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--options", help=f"comma-separated subset of: {'; '.join(OPTIONS)} (default: all)")
    p.add_argument("--rounds", type=int, default=7, help="alternating rounds per comparison (default 7)")
    p.add_argument("--arm-cores", default="", help=f"comma-separated emulated ARM cores ({','.join(CORES)}) to "
                                                  "count each int8 file on too (make arm-env)")
    p.add_argument("--out", default="bench-results/ghost_designs")
    a = p.parse_args(argv)
    return run_command(lambda: study(a.base, a.options, a.size, Path(a.out), a.rounds,
                                     [c for c in a.arm_cores.split(",") if c]))


def study(base: str, options: str | None, size: int, out: Path, rounds: int, arm_cores: list[str] = ()) -> str:
    chosen = OPTIONS if not options else {o.strip(): OPTIONS.get(o.strip()) for o in options.split(",")}
    if unknown := [o for o, prefix in chosen.items() if prefix is None]:
        raise ValueError(f"unknown option {unknown[0]!r}; valid: {'; '.join(OPTIONS)}")
    if arm_cores:
        from runtime.arm import core, default_env

        for name in arm_cores:
            core(name)  # an unknown core: one line naming the valid ones
        if problem := default_env().problem():
            raise RuntimeError(problem)
    ensure_writable(out)
    from bench.machine import machine_info

    machine = machine_info().summary()
    rows = measure(base, chosen, size, out, rounds, arm_cores)
    table = markdown(rows, base, size, machine)
    write_csv(out / "ghost_designs.csv", rows, list(rows[0]))
    atomic_write(out / "ghost_designs.json", json.dumps({"machine": machine, "base": base, "size": size,
                                                          "rows": rows}, indent=1))
    atomic_write(out / "ghost_designs.md", table)
    return table


if __name__ == "__main__":
    sys.exit(main())
