"""Size, latency and memory of .tflite models across backends: `python -m bench --help`.

    from bench.artifacts import describe
    from bench.backends import Context, parse_backends
    from bench.sweep import execute, plan
    records = execute(plan([describe("m.tflite")], parse_backends("cpu,tf"), [1, 2],
                           RunSettings(), Context()))

Kept import-light on purpose: the worker subprocess imports this package inside the legacy
tflite-runtime environment, which has neither TensorFlow nor matplotlib.
"""
from .records import Latency, Record
from .timing import RunSettings

__all__ = ["Latency", "Record", "RunSettings"]
