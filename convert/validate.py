"""Does the .tflite compute what the Keras model computes? Measured on held-out images."""
from __future__ import annotations

import numpy as np
import tf_keras as keras
from ai_edge_litert.interpreter import Interpreter

# Lowest acceptable mean cosine similarity to Keras, per precision. Below it the file is
# rejected: a wrong model must not replace a good one. Int8 is loose on purpose: untrained
# networks (the offline default) quantize worse than trained ones (0.94 seen on ghost_b0),
# while a broken conversion lands near 0.
MIN_COSINE = {"fp32": 0.9999, "fp16": 0.999, "dynamic": 0.98, "int8": 0.90, "int8_per_tensor": 0.80,
              "int16x8": 0.98, "int8_qat": 0.90}


def _quantize(values: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if not np.issubdtype(detail["dtype"], np.integer):
        return values.astype(detail["dtype"])
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(values / scale + zero_point), info.min, info.max).astype(detail["dtype"])


def _dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if not np.issubdtype(detail["dtype"], np.integer):
        return values.astype(np.float32)
    return (values.astype(np.float32) - zero_point) * scale


def run_tflite(tflite: bytes, images: np.ndarray, num_threads: int = 2) -> np.ndarray:
    """Outputs of the .tflite for each image (batch 1 at a time), dequantized to float."""
    interpreter = Interpreter(model_content=tflite, num_threads=num_threads)
    interpreter.allocate_tensors()
    (input_detail,), (output_detail,) = interpreter.get_input_details(), interpreter.get_output_details()
    outputs = []
    for image in images:
        interpreter.set_tensor(input_detail["index"], _quantize(image[None].astype(np.float32), input_detail))
        interpreter.invoke()
        outputs.append(_dequantize(interpreter.get_tensor(output_detail["index"]), output_detail)[0])
    return np.stack(outputs)


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
    from bench.report import accelerator_label
    from bench.sweep import probe

    record = probe(path, "gpu", timeout)
    if not record.ok:
        return {"status": record.status, "reason": record.reason}
    return {"status": "ran", "fully_accelerated": record.fully_accelerated,
            "software_emulated": record.software_emulated, "device": accelerator_label(record)}
