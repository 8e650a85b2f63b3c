"""python -m studies.figures [--raw docs/figures/raw] [--out docs/figures]: every figure in docs/
drawn again from its committed raw results, without measuring or training (make figures).

Each figure's raw file is what its command writes (make profile's profile.json, make ablation's
curves.csv); to re-measure one, run that command and copy its file over the raw one.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.profile import load, plot as plot_profile
from core.cli import run_command
from core.environments import REPO_ROOT
from studies.ablation import PLOTS, load_curves, plot as plot_curves


@dataclass(frozen=True)
class Figure:
    png: str  # in docs/figures
    raw: str  # in docs/figures/raw
    made_by: str  # the command whose output `raw` is


def _profile(raw: Path, png: Path) -> None:
    plot_profile(png, load(raw))


def _ablation(column: str) -> Callable[[Path, Path], None]:
    def draw(raw: Path, png: Path) -> None:
        title = next(t for c, t in PLOTS.values() if c == column)
        plot_curves(png, load_curves(raw), column, title)
    return draw


PROFILE = "make profile, as profile.json"
ABLATION = "make ablation, as curves.csv"
FIGURES: dict[Figure, Callable[[Path, Path], None]] = {
    Figure("profile_s_ghost_ghostlite_int8.png", "profile_s_ghost_ghostlite_int8.json", PROFILE): _profile,
    Figure("profile_s_ghostnoact_int8_amx.png", "profile_s_ghostnoact_int8_amx.json", PROFILE): _profile,
    Figure("profile_s_ghostnoact_int8_avx2_masked.png", "profile_s_ghostnoact_int8_avx2_masked.json", PROFILE): _profile,
    Figure("ablation_val_top1.png", "ablation_curves.csv", ABLATION): _ablation("val_top1"),
    Figure("ablation_train_top1.png", "ablation_curves.csv", ABLATION): _ablation("train_top1"),
}
FIGURES_DIR = Path(REPO_ROOT) / "docs" / "figures"


def regenerate(raw: Path = FIGURES_DIR / "raw", out: Path = FIGURES_DIR) -> str:
    """Every PNG of FIGURES in `out` from its raw file in `raw`; all raw files are checked first,
    so a missing one leaves every figure as it was."""
    for figure in FIGURES:
        if not (raw / figure.raw).is_file():
            raise FileNotFoundError(f"{str(raw / figure.raw)!r} is missing: the raw results of {figure.png} "
                                    f"(written by {figure.made_by})")
    for figure, draw in FIGURES.items():
        draw(raw / figure.raw, out / figure.png)
    return "\n".join(f"{os.path.relpath(out / figure.png)} <- {os.path.relpath(raw / figure.raw)}" for figure in FIGURES)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m studies.figures", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--raw", default=str(FIGURES_DIR / "raw"), help="folder of the raw results")
    p.add_argument("--out", default=str(FIGURES_DIR), help="folder the PNGs are written to")
    a = p.parse_args(argv)
    return run_command(lambda: regenerate(Path(a.raw), Path(a.out)))


if __name__ == "__main__":
    sys.exit(main())
