"""A procedurally generated colour image-classification data set, for training demos offline.

    python -m train.demo_data --out data/demo        # OUT/{train,val}/<class>/<class>_00000.png

Eight classes: six shapes (disc, square, triangle, star, ring, cross) and two textures that fill
the whole image (stripes, checker). Everything a class does not define is random per image, so
only shape and texture separate the classes:

- colours: background and foreground colours are drawn per image, independent of the class and
  only constrained to contrast, so the mean colour of an image says nothing about its class
  (tests/train/test_demo_data.py checks that a mean-colour classifier stays near chance);
- background: flat, linear gradient or low-frequency colour blotches;
- shapes: centre, size (45-85% of the image side), rotation, and fill (solid, stripes or dots,
  in two colours that both contrast with the background, so the silhouette stays intact);
- textures: period, angle, phase and duty cycle;
- per-pixel Gaussian noise of a random strength.

Shapes are drawn at twice the resolution and downsampled, for anti-aliased edges. Learnable but
not trivial: on format 1 of this set (shapes 35-80%, finer textures, 250 per class) a 5-layer
CNN (250k parameters) at 64x64 reached 100% validation accuracy with flips and 90-degree
rotations, 94% without, while ghost_b0 from scratch confused checker with stripes at 64 px
(finer textures alias after its stride-2 stem); format 2 has coarser textures and larger shapes.
Mean colour is at chance.

Deterministic: each image has its own generator seeded from (seed, split, class, index), so
the same seed gives byte-identical files whatever the order or count of the others. A run
writes into a sibling `OUT.partial-<pid>` folder and renames it to OUT when complete, with the
parameters in OUT/demo.json: an existing OUT with that file is a finished set.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from core.files import remove_orphans, replace_folder

SHAPES = ("disc", "square", "triangle", "star", "ring", "cross")
FILLS = ("solid", "striped", "dotted")
CLASSES: tuple[str, ...] = (*SHAPES, "stripes", "checker")
# The harder set: a class is a shape *and* its fill, so fine texture inside the silhouette
# separates classes (what int8 blurs first).
FINE_CLASSES: tuple[str, ...] = tuple(f"{shape}_{fill}" for shape in SHAPES for fill in FILLS)
SETS = {"shapes": CLASSES, "fine": FINE_CLASSES}
SPLITS = ("train", "val")
META_FILE = "demo.json"
FORMAT_VERSION = 2  # bump when the images change, so an older set is not taken for a current one
SUPERSAMPLE = 2
MIN_CONTRAST = 140.0  # Euclidean RGB distance between a colour and the background's base colour
BACKGROUND_SPREAD = 35.0  # max deviation of gradient/blotch backgrounds from their base colour


# --- colours and backgrounds -------------------------------------------------------------------

def _colour(rng: np.random.Generator, away_from: tuple[np.ndarray, ...] = (),
            min_dist: tuple[float, ...] = ()) -> np.ndarray:
    """A uniform random RGB colour at least min_dist[i] from each away_from[i] (rejection sampling)."""
    while True:
        c = rng.uniform(0, 255, 3)
        if all(np.linalg.norm(c - a) >= d for a, d in zip(away_from, min_dist)):
            return c


@lru_cache(maxsize=8)
def _grid(side: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (x, y), each (side, side)."""
    y, x = np.mgrid[0:side, 0:side].astype(np.float64) + 0.5
    return x, y


def _background(rng: np.random.Generator, base: np.ndarray, side: int) -> np.ndarray:
    kind = rng.integers(3)
    if kind == 0:  # flat
        return np.broadcast_to(base, (side, side, 3)).astype(np.float64)
    if kind == 1:  # linear gradient through the base colour, in a random direction
        x, y = _grid(side)
        angle = rng.uniform(0, 2 * np.pi)
        t = ((x - side / 2) * np.cos(angle) + (y - side / 2) * np.sin(angle)) / (side / 2)
        delta = rng.uniform(-BACKGROUND_SPREAD, BACKGROUND_SPREAD, 3)
        return base + np.clip(t, -1, 1)[..., None] * delta
    # Low-frequency blotches: a few random colours near the base, smoothly upsampled.
    cells = int(rng.integers(3, 7))
    small = base + rng.uniform(-BACKGROUND_SPREAD, BACKGROUND_SPREAD, (cells, cells, 3))
    small = Image.fromarray(np.clip(small, 0, 255).round().astype(np.uint8), "RGB")
    return np.asarray(small.resize((side, side), Image.BICUBIC), dtype=np.float64)


# --- textures (boolean patterns over the whole canvas) -----------------------------------------

def _rotated(side: int, angle: float) -> tuple[np.ndarray, np.ndarray]:
    x, y = _grid(side)
    c, s = np.cos(angle), np.sin(angle)
    return x * c + y * s, -x * s + y * c


def _stripes(rng: np.random.Generator, side: int, period: float) -> np.ndarray:
    u, _ = _rotated(side, rng.uniform(0, np.pi))
    return (u / period + rng.uniform()) % 1 < rng.uniform(0.35, 0.65)


def _checker(rng: np.random.Generator, side: int, cell: float) -> np.ndarray:
    u, v = _rotated(side, rng.uniform(0, np.pi / 2))
    return (np.floor(u / cell + rng.uniform()) + np.floor(v / cell + rng.uniform())) % 2 == 1


def _dots(rng: np.random.Generator, side: int, period: float) -> np.ndarray:
    u, v = _rotated(side, rng.uniform(0, np.pi / 2))
    du = (u / period + rng.uniform()) % 1 - 0.5
    dv = (v / period + rng.uniform()) % 1 - 0.5
    return du * du + dv * dv < rng.uniform(0.2, 0.35) ** 2


# --- shapes (anti-aliasing comes from the final downsampling) ----------------------------------

def _polygon(cx: float, cy: float, radii: list[float], angle: float) -> list[tuple[float, float]]:
    """Vertices at evenly spaced angles, starting at `angle`, with the given distances from the centre."""
    step = 2 * np.pi / len(radii)
    return [(cx + r * np.cos(angle + i * step), cy + r * np.sin(angle + i * step)) for i, r in enumerate(radii)]


def _cross(cx: float, cy: float, r: float, angle: float, arm: float) -> list[tuple[float, float]]:
    length = r / np.hypot(1, arm)  # so the outer corners lie within the radius
    w = arm * length
    outline = [(w, length), (w, w), (length, w), (length, -w), (w, -w), (w, -length),
               (-w, -length), (-w, -w), (-length, -w), (-length, w), (-w, w), (-w, length)]
    c, s = np.cos(angle), np.sin(angle)
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in outline]


def _shape_mask(rng: np.random.Generator, name: str, side: int) -> np.ndarray:
    """A (side, side) float mask in [0, 1]: the shape at a random centre, size and rotation."""
    r = rng.uniform(0.45, 0.85) * side / 2  # circumradius: the shape spans 45-85% of the side
    cx, cy = rng.uniform(r, side - r, 2)
    angle = rng.uniform(0, 2 * np.pi)
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    if name in ("disc", "ring"):
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        if name == "ring":
            hole = r * rng.uniform(0.45, 0.65)
            draw.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=0)
    elif name == "square":
        draw.polygon(_polygon(cx, cy, [r] * 4, angle), fill=255)
    elif name == "triangle":
        draw.polygon(_polygon(cx, cy, [r] * 3, angle), fill=255)
    elif name == "star":
        draw.polygon(_polygon(cx, cy, [r, r * rng.uniform(0.38, 0.5)] * 5, angle), fill=255)
    elif name == "cross":
        draw.polygon(_cross(cx, cy, r, angle, rng.uniform(0.25, 0.38)), fill=255)
    else:
        raise ValueError(f"unknown shape {name!r}")
    return np.asarray(mask, dtype=np.float64) / 255


# --- one image ---------------------------------------------------------------------------------

def _render(name: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """One (size, size, 3) uint8 image of class `name` (a shape, a texture, or shape_fill)."""
    name, _, fill_name = name.partition("_")
    side = size * SUPERSAMPLE
    base = _colour(rng)
    canvas = _background(rng, base, side)
    fg = _colour(rng, (base,), (MIN_CONTRAST,))
    if name == "stripes":
        pattern = _stripes(rng, side, rng.uniform(0.12, 0.25) * side)
        canvas = np.where(pattern[..., None], fg, canvas)
    elif name == "checker":
        pattern = _checker(rng, side, rng.uniform(0.12, 0.22) * side)
        canvas = np.where(pattern[..., None], fg, canvas)
    else:
        # The second fill colour also contrasts with the background, so fill never breaks the silhouette.
        fill = np.broadcast_to(fg, (side, side, 3))
        kind = rng.integers(3)  # solid, stripes, dots: random, or the class's own in the fine set
        kind = FILLS.index(fill_name) if fill_name else kind
        if kind:
            fg2 = _colour(rng, (base, fg), (MIN_CONTRAST, 60.0))
            pattern = (_stripes if kind == 1 else _dots)(rng, side, rng.uniform(0.08, 0.14) * side)
            fill = np.where(pattern[..., None], fg2, fill)
        mask = _shape_mask(rng, name, side)[..., None]
        canvas = canvas * (1 - mask) + fill * mask
    image = canvas.reshape(size, SUPERSAMPLE, size, SUPERSAMPLE, 3).mean(axis=(1, 3))  # box downsampling
    image = image + rng.normal(0, rng.uniform(0, 10), image.shape)
    return np.clip(image, 0, 255).round().astype(np.uint8)


def render(name: str, size: int, seed: int, split: str, index: int) -> np.ndarray:
    """The image `generate` writes as OUT/<split>/<name>/<name>_<index>.png."""
    classes = FINE_CLASSES if name in FINE_CLASSES else CLASSES
    rng = np.random.default_rng([seed, SPLITS.index(split), classes.index(name), index])
    return _render(name, size, rng)


# --- the data set on disk ----------------------------------------------------------------------

def _parameters(train_per_class: int, val_per_class: int, size: int, seed: int, kind: str = "shapes") -> dict:
    if kind not in SETS:
        raise ValueError(f"unknown demo set {kind!r}; valid: {', '.join(SETS)}")
    return {"format": FORMAT_VERSION, "classes": list(SETS[kind]), "train_per_class": train_per_class,
            "val_per_class": val_per_class, "size": size, "seed": seed}


def _check(train_per_class: int, val_per_class: int, size: int, seed: int) -> None:
    if train_per_class < 1 or val_per_class < 1:
        raise ValueError("--train-per-class and --val-per-class must be at least 1")
    if size < 16:
        raise ValueError(f"--size must be at least 16 (got {size})")
    if seed < 0:
        raise ValueError(f"--seed must be non-negative (got {seed})")


def _summary(out: Path, params: dict, generated: bool) -> dict:
    n = len(params["classes"])
    return {"classes": params["classes"], "counts": {"train": params["train_per_class"] * n,
                                                 "val": params["val_per_class"] * n},
            "train_per_class": params["train_per_class"], "val_per_class": params["val_per_class"],
            "size": params["size"], "seed": params["seed"], "out": str(out), "generated": generated}


def _is_complete(out: Path, params: dict) -> bool:
    for split in SPLITS:
        for name in params["classes"]:
            if len(list((out / split / name).glob("*.png"))) != params[f"{split}_per_class"]:
                return False
    return True


def _existing(out: Path, params: dict) -> str:
    """What OUT holds: 'nothing', 'same' (finished set, these parameters) or 'other-demo' (ours, replaceable)."""
    if not out.exists():
        return "nothing"
    if not out.is_dir():
        raise ValueError(f"{out} exists and is not a folder: OUT must be a new folder or a previous demo set")
    entries = {p.name for p in out.iterdir()}
    if not entries:
        return "nothing"
    try:
        meta = json.loads((out / META_FILE).read_text())
    except (OSError, ValueError):
        meta = None
    if not isinstance(meta, dict) or not entries <= {*SPLITS, META_FILE}:
        raise ValueError(f"{out} exists and is not a demo set: OUT must be a new folder or a previous demo set")
    return "same" if meta == params and _is_complete(out, params) else "other-demo"


def _write_all(tmp: Path, params: dict) -> None:
    for split in SPLITS:
        for name in params["classes"]:
            folder = tmp / split / name
            folder.mkdir(parents=True)
            for i in range(params[f"{split}_per_class"]):
                image = render(name, params["size"], params["seed"], split, i)
                Image.fromarray(image, "RGB").save(folder / f"{name}_{i:05d}.png")
    (tmp / META_FILE).write_text(json.dumps(params, indent=1) + "\n")  # last: marks the set complete


def generate(out: str | Path, train_per_class: int = 400, val_per_class: int = 50, size: int = 96,
             seed: int = 0, kind: str = "shapes") -> dict:
    """Write the demo set to OUT (or find it already there); returns a summary.

    Raises ValueError for bad parameters or when OUT holds something other than a demo set.
    """
    _check(train_per_class, val_per_class, size, seed)
    out = Path(os.path.abspath(out))  # a name for the sibling temp folder, also for "." or "a/.."
    params = _parameters(train_per_class, val_per_class, size, seed, kind)
    state = _existing(out, params)
    if state == "same":
        print(f"{out} already holds this demo set ({size}px, seed {seed}); nothing to do")
        return _summary(out, params, generated=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(out.parent, f"{out.name}.partial-")  # the folders of killed runs
    tmp = out.with_name(f"{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _write_all(tmp, params)
        replace_folder(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if state == "other-demo":
        print(f"replaced the previous demo set in {out} (other parameters)")
    return _summary(out, params, generated=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m train.demo_data",
        description="Write a synthetic 8-class colour image data set (shapes and textures on random "
                    "colours, backgrounds and noise) as PNG files in class folders: "
                    "OUT/train/<class>/*.png and OUT/val/<class>/*.png. Deterministic for a given seed; "
                    "running it again with the same parameters does nothing.",
        epilog=f"classes: {', '.join(CLASSES)}; --set fine: {len(FINE_CLASSES)} classes, each shape solid, "
               "striped or dotted. "
               "Example: python -m train.demo_data --out data/demo --size 64 --train-per-class 100")
    parser.add_argument("--out", default="data/demo",
                        help="a new folder, or a previous demo set to reuse/replace (default: %(default)s)")
    parser.add_argument("--train-per-class", type=int, default=400, help="default: %(default)s")
    parser.add_argument("--val-per-class", type=int, default=50, help="default: %(default)s")
    parser.add_argument("--size", type=int, default=96, help="image side in pixels (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    parser.add_argument("--set", default="shapes", choices=tuple(SETS),
                        help="shapes (8 classes) or fine (18: shape x fill, harder) (default: %(default)s)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        summary = generate(args.out, args.train_per_class, args.val_per_class, args.size, args.seed, args.set)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if summary["generated"]:
        counts = summary["counts"]
        print(f"wrote {counts['train']} train + {counts['val']} val images ({len(summary['classes'])} classes, "
              f"{args.size}px) to {summary['out']} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
