"""tf.data pipelines: file lists -> decoded, augmented, batched, prefetched images.

Training batches are float32 pixels in [0, 255] (the models normalise inside the graph) with
one-hot targets (mixup blends them). Evaluation images are imagedata.tensors' (what a camera app
hands the shipped file).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import tensorflow as tf

from imagedata.folders import LabelledFiles
from imagedata.tensors import AUTOTUNE, decode, eval_images, without_autotune_thread

from . import augment

# Decoded images are kept in memory (decoded once for the whole run) up to this size.
CACHE_LIMIT_BYTES = 3 * 2**30


@dataclass
class Pipeline:
    """The train/val input of one run; `train(epoch, ...)` is a pure function of its arguments."""

    train_files: LabelledFiles
    val_files: LabelledFiles
    num_classes: int
    batch_size: int
    seed: int = 0
    cache: bool = True
    crop_area: float = 0.8  # smallest random crop, as a fraction of the image area
    flip: bool = True  # random horizontal flips

    def __post_init__(self):
        files = tf.data.Dataset.from_tensor_slices((self.train_files.files, self.train_files.labels))
        self._files = files
        self._decoded = files.map(lambda path, label: (decode(path), label), num_parallel_calls=AUTOTUNE).cache()

    def _shuffled(self, epoch: int) -> tf.data.Dataset:
        """Decoded (image, label) pairs in this epoch's order. Without the cache only the file
        names are shuffled, so the shuffle buffer never holds a whole data set of images."""
        shuffle = dict(buffer_size=len(self.train_files), seed=self.seed * 100_003 + epoch,
                       reshuffle_each_iteration=False)
        if self.cache:
            return self._decoded.shuffle(**shuffle)
        return self._files.shuffle(**shuffle).map(lambda path, label: (decode(path), label),
                                                  num_parallel_calls=AUTOTUNE)

    def train(self, epoch: int, size: int, randaug: float = 0.0, mixup: float = 0.0) -> tf.data.Dataset:
        """Shuffled, augmented, batched training data of `epoch` (same every time it is asked for)."""
        epoch_seed = tf.constant([self.seed, epoch], tf.int64)
        one_hot = self.num_classes

        def augment_one(index, pair):
            image, label = pair
            seed = tf.random.experimental.stateless_fold_in(epoch_seed, index)
            return (augment.train_image(image, size, randaug, seed, self.crop_area, self.flip),
                    tf.one_hot(label, one_hot))

        def mix(index, batch):
            images, labels = batch
            return augment.mixup(images, labels, mixup, tf.random.experimental.stateless_fold_in(epoch_seed, -1 - index))

        data = (self._shuffled(epoch)
                .enumerate()
                .map(augment_one, num_parallel_calls=AUTOTUNE)
                .batch(self.batch_size, drop_remainder=len(self.train_files) >= self.batch_size))
        if mixup > 0:
            data = data.enumerate().map(mix, num_parallel_calls=AUTOTUNE)
        return without_autotune_thread(data.prefetch(AUTOTUNE))

    def val(self, size: int) -> tf.data.Dataset:
        """Held-out images (uint8 in memory when cached) as float32 batches with one-hot targets."""
        return self.labelled(self.val_files, size)

    def labelled(self, files: LabelledFiles, size: int) -> tf.data.Dataset:
        """Any labelled files as the held-out images are served (val/, test/)."""
        return labelled_batches(files, size, self.num_classes, self.batch_size, self.cache)


def labelled_batches(files: LabelledFiles, size: int, num_classes: int, batch_size: int, cache: bool = True,
                     shuffle_seed: int | None = None) -> tf.data.Dataset:
    """Centre-cropped images as the shipped file sees them (no augmentation), float32 batches with
    one-hot targets; reshuffled every epoch with `shuffle_seed`."""
    labels = tf.data.Dataset.from_tensor_slices(files.labels)
    data = tf.data.Dataset.zip((eval_images(files.files, size), labels))
    if cache:
        data = data.cache()
    if shuffle_seed is not None:
        data = data.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    # eval_images' options (no autotune thread) carry through zip, cache, batch and map
    return (data.batch(batch_size)
            .map(lambda images, labels: (tf.cast(images, tf.float32), tf.one_hot(labels, num_classes)))
            .prefetch(AUTOTUNE))


def should_cache(train_files: LabelledFiles) -> bool:
    return train_files.decoded_bytes <= CACHE_LIMIT_BYTES


def images_per_second(dataset: tf.data.Dataset, batches: int = 20) -> float:
    """How fast the pipeline alone delivers images (after one warm-up batch)."""
    iterator = iter(dataset)
    next(iterator)
    count, started = 0, time.perf_counter()
    for _ in range(batches):
        try:
            count += int(tf.shape(next(iterator)[0])[0])
        except StopIteration:
            break
    return count / max(time.perf_counter() - started, 1e-9)
