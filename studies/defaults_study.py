"""Do `make train`'s defaults hold on folders nobody tuned them for? For each folder and
variant: `make train` with nothing but DATA, VARIANT and SIZE set, against the plain loop
(train.baseline), each scored on the folder's test/ split in float and as make tflite's int8
file, with training time.

    python -m train.study_folders --out data/study
    python -m studies.defaults_study --folders data/study/digits,data/study/photos,data/study/faces \\
        --variants b0,ghost_b0,ghostlite_b0 --size 64 --out runs/defaults_study

Writes OUT/defaults_study.{json,md}; every finished cell is saved at once, and a rerun skips
the cells it finds (each training run resumes on its own too).
"""
from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

from core.cli import run_command
from core.files import atomic_write

METHODS = ("defaults", "plain")


def _int8_top1(weights: Path, data: str, out: Path) -> float:
    from convert.job import Job
    from convert.pipeline import run

    result = run(Job(precision="int8", weights=str(weights), data=data, out=str(out), gpu_check=False,
                     legacy_check=False, max_top1_drop=100.0))  # measured here, not gated
    return result.manifest["artifacts"][result.tflite.name]["validation"]["accuracy"]["tflite_top1"]


def cell(folder: str, variant: str, method: str, size: int, out: Path, seed: int = 0) -> dict:
    from train.baseline import train_plain
    from train.run import Settings, train

    run_folder = out / Path(folder).name / f"{variant}_{method}{f'_seed{seed}' if seed else ''}"
    started = time.perf_counter()
    if method == "defaults":
        summary = train(Settings(variant=variant, data=folder, out=str(run_folder), size=size, seed=seed))
        top1, seconds = summary["test"]["top1"], summary["train_seconds"]
        extra = {"best_epoch": summary["best"]["epoch"], "adapted": summary["adapted_to_data"]}
    else:
        summary = train_plain(variant, folder, str(run_folder), size, seed=seed)
        top1, seconds, extra = summary["top1"], summary["train_seconds"], {}
    wall = time.perf_counter() - started
    int8 = _int8_top1(run_folder / "model.keras", folder, run_folder / "artifacts")
    return {"folder": Path(folder).name, "variant": variant, "method": method, "seed": seed,
            "float_top1": round(top1, 5), "int8_top1": round(int8, 5), "train_seconds": seconds,
            "wall_seconds": round(wall, 1), **extra}


def _key(c: dict) -> tuple:
    return c["folder"], c["variant"], c["method"], c.get("seed", 0)


def markdown(cells: list[dict]) -> str:
    """One row per run; with several seeds of a folder/variant/method, a row of their means too."""
    lines = ["| folder | variant | method | seed | float test top-1 | int8 test top-1 | training s |",
             "|---|---|---|---|---:|---:|---:|"]
    groups: dict[tuple, list[dict]] = {}
    for c in cells:
        groups.setdefault(_key(c)[:3], []).append(c)
    for (folder, variant, method), runs in groups.items():
        rows = [(str(c.get("seed", 0)), c) for c in runs]
        if len(runs) > 1:
            mean = {k: statistics.mean(c[k] for c in runs) for k in ("float_top1", "int8_top1", "train_seconds")}
            rows.append((f"mean of {len(runs)}", mean))
        lines += [f"| {folder} | {variant} | {method} | {seed} | {100 * c['float_top1']:.2f}% | "
                  f"{100 * c['int8_top1']:.2f}% | {c['train_seconds']:.0f} |" for seed, c in rows]
    return "\n".join(lines) + "\n"


def study(folders: list[str], variants: list[str], size: int, out: Path, methods=METHODS,
          seeds: tuple[int, ...] = (0,)) -> list[dict]:
    from imagedata.folders import scan

    for folder in folders:  # every folder readable before anything is written or trained
        scan(folder)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "defaults_study.json"
    cells = json.loads(results.read_text()) if results.is_file() else []
    done = {_key(c) for c in cells}
    for folder, variant, seed, method in itertools.product(folders, variants, seeds, methods):
        if (Path(folder).name, variant, method, seed) not in done:
            cells.append(cell(folder, variant, method, size, out, seed))
            atomic_write(results, json.dumps(cells, indent=2) + "\n")
            atomic_write(out / "defaults_study.md", markdown(cells))
    return cells


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m studies.defaults_study", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--folders", required=True, help="comma-separated folders with train/ and test/")
    p.add_argument("--variants", default="b0,ghost_b0,ghostlite_b0")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--seeds", default="0", help="comma-separated; each seed is its own run of every cell")
    p.add_argument("--out", default="runs/defaults_study")
    a = p.parse_args(argv)
    methods = a.methods.split(",")
    if set(methods) - set(METHODS):
        p.error(f"methods are {', '.join(METHODS)}")
    try:
        seeds = tuple(int(seed) for seed in a.seeds.split(","))
    except ValueError:
        p.error(f"--seeds takes comma-separated integers, not {a.seeds!r}")
    return run_command(lambda: markdown(study(a.folders.split(","), a.variants.split(","), a.size, Path(a.out),
                                              methods, seeds)))


if __name__ == "__main__":
    sys.exit(main())
