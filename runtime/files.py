"""Folders that are replaced whole or not at all."""
from __future__ import annotations

import os
import shutil
from pathlib import Path


def replace_folder(staging: Path, target: Path) -> None:
    """Moves a finished `staging` folder to `target` (a sibling), replacing what was there:
    readers see the old folder or the new one, never a mix (two renames on one filesystem)."""
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old)
    else:
        staging.rename(target)
