"""Names -> Variants -> models. `ghost_<name>` and `ghostlite_<name>` are the Ghost variants
(reference and int8-tuned design) of any registered table; the Ghost designs under study
(tables.STUDIED_DESIGNS, e.g. `ghostmb_<name>`) resolve the same way but are not listed."""
from __future__ import annotations

import contextlib
import dataclasses
from typing import Iterator

import tf_keras as keras

from core.artifacts import GHOST_PREFIX, GHOSTLITE_PREFIX

from .builder import build_variant
from .tables import ABLATIONS, GHOSTLITE, OFFICIAL, STUDIED_DESIGNS, GhostDesign, Variant

_TABLES: dict[str, Variant] = {**OFFICIAL, **ABLATIONS}
# Derived families: prefix -> the Ghost design every table gets under that prefix.
FAMILIES: dict[str, GhostDesign] = {GHOST_PREFIX: GhostDesign(), GHOSTLITE_PREFIX: GHOSTLITE}
_DESIGNS = {**FAMILIES, **STUDIED_DESIGNS}


def _family(name: str) -> str:
    """The derived-family prefix `name` starts with (shipped or studied), or ""."""
    return next((prefix for prefix in _DESIGNS if name.startswith(prefix)), "")


def base_name(name: str) -> str:
    """The standard table a name derives from: `ghostlite_s` -> `s`."""
    return name[len(_family(name)):]


def register(variant: Variant) -> Variant:
    """Makes a user's table buildable by name (and its Ghost twins as `ghost_<name>`,
    `ghostlite_<name>`)."""
    if prefix := _family(variant.name):
        raise ValueError(f"register the standard table; {prefix}{{name}} is derived from it")
    _TABLES[variant.name] = variant
    return variant


@contextlib.contextmanager
def registered(variant: Variant) -> Iterator[Variant]:
    """`variant` buildable by name while the block runs; afterwards the registry holds what it held
    before (a table of the same name comes back)."""
    before = _TABLES.get(variant.name)
    register(variant)
    try:
        yield variant
    finally:
        if before is None:
            _TABLES.pop(variant.name, None)
        else:
            _TABLES[variant.name] = before


def variant_names(include_ghost: bool = True) -> list[str]:
    names = list(_TABLES)
    return names + [prefix + n for prefix in FAMILIES for n in names] if include_ghost else names


def get_variant(name: str) -> Variant:
    prefix = _family(name)
    base_name = name[len(prefix):]
    if base_name not in _TABLES:
        raise ValueError(f"unknown variant {name!r}; valid: {', '.join(variant_names())}")
    base = _TABLES[base_name]
    return dataclasses.replace(base, name=name, ghost=_DESIGNS[prefix]) if prefix else base


def build(variant: str | Variant, weights: str | None = None, **options) -> keras.Model:
    """Builds a variant by name (or from a `Variant` table) as a tf-keras functional model.

    options: input_size (default: the variant's resolution), num_classes=1000,
    include_top=True, dropout, drop_path, activation="silu"|"hard_swish"|"relu6", se=True,
    classifier_activation="softmax"|None, batch_size (None, or 1 for static TFLite shapes),
    include_preprocessing=True.
    weights: None (random), "imagenet" (ported from keras.applications; needs the internet
    or keras' cache), or the path of a .keras / .h5 file saved from the same architecture.
    A .keras file also gives the edge switches (activation, se) it was trained with, unless
    they are passed; passed and different, they are refused.
    """
    table = get_variant(variant) if isinstance(variant, str) else variant
    source = None
    if weights is not None and str(weights).endswith(".keras"):
        from .weights import load_saved, saved_switches

        source = load_saved(str(weights))
        options = {**saved_switches(source), **options}  # trained with relu6: built with relu6
    model = build_variant(table, **options)
    if weights is not None:
        from .weights import load_weights  # keeps keras.applications out of plain builds

        load_weights(model, table.name, weights, source)
    return model
