"""Class names as users write them: spaces inside ("sea lion"), fewer than 5 classes, a name
given twice. End to end through make tflite, make evaluate and make ship on real files."""
import json

import pytest
from PIL import Image

import models
from convert.__main__ import main as convert_main
from convert.ship import main as ship_main
from train.evaluate import main as evaluate_main

CLASSES = ("cat", "sea lion", "zebra")


@pytest.fixture(scope="module")
def sea_lion(tmp_path_factory, tiny_variant):
    """A train/ and val/ image folder of 3 classes, one with a space in its name, and an untrained
    ghost_tiny converted to fp32 from it (labels packed inside): (DATA, the .tflite)."""
    root = tmp_path_factory.mktemp("sea_lion")
    for split, count in (("train", 4), ("val", 3)):
        for shade, name in enumerate(CLASSES):
            (root / "data" / split / name).mkdir(parents=True)
            for i in range(count):
                Image.new("RGB", (56, 48), (90 * shade, 60 * i, 120)).save(root / "data" / split / name / f"{i}.png")
    assert convert_main(["ghost_tiny", "--precision", "fp32", "--size", "48", "--classes", "3", "--data",
                         str(root / "data"), "--validate", "4", "--no-gpu-check", "--no-legacy-check",
                         "--out", str(root / "artifacts")]) == 0
    return root / "data", root / "artifacts" / "ghost_tiny" / "ghost_tiny_fp32.tflite"


def test_make_evaluate_takes_its_own_tflite_whose_class_name_has_a_space(sea_lion, tmp_path):
    data, tflite = sea_lion
    assert evaluate_main(["--model", str(tflite), "--data", str(data), "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "evaluation.json").read_text())
    assert result["classes"] == list(CLASSES) and set(result["per_class"]) == set(CLASSES)
    assert result["images"] == 9 and "top5" not in result  # 3 classes: top-5 says nothing


def test_the_model_card_of_fewer_than_5_classes_has_no_top5(sea_lion, tmp_path):
    data, tflite = sea_lion
    assert evaluate_main(["--model", str(tflite), "--data", str(data)]) == 0  # beside the file, where ship reads it
    assert ship_main(["ghost_tiny", "--precision", "fp32", "--artifacts", str(tflite.parent.parent),
                      "--out", str(tmp_path / "dist"), "--bench", str(tmp_path / "no-bench")]) == 0
    card = (tmp_path / "dist" / "ghost_tiny" / "MODEL_CARD.md").read_text()
    assert "`make evaluate`: top-1 " in card and " on 9 images" in card
    assert "nan" not in card and "top-5" not in card
    assert (tmp_path / "dist" / "ghost_tiny" / "labels.txt").read_text().splitlines() == list(CLASSES)


def test_a_labels_file_that_names_a_class_twice_is_refused_by_evaluate(sea_lion, tmp_path, capsys):
    data, _ = sea_lion
    models.build("tiny", input_size=48, num_classes=4).save(tmp_path / "model.keras")
    (tmp_path / "labels.txt").write_text("cat\nsea lion\nzebra\ncat\n")  # 4 outputs, 3 names
    assert evaluate_main(["--model", str(tmp_path / "model.keras"), "--data", str(data),
                          "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error == f"error: labels file {str(tmp_path / 'labels.txt')!r} names 'cat' more than once; " \
                    "give each class exactly one line\n"
    assert not (tmp_path / "out").exists()


def test_a_labels_file_that_names_a_class_twice_is_refused_by_make_tflite(tiny_variant, tmp_path, capsys):
    (tmp_path / "labels.txt").write_text("cat\nsea lion\ncat\n")
    assert convert_main(["ghost_tiny", "--precision", "fp32", "--size", "48", "--classes", "3", "--labels",
                         str(tmp_path / "labels.txt"), "--validate", "4", "--no-gpu-check", "--no-legacy-check",
                         "--out", str(tmp_path / "artifacts")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "'cat' more than once" in error
    assert not list(tmp_path.glob("artifacts/ghost_tiny/*.tflite"))
    assert not (tmp_path / "artifacts" / "ghost_tiny" / "labels.txt").exists()
