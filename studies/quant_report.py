"""`make quant-report`: which layers does int8 hurt? Per-layer error of the post-training int8
conversion, measured by TensorFlow's QuantizationDebugger on images from DATA.

For every quantized op the debugger runs the float op on the same (dequantized) inputs and
compares: the error the op itself adds. It is ranked by RMSE over the output scale: rounding
alone gives 1/sqrt(12) = 0.29 steps; ops far above it (a range stretched by outliers, a
sigmoid gate, a depthwise channel with a tiny range) are where int8 loses accuracy and where
keeping float or int16 helps most.

Writes OUT/<variant>_quant_report.{md,csv,json,png}.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from convert.job import DEFAULT_CALIBRATION_PERCENTILE
from core.cli import add_trained_model_arguments, run_command
from core.files import atomic_write, ensure_writable
from core.tables import csv_text

ROUNDING_ONLY = 1 / math.sqrt(12)  # RMSE of uniform rounding, in quantization steps
COLUMNS = ("rank", "layer", "op", "rmse_over_scale", "max_abs_error", "mean_error", "scale", "tensor")


@dataclass
class ReportSettings:
    variant: str | None = None  # default: the one WEIGHTS was trained as
    weights: str = ""
    data: str = ""
    size: int | None = None
    classes: int | None = None
    images: int = 64  # debug images (each runs the float and the quantized op of every layer)
    calibration: int = 100
    float_counts: tuple[int, ...] = (0, 5, 10, 20)  # mixed-precision files: N worst ops in float
    percentile: float = DEFAULT_CALIBRATION_PERCENTILE  # the int8 range estimator (make tflite's CALIB_PERCENTILE)
    out: str = ""  # default: the folder of WEIGHTS
    seed: int = 0


def keras_layer(tensor_name: str, model_name: str) -> str:
    """'ghost_b0/block2a_expand_primary_activation/mul_1' -> 'block2a_expand_primary_activation'
    (fused names list several tensors separated by ';': the last one is the op's own)."""
    parts = tensor_name.split(";")[-1].split("/")
    if model_name in parts and parts.index(model_name) + 1 < len(parts):
        return parts[parts.index(model_name) + 1].removeprefix("quant_")
    return parts[0]


def debugger_for(model, calibration: np.ndarray, debug_images: np.ndarray, workers: int = 1,
                 percentile: float | None = None):
    """A QuantizationDebugger that has calibrated `model` (as make tflite: `percentile` ranges,
    None or 100 for min/max) and run the debug images."""
    from convert.recipes import debug_converter

    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=debug_converter(model, calibration, workers, percentile),
        debug_dataset=lambda: ([image[None].astype(np.float32)] for image in debug_images))
    debugger.run()
    return debugger


def layer_errors(debugger, model_name: str) -> list[dict]:
    """One row per quantized op, worst first."""
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    rows = []
    for row in csv.DictReader(io.StringIO(dump.getvalue())):
        scale = float(row["scale"])
        rows.append({"layer": keras_layer(row["tensor_name"], model_name), "op": row["op_name"],
                     "rmse_over_scale": math.sqrt(float(row["mean_squared_error"])) / scale if scale else math.inf,
                     "max_abs_error": float(row["max_abs_error"]), "mean_error": float(row["mean_error"]),
                     "scale": scale, "tensor": row["tensor_name"]})
    rows.sort(key=lambda r: -r["rmse_over_scale"])
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def mixed_precision_files(debugger, rows: list[dict], float_counts: tuple[int, ...]) -> dict[int, bytes]:
    """For each N: the int8 file with the N worst ops kept in float (the debugger's deny-list;
    the converter puts QUANTIZE/DEQUANTIZE around them). Float I/O, as the debugger converts."""
    files = {}
    for count in float_counts:
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(
            denylisted_nodes=[row["tensor"] for row in rows[:count]])
        files[count] = debugger.get_nondebug_quantized_model()
    return files


def fix_rows(files: dict[int, bytes], score, out: Path, name: str) -> list[dict]:
    """Size, held-out accuracy (`score(tflite) -> dict`) and 1-thread latency of each file."""
    from runtime.isolated import measure
    from runtime.timing import RunSettings

    table = []
    for count, tflite in files.items():
        path = out / f"{name}_{count}_float.tflite"
        atomic_write(path, tflite)
        accuracy = score(tflite) or {}
        record = measure(str(path), "cpu", 1, RunSettings(num_runs=30, warmup_runs=5))
        table.append({"float_ops_kept": count, "file": path.name, "size_mb": round(len(tflite) / 1e6, 3),
                      "top1": accuracy.get("tflite_top1"), "float_model_top1": accuracy.get("keras_top1"),
                      "agreement": accuracy.get("top1_agreement"),
                      "ms_1_thread": round(record.latency.p50_ms, 3) if record.ok else None})
    return table


def fixes_markdown(table: list[dict]) -> str:
    def pct(value):
        return "-" if value is None else f"{value:.2%}"

    lines = ["", "## Worst ops kept in float (mixed precision, float I/O)", "",
             f"Float model top-1: {pct(table[0]['float_model_top1'])}.", "",
             "| ops kept in float | top-1 | agreement with float | size (MB) | 1 thread (ms, p50) |",
             "|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['float_ops_kept']} | {pct(r['top1'])} | {pct(r['agreement'])} | {r['size_mb']:.2f} | "
              f"{r['ms_1_thread'] if r['ms_1_thread'] is not None else '-'} |" for r in table]
    return "\n".join(lines) + "\n"


def markdown(rows: list[dict], title: str, top: int = 20) -> str:
    lines = [f"# {title}", "",
             f"{len(rows)} quantized ops; rounding alone gives an RMSE of {ROUNDING_ONLY:.2f} steps. "
             f"Worst {min(top, len(rows))}:", "",
             "| rank | layer | op | RMSE / scale | max abs error | mean error |", "|---:|---|---|---:|---:|---:|"]
    lines += [f"| {r['rank']} | {r['layer']} | {r['op']} | {r['rmse_over_scale']:.2f} | {r['max_abs_error']:.3g} "
              f"| {r['mean_error']:+.3g} |" for r in rows[:top]]
    by_op = {}
    for r in rows:
        by_op.setdefault(r["op"], []).append(r["rmse_over_scale"])
    lines += ["", "| op type | ops | median RMSE / scale | worst |", "|---|---:|---:|---:|"]
    lines += [f"| {op} | {len(v)} | {np.median(v):.2f} | {max(v):.2f} |"
              for op, v in sorted(by_op.items(), key=lambda kv: -np.median(kv[1]))]
    return "\n".join(lines) + "\n"


def plot(path: Path, rows: list[dict], title: str, top: int = 30) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from core.plots import save_figure

    shown = rows[:top][::-1]
    figure, axes = plt.subplots(figsize=(8, 0.25 * len(shown) + 1.5))
    axes.barh([f"{r['layer']} ({r['op']})" for r in shown], [r["rmse_over_scale"] for r in shown])
    axes.axvline(ROUNDING_ONLY, color="grey", linestyle="--", label="rounding only")
    axes.set_xlabel("RMSE / output scale (quantization steps)")
    axes.set_title(title)
    axes.legend(loc="lower right")
    axes.tick_params(axis="y", labelsize=7)
    save_figure(figure, path)


def write(rows: list[dict], out: Path, name: str, title: str, fixes: list[dict]) -> list[Path]:

    paths = [out / f"{name}.{ext}" for ext in ("md", "csv", "json", "png")]
    atomic_write(paths[0], markdown(rows, title) + (fixes_markdown(fixes) if fixes else ""))
    atomic_write(paths[1], csv_text(rows, COLUMNS))
    atomic_write(paths[2], json.dumps({"title": title, "layers": rows, "mixed_precision": fixes}, indent=1))
    plot(paths[3], rows, title)
    return paths


def run(s: ReportSettings) -> list[Path]:
    from convert.job import Job
    from convert.acceptance import labelled_accuracy
    from convert.inputs import study_inputs

    if not s.weights or not Path(s.weights).is_file():
        raise FileNotFoundError(f"WEIGHTS {s.weights!r} is not a file: give the trained .keras (make train's model.keras)")
    out = Path(s.out) if s.out else Path(s.weights).parent
    job = Job(s.variant, "int8", s.size, s.classes, s.weights, s.data, str(out), calibration=s.calibration,
              calibration_percentile=s.percentile, calibration_seed=s.seed, gpu_check=False, legacy_check=False)
    ensure_writable(out)
    setup = study_inputs(job)  # make tflite's calibration images, ranges and float model
    # Debug images from the held-out split (never calibrated on); without labels, make tflite's validation images.
    debug_images = setup.held.images[:s.images] if setup.held else setup.images.validation
    debugger = debugger_for(setup.model, setup.images.calibration, debug_images, job.calibration_workers,
                            job.calibration_percentile)
    rows = layer_errors(debugger, setup.model.name)
    out.mkdir(parents=True, exist_ok=True)
    fixes = []
    if s.float_counts:
        files = mixed_precision_files(debugger, rows, s.float_counts)
        fixes = fix_rows(files, lambda tflite: labelled_accuracy(setup.held, tflite) if setup.held else None, out,
                         f"{setup.job.variant}_int8")
    title = (f"{setup.job.variant} int8 per-layer error ({len(debug_images)} images from {s.data}; "
             f"ranges as make tflite's: CALIB_PERCENTILE={job.calibration_percentile:g})")
    return write(rows, out, f"{setup.job.variant}_quant_report", title, fixes)


def _count(text: str) -> int:
    """--images, --calib: a whole number of images, at least 1 (0 would write an empty report)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _float_counts(text: str) -> tuple[int, ...]:
    """--float: comma-separated numbers of worst ops kept in float, each >= 0; empty: none."""
    try:
        counts = tuple(int(n) for n in text.split(",") if n.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers like 0,5,10, got {text!r}") from None
    if any(n < 0 for n in counts):
        raise argparse.ArgumentTypeError(f"op counts must be 0 or more, got {text!r}")
    return counts


def main(argv: list[str] | None = None) -> int:

    d = ReportSettings()
    p = argparse.ArgumentParser(prog="python -m studies.quant_report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_trained_model_arguments(p, d.variant)
    p.add_argument("--images", type=_count, default=d.images, help=f"debug images (default {d.images})")
    p.add_argument("--calib", type=_count, default=d.calibration)
    p.add_argument("--out", default=d.out, help="folder for the report (default: beside WEIGHTS)")
    p.add_argument("--float", type=_float_counts, default=d.float_counts,
                   help="mixed-precision files with the N worst ops in float, scored and timed "
                        "(default 0,5,10,20; empty: none)")
    p.add_argument("--calib-percentile", type=float, default=d.percentile,
                   help=f"int8 range estimator, as make tflite's (default {d.percentile:g}; 100 = min/max)")
    a = p.parse_args(argv)
    settings = ReportSettings(a.variant, a.weights, a.data, a.size, a.classes, a.images, a.calib, a.float,
                              a.calib_percentile, a.out)

    def work() -> str:
        paths = run(settings)
        return f"wrote {', '.join(map(str, paths))}\n{paths[0].read_text()}"

    return run_command(work)


if __name__ == "__main__":
    sys.exit(main())
