"""Embedded TFLite metadata: round trip, unchanged inference, zip packing, Android's reader."""
import io
import zipfile

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from convert.metadata import LABELS_FILE, embed_metadata, has_metadata, read_metadata
from tests.small_models import tflite, tiny_b0

LABELS = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
SIZE = 64
INFO = dict(name="tiny_b0", description="EfficientNetV2 test classifier", version="1.2.3",
            author="edge team")


@pytest.fixture(scope="module")
def tflite_models():
    """A float32 model and an int8 model with uint8 input/output (convert.recipes), both without metadata."""
    model = tiny_b0(SIZE, len(LABELS))
    return {precision: tflite(model, precision, SIZE) for precision in ("fp32", "int8")}


def _run(tflite_bytes, image):
    interpreter = Interpreter(model_content=tflite_bytes)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.set_tensor(inp["index"], image.astype(inp["dtype"]))
    interpreter.invoke()
    return interpreter.get_tensor(out["index"])


def _image(seed=1):
    return np.random.default_rng(seed).uniform(0, 255, (1, SIZE, SIZE, 3)).round()


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_metadata_round_trips(tflite_models, precision):
    plain = tflite_models[precision]
    assert not has_metadata(plain)
    md = read_metadata(embed_metadata(plain, labels=LABELS, **INFO))

    assert (md["name"], md["version"], md["description"], md["author"]) == (
        INFO["name"], INFO["version"], INFO["description"], INFO["author"])
    assert md["labels"] == LABELS
    assert md["normalization"] == {"mean": [0.0], "std": [1.0]}
    assert md["min_parser_version"] == "1.0.0"
    assert md["input"]["content"] == "image" and md["input"]["color_space"] == "RGB"
    assert md["input"]["default_size"] == {"width": SIZE, "height": SIZE}
    assert md["input"]["stats"] == {"min": [0.0], "max": [255.0]}
    assert md["input"]["dtype"] == ("float32" if precision == "fp32" else "uint8")
    assert md["output"]["content"] == "feature"
    assert md["output"]["name"] == "probability"  # the model ends in a softmax
    assert md["output"]["associated_files"][0]["name"] == LABELS_FILE
    assert md["output"]["associated_files"][0]["type"] == "TENSOR_AXIS_LABELS"
    assert md["output"]["shape"] == [1, len(LABELS)]


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_model_runs_unchanged_and_is_a_zip_with_labels(tflite_models, precision):
    plain = tflite_models[precision]
    with_md = embed_metadata(plain, labels=LABELS, **INFO)

    image = _image()
    np.testing.assert_array_equal(_run(with_md, image), _run(plain, image))
    with zipfile.ZipFile(io.BytesIO(with_md)) as zf:
        assert zf.namelist() == [LABELS_FILE]
        assert zf.read(LABELS_FILE).decode().splitlines() == LABELS


def test_embedding_twice_replaces_the_metadata(tflite_models):
    once = embed_metadata(tflite_models["fp32"], labels=LABELS, **INFO)
    twice = embed_metadata(once, labels=[s.upper() for s in LABELS], **{**INFO, "version": "2"})
    md = read_metadata(twice)
    assert md["version"] == "2" and md["labels"] == [s.upper() for s in LABELS]
    assert md["packed_files"] == [LABELS_FILE]
    assert abs(len(twice) - len(once)) < 64  # one metadata buffer, not two


def test_without_labels_no_file_is_packed(tflite_models):
    md = read_metadata(embed_metadata(tflite_models["fp32"], labels=None, **INFO))
    assert md["labels"] is None and md["packed_files"] == []
    assert "associated_files" not in md["output"]


def test_wrong_label_count_is_a_value_error(tflite_models):
    with pytest.raises(ValueError, match="got 4 labels but the model outputs 5 classes"):
        embed_metadata(tflite_models["fp32"], labels=LABELS[:4], **INFO)


@pytest.mark.parametrize("junk", [b"", b"not a tflite model at all", b"PK\x03\x04" + bytes(64)])
def test_bytes_that_are_not_tflite_are_a_value_error(junk):
    with pytest.raises(ValueError, match="not a TFLite model") as err:
        embed_metadata(junk, labels=LABELS, **INFO)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="not a TFLite model"):
        read_metadata(junk)


def test_reading_a_model_without_metadata_is_a_value_error(tflite_models):
    with pytest.raises(ValueError, match="has no TFLITE_METADATA"):
        read_metadata(tflite_models["fp32"])
