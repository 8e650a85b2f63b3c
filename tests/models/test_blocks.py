"""Block-level behaviour that whole-model tests would hide."""
import numpy as np
import pytest
import tf_keras as keras

from models.blocks import DepthwiseAveragePooling2D


@pytest.mark.parametrize("height, width", [(8, 8), (7, 9), (1, 2), (15, 4)])
@pytest.mark.parametrize("pool", [2, 3])
def test_depthwise_average_pool_equals_keras_same_average_pool(height, width, pool):
    """Odd borders included: TF's 'same' average ignores padding, the count correction too."""
    x = np.random.default_rng(0).normal(size=(2, height, width, 5)).astype(np.float32)
    expected = keras.layers.AveragePooling2D(pool, pool, "same")(x).numpy()
    actual = DepthwiseAveragePooling2D(pool)(x).numpy()
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=1e-6)


def test_depthwise_average_pool_has_no_weights():
    layer = DepthwiseAveragePooling2D(2)
    layer(np.zeros((1, 4, 4, 3), np.float32))
    assert layer.count_params() == 0 and layer.weights == []
