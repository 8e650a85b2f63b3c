"""Blocks of EfficientNetV2 and of its Ghost variant, as small functions on Keras tensors.

Every layer gets an explicit name derived from its block's name (`block4a_expand_conv`),
so names are stable across builds and sessions, `.keras` files stay loadable, and the
weight port from keras.applications can match layers by name.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import tensorflow as tf
import tf_keras as keras
from tf_keras import layers

from .tables import GhostDesign

Activation = Literal["silu", "hard_swish", "relu6"]
ACTIVATIONS: tuple[str, ...] = ("silu", "hard_swish", "relu6")

BN_MOMENTUM = 0.9
BN_EPSILON = 1e-3
# Same initialisers as the reference implementation (variance scaling, fan-out).
def conv_init():
    return keras.initializers.VarianceScaling(2.0, "fan_out", "truncated_normal")


def dense_init():
    return keras.initializers.VarianceScaling(1 / 3, "fan_out", "uniform")


@keras.saving.register_keras_serializable(package="effnetv2_edge")
def hard_swish(x):
    """x * relu6(x + 3) / 6: written in the form TFLite's converter fuses into HARD_SWISH."""
    return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


def activation_layer(kind: str, name: str) -> layers.Layer:
    if kind == "silu":
        return layers.Activation("swish", name=name)
    if kind == "relu6":
        return layers.ReLU(6.0, name=name)
    if kind == "hard_swish":
        return layers.Activation(hard_swish, name=name)
    raise ValueError(f"unknown activation {kind!r}; valid: {', '.join(ACTIVATIONS)}")


@dataclass(frozen=True)
class Style:
    """Network-wide choices that every block obeys."""

    activation: str
    ghost: GhostDesign | None  # None: standard convolutions everywhere
    se: bool


@dataclass(frozen=True)
class BlockSpec:
    """One block after width/depth scaling: what the builder hands to a block function."""

    name: str
    block: str  # "fused" | "mbconv"
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    expand: int
    se_ratio: float
    drop_rate: float

    @property
    def expanded(self) -> int:
        return self.in_channels * self.expand


def conv_bn(x, filters, kernel, stride, name, activation=None, depthwise=False):
    """Convolution without bias, batch norm, optional activation: `{name}_conv/_bn/_activation`."""
    if depthwise:
        x = layers.DepthwiseConv2D(kernel, stride, "same", use_bias=False,
                                   depthwise_initializer=conv_init(), name=f"{name}_conv")(x)
    else:
        x = layers.Conv2D(filters, kernel, stride, "same", use_bias=False,
                          kernel_initializer=conv_init(), name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    if activation:
        x = activation_layer(activation, f"{name}_activation")(x)
    return x


def ghost_module(x, filters, kernel, stride, name, design: GhostDesign, activation=None):
    """GhostNet module: a primary conv makes 1/ratio of the channels, ratio - 1 cheap depthwise
    convs of those make the rest, and all are concatenated. Separate depthwise convs, not one with
    a depth multiplier: XNNPACK runs a multiplier above 1 as a grouped convolution, which took 5x
    the instructions per multiply-add on an emulated A76 (docs/arm.md)."""
    ratio = design.ratio_for(filters)
    if filters % ratio:
        raise ValueError(f"{name}: a Ghost module needs an even channel count, got {filters}")
    primary = conv_bn(x, filters // ratio, kernel, stride, f"{name}_primary", activation)
    cheap = [conv_bn(primary, None, design.cheap_kernel, 1, f"{name}_cheap{i + 1 if i else ''}",
                     activation if design.cheap_activation else None, depthwise=True) for i in range(ratio - 1)]
    return layers.Concatenate(name=f"{name}_concat")([primary, *cheap])


def pointwise_or_ghost(x, filters, kernel, stride, name, style: Style, role: str, activation=None):
    """A convolution that a Ghost design may replace by a Ghost module (`role`: GHOST_ROLES)."""
    if style.ghost and style.ghost.makes_ghost(role, filters):
        return ghost_module(x, filters, kernel, stride, name, style.ghost, activation)
    return conv_bn(x, filters, kernel, stride, name, activation)


def squeeze_excite(x, spec: BlockSpec, style: Style):
    if style.ghost:
        bottleneck = max(8, int(spec.expanded * style.ghost.se_ratio))
    else:
        bottleneck = max(1, int(spec.in_channels * spec.se_ratio))
    name = spec.name
    se = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_squeeze")(x)
    se = layers.Conv2D(bottleneck, 1, kernel_initializer=conv_init(), name=f"{name}_se_reduce")(se)
    se = activation_layer(style.activation, f"{name}_se_activation")(se)
    se = layers.Conv2D(spec.expanded, 1, kernel_initializer=conv_init(), name=f"{name}_se_expand")(se)
    se = layers.Activation("sigmoid", name=f"{name}_se_gate")(se)
    return layers.Multiply(name=f"{name}_se_excite")([x, se])


def _maybe_se(x, spec: BlockSpec, style: Style):
    return squeeze_excite(x, spec, style) if style.se and spec.se_ratio > 0 else x


def mbconv(x, spec: BlockSpec, style: Style):
    """Inverted bottleneck: 1x1 expand, kxk depthwise, SE, 1x1 linear projection."""
    act, name = style.activation, spec.name
    if spec.expand != 1:
        x = pointwise_or_ghost(x, spec.expanded, 1, 1, f"{name}_expand", style, "mbconv_expand", act)
    x = conv_bn(x, None, spec.kernel, spec.stride, f"{name}_dw", act, depthwise=True)
    x = _maybe_se(x, spec, style)
    return pointwise_or_ghost(x, spec.out_channels, 1, 1, f"{name}_project", style, "mbconv_project")


def fused_mbconv(x, spec: BlockSpec, style: Style):
    """Fused-MBConv: one kxk conv replaces expand + depthwise; expand 1 has no projection."""
    act, name = style.activation, spec.name
    if spec.expand == 1:
        x = _maybe_se(x, spec, style)
        return pointwise_or_ghost(x, spec.out_channels, spec.kernel, spec.stride,
                                  f"{name}_project", style, "fused_project", act)
    x = pointwise_or_ghost(x, spec.expanded, spec.kernel, spec.stride, f"{name}_expand", style, "fused_expand", act)
    x = _maybe_se(x, spec, style)
    return pointwise_or_ghost(x, spec.out_channels, 1, 1, f"{name}_project", style, "fused_project")


@keras.saving.register_keras_serializable(package="effnetv2_edge")
class DepthwiseAveragePooling2D(layers.Layer):
    """`AveragePooling2D(pool, pool, "same")` computed as a depthwise convolution with a
    constant 1/pool^2 kernel, times a constant count correction where windows overhang an
    odd border (TF's 'same' average ignores the padding).

    Why not AveragePooling2D: XNNPACK has no int8 AVERAGE_POOL_2D, so in a full-integer
    file every ResNet-D shortcut pool ran on the reference kernels and split the XNNPACK
    graph (ghost_b0 int8: 5 partitions). DEPTHWISE_CONV_2D and MUL stay delegated, on the
    GPU accelerator too. No weights: parameter counts and checkpoints are unchanged."""

    def __init__(self, pool: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.pool = pool

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        if height is None or width is None:
            raise ValueError(f"{self.name} needs a static spatial size; build with input_size set")
        self.kernel = tf.constant(np.full((self.pool, self.pool, channels, 1), 1 / self.pool**2, np.float32))
        rows, cols = self._window_counts(height), self._window_counts(width)
        correction = self.pool**2 / np.outer(rows, cols)
        self.correction = (None if np.all(correction == 1)
                           else tf.constant(correction[None, :, :, None].astype(np.float32)))
        super().build(input_shape)

    def _window_counts(self, length: int) -> np.ndarray:
        """How many real (unpadded) positions each 'same' window covers along one axis."""
        windows = -(-length // self.pool)
        pad_before = (windows * self.pool - length) // 2
        starts = np.arange(windows) * self.pool - pad_before
        return np.minimum(starts + self.pool, length) - np.maximum(starts, 0)

    def call(self, x):
        x = tf.nn.depthwise_conv2d(x, tf.cast(self.kernel, x.dtype), [1, self.pool, self.pool, 1], "SAME")
        return x if self.correction is None else x * tf.cast(self.correction, x.dtype)

    def get_config(self):
        return {**super().get_config(), "pool": self.pool}


def resnet_d_shortcut(x, spec: BlockSpec):
    """ResNet-D downsampling path: 2x2 average pool (if strided), then 1x1 conv + BN."""
    if spec.stride > 1:
        x = DepthwiseAveragePooling2D(spec.stride, name=f"{spec.name}_shortcut_pool")(x)
    return conv_bn(x, spec.out_channels, 1, 1, f"{spec.name}_shortcut")


BLOCKS = {"fused": fused_mbconv, "mbconv": mbconv}


def block(inputs, spec: BlockSpec, style: Style):
    """A block with its residual path. Standard blocks keep the reference rule (identity
    residual only when shape is unchanged); Ghost blocks always have one (ResNet-D) unless
    their design leaves it out."""
    x = BLOCKS[spec.block](inputs, spec, style)
    same_shape = spec.stride == 1 and spec.in_channels == spec.out_channels
    if not same_shape and not (style.ghost and style.ghost.resnet_d):
        return x
    shortcut = inputs if same_shape else resnet_d_shortcut(inputs, spec)
    if spec.drop_rate > 0:
        x = layers.Dropout(spec.drop_rate, noise_shape=(None, 1, 1, 1), name=f"{spec.name}_drop")(x)
    return layers.Add(name=f"{spec.name}_add")([x, shortcut])
