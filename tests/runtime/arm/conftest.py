"""A tiny real int8 model for the emulation tests: B0 scaled to width 0.25 and one block a stage,
64 px, uint8 input and output, converted the way make tflite's int8 recipe does."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

import models

SIZE = 64


def _int8_tiny_b0() -> bytes:
    variant = dataclasses.replace(models.get_variant("b0"), width=0.25, depth=0.1)
    model = models.build(variant, input_size=SIZE, num_classes=10, batch_size=1)
    rng = np.random.default_rng(0)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: (
        [rng.uniform(0, 255, (1, SIZE, SIZE, 3)).astype(np.float32)] for _ in range(4))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.uint8
    return converter.convert()


@pytest.fixture(scope="session")
def tiny_int8(tmp_path_factory):
    path = tmp_path_factory.mktemp("arm") / "b0_int8.tflite"
    path.write_bytes(_int8_tiny_b0())
    return path
