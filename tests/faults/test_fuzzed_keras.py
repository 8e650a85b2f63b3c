"""A damaged or misnamed .keras handed to the commands that take a trained model: make tflite's
--weights, make quant-report's --weights, make evaluate's --model."""
import pytest

from convert.__main__ import main as convert_main
from studies.quant_report import main as quant_report_main
from tests.faults.conftest import CLASSES, SIZE, TFLITE, VARIANT, weights_region
from tests.faults.corrupt import cases, damaged
from tests.faults.outcome import CLEAR, in_process, refusal
from train.evaluate import main as evaluate_main

GROUP = "damaged or misnamed .keras"
DAMAGE = {"truncated": 3, "bit-flipped": 3, "zero-filled": 2, "random-bytes": 1, "empty": 1}
# A good file under another name: (file name, where its bytes come from).
MISNAMED = {"keras-named-h5": ("model.h5", "keras"), "tflite-named-keras": ("model.keras", "tflite"),
            "keras-named-tflite": ("model.tflite", "keras")}


def _damaged_keras(case, good_keras, kind: str, seed: int):
    """The run folder copied into the case, its model.keras damaged (bit flips and zeros inside the
    weights member)."""
    path = case.copy(good_keras.parent, "run") / good_keras.name
    path.write_bytes(damaged(kind, seed, path.read_bytes(), weights_region(path)))
    return path


def _misnamed(case, good_keras, good_artifacts, kind: str):
    name, source = MISNAMED[kind]
    path = case.copy(good_keras.parent, "run") / name
    path.write_bytes((good_keras if source == "keras" else good_artifacts / VARIANT / TFLITE).read_bytes())
    return path


def _convert_refusal(case, path):
    argv = [VARIANT, "--size", str(SIZE), "--classes", str(CLASSES), "--precision", "fp32", "--calib", "4",
            "--validate", "2", "--no-gpu-check", "--no-legacy-check", "--weights", str(path),
            "--out", str(case.root / "artifacts")]
    finished, harmed = case.run(lambda: in_process(convert_main, argv))
    return refusal(finished, [path.name], harmed)


def _quant_report_refusal(case, path, small_demo):
    argv = ["--variant", VARIANT, "--size", str(SIZE), "--weights", str(path), "--data", str(small_demo),
            "--images", "4", "--calib", "4", "--float", "", "--out", str(case.root / "report")]
    finished, harmed = case.run(lambda: in_process(quant_report_main, argv))
    return refusal(finished, [path.name], harmed)


def _evaluate_refusal(case, path, small_demo):
    argv = ["--model", str(path), "--data", str(small_demo), "--out", str(case.root / "evaluation")]
    finished, harmed = case.run(lambda: in_process(evaluate_main, argv))
    return refusal(finished, [path.name], harmed)


CONVERT = (f"python -m convert {VARIANT} --size {SIZE} --classes {CLASSES} --precision fp32 --calib 4 --validate 2 "
           "--no-gpu-check --no-legacy-check --weights FILE --out OUT")
QUANT_REPORT = f"python -m studies.quant_report --variant {VARIANT} --size {SIZE} --weights FILE --data DATA --out OUT"
EVALUATE = "python -m train.evaluate --model FILE --data DATA --out OUT"


@pytest.mark.fault(GROUP, CONVERT)
@pytest.mark.parametrize(("kind", "seed"), cases(DAMAGE))
def test_convert_refuses_damaged_weights_naming_them(kind, seed, case, good_keras, verdict):
    verdict(_convert_refusal(case, _damaged_keras(case, good_keras, kind, seed)), CLEAR)


@pytest.mark.fault(GROUP, QUANT_REPORT)
@pytest.mark.parametrize(("kind", "seed"), cases(DAMAGE))
def test_quant_report_refuses_damaged_weights_naming_them(kind, seed, case, good_keras, small_demo, verdict):
    verdict(_quant_report_refusal(case, _damaged_keras(case, good_keras, kind, seed), small_demo), CLEAR)


@pytest.mark.fault(GROUP, EVALUATE)
@pytest.mark.parametrize(("kind", "seed"), cases(DAMAGE))
def test_evaluate_refuses_a_damaged_keras_model_naming_it(kind, seed, case, good_keras, small_demo, verdict):
    verdict(_evaluate_refusal(case, _damaged_keras(case, good_keras, kind, seed), small_demo), CLEAR)


@pytest.mark.fault(GROUP, CONVERT)
@pytest.mark.parametrize("kind", MISNAMED)
def test_convert_refuses_misnamed_weights_naming_them(kind, case, good_keras, good_artifacts, verdict):
    verdict(_convert_refusal(case, _misnamed(case, good_keras, good_artifacts, kind)), CLEAR)


@pytest.mark.fault(GROUP, QUANT_REPORT)
@pytest.mark.parametrize("kind", MISNAMED)
def test_quant_report_refuses_misnamed_weights_naming_them(kind, case, good_keras, good_artifacts, small_demo,
                                                           verdict):
    verdict(_quant_report_refusal(case, _misnamed(case, good_keras, good_artifacts, kind), small_demo), CLEAR)


@pytest.mark.fault(GROUP, EVALUATE)
@pytest.mark.parametrize("kind", MISNAMED)
def test_evaluate_refuses_a_misnamed_model_naming_it(kind, case, good_keras, good_artifacts, small_demo, verdict):
    verdict(_evaluate_refusal(case, _misnamed(case, good_keras, good_artifacts, kind), small_demo), CLEAR)
