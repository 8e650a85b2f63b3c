"""Do a file's outputs on an emulated ARM core equal the host's (x86 LiteRT, XNNPACK, 1 thread)
for the same inputs? Each core gets its own int8 kernels (A53 multiply-accumulate, A76 dot product,
...), and x86 others again: they mostly compute the same integers, but not always (docs/arm.md)."""
from __future__ import annotations

import dataclasses
import os

from .emulate import ArmRun


@dataclasses.dataclass(frozen=True)
class Agreement:
    bit_exact: bool
    max_abs_diff: float
    samples: int = 1
    samples_differing: int = 0


def host_outputs(model: str | os.PathLike, inputs: list) -> list:
    """The outputs of `model` on this machine's LiteRT for `inputs` (one thread, like the guest)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model), num_threads=1)
    interpreter.allocate_tensors()
    for detail, value in zip(interpreter.get_input_details(), inputs):
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def _gap(ours: list, theirs: list) -> float:
    """Largest absolute difference over the outputs of one sample (inf: they do not even match in shape)."""
    import numpy as np

    if len(ours) != len(theirs) or any(o.shape != t.shape or o.dtype != t.dtype for o, t in zip(ours, theirs)):
        return float("inf")
    return max(float(np.max(np.abs(o.astype(np.float64) - t.astype(np.float64)), initial=0.0))
               for o, t in zip(ours, theirs))


def agreement(model: str | os.PathLike, run: ArmRun, stacked: bool = False) -> Agreement:
    """Compares a successful run's outputs with the host's for the same inputs (`stacked`: as given to
    run_on_core, one sample after the other)."""
    samples = list(zip(*run.inputs)) if stacked else [run.inputs]
    theirs = list(zip(*run.outputs)) if stacked else [run.outputs]
    gaps = [_gap(host_outputs(model, list(sample)), list(outputs)) for sample, outputs in zip(samples, theirs)]
    return Agreement(bit_exact=max(gaps) == 0, max_abs_diff=max(gaps), samples=len(gaps),
                     samples_differing=sum(gap != 0 for gap in gaps))
