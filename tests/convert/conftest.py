import dataclasses

import pytest

import models

TINY_SIZE = 64


def register_tiny() -> models.Variant:
    """ghost_b0 scaled down: every Ghost/ResNet-D/SE code path, converted in seconds.
    Registered as `tiny`, so `ghost_tiny` builds too (also from a child process)."""
    variant = dataclasses.replace(models.get_variant("ghost_b0"), name="tiny_ghost", width=0.25, depth=0.1)
    models.register(dataclasses.replace(variant, name="tiny", ghost=False))
    return variant


@pytest.fixture(scope="session")
def tiny_variant():
    return register_tiny()
