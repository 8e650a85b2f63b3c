"""Image files as the model's uint8 RGB input. Our models carry their preprocessing inside the
graph, so "the way the model expects" is only geometry: shorter side resized to the input
size, then a centre crop."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
EXTENSIONS_HINT = "/".join(e[1:] for e in IMAGE_EXTENSIONS)  # "jpg/jpeg/png/bmp/gif", for messages


def _eight_bit(image: Image.Image) -> Image.Image:
    """16-bit grayscale (PIL modes I;16* and I) to 8 bits by the top byte: convert("RGB") would
    clip every value above 255 to white."""
    if not image.mode.startswith("I"):
        return image
    pixels = np.asarray(image).astype(np.int64)
    if image.mode != "I" or pixels.max() > 255:
        pixels >>= 8
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")


def fit_to_square(image: Image.Image, size: int) -> np.ndarray:
    """Resize the shorter side to `size` and centre-crop to size x size, as uint8 RGB. Large
    images are shrunk as they are decoded (JPEG at 1/2-1/8 scale), then by whole factors, so a
    huge photo costs little more memory than a small one."""
    image.draft("RGB", (size, size))
    if (factor := min(image.size) // (2 * size)) >= 2:
        image = image.reduce(factor)
    image = _eight_bit(image).convert("RGB")
    scale = size / min(image.size)
    width, height = max(size, round(image.width * scale)), max(size, round(image.height * scale))
    image = image.resize((width, height), Image.BILINEAR)
    left, top = (width - size) // 2, (height - size) // 2
    return np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.uint8)


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
