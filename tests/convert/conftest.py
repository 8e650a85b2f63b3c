import dataclasses

import pytest

import models

TINY_SIZE = 64


@pytest.fixture(scope="session")
def tiny_variant():
    """ghost_b0 scaled down: every Ghost/ResNet-D/SE code path, converted in seconds."""
    variant = dataclasses.replace(models.get_variant("ghost_b0"), name="tiny_ghost", width=0.25, depth=0.1)
    models.register(dataclasses.replace(variant, name="tiny", ghost=False))
    return variant
