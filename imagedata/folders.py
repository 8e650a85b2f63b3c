"""A user's labelled image folder -> class names and train/val file lists.

Layouts: `DATA/<class>/*.jpg` (a seeded, stratified held-out split is made, at least 25 images
of a class where that leaves it 75%), or `DATA/train/<class>/...` beside `DATA/val/<class>/...`
and/or `DATA/test/<class>/...`: val/ chooses the kept epoch (carved from train/ when absent),
test/ is scored once at the end and never chosen on.
Files TensorFlow cannot decode are found here, before training, and skipped with a count,
as `make tflite` does: a corrupt file must not stop an epoch halfway.
"""
from __future__ import annotations

import random
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from .decode import EXTENSIONS_HINT, image_files
from .layout import held_out_folders

# Formats tf.io.decode_image reads; PIL opens more (TIFF, WebP, ...) that TF would fail on.
DECODABLE_FORMATS = {"JPEG", "PNG", "BMP", "GIF"}


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
    val: LabelledFiles  # chooses the epoch that is kept
    layout: str
    skipped: list[str] = field(default_factory=list)  # undecodable files, relative to DATA
    test: LabelledFiles | None = None  # DATA/test/ beside DATA/train/: scored once, never chosen on

    @property
    def held_out(self) -> LabelledFiles:
        """The split that says how a kept model does: test/ where there is one, else val."""
        return self.test if self.test is not None else self.val

    def summary(self) -> dict:
        test = {} if self.test is None else {"test_images": len(self.test),
                                             "test_per_class": self.test.per_class(self.class_names)}
        return {"layout": self.layout, "classes": len(self.class_names), "train_images": len(self.train),
                "val_images": len(self.val), "skipped_files": len(self.skipped),
                "skipped_examples": self.skipped[:5], "train_per_class": self.train.per_class(self.class_names),
                "val_per_class": self.val.per_class(self.class_names), **test}


def _decoded_bytes(path: Path) -> int:
    """Size of the decoded RGB image, or 0 for a file TensorFlow would fail to decode. PIL's
    verify() passes a truncated JPEG (it reads no image data) that TensorFlow's decoder then
    fails on mid-epoch, so JPEG data is decoded, at 1/8 scale (libjpeg's DCT scaling still
    reads every byte, at a fraction of the cost). A PNG's verify() checks every chunk's CRC."""
    try:
        with Image.open(path) as image:
            if image.format not in DECODABLE_FORMATS:
                return 0
            size = image.width * image.height * 3
            if image.format == "PNG":
                image.verify()
            else:
                image.draft("RGB", (1, 1))  # JPEG only; other formats ignore it
                image.load()
            return size
    except Exception:  # PIL raises many types for broken files; any of them means "skip"
        return 0


def class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


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
    per_folder = [(folder, image_files(folder)) for folder in folders]
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


# The held-out split chooses the kept epoch: 10% of a class of 140 is 14 images, and 144 images
# in all put a 97% top-1 within +-2.8 points (95%), wider than the gaps between late epochs.
MIN_VAL_PER_CLASS = 25
MAX_VAL_FRACTION = 0.25  # the floor never takes more than this share of a class from training


def held_out_count(class_size: int, fraction: float) -> int:
    """`fraction` of a class, raised to MIN_VAL_PER_CLASS but to at most MAX_VAL_FRACTION of it
    (and always at least one image, one left to train on)."""
    wanted = max(round(class_size * fraction), min(MIN_VAL_PER_CLASS, round(class_size * MAX_VAL_FRACTION)))
    return min(class_size - 1, max(1, wanted))


def stratified_split(files: LabelledFiles, fraction: float, seed: int) -> tuple[LabelledFiles, LabelledFiles]:
    """Per class, a seeded shuffle; `held_out_count` images of each class (at least one when the
    class has two or more) are held out, so every class is scored."""
    train, val = LabelledFiles(), LabelledFiles()
    rng = random.Random(seed)
    for label in sorted(set(files.labels)):
        paths = [f for f, l in zip(files.files, files.labels) if l == label]
        rng.shuffle(paths)
        held = held_out_count(len(paths), fraction)
        val.files += paths[:held]
        val.labels += [label] * held
        train.files += paths[held:]
        train.decoded_bytes = files.decoded_bytes  # an upper bound is enough to decide on caching
        train.labels += [label] * (len(paths) - held)
    return train, val


def _warn_of_missing_classes(folder: Path, class_names: list[str], files: LabelledFiles) -> None:
    """A val/ or test/ without some classes is allowed (a class may be rare), but its top-1 then
    says nothing about them: said once, naming them."""
    present = set(files.labels)
    missing = [name for index, name in enumerate(class_names) if index not in present]
    if missing:
        print(f"warning: {folder} has no images of {len(missing)} of the {len(class_names)} classes "
              f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); its top-1 leaves them out",
              file=sys.stderr)


def scan(data: str | Path, val_fraction: float = 0.1, seed: int = 0) -> Splits:
    """Finds classes and files; raises a one-line ValueError/FileNotFoundError on bad data."""
    root = Path(data)
    if not root.is_dir():
        raise FileNotFoundError(f"DATA folder {str(root)!r} does not exist; give a folder with one "
                                f"sub-folder of {EXTENSIONS_HINT} images per class (make demo-data makes one)")
    if not 0 < val_fraction < 1:
        raise ValueError(f"the held-out fraction must be in (0, 1), got {val_fraction}")
    given = held_out_folders(root)
    if given:
        # train/ + val/ [+ test/]: as given. train/ + test/: val carved from train/, test/ kept for the end.
        class_names, every, skipped = read_tree(root / "train", data_root=root)
        held = {name: read_tree(root / name, class_names, data_root=root) for name in given}
        for name, (_, files, _) in held.items():
            _warn_of_missing_classes(root / name, class_names, files)
        skipped += [path for name in given for path in held[name][2]]
        test = held["test"][1] if "test" in held else None
        if "val" in held:
            train, val, layout = every, held["val"][1], "train/ and val/ folders"
        else:
            train, val = stratified_split(every, val_fraction, seed)
            layout = f"train/ (validation: {len(val)} of its images, seed {seed})"
        splits = Splits(class_names, train, val, layout + (", test/ scored at the end" if test else ""), skipped, test)
    else:
        class_names, every, skipped = read_tree(root)
        train, val = stratified_split(every, val_fraction, seed)
        splits = Splits(class_names, train, val, f"held-out split: {len(val)} images ({val_fraction:.0%} of each "
                        f"class, at least {MIN_VAL_PER_CLASS} where that leaves 75%), seed {seed}", skipped)
    if len(splits.class_names) < 2:
        found = ", ".join(splits.class_names) or "none"
        raise ValueError(f"DATA folder {str(root)!r} needs at least 2 class sub-folders (found: {found}); "
                         "put each class's images in a folder named after the class")
    if not len(splits.val):
        raise ValueError(f"no held-out images in {str(root)!r}: give each class at least 2 images")
    return splits
