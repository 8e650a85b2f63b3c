"""What a training run leaves in OUT: history.csv, curves.png, TensorBoard scalars, train.json,
labels.txt, the best model.keras, and the checkpoint a rerun resumes from.

Every file is replaced atomically, so a run killed at any moment leaves the previous
complete version of each file (and the last completed epoch's checkpoint) behind.
"""
from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import tensorflow as tf  # noqa: E402

from runtime.artifacts import atomic_write  # noqa: E402
from runtime.files import remove_orphans, write_failed  # noqa: E402

HISTORY_COLUMNS = ("epoch", "stage", "image_size", "randaug", "mixup", "dropout", "frozen_backbone", "loss",
                   "train_top1", "val_loss", "val_top1", "val_top5", "learning_rate", "train_images_per_s",
                   "epoch_s")


class RunLock:
    """An exclusive lock on OUT: a second run into the same folder fails at once. The kernel
    drops the lock when the process dies, so a killed run never leaves OUT locked."""

    def __init__(self, out: Path):
        self.path = out / ".lock"

    def __enter__(self):
        self.handle = open(self.path, "w")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise RuntimeError(f"another training run is writing to {str(self.path.parent)!r}; wait for it "
                               "or choose another OUT") from None
        self.handle.write(str(os.getpid()))
        self.handle.flush()
        return self

    def __exit__(self, *exc):
        self.handle.close()


def write_json(path: Path, data: dict) -> None:
    atomic_write(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_history(path: Path, rows: list[dict]) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, HISTORY_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, text.getvalue())


def write_labels(path: Path, class_names: list[str]) -> None:
    atomic_write(path, "\n".join(class_names) + "\n")


def save_keras(model, path: Path) -> None:
    """model.save into a temporary .keras beside `path`, then rename (Keras insists on the suffix).
    The temporary's name carries the pid: one a killed run left is removed by the next save."""
    prefix = f".{path.stem}."
    remove_orphans(path.parent, prefix, suffix=".keras")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{prefix}{os.getpid()}-", suffix=".keras")
    os.close(handle)
    try:
        model.save(temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; a model file is an ordinary file
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise write_failed(path, error) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def plot_curves(path: Path, rows: list[dict], title: str) -> None:
    """Accuracy and loss against epoch, train and val, with stage boundaries marked."""
    epochs = [r["epoch"] for r in rows]
    figure, (accuracy, loss) = plt.subplots(1, 2, figsize=(11, 4))
    accuracy.plot(epochs, [r["train_top1"] for r in rows], label="train top-1")
    accuracy.plot(epochs, [r["val_top1"] for r in rows], label="val top-1")
    loss.plot(epochs, [r["loss"] for r in rows], label="train loss")
    loss.plot(epochs, [r["val_loss"] for r in rows], label="val loss")
    boundaries = [r["epoch"] - 0.5 for previous, r in zip(rows, rows[1:])
                  if (r["stage"], r["frozen_backbone"]) != (previous["stage"], previous["frozen_backbone"])]
    for axis, name in ((accuracy, "top-1"), (loss, "loss")):
        for x in boundaries:
            axis.axvline(x, color="grey", linestyle=":", linewidth=1)
        axis.set_xlabel("epoch")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title + ("  (dotted: stage boundaries)" if boundaries else ""))
    save_figure(figure, path)


def save_figure(figure, path: Path) -> None:
    """A matplotlib figure as a PNG, written atomically, and the figure closed."""
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    atomic_write(path, buffer.getvalue())


class Scalars:
    """TensorBoard scalars, one point per epoch for each numeric history column."""

    def __init__(self, folder: Path):
        self.writer = tf.summary.create_file_writer(str(folder))

    def write(self, row: dict) -> None:
        with self.writer.as_default(step=row["epoch"]):
            for key, value in row.items():
                if key != "epoch" and isinstance(value, (int, float)) and not isinstance(value, bool):
                    tf.summary.scalar(key, value)
        self.writer.flush()
