"""make evaluate on a trained tiny model and its real .tflite conversions (LiteRT)."""
import json
import shutil

import pytest
from PIL import Image

from convert.__main__ import main as convert_main
from train.evaluate import main, evaluate



@pytest.fixture(scope="module")
def model_and_files(trained_tiny):
    """A briefly trained ghost_tiny, and its fp32 and uint8-I/O int8 files (labels packed inside)."""
    model, folder = trained_tiny
    return model, folder / "ghost_tiny_fp32.tflite", folder / "ghost_tiny_int8.tflite"


def test_a_keras_model_is_scored_with_every_figure(model_and_files, small_demo, tmp_path):
    model, _, _ = model_and_files
    result = evaluate(str(model), str(small_demo), str(tmp_path))
    saved = json.loads((tmp_path / "evaluation.json").read_text())
    assert saved["images"] == 32 and 0 <= saved["top1"] <= 1 and saved["top5"] >= saved["top1"]
    assert set(saved["per_class"]) == set(result["classes"]) and len(saved["classes"]) == 8
    assert sum(map(sum, saved["confusion_matrix"])) + saved["predicted_outside_data"] == 32
    assert saved["model"] == str(model)
    assert (tmp_path / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_a_float_tflite_scores_as_its_keras_model(model_and_files, small_demo, tmp_path):
    model, fp32, _ = model_and_files
    result = evaluate(str(fp32), str(small_demo), str(tmp_path), reference=str(model))
    assert result["reference"]["top1_agreement"] == 1.0
    assert result["top1"] == result["reference"]["top1"]


def test_an_int8_file_with_uint8_io_is_scored_by_its_packed_labels(model_and_files, small_demo, tmp_path):
    _, _, int8 = model_and_files
    alone = tmp_path / "alone.tflite"
    shutil.copy(int8, alone)  # no labels.txt beside it: the labels come from the metadata
    result = evaluate(str(alone), str(small_demo), str(tmp_path / "out"))
    assert result["images"] == 32 and result["input_size"] == 48


def test_folders_that_are_not_the_model_classes_are_a_clear_error(model_and_files, tmp_path, capsys):
    model, _, _ = model_and_files
    for name in ("apple", "pear"):
        (tmp_path / "data" / name).mkdir(parents=True)
        Image.new("RGB", (48, 48)).save(tmp_path / "data" / name / "a.png")
        Image.new("RGB", (48, 48)).save(tmp_path / "data" / name / "b.png")
    assert main(["--model", str(model), "--data", str(tmp_path / "data"), "--out", str(tmp_path / "o")]) == 2
    error = capsys.readouterr().err
    assert "DATA classes apple, pear are not among the class names in labels file" in error
    assert not (tmp_path / "o").exists()


def test_a_missing_model_is_a_clear_error(tmp_path, small_demo, capsys):
    assert main(["--model", str(tmp_path / "nope.keras"), "--data", str(small_demo)]) == 2
    assert "is not a .keras or .tflite file" in capsys.readouterr().err


def test_make_tflite_with_labelled_data_records_held_out_accuracy(model_and_files, small_demo):
    model, fp32, int8 = model_and_files
    manifest = json.loads((fp32.parent / "manifest.json").read_text())
    keras_top1 = evaluate(str(model), str(small_demo))["top1"]
    for path in (fp32, int8):
        accuracy = manifest["artifacts"][path.name]["validation"]["accuracy"]
        assert accuracy["images"] == 32 and accuracy["split"] == "train/ and val/ folders"
        assert accuracy["keras_top1"] == pytest.approx(keras_top1)
        assert accuracy["tflite_top1"] == pytest.approx(evaluate(str(path), str(small_demo))["top1"])
    assert manifest["artifacts"][fp32.name]["validation"]["accuracy"]["top1_drop_points"] == 0


def test_a_file_that_loses_more_top1_than_allowed_is_rejected(model_and_files, small_demo, tmp_path):
    model, _, _ = model_and_files
    assert convert_main(["ghost_tiny", "--precision", "fp32", "--size", "48", "--classes", "8", "--weights",
                         str(model), "--data", str(small_demo), "--no-gpu-check", "--max-top1-drop", "-1",
                         "--out", str(tmp_path)]) == 3
    assert (tmp_path / "ghost_tiny" / "ghost_tiny_fp32.rejected.tflite").is_file()
    assert not (tmp_path / "ghost_tiny" / "ghost_tiny_fp32.tflite").exists()
