"""The last standalone tflite-runtime (2.14, numpy<2) as an old app would run a file, in its
own environment (make bench-legacy-env): run by path,
`.venv-legacy/bin/python convert/legacy_client.py MODEL.tflite INPUTS.npy OUTPUTS.npy`.

Feeds each input (already in the model's input dtype) one at a time and saves the raw outputs.
Imports only tflite_runtime and numpy (this environment has no TensorFlow).
"""
from __future__ import annotations

import sys

import numpy as np
import tflite_runtime
from tflite_runtime.interpreter import Interpreter


def main(argv: list[str]) -> int:
    model, inputs, outputs = argv
    interpreter = Interpreter(model_path=model, num_threads=1)
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    results = []
    for sample in np.load(inputs):
        interpreter.set_tensor(inp["index"], sample[None])
        interpreter.invoke()
        results.append(interpreter.get_tensor(out["index"])[0].copy())
    np.save(outputs, np.stack(results))
    print(tflite_runtime.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
