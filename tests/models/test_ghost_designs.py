"""Ghost designs are data: each choice of a GhostDesign shows in the built graph, and the
reference design (ghost_<name>) is untouched by the int8-tuned family (ghostlite_<name>)."""
import dataclasses

import pytest

import models
from models.registry import FAMILIES, base_name
from models.tables import GHOST_ROLES, STUDIED_DESIGNS, GhostDesign


def _build(design: GhostDesign):
    variant = dataclasses.replace(models.get_variant("b0"), name="b0_design", ghost=design)
    return models.build(variant, input_size=64, num_classes=10)


def _names(model) -> list[str]:
    return [layer.name for layer in model.layers]


def test_every_table_has_a_ghost_and_a_ghostlite_twin():
    names = models.variant_names()
    for size in ["b0", "s", "xl", "s_all_fused"]:
        assert f"ghost_{size}" in names and f"ghostlite_{size}" in names
        assert base_name(f"ghostlite_{size}") == size
    assert models.get_variant("ghost_s").ghost == GhostDesign() and models.get_variant("s").ghost is None
    assert models.get_variant("ghostlite_s").ghost == FAMILIES["ghostlite_"]
    with pytest.raises(ValueError, match="derived from it"):
        models.register(dataclasses.replace(models.get_variant("b0"), name="ghostlite_mine"))


def test_the_studied_designs_build_by_name_but_are_not_listed():
    names = models.variant_names()
    for prefix, design in STUDIED_DESIGNS.items():
        variant = models.get_variant(f"{prefix}b0")
        assert variant.ghost == design and base_name(variant.name) == "b0" and variant.name not in names
    assert len(set(STUDIED_DESIGNS.values()) | set(FAMILIES.values())) == len(STUDIED_DESIGNS) + len(FAMILIES)
    three_by_three = models.build("ghostnoact_b0", input_size=64, num_classes=10)
    assert any(layer.name.endswith("_cheap_conv") and layer.kernel_size == (3, 3) for layer in three_by_three.layers)


def test_ghostlite_cheap_branch_is_a_1x1_depthwise_conv_with_its_activation():
    model = models.build("ghostlite_b0", input_size=64, num_classes=10)
    cheap = [layer for layer in model.layers if layer.name.endswith("_cheap_conv")]
    assert cheap and all(layer.kernel_size == (1, 1) for layer in cheap)
    reference = models.build("ghost_b0", input_size=64, num_classes=10)
    activations = lambda m: sum(n.endswith("_cheap_activation") for n in _names(m))  # noqa: E731
    assert activations(model) == activations(reference) > 0  # as the primary half's (none in projections)
    assert model.count_params() < reference.count_params()


def test_the_reference_ghost_design_keeps_its_parameter_count():
    assert models.build("ghost_s", input_size=224).count_params() == 13_814_051  # as before the designs


@pytest.mark.parametrize("role", GHOST_ROLES)
def test_roles_choose_which_convolutions_become_ghost_modules(role):
    names = _names(_build(GhostDesign(roles=(role,))))
    ghost = {n.rsplit("_primary_conv", 1)[0] for n in names if n.endswith("_primary_conv")}
    suffix = {"fused_expand": "_expand", "fused_project": "_project", "mbconv_expand": "_expand",
              "mbconv_project": "_project", "head": "top"}[role]
    assert ghost and all(n.endswith(suffix) for n in ghost)


def test_min_channels_keeps_narrow_convolutions_dense():
    wide_only = _names(_build(GhostDesign(min_channels=480)))
    everywhere = _names(_build(GhostDesign()))
    count = lambda names: sum(n.endswith("_primary_conv") for n in names)  # noqa: E731
    assert 0 < count(wide_only) < count(everywhere)


def test_cheap_branch_kernel_and_activation_are_choices():
    model = _build(GhostDesign(cheap_kernel=1, cheap_activation=False))
    cheap = [layer for layer in model.layers if layer.name.endswith("_cheap_conv")]
    assert cheap and all(layer.kernel_size == (1, 1) for layer in cheap)
    assert not any(n.endswith("_cheap_activation") for n in _names(model))
    assert any(n.endswith("_cheap_activation") for n in _names(_build(GhostDesign())))


def test_resnet_d_shortcuts_are_a_choice():
    assert any(n.endswith("_shortcut_conv") for n in _names(_build(GhostDesign())))
    assert not any(n.endswith("_shortcut_conv") for n in _names(_build(GhostDesign(resnet_d=False))))


def test_a_ghost_ratio_above_two_makes_a_quarter_primary_and_separate_cheap_convs_where_it_divides():
    model = _build(GhostDesign(cheap_kernel=1, ratio=4, ratio_from=64))
    layers = {layer.name: layer for layer in model.layers}
    wide = [name[:-len("_concat")] for name, layer in layers.items()
            if name.endswith("_concat") and layer.output_shape[-1] >= 64 and layer.output_shape[-1] % 4 == 0]
    assert wide
    for module in wide:
        channels = layers[f"{module}_concat"].output_shape[-1]
        assert layers[f"{module}_primary_conv"].filters == channels // 4
        # three depthwise convs of the primary, no depth multiplier (XNNPACK runs that as a grouped conv)
        cheap = [layers[f"{module}_cheap{suffix}_conv"] for suffix in ("", "2", "3")]
        assert all(c.depth_multiplier == 1 and c.kernel_size == (1, 1) for c in cheap)
        assert f"{module}_cheap4_conv" not in layers
    narrow = [name[:-len("_concat")] for name, layer in layers.items()
              if name.endswith("_concat") and layer.output_shape[-1] < 64]
    assert narrow and all(f"{m}_cheap2_conv" not in layers for m in narrow)  # ratio 2 below ratio_from
    assert model.count_params() < _build(GhostDesign(cheap_kernel=1)).count_params()
