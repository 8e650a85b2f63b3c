"""Quantization-aware training (TFMOT) for every variant and switch of the project's networks.

TFMOT's default 8-bit scheme knows Conv2D/DepthwiseConv2D (+ BatchNorm + activation), Dense,
Add, Concatenate, ReLU, GlobalAveragePooling2D and the swish/sigmoid activations. Our networks
add layers it refuses (`quantize_model` stops at the first): the squeeze-excite Multiply, the
preprocessing Rescaling/Normalization, the ResNet-D shortcut pool (DepthwiseAveragePooling2D)
and the hard-swish Activation. Each gets a QuantizeConfig that fake-quantizes its output, the
tensor TFLite writes as int8, so every int8 range in the converted file is one learnt here
and the converter calibrates nothing.

A layer that TFLite lowers to two ops needs a range for the tensor between them too (the
converter leaves an op without input ranges in float): Normalization (SUB, MUL) and a shortcut
pool with a border correction (DEPTHWISE_CONV_2D, MUL) are swapped for stand-ins that quantize
that tensor inside the layer, with TFMOT's own quantizer.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_model_optimization as tfmot
import tf_keras as keras
from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
    default_8bit_quantize_registry,
)
from tensorflow_model_optimization.python.core.quantization.keras.quantize_layer import QuantizeLayer
from tf_keras import layers

from models.blocks import DepthwiseAveragePooling2D

Q = tfmot.quantization.keras
QuantizeWrapper = Q.QuantizeWrapper  # re-exported for callers that look for quantized layers


def _activation_quantizer():
    """TFMOT's choice for activations: asymmetric per-tensor 8 bits, moving-average range."""
    return Q.quantizers.MovingAverageQuantizer(num_bits=8, per_axis=False, symmetric=False, narrow_range=False)


class OutputQuantizeConfig(Q.QuantizeConfig):
    """No weights to quantize; the output gets a learnt int8 range (SE multiply, preprocessing,
    shortcut pool, hard-swish)."""

    def get_weights_and_quantizers(self, layer):
        return []

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        pass

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return [_activation_quantizer()]

    def get_config(self):
        return {}


class _InnerRange:
    """Mixin: one fake-quantized tensor inside a layer (the one between its two TFLite ops)."""

    def _build_inner_range(self, shape):
        self._inner_quantizer = _activation_quantizer()
        self._inner_vars = self._inner_quantizer.build(shape, "inner", self)

    def _quantize_inner(self, x, training):
        if training is None:
            training = keras.backend.learning_phase()
        return tf.__internal__.smart_cond.smart_cond(
            training, lambda: self._inner_quantizer(x, True, self._inner_vars),
            lambda: self._inner_quantizer(x, False, self._inner_vars))


@keras.saving.register_keras_serializable(package="effnetv2_edge")
class QuantizedNormalization(_InnerRange, layers.Layer):
    """QAT stand-in for `Normalization`: (x - mean) [range] * 1/std, as TFLite's SUB and MUL."""

    def __init__(self, mean, inverse_std, **kwargs):
        super().__init__(**kwargs)
        self.mean, self.inverse_std = [float(v) for v in mean], [float(v) for v in inverse_std]

    @classmethod
    def replacing(cls, layer: layers.Normalization) -> "QuantizedNormalization":
        mean = np.ravel(keras.backend.get_value(layer.mean))
        std = np.maximum(np.sqrt(np.ravel(keras.backend.get_value(layer.variance))), keras.backend.epsilon())
        return cls(mean, 1 / std, name=layer.name)

    def build(self, input_shape):
        self._build_inner_range(input_shape)
        super().build(input_shape)

    def call(self, x, training=None):
        centred = self._quantize_inner(x - tf.constant(self.mean, x.dtype), training)
        return centred * tf.constant(self.inverse_std, x.dtype)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "inverse_std": self.inverse_std}


@keras.saving.register_keras_serializable(package="effnetv2_edge")
class QuantizedAveragePooling(_InnerRange, DepthwiseAveragePooling2D):
    """QAT stand-in for a shortcut pool whose windows overhang an odd border: the average
    [range], then the count correction (without a correction it is one op and unchanged)."""

    @classmethod
    def replacing(cls, layer: DepthwiseAveragePooling2D) -> "QuantizedAveragePooling":
        return cls(**layer.get_config())

    def build(self, input_shape):
        super().build(input_shape)
        self._build_inner_range(self.compute_output_shape(input_shape))

    def compute_output_shape(self, input_shape):
        height, width = (-(-int(side) // self.pool) for side in input_shape[1:3])
        return tf.TensorShape([input_shape[0], height, width, input_shape[3]])

    def call(self, x, training=None):
        x = tf.nn.depthwise_conv2d(x, tf.cast(self.kernel, x.dtype), [1, self.pool, self.pool, 1], "SAME")
        if self.correction is None:
            return x
        return self._quantize_inner(x, training) * tf.cast(self.correction, x.dtype)


class UnsupportedLayer(ValueError):
    """A layer neither TFMOT nor this module knows how to quantize."""


_REGISTRY = default_8bit_quantize_registry.Default8BitQuantizeRegistry()
_DEFAULT_ACTIVATIONS = ("relu", "relu6", "swish", "gelu", "linear", "softmax", "sigmoid", "tanh")
_OUTPUT_ONLY = (layers.Multiply, layers.Rescaling, QuantizedNormalization, DepthwiseAveragePooling2D)


def _stand_in(layer: layers.Layer) -> layers.Layer:
    if isinstance(layer, layers.Normalization):
        return QuantizedNormalization.replacing(layer)
    if type(layer) is DepthwiseAveragePooling2D and layer.correction is not None:  # set when built
        return QuantizedAveragePooling.replacing(layer)
    return layer


def _annotate(layer: layers.Layer) -> layers.Layer:
    """The clone function: each layer wrapped with the QuantizeConfig it needs."""
    if isinstance(layer, layers.InputLayer):
        return layer
    layer = _stand_in(layer)
    if isinstance(layer, layers.Activation):
        name = getattr(layer.activation, "__name__", "")
        config = None if name in _DEFAULT_ACTIVATIONS else OutputQuantizeConfig()
        return Q.quantize_annotate_layer(layer, config)
    if isinstance(layer, _OUTPUT_ONLY):
        return Q.quantize_annotate_layer(layer, OutputQuantizeConfig())
    if _REGISTRY.supports(layer) or isinstance(layer, layers.BatchNormalization):  # BN: folded by TFMOT's transforms
        return Q.quantize_annotate_layer(layer)
    raise UnsupportedLayer(f"layer {layer.name!r} ({type(layer).__name__}) cannot be quantization-aware: "
                           "neither TFMOT's default 8-bit scheme nor quantize/qat.py has a QuantizeConfig for it")


def scope():
    """The custom objects a quantization-aware model needs to be built or loaded."""
    return Q.quantize_scope({"OutputQuantizeConfig": OutputQuantizeConfig,
                             "DepthwiseAveragePooling2D": DepthwiseAveragePooling2D,
                             "QuantizedNormalization": QuantizedNormalization,
                             "QuantizedAveragePooling": QuantizedAveragePooling})


def quantization_aware(model: keras.Model, input_range: tuple[float, float] = (0.0, 255.0)) -> keras.Model:
    """A copy of `model` (same weights, its own variables: fine-tuning leaves `model` as it is)
    with fake quantization wherever its TFLite file will be int8.

    The input range is fixed to `input_range` (pixels: scale 1, zero point 0 in a uint8 file)
    instead of the range of the images seen, so the file keeps the input contract."""
    annotated = keras.models.clone_model(model, clone_function=_annotate)
    with scope():
        quantized = Q.quantize_apply(annotated)
    fix_input_range(quantized, *input_range)
    return quantized


def initialize_ranges(model: keras.Model, batches) -> int:
    """Sets every moving-average activation range of the quantization-aware `model` to the mean
    of its per-batch ranges over `batches` (images); returns the batches used.

    TFMOT starts each range at [-6, 6] and moves it 0.1% of the way to a batch's range per
    training step (EMA decay 0.999, no debiasing): a 3-epoch QAT run of ~300 steps ends with
    ranges still ~75% TFMOT's guess (measured: 43-67% of a QAT file's activation ranges were
    10.5-12.5 wide), clipping large activations near 6 and coarsening small ones. TFMOT has no
    range-initialisation hook; its quantizers read `quant_ops.MovingAvgQuantize` at call time,
    so eager calls with a running-mean decay ((k-1)/k for batch k) set the ranges instead."""
    from tensorflow_model_optimization.python.core.quantization.keras import quant_ops

    moving_average = quant_ops.MovingAvgQuantize
    count = 0

    def running_mean(*args, ema_decay=0.999, **kwargs):
        return moving_average(*args, ema_decay=(count - 1) / count, **kwargs)

    quant_ops.MovingAvgQuantize = running_mean
    try:
        for images in batches:
            count += 1
            model(images, training=True)
    finally:
        quant_ops.MovingAvgQuantize = moving_average
    return count


def fix_input_range(model: keras.Model, low: float, high: float) -> None:
    """TFMOT's input QuantizeLayer keeps the min/max of all values seen, starting from [0, 0]:
    starting at [low, high], pixels never widen it."""
    inputs = [layer for layer in model.layers if isinstance(layer, QuantizeLayer)]
    if len(inputs) != 1:
        raise UnsupportedLayer(f"expected one input quantizer in the quantization-aware model, found {len(inputs)}")
    for variable in inputs[0].weights:
        if variable.name.endswith("_min:0"):
            variable.assign(low)
        elif variable.name.endswith("_max:0"):
            variable.assign(high)


def align_concatenation_ranges(model: keras.Model) -> int:
    """One range for a concatenation and its inputs (the Ghost module's halves): TFLite's int8
    CONCATENATION needs one scale, and with several the converter requantizes each input in
    an extra QUANTIZE op (44 in ghost_b0). TFMOT learns them apart; the union covers all."""
    aligned = 0
    for layer in model.layers:
        if not (isinstance(layer, QuantizeWrapper) and isinstance(layer.layer, keras.layers.Concatenate)):
            continue
        ranges = [_output_range(layer)] + [_output_range(node.layer) for node in _inbound(layer)]
        if any(r is None for r in ranges):
            continue
        low = min(float(lo.numpy()) for lo, _ in ranges)
        high = max(float(hi.numpy()) for _, hi in ranges)
        for lo, hi in ranges:
            lo.assign(low)
            hi.assign(high)
        aligned += 1
    return aligned


def _output_range(layer):
    """The (min, max) variables of a wrapped layer's output fake-quant, if it has one."""
    found = {v.name.rsplit("/", 1)[-1].split(":")[0]: v for v in layer.weights if "output_m" in v.name}
    if "output_min" in found and "output_max" in found:
        return found["output_min"], found["output_max"]
    return None


def _inbound(layer):
    (node,) = layer.inbound_nodes
    return [keras_tensor._keras_history for keras_tensor in tf.nest.flatten(node.keras_inputs)]
