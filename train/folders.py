"""A user's labelled image folder -> class names and train/val file lists.

Layouts: `DATA/<class>/*.jpg` (a seeded, stratified held-out split is made), or
`DATA/train/<class>/...` beside `DATA/val/<class>/...` (or `DATA/test/...`), used as given.
Files TensorFlow cannot decode are found here, before training, and skipped with a count,
as `make tflite` does: a corrupt file must not stop an epoch halfway.
"""
from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from quantize.calibration import IMAGE_EXTENSIONS

# Formats tf.io.decode_image reads; PIL opens more (TIFF, WebP, ...) that TF would fail on.
DECODABLE_FORMATS = {"JPEG", "PNG", "BMP", "GIF"}
HELD_OUT_NAMES = ("val", "test")
EXTENSIONS_HINT = "/".join(e[1:] for e in IMAGE_EXTENSIONS)


@dataclass
class LabelledFiles:
    files: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    decoded_bytes: int = 0  # uint8 RGB bytes of all images decoded (from their headers)

    def __len__(self) -> int:
        return len(self.files)

    def per_class(self, class_names: list[str]) -> dict[str, int]:
        counts = dict.fromkeys(class_names, 0)
        for label in self.labels:
            counts[class_names[label]] += 1
        return counts


@dataclass
class Splits:
    class_names: list[str]
    train: LabelledFiles
    val: LabelledFiles
    layout: str
    skipped: list[str] = field(default_factory=list)  # undecodable files, relative to DATA

    def summary(self) -> dict:
        return {"layout": self.layout, "classes": len(self.class_names), "train_images": len(self.train),
                "val_images": len(self.val), "skipped_files": len(self.skipped),
                "skipped_examples": self.skipped[:5], "train_per_class": self.train.per_class(self.class_names),
                "val_per_class": self.val.per_class(self.class_names)}


def _decoded_bytes(path: Path) -> int:
    """Size of the decoded RGB image, or 0 for a file TensorFlow would fail to decode."""
    try:
        with Image.open(path) as image:
            if image.format not in DECODABLE_FORMATS:
                return 0
            image.verify()
            return image.width * image.height * 3
    except Exception:  # PIL raises many types for broken files; any of them means "skip"
        return 0


def class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _candidates(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def read_tree(root: Path, class_names: list[str] | None = None,
              data_root: Path | None = None) -> tuple[list[str], LabelledFiles, list[str]]:
    """Class folders under `root` -> (class names, decodable files with labels, skipped files).
    With `class_names`, folders must be among them (a held-out tree of a train tree)."""
    data_root = data_root or root
    if not root.is_dir():
        raise FileNotFoundError(f"DATA folder {str(root)!r} does not exist; give a folder with one "
                                f"sub-folder of {EXTENSIONS_HINT} images per class")
    folders = class_folders(root)
    names = [f.name for f in folders]
    if class_names is None:
        class_names = names
    unknown = sorted(set(names) - set(class_names))
    if unknown:
        raise ValueError(f"{root} has classes that the training folder lacks: {', '.join(unknown[:5])}; "
                         "held-out class folders must match the training ones")
    per_folder = [(folder, _candidates(folder)) for folder in folders]
    every_file = [path for _, paths in per_folder for path in paths]
    with ThreadPoolExecutor(8) as pool:  # PIL's file reads release the GIL
        sizes = dict(zip(every_file, pool.map(_decoded_bytes, every_file)))
    result, skipped = LabelledFiles(), []
    for folder, paths in per_folder:
        usable = [p for p in paths if sizes[p]]
        skipped += [str(p.relative_to(data_root)) for p in paths if not sizes[p]]
        if not usable:
            raise ValueError(f"class folder {str(folder.relative_to(data_root))!r} has no usable image "
                             f"({len(paths)} {EXTENSIONS_HINT} files, all undecodable); add images or remove it")
        result.files += [str(p) for p in usable]
        result.labels += [class_names.index(folder.name)] * len(usable)
        result.decoded_bytes += sum(sizes[p] for p in usable)
    return class_names, result, skipped


def stratified_split(files: LabelledFiles, fraction: float, seed: int) -> tuple[LabelledFiles, LabelledFiles]:
    """Per class, a seeded shuffle; `fraction` of each class (at least one image when the class
    has two or more) is held out, so every class is scored."""
    train, val = LabelledFiles(), LabelledFiles()
    rng = random.Random(seed)
    for label in sorted(set(files.labels)):
        paths = [f for f, l in zip(files.files, files.labels) if l == label]
        rng.shuffle(paths)
        held = min(len(paths) - 1, max(1, round(len(paths) * fraction)))
        val.files += paths[:held]
        val.labels += [label] * held
        train.files += paths[held:]
        train.decoded_bytes = files.decoded_bytes  # an upper bound is enough to decide on caching
        train.labels += [label] * (len(paths) - held)
    return train, val


def scan(data: str | Path, val_fraction: float = 0.1, seed: int = 0) -> Splits:
    """Finds classes and files; raises a one-line ValueError/FileNotFoundError on bad data."""
    root = Path(data)
    if not root.is_dir():
        raise FileNotFoundError(f"DATA folder {str(root)!r} does not exist; give a folder with one "
                                f"sub-folder of {EXTENSIONS_HINT} images per class (make demo-data makes one)")
    held_out = next((root / n for n in HELD_OUT_NAMES if (root / n).is_dir()), None)
    if (root / "train").is_dir() and held_out is not None:
        class_names, train, skipped = read_tree(root / "train", data_root=root)
        _, val, skipped_val = read_tree(held_out, class_names, data_root=root)
        splits = Splits(class_names, train, val, f"train/ and {held_out.name}/ folders", skipped + skipped_val)
    else:
        class_names, every, skipped = read_tree(root)
        if not 0 < val_fraction < 1:
            raise ValueError(f"the held-out fraction must be in (0, 1), got {val_fraction}")
        train, val = stratified_split(every, val_fraction, seed)
        splits = Splits(class_names, train, val, f"held-out split: {val_fraction:.0%} of each class, seed {seed}",
                        skipped)
    if len(splits.class_names) < 2:
        found = ", ".join(splits.class_names) or "none"
        raise ValueError(f"DATA folder {str(root)!r} needs at least 2 class sub-folders (found: {found}); "
                         "put each class's images in a folder named after the class")
    if not len(splits.val):
        raise ValueError(f"no held-out images in {str(root)!r}: give each class at least 2 images")
    return splits
