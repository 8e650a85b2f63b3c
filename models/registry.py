"""Names -> Variants -> models. `ghost_<name>` is the Ghost variant of any registered table."""
from __future__ import annotations

import dataclasses

import tf_keras as keras

from runtime.artifacts import GHOST_PREFIX

from .builder import build_variant
from .tables import ABLATIONS, OFFICIAL, Variant

_TABLES: dict[str, Variant] = {**OFFICIAL, **ABLATIONS}


def register(variant: Variant) -> Variant:
    """Makes a user's table buildable by name (and its Ghost twin as `ghost_<name>`)."""
    if variant.name.startswith(GHOST_PREFIX):
        raise ValueError(f"register the standard table; {GHOST_PREFIX}{{name}} is derived from it")
    _TABLES[variant.name] = variant
    return variant


def variant_names(include_ghost: bool = True) -> list[str]:
    names = list(_TABLES)
    return names + [GHOST_PREFIX + n for n in names] if include_ghost else names


def get_variant(name: str) -> Variant:
    base_name = name[len(GHOST_PREFIX):] if name.startswith(GHOST_PREFIX) else name
    if base_name not in _TABLES:
        raise ValueError(f"unknown variant {name!r}; valid: {', '.join(variant_names())}")
    base = _TABLES[base_name]
    return dataclasses.replace(base, name=name, ghost=True) if name != base_name else base


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
