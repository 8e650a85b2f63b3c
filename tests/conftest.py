import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
import tf_keras as keras  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    """Each test starts with an empty graph, so memory stays flat over the suite."""
    yield
    keras.backend.clear_session()
