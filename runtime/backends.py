"""The backend registry: one object per backend holds what it is, whether it can run here (its
check, in the parent) and how it runs (its `run`, in the worker process).

A check returns the reason a backend is skipped on this machine, or the context its worker
needs (the interpreter to run it with, the GPU device it will get). The runs live in
runtime/loaders.py and runtime/android.py, which import their runtime libraries lazily: this
module also imports in the legacy tflite-runtime environment.
"""
from __future__ import annotations

import ctypes
import dataclasses
import glob
import importlib.util
import os
import shutil
import subprocess
import sys
from typing import Callable

from core.artifacts import UNKNOWN, ModelInfo
from core.environments import LEGACY_PYTHON, REPO_ROOT

from . import android
from .arm import backend as arm
from .jobs import BackendSpec, Job
from .loaders import (in_process, load_compiled_model, load_delegate_interpreter, load_interpreter,
                      load_legacy, load_tensorflow)
from .records import Record
from .vulkan import vulkan_device


@dataclasses.dataclass(frozen=True)
class Context:
    """Command-line settings that checks and workers need."""
    android_binary: str | None = None
    android_serial: str | None = None
    dry_run: bool = False
    legacy_python: str = LEGACY_PYTHON


@dataclasses.dataclass(frozen=True)
class Availability:
    reason: str = ""  # non-empty: skipped, and why
    python: str = sys.executable
    options: dict = dataclasses.field(default_factory=dict)


def _no_validation(spec: BackendSpec) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class Backend:
    name: str
    help: str
    check: Callable[[BackendSpec, Context], Availability]
    run: Callable[[Job], Record]
    threaded: Callable[[BackendSpec], bool] = lambda spec: True
    validate: Callable[[BackendSpec], None] = _no_validation  # raises ValueError on bad input
    skip_model: Callable[[ModelInfo], str] = lambda model: ""
    also: tuple[str, ...] = ()  # backends added to the sweep when they are available


# --- checks ------------------------------------------------------------------------------

def _module(name: str, hint: str) -> str:
    return "" if importlib.util.find_spec(name) else f"python package {name!r} missing ({hint})"


def check_litert(spec: BackendSpec, ctx: Context) -> Availability:
    return Availability(_module("ai_edge_litert", "pip install ai-edge-litert"))


def _loadable(library: str) -> bool:
    """dlopen() it as the runtime will (honours LD_LIBRARY_PATH, unlike find_library)."""
    try:
        ctypes.CDLL(library)
        return True
    except OSError:
        return False


def check_gpu(spec: BackendSpec, ctx: Context) -> Availability:
    if reason := check_litert(spec, ctx).reason:
        return Availability(reason)
    device = vulkan_device() if _loadable("libvulkan.so.1") else None
    if device is None:
        return Availability("no Vulkan driver; without a GPU run `sudo bench/setup_gpu_sw.sh` "
                            "for software Vulkan (lavapipe)")
    return Availability(options={"gpu_device": dataclasses.asdict(device)})


def _dispatch_libraries(spec: BackendSpec) -> list[str]:
    if spec.arg:
        return glob.glob(os.path.join(spec.arg, "libLiteRtDispatch_*.so"))
    litert = importlib.util.find_spec("ai_edge_litert")
    root = os.path.dirname(litert.origin) if litert and litert.origin else ""
    return sorted(glob.glob(os.path.join(root, "vendors", "*", "dispatch", "libLiteRtDispatch_*.so")))


def check_npu(spec: BackendSpec, ctx: Context) -> Availability:
    if reason := check_litert(spec, ctx).reason:
        return Availability(reason)
    libraries, errors = _dispatch_libraries(spec), []
    for library in libraries:
        try:
            ctypes.CDLL(library)  # a vendor library whose runtime (e.g. OpenVINO) is absent fails here
        except OSError as e:
            errors.append(str(e))
            continue
        return Availability(options={"npu_dispatch": library})
    if not libraries:
        return Availability("no NPU vendor dispatch library (libLiteRtDispatch_*.so) found")
    return Availability("NPU dispatch library present but unusable: " + "; ".join(errors))


def validate_delegate(spec: BackendSpec) -> None:
    if not spec.arg:
        raise ValueError("delegate needs a library: delegate:/path/libdelegate.so[;key=value...]")
    if os.sep in spec.arg and not os.path.exists(spec.arg):
        raise ValueError(f"delegate library not found: {spec.arg}")


def check_legacy(spec: BackendSpec, ctx: Context) -> Availability:
    if not os.path.exists(ctx.legacy_python):
        return Availability(f"no legacy tflite-runtime environment at {ctx.legacy_python}: "
                            "run make bench-legacy-env")
    return Availability(python=ctx.legacy_python)


def check_tf(spec: BackendSpec, ctx: Context) -> Availability:
    return Availability(_module("tensorflow", "pip install -r requirements.txt")
                        or _module("models", f"run from {REPO_ROOT}"))


def _tf_gpu_count() -> int:
    code = "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return int(result.stdout.strip() or 0) if result.returncode == 0 else 0


def check_tf_gpu(spec: BackendSpec, ctx: Context) -> Availability:
    if reason := check_tf(spec, ctx).reason:
        return Availability(reason)
    # Importing TensorFlow takes seconds: only ask it when a GPU device node exists at all.
    nodes = glob.glob("/dev/nvidia[0-9]*") + glob.glob("/dev/dxg") + glob.glob("/dev/kfd")
    if not nodes or not _tf_gpu_count():
        return Availability("TensorFlow sees no GPU")
    return Availability()


def unknown_variant(model: ModelInfo) -> str:
    if model.variant == UNKNOWN:
        return ("variant unknown: name the file <variant>_<precision>.tflite or keep its "
                "manifest.json next to it")
    return ""


def validate_android(spec: BackendSpec) -> None:
    if spec.arg and spec.arg not in android.MODES:
        raise ValueError(f"android mode {spec.arg!r}; valid: {', '.join(android.MODES)}")


def check_android(spec: BackendSpec, ctx: Context) -> Availability:
    options = {"android_binary": ctx.android_binary, "android_serial": ctx.android_serial}
    if ctx.dry_run:
        return Availability("dry run (adb commands printed)", options=options)
    if not ctx.android_binary:
        return Availability("no --android_binary (benchmark_model built for the phone)",
                            options=options)
    if not shutil.which("adb"):
        return Availability("adb not found on PATH", options=options)
    devices = subprocess.run(["adb", "devices"], capture_output=True, text=True).stdout
    if not any(line.endswith("\tdevice") for line in devices.splitlines()):
        return Availability("no device in `adb devices`", options=options)
    return Availability(options=options)


def check_arm(spec: BackendSpec, ctx: Context) -> Availability:
    return Availability(arm.problem())


# --- the registry --------------------------------------------------------------------------

REGISTRY: dict[str, Backend] = {b.name: b for b in [
    Backend("cpu", "LiteRT CompiledModel on the CPU (XNNPACK), at each --num_threads",
            check_litert, in_process(load_compiled_model)),
    Backend("interpreter", "LiteRT's classic Interpreter API (XNNPACK delegate), at each "
            "--num_threads", check_litert, in_process(load_interpreter)),
    Backend("gpu", "LiteRT CompiledModel on the GPU accelerator (WebGPU over Vulkan); on "
            "software Vulkan (lavapipe) rows are marked software-emulated", check_gpu,
            in_process(load_compiled_model), threaded=lambda spec: False),
    Backend("npu", "LiteRT CompiledModel on the NPU via a vendor dispatch library "
            "(npu:<dispatch dir> to name one)", check_npu, in_process(load_compiled_model),
            threaded=lambda spec: False),
    Backend("delegate", "Interpreter with an external delegate: delegate:<lib.so>[;key=value...]"
            " (options go to load_delegate)", check_litert, in_process(load_delegate_interpreter),
            validate=validate_delegate),
    Backend("legacy", "tflite-runtime 2.14 (last standalone release, numpy<2) from "
            ".venv-legacy", check_legacy, in_process(load_legacy)),
    Backend("tf", "TensorFlow running the Keras model (tf.function, batch 1) on the CPU; adds "
            "tf-gpu when TensorFlow sees a GPU", check_tf, in_process(load_tensorflow),
            skip_model=unknown_variant, also=("tf-gpu",)),
    Backend("tf-gpu", "TensorFlow running the Keras model on the GPU", check_tf_gpu,
            in_process(load_tensorflow), threaded=lambda spec: False, skip_model=unknown_variant),
    Backend("android", "a phone over adb with benchmark_model: android[:xnnpack|cpu|gpu|nnapi]"
            "[;flag=value...]", check_android, android.run,
            threaded=lambda spec: android.mode_of(spec) in android.THREADED_MODES,
            validate=validate_android),
    *[Backend(name, arm.help_text(name), check_arm, arm.run, threaded=lambda spec: False)
      for name in arm.backend_names()],
]}


def parse_backends(text: str) -> list[BackendSpec]:
    """`cpu,gpu,delegate:/x.so;k=v` -> specs. Raises ValueError on unknown names or bad specs."""
    specs = [BackendSpec.parse(part) for part in text.split(",") if part.strip()]
    if not specs:
        raise ValueError(f"no backend named in {text!r}; valid: {', '.join(REGISTRY)}")
    for spec in specs:
        if spec.name not in REGISTRY:
            raise ValueError(f"unknown backend {spec.name!r}; valid: {', '.join(REGISTRY)}")
        REGISTRY[spec.name].validate(spec)
    return specs
