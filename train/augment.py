"""Training-time augmentation as TensorFlow graph ops: random-resized crop, flip, RandAugment, mixup.

Every random choice is a stateless op keyed by a per-image seed, so an epoch's augmented
images depend only on (run seed, epoch, position): a resumed run sees exactly the images an
uninterrupted run would, and parallel `map` calls cannot reorder randomness.

RandAugment is written here because no maintained implementation fits this stack:
keras-cv's needs Keras 3 (TFMOT requires tf-keras), tf-models-official follows its own
TensorFlow release line, and per-image NumPy libraries (albumentations) hold the GIL inside
`tf.data`. The operations and magnitude scale follow the RandAugment paper (Cubuk et al.,
2020): magnitude 10 is the standard strength; larger values keep growing, clipped where an
operation would destroy the image.
"""
from __future__ import annotations

import math

import tensorflow as tf

MAX_LEVEL = 10.0
FILL = 128.0  # grey where geometric operations uncover the canvas


def _seed(seed, salt: int):
    return tf.random.experimental.stateless_fold_in(seed, salt)


def _signed(level, seed):
    """+level or -level with equal odds: geometric operations go both ways."""
    flip = tf.random.stateless_uniform([], _seed(seed, 7)) < 0.5
    return tf.where(flip, -level, level)


def _translation(dx, dy):
    return tf.stack([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _transform(image, matrix):
    """Applies a 3x3 projective matrix (output -> input coordinates) about the image centre."""
    half_height = tf.cast(tf.shape(image)[0], tf.float32) / 2
    half_width = tf.cast(tf.shape(image)[1], tf.float32) / 2
    full = _translation(half_width, half_height) @ matrix @ _translation(-half_width, -half_height)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=tf.reshape(full, [9])[None, :8], output_shape=tf.shape(image)[:2],
        fill_value=FILL, interpolation="BILINEAR", fill_mode="CONSTANT")[0]


def rotate(image, level, seed):
    angle = _signed(tf.minimum(level, 20.0) * 3.0, seed) * math.pi / 180  # 30 degrees at level 10
    c, s = tf.cos(angle), tf.sin(angle)
    return _transform(image, tf.stack([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]))


def shear_x(image, level, seed):
    k = _signed(tf.minimum(level, 20.0) * 0.03, seed)
    return _transform(image, tf.stack([[1.0, k, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))


def shear_y(image, level, seed):
    k = _signed(tf.minimum(level, 20.0) * 0.03, seed)
    return _transform(image, tf.stack([[1.0, 0.0, 0.0], [k, 1.0, 0.0], [0.0, 0.0, 1.0]]))


def translate_x(image, level, seed):
    shift = _signed(tf.minimum(level, 20.0) * 0.045, seed) * tf.cast(tf.shape(image)[1], tf.float32)
    return _transform(image, _translation(shift, 0.0))


def translate_y(image, level, seed):
    shift = _signed(tf.minimum(level, 20.0) * 0.045, seed) * tf.cast(tf.shape(image)[0], tf.float32)
    return _transform(image, _translation(0.0, shift))


def _blend(image, degenerate, factor):
    return tf.clip_by_value(degenerate + factor * (image - degenerate), 0.0, 255.0)


def _enhance_factor(level, seed):
    """1 +- 0.09 per level (0.1..1.9 at level 10), as in the paper's PIL enhancers."""
    return 1.0 + _signed(tf.minimum(level, 10.5) * 0.09, seed)


def color(image, level, seed):
    grey = tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image))
    return _blend(image, grey, _enhance_factor(level, seed))


def contrast(image, level, seed):
    mean = tf.reduce_mean(tf.image.rgb_to_grayscale(image))
    return _blend(image, tf.fill(tf.shape(image), mean), _enhance_factor(level, seed))


def brightness(image, level, seed):
    return _blend(image, tf.zeros_like(image), _enhance_factor(level, seed))


def sharpness(image, level, seed):
    kernel = tf.constant([[1.0, 1, 1], [1, 5, 1], [1, 1, 1]]) / 13.0
    kernel = tf.tile(kernel[:, :, None, None], [1, 1, 3, 1])
    blurred = tf.nn.depthwise_conv2d(image[None], kernel, [1, 1, 1, 1], "SAME")[0]
    return _blend(image, blurred, _enhance_factor(level, seed))


def solarize(image, level, seed):
    threshold = 256.0 - tf.minimum(level, 10.0) * 25.6
    return tf.where(image < threshold, image, 255.0 - image)


def posterize(image, level, seed):
    bits = tf.cast(8 - tf.minimum(level, 10.0) * 0.4, tf.int32)  # 8 -> 4 bits
    shift = tf.cast(8 - bits, tf.uint8)
    pixels = tf.cast(image, tf.uint8)
    return tf.cast(tf.bitwise.left_shift(tf.bitwise.right_shift(pixels, shift), shift), tf.float32)


def auto_contrast(image, level, seed):
    low = tf.reduce_min(image, axis=[0, 1], keepdims=True)
    high = tf.reduce_max(image, axis=[0, 1], keepdims=True)
    return tf.where(high > low, (image - low) * 255.0 / tf.maximum(high - low, 1.0), image)


def identity(image, level, seed):
    return image


OPERATIONS = (identity, auto_contrast, rotate, solarize, color, posterize, contrast, brightness, sharpness,
              shear_x, shear_y, translate_x, translate_y)


def rand_augment(image, magnitude, seed, layers: int = 2):
    """`layers` operations drawn uniformly from OPERATIONS, each at `magnitude` (float image 0-255)."""
    if magnitude <= 0:
        return image
    level = tf.constant(float(magnitude))
    for layer in range(layers):
        layer_seed = _seed(seed, 100 + layer)
        choice = tf.random.stateless_uniform([], layer_seed, 0, len(OPERATIONS), tf.int32)
        branches = [lambda op=op: op(image, level, layer_seed) for op in OPERATIONS]
        image = tf.ensure_shape(tf.switch_case(choice, branches), image.shape)
    return image


def random_resized_crop(image, size: int, seed, scale=(0.8, 1.0), ratio=(3 / 4, 4 / 3)):
    """A random box covering `scale` of the image area at an aspect in `ratio`, resized to size."""
    begin, extent, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(image), bounding_boxes=tf.zeros([1, 0, 4]), seed=_seed(seed, 1),
        min_object_covered=0.0, aspect_ratio_range=ratio, area_range=scale, max_attempts=10,
        use_image_if_no_bounding_boxes=True)
    crop = tf.slice(image, begin, extent)
    return tf.image.resize(tf.cast(crop, tf.float32), [size, size], antialias=True)


def train_image(image, size: int, magnitude: float, seed, crop_area: float = 0.8, flip: bool = True):
    """uint8 image of any size -> augmented float32 [size, size, 3] in [0, 255]; the random crop
    keeps `crop_area` to all of the image (Inception-style 0.08 suits ImageNet's large objects;
    small objects in small data sets need more). `flip`: mirror half the images (not for
    digits, text or left/right classes)."""
    image = random_resized_crop(image, size, seed, (crop_area, 1.0))
    if flip:
        image = tf.image.stateless_random_flip_left_right(image, _seed(seed, 2))
    image = tf.ensure_shape(image, [size, size, 3])
    return rand_augment(image, magnitude, _seed(seed, 3))


def mixup(images, labels, alpha: float, seed):
    """Blends each example with the batch reversed, one Beta(alpha, alpha) weight per batch.
    labels: one-hot (or soft) float targets."""
    if alpha <= 0:
        return images, labels
    a = tf.random.stateless_gamma([], _seed(seed, 1), alpha)
    b = tf.random.stateless_gamma([], _seed(seed, 2), alpha)
    weight = a / (a + b)
    return (weight * images + (1 - weight) * tf.reverse(images, [0]),
            weight * labels + (1 - weight) * tf.reverse(labels, [0]))
