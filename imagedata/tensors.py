"""The images of a DATA folder as TensorFlow decodes them: uint8 after a resize of the shorter side
and a centre crop, the pixels a camera app hands the shipped file, identical for Keras and
LiteRT. The one module of imagedata that imports TensorFlow (imported by train and convert only).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .folders import LabelledFiles

AUTOTUNE = tf.data.AUTOTUNE


def without_autotune_thread(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Fixed parallelism instead of tf.data's autotuner, for pipelines whose iterators come and go.

    The autotuner's model thread sleeps in doubling periods (10 ms, 20 ms, ... up to 60 s), and
    destroying an iterator waits for that thread's next wake-up (py-spy: the main thread in
    `RootDataset::Iterator::~Iterator` -> `UnboundedThreadPool::LogicalThreadWrapper::~...`). Each
    `fit()` of one epoch tears its iterator down, so epochs ended at ~41 or ~82 s after their data
    started, 8-35 s after their last step. Without the autotuner AUTOTUNE falls back to fixed
    defaults; the pipeline delivered the same images/s (b0's 160 px RandAugment+mixup input,
    800-1,000 img/s either way on 2 cores, 20x what training takes)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def decode(path):
    """Any JPEG/PNG/BMP/GIF (first frame) as uint8 RGB [height, width, 3]. JPEGs with libjpeg's
    accurate integer DCT, as PIL (calibration images) and Android's BitmapFactory decode them:
    decode_image's default fast DCT made red and blue about 1.2 levels darker."""
    data = tf.io.read_file(path)
    image = tf.cond(tf.io.is_jpeg(data),
                    lambda: tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE"),
                    lambda: tf.io.decode_image(data, channels=3, expand_animations=False))
    return tf.ensure_shape(image, [None, None, 3])


def resize_and_centre_crop(image, size: int):
    """Shorter side -> size (bilinear, antialiased), centre crop; uint8, like `fit_to_square`."""
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = size / tf.reduce_min(shape)
    new_shape = tf.maximum(tf.cast(tf.round(shape * scale), tf.int32), size)
    resized = tf.image.resize(image, new_shape, antialias=True)
    top, left = (new_shape[0] - size) // 2, (new_shape[1] - size) // 2
    crop = resized[top:top + size, left:left + size]
    return tf.ensure_shape(tf.cast(tf.clip_by_value(tf.round(crop), 0, 255), tf.uint8), [size, size, 3])


def eval_images(files: list[str], size: int) -> tf.data.Dataset:
    """uint8 [size, size, 3] images in file order (unbatched)."""
    return without_autotune_thread(
        tf.data.Dataset.from_tensor_slices(files)
        .map(lambda path: resize_and_centre_crop(decode(path), size), num_parallel_calls=AUTOTUNE))


def images_of(files: LabelledFiles, size: int) -> np.ndarray:
    return np.stack(list(eval_images(files.files, size).as_numpy_iterator()))
