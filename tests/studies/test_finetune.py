"""make qat end to end on a briefly trained tiny model: TFMOT fine-tuning, conversion, manifest."""
import json

import pytest

from convert.__main__ import main as convert_main
from studies.finetune import BestEpoch, chance_warning, main


QAT = ["--variant", "ghost_tiny", "--size", "48", "--batch", "16", "--epochs", "1", "--no-gpu-check",
       "--max-top1-drop", "100"]  # a 3-epoch tiny model: what int8 loses is not the point here


@pytest.fixture(scope="module")
def trained_model(trained_tiny):
    return trained_tiny[0]


def test_qat_writes_an_integer_only_file_with_its_history_in_the_manifest(trained_model, small_demo, tmp_path):
    assert main([*QAT, "--weights", str(trained_model), "--data", str(small_demo), "--out", str(tmp_path)]) == 0
    folder = tmp_path / "ghost_tiny"
    assert (folder / "ghost_tiny_int8_qat.tflite").is_file() and (folder / "labels.txt").is_file()
    entry = json.loads((folder / "manifest.json").read_text())["artifacts"]["ghost_tiny_int8_qat.tflite"]
    assert entry["precision"] == "int8_qat" and entry["float_ops"] == 0 and entry["xnnpack_partitions"] == 1
    assert entry["inputs"][0]["dtype"] == "uint8" and entry["inputs"][0]["zero_point"] == 0
    assert entry["calibration"]["calibration_images"] == 0  # the ranges were learnt, not calibrated
    qat = entry["qat"]
    assert qat["epochs"] == 1 and len(qat["history"]) == 1 and 0 <= qat["float_val_top1"] <= 1
    assert qat["kept_epoch"] == 1 and 0 <= qat["aligned_val_top1"] <= 1
    accuracy = entry["validation"]["accuracy"]
    assert accuracy["images"] == 32 and 0 <= accuracy["tflite_top1"] <= 1


def test_the_float_baseline_fine_tunes_the_same_epochs_in_float_then_converts_with_ptq(
        trained_model, small_demo, tmp_path):
    assert main([*QAT, "--weights", str(trained_model), "--data", str(small_demo), "--out", str(tmp_path),
                 "--float-baseline"]) == 0
    folder = tmp_path / "ghost_tiny"
    tuned = folder / "ghost_tiny_float_finetuned.keras"
    assert tuned.is_file() and not (folder / "ghost_tiny_int8_qat.tflite").exists()
    entry = json.loads((folder / "manifest.json").read_text())["artifacts"]["ghost_tiny_int8.tflite"]
    assert entry["precision"] == "int8" and entry["weights"] == str(tuned)
    assert entry["calibration"]["calibration_images"] > 0  # post-training: calibrated
    baseline = entry["float_finetune"]
    assert baseline["epochs"] == 1 and len(baseline["history"]) == 1 and baseline["weights_before"] == str(trained_model)
    assert baseline["kept_epoch"] == 1 and "aligned_val_top1" not in baseline  # float: nothing to align


def test_the_best_epoch_is_kept_and_a_tie_keeps_the_earlier_one():
    import numpy as np
    import tf_keras as keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    best = BestEpoch()
    kept = [w.copy() for w in model.get_weights()]
    best.update({"epoch": 1, "val_top1": 0.9}, model)
    for epoch, top1 in ((2, 0.8), (3, 0.9)):  # worse, then a tie
        model.set_weights([w + epoch for w in model.get_weights()])
        best.update({"epoch": epoch, "val_top1": top1}, model)
    assert best.restore(model) == 1
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), kept))


@pytest.mark.parametrize("args, message", [
    (["--classes", "5"], "trained as CLASSES=8, but CLASSES=5 was given"),
    (["--epochs", "0"], "EPOCHS and BATCH must be at least 1"),
    (["--range-batches", "-1"], "RANGE_BATCHES at least 0"),
    (["--variant", "nonesuch"], "trained as VARIANT=ghost_tiny, but VARIANT=nonesuch"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(trained_model, small_demo, tmp_path, capsys, args, message):
    assert main([*QAT, "--weights", str(trained_model), "--data", str(small_demo), "--out", str(tmp_path / "out"),
                 *args]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error
    assert not (tmp_path / "out").exists()


def test_make_tflite_refuses_int8_qat_and_names_make_qat(capsys, tmp_path):
    assert convert_main(["b0", "--precision", "int8_qat", "--out", str(tmp_path)]) == 2
    assert "make qat" in capsys.readouterr().err


def test_an_untrained_model_gets_a_warning_that_says_why():
    assert "measures nothing" in chance_warning(0.125, 8)
    assert chance_warning(0.9, 8) is None


def test_quant_report_ranks_every_quantized_op_by_its_error(trained_model, small_demo, tmp_path):
    from studies.quant_report import main as report_main

    assert report_main(["--variant", "ghost_tiny", "--weights", str(trained_model), "--data", str(small_demo),
                        "--size", "48", "--images", "4", "--calib", "8", "--float", "0,3", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "ghost_tiny_quant_report.json").read_text())
    saved = report["layers"]
    errors = [row["rmse_over_scale"] for row in saved]
    assert len(saved) > 50 and errors == sorted(errors, reverse=True)
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "CONCATENATION"} <= {row["op"] for row in saved}
    assert saved[0]["layer"].startswith(("block", "stem", "top", "preprocess", "predictions"))
    assert (tmp_path / "ghost_tiny_quant_report.png").read_bytes()[:4] == b"\x89PNG"
    assert "| rank | layer | op |" in (tmp_path / "ghost_tiny_quant_report.md").read_text()
    # The mixed-precision files: scored on the held-out split, timed by the bench harness.
    fixes = report["mixed_precision"]
    assert [row["float_ops_kept"] for row in fixes] == [0, 3]
    assert all(0 <= row["top1"] <= 1 and row["ms_1_thread"] > 0 for row in fixes)
    from convert import ops
    kept = ops.float_ops(ops.operators((tmp_path / fixes[1]["file"]).read_bytes()))
    assert {op["op"] for op in kept} - {"QUANTIZE", "DEQUANTIZE"}  # real ops stayed float
    # It diagnoses make tflite's file: the same calibration images and range estimator give the same scales.
    assert convert_main(["ghost_tiny", "--size", "48", "--classes", "8", "--weights", str(trained_model), "--data",
                         str(small_demo), "--calib", "8", "--no-gpu-check", "--no-legacy-check", "--max-top1-drop",
                         "100", "--out", str(tmp_path / "made")]) == 0
    made = _activation_scales((tmp_path / "made" / "ghost_tiny" / "ghost_tiny_int8.tflite").read_bytes())
    reported = _activation_scales((tmp_path / fixes[0]["file"]).read_bytes())
    shared = made.keys() & reported.keys()
    assert len(shared) > 50 and all(made[name] == reported[name] for name in shared)


def _activation_scales(tflite: bytes) -> dict[str, float]:
    """Scale of every int8 tensor with one scale (activations and per-tensor weights), by name."""
    from tensorflow.lite.tools import flatbuffer_utils

    graph = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite)).subgraphs[0]
    return {t.name.decode(): float(t.quantization.scale[0]) for t in graph.tensors
            if t.quantization is not None and t.quantization.scale is not None and len(t.quantization.scale) == 1}
