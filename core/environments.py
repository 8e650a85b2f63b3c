"""Where the project and its client environments live. Each client runtime that cannot share
.venv (tflite-runtime 2.14 needs numpy<2; mediapipe pins another absl-py) has its own
virtual environment beside it, built by a make target."""
from __future__ import annotations

import importlib.metadata
import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEGACY_PYTHON = os.path.join(REPO_ROOT, ".venv-legacy", "bin", "python")  # make bench-legacy-env
MEDIAPIPE_PYTHON = os.path.join(REPO_ROOT, ".venv-mediapipe", "bin", "python")  # make mediapipe-env
KOTLINC = os.path.join(REPO_ROOT, ".kotlin-env", "node_modules", "kotlin-compiler", "bin", "kotlinc-jvm")  # make kotlin-env


def use_tf_keras() -> None:
    """`tf.keras` is tf-keras (Keras 2) in this project: TFMOT and the converter's Keras path need
    it. Every package that imports TensorFlow calls this first (it must precede the import)."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def package_version(dist: str) -> str:
    """"ai-edge-litert 2.1.0", or the bare name where the package is not installed."""
    try:
        return f"{dist} {importlib.metadata.version(dist)}"
    except importlib.metadata.PackageNotFoundError:
        return dist


def with_repo_on_path(env: dict[str, str]) -> dict[str, str]:
    """`env` for a child process that imports the project's packages."""
    return {**env, "PYTHONPATH": os.pathsep.join(p for p in (REPO_ROOT, env.get("PYTHONPATH")) if p)}
