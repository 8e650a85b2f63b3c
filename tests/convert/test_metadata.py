"""Embedded TFLite metadata: round trip, unchanged inference, zip packing, Android's reader."""
import dataclasses
import io
import zipfile

import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

import models
from convert.metadata import LABELS_FILE, embed_metadata, has_metadata, read_metadata

LABELS = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
SIZE = 64
INFO = dict(name="tiny_b0", description="EfficientNetV2 test classifier", version="1.2.3",
            author="edge team")


def _tiny_model():
    variant = dataclasses.replace(models.get_variant("b0"), width=0.25, depth=0.1)  # one block a stage: fast
    return models.build(variant, input_size=SIZE, num_classes=len(LABELS), batch_size=1)


@pytest.fixture(scope="module")
def tflite_models():
    """A float32 model and an int8 model with uint8 input/output, both without metadata."""
    model = _tiny_model()
    fp32 = tf.lite.TFLiteConverter.from_keras_model(model).convert()

    rng = np.random.default_rng(0)

    def representative():
        for _ in range(4):
            yield [rng.uniform(0, 255, (1, SIZE, SIZE, 3)).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.uint8
    int8 = converter.convert()
    return {"fp32": fp32, "int8": int8}


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


def test_metadata_parses_with_the_official_generated_schema(tflite_models):
    """Cross-check the hand-written flatbuffer against MediaPipe's generated metadata schema."""
    schema = pytest.importorskip("mediapipe.tasks.metadata.metadata_schema_py_generated")
    from ai_edge_litert import schema_py_generated as tfl

    buf = embed_metadata(tflite_models["int8"], labels=LABELS, **INFO)
    model = tfl.Model.GetRootAs(buf, 0)
    [entry] = [model.Metadata(i) for i in range(model.MetadataLength())
               if model.Metadata(i).Name() == b"TFLITE_METADATA"]
    meta = model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
    assert schema.ModelMetadata.ModelMetadataBufferHasIdentifier(meta, 0)
    md = schema.ModelMetadataT.InitFromObj(schema.ModelMetadata.GetRootAs(meta, 0))
    assert md.name == b"tiny_b0" and md.minParserVersion == b"1.0.0"
    [subgraph] = md.subgraphMetadata
    [inp], [out] = subgraph.inputTensorMetadata, subgraph.outputTensorMetadata
    assert inp.content.contentPropertiesType == schema.ContentProperties.ImageProperties
    assert inp.content.contentProperties.colorSpace == schema.ColorSpaceType.RGB
    [unit] = inp.processUnits
    assert unit.optionsType == schema.ProcessUnitOptions.NormalizationOptions
    assert list(unit.options.mean) == [0.0] and list(unit.options.std) == [1.0]
    assert list(inp.stats.min) == [0.0] and list(inp.stats.max) == [255.0]
    assert out.content.contentPropertiesType == schema.ContentProperties.FeatureProperties
    [labels] = out.associatedFiles
    assert labels.name == b"labels.txt"
    assert labels.type == schema.AssociatedFileType.TENSOR_AXIS_LABELS


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_mediapipe_image_classifier_reports_our_labels(tflite_models, precision):
    """MediaPipe Tasks reads the metadata as the Android ImageClassifier does."""
    mp = pytest.importorskip("mediapipe")
    vision = pytest.importorskip("mediapipe.tasks.python.vision")
    from mediapipe.tasks.python import BaseOptions

    buf = embed_metadata(tflite_models[precision], labels=LABELS, **INFO)
    options = vision.ImageClassifierOptions(base_options=BaseOptions(model_asset_buffer=buf),
                                            max_results=len(LABELS))
    pixels = _image(seed=2).astype(np.uint8)[0]
    with vision.ImageClassifier.create_from_options(options) as classifier:
        result = classifier.classify(mp.Image(image_format=mp.ImageFormat.SRGB, data=pixels))
    categories = result.classifications[0].categories
    assert sorted(c.category_name for c in categories) == sorted(LABELS)
    # The scores are the model's own probabilities: MediaPipe applied mean 0 / std 1.
    expected = _run(tflite_models[precision], pixels[None].astype(np.float32))[0]
    if precision == "int8":
        expected = expected / 256.0  # uint8 softmax output, scale 1/256
    got = {c.index: c.score for c in categories}
    np.testing.assert_allclose([got[i] for i in range(len(LABELS))], expected, atol=1e-5)
