"""What a .tflite file is: variant, precision and shapes, from manifest.json or the file name."""
from __future__ import annotations

import dataclasses
import glob
import os
from runtime.artifacts import parse_name, read_manifest

DEFAULT_GLOB = "artifacts/*/*.tflite"


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    path: str
    name: str
    variant: str
    precision: str
    size_bytes: int
    input_size: int | None = None   # square spatial size of the (NHWC) input
    num_classes: int | None = None
    weights: str | None = None      # the Keras weights the file was converted from (manifest)

    @property
    def keras_key(self) -> tuple:
        """Files converted from the same Keras model share one TensorFlow baseline row."""
        return (self.variant, self.input_size, self.num_classes, self.weights)


def _manifest_entry(path: str) -> dict:
    """The manifest's facts about this file (variant-level keys merged with its artifact entry)."""
    manifest = read_manifest(os.path.dirname(path))
    entry = manifest.get("artifacts", {}).get(os.path.basename(path))
    if entry is None:  # a manifest for other files says nothing about this one
        return {}
    return {**{k: v for k, v in manifest.items() if k != "artifacts"}, **entry}


def _shapes(path: str) -> tuple[int | None, int | None]:
    """Input size and class count read from the model itself (None if it cannot be read)."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=path)
        in_shape = interpreter.get_input_details()[0]["shape"]
        out_shape = interpreter.get_output_details()[0]["shape"]
    except Exception:  # noqa: BLE001 - an unreadable file is benchmarked anyway and fails there
        return None, None
    size = int(in_shape[1]) if len(in_shape) == 4 and in_shape[1] == in_shape[2] else None
    return size, int(out_shape[-1]) if len(out_shape) else None


def describe(path: str) -> ModelInfo:
    """Everything bench needs to know about one .tflite file (the file must exist)."""
    variant, precision = parse_name(path)
    entry = _manifest_entry(path)
    input_size, num_classes = _shapes(path)
    return ModelInfo(
        path=os.path.abspath(path), name=os.path.basename(path),
        variant=entry.get("variant", variant), precision=entry.get("precision", precision),
        size_bytes=os.path.getsize(path),
        input_size=entry.get("input_size", input_size),
        num_classes=entry.get("num_classes", num_classes), weights=entry.get("weights"))


def expand(patterns: list[str]) -> list[str]:
    """File paths from paths and glob patterns, in order, without duplicates.

    Raises FileNotFoundError for a path or pattern that matches nothing.
    """
    paths: list[str] = []
    for pattern in patterns or [DEFAULT_GLOB]:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        matches = [m for m in matches if os.path.isfile(m)]
        if not matches:
            hint = " (run `make tflite` first)" if pattern == DEFAULT_GLOB else ""
            raise FileNotFoundError(f"no model file matches {pattern!r}{hint}")
        paths += [m for m in matches if m not in paths]
    return paths
