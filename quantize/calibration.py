"""Images for calibration and validation, as uint8 RGB arrays the model takes as they are
(data.images fits each to the input), and what the converter's calibration sees of them."""
from __future__ import annotations

import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, UnidentifiedImageError
from PIL.Image import DecompressionBombError, DecompressionBombWarning
from tqdm import tqdm

from imagedata.decode import EXTENSIONS_HINT, fit_to_square, image_files

# Colour photographs that scikit-image ships (its other samples download on first use).
# `cat` is the same picture as `chelsea`; `colorwheel` and `logo` are synthetic.
BUILTIN_CALIBRATION_PHOTOS = ("astronaut", "coffee", "hubble_deep_field", "immunohistochemistry", "retina")
BUILTIN_VALIDATION_PHOTOS = ("chelsea", "rocket")  # held out: never seen by calibration


@dataclass
class ImageSet:
    """Calibration and held-out validation images, with where they came from."""

    calibration: np.ndarray  # (N, size, size, 3) uint8
    validation: np.ndarray  # (M, size, size, 3) uint8
    source: str
    skipped: list[str] = field(default_factory=list)  # files that could not be decoded
    class_names: list[str] = field(default_factory=list)  # from class sub-folders, if any

    def summary(self) -> dict:
        return {"source": self.source, "calibration_images": len(self.calibration),
                "validation_images": len(self.validation), "skipped_files": len(self.skipped),
                "skipped_examples": self.skipped[:5]}


def random_crops(photo: np.ndarray, count: int, size: int, rng: random.Random) -> list[np.ndarray]:
    """Square crops of 30-100% of the shorter side, at random places, half of them mirrored."""
    height, width = photo.shape[:2]
    crops = []
    for _ in range(count):
        side = int(min(height, width) * rng.uniform(0.3, 1.0))
        top, left = rng.randint(0, height - side), rng.randint(0, width - side)
        crop = Image.fromarray(photo[top:top + side, left:left + side]).resize((size, size), Image.BILINEAR)
        crops.append(np.asarray(crop)[:, ::-1] if rng.random() < 0.5 else np.asarray(crop))
    return crops


def _photo_crops(names: tuple[str, ...], total: int, size: int, rng: random.Random) -> np.ndarray:
    import skimage.data  # imported here: only the built-in default needs it

    if total == 0:
        return np.zeros((0, size, size, 3), np.uint8)

    photos = [getattr(skimage.data, name)()[..., :3] for name in names]
    per_photo = [total // len(photos) + (i < total % len(photos)) for i in range(len(photos))]
    crops = [c for photo, n in zip(photos, per_photo) for c in random_crops(photo, n, size, rng)]
    return np.stack(crops)


def builtin_images(size: int, calibration: int = 200, validation: int = 32, seed: int = 0) -> ImageSet:
    """Real photographs that scikit-image ships, cropped and mirrored into many samples:
    works offline with no data set. Validation crops come from other photos."""
    rng = random.Random(seed)
    return ImageSet(_photo_crops(BUILTIN_CALIBRATION_PHOTOS, calibration, size, rng),
                    _photo_crops(BUILTIN_VALIDATION_PHOTOS, validation, size, rng),
                    source="builtin: scikit-image photos " + ", ".join(BUILTIN_CALIBRATION_PHOTOS))


def folder_images(folder: str | Path, size: int, calibration: int = 200, validation: int = 32,
                  seed: int = 0) -> ImageSet:
    """Images from a folder tree (class sub-folders give label names), shuffled with `seed`;
    the first `validation` usable ones are held out, the next `calibration` calibrate."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"DATA folder {str(folder)!r} does not exist; give a folder of "
                                f"{EXTENSIONS_HINT} images, or leave DATA unset "
                                "for the built-in photos")
    files = image_files(folder)
    random.Random(seed).shuffle(files)
    wanted = calibration + validation
    decoded, skipped = [], []
    with tqdm(total=min(wanted, len(files)), desc="calibration images", unit="img") as progress, \
            warnings.catch_warnings():
        # Pillow decodes images up to 2x its pixel limit with a warning and refuses larger ones
        # (DecompressionBombError): those are skipped and counted like undecodable files.
        warnings.simplefilter("ignore", DecompressionBombWarning)
        for path in files:
            if len(decoded) == wanted:
                break
            try:
                with Image.open(path) as image:
                    decoded.append(fit_to_square(image, size))
            except (UnidentifiedImageError, DecompressionBombError, OSError, ValueError):
                skipped.append(str(path.relative_to(folder)))
            else:  # not in the try: a failed progress write (stderr gone) is no undecodable image
                progress.update()
    if not decoded:
        raise ValueError(f"DATA folder {str(folder)!r} has no usable image ({len(skipped)} undecodable "
                         f"files); it needs {EXTENSIONS_HINT} files")
    if calibration == 0:  # float precisions and QAT: every image validates
        held_out = len(decoded)
    else:
        held_out = min(validation, len(decoded) // 5) or (1 if len(decoded) > 1 else 0)
    images = np.stack(decoded)
    class_names = sorted({p.relative_to(folder).parts[0] for p in files if len(p.relative_to(folder).parts) > 1})
    calibrating = images[held_out:held_out + calibration] if calibration else images[held_out:]
    return ImageSet(calibrating, images[:held_out] if held_out else images[:1], f"folder: {folder}",
                    skipped, class_names)


def full_range_anchor(image: np.ndarray) -> np.ndarray:
    """The image contrast-stretched per channel to exactly 0..255.

    Calibration observes the input tensor's range from the data. Pinning it to [0, 255]
    makes a uint8 input's scale exactly 1 and zero point 0, so an app passes raw camera
    pixels without re-quantizing; photos alone rarely hit both ends in every channel.
    """
    low = image.min(axis=(0, 1), keepdims=True).astype(np.float32)
    high = image.max(axis=(0, 1), keepdims=True).astype(np.float32)
    stretched = (image - low) * (255.0 / np.maximum(high - low, 1.0))
    stretched = np.round(stretched).astype(np.uint8)
    stretched[0, 0], stretched[-1, -1] = 0, 255  # a flat channel cannot be stretched
    return stretched


def calibration_inputs(images: np.ndarray) -> list[np.ndarray]:
    """What calibration sees: a full-range anchor (see `full_range_anchor`), then the images."""
    return [full_range_anchor(images[0]), *images]


def representative_dataset(images: np.ndarray) -> Iterator[list[np.ndarray]]:
    """What TFLiteConverter.representative_dataset expects: one float32 batch of 1 per step."""
    for image in tqdm(calibration_inputs(images), desc="calibrating", unit="img"):
        yield [image[None].astype(np.float32)]
