"""Do a file's outputs on an emulated ARM core equal the host's (x86 LiteRT, XNNPACK, 1 thread)
for the same input? int8 kernels differ per core (A53 mlal, A76 dot product, ...) but compute the
same integers; float kernels may round differently."""
from __future__ import annotations

import dataclasses
import os

from .emulate import ArmRun


@dataclasses.dataclass(frozen=True)
class Agreement:
    bit_exact: bool
    max_abs_diff: float


def host_outputs(model: str | os.PathLike, inputs: list) -> list:
    """The outputs of `model` on this machine's LiteRT for `inputs` (one thread, like the guest)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model), num_threads=1)
    interpreter.allocate_tensors()
    for detail, value in zip(interpreter.get_input_details(), inputs):
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def agreement(model: str | os.PathLike, run: ArmRun) -> Agreement:
    """Compares a successful run's outputs with the host's for the same inputs."""
    import numpy as np

    host = host_outputs(model, run.inputs)
    exact = len(host) == len(run.outputs) and all(
        h.dtype == a.dtype and h.shape == a.shape and np.array_equal(h, a) for h, a in zip(host, run.outputs))
    diff = max((float(np.max(np.abs(h.astype(np.float64) - a.astype(np.float64))))
                for h, a in zip(host, run.outputs) if h.shape == a.shape), default=float("inf"))
    return Agreement(exact, diff)
