"""The suite's small real models, in one place (a pytest plugin: tests/conftest.py loads it).

- `tiny_table(name)`: any registered table scaled to width 0.25 and one block a stage; converts in
  about a second through convert.recipes (`depth=0.5`: two or more blocks in the later stages).
- `tiny` / `ghost_tiny`: ghost_b0's table scaled so, registered under the name `tiny` (the commands
  take names); `tiny_variant` registers it for the session and restores the registry afterwards,
  `register_tiny()` registers it in a child process (which ends with its registry).
- `tiny_b0(...)` and `tflite(model, precision, size)`: a Keras model and its .tflite bytes, converted
  only through convert.recipes (the product's recipes, not a hand-written converter).
- `small_demo` (generated images) and `trained_tiny` (ghost_tiny trained on them, then converted by
  make tflite's command), with `TRAIN_FAST`, make train's settings for tests.
"""
from __future__ import annotations

import dataclasses

from core.environments import use_tf_keras

use_tf_keras()  # before TensorFlow is imported (child processes import this module first)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import models  # noqa: E402
from models import registry  # noqa: E402

WIDTH, DEPTH = 0.25, 0.1  # depth 0.1: every stage keeps one block, so every block type is built


def tiny_table(table: str, depth: float = DEPTH, width: float = WIDTH, **changes) -> models.Variant:
    """`table` at width 0.25; depth 0.5 keeps repeated blocks (identity residuals, stochastic depth)."""
    return dataclasses.replace(models.get_variant(table), width=width, depth=depth, **changes)


def tiny_ghost_table() -> models.Variant:
    """What `ghost_tiny` builds: every Ghost/ResNet-D/SE code path."""
    return tiny_table("ghost_b0", name="tiny_ghost")


def register_tiny() -> models.Variant:
    """Registers `tiny` (and so `ghost_tiny`) for good: for child processes, whose registry ends with them."""
    models.register(dataclasses.replace(tiny_ghost_table(), name="tiny", ghost=None))
    return tiny_ghost_table()


registered = registry.registered  # models.registry's: the table is forgotten when the block ends


@pytest.fixture(scope="session")
def tiny_variant():
    with registered(dataclasses.replace(tiny_ghost_table(), name="tiny", ghost=None)):
        yield tiny_ghost_table()


def tiny_b0(input_size: int = 64, num_classes: int = 10, seed: int | None = None, **options):
    """b0 scaled like `tiny`, batch 1 (static TFLite shapes); `seed`: fixed weights; options: models.build's."""
    if seed is not None:
        import tf_keras as keras

        keras.utils.set_random_seed(seed)
    return models.build(tiny_table("b0"), input_size=input_size, num_classes=num_classes, batch_size=1, **options)


def calibration_images(size: int, count: int = 4, seed: int = 0) -> np.ndarray:
    """Uniform pixels: enough to calibrate an untrained model (the tests check files, not accuracy)."""
    return np.random.default_rng(seed).uniform(0, 255, (count, size, size, 3)).astype(np.float32)


def tflite(model, precision: str, size: int) -> bytes:
    """`model` at `precision` through convert.recipes (int8: uint8 input and output, as shipped)."""
    from convert.recipes import CALIBRATED, convert

    return convert(model, precision, calibration_images(size) if precision in CALIBRATED else None)


@pytest.fixture(scope="session")
def tiny_int8(tmp_path_factory):
    """A tiny real int8 .tflite (uint8 I/O, 64 px) for the emulated-ARM tests. Fixed weights and
    inputs: XNNPACK's x86 and ARM int8 kernels can round a rare element apart (docs/arm.md), and
    the ARM tests compare outputs bit for bit; this file was checked on the emulated A53 and A76."""
    path = tmp_path_factory.mktemp("arm") / "b0_int8.tflite"
    path.write_bytes(tflite(tiny_b0(seed=0), "int8", 64))
    return path


# make train's settings for tests: the tiny Ghost variant, 3 epochs in 2 stages, 48 px.
TRAIN_FAST = ["--variant", "ghost_tiny", "--size", "48", "--batch", "16", "--epochs", "3", "--stages", "2"]


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory, small_demo, tiny_variant):
    """ghost_tiny trained briefly on small_demo and converted to fp32, fp16 and uint8-I/O int8 with its
    labels packed inside: (model.keras, the artifacts folder). Shared: training and converting it is
    most of the time of every test that needs a trained model."""
    from convert.__main__ import main as convert_main
    from train.__main__ import main as train_main

    root = tmp_path_factory.mktemp("trained")
    assert train_main([*TRAIN_FAST, "--data", str(small_demo), "--out", str(root / "run")]) == 0
    model = root / "run" / "model.keras"
    for precision in ("fp32", "fp16", "int8"):
        assert convert_main(["ghost_tiny", "--precision", precision, "--size", "48", "--classes", "8",
                             "--weights", str(model), "--data", str(small_demo), "--calib", "16", "--validate", "8",
                             "--no-gpu-check", "--out", str(root / "artifacts"),
                             "--max-top1-drop", "100"]) == 0  # a 3-epoch tiny model: int8 may lose a lot
    return model, root / "artifacts" / "ghost_tiny"


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory):
    """8 classes x (12 train + 4 val) generated images at 40 px: seconds to make and to train on."""
    from train.demo_data import generate

    out = tmp_path_factory.mktemp("demo") / "demo"
    generate(out, train_per_class=12, val_per_class=4, size=40, seed=0)
    return out
