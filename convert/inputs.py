"""What one conversion starts from: the job with every default resolved and checked before
anything slow runs, the calibration and validation images, the labels, the float inference model
and, for a trained model with labelled DATA, the held-out images its accuracy is scored on."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
import tf_keras as keras

from core.files import ensure_writable
from imagedata.labels import read_labels
from imagedata.layout import training_folder
import models
from models.weights import check_weights_file, reestimate_batch_norm
from quantize import ImageSet, builtin_images, folder_images

from . import recipes, trained
from .job import PERCENTILE_PRECISIONS, Job


def resolved(job: Job) -> Job:
    """`job` with VARIANT, SIZE, CLASSES and LABELS filled from WEIGHTS where unset (a
    contradiction is a one-line error); CLASSES from the labels file where still unknown."""
    variant, size, classes, labels = trained.reconcile(job.weights, job.variant, job.size, job.classes, job.labels)
    if classes is None and labels:
        classes = len(read_labels(labels))
    return dataclasses.replace(job, variant=variant, size=size, classes=classes, labels=labels)


def with_classes(job: Job, images: ImageSet) -> Job:
    """CLASSES, where neither WEIGHTS nor LABELS said: DATA's class folders, else ImageNet's 1000."""
    if job.classes is not None:
        return job
    return dataclasses.replace(job, classes=len(images.class_names) or trained.DEFAULT_CLASSES)


def preflight(job: Job) -> models.Variant:
    """All checks on user input, before anything slow runs or anything is written (`job` resolved)."""
    variant = models.get_variant(job.variant)
    recipes.check_options(job.precision, job.io_type)
    if job.calibration < 1 or job.validation < 1 or job.calibration_workers < 1:
        raise ValueError("CALIB, the validation count and the calibration workers must be at least 1")
    if job.calibration_percentile is not None and not (
            50 <= job.calibration_percentile <= 100 and job.precision in PERCENTILE_PRECISIONS):
        raise ValueError("the calibration percentile is for int8 and int8_per_tensor, between 50 and 100 "
                         f"(100 = min/max), got {job.calibration_percentile} for {job.precision}")
    if job.weights and job.weights != "imagenet":
        check_weights_file(job.weights)
    if job.data and not Path(job.data).is_dir():
        raise FileNotFoundError(f"DATA folder {job.data!r} does not exist; give a folder of images, "
                                "or leave DATA unset for the built-in photos")
    models.check_settings(variant, variant.input_size(job.size), job.classes or trained.DEFAULT_CLASSES)
    if job.labels and job.classes and (count := len(read_labels(job.labels))) != job.classes:
        raise ValueError(f"{count} labels in {job.labels!r} but CLASSES={job.classes}; set CLASSES={count} (or leave "
                         "it unset) or give the labels file of this model")
    ensure_writable(Path(job.out) / job.variant)
    return variant


def load_images(job: Job, size: int) -> ImageSet:
    count = job.calibration if job.precision in recipes.CALIBRATED else 0
    if job.data:
        return folder_images(training_folder(job.data), size, count, job.validation, job.calibration_seed)
    return builtin_images(size, count, job.validation, job.calibration_seed)


def class_labels(job: Job, images: ImageSet) -> list[str] | None:
    if job.labels:
        labels = read_labels(job.labels)
    else:
        labels = images.class_names or None
    if labels and len(labels) != job.classes:
        source = repr(job.labels) if job.labels else f"DATA {job.data!r} (its class folders)"
        raise ValueError(f"{len(labels)} labels in {source} but CLASSES={job.classes}; set CLASSES={len(labels)} "
                         "(or leave it unset) or give labels for every output")
    return labels


def build_model(job: Job, images: ImageSet):
    """The inference model. Untrained (no WEIGHTS), it outputs logits: its softmax is nearly
    uniform, below the 1/256 step of a uint8 output, so probabilities would validate nothing."""
    trained = job.weights is not None
    tf.keras.utils.set_random_seed(job.seed)  # same untrained weights every run: same file
    model = models.build(job.variant, weights=job.weights, input_size=job.size, num_classes=job.classes,
                         dropout=0.0, drop_path=0.0, classifier_activation="softmax" if trained else None)
    if not trained:
        reestimate_batch_norm(model, np.concatenate([images.calibration, images.validation]))
    return model


@dataclass
class HeldOut:
    """DATA's labelled held-out images with the Keras model's top-1 on them: decoded and
    predicted once, however many files are then scored (quant-report scores several)."""

    images: np.ndarray
    truth: np.ndarray
    keras_top1: np.ndarray
    split: str


def held_out(job: Job, model, labels: list[str] | None, size: int) -> HeldOut | None:
    """DATA's test/ split where it has one, else the held-out split `make train` chose epochs on,
    a seeded sample of `job.accuracy_images`. Trained models with labelled DATA only."""
    if not (job.weights and job.data and labels):
        return None
    from imagedata.folders import LabelledFiles, scan
    from imagedata.labels import matched_labels
    from imagedata.tensors import images_of

    splits = scan(job.data, seed=job.seed)
    held = splits.held_out
    order = np.random.default_rng(job.seed).permutation(len(held))[:job.accuracy_images]
    files = LabelledFiles([held.files[i] for i in order], [held.labels[i] for i in order])
    index = np.asarray(matched_labels(labels, Path(job.weights), splits))
    images = images_of(files, size)
    keras_top1 = model.predict(images.astype(np.float32), batch_size=32, verbose=0).argmax(1)
    return HeldOut(images, index[np.asarray(files.labels)], keras_top1, splits.layout)


@dataclass
class StudyInputs:
    job: Job  # with CLASSES from DATA's class folders unless given
    size: int
    images: ImageSet  # make tflite's calibration (and validation) images for this job
    labels: list[str] | None
    model: keras.Model  # the float inference model make tflite converts
    held: HeldOut | None


def study_inputs(job: Job) -> StudyInputs:
    """What make tflite starts from for a trained model: its calibration images, labels, float
    model and held-out split. The int8 studies (make calib-study, make quant-report) start here,
    so they study the file make tflite writes, not a look-alike."""
    job, size, images, labels = prepared(job)
    model = build_model(job, images)
    return StudyInputs(job, size, images, labels, model, held_out(job, model, labels, size))


def prepared(job: Job) -> tuple[Job, int, ImageSet, list[str] | None]:
    """The job checked and resolved (CLASSES from DATA where still unset), its input size, its
    calibration and validation images and its labels: everything before the model is built."""
    job = resolved(job)
    size = preflight(job).input_size(job.size)
    images = load_images(job, size)
    job = with_classes(job, images)
    return job, size, images, class_labels(job, images)
