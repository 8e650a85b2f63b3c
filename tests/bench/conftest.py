"""Tiny real models for the bench tests: a width-scaled B0 at 64 px, fp32 and int8 (uint8 I/O).

They are laid out as `make tflite` lays out artifacts (`<variant>/<variant>_<precision>.tflite`
plus manifest.json), named b0 so that the tf backend can rebuild a registered Keras model.
"""
import dataclasses
import hashlib
import json
import pathlib
import shutil
import subprocess

import numpy as np
import pytest
import tensorflow as tf

import models

INPUT_SIZE, NUM_CLASSES = 64, 10


def _tiny_keras():
    variant = dataclasses.replace(models.get_variant("b0"), width=0.25, depth=0.5)
    return models.build(variant, input_size=INPUT_SIZE, num_classes=NUM_CLASSES, batch_size=1)


def _int8(model) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    converter.representative_dataset = lambda: (
        [rng.uniform(0, 255, (1, INPUT_SIZE, INPUT_SIZE, 3)).astype(np.float32)] for _ in range(4))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.uint8
    return converter.convert()


def _convert() -> dict[str, bytes]:
    model = _tiny_keras()
    return {"b0_fp32.tflite": tf.lite.TFLiteConverter.from_keras_model(model).convert(),
            "b0_int8.tflite": _int8(model)}


def _cached_conversion(cache_root) -> dict[str, bytes]:
    """Converting even this tiny model takes ~20 s per precision on 2 busy cores; the files
    are kept in pytest's cache, keyed by the TensorFlow version and the model sources."""
    sources = sorted(pathlib.Path(models.__file__).parent.glob("*.py")) + [pathlib.Path(__file__)]
    key = hashlib.sha256(tf.__version__.encode() + b"".join(p.read_bytes() for p in sources))
    cache = cache_root / key.hexdigest()[:16]
    names = ("b0_fp32.tflite", "b0_int8.tflite")
    if not all((cache / n).exists() for n in names):
        cache.mkdir(parents=True, exist_ok=True)
        for name, data in _convert().items():
            (cache / name).write_bytes(data)
    return {n: (cache / n).read_bytes() for n in names}


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory, request):
    root = tmp_path_factory.mktemp("artifacts")
    out = root / "b0"
    out.mkdir()
    files = _cached_conversion(request.config.cache.mkdir("bench_tiny_models"))
    entries = {}
    for name, data in files.items():
        (out / name).write_bytes(data)
        entries[name] = {"precision": name[3:-7], "sha256": hashlib.sha256(data).hexdigest(),
                         "size_bytes": len(data)}
    manifest = {"variant": "b0", "input_size": INPUT_SIZE, "num_classes": NUM_CLASSES,
                "weights": None, "artifacts": entries}
    (out / "manifest.json").write_text(json.dumps(manifest))
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
