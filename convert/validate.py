"""Does the .tflite compute what the Keras model computes? Measured on held-out images."""
from __future__ import annotations

import dataclasses
import os

import numpy as np
import tf_keras as keras
from ai_edge_litert.interpreter import Interpreter

from core.files import temporary_directory
from runtime.inference import model_inputs, run_tflite

# Lowest acceptable mean cosine similarity to Keras, per precision. Below it the file is
# rejected: a wrong model must not replace a good one. Int8 is loose on purpose: untrained
# networks (the offline default) quantize worse than trained ones (0.94 seen on ghost_b0),
# while a broken conversion lands near 0.
MIN_COSINE = {"fp32": 0.9999, "fp16": 0.999, "dynamic": 0.98, "int8": 0.90, "int8_per_tensor": 0.80,
              "int16x8": 0.98, "int8_qat": 0.90}


def arm_check(path: str, images: np.ndarray, core: str, timeout: float = 900) -> dict:
    """Runs the file on one emulated ARM core (make arm-env) on the held-out images: are its outputs
    those of this machine's LiteRT, bit for bit? Also its instructions per inference there, and where
    they differ, the first op whose output differs (on the first image that differs)."""
    from runtime.arm import CORES, default_env, run_on_core
    from runtime.arm.numerics import agreement

    if problem := default_env().problem():
        return {"status": "skipped", "reason": problem}
    with open(path, "rb") as file:
        samples = model_inputs(file.read(), images)[:, None]  # one [1, S, S, 3] input per image
    run = run_on_core(path, core, inputs=[samples], timeout=timeout, stacked=True)
    if not run.ok:
        return {"status": "failed", "core": CORES[core].title, "reason": run.reason}
    match = agreement(path, run, stacked=True)
    result = {"status": "same outputs" if match.bit_exact else "different outputs", "core": CORES[core].title,
              "images": match.samples, "images_differing": match.samples_differing, "bit_exact": match.bit_exact,
              "max_difference": match.max_abs_diff, "instructions_per_inference": run.instructions_per_inference,
              "measure": "emulated (qemu-user instruction count, not a timing)"}
    if not match.bit_exact:
        result["first_divergence"] = _first_divergence(path, core, _first_differing(path, run), timeout)
    return result


def _first_differing(path: str, run) -> list:
    """The inputs of the first image whose outputs differ."""
    from runtime.arm.numerics import host_outputs

    for sample, theirs in zip(zip(*run.inputs), zip(*run.outputs)):
        ours = host_outputs(path, list(sample))
        if any(not np.array_equal(o, t) for o, t in zip(ours, theirs)):
            return list(sample)
    return [x[0] for x in run.inputs]


def _first_divergence(path: str, core: str, inputs: list, timeout: float) -> dict | str | None:
    """Which op's output differs first (an answer of None: none did once every op output was exposed)."""
    from .divergence import first_divergence

    found = first_divergence(path, core, inputs, timeout)
    return dataclasses.asdict(found) if dataclasses.is_dataclass(found) else found


def legacy_check(path: str, images: np.ndarray, timeout: float = 300) -> dict:
    """Runs the file on the last standalone tflite-runtime (2.14, its own environment) and
    compares its raw outputs with LiteRT's: equal within one quantization step for integer
    outputs, 1e-4 relative for float ones; or, for integer outputs, no further from LiteRT
    than LiteRT's own XNNPACK and reference kernels are from each other. Old apps still ship
    that runtime."""
    import subprocess

    from core.environments import LEGACY_PYTHON

    if not os.path.exists(LEGACY_PYTHON):
        return {"status": "skipped", "reason": f"no {LEGACY_PYTHON}: make bench-legacy-env"}
    with open(path, "rb") as file:
        tflite = file.read()
    with temporary_directory("legacy-") as tmp:
        inputs, outputs = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")
        np.save(inputs, model_inputs(tflite, images))
        client = os.path.join(os.path.dirname(os.path.abspath(__file__)), "legacy_client.py")
        try:
            done = subprocess.run([LEGACY_PYTHON, client, path, inputs, outputs], capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"status": "failed", "reason": f"timed out after {timeout:g} s"}
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()] or ["no error output"]
            return {"status": "failed", "reason": lines[-1][:300]}
        theirs, ours = np.load(outputs), run_tflite(tflite, images, raw=True)
    difference = float(np.max(np.abs(theirs.astype(np.float64) - ours.astype(np.float64))))
    result = {"runtime": f"tflite-runtime {done.stdout.strip()}", "images": len(images),
              "top1_agreement": float(np.mean(theirs.argmax(1) == ours.argmax(1)))}
    if not np.issubdtype(ours.dtype, np.integer):
        same = np.allclose(theirs, ours, rtol=1e-4, atol=1e-6)
        return {"status": "same outputs" if same else "different outputs", **result,
                "max_difference": difference, "unit": "output units"}
    # Integer kernels round differently (XNNPACK requantizes in fp32, TFLite's reference
    # kernels in fixed point): LiteRT's own two disagree by several steps on a deep network.
    # That spread is the yardstick. The old runtime has kernels of either family, so it is held
    # to the nearer of LiteRT's two (against XNNPACK alone, 3 implementations that each differ
    # by rounding put it outside the spread about half the time); a broken runtime lands far outside.
    reference = run_tflite(tflite, images, raw=True, reference_kernels=True)
    spread = float(np.max(np.abs(reference.astype(np.float64) - ours.astype(np.float64))))
    to_reference = float(np.max(np.abs(theirs.astype(np.float64) - reference.astype(np.float64))))
    nearest = min(difference, to_reference)
    status = ("same outputs" if difference <= 1 else
              "within LiteRT's own kernel spread" if nearest <= max(1.0, spread) else "different outputs")
    return {"status": status, **result, "max_difference": difference, "max_difference_to_reference_kernels":
            to_reference, "litert_xnnpack_vs_reference_kernels": spread, "unit": "quantization steps"}


def agreement(expected: np.ndarray, actual: np.ndarray) -> dict:
    """Top-1 agreement, cosine similarity and absolute errors of two output batches."""
    expected, actual = expected.reshape(len(expected), -1), actual.reshape(len(actual), -1)
    norms = np.linalg.norm(expected, axis=1) * np.linalg.norm(actual, axis=1)
    cosine = np.sum(expected * actual, axis=1) / np.maximum(norms, 1e-12)
    error = np.abs(expected - actual)
    return {"images": len(expected),
            "top1_agreement": float(np.mean(expected.argmax(1) == actual.argmax(1))),
            "cosine_mean": float(cosine.mean()), "cosine_min": float(cosine.min()),
            "max_abs_error": float(error.max()), "mean_abs_error": float(error.mean())}


def validate(model: keras.Model, tflite: bytes, images: np.ndarray) -> dict:
    expected = model.predict(images.astype(np.float32), batch_size=8, verbose=0)
    return agreement(expected, run_tflite(tflite, images))


def xnnpack_partitions(tflite: bytes) -> int:
    """How many pieces XNNPACK runs the graph in. 1 is the goal: every op XNNPACK lacks runs
    on the reference kernels between pieces, and costs a copy at each boundary."""
    interpreter = Interpreter(model_content=tflite, num_threads=1)
    interpreter.allocate_tensors()  # applies the default XNNPACK delegate
    return sum(op["op_name"] == "DELEGATE" for op in interpreter._get_ops_details())


def io_contract(tflite: bytes) -> dict:
    """Shapes, dtypes and quantization of the inputs and outputs: what an app must feed."""
    interpreter = Interpreter(model_content=tflite)

    def describe(details):
        return [{"name": d["name"], "shape": [int(n) for n in d["shape"]], "dtype": np.dtype(d["dtype"]).name,
                 "scale": float(d["quantization"][0]), "zero_point": int(d["quantization"][1])}
                for d in details]

    return {"inputs": describe(interpreter.get_input_details()),
            "outputs": describe(interpreter.get_output_details())}


def gpu_check(path: str, timeout: float = 300) -> dict:
    """Compiles and runs the file on LiteRT's GPU accelerator in a child process (bench's
    `gpu` backend: a delegate crash must not kill the conversion). Without a GPU this is
    Mesa's software Vulkan where installed (bench/setup_gpu_sw.sh): it proves the graph
    runs there, not its speed."""
    from runtime.isolated import probe
    from runtime.records import accelerator_label

    record = probe(path, "gpu", timeout)
    if not record.ok:
        return {"status": record.status, "reason": record.reason}
    return {"status": "ran", "fully_accelerated": record.fully_accelerated,
            "software_emulated": record.software_emulated, "device": accelerator_label(record)}
