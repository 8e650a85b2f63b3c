"""What is inside a .tflite: its operators with their tensor types, and its I/O contract."""
from __future__ import annotations

from collections import Counter

from tensorflow.lite.tools import flatbuffer_utils

FLOAT_TYPES = ("FLOAT32", "FLOAT16", "FLOAT64")


def operators(tflite: bytes) -> list[dict]:
    """Every operator of the main graph: name, input and output tensor types."""
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite))
    graph = model.subgraphs[0]

    def types(indices):
        return [flatbuffer_utils.type_to_name(graph.tensors[i].type) for i in indices if i >= 0]

    return [{"op": flatbuffer_utils.opcode_to_name(model, op.opcodeIndex),
             "inputs": types(op.inputs), "outputs": types(op.outputs)} for op in graph.operators]


def op_versions(tflite: bytes) -> dict[str, int]:
    """Each builtin op of the file with the version it needs (what decides the oldest runtime)."""
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite))
    versions: dict[str, int] = {}
    for index, code in enumerate(model.operatorCodes):
        name = flatbuffer_utils.opcode_to_name(model, index)
        versions[name] = max(versions.get(name, 0), code.version)
    return dict(sorted(versions.items()))


def min_runtime_version(tflite: bytes) -> str | None:
    """The oldest TFLite runtime that has every op version the file uses, as the converter
    records it from its own op-version table (the `min_runtime_version` metadata)."""
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite))
    for entry in model.metadata or []:
        if entry.name in (b"min_runtime_version", "min_runtime_version"):
            return bytes(model.buffers[entry.buffer].data).rstrip(b"\0").decode()
    return None


def op_summary(ops: list[dict]) -> dict[str, int]:
    return dict(Counter(op["op"] for op in ops).most_common())


def float_ops(ops: list[dict]) -> list[dict]:
    """Operators that compute in floating point: what a full-integer model must not have."""
    return [op for op in ops if any(t in FLOAT_TYPES for t in op["inputs"] + op["outputs"])]
