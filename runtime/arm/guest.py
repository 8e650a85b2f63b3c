"""Runs inside the emulated aarch64 Python (under qemu-user), so it imports numpy and LiteRT only:

    python3.11 guest.py MODEL INPUTS.npz OUTPUTS.npz SAMPLES INVOKES [MAPS]

Loads MODEL in LiteRT's Interpreter (XNNPACK, one thread). INPUTS.npz holds input_<i>: SAMPLES inputs
stacked on a new first axis (the host makes the bench workers' seeded sample where none is given). Invokes
SAMPLES times, one sample each, reading the outputs after each; then invokes without touching any tensor
until INVOKES in all: a run with two more invokes than another differs from it by two bare invoke() calls.
Saves the inputs and outputs, stacked the same way, to OUTPUTS.npz as input_<i> / output_<i>. With MAPS,
copies its /proc/self/maps there once LiteRT is loaded: where each library sits in this run (qemu-user
shows the guest's mappings), so the host can name the code the counting plugin saw run.
"""
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter


def stacked_inputs(interpreter, inputs_path, samples):
    given = np.load(inputs_path)
    stacks = []
    for i, _ in enumerate(interpreter.get_input_details()):
        name = f"input_{i}"
        stacks.append(given[name])
        if len(stacks[-1]) != samples:
            raise ValueError(f"{name} holds {len(stacks[-1])} samples, expected {samples}")
    return stacks


def main(model, inputs_path, outputs_path, samples, invokes, maps=None):
    samples, invokes = int(samples), int(invokes)
    interpreter = Interpreter(model_path=model, num_threads=1)
    interpreter.allocate_tensors()
    if maps:
        with open("/proc/self/maps") as source, open(maps, "w") as copy:
            copy.write(source.read())
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    stacks, results = stacked_inputs(interpreter, inputs_path, samples), []
    for k in range(invokes):
        if k < samples:
            for detail, stack in zip(inputs, stacks):
                interpreter.set_tensor(detail["index"], stack[k])
        interpreter.invoke()
        if k < samples:
            results.append([interpreter.get_tensor(detail["index"]) for detail in outputs])
    arrays = {f"input_{i}": stack for i, stack in enumerate(stacks)}
    arrays.update({f"output_{i}": np.stack([r[i] for r in results]) for i in range(len(outputs))})
    np.savez(outputs_path, **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:])
