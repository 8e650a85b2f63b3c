"""Weights into our models: from keras.applications (ImageNet) or from a saved file.

Our standard variants use the reference layer names except for the depthwise conv of an
MBConv block (`_dw_conv`/`_dw_bn` here, `_dwconv2`/`_bn` there), so the port is a
by-name copy with two renames, checked layer by layer for shape.
"""
from __future__ import annotations

import os
import re
import zipfile
from typing import Callable

import tf_keras as keras

from core.artifacts import GHOSTLITE_PREFIX

KERAS_APPLICATIONS = {
    "b0": "EfficientNetV2B0", "b1": "EfficientNetV2B1", "b2": "EfficientNetV2B2",
    "b3": "EfficientNetV2B3", "s": "EfficientNetV2S", "m": "EfficientNetV2M", "l": "EfficientNetV2L",
}
_REFERENCE_RENAMES = ((re.compile(r"^(block\d+[a-z]+)_dwconv2$"), r"\1_dw_conv"),
                      (re.compile(r"^(block\d+[a-z]+)_bn$"), r"\1_dw_bn"))
# Preprocessing constants are set by the constructor, not learned: never copied.
_CONSTANT_LAYERS = (keras.layers.Normalization, keras.layers.Rescaling)


def reference_to_ours(name: str) -> str:
    for pattern, replacement in _REFERENCE_RENAMES:
        name = pattern.sub(replacement, name)
    return name


def transfer_weights(source: keras.Model, target: keras.Model,
                     rename: Callable[[str], str] = lambda name: name, may_stay: tuple[str, ...] = (),
                     leave_out: tuple[str, ...] = ()) -> int:
    """Copies every weighted layer of `source` (except those named in `leave_out`) into the
    `target` layer of the same (renamed) name. All-or-nothing: any missing layer or shape
    mismatch raises before anything is set, and so does a weighted target layer that nothing
    fills (unless named in `may_stay`). Returns the number of layers copied."""
    target_layers = {layer.name: layer for layer in target.layers}
    pairs, problems = [], []
    for layer in source.layers:
        if not layer.weights or isinstance(layer, _CONSTANT_LAYERS) or layer.name in leave_out:
            continue
        ours = target_layers.get(rename(layer.name))
        if ours is None:
            problems.append(f"no layer {rename(layer.name)!r}")
            continue
        theirs = [w.shape for w in layer.get_weights()]
        mine = [tuple(w.shape) for w in ours.weights]
        if theirs != mine:
            problems.append(f"{ours.name}: shapes {mine} != {theirs}")
        pairs.append((layer, ours))
    filled = {ours.name for _, ours in pairs}
    problems += [f"{layer.name} not in the source" for layer in target.layers
                 if layer.weights and not isinstance(layer, _CONSTANT_LAYERS)
                 and layer.name not in filled and layer.name not in may_stay]
    if problems:
        shown = "; ".join(problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else "")
        raise ValueError(f"weights of {source.name!r} do not fit {target.name!r}: {shown}")
    for layer, ours in pairs:
        ours.set_weights(layer.get_weights())
    return len(pairs)


def _has_head(model: keras.Model) -> bool:
    return any(layer.name == "predictions" for layer in model.layers)


def keras_applications_model(variant: str, weights: str | None, model: keras.Model) -> keras.Model:
    """The keras.applications twin of `model`. With ImageNet weights it keeps keras' own
    input size (weights do not depend on it) and drops the head unless `model` has 1000 classes."""
    if variant not in KERAS_APPLICATIONS:
        raise ValueError(f"keras.applications has no EfficientNetV2 {variant!r}; "
                         f"ImageNet weights exist for: {', '.join(KERAS_APPLICATIONS)}")
    constructor = getattr(keras.applications, KERAS_APPLICATIONS[variant])
    include_top = _has_head(model) and (weights is None or model.output_shape[-1] == 1000)
    try:
        return constructor(weights=weights, include_top=include_top,
                           input_shape=None if weights else model.input_shape[1:],
                           classes=model.output_shape[-1] if include_top else 1000)
    except Exception as error:  # get_file raises URLError/HTTPError/Exception depending on the failure
        raise RuntimeError(f"could not get keras.applications {KERAS_APPLICATIONS[variant]} ImageNet "
                           f"weights (offline? {type(error).__name__}: {error}); pass the path of a "
                           "local .keras/.h5 file instead") from error


def port_keras_applications(model: keras.Model, variant: str, weights: str | None = "imagenet") -> int:
    """Copies keras.applications EfficientNetV2 weights into our standard model; a head with
    other than 1000 classes keeps its fresh initialisation (fine-tuning)."""
    source = keras_applications_model(variant, weights, model)
    return transfer_weights(source, model, reference_to_ours, may_stay=("predictions",))


def check_weights_file(path: str) -> None:
    """Exists and looks like what its name says (checked in a moment, before any work)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"weights file {path!r} does not exist; give a .keras or .h5 "
                                "file saved from this architecture, or 'imagenet'")
    if path.endswith(".keras") and not zipfile.is_zipfile(path):
        raise ValueError(f"weights file {path!r} is not a readable .keras model (not a zip archive: truncated "
                         "or another format); give the model.keras that make train wrote")
    if path.endswith(".h5"):
        with open(path, "rb") as file:
            if file.read(8) != b"\x89HDF\r\n\x1a\n":
                raise ValueError(f"weights file {path!r} is not a readable .h5 weights file (no HDF5 signature)")



def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


def load_saved(path: str) -> keras.Model:
    check_weights_file(path)
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # zip, HDF5 and Keras each raise their own types for a broken file
        raise ValueError(f"weights file {path!r} is not a readable .keras model ({_first_line(error)}); "
                         "give the model.keras that make train wrote") from error


def saved_switches(model: keras.Model) -> dict:
    """The edge switches a model was built with, read from its layers: activation (the stem's)
    and se. Activations have no weights, so a file alone cannot refuse the wrong one."""
    stem = next((layer for layer in model.layers if layer.name == "stem_activation"), None)
    switches = {"se": any(layer.name.endswith("_se_excite") for layer in model.layers)}
    if isinstance(stem, keras.layers.ReLU):
        switches["activation"] = "relu6"
    elif stem is not None:
        name = getattr(stem.activation, "__name__", "")
        switches["activation"] = {"swish": "silu", "silu": "silu"}.get(name, name)
    return switches


def check_switches(source: keras.Model, model: keras.Model, path: str) -> None:
    saved, built = saved_switches(source), saved_switches(model)
    for name, value in saved.items():
        if name in built and built[name] != value:
            raise ValueError(f"weights file {path!r} was trained with {name}={value!r}, this build has "
                             f"{name}={built[name]!r}: build with {name}={value!r} (or leave it unset)")


def _cheap_kernel(model: keras.Model):
    return next((layer.kernel_size for layer in model.layers if layer.name.endswith("_cheap_conv")), None)


def _renamed_design_hint(source: keras.Model, model: keras.Model) -> str:
    """ghostlite_ changed its cheap branch from 3x3 to 1x1 on 2026-11-23; files trained before
    carry the old design's name, so the refusal names the variant that builds them now."""
    old_design = _cheap_kernel(source) == (3, 3) and not any(
        layer.name.endswith("_cheap_activation") for layer in source.layers)  # not ghost_'s 3x3 + SiLU
    if model.name.startswith(GHOSTLITE_PREFIX) and old_design and _cheap_kernel(model) == (1, 1):
        renamed = "ghostnoact_" + model.name[len(GHOSTLITE_PREFIX):]
        return f"; the file has 3x3 cheap branches (ghostlite_ before 2026-11-23): load it as VARIANT={renamed}"
    return ""


def load_weights(model: keras.Model, variant: str, weights: str, source: keras.Model | None = None) -> None:
    """weights: "imagenet" or the path of a .keras (whole model; `source` if already loaded)
    or .h5 (weights) file."""
    if weights == "imagenet":
        port_keras_applications(model, variant, "imagenet")
        return
    check_weights_file(weights)
    if weights.endswith(".keras"):
        source = source or load_saved(weights)
        check_switches(source, model, weights)
        headless = () if _has_head(model) else ("predictions",)  # a backbone from a classifier
        try:
            transfer_weights(source, model, leave_out=headless)
        except ValueError as error:
            raise ValueError(f"{error}{_renamed_design_hint(source, model)}") from error
        return
    try:
        model.load_weights(weights)
    except ValueError as error:
        raise ValueError(f"weights file {weights!r} does not fit {model.name!r}: {error}") from error
    except (OSError, ImportError) as error:  # not HDF5 at all (truncated, random bytes)
        raise ValueError(f"weights file {weights!r} is not a readable .h5 weights file ({_first_line(error)})") from error


def reestimate_batch_norm(model: keras.Model, images, batch_size: int = 32) -> None:
    """Sets every BatchNormalization's moving statistics to those of `images`, as seen in
    training mode. A randomly initialised network (no WEIGHTS) otherwise has activations
    that grow block after block until the softmax saturates, which makes its conversion
    and quantization figures meaningless; with re-estimated statistics it is well scaled."""
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0  # moving statistic := this batch's statistic
    try:
        model(images[:batch_size].astype("float32"), training=True)
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum
