import dataclasses

import numpy as np
import pytest

import models
from models.builder import block_letters, block_plan
from tests.small_models import registered, tiny_table


def test_every_official_size_has_a_ghost_twin():
    names = models.variant_names()
    for size in ["b0", "b1", "b2", "b3", "s", "m", "l", "xl"]:
        assert size in names and f"ghost_{size}" in names


def test_unknown_variant_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown variant 'b9'; valid: b0, b1.*ghost_xl"):
        models.build("b9")


@pytest.mark.parametrize("options, message", [
    (dict(input_size=16), "smaller than the total stride 32"),
    (dict(num_classes=0), "num_classes must be at least 1"),
    (dict(activation="gelu"), "valid: silu, hard_swish, relu6"),
    (dict(dropout=1.0), "dropout must be in"),
    (dict(classifier_activation="sigmoid"), "classifier_activation"),
])
def test_impossible_settings_fail_before_building(options, message):
    with pytest.raises(ValueError, match=message):
        models.build("b0", **options)


def test_invalid_stage_in_a_user_table_is_named():
    bad = dataclasses.replace(models.get_variant("b0"), name="bad",
                              stages=(models.Stage("fused", repeats=1, kernel=3, stride=3, expand=1, channels=16),))
    with pytest.raises(ValueError, match="invalid stage in 'bad'.*stride 1 or 2"):
        models.build(bad)


def test_block_names_extend_past_26_repeats():
    assert [block_letters(i) for i in (0, 25, 26, 27, 51, 52)] == ["a", "z", "aa", "ab", "az", "ba"]
    names = [spec.name for spec in block_plan(models.get_variant("xl"), 0.2)]
    assert "block6af" in names and len(names) == len(set(names)) == 100


def test_stochastic_depth_ramps_linearly_from_zero():
    rates = [spec.drop_rate for spec in block_plan(models.get_variant("s"), 0.2)]
    # Equal steps of drop_path / blocks, as keras.applications ramps it: block n of N drops 0.2 * n / N.
    assert len(rates) == 40 and rates[0] == 0
    np.testing.assert_allclose(np.diff(rates), 0.2 / 40, rtol=1e-9)


def test_user_table_builds_by_object_and_after_register():
    mine = models.Variant("user_table", stem_channels=16, resolution=64, stages=(
        models.Stage("fused", repeats=1, kernel=3, stride=2, expand=2, channels=16),
        models.Stage("mbconv", repeats=2, kernel=5, stride=2, expand=3, channels=24, se_ratio=0.25)))
    direct = models.build(mine, num_classes=7)
    with registered(mine):  # the registry is global: later tests must not find user_table
        ghost = models.build("ghost_user_table", num_classes=7)
        assert "user_table" in models.variant_names() and "ghost_user_table" in models.variant_names()
    with pytest.raises(ValueError, match="unknown variant 'ghost_user_table'"):
        models.get_variant("ghost_user_table")
    assert direct.output_shape == ghost.output_shape == (None, 7)
    assert any(layer.name == "block2b_dw_conv" and layer.kernel_size == (5, 5) for layer in direct.layers)
    assert any(layer.name == "block2a_shortcut_pool" for layer in ghost.layers)


@pytest.mark.parametrize("name", sorted(models.ABLATIONS))
def test_ablations_are_tables_that_build(name):
    variant = models.get_variant(name)
    model = models.build(name, input_size=64, num_classes=10)
    expected_blocks = {"s_all_mbconv": {"mbconv"}, "s_all_fused": {"fused"}}.get(name)
    if expected_blocks:
        assert {stage.block for stage in variant.stages} == expected_blocks
    assert model.output_shape == (None, 10)


def test_ablations_are_the_reproduction_study_s_tables():
    half = models.get_variant("s_half_depth")
    assert [st.repeats for st in half.stages] == [1, 2, 2, 3, 4, 7]  # 2,4,4,6,9,15 halved, rounded down
    dropped = models.get_variant("s_two_stages_dropped").stages
    rows = [(st.block, st.expand, st.kernel, st.stride, st.channels, st.repeats) for st in dropped]
    assert rows == [("fused", 1, 3, 1, 48, 2), ("fused", 4, 3, 2, 64, 4), ("mbconv", 4, 3, 2, 128, 6),
                    ("mbconv", 6, 3, 2, 256, 15)]
    model = models.build("s_two_stages_dropped", input_size=64, include_top=False)
    assert model.output_shape[1] == 64 // 16  # output stride 16
    ours = models.get_variant("s_stride1_stages_dropped").stages
    assert all(st.stride == 2 for st in ours) and len(ours) == 4


@pytest.mark.parametrize("activation, layer_type", [("relu6", "ReLU"), ("hard_swish", "Activation")])
def test_activation_switch_reaches_every_block(activation, layer_type):
    table = tiny_table("ghost_b0")  # one block a stage: every block type, in a second
    model = models.build(table, input_size=64, activation=activation)
    acts = [layer for layer in model.layers if layer.name.endswith("_activation")]
    assert all(type(layer).__name__ == layer_type for layer in acts)
    blocks = {spec.name for spec in block_plan(table, 0.0)} | {"stem", "top"}
    assert {layer.name.split("_")[0] for layer in acts} == blocks


def test_se_switch_removes_every_se_layer():
    with_se = models.build(tiny_table("b0"), input_size=64)
    without = models.build(tiny_table("b0"), input_size=64, se=False)
    assert any("_se_" in layer.name for layer in with_se.layers)
    assert not any("_se_" in layer.name for layer in without.layers)
    assert without.count_params() < with_se.count_params()


def test_lite0_is_b0s_mbconv_table_without_se_in_relu6_at_the_published_size():
    """The ARM yardstick (studies.arm_yardstick): tensorflow/tpu's Lite0 has 4.7 M parameters."""
    from models.tables import LITE0, LITE0_ACTIVATION

    model = models.build(LITE0, activation=LITE0_ACTIVATION, num_classes=1000)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert abs(model.count_params() - 4.7e6) < 0.01 * 4.7e6
    assert "ReLU" in kinds and "Multiply" not in kinds  # ReLU6 everywhere, no SE gates
    assert sum(type(layer).__name__ == "DepthwiseConv2D" for layer in model.layers) == 16
