import pytest

from train.demo_data import generate


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory):
    """8 classes x (12 train + 4 val) generated images at 40 px: seconds to make and to train on."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    generate(out, train_per_class=12, val_per_class=4, size=40, seed=0)
    return out
