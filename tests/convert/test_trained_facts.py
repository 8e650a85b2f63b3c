"""WEIGHTS= alone is enough: a model from make train carries its variant, size, classes and
labels into make tflite, qat, quant-report and ship; a contradicting setting is refused."""
import json

import pytest

from convert.__main__ import main as convert_main
from convert.ship import main as ship_main
from convert.trained import read_facts
from studies.finetune import main as qat_main
from studies.quant_report import main as report_main


def test_the_facts_of_a_trained_file(trained_tiny):
    model, _ = trained_tiny
    facts = read_facts(str(model))
    assert (facts.variant, facts.input_size, facts.num_classes) == ("ghost_tiny", 48, 8)
    assert facts.labels == str(model.parent / "labels.txt")
    assert read_facts("imagenet") is None and read_facts(str(model.parent / "labels.txt")) is None


def test_make_tflite_takes_variant_size_classes_and_labels_from_weights(trained_tiny, small_demo, tmp_path):
    model, _ = trained_tiny
    assert convert_main(["--weights", str(model), "--precision", "fp32", "--data", str(small_demo), "--validate", "4",
                         "--no-gpu-check", "--no-legacy-check", "--out", str(tmp_path)]) == 0
    entry = json.loads((tmp_path / "ghost_tiny" / "manifest.json").read_text())["artifacts"]["ghost_tiny_fp32.tflite"]
    assert entry["input_size"] == 48 and entry["num_classes"] == 8 and entry["inputs"][0]["shape"] == [1, 48, 48, 3]
    assert (tmp_path / "ghost_tiny" / "labels.txt").read_text() == (model.parent / "labels.txt").read_text()


@pytest.mark.parametrize("args, message", [
    (["--size", "64"], "trained as SIZE=48, but SIZE=64 was given; leave SIZE unset or set it to 48"),
    (["--classes", "5"], "trained as CLASSES=8, but CLASSES=5"),
    (["tiny"], "trained as VARIANT=ghost_tiny, but VARIANT=tiny"),
])
def test_a_setting_that_contradicts_the_weights_is_one_line_exit_2_and_writes_nothing(
        trained_tiny, small_demo, tmp_path, capsys, args, message):
    model, _ = trained_tiny
    assert convert_main([*args, "--weights", str(model), "--precision", "fp32", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error and not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", [qat_main, report_main])
def test_qat_and_quant_report_refuse_a_contradicting_size_before_any_work(command, trained_tiny, small_demo,
                                                                          tmp_path, capsys):
    model, _ = trained_tiny
    assert command(["--weights", str(model), "--data", str(small_demo), "--size", "64", "--out", str(tmp_path)]) == 2
    assert "trained as SIZE=48" in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_ship_without_a_variant_takes_the_last_converted_one(trained_tiny, tmp_path, capsys):
    _, artifacts = trained_tiny
    assert ship_main(["--precision", "fp32", "--artifacts", str(artifacts.parent), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "ghost_tiny" / "ghost_tiny_fp32.tflite").is_file()
