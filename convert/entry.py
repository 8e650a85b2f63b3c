"""One file's entry in its folder's manifest.json: what the file is, what it was made from, how
it validated and which runtimes ran it. `ManifestEntry.as_json()` is the format the project's
readers (core.artifacts, bench, ship, the card) take."""
from __future__ import annotations

import dataclasses
import platform
from dataclasses import dataclass, field

import tensorflow as tf

from core import artifacts
from core.environments import package_version

from . import ops, validate
from .job import Job

VERSION = "0.1.0"  # the project's, written into each file's metadata and manifest entry


@dataclass(frozen=True, kw_only=True)
class RuntimeChecks:
    """The file run by runtimes other than this one: each a dict with a "status" (and a reason
    where skipped or failed)."""
    gpu: dict
    legacy: dict  # tflite-runtime 2.14
    arm: dict  # LiteRT aarch64 on an emulated ARM core


@dataclass(frozen=True, kw_only=True)
class ManifestEntry:
    job: Job  # resolved: every default filled in
    tflite: bytes  # the file as written, metadata included
    input_size: int
    parameters: int
    int8_floor_bytes: int  # one byte per weight: how far a file is from int8's least size
    calibration: dict  # ImageSet.summary()
    validation: dict  # validate.validate's figures, plus accuracy / depth profile / accepted_despite
    op_list: list[dict]  # convert.ops.operators(tflite)
    checks: RuntimeChecks
    timings_s: dict[str, float]
    extra: dict = field(default_factory=dict)  # added by the workflow that converted (e.g. QAT's facts)

    def as_json(self) -> dict:
        job, tflite = self.job, self.tflite
        return {
            "precision": job.precision, "sha256": artifacts.sha256(tflite), "size_bytes": len(tflite),
            "input_size": self.input_size, "num_classes": job.classes, "weights": job.weights,
            "parameters": self.parameters, "output": "probabilities" if job.weights else "logits",
            "size_over_int8_floor": round(len(tflite) / self.int8_floor_bytes, 3),
            **validate.io_contract(tflite),
            "calibration": self.calibration, "validation": self.validation, "gpu": self.checks.gpu,
            "runtimes": {"min_runtime_version": ops.min_runtime_version(tflite), "op_versions": ops.op_versions(tflite),
                         "legacy_tflite_runtime": self.checks.legacy, "arm_emulated": self.checks.arm},
            "ops": ops.op_summary(self.op_list), "float_ops": len(ops.float_ops(self.op_list)),
            "xnnpack_partitions": validate.xnnpack_partitions(tflite),
            "timings_s": self.timings_s,
            "versions": {"tensorflow": tf.__version__,
                         "ai_edge_litert": package_version("ai-edge-litert").split()[-1],
                         "python": platform.python_version(), "project": VERSION},
            "job": dataclasses.asdict(job),
            **self.extra,
        }
