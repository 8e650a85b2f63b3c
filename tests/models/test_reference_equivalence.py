"""Our standard variants are the official networks: same parameters, same function."""
import numpy as np
import pytest
import tf_keras as keras

import models
from models.profile import count_macs
from models.weights import KERAS_APPLICATIONS, keras_applications_model, reference_to_ours, transfer_weights

SMALL = 64  # parameter counts do not depend on the input size; outputs are checked small
PAPER_GMACS = {"b0": 0.72, "b1": 1.2, "b2": 1.7, "b3": 3.0, "s": 8.4, "m": 24.7, "l": 56.3}
FAST = ["b0", "b1", "b2", "b3", "s"]
FULL = [pytest.param(n, marks=pytest.mark.slow) for n in ("m", "l")]


def reference(name, model):
    return keras_applications_model(name, None, model)


def randomize_batch_norm_statistics(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.1, beta.shape),
                               rng.normal(0, 0.2, mean.shape), rng.uniform(0.5, 2.0, var.shape)])


@pytest.mark.slow
def test_parameter_count_of_xl_equals_automl():
    assert models.build("xl", input_size=SMALL).count_params() == 208_896_832


@pytest.mark.parametrize("name", FAST + FULL)
def test_same_parameter_count_and_same_outputs_with_ported_keras_applications_weights(name):
    # One build of each network serves both checks (building them is most of this file's time).
    ours = models.build(name, input_size=SMALL)
    theirs = reference(name, ours)
    assert ours.count_params() == theirs.count_params()
    randomize_batch_norm_statistics(theirs)
    assert transfer_weights(theirs, ours, reference_to_ours) > 0
    images = np.random.default_rng(1).uniform(0, 255, (2, SMALL, SMALL, 3)).astype("float32")
    expected = theirs(images, training=False).numpy()
    np.testing.assert_allclose(ours(images, training=False).numpy(), expected, atol=1e-4)
    assert expected.std() > 1e-4  # outputs that actually depend on the input


def test_port_refuses_a_model_of_another_size():
    ours = models.build("b1", input_size=SMALL)
    with pytest.raises(ValueError, match="do not fit"):
        transfer_weights(reference("b0", models.build("b0", input_size=SMALL)), ours, reference_to_ours)


def test_imagenet_weights_exist_only_for_keras_sizes():
    with pytest.raises(ValueError, match="keras.applications has no EfficientNetV2 'xl'"):
        keras_applications_model("xl", None, models.build("b0", input_size=SMALL))
    assert set(KERAS_APPLICATIONS) == set(PAPER_GMACS)


@pytest.mark.parametrize("name", FAST + FULL)  # m and l at their 480 px: slow
def test_macs_at_default_resolution_within_5_percent_of_paper(name):
    gmacs = count_macs(models.build(name)) / 1e9
    assert gmacs == pytest.approx(PAPER_GMACS[name], rel=0.05)


@pytest.mark.parametrize("name", ["b0", "s"])
def test_ghost_has_about_65_percent_of_the_parameters_and_fewer_macs(name):
    standard, ghost = models.build(name, input_size=SMALL), models.build(f"ghost_{name}", input_size=SMALL)
    assert 0.55 <= ghost.count_params() / standard.count_params() <= 0.72
    assert count_macs(ghost) < 0.6 * count_macs(standard)
