"""Tiny real models for the bench tests: tests/small_models' b0 at 64 px, fp32 and int8 (uint8 I/O).

They are laid out as `make tflite` lays out artifacts (`<variant>/<variant>_<precision>.tflite`
plus a manifest.json that core.artifacts writes, in today's schema), named b0 so that the tf
backend can rebuild a registered Keras model.
"""
import shutil
import subprocess

import pytest

from convert.validate import io_contract
from core.artifacts import artifact_name, sha256, update_manifest
from tests.small_models import tflite, tiny_b0

INPUT_SIZE, NUM_CLASSES = 64, 10


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("artifacts")
    out = root / "b0"
    out.mkdir()
    model = tiny_b0(INPUT_SIZE, NUM_CLASSES, classifier_activation=None)  # untrained: logits, as make tflite
    for precision in ("fp32", "int8"):
        data = tflite(model, precision, INPUT_SIZE)
        name = artifact_name("b0", precision)
        (out / name).write_bytes(data)
        update_manifest(out, {"variant": "b0"}, name, {
            "precision": precision, "sha256": sha256(data), "size_bytes": len(data), "input_size": INPUT_SIZE,
            "num_classes": NUM_CLASSES, "weights": None, "parameters": model.count_params(), "output": "logits",
            **io_contract(data)})
    return root


@pytest.fixture(scope="session")
def fp32_model(artifacts_dir):
    return str(artifacts_dir / "b0" / "b0_fp32.tflite")


@pytest.fixture(scope="session")
def int8_model(artifacts_dir):
    return str(artifacts_dir / "b0" / "b0_int8.tflite")


def _library_that_on_load(tmp_path_factory, name: str, body: str) -> str:
    """A shared library whose constructor runs `body` as soon as it is loaded (a delegate gone bad)."""
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build a misbehaving library")
    tmp = tmp_path_factory.mktemp(name)
    (tmp / f"{name}.c").write_text(
        f"#include <stdlib.h>\n#include <unistd.h>\n__attribute__((constructor)) static void on_load(void) {{ {body} }}\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(tmp / f"lib{name}.so"), str(tmp / f"{name}.c")], check=True)
    return str(tmp / f"lib{name}.so")


@pytest.fixture(scope="session")
def crashing_library(tmp_path_factory):
    """Aborts the process as soon as it is loaded."""
    return _library_that_on_load(tmp_path_factory, "boom", "abort();")


@pytest.fixture(scope="session")
def hanging_library(tmp_path_factory):
    """Never returns from being loaded (a delegate that hangs)."""
    return _library_that_on_load(tmp_path_factory, "hang", "sleep(600);")
