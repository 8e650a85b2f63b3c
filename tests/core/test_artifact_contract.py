"""The artifact contract has one owner: every precision has a recipe and an acceptance bar, and
names round-trip."""
import pytest

from convert.recipes import RECIPES
from convert.validate import MIN_COSINE
from core.artifacts import MANIFEST_VERSION, PRECISIONS, UNKNOWN, artifact_name, parse_name, update_manifest


def test_every_precision_has_a_recipe_and_an_acceptance_bar():
    assert tuple(RECIPES) == PRECISIONS
    assert set(MIN_COSINE) == set(PRECISIONS)


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("variant", ["b0", "ghost_s", "s_all_mbconv", "ghost_s_half_depth"])
def test_names_round_trip(variant, precision):
    assert parse_name(artifact_name(variant, precision)) == (variant, precision)


def test_other_files_are_unknown():
    assert parse_name("model.tflite") == (UNKNOWN, UNKNOWN)
    assert parse_name("b0_int4.tflite") == (UNKNOWN, UNKNOWN)


def test_the_manifest_carries_its_schema_version_and_keeps_other_entries(tmp_path):
    update_manifest(tmp_path, {"variant": "b0"}, "b0_fp32.tflite", {"precision": "fp32"})
    manifest = update_manifest(tmp_path, {"variant": "b0"}, "b0_int8.tflite", {"precision": "int8"})
    assert manifest["manifest_version"] == MANIFEST_VERSION
    assert set(manifest["artifacts"]) == {"b0_fp32.tflite", "b0_int8.tflite"}
