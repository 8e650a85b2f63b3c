"""CSV tables as the project writes them: a header row, then one row per dict."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Sequence

from .files import atomic_write


def csv_text(rows: Iterable[dict], columns: Sequence[str]) -> str:
    """`rows` under `columns` (keys a row has beyond them are left out)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def write_csv(path: Path, rows: Iterable[dict], columns: Sequence[str]) -> None:
    atomic_write(Path(path), csv_text(rows, columns))
