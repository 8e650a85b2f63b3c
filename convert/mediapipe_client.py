"""MediaPipe as an app uses it, in its own environment (make mediapipe-env): run by path,
`.venv-mediapipe/bin/python convert/mediapipe_client.py MODEL.tflite IMAGE...`, it prints JSON:

- "metadata": every field an Android client reads from the file, parsed with MediaPipe's own
  generated schemas (its MetadataDisplayer needs `mediapipe.tasks.cc`, which the wheel lacks);
- "results": per image, the categories MediaPipe Tasks' ImageClassifier returns (the same task
  API as on Android), created with nothing but the model.

Imports only mediapipe, numpy and PIL: mediapipe pins absl-py 2.x, TFMOT pins 1.x, so it cannot
share .venv (and this file must not import the convert package, which imports TensorFlow).
"""
from __future__ import annotations

import json
import sys

import mediapipe as mp
import numpy as np
from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_schema
from mediapipe.tasks.metadata import schema_py_generated as tflite_schema
from mediapipe.tasks.python import BaseOptions
from mediapipe.tasks.python import vision
from PIL import Image

METADATA_NAME = b"TFLITE_METADATA"


def _text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _floats(values) -> list[float] | None:
    return None if values is None else [float(v) for v in values]


def _process_units(tensor) -> list[dict]:
    units = []
    for unit in tensor.processUnits or []:
        if unit.optionsType == meta_schema.ProcessUnitOptions.NormalizationOptions:
            units.append({"normalization": {"mean": _floats(unit.options.mean), "std": _floats(unit.options.std)}})
    return units


def _tensor(tensor) -> dict:
    content = tensor.content
    return {"name": _text(tensor.name),
            "content": {meta_schema.ContentProperties.ImageProperties: "image",
                        meta_schema.ContentProperties.FeatureProperties: "feature"}.get(
                content.contentPropertiesType, str(content.contentPropertiesType)) if content else None,
            "color_space": (_enum_name(meta_schema.ColorSpaceType, content.contentProperties.colorSpace)
                            if content and content.contentPropertiesType == meta_schema.ContentProperties.ImageProperties
                            else None),
            "process_units": _process_units(tensor),
            "stats": {"min": _floats(tensor.stats.min), "max": _floats(tensor.stats.max)} if tensor.stats else None,
            "associated_files": [{"name": _text(f.name), "type": _enum_name(meta_schema.AssociatedFileType, f.type)}
                                 for f in tensor.associatedFiles or []]}


def _enum_name(enum, value: int) -> str:
    return next((name for name, v in vars(enum).items() if v == value and not name.startswith("_")), str(value))


def read_metadata(buffer: bytes) -> dict | None:
    model = tflite_schema.Model.GetRootAs(buffer, 0)
    for i in range(model.MetadataLength()):
        if model.Metadata(i).Name() == METADATA_NAME:
            raw = model.Buffers(model.Metadata(i).Buffer()).DataAsNumpy().tobytes()
            break
    else:
        return None
    if not meta_schema.ModelMetadata.ModelMetadataBufferHasIdentifier(raw, 0):
        raise ValueError("TFLITE_METADATA is not a metadata flatbuffer (identifier M001 missing)")
    md = meta_schema.ModelMetadataT.InitFromObj(meta_schema.ModelMetadata.GetRootAs(raw, 0))
    (subgraph,) = md.subgraphMetadata
    (inp,), (out,) = subgraph.inputTensorMetadata, subgraph.outputTensorMetadata
    return {"name": _text(md.name), "description": _text(md.description), "version": _text(md.version),
            "min_parser_version": _text(md.minParserVersion), "input": _tensor(inp), "output": _tensor(out)}


def classify(model_path: str, image_paths: list[str]) -> list[dict]:
    options = vision.ImageClassifierOptions(base_options=BaseOptions(model_asset_path=model_path))
    results = []
    with vision.ImageClassifier.create_from_options(options) as classifier:
        for path in image_paths:
            pixels = np.asarray(Image.open(path).convert("RGB"))
            result = classifier.classify(mp.Image(image_format=mp.ImageFormat.SRGB, data=pixels))
            categories = [{"index": c.index, "name": c.category_name, "score": float(c.score)}
                          for c in result.classifications[0].categories]
            results.append({"image": path, "categories": categories})
    return results


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        print("usage: mediapipe_client.py MODEL.tflite [IMAGE ...]", file=sys.stderr)
        return 2
    model, images = argv[0], argv[1:]
    with open(model, "rb") as f:
        buffer = f.read()
    print(json.dumps({"mediapipe": mp.__version__, "metadata": read_metadata(buffer),
                      "results": classify(model, images)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
