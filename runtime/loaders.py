"""Worker side of each backend: open the model in its runtime and return one inference step,
then time it (`in_process`). runtime.backends pairs each loader with its check.

Runs inside the worker subprocess. Runtime libraries are imported inside the loaders, so this
module also imports in the legacy environment (tflite-runtime, numpy<2) and nothing loads a
library that the chosen backend does not need.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import resource
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from core.environments import package_version, use_tf_keras
from .jobs import Job
from .records import Latency, Record
from .timing import measure


class Skip(Exception):
    """The backend cannot run this model here (not an error of the model or the runtime)."""


@dataclasses.dataclass
class Session:
    step: Callable[[], object]
    init_ms: float
    accelerator: str
    runtime: str
    fully_accelerated: bool | None = None
    software_emulated: bool = False


@dataclasses.dataclass
class _Stopwatch:
    ms: float = 0.0


@contextmanager
def stopwatch() -> Iterator[_Stopwatch]:
    watch, start = _Stopwatch(), time.perf_counter_ns()
    yield watch
    watch.ms = (time.perf_counter_ns() - start) / 1e6


def random_input(shape, dtype):
    """Pixels in the range the model expects: [0, 255] floats or the full integer range."""
    import numpy as np

    rng, dtype = np.random.default_rng(0), np.dtype(dtype)
    if dtype.kind == "f":
        return rng.uniform(0, 255, size=shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


# --- LiteRT CompiledModel: cpu, gpu, npu ---------------------------------------------------

def _accelerator_flags(cm, name: str):
    # GPU and NPU keep CPU as fallback for ops they refuse; is_fully_accelerated() says if any did.
    cpu = cm.HardwareAccelerator.CPU
    return {"cpu": cpu, "gpu": cm.HardwareAccelerator.GPU | cpu,
            "npu": cm.HardwareAccelerator.NPU | cpu}[name]


def _compiled_step(model, inputs, outputs, read_back: bool):
    run = model.run_by_index
    if not read_back:
        return lambda: run(0, inputs, outputs)
    # An accelerator may return before its work is done; reading the output (as an app must)
    # makes the timed step include it.
    details = [o.get_tensor_details() for o in outputs]
    sizes = [(int(_prod(d["shape"])), d["dtype"]) for d in details]
    return lambda: (run(0, inputs, outputs), [o.read(n, t) for o, (n, t) in zip(outputs, sizes)])


def _prod(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _environment(cm, job: Job):
    """The default environment, or one pointing at the NPU dispatch library the check found."""
    dispatch = job.options.get("npu_dispatch")
    return cm.Environment.create(dispatch_library_path=os.path.dirname(dispatch)) if dispatch else None


def load_compiled_model(job: Job) -> Session:
    from ai_edge_litert import compiled_model as cm

    name = job.backend.name
    options = cm.Options(hardware_accelerators=_accelerator_flags(cm, name),
                         cpu_options=cm.CpuOptions(num_threads=job.threads or 1))
    with stopwatch() as init:
        model = cm.CompiledModel.from_file(job.model.path, options=options,
                                           environment=_environment(cm, job))
        inputs, outputs = model.create_input_buffers(0), model.create_output_buffers(0)
        for buffer in inputs:
            d = buffer.get_tensor_details()
            buffer.write(random_input(d["shape"], d["dtype"]))
    device = job.options.get("gpu_device") or {}
    accelerator = {"cpu": "XNNPACK", "gpu": f"GPU (WebGPU): {device.get('name', '?')}",
                   "npu": f"NPU: {job.options.get('npu_dispatch', '?')}"}[name]
    return Session(step=_compiled_step(model, inputs, outputs, read_back=name != "cpu"),
                   init_ms=init.ms, accelerator=accelerator, runtime=package_version("ai-edge-litert"),
                   fully_accelerated=model.is_fully_accelerated(),
                   software_emulated=bool(device.get("software")))


# --- classic Interpreter: interpreter, delegate:<lib>, legacy --------------------------------

def _interpreter_session(interpreter_cls, job: Job, delegates: list, accelerator: str,
                         runtime: str) -> Session:
    with stopwatch() as init:
        interpreter = interpreter_cls(model_path=job.model.path, num_threads=job.threads,
                                      experimental_delegates=delegates or None)
        interpreter.allocate_tensors()
        for d in interpreter.get_input_details():
            interpreter.set_tensor(d["index"], random_input(d["shape"], d["dtype"]))
    return Session(step=interpreter.invoke, init_ms=init.ms, accelerator=accelerator,
                   runtime=runtime)


def load_interpreter(job: Job) -> Session:
    from ai_edge_litert.interpreter import Interpreter

    return _interpreter_session(Interpreter, job, [], "XNNPACK (default delegate)",
                                package_version("ai-edge-litert"))


def load_delegate_interpreter(job: Job) -> Session:
    from ai_edge_litert.interpreter import Interpreter, load_delegate

    spec = job.backend
    delegate = load_delegate(spec.arg, spec.options or None)
    options = ";".join(f"{k}={v}" for k, v in spec.options.items())
    label = f"delegate {os.path.basename(spec.arg)}" + (f" ({options})" if options else "")
    return _interpreter_session(Interpreter, job, [delegate], label, package_version("ai-edge-litert"))


def load_legacy(job: Job) -> Session:
    from tflite_runtime.interpreter import Interpreter

    return _interpreter_session(Interpreter, job, [], "XNNPACK (default delegate)",
                                package_version("tflite-runtime"))


# --- TensorFlow on the Keras model: tf, tf-gpu -----------------------------------------------

def _keras_model(job: Job):
    import models  # the repository's model package; the sweep puts the repo on PYTHONPATH

    m = job.model
    if not m.input_size or not m.num_classes:
        raise Skip("input size / class count unknown (no manifest.json, unreadable model)")
    try:
        models.get_variant(m.variant)
    except ValueError as e:
        raise Skip(f"variant {m.variant!r} is not a registered model") from e
    return models.build(m.variant, input_size=m.input_size, num_classes=m.num_classes,
                        batch_size=1, weights=m.weights)


def _tf_device_name(tf, on_gpu: bool) -> str:
    if not on_gpu:
        return "CPU"
    details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
    return details.get("device_name", "GPU")


def load_tensorflow(job: Job) -> Session:
    use_tf_keras()
    import tensorflow as tf

    on_gpu = job.backend.name == "tf-gpu"
    if job.threads:
        tf.config.threading.set_intra_op_parallelism_threads(job.threads)
        tf.config.threading.set_inter_op_parallelism_threads(job.threads)
    device = "/GPU:0" if on_gpu else "/CPU:0"
    with tf.device(device), stopwatch() as init:
        model = _keras_model(job)
        x = tf.constant(random_input((1, job.model.input_size, job.model.input_size, 3), "float32"))
        # A traced tf.function is what a user would ship; tracing (which also fixes the
        # device of its ops) is part of its start-up cost, like building the model.
        call = tf.function(lambda t: model(t, training=False))
        call.get_concrete_function(x)

    def step():
        return call(x).numpy()  # .numpy() waits for the (asynchronous) GPU

    return Session(step=step, init_ms=init.ms, runtime=f"tensorflow {tf.__version__}",
                   accelerator=f"TensorFlow {_tf_device_name(tf, on_gpu)}")


# --- timing a loaded session --------------------------------------------------------------

def rss_mb() -> float | None:
    """Current resident set size (Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _measure_in_process(load: Callable[[Job], Session], job: Job) -> Record:
    baseline = rss_mb()  # before the runtime is imported and the model opened
    session = load(job)
    timing = measure(session.step, job.settings)
    return job.record(accelerator=session.accelerator, runtime=session.runtime,
                      fully_accelerated=session.fully_accelerated,
                      software_emulated=session.software_emulated, init_ms=session.init_ms,
                      first_ms=timing.first_ms, latency=Latency.from_samples(timing.samples_ms),
                      peak_rss_mb=peak_rss_mb(), baseline_rss_mb=baseline)


def in_process(load: Callable[[Job], Session]) -> Callable[[Job], Record]:
    """A backend's run: open the model with `load`, time its step in this process."""
    return functools.partial(_measure_in_process, load)
