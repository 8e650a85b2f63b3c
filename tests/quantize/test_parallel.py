"""Calibration spread over processes gives the file the converter's serial calibration gives."""
import numpy as np
import pytest
import tensorflow as tf

import models
from convert.recipes import convert
from quantize import builtin_images
from quantize.parallel import merge_calibrations

SIZE = 64


@pytest.fixture(scope="module")
def tiny_model_and_images(tiny_variant):
    tf.keras.utils.set_random_seed(0)
    model = models.build("ghost_tiny", input_size=SIZE, num_classes=5, classifier_activation=None)
    return model, builtin_images(SIZE, calibration=11, validation=1).calibration


def test_parallel_calibration_gives_a_byte_identical_int8_file(tiny_model_and_images):
    model, images = tiny_model_and_images
    serial = convert(model, "int8", images, calibration_workers=1)
    assert convert(model, "int8", images, calibration_workers=2) == serial
    assert convert(model, "int8", images, calibration_workers=3) == serial  # uneven shards


def test_merged_ranges_span_every_shard(tiny_model_and_images):
    """Calibrating on more images widens the ranges: a merge that kept one shard would not."""
    from tensorflow.lite.python.optimize import calibrator

    from quantize.parallel import _tensor_ranges

    model, images = tiny_model_and_images
    float_model = calibrator.add_intermediate_tensors(convert(model, "fp32"))
    shards = [calibrator.Calibrator(float_model).calibrate(
        lambda part=part: ([image[None].astype(np.float32)] for image in part)) for part in (images[:3], images[3:])]
    merged = _tensor_ranges(merge_calibrations(shards))
    first, second = _tensor_ranges(shards[0]), _tensor_ranges(shards[1])
    assert merged.keys() == first.keys() == second.keys()
    for key, (low, high) in merged.items():
        assert low == min(first[key][0], second[key][0]) and high == max(first[key][1], second[key][1])
    assert any(merged[key] != first[key] for key in merged)
