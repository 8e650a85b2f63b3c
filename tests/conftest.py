import os
import signal

from core.environments import use_tf_keras

use_tf_keras()  # before TensorFlow is imported
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
import tf_keras as keras  # noqa: E402



# The small models and their fixtures (tiny_variant, tiny_int8, small_demo, trained_tiny): one module.
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
