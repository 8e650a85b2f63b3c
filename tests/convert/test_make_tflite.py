"""The `make tflite` job end to end on a tiny registered variant: real conversion, real LiteRT."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convert.__main__ import main
from convert.metadata import read_metadata
from convert.ops import float_ops, operators
from convert.validate import MIN_COSINE, xnnpack_partitions
from runtime.inference import run_tflite
from tests.conftest import ctrl_c_reaches

SIZE = 64
FAST = ["--size", str(SIZE), "--classes", "5", "--calib", "8", "--validate", "4", "--no-gpu-check"]


def convert_cli(tmp_path, *args):
    return main(["ghost_tiny", *FAST, "--out", str(tmp_path), *args])


@pytest.fixture(scope="module")
def int8_run(tmp_path_factory, tiny_variant):
    out = tmp_path_factory.mktemp("artifacts")
    assert main(["ghost_tiny", *FAST, "--out", str(out)]) == 0
    folder = out / "ghost_tiny"
    return folder, (folder / "ghost_tiny_int8.tflite").read_bytes(), json.loads((folder / "manifest.json").read_text())


def test_int8_file_takes_raw_uint8_pixels_and_is_integer_end_to_end(int8_run):
    _, tflite, manifest = int8_run
    entry = manifest["artifacts"]["ghost_tiny_int8.tflite"]
    (image,) = entry["inputs"]
    assert image["shape"] == [1, SIZE, SIZE, 3] and image["dtype"] == "uint8"
    assert (image["scale"], image["zero_point"]) == (1.0, 0)  # pixels pass straight through
    assert entry["outputs"][0]["dtype"] == "uint8"
    assert float_ops(operators(tflite)) == [] and entry["float_ops"] == 0


def test_int8_graph_runs_in_one_xnnpack_partition(int8_run):
    """No op of the full-integer Ghost graph (ResNet-D shortcut pools included) falls back
    to the reference kernels between XNNPACK pieces."""
    _, tflite, manifest = int8_run
    assert "AVERAGE_POOL_2D" not in {op["op"] for op in operators(tflite)}
    assert xnnpack_partitions(tflite) == 1
    assert manifest["artifacts"]["ghost_tiny_int8.tflite"]["xnnpack_partitions"] == 1


def test_manifest_describes_the_file_it_sits_beside(int8_run):
    folder, tflite, manifest = int8_run
    entry = manifest["artifacts"]["ghost_tiny_int8.tflite"]
    assert entry["sha256"] == hashlib.sha256(tflite).hexdigest() and entry["size_bytes"] == len(tflite)
    assert manifest["variant"] == "ghost_tiny" and entry["input_size"] == SIZE and "input_size" not in manifest
    assert entry["calibration"]["calibration_images"] == 8 and entry["calibration"]["source"].startswith("builtin")
    assert entry["job"]["calibration_percentile"] == 90  # the percentile range estimator is the default
    assert entry["validation"]["images"] == 4 and entry["validation"]["cosine_mean"] >= 0.9
    assert entry["versions"]["tensorflow"] and entry["versions"]["ai_edge_litert"]
    assert (folder / "ghost_tiny_int8.report.md").read_text().startswith("# ghost_tiny_int8")
    assert read_metadata(tflite)["name"].startswith("EfficientNetV2 ghost_tiny")


def test_same_inputs_give_a_byte_identical_file(int8_run, tmp_path):
    _, first, _ = int8_run
    assert convert_cli(tmp_path) == 0
    assert (tmp_path / "ghost_tiny" / "ghost_tiny_int8.tflite").read_bytes() == first


def test_another_calibration_seed_draws_other_images_and_the_manifest_says_which(int8_run, tmp_path):
    _, first, manifest = int8_run
    assert manifest["artifacts"]["ghost_tiny_int8.tflite"]["job"]["calibration_seed"] == 0
    assert convert_cli(tmp_path, "--calib-seed", "1") == 0
    assert (tmp_path / "ghost_tiny" / "ghost_tiny_int8.tflite").read_bytes() != first  # other ranges
    entry = json.loads((tmp_path / "ghost_tiny" / "manifest.json").read_text())["artifacts"]["ghost_tiny_int8.tflite"]
    assert entry["job"]["calibration_seed"] == 1 and entry["job"]["seed"] == 0


def test_per_tensor_int8_has_one_scale_per_weight_tensor_and_a_smaller_file(int8_run, tmp_path):
    from tensorflow.lite.tools import flatbuffer_utils

    _, per_channel, _ = int8_run
    assert convert_cli(tmp_path, "--precision", "int8_per_tensor") == 0
    per_tensor = (tmp_path / "ghost_tiny" / "ghost_tiny_int8_per_tensor.tflite").read_bytes()
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(per_tensor))
    graph = model.subgraphs[0]
    weights = [graph.tensors[op.inputs[1]] for op in graph.operators
               if flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert weights and all(len(w.quantization.scale) == 1 for w in weights)
    assert len(per_tensor) < len(per_channel)
    assert float_ops(operators(per_tensor)) == []


@pytest.mark.parametrize("precision", ["fp32", *(pytest.param(p, marks=pytest.mark.slow)
                                                  for p in ("fp16", "dynamic", "int16x8"))])
def test_other_precisions_validate_against_keras(tmp_path, tiny_variant, precision):
    assert convert_cli(tmp_path, "--precision", precision) == 0
    manifest = json.loads((tmp_path / "ghost_tiny" / "manifest.json").read_text())
    entry = manifest["artifacts"][f"ghost_tiny_{precision}.tflite"]
    assert entry["inputs"][0]["dtype"] == "float32" and entry["inputs"][0]["shape"] == [1, SIZE, SIZE, 3]
    assert entry["validation"]["cosine_mean"] > 0.98


def test_int8_io_on_request(tmp_path, tiny_variant):
    assert convert_cli(tmp_path, "--io", "int8") == 0
    entry = json.loads((tmp_path / "ghost_tiny" / "manifest.json").read_text())["artifacts"]["ghost_tiny_int8.tflite"]
    assert entry["inputs"][0]["dtype"] == entry["outputs"][0]["dtype"] == "int8"


def test_image_folder_with_classes_gives_labels_and_counts_broken_files(tmp_path, tiny_variant, capsys):
    rng = np.random.default_rng(0)
    data = tmp_path / "photos"
    for index, cls in enumerate(["cat", "dog", "eel", "fox", "gnu"] * 3):
        (data / cls).mkdir(parents=True, exist_ok=True)
        pixels = (rng.uniform(0, 1, (48, 80, 3)) * 255 * (index % 5 + 1) / 5).astype("uint8")
        Image.fromarray(pixels).save(data / cls / f"{index}.{['png', 'jpg', 'bmp'][index % 3]}")
    (data / "cat" / "broken.jpg").write_bytes(b"not an image")
    assert convert_cli(tmp_path, "--data", str(data)) == 0
    assert "1 image files in DATA could not be decoded and were skipped (e.g. cat/broken.jpg)" in capsys.readouterr().out
    folder = tmp_path / "ghost_tiny"
    assert (folder / "labels.txt").read_text().split() == ["cat", "dog", "eel", "fox", "gnu"]
    entry = json.loads((folder / "manifest.json").read_text())["artifacts"]["ghost_tiny_int8.tflite"]
    assert entry["calibration"]["skipped_files"] == 1
    with zipfile.ZipFile(folder / "ghost_tiny_int8.tflite") as packed:
        assert packed.read("labels.txt").decode().split() == ["cat", "dog", "eel", "fox", "gnu"]


@pytest.mark.parametrize("args, message", [
    (["--precision", "int4"], "unknown precision 'int4'; valid: fp32, fp16, dynamic, int8, int8_per_tensor, int16x8"),
    (["--size", "16"], "smaller than the total stride"),
    (["--weights", "/nonexistent.keras"], "weights file '/nonexistent.keras' does not exist"),
    (["--data", "/nonexistent"], "DATA folder '/nonexistent' does not exist"),
    (["--io", "int16"], "unknown int8 I/O type"),
    (["--calib-percentile", "40"], "between 50 and 100 (100 = min/max), got 40.0"),
    (["--precision", "fp16", "--calib-percentile", "90"], "is for int8 and int8_per_tensor"),
    (["--size", "0"], "input size 0 is smaller than the total stride"),
    (["--size", "100000"], "input size 100000 is larger than 1024"),
    (["--classes", "0"], "num_classes must be at least 1, got 0"),
    (["--labels", "{binary}"], "is not UTF-8 text"),
    (["--labels", "{empty}"], "is empty"),
    (["--labels", "{three}"], "3 labels in"),
    (["--weights", "{cut.keras}"], "is not a readable .keras model"),
    (["--weights", "{random.h5}"], "is not a readable .h5 weights file"),
])
def test_bad_input_is_one_line_error_and_writes_nothing(tmp_path, capsys, tiny_variant, args, message):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    files = {"binary": b"cat\n\xff\xfe\x00dog\n", "empty": b"\n\n", "three": b"a\nb\nc\n",
             "cut.keras": b"PK\x03\x04" + os.urandom(300), "random.h5": os.urandom(3000)}
    for name, data in files.items():
        (inputs / name).write_bytes(data)
    args = [str(inputs / a[1:-1]) if a.startswith("{") else a for a in args]
    out = tmp_path / "out"
    assert main(["ghost_tiny", *FAST, "--out", str(out), *args]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not out.exists()  # checked before anything, even the folder, is made


def test_unknown_variant_and_empty_data_folder(tmp_path, capsys, tiny_variant):
    assert main(["nope", "--out", str(tmp_path)]) == 2
    assert "unknown variant 'nope'; valid: b0" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images")
    assert convert_cli(tmp_path, "--data", str(tmp_path / "empty")) == 2
    assert "has no usable image" in capsys.readouterr().err


def test_weights_of_another_architecture_are_refused(tmp_path, capsys, tiny_variant):
    import models

    other = tmp_path / "other.keras"
    models.build("tiny", input_size=SIZE, num_classes=5).save(other)  # standard, not Ghost
    assert convert_cli(tmp_path, "--weights", str(other)) == 2
    assert "trained as VARIANT=tiny, but VARIANT=ghost_tiny was given" in capsys.readouterr().err
    assert not (tmp_path / "ghost_tiny").exists() or not any((tmp_path / "ghost_tiny").glob("*.tflite"))


def test_unwritable_out_folder(tmp_path, capsys, tiny_variant):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    assert main(["ghost_tiny", *FAST, "--out", str(blocker)]) == 2
    assert "cannot write to OUT folder" in capsys.readouterr().err


KILLED_RUN = """
import sys
from tests.small_models import register_tiny
register_tiny()
from convert.__main__ import main
sys.exit(main(sys.argv[1:]))
"""
REPO = Path(__file__).resolve().parents[2]


def test_a_killed_run_leaves_the_previous_artifact_untouched(tmp_path, tiny_variant):
    assert convert_cli(tmp_path) == 0
    folder = tmp_path / "ghost_tiny"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    (tmp_path / "tmp").mkdir()
    child = subprocess.Popen([sys.executable, "-c", KILLED_RUN, "ghost_tiny", *FAST, "--calib", "5000",
                              "--out", str(tmp_path)], cwd=REPO, env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = str(tmp_path / "tmp")  # the calibration workers' files live under TMPDIR
    deadline = time.monotonic() + 120
    while not _processes_mentioning(workers) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_mentioning(workers), "no calibration worker started"
    child.kill()  # mid-calibration
    child.wait()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    deadline = time.monotonic() + 30  # the workers notice and stop, not run on as orphans
    while _processes_mentioning(workers) and time.monotonic() < deadline:
        time.sleep(1)
    assert not _processes_mentioning(workers)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_says_so_in_one_line_and_leaves_no_temporary_files(tmp_path, tiny_variant, stop):
    temp = tmp_path / "tmp"
    temp.mkdir()
    child = subprocess.Popen([sys.executable, "-c", KILLED_RUN, "ghost_tiny", *FAST, "--calib", "5000",
                              "--out", str(tmp_path)], cwd=REPO, env={**os.environ, "TMPDIR": str(temp)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_reaches)
    deadline = time.monotonic() + 300
    while not _processes_mentioning(str(temp)) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_mentioning(str(temp)), f"no calibration worker started: {child.communicate()[1][-2000:]}"
    child.send_signal(stop)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130 and stderr.strip().splitlines()[-1] == "error: interrupted"
    assert "Traceback" not in stderr
    assert not list(temp.glob("calibration-*")) and not list((tmp_path / "ghost_tiny").glob("*.tflite"))


def _processes_mentioning(text: str) -> list[str]:
    return subprocess.run(["pgrep", "-f", text], capture_output=True, text=True).stdout.split()


def test_a_rejected_conversion_keeps_the_previous_artifact_and_says_what_to_change(tmp_path, tiny_variant,
                                                                                    monkeypatch, capsys):
    assert convert_cli(tmp_path, "--precision", "fp32") == 0
    path = tmp_path / "ghost_tiny" / "ghost_tiny_fp32.tflite"
    before = path.read_bytes()
    monkeypatch.setitem(MIN_COSINE, "fp32", 1.01)  # a bar no conversion can meet
    assert convert_cli(tmp_path, "--precision", "fp32", "--validate", "5") == 3
    error = capsys.readouterr().err
    assert "validation failed" in error and "FORCE=1" in error and len(error.strip().splitlines()) == 1
    assert path.read_bytes() == before
    assert (tmp_path / "ghost_tiny" / "ghost_tiny_fp32.rejected.tflite").is_file()


def test_force_writes_a_refused_file_and_the_manifest_says_why(tmp_path, tiny_variant, monkeypatch, capsys):
    monkeypatch.setitem(MIN_COSINE, "fp32", 1.01)
    assert convert_cli(tmp_path, "--precision", "fp32", "--force") == 0
    assert "written despite failed validation" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "ghost_tiny" / "manifest.json").read_text())
    entry = manifest["artifacts"]["ghost_tiny_fp32.tflite"]
    assert "cosine" in entry["validation"]["accepted_despite"][0] and entry["job"]["force"] is True


def test_an_untrained_int8_file_is_judged_layer_by_layer_not_by_its_logits(int8_run, tmp_path, monkeypatch):
    """An untrained network's int8 logits carry every layer's rounding noise: the main job writes
    the file whatever their cosine, and reports the SQNR of each layer against Keras."""
    _, _, manifest = int8_run
    profile = manifest["artifacts"]["ghost_tiny_int8.tflite"]["validation"]["depth_profile"]
    assert profile["layers_probed"] >= 10 and profile["first"]["sqnr_db"] > 10
    assert profile["largest_drop"]["db"] < 10
    monkeypatch.setitem(MIN_COSINE, "int8", 1.01)  # the logits' cosine no longer decides
    assert convert_cli(tmp_path) == 0


def test_converted_model_runs_in_litert_on_real_photo_crops(int8_run):
    from quantize import builtin_images

    _, tflite, _ = int8_run
    images = builtin_images(SIZE, calibration=1, validation=2).validation
    scores = run_tflite(tflite, images)
    assert scores.shape == (2, 5) and np.isfinite(scores).all()


def test_gpu_check_runs_the_file_on_the_gpu_accelerator_where_vulkan_exists(int8_run):
    from convert.validate import gpu_check
    from runtime.backends import Context, check_gpu
    from runtime.jobs import BackendSpec

    folder, _, _ = int8_run
    result = gpu_check(str(folder / "ghost_tiny_int8.tflite"))
    if check_gpu(BackendSpec("gpu"), Context()).reason:  # no Vulkan here: a skip that says why
        assert result["status"] == "skipped" and "Vulkan" in result["reason"]
    else:
        assert result["status"] == "ran", result
        assert result["fully_accelerated"] is True and "GPU" in result["device"]


def test_inspect_prints_the_card_of_a_file_and_refuses_what_is_not_one(int8_run, capsys, tmp_path):
    from convert.card import main as inspect_main

    folder, tflite, manifest = int8_run
    assert inspect_main([str(folder / "ghost_tiny_int8.tflite"), "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    entry = manifest["artifacts"]["ghost_tiny_int8.tflite"]
    assert card["sha256"] == entry["sha256"] and card["inputs"] == entry["inputs"]
    assert card["ops"]["CONV_2D"]["count"] == entry["ops"]["CONV_2D"] and card["ops"]["CONV_2D"]["version"] >= 1
    assert card["metadata"]["name"].startswith("EfficientNetV2 ghost_tiny") and card["float_ops"] == 0
    assert inspect_main([str(folder / "ghost_tiny_int8.tflite")]) == 0
    assert "| CONV_2D |" in capsys.readouterr().out
    (tmp_path / "not.tflite").write_bytes(b"nope")
    for bad in (tmp_path / "missing.tflite", tmp_path / "not.tflite"):
        assert inspect_main([str(bad)]) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith("error: ") and "\n" not in error


def test_the_manifest_records_op_versions_and_the_legacy_runtime_gives_the_same_outputs(int8_run):
    from core.environments import LEGACY_PYTHON
    from tests.conftest import client_python

    _, _, manifest = int8_run
    runtimes = manifest["artifacts"]["ghost_tiny_int8.tflite"]["runtimes"]
    assert runtimes["min_runtime_version"].count(".") == 2 and runtimes["op_versions"]["CONV_2D"] >= 1
    client_python(LEGACY_PYTHON, "bench-legacy-env")
    legacy = runtimes["legacy_tflite_runtime"]
    # int8 kernels round differently: the old runtime may differ from the nearer of LiteRT's XNNPACK
    # and reference kernels by as much as those two differ from each other, not more.
    assert legacy["status"] in ("same outputs", "within LiteRT's own kernel spread"), legacy
    assert legacy["runtime"] == "tflite-runtime 2.14.0"
    nearest = min(legacy["max_difference"], legacy["max_difference_to_reference_kernels"])
    assert nearest <= max(1, legacy["litert_xnnpack_vs_reference_kernels"])
