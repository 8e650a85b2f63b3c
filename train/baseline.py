"""A plain training loop, the yardstick `make train`'s defaults are measured against: the same
builder and input pipeline, Adam at 1e-3, one image size, no augmentation, no schedule, no
weight averaging, the last epoch kept; where the folder has test/, trained on train/ and the
validation split together (it chooses nothing) and scored on test/, else scored on the validation split.

    python -m train.baseline --data data/study/digits --variant b0 --size 64 --out runs/plain_b0
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import tf_keras as keras

import models
from core.cli import run_command
from imagedata.folders import LabelledFiles, scan

from . import outputs
from .data import labelled_batches


def train_plain(variant: str, data: str, out: str, size: int, epochs: int = 12, batch: int = 32,
                seed: int = 0) -> dict:
    splits = scan(data, seed=seed)
    classes = len(splits.class_names)
    # It chooses nothing, so validation images train too, unless they are all there is to score on.
    every = splits.train if splits.test is None else LabelledFiles(splits.train.files + splits.val.files,
                                                                    splits.train.labels + splits.val.labels)
    keras.utils.set_random_seed(seed)
    model = models.build(variant, input_size=size, num_classes=classes, classifier_activation="softmax")
    model.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy",
                  metrics=[keras.metrics.CategoricalAccuracy(name="top1")])
    started = time.perf_counter()
    model.fit(labelled_batches(every, size, classes, batch, shuffle_seed=seed), epochs=epochs, verbose=2)
    seconds = time.perf_counter() - started
    held = splits.held_out
    top1 = model.evaluate(labelled_batches(held, size, classes, batch), verbose=0, return_dict=True)["top1"]
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    outputs.save_keras(model, folder / "model.keras")
    outputs.write_labels(folder / "labels.txt", splits.class_names)
    result = {"variant": variant, "data": str(data), "size": size, "epochs": epochs, "batch": batch, "seed": seed,
              "train_images": len(every), "held_out": "test" if splits.test is not None else "val",
              "held_out_images": len(held), "top1": round(float(top1), 5), "train_seconds": round(seconds, 1)}
    outputs.write_json(folder / "baseline.json", result)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.baseline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--variant", default="b0")
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    return run_command(lambda: json.dumps(train_plain(a.variant, a.data, a.out, a.size, a.epochs, a.batch, a.seed)))


if __name__ == "__main__":
    sys.exit(main())
