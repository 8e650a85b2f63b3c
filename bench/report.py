"""The outputs: a Markdown table, CSV, JSON and PNG plots (latency; instructions on emulated ARM cores)."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from core import tables
from core.artifacts import standard_of
from core.files import atomic_write
from core.plots import save_figure
from runtime.records import Latency, Record, accelerator_label

from .machine import Machine

COLUMNS = [  # (header, formatter)
    ("model", lambda r: r.model),
    ("precision", lambda r: r.precision),
    ("backend", lambda r: r.backend),
    ("threads", lambda r: r.threads or "-"),
    ("accelerator", lambda r: accelerator_label(r)),
    ("size MB", lambda r: _num(r.file_size_bytes and r.file_size_bytes / 2**20, 2)),
    ("init ms", lambda r: _num(r.init_ms)),
    ("first ms", lambda r: _num(r.first_ms)),
    ("mean ms", lambda r: _lat(r, "mean_ms")),
    ("p50 ms", lambda r: _lat(r, "p50_ms")),
    ("p90 ms", lambda r: _lat(r, "p90_ms")),
    ("p99 ms", lambda r: _lat(r, "p99_ms")),
    ("std ms", lambda r: _lat(r, "std_ms")),
    ("runs", lambda r: r.latency.runs if r.latency else "-"),
    ("M instr/inf", lambda r: _num(_minstr(r), 1)),  # emulated ARM rows (qemu count) instead of times
    ("M L1D acc / miss / L2 miss", lambda r: _memory(r)),  # emulated ARM rows with caches=on (cache model)
    ("peak MB", lambda r: _num(r.peak_rss_mb, 0)),
    ("status", lambda r: r.status if r.ok else f"{r.status}: {r.reason}"),
]


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _minstr(record: Record) -> float | None:
    n = record.instructions_per_inference
    return None if n is None else n / 1e6


def _memory(record: Record) -> str:
    if record.l1d_accesses_per_inference is None:
        return "-"
    millions = (record.l1d_accesses_per_inference, record.l1d_misses_per_inference, record.l2_misses_per_inference)
    return " / ".join(f"{n / 1e6:.2f}" for n in millions)


def _lat(record: Record, field: str) -> str:
    return _num(getattr(record.latency, field)) if record.latency else "-"


def _cell(value) -> str:
    """Runtime errors span lines and may hold pipes; a table cell may not."""
    return " ".join(str(value).replace("|", "/").split())


def markdown(records: list[Record], machine: Machine | None = None) -> str:
    header = "| " + " | ".join(h for h, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    rows = ["| " + " | ".join(_cell(f(r)) for _, f in COLUMNS) + " |" for r in records]
    lines = [header, rule, *rows]
    if machine is not None:
        lines = [f"Machine: {machine.summary()} ({machine.system})", "", *lines]
    return "\n".join(lines) + "\n"


def _medians(records: list[Record]) -> dict[tuple, float]:
    """p50 latency by (variant, precision, backend, threads), measured rows only."""
    return {(r.variant, r.precision, r.backend, r.threads): lat.p50_ms for r, lat in _measured(records)}


def ratios(records: list[Record]) -> list[tuple[str, str, str, float]]:
    """The comparisons a reader makes with this table, from rows of this one run:
    (comparison, what, backend x threads, ratio), each ratio = slower / faster median,
    so above 1 means the first-named side wins:
      int8 vs fp32     fp32 p50 / int8 p50, same variant and backend
      ghost vs std     std p50 / ghost p50, same precision and backend (ghost_ and ghostlite_)
      TFLite vs TF     TensorFlow (Keras) p50 / .tflite p50, same variant and threads"""
    medians, found = _medians(records), []
    for (variant, precision, backend, threads), p50 in sorted(medians.items(), key=str):
        where = f"{backend} x{threads}" if threads else backend
        if precision == "int8" and (fp32 := medians.get((variant, "fp32", backend, threads))):
            found.append(("int8 vs fp32 (speed-up)", variant, where, fp32 / p50))
        if (standard := standard_of(variant)) and (std := medians.get((standard, precision, backend, threads))):
            found.append(("ghost vs standard (speed-up)", f"{variant} {precision}", where, std / p50))
        if backend != "tf" and (tf := medians.get((variant, "keras-fp32", "tf", threads))):
            found.append(("TFLite vs TensorFlow (speed-up)", f"{variant} {precision}", where, tf / p50))
    return found


def instruction_ratios(records: list[Record]) -> list[tuple[str, str, str, float]]:
    """The same comparisons on emulated ARM rows, from instructions per inference (standard /
    ghost, fp32 / int8): above 1, the first-named side executes fewer instructions."""
    counts = {(r.variant, r.precision, r.backend): r.instructions_per_inference
              for r in records if r.ok and r.instructions_per_inference}
    found = []
    for (variant, precision, backend), count in sorted(counts.items(), key=str):
        if precision == "int8" and (fp32 := counts.get((variant, "fp32", backend))):
            found.append(("int8 vs fp32 (instruction ratio)", variant, backend, fp32 / count))
        if (standard := standard_of(variant)) and (std := counts.get((standard, precision, backend))):
            found.append(("ghost vs standard (instruction ratio)", f"{variant} {precision}", backend, std / count))
    return found


def ratios_markdown(records: list[Record]) -> str:
    rows = ratios(records) + instruction_ratios(records)
    if not rows:
        return ""
    lines = ["| comparison | model | backend | ratio |", "|---|---|---|---:|"]
    lines += [f"| {name} | {what} | {where} | {value:.2f}x |" for name, what, where, value in rows]
    return "\n".join(lines) + "\n"


def document(records: list[Record], machine: Machine | None = None, kernels: dict | None = None) -> str:
    """results.md: the table, the speed-ups its rows allow, and the kernels each file's ops ran on."""
    text = markdown(records, machine)
    if speedups := ratios_markdown(records):
        text += ("\nSpeed-ups (median latency) and, on emulated ARM rows, instruction ratios, from this run "
                 "(above 1: the first-named side is faster, or executes fewer instructions):\n\n" + speedups)
    if kernels:
        text += ("\nXNNPACK kernels per op type on this CPU (perf, 1 thread; int8 speed hinges on them):\n\n"
                 + "\n".join(f"- {name}: " + (found if isinstance(found, str) else
                                               "; ".join(f"{op} {'/'.join(isas)}" for op, isas in found.items()))
                              for name, found in kernels.items()) + "\n")
    return text


def write_csv(records: list[Record], path: str) -> None:
    rows = [r.flat() for r in records]
    fields = list(rows[0]) if rows else [f.name for f in dataclasses.fields(Record)]
    tables.write_csv(Path(path), rows, fields)


def write_json(records: list[Record], path: str, meta: dict[str, Any]) -> None:
    atomic_write(Path(path), json.dumps({**meta, "records": [dataclasses.asdict(r) for r in records]}, indent=1))


def read_json(path: str) -> list[Record]:
    with open(path) as f:
        return [Record.from_dict(r) for r in json.load(f)["records"]]


def _series(record: Record) -> str:
    name = record.backend + (f" x{record.threads}" if record.threads else "")
    return name + (" (sw-emulated)" if record.software_emulated else "")


def _measured(records: list[Record]) -> list[tuple[Record, Latency]]:
    return [(r, r.latency) for r in records if r.ok and r.latency is not None]


def plot_latency_vs_size(records: list[Record], path: str) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [(r, lat) for r, lat in _measured(records) if r.file_size_bytes]
    if not points:
        return False
    fig, ax = plt.subplots(figsize=(9, 6))
    for series in sorted({_series(r) for r, _ in points}):
        mine = [(r, lat) for r, lat in points if _series(r) == series]
        ax.plot([r.file_size_bytes / 2**20 for r, _ in mine], [lat.p50_ms for _, lat in mine],
                "o", label=series)
        for r, lat in mine:
            ax.annotate(f"{r.variant} {r.precision}", (r.file_size_bytes / 2**20, lat.p50_ms),
                        fontsize=6, alpha=0.7, xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="file size (MB)", ylabel="median latency (ms, log)", yscale="log",
           title="Latency against file size, per backend")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, path, dpi=120)
    return True


def _grouped_bars(points: list[tuple[str, str, float]], path: str, ylabel: str, title: str) -> bool:
    """One bar per (group, series, value), groups along x, log y; sw-emulated series hatched."""
    if not points:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(group for group, _, _ in points))
    series = sorted({name for _, name, _ in points})
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(8, len(groups) * 0.9), 6))
    for i, name in enumerate(series):
        values = {group: value for group, s, value in points if s == name}
        xs = [g for g in range(len(groups)) if groups[g] in values]
        ax.bar([x + i * width for x in xs], [values[groups[x]] for x in xs], width, label=name,
               hatch="//" if "sw-emulated" in name else None)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(groups))], groups, rotation=45,
                  ha="right", fontsize=7)
    ax.set(ylabel=ylabel, yscale="log", title=title)
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    save_figure(fig, path, dpi=120)
    return True


def plot_bars(records: list[Record], path: str) -> bool:
    points = [(f"{r.variant} {r.precision}", _series(r), lat.p50_ms) for r, lat in _measured(records)]
    return _grouped_bars(points, path, "median latency (ms, log)", "Median latency by backend")


def plot_instructions(records: list[Record], path: str) -> bool:
    """The emulated ARM rows: instructions per inference by model, one series per core."""
    points = [(f"{r.variant} {r.precision}", f"{r.backend} ({r.emulated_core})", r.instructions_per_inference / 1e6)
              for r in records if r.ok and r.instructions_per_inference]
    return _grouped_bars(points, path, "million instructions per inference (log)",
                         "Emulated ARM cores: instructions per inference (qemu count, not a timing)")


def write_tables(records: list[Record], out_dir: str, machine: Machine,
                 meta: dict[str, Any]) -> dict[str, str]:
    """Writes results.{md,csv,json} (each atomically: the sweep rewrites them after every row)."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {kind: os.path.join(out_dir, name) for kind, name in [
        ("markdown", "results.md"), ("csv", "results.csv"), ("json", "results.json")]}
    atomic_write(Path(paths["markdown"]), document(records, machine, meta.get("kernels")))
    write_csv(records, paths["csv"])
    write_json(records, paths["json"], {"machine": dataclasses.asdict(machine), **meta})
    return paths


def write_all(records: list[Record], out_dir: str, machine: Machine,
              meta: dict[str, Any]) -> dict[str, str]:
    """Writes the tables and the plots; returns what was written, by kind."""
    paths = {**write_tables(records, out_dir, machine, meta),
             "scatter": os.path.join(out_dir, "latency_vs_size.png"),
             "bars": os.path.join(out_dir, "latency_bars.png"),
             "instructions": os.path.join(out_dir, "arm_instructions.png")}
    if not plot_latency_vs_size(records, paths["scatter"]):
        del paths["scatter"]
    if not plot_bars(records, paths["bars"]):
        del paths["bars"]
    if not plot_instructions(records, paths["instructions"]):
        del paths["instructions"]
    return paths
