"""Size, latency and memory of .tflite models across backends: `python -m bench --help`.

    from bench.sweep import execute, plan
    from core.artifacts import describe
    from runtime.backends import Context, parse_backends
    from runtime.timing import RunSettings
    records = execute(plan([describe("m.tflite")], parse_backends("cpu,tf"), [1, 2],
                           RunSettings(), Context()))

One file on one backend, timed the same way: `runtime.isolated.measure(path, "cpu", threads=1)`.
The backends, their workers and the artifact contract live in `runtime/`; this package plans
sweeps, compares, profiles and reports.
"""
