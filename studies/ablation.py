"""python -m studies.ablation --data FOLDER: architecture tables compared under one recipe.

Each variant is trained with the same settings, budget and seed (`make train`, resumable:
rerunning the command skips finished runs), converted to int8 (`make tflite`, with the trained
weights and DATA for calibration) and timed on one CPU thread through the bench harness.
Writes OUT/ablation.md, ablation.csv, curves.csv (top-1 per variant and epoch: the plots' raw
results) and train_top1.png, val_top1.png (one line per variant). `--replot curves.csv` draws the
two plots again into OUT without training.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from core.artifacts import GHOST_PREFIX  # noqa: E402
from core.cli import run_command  # noqa: E402
from core.files import atomic_write  # noqa: E402
from core.plots import save_figure  # noqa: E402
from core.tables import write_csv  # noqa: E402

DEFAULT_VARIANTS = ("s", "s_all_mbconv", "s_all_fused", "s_half_depth", "s_two_stages_dropped")
COLUMNS = ("variant", "parameters", "gmacs", "epoch_s", "best_val_top1", "best_epoch", "int8_mb",
           "int8_val_top1", "int8_ms_1_thread", "note")
CURVE_COLUMNS = ("variant", "epoch", "train_top1", "val_top1", "budget")
PLOTS = {"train_top1.png": ("train_top1", "train top-1"), "val_top1.png": ("val_top1", "val top-1")}


def train_variant(variant: str, settings, out: Path) -> dict:
    from train.run import train

    return train(dataclasses.replace(settings, variant=variant, out=str(out / "runs" / variant)))


def int8_row(variant: str, settings, out: Path, classes: int) -> dict:
    """int8 file from the trained weights, its held-out top-1 and its 1-thread latency (p50)."""
    from convert.pipeline import Job, ValidationFailed, run
    from runtime.isolated import measure
    from runtime.timing import RunSettings

    job = Job(variant, "int8", settings.size, classes, weights=str(out / "runs" / variant / "model.keras"),
              data=settings.data, out=str(out / "artifacts"), gpu_check=False, max_top1_drop=100.0)
    try:
        result = run(job)
    except ValidationFailed as error:
        return {"note": f"int8 rejected: {str(error)[:120]}"}
    entry = result.manifest["artifacts"][result.tflite.name]
    record = measure(str(result.tflite), "cpu", 1, RunSettings(num_runs=30, warmup_runs=5))
    return {"int8_mb": round(entry["size_bytes"] / 1e6, 2),
            "int8_val_top1": round(entry["validation"]["accuracy"]["tflite_top1"], 4),
            "int8_ms_1_thread": round(record.latency.p50_ms, 2) if record.ok else None,
            "note": "" if record.ok else f"bench: {record.reason[:80]}"}


def study_row(variant: str, summary: dict, size: int, int8: dict) -> dict:
    from models import build
    from models.profile import count_macs

    model = build(variant, input_size=size, num_classes=len(summary["classes"]))
    epochs = _history(Path(summary["out"]))
    return {"variant": variant, "parameters": model.count_params(), "gmacs": round(count_macs(model) / 1e9, 3),
            "epoch_s": round(sum(r["epoch_s"] for r in epochs) / len(epochs), 1),
            "best_val_top1": summary["best"]["val_top1"], "best_epoch": summary["best"]["epoch"], **int8}


def _history(run: Path) -> list[dict]:
    with open(run / "history.csv") as file:
        return [{k: (float(v) if k not in ("frozen_backbone",) else v) for k, v in row.items()}
                for row in csv.DictReader(file)]


def curves(runs: dict[str, Path], budget: str) -> list[dict]:
    """Each variant's top-1 per epoch from its history.csv: the raw results of the plots."""
    return [{"variant": variant, "epoch": int(r["epoch"]), "train_top1": r["train_top1"], "val_top1": r["val_top1"],
             "budget": budget} for variant, run in runs.items() for r in _history(run)]


def load_curves(path: Path) -> list[dict]:
    """A saved curves.csv, checked: one line per variant and epoch, top-1 as fractions."""
    path = Path(path)
    try:
        with open(path, newline="") as file:
            rows = list(csv.DictReader(file))
        missing = [c for c in CURVE_COLUMNS if rows and c not in rows[0]]
        if not rows or missing:
            raise ValueError(f"no rows or no column {missing[0]!r}" if missing else "no rows")
        return [{**r, "epoch": int(r["epoch"]), "train_top1": float(r["train_top1"]),
                 "val_top1": float(r["val_top1"])} for r in rows]
    except FileNotFoundError:
        raise FileNotFoundError(f"{str(path)!r} is missing: make ablation writes curves.csv") from None
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise ValueError(f"{str(path)!r} is not a curves.csv of make ablation: {str(error)[:120]}") from None


def plot(path: Path, rows: list[dict], column: str, title: str) -> None:
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for variant in dict.fromkeys(r["variant"] for r in rows):  # in the study's order
        history = [r for r in rows if r["variant"] == variant]
        axis.plot([r["epoch"] for r in history], [float(r[column]) for r in history], label=variant)
    axis.set_xlabel("epoch")
    axis.set_ylabel(column.replace("_", " "))
    axis.set_title(f"{title} ({rows[0]['budget']})")
    axis.grid(alpha=0.3)
    axis.legend()
    save_figure(figure, path)


def plot_all(out: Path, rows: list[dict]) -> None:
    for name, (column, title) in PLOTS.items():
        plot(out / name, rows, column, title)


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join("" if r.get(c) is None else str(r.get(c)) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def study(settings, variants: list[str], out: Path, with_int8: bool = True) -> list[dict]:
    rows, runs = [], {}
    for variant in variants:
        summary = train_variant(variant, settings, out)
        runs[variant] = Path(summary["out"])
        size = settings.size
        int8 = int8_row(variant, settings, out, len(summary["classes"])) if with_int8 else {}
        rows.append(study_row(variant, summary, size, int8))
        write(out, rows, runs, settings)
    return rows


def write(out: Path, rows: list[dict], runs: dict[str, Path], settings) -> None:
    write_csv(out / "ablation.csv", rows, COLUMNS)
    budget = f"{settings.epochs} epochs at {settings.size} px, recipe {settings.recipe}, seed {settings.seed}"
    atomic_write(out / "ablation.md", f"# Ablation on {settings.data}\n\n{budget}\n\n" + markdown(rows))
    points = curves(runs, budget)
    write_csv(out / "curves.csv", points, CURVE_COLUMNS)
    plot_all(out, points)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m studies.ablation", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                   help="comma-separated variants (ghost_ names for the Ghost counterparts)")
    p.add_argument("--ghost", action="store_true", help="add the ghost_ counterpart of every variant")
    p.add_argument("--out", default="runs/ablation")
    p.add_argument("--no-int8", action="store_true", help="skip the int8 conversion and latency columns")
    p.add_argument("--replot", metavar="CURVES_CSV",
                   help="instead: train_top1.png and val_top1.png in OUT from a saved curves.csv, without training")
    own, rest = p.parse_known_args(argv)
    if own.replot:
        return run_command(lambda: plot_all(Path(own.out), load_curves(Path(own.replot))))
    from train.__main__ import parse  # TensorFlow: only where the study trains

    settings = parse(["--out", own.out, *rest])
    variants = [v for v in own.variants.split(",") if v]
    if own.ghost:
        variants += [f"{GHOST_PREFIX}{v}" for v in variants if not v.startswith(GHOST_PREFIX)]
    from train.plan import preflight

    def work() -> str:
        for variant in variants:  # every name and setting checked before the first hour of training
            preflight(dataclasses.replace(settings, variant=variant))
        return markdown(study(dataclasses.replace(settings, size=settings.size or 128), variants, Path(own.out),
                              not own.no_int8))

    return run_command(work)


if __name__ == "__main__":
    sys.exit(main())
