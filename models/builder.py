"""Builds a tf-keras functional model from a `Variant`: stem, stage table, head."""
from __future__ import annotations

import math
import string

import tf_keras as keras
from tf_keras import layers

from .blocks import ACTIVATIONS, dense_init, BlockSpec, Style, block, conv_bn, pointwise_or_ghost
from .tables import Variant

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def block_letters(index: int) -> str:
    """a..z, then aa, ab, ...: the reference naming (`block6y`) extended past 26 repeats (XL)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = string.ascii_lowercase[rem] + letters
    return letters


def block_plan(variant: Variant, drop_path: float) -> list[BlockSpec]:
    """Flattens the stage table into scaled blocks, with stochastic depth ramped 0 -> drop_path."""
    rows = []
    in_channels = variant.scaled_channels(variant.stem_channels)
    for i, stage in enumerate(variant.stages):
        out_channels = variant.scaled_channels(stage.channels)
        for j in range(variant.scaled_repeats(stage.repeats)):
            rows.append((f"block{i + 1}{block_letters(j)}", stage, in_channels, out_channels,
                         stage.stride if j == 0 else 1))
            in_channels = out_channels
    return [
        BlockSpec(name, stage.block, cin, cout, stage.kernel, stride, stage.expand, stage.se_ratio,
                  drop_rate=drop_path * n / len(rows))
        for n, (name, stage, cin, cout, stride) in enumerate(rows)
    ]


def preprocessing(x, variant: Variant):
    """RGB pixels in [0, 255] -> the range the network was trained on, inside the graph."""
    if variant.preprocessing == "imagenet_mean_std":
        x = layers.Rescaling(1 / 255, name="preprocess_rescale")(x)
        return layers.Normalization(mean=IMAGENET_MEAN, variance=[s * s for s in IMAGENET_STD],
                                    name="preprocess_normalize")(x)
    return layers.Rescaling(1 / 128, offset=-1, name="preprocess_rescale")(x)


# Above this the graph, its conversion and its calibration images outgrow a workstation's memory
# (SIZE=100000 took 6 GB in 18 s); the largest official resolution is 480 (L, XL: 480-512).
MAX_INPUT_SIZE = 1024


def min_input_size(variant: Variant) -> int:
    """The total stride: the smallest input that leaves the last stage one pixel."""
    return 2 * math.prod(stage.stride for stage in variant.stages)  # 2: the stem


def check_settings(variant: Variant, input_size: int, num_classes: int = 1000, activation: str = "silu",
                   dropout: float = 0.0, drop_path: float = 0.0,
                   classifier_activation: str | None = None) -> None:
    """Raises ValueError naming the first setting `build` would fail on; builds nothing."""
    min_size = min_input_size(variant)
    checks = [
        (input_size >= min_size, f"input size {input_size} is smaller than the total stride "
                                 f"{min_size} of {variant.name!r}; use {min_size} or more"),
        (input_size <= MAX_INPUT_SIZE, f"input size {input_size} is larger than {MAX_INPUT_SIZE}, the most this "
                                       f"project builds; use at most {MAX_INPUT_SIZE}"),
        (num_classes >= 1, f"num_classes must be at least 1, got {num_classes}"),
        (activation in ACTIVATIONS, f"unknown activation {activation!r}; valid: {', '.join(ACTIVATIONS)}"),
        (0 <= dropout < 1, f"dropout must be in [0, 1), got {dropout}"),
        (0 <= drop_path < 1, f"drop_path must be in [0, 1), got {drop_path}"),
        (classifier_activation in ("softmax", None),
         f"classifier_activation must be 'softmax' or None (logits), got {classifier_activation!r}"),
        (len(variant.stages) > 0, f"variant {variant.name!r} has no stages"),
    ]
    for stage in variant.stages:
        checks.append((stage.repeats >= 1 and stage.kernel >= 1 and stage.stride in (1, 2)
                       and stage.expand >= 1 and stage.channels >= 1 and 0 <= stage.se_ratio <= 1
                       and stage.block in ("fused", "mbconv"),
                       f"invalid stage in {variant.name!r}: {stage} (block fused|mbconv, repeats, "
                       "kernel, expand, channels >= 1, stride 1 or 2, se_ratio in [0, 1])"))
    for ok, message in checks:
        if not ok:
            raise ValueError(message)


def build_variant(variant: Variant, input_size: int | None = None, num_classes: int = 1000,
                  include_top: bool = True, dropout: float | None = None,
                  drop_path: float | None = None, activation: str = "silu", se: bool = True,
                  classifier_activation: str | None = "softmax", batch_size: int | None = None,
                  include_preprocessing: bool = True) -> keras.Model:
    """The network `variant` describes, taking RGB pixels in [0, 255] (see `preprocessing`)."""
    input_size = variant.input_size(input_size)
    dropout = variant.dropout if dropout is None else dropout
    drop_path = variant.drop_path if drop_path is None else drop_path
    check_settings(variant, input_size, num_classes, activation, dropout, drop_path, classifier_activation)
    style = Style(activation, variant.ghost, se)

    inputs = keras.Input((input_size, input_size, 3), batch_size=batch_size, name="image")
    x = preprocessing(inputs, variant) if include_preprocessing else inputs
    x = conv_bn(x, variant.scaled_channels(variant.stem_channels), 3, 2, "stem", activation)
    for spec in block_plan(variant, drop_path):
        x = block(x, spec, style)
    x = pointwise_or_ghost(x, variant.scaled_channels(variant.head_channels), 1, 1, "top", style, "head", activation)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name="top_dropout")(x)
        x = layers.Dense(num_classes, kernel_initializer=dense_init(), name="predictions")(x)
        if classifier_activation == "softmax":
            x = layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, x, name=variant.name)
