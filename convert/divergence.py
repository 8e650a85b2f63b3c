"""`python -m convert.divergence MODEL.tflite [--core a76]`: the first op whose output differs between
x86 LiteRT and an emulated ARM core (make arm-env), for a file whose outputs differ there.

Every op's output is made a graph output, the file runs on both sides with the same seeded input, and
the outputs are compared in execution order (op indices are the file's own). Exposing every tensor can change how XNNPACK fuses ops,
so the answer is about the exposed graph; in practice the kernels are the same ones.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
from tensorflow.lite.tools import flatbuffer_utils

from runtime.arm import CORES, core as arm_core, run_on_core
from runtime.arm.numerics import host_outputs
from core.files import temporary_directory


@dataclasses.dataclass(frozen=True)
class Divergence:
    op_index: int
    op: str
    tensor: str
    elements_differing: int
    elements: int
    max_difference: float


def every_output_exposed(tflite: bytes) -> tuple[bytes, list[tuple[int, str, str]]]:
    """The file with every op output as a graph output, and (op index, op, tensor name) per output."""
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite))
    graph = model.subgraphs[0]
    produced = [(i, flatbuffer_utils.opcode_to_name(model, op.opcodeIndex), t)
                for i, op in enumerate(graph.operators) for t in op.outputs if t >= 0]
    graph.outputs = np.array([t for _, _, t in produced], dtype=np.int32)
    names = [(i, op, graph.tensors[t].name.decode()) for i, op, t in produced]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), names


def first_divergence(path: str, core: str, inputs: list | None = None, timeout: float = 1200) -> Divergence | None | str:
    """The first differing op for `inputs` (default: seeded random pixels); None when every exposed
    output is equal; a string: why it could not run."""
    exposed, names = every_output_exposed(Path(path).read_bytes())
    with temporary_directory("divergence-") as tmp:
        exposed_path = Path(tmp) / "exposed.tflite"
        exposed_path.write_bytes(exposed)
        run = run_on_core(exposed_path, core, inputs=inputs, timeout=timeout)
        if not run.ok:
            return run.reason
        host = host_outputs(exposed_path, run.inputs)
    for (index, op, tensor), ours, theirs in zip(names, host, run.outputs):
        if not np.array_equal(ours, theirs):
            gap = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
            return Divergence(index, op, tensor, int(np.count_nonzero(gap)), int(gap.size), float(gap.max()))
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m convert.divergence", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a .tflite file")
    p.add_argument("--core", default="a76", help=f"emulated core: {', '.join(CORES)} (default a76)")
    args = p.parse_args(argv)
    try:
        arm_core(args.core)
    except ValueError as e:
        p.exit(2, f"convert.divergence: error: {e}\n")
    if not Path(args.model).is_file():
        p.exit(2, f"convert.divergence: error: no such file: {args.model}\n")
    found = first_divergence(args.model, args.core)
    if isinstance(found, str):
        print(f"convert.divergence: error: {found}", file=sys.stderr)
        return 1
    if found is None:
        print(f"every op's output is equal on x86 and the emulated {CORES[args.core].title}")
        return 0
    print(f"first difference (x86 vs emulated {CORES[args.core].title}): op #{found.op_index} {found.op} -> "
          f"{found.tensor}: {found.elements_differing} of {found.elements} elements, up to {found.max_difference:g} apart")
    return 0


if __name__ == "__main__":
    sys.exit(main())
