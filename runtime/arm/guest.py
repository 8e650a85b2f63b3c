"""Runs inside the emulated aarch64 Python (under qemu-user), so it imports numpy and LiteRT only:

    python3.11 guest.py MODEL INPUTS.npz|- OUTPUTS.npz INVOKES

Loads MODEL in LiteRT's Interpreter (XNNPACK, one thread), sets its inputs (from INPUTS.npz, or
`-`: seeded random pixels, as the bench workers make them), calls invoke() INVOKES times and saves
the inputs and outputs to OUTPUTS.npz as input_<i> / output_<i>.
"""
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter


def random_input(shape, dtype):
    """Pixels in the range the model expects: [0, 255] floats or the full integer range (seed 0)."""
    rng, dtype = np.random.default_rng(0), np.dtype(dtype)
    if dtype.kind == "f":
        return rng.uniform(0, 255, size=shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def main(model, inputs_path, outputs_path, invokes):
    interpreter = Interpreter(model_path=model, num_threads=1)
    interpreter.allocate_tensors()
    given = np.load(inputs_path) if inputs_path != "-" else {}
    arrays = {}
    for i, detail in enumerate(interpreter.get_input_details()):
        value = given[f"input_{i}"] if f"input_{i}" in given else random_input(detail["shape"], detail["dtype"])
        interpreter.set_tensor(detail["index"], value)
        arrays[f"input_{i}"] = value
    for _ in range(int(invokes)):
        interpreter.invoke()
    for i, detail in enumerate(interpreter.get_output_details()):
        arrays[f"output_{i}"] = interpreter.get_tensor(detail["index"])
    np.savez(outputs_path, **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:])
