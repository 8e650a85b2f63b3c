"""Multi-scale feature endpoints of a backbone, for detection and segmentation heads.

    backbone = models.build_backbone("ghost_b0", input_size=256, weights="runs/x/model.keras")
    stage4, stage6 = backbone(images)["stage4"], backbone(images)["stage6"]
    backbone.feature_info  # [{"name": "stem", "channels": 32, "reduction": 2}, ...]

Endpoints are the stem, the output of every stage (its last block) and the head conv, as
timm's `feature_info` and automl's `endpoints` give them. They are found by the stable layer
names the builder gives, so no layer is added to the classification graph.
"""
from __future__ import annotations

import tf_keras as keras

from .builder import block_letters
from .registry import build, get_variant


def endpoint_layers(model: keras.Model, variant_name: str) -> dict[str, str]:
    """Endpoint name -> name of the layer whose output it is."""
    variant = get_variant(variant_name)
    last_block = {f"stage{i + 1}": f"block{i + 1}{block_letters(variant.scaled_repeats(stage.repeats) - 1)}"
                  for i, stage in enumerate(variant.stages)}
    names = [layer.name for layer in model.layers]
    ends = {"stem": "stem_activation"}
    for stage, block_name in last_block.items():
        ends[stage] = [n for n in names if n.startswith(block_name + "_")][-1]
    ends["top"] = [n for n in names if n.startswith("top_")][-1]
    return ends


def build_backbone(variant: str, weights: str | None = None, input_size: int | None = None,
                   **options) -> keras.Model:
    """The variant without its classifier, returning a dict of endpoint tensors; the model's
    `feature_info` lists each endpoint's channels and reduction (input size / feature size)."""
    model = build(variant, weights=weights, input_size=input_size, include_top=False, **options)
    layers = endpoint_layers(model, variant)
    outputs = {name: model.get_layer(layer).output for name, layer in layers.items()}
    backbone = keras.Model(model.input, outputs, name=f"{model.name}_backbone")
    size = model.input_shape[1]
    backbone.feature_info = [{"name": name, "layer": layers[name], "channels": int(tensor.shape[-1]),
                              "reduction": size // int(tensor.shape[1])} for name, tensor in outputs.items()]
    return backbone
