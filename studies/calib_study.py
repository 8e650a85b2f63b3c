"""Which int8 range estimator suits a trained model and its data, decided over several calibration
samples: `python -m studies.calib_study --variant ghost_b0 --weights model.keras --data folder`
(`make calib-study`).

Converts the model with make tflite's int8 recipe once per (calibration seed, percentile) and scores
every file on DATA's held-out split (the one make train and make tflite use). One calibration sample
is not enough to choose: on the fine demo set, 100 images -> 300 images moved the file by 4 held-out
images in the wrong direction, and the percentile gains were 1-5 images (docs/quantization.md).
Percentile 100 is min/max; make tflite's default is 90, and its seed-0 cell is exactly make tflite's file.

Writes OUT/calib_study.{md,csv,json} and prints the table with the percentile of the best mean
top-1 (ties: the better mean agreement with the float model).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
from pathlib import Path

from convert.job import DEFAULT_CALIBRATION_PERCENTILE
from core.cli import add_trained_model_arguments, run_command
from core.files import atomic_write, ensure_writable
from core.tables import csv_text

CELL_COLUMNS = ["percentile", "seed", "top1", "agreement", "drop_points"]


@dataclasses.dataclass(frozen=True)
class StudySettings:
    variant: str | None = None  # default: the one WEIGHTS was trained as
    weights: str | None = None
    data: str | None = None
    size: int | None = None
    classes: int | None = None
    calibration: int = 100
    percentiles: tuple[float, ...] = (100.0, 99.0, 95.0, 90.0)
    seeds: tuple[int, ...] = (0, 1, 2)
    out: str | None = None  # default: beside WEIGHTS


def summarize(cells: list[dict], keras_top1: float) -> list[dict]:
    """Per percentile: top-1 and agreement over the calibration seeds, best mean top-1 first."""
    rows = []
    for percentile in dict.fromkeys(cell["percentile"] for cell in cells):
        mine = [cell for cell in cells if cell["percentile"] == percentile]
        top1 = [cell["top1"] for cell in mine]
        rows.append({"percentile": percentile, "seeds": len(mine), "mean_top1": statistics.fmean(top1),
                     "min_top1": min(top1), "max_top1": max(top1),
                     "mean_agreement": statistics.fmean(cell["agreement"] for cell in mine),
                     "mean_drop_points": round(100 * (keras_top1 - statistics.fmean(top1)), 3)})
    return sorted(rows, key=lambda row: (row["mean_top1"], row["mean_agreement"]), reverse=True)


def make_setting(percentile: float) -> str:
    name = f"CALIB_PERCENTILE={percentile:g}" + (" (min/max)" if percentile >= 100 else "")
    return f"default ({name})" if percentile == DEFAULT_CALIBRATION_PERCENTILE else name


def markdown(cells: list[dict], summary: list[dict], title: str) -> str:
    pct = lambda x: f"{100 * x:.2f}%"  # noqa: E731
    lines = [f"# {title}", "", "| percentile | make tflite setting | seeds | mean top-1 | min - max | mean agreement "
             "| mean drop (points) |", "|---:|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['percentile']:g} | {make_setting(r['percentile'])} | {r['seeds']} | {pct(r['mean_top1'])} | "
              f"{pct(r['min_top1'])} - {pct(r['max_top1'])} | {pct(r['mean_agreement'])} | {r['mean_drop_points']:.2f} |"
              for r in summary]
    lines += ["", f"Best here: **{make_setting(summary[0]['percentile'])}**.", "",
              "| percentile | calibration seed | top-1 | agreement | drop (points) |", "|---:|---:|---:|---:|---:|"]
    lines += [f"| {c['percentile']:g} | {c['seed']} | {pct(c['top1'])} | {pct(c['agreement'])} | {c['drop_points']:.2f} |"
              for c in cells]
    return "\n".join(lines) + "\n"


def run(s: StudySettings) -> tuple[list[Path], str]:
    from tqdm import tqdm

    from convert import recipes
    from convert.job import Job
    from convert.acceptance import labelled_accuracy
    from convert.inputs import load_images, preflight, resolved, study_inputs

    if not s.weights:
        raise ValueError("the study needs WEIGHTS: a trained .keras (make train's model.keras)")
    if not s.seeds or not s.percentiles:
        raise ValueError("give at least one calibration seed and one percentile, e.g. SEEDS=0,1,2 PERCENTILES=100,90")
    out = Path(s.out) if s.out else Path(s.weights).parent
    job = resolved(Job(s.variant, "int8", s.size, s.classes, s.weights, s.data, str(out), calibration=s.calibration,
                       calibration_seed=s.seeds[0], gpu_check=False, legacy_check=False))
    for percentile in s.percentiles:  # make tflite's own checks, for every setting before any work
        preflight(dataclasses.replace(job, calibration_percentile=percentile))
    ensure_writable(out)
    setup = study_inputs(job)
    job, first, held = setup.job, setup.images, setup.held
    if held is None:
        raise ValueError(f"DATA {s.data!r} needs labelled class folders: the study scores each file on its held-out images")
    cells = []
    with tqdm(total=len(s.seeds) * len(s.percentiles), desc="calibration study", unit="file") as bar:
        for seed in s.seeds:
            images = first if seed == s.seeds[0] else load_images(dataclasses.replace(job, calibration_seed=seed), setup.size)
            for percentile in s.percentiles:
                tflite = recipes.convert(setup.model, "int8", images.calibration, job.io_type, job.calibration_workers,
                                         percentile)
                accuracy = labelled_accuracy(held, tflite)
                cells.append({"percentile": percentile, "seed": seed, "top1": accuracy["tflite_top1"],
                              "agreement": accuracy["top1_agreement"], "drop_points": accuracy["top1_drop_points"]})
                bar.update()
    keras_top1 = accuracy["keras_top1"]
    summary = summarize(cells, keras_top1)
    title = (f"{job.variant} int8: range estimator over {len(s.seeds)} calibration samples of {s.calibration} images "
             f"(Keras top-1 {100 * keras_top1:.2f}% on {accuracy['images']} held-out images of {s.data})")
    text = markdown(cells, summary, title)
    paths = [out / "calib_study.md", out / "calib_study.csv", out / "calib_study.json"]
    atomic_write(paths[0], text)
    atomic_write(paths[1], csv_text(cells, CELL_COLUMNS))
    atomic_write(paths[2], json.dumps({"title": title, "settings": dataclasses.asdict(s), "keras_top1": keras_top1,
                                       "held_out_images": accuracy["images"], "summary": summary, "cells": cells},
                                      indent=1))
    return paths, text


def _numbers(text: str, kind):
    try:
        return tuple(kind(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    d = StudySettings()
    p = argparse.ArgumentParser(prog="python -m studies.calib_study", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_trained_model_arguments(p, d.variant)
    p.add_argument("--calib", type=int, default=d.calibration, help="calibration images per sample (default 100)")
    p.add_argument("--percentiles", type=lambda t: _numbers(t, float), default=d.percentiles,
                   help="range estimators to compare; 100 = min/max (default 100,99,95,90)")
    p.add_argument("--seeds", type=lambda t: _numbers(t, int), default=d.seeds,
                   help="calibration samples: seeds of the shuffle they are drawn from (default 0,1,2)")
    p.add_argument("--out", help="folder for calib_study.{md,csv,json} (default: beside WEIGHTS)")
    a = p.parse_args(argv)
    settings = StudySettings(a.variant, a.weights, a.data, a.size, a.classes, a.calib, a.percentiles, a.seeds, a.out)

    def work() -> str:
        paths, text = run(settings)  # TensorFlow is imported only once the arguments parse
        return f"wrote {', '.join(map(str, paths))}\n{text}"

    return run_command(work)


if __name__ == "__main__":
    sys.exit(main())
