"""Real clients in their own environments: MediaPipe Tasks' ImageClassifier (the Android task
API) loads each shipped kind of file with nothing but the model, names our classes and picks
the same top-1 as LiteRT; MediaPipe's own schemas read every metadata field we embed."""
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convert.metadata import read_metadata
from imagedata.tensors import eval_images
from runtime.inference import run_tflite
from studies.finetune import main as qat_main

from core.environments import MEDIAPIPE_PYTHON
from tests.conftest import client_python

REPO = Path(__file__).resolve().parents[2]
PRECISIONS = ("fp32", "fp16", "int8", "int8_qat")


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, small_demo, trained_tiny):
    """A briefly trained ghost_tiny in each shipped precision (QAT added here), and held-out images
    at its size."""
    model, folder = trained_tiny
    root = tmp_path_factory.mktemp("clients")
    assert qat_main(["--variant", "ghost_tiny", "--epochs", "1", "--batch", "16", "--size", "48", "--weights",
                     str(model), "--data", str(small_demo), "--no-gpu-check", "--out", str(folder.parent),
                     "--max-top1-drop", "100"]) == 0
    files = sorted((small_demo / "val").glob("*/*.png"))[::2]
    images = np.stack(list(eval_images([str(f) for f in files], 48).as_numpy_iterator()))
    paths = []
    for i, image in enumerate(images):  # at the model's size already: MediaPipe's resize is a no-op
        paths.append(root / f"image_{i}.png")
        Image.fromarray(image).save(paths[-1])
    return folder, images, paths


def _mediapipe(model: Path, images: list[Path]) -> dict:
    python = client_python(MEDIAPIPE_PYTHON, "mediapipe-env")
    done = subprocess.run([python, str(REPO / "convert" / "mediapipe_client.py"), str(model), *map(str, images)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_mediapipe_classifies_as_litert_does_with_our_labels(shipped, precision):
    folder, images, paths = shipped
    model = folder / f"ghost_tiny_{precision}.tflite"
    report = _mediapipe(model, paths)
    labels = (folder / "labels.txt").read_text().split()
    litert_top1 = run_tflite(model.read_bytes(), images).argmax(1)
    for result, expected in zip(report["results"], litert_top1):
        best = max(result["categories"], key=lambda c: c["score"])
        assert best["index"] == expected
        assert best["name"] == labels[expected]


def test_mediapipe_reads_every_metadata_field_we_embed(shipped):
    folder, _, _ = shipped
    model = folder / "ghost_tiny_int8.tflite"
    theirs = _mediapipe(model, [])["metadata"]
    ours = read_metadata(model.read_bytes())
    assert (theirs["name"], theirs["description"], theirs["version"]) == (ours["name"], ours["description"],
                                                                           ours["version"])
    assert theirs["min_parser_version"] == ours["min_parser_version"]
    assert theirs["input"]["content"] == "image" and theirs["input"]["color_space"] == "RGB"
    assert theirs["input"]["process_units"] == [{"normalization": ours["normalization"]}]
    assert theirs["input"]["stats"] == {"min": [0.0], "max": [255.0]}
    assert theirs["output"]["content"] == "feature"
    assert theirs["output"]["associated_files"] == [{"name": "labels.txt", "type": "TENSOR_AXIS_LABELS"}]
