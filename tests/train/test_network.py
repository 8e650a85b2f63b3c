"""The run's two reaches past tf-keras' public API (train.network): dropout masks that a resumed
run redraws exactly, and the weight average swapped in and out. These tests break when a tf-keras
release moves the internals they use."""
import numpy as np
import pytest
import tf_keras as keras

from train.network import reseed_dropout, tf_random_generators


def _dropout_model() -> keras.Model:
    inputs = keras.Input((64,))
    x = keras.layers.Dropout(0.5, name="drop")(inputs)
    return keras.Model(inputs, keras.layers.Dropout(0.3, noise_shape=(None, 1), name="drop_path")(x))


def _masks(model: keras.Model, seed: int, epoch: int) -> np.ndarray:
    reseed_dropout(model, seed, epoch)
    return np.stack([model(np.ones((4, 64), np.float32), training=True).numpy() for _ in range(3)])


def test_dropout_masks_are_a_function_of_seed_and_epoch():
    with tf_random_generators():
        model = _dropout_model()
    first = _masks(model, seed=1, epoch=3)
    assert 0.1 < np.mean(first == 0) < 0.9  # the masks drop something
    assert np.array_equal(first, _masks(model, seed=1, epoch=3))  # a resume redraws them
    assert not np.array_equal(first, _masks(model, seed=1, epoch=4))
    assert not np.array_equal(first, _masks(model, seed=2, epoch=3))


def test_a_model_built_on_the_global_generator_is_refused_not_silently_unseeded():
    experimental = keras.backend.experimental
    assert not experimental.is_tf_random_generator_enabled()  # tf_random_generators restored the default
    model = _dropout_model()
    with pytest.raises(RuntimeError, match="enable_tf_random_generator"):
        reseed_dropout(model, 0, 0)


def test_the_average_is_swapped_in_under_mixed_precision_too():
    """compile() wraps the optimiser in a LossScaleOptimizer there; the swap reaches the inner one."""
    from train.network import ema_weights
    from train.recipes import RECIPES, optimizer

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = keras.Sequential([keras.layers.Dense(4, input_shape=(8,)),
                                  keras.layers.Activation("linear", dtype="float32")])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    model.compile(optimizer=optimizer(RECIPES["small"], 1e-2), loss="mse")
    assert isinstance(model.optimizer, keras.mixed_precision.LossScaleOptimizer)
    rng = np.random.default_rng(0)
    model.fit(rng.random((64, 8), np.float32), rng.random((64, 4), np.float32), epochs=1, batch_size=8, verbose=0)
    trained = model.get_weights()
    with ema_weights(model):
        averaged = model.get_weights()
    assert not np.allclose(trained[0], averaged[0])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), trained))
