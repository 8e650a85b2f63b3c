"""What a training run is asked to do (Settings) and everything fixed before its first epoch
(Plan): the recipe with its overrides, the folder's splits, the progressive-learning stages, what
train.adapt decided from the data, the distribution strategy. Bad settings fail here, before the
folder scan where they can."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

import models
from imagedata.folders import Splits, scan

from . import adapt, progressive, recipes

# Settings added after runs existed: at their defaults they stay out of the fingerprint, so
# those runs still resume.
LATER_SETTINGS = ("activation", "se", "flip", "label_smoothing", "strength")


@dataclass
class Settings:
    variant: str = "ghost_b0"
    data: str = ""
    out: str = ""  # default: runs/<variant>
    size: int | None = None  # final image size; default: the variant's resolution
    epochs: int = 25
    batch: int = 32  # total over all devices; small data sets learn faster with more steps
    weights: str | None = None  # None (from scratch) | "imagenet" | a .keras of the same variant
    recipe: str = "small"
    progression: str = "auto"  # a preset name, "auto" (the recipe's, else by variant) or "fixed"
    stages: int = 4
    size_range: tuple[int, int] | None = None  # overrides the preset's first/last size (absolute)
    randaug: tuple[float, float] | None = None  # overrides (first stage, last stage)
    mixup: tuple[float, float] | None = None
    dropout: tuple[float, float] | None = None
    drop_path: float | None = None  # overrides the recipe's
    learning_rate: float | None = None  # peak, overrides the recipe's (already for this batch)
    ema: float | None = -1.0  # -1: the recipe's; None/0: off
    freeze_epochs: int = 0  # head-only epochs first (fine-tuning warm-up)
    classes: int | None = None  # checked against DATA's class folders when given
    val_fraction: float = 0.1
    crop_area: float = 0.8  # smallest random-resized crop (fraction of the image area)
    flip: str = "auto"  # horizontal flips: auto (train.adapt's mirror test decides) | on | off
    label_smoothing: float | None = None  # overrides the recipe's
    strength: float | None = None  # augmentation strength 0-1 (None: from the images per class, train.adapt)
    seed: int = 0
    mixed_precision: str = "auto"  # auto (on with a GPU) | on | off
    activation: str = "silu"  # edge switches (models.build): silu | hard_swish | relu6
    se: bool = True

    @property
    def out_path(self) -> Path:
        return Path(self.out or f"runs/{self.variant}")

    def fingerprint(self) -> dict:
        """What must be equal for a rerun to resume this run (OUT itself excluded; the edge
        switches only when set, so runs from before they existed still resume)."""
        defaults = Settings()
        return {k: v for k, v in dataclasses.asdict(self).items()
                if k != "out" and not (k in LATER_SETTINGS and v == getattr(defaults, k))}


@dataclass
class Plan:
    """Everything fixed before the first epoch."""

    settings: Settings
    splits: Splits
    recipe: recipes.Recipe
    stages: list[progressive.StageSettings]
    strategy: tf.distribute.Strategy
    mixed: bool
    flip: bool = True
    adaptation: dict = dataclasses.field(default_factory=dict)  # what train.adapt decided, from which figures

    @property
    def steps_per_epoch(self) -> int:
        return max(1, len(self.splits.train) // self.settings.batch)


def resolve_recipe(s: Settings) -> recipes.Recipe:
    if s.recipe not in recipes.RECIPES:
        raise ValueError(f"unknown recipe {s.recipe!r}; valid: {', '.join(recipes.RECIPES)}")
    recipe = recipes.RECIPES[s.recipe]
    overrides = {}
    if s.drop_path is not None:
        overrides["drop_path"] = s.drop_path
    if s.ema != -1.0:
        overrides["ema"] = s.ema or None
    if s.learning_rate is not None:
        overrides.update(learning_rate=s.learning_rate, reference_batch=s.batch)
    if s.label_smoothing is not None:
        overrides["label_smoothing"] = s.label_smoothing
    return dataclasses.replace(recipe, **overrides)


def resolve_progression(s: Settings, recipe: recipes.Recipe, target_size: int,
                        min_size: int, strength: float = 1.0) -> list[progressive.StageSettings]:
    """auto: the recipe's preset, else the variant's size class (the paper's S/M/L ranges); its
    RandAugment and mixup ranges scaled by `strength` unless given."""
    name = s.progression
    if name in ("auto", "fixed"):
        name = recipe.progression or progressive.preset_for(s.variant)
    if name not in progressive.PRESETS:
        raise ValueError(f"unknown progression {s.progression!r}; valid: auto, fixed, "
                         f"{', '.join(progressive.PRESETS)}")
    preset = progressive.scaled(progressive.PRESETS[name], strength)
    ranges = {k: v for k, v in (("randaug", s.randaug), ("mixup", s.mixup), ("dropout", s.dropout)) if v}
    preset = dataclasses.replace(preset, **ranges)
    if s.size_range:
        preset = dataclasses.replace(preset, size=s.size_range)
        target_size = s.size_range[1]
    stages = 1 if s.progression == "fixed" else s.stages
    return progressive.plan(preset, target_size, s.epochs, stages, min_size)


def preflight(s: Settings) -> tuple[models.Variant, int]:
    """Checks that need no data; raises a one-line ValueError/FileNotFoundError."""
    variant = models.get_variant(s.variant)
    size = variant.input_size(s.size)
    models.check_settings(variant, size, s.classes or 2, activation=s.activation)
    if s.epochs < 1:
        raise ValueError(f"EPOCHS must be at least 1, got {s.epochs}")
    if not 0 < s.crop_area <= 1:
        raise ValueError(f"the smallest crop area must be in (0, 1], got {s.crop_area}")
    if s.flip not in ("auto", "on", "off"):
        raise ValueError(f"FLIP must be auto, on or off, got {s.flip!r}")
    if s.label_smoothing is not None and not 0 <= s.label_smoothing < 1:
        raise ValueError(f"label smoothing must be in [0, 1), got {s.label_smoothing}")
    if s.strength is not None and not 0 <= s.strength <= 1:
        raise ValueError(f"the augmentation strength must be in [0, 1], got {s.strength}")
    if s.batch < 1:
        raise ValueError(f"BATCH must be at least 1, got {s.batch}")
    if not 0 <= s.freeze_epochs < s.epochs:
        raise ValueError(f"frozen-backbone epochs must be in [0, EPOCHS), got {s.freeze_epochs}")
    if s.weights and s.weights != "imagenet" and not Path(s.weights).is_file():
        raise FileNotFoundError(f"WEIGHTS file {s.weights!r} does not exist; give a .keras file of "
                                f"{s.variant}, 'imagenet', or leave WEIGHTS unset to train from scratch")
    if s.freeze_epochs and not s.weights:
        raise ValueError("frozen-backbone epochs need pretrained WEIGHTS (a random backbone is not worth freezing)")
    if not s.data:
        raise ValueError("DATA is required: a folder with one sub-folder of images per class (make demo-data makes one)")
    return variant, size


def strategy_for() -> tf.distribute.Strategy:
    """MultiWorkerMirrored from TF_CONFIG, Mirrored over several GPUs, else the default."""
    if os.environ.get("TF_CONFIG"):
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def adapt_to_data(s: Settings, splits: Splits) -> tuple[bool, float, dict]:
    """Flips and augmentation strength from the folder (train.adapt), unless set: (flip,
    strength, the record of both decisions for train.json)."""
    per_class = len(splits.train) / len(splits.class_names)
    strength = adapt.augmentation_strength(per_class) if s.strength is None else s.strength
    record = {"train_images_per_class": round(per_class, 1),
              "augmentation_strength": round(strength, 3) if s.strength is None else f"{s.strength} (set)"}
    if s.flip == "auto":
        mirror = adapt.mirror_test(splits.train, len(splits.class_names), s.seed)
        flip = adapt.flips_wanted(mirror)
        record["flip"] = {"on": flip, "decided_by": "mirror test", **mirror}
    else:
        flip = s.flip == "on"
        record["flip"] = {"on": flip, "decided_by": "FLIP setting"}
    return flip, strength, record


def make_plan(s: Settings, strategy: tf.distribute.Strategy | None = None) -> Plan:
    variant, size = preflight(s)
    recipe = resolve_recipe(s)
    resolve_progression(s, recipe, size, models.min_input_size(variant))  # bad settings fail before the scan
    splits = scan(s.data, s.val_fraction, s.seed)
    if s.classes is not None and s.classes != len(splits.class_names):
        raise ValueError(f"CLASSES={s.classes} but DATA has {len(splits.class_names)} class folders "
                         f"({', '.join(splits.class_names[:6])}{', ...' if len(splits.class_names) > 6 else ''}); "
                         "leave CLASSES unset or make them match")
    if s.batch > len(splits.train):
        raise ValueError(f"BATCH={s.batch} is larger than the {len(splits.train)} training images; use a smaller BATCH")
    strategy = strategy or strategy_for()
    gpu = bool(tf.config.list_logical_devices("GPU"))
    if s.mixed_precision not in ("auto", "on", "off"):
        raise ValueError(f"mixed precision must be auto, on or off, got {s.mixed_precision!r}")
    mixed = s.mixed_precision == "on" or (s.mixed_precision == "auto" and gpu)
    flip, strength, adaptation = adapt_to_data(s, splits)
    if s.ema == -1.0 and recipe.ema:  # the recipe's average, not one the user set
        steps = max(1, len(splits.train) // s.batch) * s.epochs
        decay = round(adapt.ema_decay(recipe.ema, steps), 5)
        recipe = dataclasses.replace(recipe, ema=decay or None)  # 0: too few steps to average over
        adaptation["ema"] = {"decay": decay, "training_steps": steps}
    stages = resolve_progression(s, recipe, size, models.min_input_size(variant), strength)
    return Plan(s, splits, recipe, stages, strategy, mixed, flip, adaptation)
