"""One TFLiteConverter recipe per precision. Everything else in `convert` is precision-blind."""
from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf
import tf_keras as keras

from core.artifacts import PRECISIONS
from quantize import parallel_calibration, representative_dataset

from .job import IO_TYPE_NAMES

CALIBRATED = ("int8", "int8_per_tensor", "int16x8")  # the precisions that need calibration images
FULL_INTEGER = ("int8", "int8_per_tensor", "int8_qat")  # integer end to end, with integer I/O
IO_TYPES = {name: tf.as_dtype(name) for name in IO_TYPE_NAMES}


def _fp32(converter, **_):
    pass


def _fp16(converter, **_):
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]


def _dynamic(converter, **_):
    converter.optimizations = [tf.lite.Optimize.DEFAULT]  # int8 weights, float activations


def _calibrated_int8(converter, images, workers, percentile):
    """Post-training int8 from `images`: ranges from their `percentile` range estimator, or
    min/max (None or 100: the converter's own statistics, merged exactly over workers)."""
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: representative_dataset(images)
    if percentile is not None and percentile >= 100:
        percentile = None
    if workers > 1 or percentile is not None:
        parallel_calibration(converter, images, workers, percentile)
    # Only integer kernels: the converter fails instead of silently keeping a float op.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]


def _int8(converter, images, io_type, workers, percentile=None, **_):
    _calibrated_int8(converter, images, workers, percentile)
    converter.inference_input_type = converter.inference_output_type = IO_TYPES[io_type]


def _int8_per_tensor(converter, **settings):
    """One scale per weight tensor instead of one per output channel: no per-channel
    parameters in the file (12 bytes per channel, twice: weights and bias), and what
    accelerators without per-channel support (older NNAPI drivers, some DSPs) need.
    Costs accuracy where channel ranges differ widely (depthwise convolutions)."""
    _int8(converter, **settings)
    converter._experimental_disable_per_channel = True  # TFLiteConverter's only switch for it


def _int16x8(converter, images, **_):  # the converter's own quantizer: serial calibration
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: representative_dataset(images)
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]


def _int8_qat(converter, io_type, **_):
    """A quantization-aware model (make qat): its fake-quant ranges become the file's, nothing
    is calibrated. Not `TFLITE_BUILTINS_INT8`: with it the converter demands a representative
    dataset before it notices the fake quantization; the float-op audit enforces integer-only."""
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.inference_input_type = converter.inference_output_type = IO_TYPES[io_type]


RECIPES: dict[str, Callable] = {"fp32": _fp32, "fp16": _fp16, "dynamic": _dynamic,
                                "int8": _int8, "int8_per_tensor": _int8_per_tensor, "int16x8": _int16x8, "int8_qat": _int8_qat}


def check_options(precision: str, io_type: str) -> None:
    """Raises ValueError naming a precision or int8 I/O type that has no recipe."""
    if precision not in RECIPES:
        raise ValueError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    if io_type not in IO_TYPES:
        raise ValueError(f"unknown int8 I/O type {io_type!r}; valid: {', '.join(IO_TYPES)}")


def convert(model: keras.Model, precision: str, calibration_images: np.ndarray | None = None,
            io_type: str = "uint8", calibration_workers: int = 1, calibration_percentile: float | None = None) -> bytes:
    """The .tflite flatbuffer of `model` at `precision` (`calibration_percentile`: int8 ranges
    from that percentile of per-image ranges; None or 100: min/max over all images)."""
    check_options(precision, io_type)
    if precision in CALIBRATED and (calibration_images is None or len(calibration_images) == 0):
        raise ValueError(f"{precision} needs calibration images")
    converter = converter_for(model)
    RECIPES[precision](converter, images=calibration_images, io_type=io_type, workers=calibration_workers,
                       percentile=calibration_percentile)
    return converter.convert()


def converter_for(model: keras.Model) -> tf.lite.TFLiteConverter:
    """A converter of `model` with a static batch-1 input (the GPU accelerator refuses dynamic
    shapes), whatever batch dimension the model declares."""
    spec = tf.TensorSpec([1, *model.input_shape[1:]], tf.float32, name=model.input_names[0])
    function = tf.function(lambda image: model(image, training=False))
    # The tf.function, not the Keras model, as trackable object: given the model, the
    # converter first exports it as a SavedModel, which took 143 s of a 150 s ghost_s
    # conversion (tf-keras lists a 3,000-layer graph's children in quadratic time).
    return tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function(spec)], function)


def debug_converter(model: keras.Model, calibration_images: np.ndarray, workers: int = 1,
                    percentile: float | None = None) -> tf.lite.TFLiteConverter:
    """The int8 recipe (same ranges) with float I/O, for tf.lite.experimental.QuantizationDebugger
    (it calibrates, then compares every quantized op with its float counterpart)."""
    converter = converter_for(model)
    _calibrated_int8(converter, calibration_images, workers, percentile)
    return converter
