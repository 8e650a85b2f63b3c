"""convert.fidelity: a correct int8 conversion degrades layer by layer; a broken layer is a cliff."""
import numpy as np

import models
from convert import recipes
from convert.fidelity import MAX_CLIFF_DB, depth_profile
from quantize import builtin_images
from models.weights import reestimate_batch_norm

SIZE = 48


def _untrained(tiny_variant):
    model = models.build("ghost_tiny", input_size=SIZE, num_classes=4, classifier_activation=None)
    images = builtin_images(SIZE, calibration=8, validation=4)
    reestimate_batch_norm(model, images.calibration)
    return model, images


def test_a_correct_int8_file_loses_sqnr_gradually(tiny_variant):
    model, images = _untrained(tiny_variant)
    tflite = recipes.convert(model, "int8", images.calibration)
    profile = depth_profile(model, tflite, images.validation)
    assert len(profile.probes) >= 10 and profile.problems() == []
    assert profile.cliff()[1] < MAX_CLIFF_DB and profile.first_db > profile.last_db


def test_a_layer_that_computes_something_else_is_named(tiny_variant):
    model, images = _untrained(tiny_variant)
    tflite = recipes.convert(model, "int8", images.calibration)
    layer = model.get_layer("block4a_dw_conv")  # the file keeps the old weights: a wrong op from here on
    layer.set_weights([np.random.default_rng(0).normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    problems = depth_profile(model, tflite, images.validation).problems()
    assert len(problems) == 1 and "block4a_dw" in problems[0]


def test_a_float_file_is_exact_at_every_layer(tiny_variant):
    model, images = _untrained(tiny_variant)
    profile = depth_profile(model, recipes.convert(model, "fp32"), images.validation)
    assert min(db for _, db in profile.probes) >= 59 and profile.problems() == []
