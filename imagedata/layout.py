"""How a DATA folder is laid out: `DATA/<class>/...`, or `DATA/train/<class>/...` beside
`DATA/val/` and/or `DATA/test/` (held-out images that training and calibration never see)."""
from __future__ import annotations

from pathlib import Path

HELD_OUT_NAMES = ("val", "test")


def held_out_folders(root: Path) -> list[str]:
    """The held-out folders of a `train/` layout, in HELD_OUT_NAMES order; [] for a flat one."""
    if not (root / "train").is_dir():
        return []
    return [name for name in HELD_OUT_NAMES if (root / name).is_dir()]


def training_folder(data: str | Path) -> Path:
    """DATA, or DATA/train when DATA holds train/ beside val/ or test/."""
    root = Path(data)
    return root / "train" if held_out_folders(root) else root
