"""The main job: variant -> calibrated, validated, Android-ready .tflite with manifest.

    build -> images -> convert -> validate (+ op audit, GPU check) -> metadata -> files

Every check that can fail on user input runs before the slow work, and nothing is written
until the new file has passed validation, so a failed run leaves earlier artifacts as they were.
"""
from __future__ import annotations

import dataclasses
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import tensorflow as tf
import tf_keras as keras

from core import artifacts
from core.environments import package_version
from core.files import atomic_write, ensure_writable
from imagedata.labels import labels_text, read_labels
from imagedata.layout import training_folder
import models
from models.profile import int8_floor_bytes
from models.weights import check_weights_file, reestimate_batch_norm
from quantize import ImageSet, builtin_images, folder_images
from runtime.inference import run_tflite

from . import fidelity, metadata, ops, recipes, trained, validate
from .report import render_report
from .job import PERCENTILE_PRECISIONS, Job

VERSION = "0.1.0"


class ValidationFailed(RuntimeError):
    """The converted file does not compute what the Keras model computes."""


REJECTED = ((ValidationFailed, 3, "validation failed: "),)  # exit code of a rejected file (core.cli)


@dataclass
class Result:
    tflite: Path
    manifest: dict
    report: Path
    timings: dict = field(default_factory=dict)


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


def run(job: Job, quantization_aware: Callable[[keras.Model], keras.Model] | None = None,
        extra: dict | None = None) -> Result:
    """Converts `job`; for int8_qat, `quantization_aware` turns the trained float model into the
    fine-tuned fake-quantized one that is converted (validation still compares with the float
    model). `extra` goes into the manifest entry."""
    if (job.precision == "int8_qat") != (quantization_aware is not None):
        raise ValueError("int8_qat files come from quantization-aware training: make qat WEIGHTS=model.keras "
                         "DATA=folder VARIANT=...; make tflite takes the other precisions")
    timings, started = {}, time.perf_counter()

    def lap(name):
        nonlocal started
        timings[name] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()

    job = resolved(job)
    variant = preflight(job)
    size = variant.input_size(job.size)
    images = load_images(job, size)
    job = with_classes(job, images)
    labels = class_labels(job, images)
    lap("images_s")
    model = build_model(job, images)
    lap("build_s")
    convertible = model
    if quantization_aware:
        convertible = quantization_aware(model)
        lap("qat_s")
    tflite = recipes.convert(convertible, job.precision, images.calibration, job.io_type, job.calibration_workers,
                             job.calibration_percentile)
    lap("convert_s")
    figures = validate.validate(model, tflite, images.validation)
    held = held_out(job, model, labels, size)
    if held:
        figures["accuracy"] = labelled_accuracy(held, tflite)
    profile = None
    if untrained_quantized(job):
        profile = fidelity.depth_profile(model, tflite, images.validation)
        figures["depth_profile"] = profile.summary()
    op_list = ops.operators(tflite)
    lap("validate_s")
    tflite = with_metadata(job, tflite, size, labels)
    folder = Path(job.out) / job.variant
    name = artifacts.artifact_name(job.variant, job.precision).removesuffix(".tflite")
    problems = acceptance_problems(job, figures, op_list, profile)
    if problems and not job.force:
        rejected = folder / f"{name}.rejected.tflite"
        atomic_write(rejected, tflite)
        raise ValidationFailed(f"{name}: {'; '.join(problems)}; kept the previous artifact, wrote {rejected}. "
                               + refusal_advice(job))
    if problems:
        figures["accepted_despite"] = problems
    path = folder / f"{name}.tflite"
    atomic_write(path, tflite)
    gpu = validate.gpu_check(str(path)) if job.gpu_check else {"status": "skipped", "reason": "--no-gpu-check"}
    legacy = (validate.legacy_check(str(path), images.validation) if job.legacy_check
              else {"status": "skipped", "reason": "--no-legacy-check"})
    arm = (validate.arm_check(str(path), images.validation, job.arm_core) if job.arm_core
           else {"status": "skipped", "reason": "no --arm-check CORE"})
    lap("package_s")
    if labels:
        atomic_write(folder / "labels.txt", labels_text(labels))
    entry = {**manifest_entry(job, size, model, tflite, figures, op_list, images, gpu, legacy, arm, timings),
             **(extra or {})}
    manifest = artifacts.update_manifest(folder, {"variant": job.variant}, path.name, entry)
    report = folder / f"{name}.report.md"
    atomic_write(report, render_report(name, entry))
    return Result(path, manifest, report, timings)


def with_metadata(job: Job, tflite: bytes, size: int, labels: list[str] | None) -> bytes:
    """Android/MediaPipe image-classifier metadata; their image input must be float or uint8,
    so an int8-input file ships without it (the manifest still describes it)."""
    if job.precision in recipes.FULL_INTEGER and job.io_type == "int8":
        return tflite
    return metadata.embed_metadata(
        tflite, name=f"EfficientNetV2 {job.variant} ({job.precision})", version=VERSION, labels=labels,
        description=f"{job.variant} image classifier, {size}x{size} RGB pixels in [0, 255], "
                    f"{'probabilities' if job.weights else 'logits (untrained)'} for {job.classes} classes")


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
    job = resolved(job)
    variant = preflight(job)
    size = variant.input_size(job.size)
    images = load_images(job, size)
    job = with_classes(job, images)
    labels = class_labels(job, images)
    model = build_model(job, images)
    return StudyInputs(job, size, images, labels, model, held_out(job, model, labels, size))


def labelled_accuracy(held: HeldOut, tflite: bytes) -> dict:
    """Held-out top-1 of Keras and of the file, and their agreement."""
    tflite_top1 = run_tflite(tflite, held.images).argmax(1)
    keras_accuracy = float(np.mean(held.keras_top1 == held.truth))
    tflite_accuracy = float(np.mean(tflite_top1 == held.truth))
    return {"images": len(held.images), "split": held.split, "keras_top1": keras_accuracy,
            "tflite_top1": tflite_accuracy, "top1_drop_points": round(100 * (keras_accuracy - tflite_accuracy), 3),
            "top1_agreement": float(np.mean(held.keras_top1 == tflite_top1))}


def untrained_quantized(job: Job) -> bool:
    """An untrained model in a lossy precision: its logits say little (see convert.fidelity),
    so the file is judged layer by layer instead."""
    return job.weights is None and job.precision != "fp32"


def acceptance_problems(job: Job, figures: dict, op_list: list[dict],
                        profile: fidelity.DepthProfile | None = None) -> list[str]:
    problems = []
    accuracy = figures.get("accuracy")
    if accuracy and accuracy["top1_drop_points"] > job.max_top1_drop:
        problems.append(f"held-out top-1 {accuracy['tflite_top1']:.2%} is {accuracy['top1_drop_points']:.2f} points "
                        f"below Keras's {accuracy['keras_top1']:.2%} (allowed: {job.max_top1_drop})")
    if profile is not None:
        problems += profile.problems()
    else:
        minimum = validate.MIN_COSINE[job.precision]
        if figures["cosine_mean"] < minimum:
            problems.append(f"cosine similarity to Keras {figures['cosine_mean']:.4f} < {minimum}")
    if job.precision in recipes.FULL_INTEGER:
        floats = ops.float_ops(op_list)
        if floats:
            names = sorted({op["op"] for op in floats})
            problems.append(f"{len(floats)} ops stayed float in a full-integer model: {', '.join(names)}")
    return problems


def refusal_advice(job: Job) -> str:
    """What to change after a refusal, for this job's precision (make variables; the python -m
    convert flags are their lower-case names)."""
    steps = []
    if job.precision in recipes.CALIBRATED:
        steps.append(f"more calibration images (CALIB={max(300, 3 * job.calibration)})")
    if job.precision in PERCENTILE_PRECISIONS:
        other = 100 if job.calibration_percentile != 100 else 99.9
        steps.append(f"another range estimator (CALIB_PERCENTILE={other:g})")
    if job.precision in ("int8", "int8_per_tensor", "dynamic"):
        steps.append("PRECISION=int16x8 or fp16")
    if job.weights and job.data and job.precision in PERCENTILE_PRECISIONS:
        steps.append(f"the worst layers: make quant-report VARIANT={job.variant} WEIGHTS={job.weights} "
                     f"DATA={job.data}")
    return f"Try {', '.join(steps)}; or keep this file anyway with FORCE=1." if steps else \
        "Keep this file anyway with FORCE=1."


def manifest_entry(job, size, model, tflite, figures, op_list, images, gpu, legacy, arm, timings) -> dict:
    return {
        "precision": job.precision, "sha256": artifacts.sha256(tflite), "size_bytes": len(tflite),
        "input_size": size, "num_classes": job.classes, "weights": job.weights, "parameters": model.count_params(),
        "output": "probabilities" if job.weights else "logits",
        "size_over_int8_floor": round(len(tflite) / int8_floor_bytes(model), 3),
        **validate.io_contract(tflite),
        "calibration": images.summary(), "validation": figures, "gpu": gpu,
        "runtimes": {"min_runtime_version": ops.min_runtime_version(tflite), "op_versions": ops.op_versions(tflite),
                     "legacy_tflite_runtime": legacy, "arm_emulated": arm},
        "ops": ops.op_summary(op_list), "float_ops": len(ops.float_ops(op_list)),
        "xnnpack_partitions": validate.xnnpack_partitions(tflite),
        "timings_s": timings,
        "versions": {"tensorflow": tf.__version__, "ai_edge_litert": package_version("ai-edge-litert").split()[-1],
                     "python": platform.python_version(), "project": VERSION},
        "job": dataclasses.asdict(job),
    }
