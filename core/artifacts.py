"""The artifact contract, in one place: which precisions exist, how a file is named
(`{variant}_{precision}.tflite`), the manifest beside it (schema-versioned) and what one file
is (`describe`). convert writes it; bench, train, quantize, ship and the studies read it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Iterator

from .files import atomic_write

# Every precision a .tflite can have; convert.recipes has one recipe per name (tested).
PRECISIONS = ("fp32", "fp16", "dynamic", "int8", "int8_per_tensor", "int16x8", "int8_qat")
MANIFEST = "manifest.json"
MANIFEST_VERSION = 3  # 2: per-artifact "runtimes"; 3: the facts below per artifact, not per variant
# What differs between two files of one variant (a later SIZE or CLASSES into the same OUT), so each
# artifact's entry carries them; the top level keeps only the variant.
ARTIFACT_FACTS = ("input_size", "num_classes", "weights", "parameters", "output")
UNKNOWN = "unknown"
GHOST_PREFIX = "ghost_"  # ghost_<name>: the reference Ghost variant of every table <name> (models.registry)
GHOSTLITE_PREFIX = "ghostlite_"  # ghostlite_<name>: the Ghost design tuned for int8 CPUs
GHOST_FAMILIES = (GHOST_PREFIX, GHOSTLITE_PREFIX)


def standard_of(variant: str) -> str | None:
    """The standard variant a shipped Ghost variant derives from (`ghostlite_s` -> `s`), else None."""
    prefix = next((p for p in GHOST_FAMILIES if variant.startswith(p)), None)
    return variant[len(prefix):] if prefix else None

_NAME = re.compile(rf"^(?P<variant>.+)_(?P<precision>{'|'.join(PRECISIONS)})\.tflite$")


def artifact_name(variant: str, precision: str) -> str:
    return f"{variant}_{precision}.tflite"


def parse_name(filename: str) -> tuple[str, str]:
    """`ghost_s_int8.tflite` -> ("ghost_s", "int8"); anything else -> unknown, unknown."""
    match = _NAME.match(os.path.basename(filename))
    return (match["variant"], match["precision"]) if match else (UNKNOWN, UNKNOWN)


def read_manifest(folder: Path) -> dict:
    """The manifest of a variant's folder ({} when there is none, it is unreadable or not a JSON object)."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


# The entry fields that bench, ship and card read, with their JSON types: a manifest that garbles one
# (damaged, edited by hand) is not trusted for any of them.
ENTRY_TYPES = {"sha256": str, "precision": str, "size_bytes": int, "input_size": int, "num_classes": int,
               "parameters": int, "weights": (str, type(None)), "output": str, "inputs": list, "outputs": list,
               "validation": dict}


def _json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def checked_entry(manifest: dict, file_name: str) -> dict | None:
    """`file_name`'s entry in a manifest (read_manifest's), None where it has none; a ValueError
    says what is garbled: the entries or this one not a JSON object, a field of the wrong type."""
    entries = manifest.get("artifacts", {})
    if not isinstance(entries, dict):
        raise ValueError(f'its "artifacts" is a JSON {_json_type(entries)}, not an object')
    entry = entries.get(file_name)
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise ValueError(f"its entry for {file_name} is a JSON {_json_type(entry)}, not an object")
    wrong = [key for key, kind in ENTRY_TYPES.items()  # true/false is no number (nor any of these)
             if key in entry and (not isinstance(entry[key], kind) or isinstance(entry[key], bool))]
    wrong += ["variant"] if not isinstance(manifest.get("variant", ""), str) else []
    if wrong:
        raise ValueError(f"its entry for {file_name} has {', '.join(wrong)} of the wrong JSON type")
    return entry


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on the folder's manifest: concurrent conversions into one OUT each
    re-read, update and rewrite it in turn (without it, 146 of 400 entries were lost)."""
    with open(folder / f".{MANIFEST}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_for_update(folder: Path) -> dict:
    """The manifest to update. An unreadable one is kept aside (never silently replaced with the
    other files' entries lost) and named on stderr."""
    path = folder / MANIFEST
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text())
        if isinstance(manifest, dict) and isinstance(manifest.get("artifacts", {}), dict):
            return manifest
    except (OSError, ValueError):
        pass
    kept = path.with_name(f"{MANIFEST}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, kept)
    print(f"warning: {path} was not a readable manifest; kept it as {kept.name} and started a new one",
          file=sys.stderr)
    return {}


def update_manifest(folder: Path, common: dict, file_name: str, entry: dict) -> dict:
    """manifest.json keeps one entry per artifact of the variant: re-reads, updates, rewrites,
    under a lock."""
    with _locked(folder):
        manifest = _read_for_update(folder)
        for key in ARTIFACT_FACTS:  # written at the top level before manifest version 3
            manifest.pop(key, None)
        manifest.update(common, manifest_version=MANIFEST_VERSION)
        manifest.setdefault("artifacts", {})[file_name] = entry
        atomic_write(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


# --- what one file is: variant, precision, shapes (manifest entry, name, or the file itself) ---

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
    sha256: str = ""                # of the bytes measured: results name the very file they timed
    problem: str = ""               # non-empty: the file failed a check (verify) and must not run

    @property
    def keras_key(self) -> tuple:
        """Files converted from the same Keras model share one TensorFlow baseline row."""
        return (self.variant, self.input_size, self.num_classes, self.weights)


def _manifest_entry(path: str) -> dict:
    """The manifest's facts about this file: its own entry, plus the variant. Never the other
    top-level keys: before manifest version 3 they held the *latest* conversion's size and
    classes, which need not be this file's (its own shapes are read from the file instead)."""
    manifest = read_manifest(os.path.dirname(path))
    try:
        entry = checked_entry(manifest, os.path.basename(path))
    except ValueError:  # a garbled manifest says nothing: the file is checked as one without a manifest
        return {}
    if entry is None:  # a manifest for other files says nothing about this one
        return {}
    return {"variant": manifest.get("variant"), **entry}


def _shapes(path: str) -> tuple[int | None, int | None, str]:
    """Input size, class count, and "" or why LiteRT refuses the file. Opening it runs the
    flatbuffer verifier (in this process, before any backend touches the file)."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=path)
        in_shape = interpreter.get_input_details()[0]["shape"]
        out_shape = interpreter.get_output_details()[0]["shape"]
    except Exception as error:  # noqa: BLE001 - any refusal is this file's problem
        return None, None, f"LiteRT cannot open it ({' '.join(str(error).split())[:200]})"
    size = int(in_shape[1]) if len(in_shape) == 4 and in_shape[1] == in_shape[2] else None
    return size, int(out_shape[-1]) if len(out_shape) else None, ""


def _file_problem(data: bytes, entry: dict) -> str:
    """Why the bytes cannot be the model they claim to be, or "": the TFLite file identifier,
    then the sha256 its manifest entry recorded (a flipped byte in the weights passes the
    flatbuffer verifier; only the checksum sees it)."""
    if data[4:8] != b"TFL3":
        return "not a TFLite file (no TFL3 identifier at byte 4): truncated, or another format"
    recorded = entry.get("sha256")
    if recorded and sha256(data) != recorded:
        return (f"sha256 differs from the one {MANIFEST} recorded at conversion: the file changed "
                "or is corrupt; convert it again (make tflite)")
    return ""


def describe(path: str) -> ModelInfo:
    """Everything bench needs to know about one .tflite file (the file must exist), checked:
    `problem` says which check failed."""
    variant, precision = parse_name(path)
    entry = _manifest_entry(path)
    data = Path(path).read_bytes()
    problem = _file_problem(data, entry)
    input_size, num_classes, refused = _shapes(path) if not problem else (None, None, "")
    return ModelInfo(
        path=os.path.abspath(path), name=os.path.basename(path),
        variant=entry.get("variant", variant), precision=entry.get("precision", precision),
        size_bytes=os.path.getsize(path),
        input_size=entry.get("input_size", input_size),
        num_classes=entry.get("num_classes", num_classes), weights=entry.get("weights"), sha256=sha256(data),
        problem=problem or refused)
