"""What a trained model file says about itself, so that WEIGHTS= alone is enough.

`make train` saves model.keras as it ships: built for the variant (the model's name), at the
final training size (its input shape), for the folder's classes (its head), with labels.txt
beside it. Every stage that takes WEIGHTS (make tflite, qat, quant-report, calib-study) fills
VARIANT, SIZE, CLASSES and LABELS from there when they are unset, and refuses them in one line
when they contradict it. Read from the .keras archive's config.json, no model built, so a
contradiction is refused before any slow work.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_VARIANT = "ghost_s"  # the main job's, without WEIGHTS
DEFAULT_CLASSES = 1000  # ImageNet's head, without WEIGHTS or labels


@dataclass(frozen=True)
class TrainedFacts:
    path: str
    variant: str | None
    input_size: int | None
    num_classes: int | None
    labels: str | None  # labels.txt beside the file


def _layer(config: dict, name: str) -> dict | None:
    return next((layer for layer in config.get("config", {}).get("layers", []) if layer.get("name") == name), None)


def _registered(name: str | None) -> bool:
    import models  # TensorFlow: imported by every stage that takes WEIGHTS anyway

    try:
        models.get_variant(name or "")
    except ValueError:
        return False
    return True


def read_facts(weights: str | None) -> TrainedFacts | None:
    """The facts of a .keras file; None for 'imagenet', .h5 weights (no architecture inside) and
    files whose config cannot be read (the weights loader then says what is wrong with them)."""
    if not weights or not weights.endswith(".keras") or not Path(weights).is_file():
        return None
    try:
        with zipfile.ZipFile(weights) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return None
    name = config.get("config", {}).get("name")
    if not _registered(name):
        name = None  # not built by models.build (a keras.applications file, a renamed model): no variant to take
    image = _layer(config, "image") or next(iter(config.get("config", {}).get("layers", [])), {})
    shape = (image.get("config") or {}).get("batch_input_shape") or (image.get("config") or {}).get("batch_shape")
    head = _layer(config, "predictions")
    beside = Path(weights).parent / "labels.txt"
    return TrainedFacts(weights, name, int(shape[1]) if shape and shape[1] else None,
                        int(head["config"]["units"]) if head else None, str(beside) if beside.is_file() else None)


def _agreed(facts: TrainedFacts, setting: str, given, known):
    if given is not None and known is not None and given != known:
        raise ValueError(f"WEIGHTS {facts.path!r} was trained as {setting}={known}, but {setting}={given} was "
                         f"given; leave {setting} unset or set it to {known}")
    return given if given is not None else known


def reconcile(weights: str | None, variant: str | None, size: int | None, classes: int | None,
              labels: str | None = None) -> tuple[str, int | None, int | None, str | None]:
    """(variant, size, classes, labels) with what WEIGHTS says filling the unset ones; a given
    one that contradicts it is a ValueError. Without facts the variant defaults to the main
    job's; size and classes may stay None (the variant's resolution; DATA's or ImageNet's classes)."""
    facts = read_facts(weights)
    if facts is None:
        return variant or DEFAULT_VARIANT, size, classes, labels
    variant = _agreed(facts, "VARIANT", variant, facts.variant)
    size = _agreed(facts, "SIZE", size, facts.input_size)
    classes = _agreed(facts, "CLASSES", classes, facts.num_classes)
    return variant or DEFAULT_VARIANT, size, classes, labels or facts.labels
