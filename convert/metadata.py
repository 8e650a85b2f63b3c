"""TFLite model metadata for an image classifier, as Android expects it.

`embed_metadata` writes what the TFLite metadata populator (tflite_support /
MediaPipe ``MetadataPopulator``) writes for an image classifier:

* a ``ModelMetadata`` flatbuffer (file identifier ``M001``) with one
  ``SubGraphMetadata``: the input tensor as an RGB image with its
  normalization and value range, the output tensor as features with the labels
  attached as a ``TENSOR_AXIS_LABELS`` associated file;
* stored as a new buffer of the TFLite model, referenced from the model's
  ``metadata`` vector under the name ``TFLITE_METADATA``;
* ``labels.txt`` packed as a zip archive appended to the flatbuffer, so the
  file is at once a valid TFLite model and a valid zip.

`read_metadata` reads it back as plain data (for tests and the manifest).

The TFLite model itself is read and re-packed with LiteRT's own schema object
API (``ai_edge_litert.tools.flatbuffer_utils``). The metadata flatbuffer is
written and read with the low-level ``flatbuffers`` API; see `_MetadataBuilder`
for why.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Sequence

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as tfl
from ai_edge_litert.tools import flatbuffer_utils
from flatbuffers import number_types as N
from flatbuffers.table import Table

from imagedata.labels import check_distinct_labels, labels_from_text

__all__ = ["embed_metadata", "read_metadata", "has_metadata", "METADATA_NAME", "LABELS_FILE"]

METADATA_NAME = "TFLITE_METADATA"  # key of the Model.metadata entry the Task libraries look up
METADATA_FILE_ID = b"M001"         # file_identifier of metadata_schema.fbs
LABELS_FILE = "labels.txt"
# min_parser_version is the highest schema version of any field used, at least
# 1.0.0 (the version the M001 identifier stands for). Everything written here
# (image/feature content, NormalizationOptions, Stats, TENSOR_AXIS_LABELS
# without a file version) is in schema 1.0.0; see the "Added in" notes of
# metadata_schema.fbs before writing newer fields.
MIN_PARSER_VERSION = "1.0.0"

# Enum values and field slots of metadata_schema.fbs (schema 1.5.0).
_ASSOCIATED_FILE_TYPES = {0: "UNKNOWN", 1: "DESCRIPTIONS", 2: "TENSOR_AXIS_LABELS",
                          3: "TENSOR_VALUE_LABELS", 4: "TENSOR_AXIS_SCORE_CALIBRATION",
                          5: "VOCABULARY", 6: "SCANN_INDEX_FILE"}
_TENSOR_AXIS_LABELS = 2
_CONTENT_TYPES = {0: None, 1: "feature", 2: "image", 3: "bounding_box", 4: "audio"}
_FEATURE_PROPERTIES, _IMAGE_PROPERTIES = 1, 2
_COLOR_SPACES = {0: "UNKNOWN", 1: "RGB", 2: "GRAYSCALE"}
_RGB = 1
_NORMALIZATION_OPTIONS = 1  # ProcessUnitOptions union member

_INPUT_TYPES = {tfl.TensorType.FLOAT32: "float32", tfl.TensorType.UINT8: "uint8"}
_TYPE_NAMES = {v: k.lower() for k, v in vars(tfl.TensorType).items() if not k.startswith("_")}
_PASS_THROUGH_OPS = {tfl.BuiltinOperator.QUANTIZE, tfl.BuiltinOperator.DEQUANTIZE,
                     tfl.BuiltinOperator.RESHAPE}


def embed_metadata(tflite_bytes: bytes, *, name: str, description: str, version: str,
                   author: str = "", license: str = "", labels: Sequence[str] | None = None,
                   input_mean: Sequence[float] = (0.0,), input_std: Sequence[float] = (1.0,),
                   input_range: tuple[float, float] = (0, 255)) -> bytes:
    """Return `tflite_bytes` with image-classifier metadata (and labels.txt) embedded.

    The model must have one RGB image input (NHWC, float32 or uint8) and one
    output of class scores. `input_mean`/`input_std` describe the out-of-graph
    normalization an app applies to pixels in `input_range`: (x - mean) / std.
    Our models normalize inside the graph and take raw [0, 255] pixels, so the
    defaults mean=[0], std=[1] are the honest values. Metadata already in the
    model (and any packed files) is replaced, so embedding twice is safe.
    """
    model = _read_model(tflite_bytes)
    graph = model.subgraphs[0]
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise ValueError(f"expected an image classifier with 1 input and 1 output, got "
                         f"{len(graph.inputs)} inputs and {len(graph.outputs)} outputs; "
                         "convert a single-input, single-output classifier")
    inp, out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    in_shape, out_shape = list(inp.shape), list(out.shape)
    if len(in_shape) != 4 or in_shape[-1] != 3:
        raise ValueError(f"input shape {in_shape} is not an NHWC RGB image [1, H, W, 3]; "
                         "build the model with a 3-channel image input")
    if inp.type not in _INPUT_TYPES:
        raise ValueError(f"input type {_TYPE_NAMES.get(inp.type, inp.type)} is not supported by "
                         "Android image classifiers; convert with inference_input_type float32 "
                         "or tf.uint8")
    num_classes = out_shape[-1] if out_shape else 0
    if labels is not None:
        labels = [str(label) for label in labels]
        if len(labels) != num_classes:
            raise ValueError(f"got {len(labels)} labels but the model outputs {num_classes} "
                             f"classes (output shape {out_shape}); pass exactly one label per class")
        bad = [label for label in labels if not label.strip() or "\n" in label or "\r" in label]
        if bad:
            raise ValueError(f"labels must be non-empty single lines, got {bad[:3]!r}; "
                             "strip newlines and fill in empty names")
        check_distinct_labels(labels, "the label list")
    mean, std = [float(v) for v in input_mean], [float(v) for v in input_std]
    if len(mean) not in (1, 3) or len(std) != len(mean) or any(s == 0 for s in std):
        raise ValueError(f"input_mean {mean} / input_std {std} must both have 1 or 3 values "
                         "with std != 0, e.g. input_mean=[0.0], input_std=[1.0]")
    lo, hi = (float(v) for v in input_range)
    if inp.type == tfl.TensorType.UINT8 and (lo, hi) != (0.0, 255.0):
        raise ValueError(f"a uint8 input takes pixels in [0, 255], not {input_range}; "
                         "leave input_range at its default")

    probabilities = _ends_in_softmax(graph, graph.outputs[0], model)
    meta = _MetadataBuilder().model_metadata(
        name=name, description=description, version=version, author=author, license=license,
        input_md=dict(
            name="image",
            description=(f"Input image, RGB pixels in [{lo:g}, {hi:g}] "
                         f"({_INPUT_TYPES[inp.type]}), {in_shape[1]}x{in_shape[2]}."),
            width=in_shape[2], height=in_shape[1], mean=mean, std=std,
            # the value range after the app's normalization, per channel
            stats_min=[(lo - m) / s for m, s in zip(mean, std)],
            stats_max=[(hi - m) / s for m, s in zip(mean, std)]),
        output_md=dict(
            name="probability" if probabilities else "logits",
            description=(f"{'Probabilities' if probabilities else 'Logits'} of the "
                         f"{num_classes} classes."),
            stats=([0.0], [1.0]) if probabilities else None,
            labels_file=LABELS_FILE if labels is not None else None))

    # Same buffer/metadata surgery as the metadata populator: replace the buffer
    # of an existing TFLITE_METADATA entry, or append a buffer and an entry.
    buffer = tfl.BufferT()
    buffer.data = np.frombuffer(meta, dtype=np.uint8)  # ndarray: packed in one copy, not per byte
    entries = [m for m in (model.metadata or []) if _text(m.name) == METADATA_NAME]
    if entries:
        model.buffers[entries[0].buffer] = buffer
    else:
        model.buffers.append(buffer)
        entry = tfl.MetadataT()
        entry.name, entry.buffer = METADATA_NAME, len(model.buffers) - 1
        model.metadata = [*(model.metadata or []), entry]
    packed = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
    if labels is None:
        return packed
    # Appending a zip to the flatbuffer is how associated files are packed: the
    # zip's offsets are absolute, so the file stays a flatbuffer (read from the
    # front) and is a zip (read from the end). Stored, not deflated, so that the
    # on-device extractors can read labels.txt in place.
    out = io.BytesIO(packed)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(LABELS_FILE, "\n".join(labels) + "\n")
    return out.getvalue()


def has_metadata(tflite_bytes: bytes) -> bool:
    """True when the TFLite model carries a TFLITE_METADATA entry."""
    model = tfl.Model.GetRootAs(_check_tflite(tflite_bytes), 0)
    return any(_text(model.Metadata(i).Name()) == METADATA_NAME
               for i in range(model.MetadataLength()))


def read_metadata(tflite_bytes: bytes) -> dict:
    """The embedded metadata as plain data (JSON-serializable).

    Keys: name, description, version, author, license, min_parser_version,
    labels (from the packed label file, or None), normalization
    ({"mean", "std"} of the input), input and output (tensor metadata plus the
    model's dtype and shape of that tensor), packed_files.
    """
    buf = _check_tflite(tflite_bytes)
    model = tfl.Model.GetRootAs(buf, 0)
    meta = None
    for i in range(model.MetadataLength()):
        if _text(model.Metadata(i).Name()) == METADATA_NAME:
            buffer = model.Buffers(model.Metadata(i).Buffer())
            meta = buffer.DataAsNumpy().tobytes() if buffer.DataLength() else None
    if not meta:
        raise ValueError("the model has no TFLITE_METADATA; add it with "
                         "convert.metadata.embed_metadata(...)")
    if meta[4:8] != METADATA_FILE_ID:
        raise ValueError(f"the TFLITE_METADATA buffer is not an {METADATA_FILE_ID.decode()} "
                         "metadata flatbuffer; re-embed it with convert.metadata.embed_metadata(...)")
    root = _Tab(meta, struct.unpack_from("<I", meta, 0)[0])  # root table offset
    packed = _packed_files(buf)
    subgraph = model.Subgraphs(0)
    sub_md = (root.tables(3) or [None])[0]
    tensors = {}
    for key, slot, index in (("input", 2, subgraph.Inputs(0)), ("output", 3, subgraph.Outputs(0))):
        md = (sub_md.tables(slot) or [None])[0] if sub_md else None
        tensor = subgraph.Tensors(index)
        tensors[key] = dict(_tensor_metadata(md), dtype=_TYPE_NAMES.get(tensor.Type()),
                            shape=tensor.ShapeAsNumpy().tolist())
    labels = None
    for f in tensors["output"].get("associated_files", []):
        if f["type"] == "TENSOR_AXIS_LABELS" and f["name"] in packed:
            labels = labels_from_text(packed[f["name"]].decode("utf-8"), f"the labels packed inside as {f['name']!r}")
            break
    return dict(
        name=root.string(0), description=root.string(1), version=root.string(2),
        author=root.string(4), license=root.string(5), min_parser_version=root.string(7),
        labels=labels, normalization=tensors["input"].get("normalization"),
        input=tensors["input"], output=tensors["output"],
        packed_files=list(packed))


# --------------------------------------------------------------------------- internals

def _check_tflite(tflite_bytes) -> bytes:
    if not isinstance(tflite_bytes, (bytes, bytearray, memoryview)):
        raise ValueError(f"expected the bytes of a .tflite file, got {type(tflite_bytes).__name__}; "
                         "pass Path(file).read_bytes()")
    buf = bytes(tflite_bytes)
    if len(buf) < 8 or not tfl.Model.ModelBufferHasIdentifier(buf, 0):
        raise ValueError("not a TFLite model (no 'TFL3' flatbuffer identifier at byte 4); "
                         "pass the bytes of a .tflite file written by TFLiteConverter")
    return buf


def _read_model(tflite_bytes) -> tfl.ModelT:
    buf = _check_tflite(tflite_bytes)
    try:
        # LiteRT's reader also resolves buffers stored by offset (models > 2 GB)
        model = flatbuffer_utils.read_model_from_bytearray(buf)
    except Exception as e:  # a corrupt flatbuffer fails anywhere inside the generated code
        raise ValueError(f"the TFLite flatbuffer cannot be parsed ({type(e).__name__}: {e}); "
                         "re-export the model with TFLiteConverter") from None
    if not model.subgraphs:
        raise ValueError("the TFLite model has no subgraph; re-export it with TFLiteConverter")
    return model


def _packed_files(buf: bytes) -> dict[str, bytes]:
    """The files zipped onto the end of the model (the populator's associated files)."""
    try:
        with zipfile.ZipFile(io.BytesIO(buf)) as zf:
            return {name: zf.read(name) for name in zf.namelist()}
    except zipfile.BadZipFile:
        return {}


def _text(value) -> str | None:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _ends_in_softmax(graph: tfl.SubGraphT, tensor: int, model: tfl.ModelT) -> bool:
    """Whether `tensor` is a softmax, looking through (de)quantize and reshape ops."""
    producers = {t: op for op in graph.operators for t in op.outputs}
    for _ in range(8):
        op = producers.get(tensor)
        if op is None:
            return False
        code = flatbuffer_utils.get_builtin_code_from_operator_code(model.operatorCodes[op.opcodeIndex])
        if code == tfl.BuiltinOperator.SOFTMAX:
            return True
        if code not in _PASS_THROUGH_OPS:
            return False
        tensor = op.inputs[0]
    return False


class _MetadataBuilder:
    """Writes the few metadata_schema.fbs tables an image classifier needs.

    By hand with flatbuffers' Builder because the only installable package that
    ships the generated Python for metadata_schema.fbs, mediapipe (its
    metadata_writers also fail to import without mediapipe.tasks.cc), pins
    absl-py~=2.3 while tensorflow-model-optimization 0.8.1 pins absl-py~=1.2:
    pip cannot install both, and tflite-support cannot live beside TF 2.21.
    Slot numbers are the field order of each table in metadata_schema.fbs; the
    tests parse the result with mediapipe's generated module when installed.
    """

    def __init__(self):
        self.b = flatbuffers.Builder(1024)

    def _strings(self, **fields):
        return {k: self.b.CreateString(v) for k, v in fields.items() if v}

    def _table(self, n_slots: int, offsets: dict[int, int], bytes_: dict[int, int] | None = None,
               uints: dict[int, int] | None = None) -> int:
        """A table of `n_slots` fields from {slot: value}; 0 offsets are left out."""
        b = self.b
        b.StartObject(n_slots)
        for slot, value in (uints or {}).items():
            b.PrependUint32Slot(slot, value, 0)
        for slot, value in offsets.items():
            if value:
                b.PrependUOffsetTRelativeSlot(slot, value, 0)
        for slot, value in (bytes_ or {}).items():
            b.PrependUint8Slot(slot, value, 0)
        return b.EndObject()

    def _vector(self, offsets: list[int]) -> int:
        self.b.StartVector(4, len(offsets), 4)
        for off in reversed(offsets):
            self.b.PrependUOffsetTRelative(off)
        return self.b.EndVector()

    def _floats(self, values: Sequence[float]) -> int:
        return self.b.CreateNumpyVector(np.asarray(values, dtype="<f4"))

    def _stats(self, mins, maxs) -> int:  # Stats: max 0, min 1
        return self._table(2, {0: self._floats(maxs), 1: self._floats(mins)})

    def _tensor(self, name, description, content, process_units=0, stats=0, files=0) -> int:
        s = self._strings(name=name, description=description)
        # TensorMetadata: name 0, description 1, dimension_names 2, content 3,
        # process_units 4, stats 5, associated_files 6
        return self._table(7, {0: s.get("name", 0), 1: s.get("description", 0), 3: content,
                               4: process_units, 5: stats, 6: files})

    def _input(self, name, description, width, height, mean, std, stats_min, stats_max) -> int:
        size = self._table(2, {}, uints={0: width, 1: height})  # ImageSize: width 0, height 1
        props = self._table(2, {1: size}, bytes_={0: _RGB})     # ImageProperties: color_space 0, default_size 1
        content = self._table(3, {1: props}, bytes_={0: _IMAGE_PROPERTIES})  # Content: type 0, value 1, range 2
        norm = self._table(2, {0: self._floats(mean), 1: self._floats(std)})  # NormalizationOptions
        unit = self._table(2, {1: norm}, bytes_={0: _NORMALIZATION_OPTIONS})  # ProcessUnit: type 0, value 1
        return self._tensor(name, description, content, self._vector([unit]),
                            self._stats(stats_min, stats_max))

    def _output(self, name, description, stats, labels_file) -> int:
        props = self._table(0, {})                                          # FeatureProperties: empty
        content = self._table(3, {1: props}, bytes_={0: _FEATURE_PROPERTIES})
        files = 0
        if labels_file:
            s = self._strings(name=labels_file,
                              description="Labels for the classes the model recognizes, one per line.")
            # AssociatedFile: name 0, description 1, type 2, locale 3, version 4
            files = self._vector([self._table(5, {0: s["name"], 1: s["description"]},
                                              bytes_={2: _TENSOR_AXIS_LABELS})])
        return self._tensor(name, description, content, 0,
                            self._stats(*stats) if stats else 0, files)

    def model_metadata(self, *, name, description, version, author, license,
                       input_md: dict, output_md: dict) -> bytes:
        inputs = self._vector([self._input(**input_md)])
        outputs = self._vector([self._output(**output_md)])
        # SubGraphMetadata: name 0, description 1, input_tensor_metadata 2, output_tensor_metadata 3
        subgraph = self._table(10, {2: inputs, 3: outputs})
        s = self._strings(name=name, description=description, version=version, author=author,
                          license=license, min_parser_version=MIN_PARSER_VERSION)
        # ModelMetadata: name 0, description 1, version 2, subgraph_metadata 3, author 4,
        # license 5, associated_files 6, min_parser_version 7
        root = self._table(8, {0: s.get("name", 0), 1: s.get("description", 0),
                               2: s.get("version", 0), 3: self._vector([subgraph]),
                               4: s.get("author", 0), 5: s.get("license", 0),
                               7: s["min_parser_version"]})
        self.b.Finish(root, file_identifier=METADATA_FILE_ID)
        return bytes(self.b.Output())


class _Tab:
    """Minimal reader over a metadata_schema.fbs table (slot-indexed), see `_MetadataBuilder`."""

    def __init__(self, buf: bytes, pos: int):
        self.t = Table(buf, pos)

    def _off(self, slot: int) -> int:
        return self.t.Offset(4 + 2 * slot)

    def string(self, slot: int) -> str | None:
        o = self._off(slot)
        return self.t.String(o + self.t.Pos).decode("utf-8") if o else None

    def byte(self, slot: int) -> int:
        o = self._off(slot)
        return self.t.Get(N.Uint8Flags, o + self.t.Pos) if o else 0

    def uint(self, slot: int) -> int:
        o = self._off(slot)
        return self.t.Get(N.Uint32Flags, o + self.t.Pos) if o else 0

    def table(self, slot: int) -> _Tab | None:
        o = self._off(slot)
        return _Tab(self.t.Bytes, self.t.Indirect(o + self.t.Pos)) if o else None

    def tables(self, slot: int) -> list[_Tab]:
        o = self._off(slot)
        if not o:
            return []
        start = self.t.Vector(o)
        return [_Tab(self.t.Bytes, self.t.Indirect(start + 4 * i)) for i in range(self.t.VectorLen(o))]

    def floats(self, slot: int) -> list[float] | None:
        o = self._off(slot)
        return self.t.GetVectorAsNumpy(N.Float32Flags, o).tolist() if o else None


def _tensor_metadata(md: _Tab | None) -> dict:
    if md is None:
        return {}
    out = dict(name=md.string(0), description=md.string(1))
    content = md.table(3)
    if content is not None:
        out["content"] = _CONTENT_TYPES.get(content.byte(0), "unknown")
        props = content.table(1)
        if props is not None and content.byte(0) == _IMAGE_PROPERTIES:
            out["color_space"] = _COLOR_SPACES.get(props.byte(0), "UNKNOWN")
            size = props.table(1)
            if size is not None:
                out["default_size"] = dict(width=size.uint(0), height=size.uint(1))
    for unit in md.tables(4):
        if unit.byte(0) == _NORMALIZATION_OPTIONS and unit.table(1) is not None:
            out["normalization"] = dict(mean=unit.table(1).floats(0), std=unit.table(1).floats(1))
    stats = md.table(5)
    if stats is not None:
        out["stats"] = dict(min=stats.floats(1), max=stats.floats(0))
    files = [dict(name=f.string(0), description=f.string(1),
                  type=_ASSOCIATED_FILE_TYPES.get(f.byte(2), "UNKNOWN")) for f in md.tables(6)]
    if files:
        out["associated_files"] = files
    return out
