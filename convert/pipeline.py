"""The main job: variant -> calibrated, validated, Android-ready .tflite with manifest.

    inputs (checked first) -> build -> convert -> validate -> accept -> metadata -> files -> runtime checks

Every check that can fail on user input runs before the slow work (convert.inputs), and nothing
is written until the new file has passed validation (convert.acceptance), so a failed run leaves
earlier artifacts as they were.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import tf_keras as keras

from core import artifacts
from core.files import atomic_write
from imagedata.labels import labels_text
from models.profile import int8_floor_bytes
from models.registry import base_name
from runtime.arm.counts import size_class_on_core

from . import fidelity, metadata, ops, recipes, validate
from .report import render_report
from .acceptance import REJECTED, ValidationFailed, acceptance_problems, labelled_accuracy, refusal_advice
from .acceptance import untrained_quantized
from .entry import VERSION, ManifestEntry, RuntimeChecks
from .inputs import build_model, held_out, prepared
from .job import Job

__all__ = ["Job", "REJECTED", "Result", "ValidationFailed", "run"]


@dataclass
class Result:
    tflite: Path
    manifest: dict
    report: Path
    timings: dict = field(default_factory=dict)


class Laps:
    """Seconds spent in each step of the job, for the manifest's timings_s."""

    def __init__(self):
        self.timings, self._started = {}, time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._started, 2)
        self._started = now


def run(job: Job, quantization_aware: Callable[[keras.Model], keras.Model] | None = None,
        extra: dict | None = None) -> Result:
    """Converts `job`; for int8_qat, `quantization_aware` turns the trained float model into the
    fine-tuned fake-quantized one that is converted (validation still compares with the float
    model). `extra` goes into the manifest entry."""
    if (job.precision == "int8_qat") != (quantization_aware is not None):
        raise ValueError("int8_qat files come from quantization-aware training: make qat WEIGHTS=model.keras "
                         "DATA=folder VARIANT=...; make tflite takes the other precisions")
    lap = Laps()
    job, size, images, labels = prepared(job)
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
    checks = runtime_checks(job, path, images.validation)
    lap("package_s")
    if labels:
        atomic_write(folder / "labels.txt", labels_text(labels))
    entry = ManifestEntry(job=job, tflite=tflite, input_size=size, parameters=model.count_params(),
                          int8_floor_bytes=int8_floor_bytes(model), calibration=images.summary(),
                          validation=figures, op_list=op_list, checks=checks, timings_s=lap.timings,
                          extra=extra or {}).as_json()
    manifest = artifacts.update_manifest(folder, {"variant": job.variant}, path.name, entry)
    report = folder / f"{name}.report.md"
    atomic_write(report, render_report(name, entry))
    return Result(path, manifest, report, lap.timings)


def runtime_checks(job: Job, path: Path, validation_images) -> RuntimeChecks:
    """The written file on the GPU accelerator, on tflite-runtime 2.14 and on an emulated ARM core,
    each where asked and available; for that core, what runtime/arm/counts.csv says of the variant's
    size class there (which variant executes the fewest instructions)."""
    arm = {"status": "skipped", "reason": "no --arm-check CORE"}
    if job.arm_core:
        arm = validate.arm_check(str(path), validation_images, job.arm_core)
        if size_class := size_class_on_core(base_name(job.variant), job.precision, job.arm_core):
            arm["size_class"] = size_class
    return RuntimeChecks(
        gpu=validate.gpu_check(str(path)) if job.gpu_check else {"status": "skipped", "reason": "--no-gpu-check"},
        legacy=(validate.legacy_check(str(path), validation_images) if job.legacy_check
                else {"status": "skipped", "reason": "--no-legacy-check"}),
        arm=arm)


def with_metadata(job: Job, tflite: bytes, size: int, labels: list[str] | None) -> bytes:
    """Android/MediaPipe image-classifier metadata; their image input must be float or uint8,
    so an int8-input file ships without it (the manifest still describes it)."""
    if job.precision in recipes.FULL_INTEGER and job.io_type == "int8":
        return tflite
    return metadata.embed_metadata(
        tflite, name=f"EfficientNetV2 {job.variant} ({job.precision})", version=VERSION, labels=labels,
        description=f"{job.variant} image classifier, {size}x{size} RGB pixels in [0, 255], "
                    f"{'probabilities' if job.weights else 'logits (untrained)'} for {job.classes} classes")


