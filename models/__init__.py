"""EfficientNetV2 (B0-B3, S, M, L, XL) and Ghost variants as tf-keras models.

    import models
    model = models.build("ghost_s", input_size=224, num_classes=10)
"""
import sys

from core.environments import use_tf_keras

use_tf_keras()  # before TensorFlow is imported
# tf-keras walks a functional graph recursively, one frame per layer, when it builds, saves,
# loads or clones one: Ghost L/XL (over 2,000 layers deep) overflow Python's default limit of
# 1,000. Set once, when the package that makes such graphs is imported.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))

from .blocks import ACTIVATIONS  # noqa: E402
from .builder import block_plan, check_settings, min_input_size  # noqa: E402
from .features import build_backbone  # noqa: E402
from .registry import build, get_variant, register, variant_names  # noqa: E402
from .tables import ABLATIONS, OFFICIAL, Stage, Variant  # noqa: E402

__all__ = ["ACTIVATIONS", "ABLATIONS", "OFFICIAL", "Stage", "Variant", "block_plan", "build", "build_backbone", "check_settings",
           "get_variant", "min_input_size", "register", "variant_names"]
