"""Defaults that follow the user's folder: what `make train` decides from the data before the
first epoch. Each decision goes into train.json with the figures it was made from, and each
has a switch that overrides it.

- Horizontal flips: right for photographs of things, wrong for digits, text, road signs and
  left/right classes. The mirror test asks the data: a nearest-class-mean classifier on small
  grey thumbnails is fitted on half of the training images and scores the other half as they
  are and mirrored. Where mirroring costs that classifier a good part of what it knows above
  chance, a mirrored image is another class's image, and flips are left off.
- Weight averaging: an average over ~1/(1 - decay) steps starts from the random initial weights
  and carries them for that long (tf-keras keeps no bias correction); a 75-step run at 0.99
  would still hold 47% of them at its end. The horizon is kept to a tenth of the run.
- Augmentation strength: RandAugment, mixup and dropout ranges scale with the images per class
  (EfficientNetV2 scales them with model size on ImageNet's 1,300 per class; with a hundred per
  class the same strength under-fits: train top-1 stays below held-out top-1).
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from imagedata.folders import LabelledFiles

THUMBNAIL = 16  # pixels a side: enough for a digit's or a sign's shape, cheap for any folder
PER_CLASS = 100  # images per class the mirror test reads at most
# Flips stay off when mirroring costs the centroid classifier more than this share of its
# accuracy above chance (digits: 0.74; LFW faces: 0.13).
MAX_MIRROR_DAMAGE = 0.4
# A centroid classifier less than this above chance tells nothing either way (photo crops,
# the demo set's rotated shapes: 0.10), and flips stay on as for any photograph.
MIN_INFORMATIVE = 0.25
# Images per class where the progression's full strength applies (ImageNet has ~1,300).
FULL_STRENGTH_PER_CLASS = 1000
NO_AUGMENTATION_PER_CLASS = 50


def _thumbnail(path: str) -> np.ndarray:
    with Image.open(path) as image:
        image.draft("L", (THUMBNAIL * 2, THUMBNAIL * 2))
        pixels = np.asarray(image.convert("L").resize((THUMBNAIL, THUMBNAIL), Image.BILINEAR), np.float32)
    pixels -= pixels.mean()
    return pixels / max(float(np.linalg.norm(pixels)), 1e-6)


def _sample(files: LabelledFiles, seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.asarray(files.labels)
    chosen = [i for label in np.unique(labels)
              for i in rng.permutation(np.flatnonzero(labels == label))[:PER_CLASS]]
    return [files.files[i] for i in chosen], labels[chosen]


def _centroid_top1(centroids: np.ndarray, images: np.ndarray, labels: np.ndarray) -> float:
    scores = images.reshape(len(images), -1) @ centroids.reshape(len(centroids), -1).T
    return float(np.mean(scores.argmax(1) == labels))


def mirror_test(files: LabelledFiles, num_classes: int, seed: int = 0) -> dict:
    """Centroid-classifier top-1 on held-back images as they are and mirrored, and what share of
    its accuracy above chance mirroring destroys (`mirror_damage`)."""
    paths, labels = _sample(files, seed)
    with ThreadPoolExecutor(8) as pool:  # PIL decodes with the GIL released
        images = np.stack(list(pool.map(_thumbnail, paths)))
    fit = np.random.default_rng(seed + 1).random(len(paths)) < 0.5
    centroids = np.stack([images[fit & (labels == c)].mean(0) if np.any(fit & (labels == c))
                          else np.zeros(images.shape[1:], np.float32) for c in range(num_classes)])
    held = ~fit
    plain = _centroid_top1(centroids, images[held], labels[held])
    mirrored = _centroid_top1(centroids, images[held][:, :, ::-1], labels[held])
    chance = 1 / num_classes
    informative = plain - chance >= MIN_INFORMATIVE
    damage = (plain - mirrored) / (plain - chance) if informative else 0.0
    return {"images": int(held.sum()), "centroid_top1": round(plain, 4), "mirrored_top1": round(mirrored, 4),
            "chance": round(chance, 4), "mirror_damage": round(damage, 3), "informative": informative}


EMA_HORIZON_SHARE = 0.1  # the average spans at most this share of all training steps


def ema_decay(recipe_decay: float, total_steps: int) -> float:
    """The recipe's decay, shortened so that its horizon is at most a tenth of the run."""
    return min(recipe_decay, max(0.0, 1 - 1 / max(EMA_HORIZON_SHARE * total_steps, 1)))


def flips_wanted(test: dict) -> bool:
    return test["mirror_damage"] <= MAX_MIRROR_DAMAGE


def augmentation_strength(images_per_class: float) -> float:
    """0 at <= 50 training images per class, 1 at >= 1,000, logarithmic in between."""
    if images_per_class <= NO_AUGMENTATION_PER_CLASS:
        return 0.0
    span = math.log(FULL_STRENGTH_PER_CLASS / NO_AUGMENTATION_PER_CLASS)
    return min(1.0, math.log(images_per_class / NO_AUGMENTATION_PER_CLASS) / span)
