import os
import signal

from core.environments import use_tf_keras

use_tf_keras()  # before TensorFlow is imported
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
import tf_keras as keras  # noqa: E402

from train.demo_data import generate  # noqa: E402


# The small models and their fixtures (tiny_variant, tiny_int8): one module for the whole suite.
pytest_plugins = ["tests.small_models"]


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    """Each test starts with an empty graph, so memory stays flat over the suite."""
    yield
    keras.backend.clear_session()


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


def ctrl_c_reaches() -> None:
    """preexec_fn for a child process a test interrupts with SIGINT: a shell starts background jobs with
    SIGINT ignored, Python then never raises KeyboardInterrupt, and the test would measure the shell."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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
