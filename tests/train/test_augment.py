"""Augmentation: deterministic per seed, in range, label-consistent."""
import numpy as np
import pytest
import tensorflow as tf

from train import augment

IMAGE = tf.constant(np.random.default_rng(0).integers(40, 200, (48, 40, 3)), tf.uint8)  # room to stretch


def test_the_same_seed_gives_the_same_image_and_another_seed_another():
    seed = tf.constant([1, 2], tf.int64)
    first = augment.train_image(IMAGE, 32, 10, seed).numpy()
    assert np.array_equal(first, augment.train_image(IMAGE, 32, 10, seed).numpy())
    assert not np.array_equal(first, augment.train_image(IMAGE, 32, 10, tf.constant([1, 3], tf.int64)).numpy())
    assert first.shape == (32, 32, 3) and first.min() >= 0 and first.max() <= 255


@pytest.mark.parametrize("operation", augment.OPERATIONS, ids=lambda op: op.__name__)
def test_every_operation_keeps_shape_and_range(operation):
    image = tf.cast(IMAGE, tf.float32)
    out = operation(image, tf.constant(15.0), tf.constant([3, 4], tf.int64)).numpy()
    assert out.shape == image.shape and out.min() >= 0 and out.max() <= 255
    if operation is not augment.identity:
        assert not np.allclose(out, image.numpy())


def test_magnitude_zero_is_no_randaugment():
    image = tf.cast(IMAGE, tf.float32)
    assert np.array_equal(augment.rand_augment(image, 0, tf.constant([0, 0], tf.int64)).numpy(), image.numpy())


def test_mixup_blends_images_and_targets_with_one_weight():
    images = tf.constant(np.stack([np.zeros((4, 4, 3)), np.full((4, 4, 3), 100.0)]), tf.float32)
    labels = tf.constant([[1.0, 0.0], [0.0, 1.0]])
    mixed, targets = augment.mixup(images, labels, 0.4, tf.constant([5, 6], tf.int64))
    weight = float(targets[0, 0])
    assert 0 < weight < 1 and np.allclose(targets.numpy().sum(1), 1)
    assert np.allclose(mixed[0].numpy(), 100 * (1 - weight), atol=1e-4)
