"""Models that save, load and train like any tf-keras model."""
import collections
import re

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import models
from tests.small_models import tiny_table

# What tf-keras calls a layer that nobody named: such names shift between sessions.
AUTO_NAME = re.compile(r"^(conv2d|depthwise_conv2d|batch_normalization|activation|dense|dropout|add|"
                       r"multiply|concatenate|re_lu|average_pooling2d|global_average_pooling2d|"
                       r"rescaling|normalization|softmax|input)(_\d+)?$")


def tiny(name, depth=0.5, **options):
    """A width-scaled variant at 64 px with repeated blocks: the same code paths as full size, in seconds.
    depth=0.1 (one block a stage) where a test only needs the file refused."""
    return models.build(tiny_table(name, depth=depth), input_size=64, num_classes=10, **options)


@pytest.mark.parametrize("name", ["b0", "ghost_b0", "ghost_s"])
def test_every_layer_has_an_explicit_unique_name(name):
    names = [layer.name for layer in models.build(name, input_size=64).layers]
    assert len(names) == len(set(names))
    assert [n for n in names if AUTO_NAME.match(n)] == []


@pytest.mark.parametrize("name, activation", [("b0", "silu"), ("ghost_b0", "silu"), ("ghost_b0", "hard_swish")])
def test_keras_file_round_trip_in_safe_mode_gives_identical_outputs(tmp_path, name, activation):
    model = tiny(name, activation=activation)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True, compile=False)
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    np.testing.assert_array_equal(loaded(images).numpy(), model(images).numpy())
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]


def test_weights_from_a_keras_file_of_another_architecture_are_refused(tmp_path):
    path = tmp_path / "b0.keras"
    tiny("b0", depth=0.1).save(path)
    with pytest.raises(ValueError, match="do not fit"):  # the same blocks, twice the channels
        models.build(tiny_table("b0", width=0.5), input_size=64, num_classes=10, weights=str(path))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        models.build("b0", weights=str(tmp_path / "missing.keras"))


def test_a_ghostlite_file_from_before_the_1x1_design_is_refused_with_the_name_that_loads_it(tmp_path):
    path = tmp_path / "old_ghostlite.keras"  # the 3x3 no-SiLU design, ghostlite_ until then
    tiny("ghostnoact_b0", depth=0.1).save(path)
    ghostlite = tiny_table("ghostlite_b0")
    with pytest.raises(ValueError, match="do not fit.*3x3 cheap branches.*VARIANT=ghostnoact_b0"):
        models.build(ghostlite, input_size=64, num_classes=10, weights=str(path))
    tiny("ghost_b0", depth=0.1).save(path)  # the reference design's file is not the old ghostlite
    with pytest.raises(ValueError, match="do not fit") as refused:
        models.build(ghostlite, input_size=64, num_classes=10, weights=str(path))
    assert "ghostnoact" not in str(refused.value)


def test_weights_from_a_keras_file_of_the_same_architecture_load(tmp_path):
    source, path = tiny("ghost_b0"), tmp_path / "ghost_b0.keras"
    source.save(path)
    variant = tiny_table("ghost_b0", depth=0.5)
    target = models.build(variant, input_size=64, num_classes=10, weights=str(path))
    images = np.full((1, 64, 64, 3), 100.0, "float32")
    np.testing.assert_array_equal(target(images).numpy(), source(images).numpy())


@pytest.mark.parametrize("name", ["b0", "ghost_b0"])
def test_a_few_training_steps_lower_the_loss_and_reach_every_block(name):
    tf.keras.utils.set_random_seed(0)
    model = tiny(name, drop_path=0.3, classifier_activation=None)
    images = np.random.default_rng(0).uniform(0, 255, (16, 64, 64, 3)).astype("float32")
    labels = np.arange(16) % 10
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(1e-3)

    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return float(loss), grads

    first, grads = step()
    blocks_with_gradient = collections.Counter(
        v.name.split("_")[0] for v, g in zip(model.trainable_variables, grads)
        if g is not None and float(tf.reduce_max(tf.abs(g))) > 0)
    planned = {spec.name for spec in models.block_plan(
        tiny_table(name, depth=0.5), 0.3)}
    assert planned <= set(blocks_with_gradient)
    for _ in range(8):
        last, _ = step()
    assert last < 0.7 * first


def test_a_keras_file_brings_its_edge_switches_and_refuses_others(tmp_path, tiny_variant):
    path = tmp_path / "relu6_no_se.keras"
    models.build("ghost_tiny", input_size=32, num_classes=4, activation="relu6", se=False).save(path)
    model = models.build("ghost_tiny", weights=str(path), input_size=32, num_classes=4)
    assert isinstance(model.get_layer("stem_activation"), keras.layers.ReLU)
    assert not any(layer.name.endswith("_se_excite") for layer in model.layers)
    with pytest.raises(ValueError, match="trained with activation='relu6'"):
        models.build("ghost_tiny", weights=str(path), input_size=32, num_classes=4, activation="silu", se=False)
