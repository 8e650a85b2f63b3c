"""make ship: the folder an app drops into its assets, built from a real make tflite artifact."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from convert.__main__ import main as convert_main
from convert.ship import main as ship_main
from core.environments import KOTLINC

from tests.conftest import client_python
from tests.convert.test_make_tflite import FAST

# The Android, LiteRT and MediaPipe declarations the written Kotlin calls (their README says whence).
KOTLIN_STUBS = Path(__file__).parent / "kotlin_stubs"

LABELS = ["daisy", "dandelion", "rose", "sunflower", "tulip"]


@pytest.fixture(scope="module")
def int8_run(tmp_path_factory, tiny_variant):
    """A uint8-I/O int8 ghost_tiny with 5 labels packed inside."""
    out = tmp_path_factory.mktemp("ship")
    (out / "labels.txt").write_text("\n".join(LABELS) + "\n")
    assert convert_main(["ghost_tiny", *FAST, "--labels", str(out / "labels.txt"), "--out", str(out / "artifacts")]) == 0
    for extra in (["--precision", "fp32"], ["--precision", "int8", "--io", "int8"]):  # float; int8 I/O: no metadata
        out_dir = out / ("artifacts" if extra[1] == "fp32" else "int8_io")
        assert convert_main(["ghost_tiny", *FAST, "--labels", str(out / "labels.txt"), "--out", str(out_dir), *extra]) == 0
    folder = out / "artifacts" / "ghost_tiny"
    return folder, (folder / "ghost_tiny_int8.tflite").read_bytes(), json.loads((folder / "manifest.json").read_text())


def _ship(folder, out, *args):
    return ship_main(["ghost_tiny", "--artifacts", str(folder.parent), "--out", str(out), *args])


def test_a_shipment_holds_the_file_its_labels_manifest_card_and_kotlin(int8_run, tmp_path):
    folder, tflite, manifest = int8_run
    assert _ship(folder, tmp_path / "dist") == 0
    shipped = tmp_path / "dist" / "ghost_tiny"
    assert (shipped / "ghost_tiny_int8.tflite").read_bytes() == tflite
    entry = manifest["artifacts"]["ghost_tiny_int8.tflite"]
    assert list(json.loads((shipped / "manifest.json").read_text())["artifacts"]) == ["ghost_tiny_int8.tflite"]
    assert (shipped / "labels.txt").read_text().split() == LABELS
    card = (shipped / "MODEL_CARD.md").read_text()
    assert entry["sha256"] in card and "[1, 64, 64, 3]" in card and "uint8" in card and "no normalization" in card
    litert = (shipped / "kotlin" / "LiteRtClassifier.kt").read_text()
    # The example names the file, the shape and dtype the manifest records, and the labels file.
    assert '"ghost_tiny_int8.tflite"' in litert and '"labels.txt"' in litert
    assert "INPUT_SIZE = 64" in litert and f"NUM_CLASSES = {entry['outputs'][0]['shape'][-1]}" in litert
    assert "writeInt8(rgb)" in litert and "readInt8()" in litert and "readFloat()" not in litert.split("never")[0]
    scale = entry["outputs"][0]["scale"]
    assert re.search(rf"\* {re.escape(repr(float(scale)))}f", litert)
    mediapipe = (shipped / "kotlin" / "MediaPipeClassifier.kt").read_text()
    assert '"ghost_tiny_int8.tflite"' in mediapipe and "ImageClassifier.ImageClassifierOptions.builder()" in mediapipe
    # Balanced braces: the templates render to well-formed Kotlin blocks.
    for source in (litert, mediapipe):
        assert source.count("{") == source.count("}") and source.count("(") == source.count(")")


def test_a_float_file_ships_with_float_kotlin(int8_run, tmp_path):
    folder, _, _ = int8_run
    assert _ship(folder, tmp_path / "dist", "--precision", "fp32") == 0
    litert = (tmp_path / "dist" / "ghost_tiny" / "kotlin" / "LiteRtClassifier.kt").read_text()
    assert '"ghost_tiny_fp32.tflite"' in litert and "writeFloat(rgb)" in litert and "readFloat()" in litert
    assert "writeInt8" not in litert and "float32" in (tmp_path / "dist" / "ghost_tiny" / "MODEL_CARD.md").read_text()


def test_shipping_again_replaces_the_folder_whole(int8_run, tmp_path):
    folder, _, _ = int8_run
    out = tmp_path / "dist"
    assert _ship(folder, out) == 0
    (out / "ghost_tiny" / "stale.txt").write_text("from an earlier shipment")
    assert _ship(folder, out) == 0
    assert not (out / "ghost_tiny" / "stale.txt").exists()
    assert [p.name for p in out.iterdir()] == ["ghost_tiny"]  # no staging folders left


def test_bad_input_is_one_line_exit_2_and_writes_nothing(int8_run, tmp_path, capsys):
    folder, _, _ = int8_run
    unlabelled = tmp_path / "unlabelled"
    assert convert_main(["ghost_tiny", *FAST, "--out", str(unlabelled)]) == 0
    assert ship_main(["ghost_tiny", "--artifacts", str(unlabelled), "--out", str(tmp_path / "a")]) == 2
    assert "no labels" in capsys.readouterr().err
    assert _ship(folder, tmp_path / "a", "--precision", "fp16") == 2
    assert "make tflite VARIANT=ghost_tiny PRECISION=fp16" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert _ship(folder, tmp_path / "file") == 2
    assert "not a folder" in capsys.readouterr().err
    tampered = tmp_path / "tampered" / "ghost_tiny"
    shutil.copytree(folder, tampered)
    with open(tampered / "ghost_tiny_int8.tflite", "ab") as f:
        f.write(b"x")
    assert ship_main(["ghost_tiny", "--artifacts", str(tampered.parent), "--out", str(tmp_path / "b")]) == 2
    error = capsys.readouterr().err.strip()
    assert "sha256 differs" in error and "\n" not in error
    assert ship_main(["ghost_tiny", "--artifacts", str(folder.parent.parent / "int8_io"), "--out",
                      str(tmp_path / "c")]) == 2
    assert "has no TFLite metadata" in capsys.readouterr().err
    assert not any((tmp_path / name).exists() for name in ("a", "b", "c"))


def test_the_card_carries_what_make_evaluate_and_make_bench_measured(trained_tiny, small_demo, tmp_path):
    from bench.cli import main as bench_main
    from train.evaluate import main as evaluate_main

    _, folder = trained_tiny
    artifacts = tmp_path / "artifacts"
    shutil.copytree(folder, artifacts / "ghost_tiny")
    model = artifacts / "ghost_tiny" / "ghost_tiny_int8.tflite"
    assert evaluate_main(["--model", str(model), "--data", str(small_demo)]) == 0  # writes beside the file
    assert bench_main([str(model), "--backends", "cpu", "--num_threads", "1", "--num_runs", "5", "--warmup_runs", "1",
                       "--min_secs", "0", "--out", str(tmp_path / "bench"), "--no_progress"]) == 0
    assert ship_main(["ghost_tiny", "--artifacts", str(artifacts), "--out", str(tmp_path / "dist"),
                      "--bench", str(tmp_path / "bench")]) == 0
    card = (tmp_path / "dist" / "ghost_tiny" / "MODEL_CARD.md").read_text()
    evaluation = json.loads((model.parent / "ghost_tiny_int8_evaluation" / "evaluation.json").read_text())
    assert f"`make evaluate`: top-1 {evaluation['top1']:.2%}" in card
    assert "`make bench`:" in card and "ms p50 on `cpu`, 1 thread(s)" in card
    assert "held-out top-1 on 32 labelled images" in card  # from the conversion's own labelled scoring

    # The file replaced by another one (here: its fp32 sibling's bytes, with a manifest entry to match):
    # the figures measured on the old file must not reach the new file's card.
    fp32 = model.with_name("ghost_tiny_fp32.tflite")
    model.write_bytes(fp32.read_bytes())
    manifest_path = model.parent / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["artifacts"][model.name] = {**manifest["artifacts"][fp32.name], "precision": "int8"}
    manifest_path.write_text(json.dumps(manifest))
    assert ship_main(["ghost_tiny", "--artifacts", str(artifacts), "--out", str(tmp_path / "dist"),
                      "--bench", str(tmp_path / "bench")]) == 0
    card = (tmp_path / "dist" / "ghost_tiny" / "MODEL_CARD.md").read_text()
    assert "`make evaluate`:" not in card and "`make bench`:" not in card


def _kotlinc(sources: list[Path], classes: Path) -> subprocess.CompletedProcess:
    """kotlinc type-checks and compiles `sources` against the API stubs (Java stubs are read, not compiled)."""
    kotlinc = client_python(KOTLINC, "kotlin-env")
    return subprocess.run([kotlinc, "-nowarn", "-d", str(classes), str(KOTLIN_STUBS), *map(str, sources)],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("precision", ["int8", "fp32"])  # uint8 and float tensors: each template branch
def test_the_shipped_kotlin_compiles_against_the_android_litert_and_mediapipe_apis(int8_run, tmp_path, precision):
    folder, _, _ = int8_run
    assert _ship(folder, tmp_path / "dist", "--precision", precision) == 0
    compiled = _kotlinc(sorted((tmp_path / "dist" / "ghost_tiny" / "kotlin").glob("*.kt")), tmp_path / "classes")
    assert compiled.returncode == 0, compiled.stderr[-3000:]
    classes = {path.name for path in (tmp_path / "classes" / "com" / "example" / "effnetv2").glob("*.class")}
    assert {"LiteRtClassifier.class", "MediaPipeClassifier.class"} <= classes


def test_kotlin_that_calls_what_the_api_lacks_does_not_compile(int8_run, tmp_path):
    """The check above can fail: a read the LiteRT TensorBuffer does not have is a compile error."""
    folder, _, _ = int8_run
    assert _ship(folder, tmp_path / "dist") == 0
    source = tmp_path / "LiteRtClassifier.kt"
    written = (tmp_path / "dist" / "ghost_tiny" / "kotlin" / "LiteRtClassifier.kt").read_text()
    source.write_text(written.replace("readInt8()", "readUInt8()"))
    compiled = _kotlinc([source], tmp_path / "classes")
    assert compiled.returncode != 0 and "readUInt8" in compiled.stderr
