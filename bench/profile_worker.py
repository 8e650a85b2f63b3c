"""The process `bench.profile` samples: loads a .tflite in LiteRT and invokes it in a loop.

    python -m bench.profile_worker MODEL THREADS SECONDS STATS.json

Imports nothing but LiteRT, numpy and core.files (standard library), so perf's samples outside the
model are few.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from core.files import atomic_write


def main(argv: list[str]) -> int:
    model, threads, seconds, stats = argv[0], int(argv[1]), float(argv[2]), argv[3]
    interpreter = Interpreter(model_path=model, num_threads=threads)
    interpreter.allocate_tensors()
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    for _ in range(3):  # warm-up: first runs pack weights
        interpreter.invoke()
    cpu_started, started, invokes = time.process_time(), time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        interpreter.invoke()
        invokes += 1
    wall = time.perf_counter() - started
    # CPU time of the whole process (what perf's percentages are shares of), over the loop's invokes.
    atomic_write(Path(stats), json.dumps({"invokes": invokes, "mean_ms": 1000 * wall / invokes,
                                          "cpu_seconds": time.process_time(),
                                          "loop_cpu_seconds": time.process_time() - cpu_started}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
