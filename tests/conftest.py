import dataclasses
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
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
    models.register(dataclasses.replace(variant, name="tiny", ghost=False))
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


@pytest.fixture(scope="session")
def tiny_variant():
    return register_tiny()


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory):
    """8 classes x (12 train + 4 val) generated images at 40 px: seconds to make and to train on."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    generate(out, train_per_class=12, val_per_class=4, size=40, seed=0)
    return out
