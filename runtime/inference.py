"""Runs a .tflite on images in this process, as an app does: float pixels quantized to the
input's integer type where it has one, outputs dequantized back to float. convert validates
with it, train evaluates with it, quantize scores with it."""
from __future__ import annotations

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType


def quantize(values: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if not np.issubdtype(detail["dtype"], np.integer):
        return values.astype(detail["dtype"])
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(values / scale + zero_point), info.min, info.max).astype(detail["dtype"])


def dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if not np.issubdtype(detail["dtype"], np.integer):
        return values.astype(np.float32)
    return (values.astype(np.float32) - zero_point) * scale


def run_tflite(tflite: bytes, images: np.ndarray, num_threads: int = 2, raw: bool = False,
               reference_kernels: bool = False) -> np.ndarray:
    """Outputs of the .tflite for each image (batch 1 at a time), dequantized to float
    (`raw`: as the file wrote them; `reference_kernels`: TFLite's own kernels, no XNNPACK)."""
    resolver = (OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if reference_kernels else OpResolverType.AUTO)
    interpreter = Interpreter(model_content=tflite, num_threads=num_threads, experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    (input_detail,), (output_detail,) = interpreter.get_input_details(), interpreter.get_output_details()
    outputs = []
    for image in images:
        interpreter.set_tensor(input_detail["index"], quantize(image[None].astype(np.float32), input_detail))
        interpreter.invoke()
        output = interpreter.get_tensor(output_detail["index"])
        outputs.append((output if raw else dequantize(output, output_detail))[0])
    return np.stack(outputs)


def model_inputs(tflite: bytes, images: np.ndarray) -> np.ndarray:
    """The images as the file's input tensor takes them (quantized for integer input)."""
    (detail,) = Interpreter(model_content=tflite).get_input_details()
    return quantize(images.astype(np.float32), detail)
