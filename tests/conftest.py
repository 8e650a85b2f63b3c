import dataclasses
import os
import signal

from core.environments import use_tf_keras

use_tf_keras()  # before TensorFlow is imported
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
import tf_keras as keras  # noqa: E402

import models  # noqa: E402
from train.demo_data import generate  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    """Each test starts with an empty graph, so memory stays flat over the suite."""
    yield
    keras.backend.clear_session()


def register_tiny() -> models.Variant:
    """ghost_b0 scaled down: every Ghost/ResNet-D/SE code path, converted in seconds.
    Registered as `tiny`, so `ghost_tiny` builds too (also from a child process)."""
    variant = dataclasses.replace(models.get_variant("ghost_b0"), name="tiny_ghost", width=0.25, depth=0.1)
    models.register(dataclasses.replace(variant, name="tiny", ghost=None))
    return variant


def client_python(python: str, make_target: str) -> str:
    """The interpreter of a client environment (MediaPipe, legacy tflite-runtime). Missing, the
    test skips on a developer machine and fails in CI, which builds it (.ci/run)."""
    if os.path.exists(python):
        return python
    message = f"{python} is missing: make {make_target}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI builds it before the tests)")
    pytest.skip(message)


def require_arm_env():
    """The emulated ARM environment (make arm-env). Missing, the test skips on a developer machine
    and fails in CI, which builds it (.ci/run)."""
    from runtime.arm import default_env

    env = default_env()
    if problem := env.problem():
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (CI builds it before the tests)")
        pytest.skip(problem)
    return env


def _int8_tiny_b0() -> bytes:
    """B0 scaled to width 0.25 and one block a stage, 64 px, uint8 input and output, int8 inside."""
    import numpy as np
    import tensorflow as tf

    # Fixed weights: XNNPACK's x86 and ARM int8 MUL kernels can round a rare element apart (docs/arm.md);
    # these weights and inputs were checked to hit no such element, so equality with x86 is stable.
    keras.utils.set_random_seed(0)
    variant = dataclasses.replace(models.get_variant("b0"), width=0.25, depth=0.1)
    model = models.build(variant, input_size=64, num_classes=10, batch_size=1)
    rng = np.random.default_rng(0)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: (
        [rng.uniform(0, 255, (1, 64, 64, 3)).astype(np.float32)] for _ in range(4))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.uint8
    return converter.convert()


@pytest.fixture(scope="session")
def tiny_int8(tmp_path_factory):
    """A tiny real int8 .tflite (seconds to convert) for the emulated-ARM tests."""
    path = tmp_path_factory.mktemp("arm") / "b0_int8.tflite"
    path.write_bytes(_int8_tiny_b0())
    return path


def ctrl_c_reaches() -> None:
    """preexec_fn for a child process a test interrupts with SIGINT: a shell starts background jobs with
    SIGINT ignored, Python then never raises KeyboardInterrupt, and the test would measure the shell."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="session")
def tiny_variant():
    return register_tiny()


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
    out = tmp_path_factory.mktemp("demo") / "demo"
    generate(out, train_per_class=12, val_per_class=4, size=40, seed=0)
    return out
