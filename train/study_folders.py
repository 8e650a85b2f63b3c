"""Labelled image folders from real data that Python packages ship, for measuring `make train`
beyond the generated demo set (offline, seeded, train/ + test/ like a user's folder):

    python -m train.study_folders --out data/study      # OUT/{digits,photos,faces}/{train,test}/<class>/

- digits: scikit-learn's 1,797 handwritten digits (UCI, 8x8 grey), 10 classes, upscaled to 64 px,
  a stratified 80/20 split: 1,437 train, 360 test. Mirroring changes what a digit is.
- photos: crops of 10 colour and grey photographs that scikit-image ships, one class per
  photograph; train crops come from the left 65% of each photo and test crops from the right
  30%, so no test pixel was seen in training. 60 train, 20 test per class at 64 px.
- faces: scikit-image's LFW subset, 100 faces and 100 non-faces (25x25 grey) at 64 px, 80/20:
  a data set of 160 training images, where regularisation matters most.

Each set is written beside OUT as a partial folder and renamed when complete (core.files),
so an interrupted run never leaves a half set that a later run would take for a whole one.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from PIL import Image

from core.cli import run_command
from core.files import replace_folder

SIZE = 64
# Photographs scikit-image ships (no download); grey ones are stacked to RGB.
PHOTOS = ("astronaut", "brick", "camera", "chelsea", "coffee", "grass", "gravel", "hubble_deep_field", "retina",
          "rocket")
Sample = tuple[str, str, np.ndarray]  # (split, class, uint8 image)


def _stratified_test(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A boolean mask that holds out `fraction` of each class (seeded)."""
    rng, test = np.random.default_rng(seed), np.zeros(len(labels), bool)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        test[members[:round(len(members) * fraction)]] = True
    return test


def _upscaled(pixels: np.ndarray) -> np.ndarray:
    """Grey pixels in [0, 1] or [0, 255] -> SIZE x SIZE RGB uint8 (bicubic: smooth strokes)."""
    grey = np.clip(pixels / pixels.max() * 255, 0, 255).astype(np.uint8)
    return np.asarray(Image.fromarray(grey).resize((SIZE, SIZE), Image.BICUBIC).convert("RGB"))


def digits(seed: int) -> Iterator[Sample]:
    from sklearn.datasets import load_digits  # ships its data inside the package

    data = load_digits()
    test = _stratified_test(data.target, 0.2, seed)
    for image, label, held in zip(data.images, data.target, test):
        yield ("test" if held else "train"), str(label), _upscaled(image / 16.0)


def faces(seed: int) -> Iterator[Sample]:
    import skimage.data

    images = skimage.data.lfw_subset()  # 100 faces, then 100 non-faces
    labels = np.repeat([0, 1], 100)
    test = _stratified_test(labels, 0.2, seed)
    for image, label, held in zip(images, labels, test):
        yield ("test" if held else "train"), ("face", "not_face")[label], _upscaled(image)


def _crops(photo: np.ndarray, columns: tuple[float, float], count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Square crops of 15-35% of the shorter side whose left edge lies in `columns` (fractions of the width)."""
    height, width = photo.shape[:2]
    crops = []
    for _ in range(count):
        side = int(min(height, width) * rng.uniform(0.15, 0.35))
        low, high = int(columns[0] * width), max(int(columns[1] * width) - side, int(columns[0] * width) + 1)
        left, top = rng.integers(low, high), rng.integers(0, height - side)
        crop = Image.fromarray(photo[top:top + side, left:left + side]).resize((SIZE, SIZE), Image.BILINEAR)
        crops.append(np.asarray(crop))
    return crops


def photos(seed: int) -> Iterator[Sample]:
    import skimage.data

    rng = np.random.default_rng(seed)
    for name in PHOTOS:
        photo = getattr(skimage.data, name)()
        photo = np.stack([photo] * 3, -1) if photo.ndim == 2 else photo[..., :3]
        for split, columns, count in (("train", (0.0, 0.65), 60), ("test", (0.7, 1.0), 20)):
            for crop in _crops(photo, columns, count, rng):
                yield split, name, crop


SETS: dict[str, Callable[[int], Iterator[Sample]]] = {"digits": digits, "photos": photos, "faces": faces}


def write_set(out: Path, samples: Iterator[Sample]) -> dict[str, int]:
    counts: dict[str, int] = {}
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    for split, label, image in samples:
        folder = partial / split / label
        folder.mkdir(parents=True, exist_ok=True)
        index = counts[split] = counts.get(split, 0) + 1
        Image.fromarray(image).save(folder / f"{label}_{index:05d}.png")
    replace_folder(partial, out)
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.study_folders", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="data/study", help="parent folder (default data/study)")
    p.add_argument("--sets", default=",".join(SETS), help=f"comma-separated: {', '.join(SETS)}")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    names = [n for n in a.sets.split(",") if n]
    unknown = sorted(set(names) - set(SETS))
    if unknown:
        p.error(f"unknown set(s) {', '.join(unknown)}; valid: {', '.join(SETS)}")

    def build() -> str:
        from core.files import ensure_writable

        ensure_writable(Path(a.out))
        lines = []
        for name in names:
            counts = write_set(Path(a.out) / name, SETS[name](a.seed))
            lines.append(f"{Path(a.out) / name}: " + ", ".join(f"{n} {split}" for split, n in counts.items()))
        return "\n".join(lines)

    return run_command(build)


if __name__ == "__main__":
    sys.exit(main())
