"""What a training run leaves in OUT: history.csv, curves.png, TensorBoard scalars, train.json,
labels.txt, the best model.keras, and the checkpoint a rerun resumes from.

Every file is replaced atomically, so a run killed at any moment leaves the previous
complete version of each file (and the last completed epoch's checkpoint) behind.
"""
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import tensorflow as tf  # noqa: E402

from core.files import atomic_write, replacing  # noqa: E402
from core.plots import save_figure  # noqa: E402
from core.tables import write_csv  # noqa: E402
from imagedata.labels import labels_text  # noqa: E402

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
    write_csv(path, rows, HISTORY_COLUMNS)


def write_labels(path: Path, class_names: list[str]) -> None:
    atomic_write(path, labels_text(class_names))


def save_keras(model, path: Path) -> None:
    """model.save, replacing `path` whole (Keras insists on the .keras suffix)."""
    with replacing(path, suffix=".keras") as temporary:
        model.save(temporary)


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
