"""Whether a converted file may replace the previous one: held-out top-1 against Keras for a
trained model, SQNR layer by layer for an untrained one, cosine similarity otherwise, and no float
op in a full-integer file; and what to try when a file is refused."""
from __future__ import annotations

import numpy as np

from runtime.inference import run_tflite

from . import fidelity, ops, recipes, validate
from .inputs import HeldOut
from .job import PERCENTILE_PRECISIONS, Job


class ValidationFailed(RuntimeError):
    """The converted file does not compute what the Keras model computes."""


REJECTED = ((ValidationFailed, 3, "validation failed: "),)  # exit code of a rejected file (core.cli)


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
