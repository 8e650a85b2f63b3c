import json

import pytest

from bench.artifacts import expand
from core.artifacts import MANIFEST_VERSION, UNKNOWN, describe, parse_name, update_manifest


@pytest.mark.parametrize("name, expected", [
    ("ghost_s_int8.tflite", ("ghost_s", "int8")),
    ("b0_fp32.tflite", ("b0", "fp32")),
    ("s_all_fused_int16x8.tflite", ("s_all_fused", "int16x8")),
    ("/x/y/ghost_b3_dynamic.tflite", ("ghost_b3", "dynamic")),
    ("mobilenet_v2.tflite", (UNKNOWN, UNKNOWN)),
    ("model_int4.tflite", (UNKNOWN, UNKNOWN)),
])
def test_variant_and_precision_come_from_the_file_name(name, expected):
    assert parse_name(name) == expected


def test_describe_prefers_the_manifest_and_reads_shapes(fp32_model, tmp_path):
    info = describe(fp32_model)
    assert (info.variant, info.precision, info.input_size, info.num_classes) == ("b0", "fp32", 64, 10)
    # The same file renamed, with no manifest beside it: name unknown, shapes from the model.
    copy = tmp_path / "my_net.tflite"
    copy.write_bytes(open(fp32_model, "rb").read())
    info = describe(str(copy))
    assert (info.variant, info.precision, info.input_size, info.num_classes) == (UNKNOWN, UNKNOWN, 64, 10)
    assert info.size_bytes == copy.stat().st_size


def test_the_manifest_entry_overrides_the_file_name_and_shapes(fp32_model, tmp_path):
    path = tmp_path / "b1_fp16.tflite"
    path.write_bytes(open(fp32_model, "rb").read())
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"variant": "ghost_b1", "artifacts": {"b1_fp16.tflite": {
            "precision": "fp16", "input_size": 240, "num_classes": 5, "weights": "w.keras"}}}))
    info = describe(str(path))
    assert (info.variant, info.precision, info.input_size, info.weights) == ("ghost_b1", "fp16", 240, "w.keras")


def test_expand_globs_dedupes_and_rejects_what_matches_nothing(artifacts_dir, fp32_model):
    paths = expand([str(artifacts_dir / "*" / "*.tflite"), fp32_model])
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["b0_fp32.tflite", "b0_int8.tflite"]
    with pytest.raises(FileNotFoundError, match="no model file matches"):
        expand([str(artifacts_dir / "missing.tflite")])


def test_each_file_gets_its_own_size_and_classes_not_the_latest_conversions(tmp_path, fp32_model):
    # A version-2 manifest: the top level holds a later conversion's 96 px and 5 classes.
    (tmp_path / "b0_fp32.tflite").write_bytes(open(fp32_model, "rb").read())
    (tmp_path / "manifest.json").write_text(json.dumps({
        "variant": "b0", "input_size": 96, "num_classes": 5, "manifest_version": 2,
        "artifacts": {"b0_fp32.tflite": {"precision": "fp32"}}}))
    model = describe(str(tmp_path / "b0_fp32.tflite"))
    assert (model.input_size, model.num_classes) == (64, 10)  # read from the file itself
    manifest = update_manifest(tmp_path, {"variant": "b0"}, "b0_int8.tflite",
                               {"precision": "int8", "input_size": 96, "num_classes": 5})
    assert "input_size" not in manifest and manifest["manifest_version"] == MANIFEST_VERSION
