"""Backbone feature endpoints: one per stage, at the right reduction, sharing the classifier's weights."""
import numpy as np
import pytest

import models


@pytest.mark.parametrize("name", ["b0", "ghost_b0", "s_two_stages_dropped"])
def test_every_stage_has_an_endpoint_at_its_reduction(name):
    backbone = models.build_backbone(name, input_size=64)
    info = {f["name"]: f for f in backbone.feature_info}
    stages = models.get_variant(name).stages
    assert list(info) == ["stem", *[f"stage{i + 1}" for i in range(len(stages))], "top"]
    reduction = 2
    for i, stage in enumerate(stages):
        reduction *= stage.stride
        assert info[f"stage{i + 1}"]["reduction"] == reduction
        assert info[f"stage{i + 1}"]["channels"] == models.get_variant(name).scaled_channels(stage.channels)
    outputs = backbone(np.zeros((1, 64, 64, 3), np.float32))
    assert outputs["top"].shape == (1, 64 // reduction, 64 // reduction, info["top"]["channels"])


def test_the_backbone_takes_a_trained_classifier_s_weights(tmp_path, tiny_variant):
    classifier = models.build("ghost_tiny", input_size=64, num_classes=3)
    classifier.save(tmp_path / "m.keras")
    backbone = models.build_backbone("ghost_tiny", weights=str(tmp_path / "m.keras"), input_size=64)
    images = np.random.default_rng(0).uniform(0, 255, (1, 64, 64, 3)).astype(np.float32)
    top = classifier.get_layer(backbone.feature_info[-1]["layer"]).output
    import tf_keras as keras

    expected = keras.Model(classifier.input, top)(images)
    assert np.allclose(backbone(images)["top"], expected, atol=1e-5)
