"""Progressive learning, EfficientNetV2 paper (Tan & Le, 2021), Algorithm 1.

Training is split into stages; image size and regularisation (dropout, RandAugment magnitude,
mixup alpha) grow linearly from the first stage to the last. The paper's ImageNet ranges are
presets, their sizes scaled so that the last stage trains at the target size.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from models.registry import base_name

SIZE_MULTIPLE = 8  # stage sizes are rounded to this (and never below the network's total stride)


@dataclass(frozen=True)
class Progression:
    """(first stage, last stage) value of each quantity; `size` is the paper's ImageNet range."""

    size: tuple[int, int]
    randaug: tuple[float, float]
    mixup: tuple[float, float]
    dropout: tuple[float, float]


PRESETS = {
    # Paper, Table 6 (EfficientNetV2-S/M/L on ImageNet).
    "s": Progression(size=(128, 300), randaug=(5, 15), mixup=(0, 0), dropout=(0.1, 0.3)),
    "m": Progression(size=(128, 380), randaug=(5, 20), mixup=(0, 0.2), dropout=(0.1, 0.4)),
    "l": Progression(size=(128, 380), randaug=(5, 25), mixup=(0, 0.4), dropout=(0.1, 0.5)),
    # Small data sets at small sizes (the `small` recipe's): from 3/4 of the target size, mild
    # regularisation. On the demo set at 64 px the paper's S ranges start at 32 px, where
    # ghost_b0 stayed near 26% top-1 for 10 epochs (fixed 64 px: 51% after 5).
    "small": Progression(size=(96, 128), randaug=(0, 4), mixup=(0, 0), dropout=(0.1, 0.2)),
}


def scaled(progression: Progression, strength: float) -> Progression:
    """RandAugment magnitudes and mixup alphas times `strength` (0-1): the augmentation a data
    set of that size can carry (train.adapt). Sizes and dropout are left as they are."""
    return replace(progression, randaug=tuple(round(v * strength, 3) for v in progression.randaug),
                   mixup=tuple(round(v * strength, 3) for v in progression.mixup))


def preset_for(variant_name: str) -> str:
    """The preset of a variant's size class: B0-B3 and S (and ablations of S) -> s, M -> m, L/XL -> l."""
    base = base_name(variant_name).split("_")[0]
    return {"m": "m", "l": "l", "xl": "l"}.get(base, "s")


@dataclass(frozen=True)
class StageSettings:
    index: int  # 0-based
    first_epoch: int  # 0-based, inclusive
    end_epoch: int  # exclusive
    size: int
    randaug: float
    mixup: float
    dropout: float

    @property
    def epochs(self) -> int:
        return self.end_epoch - self.first_epoch


def _lerp(pair: tuple[float, float], t: float) -> float:
    return pair[0] + (pair[1] - pair[0]) * t


def _round_size(size: float, min_size: int) -> int:
    return max(min_size, int(size / SIZE_MULTIPLE + 0.5) * SIZE_MULTIPLE)  # nearest multiple, halves up


def plan(progression: Progression, target_size: int, epochs: int, stages: int,
         min_size: int = 32) -> list[StageSettings]:
    """Stage i of M trains at t = i / (M - 1) along every range; its first size is
    target * first/last of the preset (128/300 of the target for S). One stage = fixed-size
    training at the last stage's settings. Epochs are split as evenly as possible."""
    if epochs < 1:
        raise ValueError(f"EPOCHS must be at least 1, got {epochs}")
    if not 1 <= stages <= epochs:
        raise ValueError(f"progressive stages must be between 1 and EPOCHS ({epochs}), got {stages}")
    first_size = target_size * progression.size[0] / progression.size[1]
    settings, start = [], 0
    for i in range(stages):
        t = i / (stages - 1) if stages > 1 else 1.0
        length = epochs // stages + (i < epochs % stages)
        size = target_size if i == stages - 1 else _round_size(_lerp((first_size, target_size), t), min_size)
        settings.append(StageSettings(i, start, start + length, min(size, target_size),
                                      round(_lerp(progression.randaug, t), 3), round(_lerp(progression.mixup, t), 3),
                                      round(_lerp(progression.dropout, t), 3)))
        start += length
    return settings


def stage_of(settings: list[StageSettings], epoch: int) -> StageSettings:
    return next(s for s in settings if s.first_epoch <= epoch < s.end_epoch)
