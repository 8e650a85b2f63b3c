"""The end of every plot: a matplotlib figure saved as a PNG, replaced whole, then closed."""
from __future__ import annotations

import io
from pathlib import Path

from .files import atomic_write


def save_figure(figure, path: Path, dpi: int = 100) -> None:
    """Lays `figure` out, writes it to `path` as a PNG and closes it (an open figure stays in
    pyplot's memory for the life of the process)."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    atomic_write(Path(path), buffer.getvalue())
