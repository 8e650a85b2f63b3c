"""How closely a converted file follows its Keras model inside the network, layer after layer.

An untrained network's int8 logits are a poor fidelity measure: every quantized layer adds
its rounding noise, a random network carries it on undamped, and after ~100 layers the
signal-to-quantization-noise ratio (SQNR) of its logits is near 0 dB however correct the
conversion (untrained ghostlite_s at 224 px: 21 dB after the stem, 0.1 dB at the logits,
cosine 0.82). What a correct conversion shows instead is a *slope*: SQNR that falls a little
at each layer. A broken op (wrong semantics, a wrong input scale, a range that clips most of
a tensor) shows as a *cliff*: SQNR far below everything before it. That is what this checks.

Layers are matched to the file's tensors by name (the converter keeps Keras layer names in
tensor names) and shape; tensors the converter fused away (batch norms into convolutions)
are simply not probed.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import tf_keras as keras
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from runtime.inference import dequantize, quantize

# The input contract is broken (wrong scale, preprocessing lost) below this at the first probe:
# a correct int8 stem sits near 20 dB even in an untrained network, float files far above.
MIN_FIRST_SQNR_DB = 10.0
# A correct layer costs ~0.1-1.5 dB (untrained b0, int8); a broken one tens of dB.
MAX_CLIFF_DB = 10.0
# Above this a tensor is exact for every purpose here (fp32, fp16); capping keeps float rounding
# (1e-7 here, exactly 0 there) from reading as a cliff.
SQNR_CAP_DB = 60.0
PROBED = re.compile(r"(_add|_activation|_bn|avg_pool)$")  # block outputs and activations


@dataclass
class DepthProfile:
    probes: list[tuple[str, float]]  # (Keras layer, SQNR in dB of the file's tensor), in graph order
    images: int

    @property
    def first_db(self) -> float:
        return self.probes[0][1]

    @property
    def last_db(self) -> float:
        return self.probes[-1][1]

    def cliff(self) -> tuple[str, float]:
        """The layer whose SQNR falls furthest below the lowest SQNR before it, and by how much."""
        worst, lowest = ("", 0.0), self.first_db
        for layer, db in self.probes[1:]:
            if lowest - db > worst[1]:
                worst = (layer, lowest - db)
            lowest = min(lowest, db)
        return worst

    def problems(self) -> list[str]:
        if not self.probes:
            return []
        found = []
        if self.first_db < MIN_FIRST_SQNR_DB:
            found.append(f"the first layer ({self.probes[0][0]}) already differs from Keras (SQNR "
                         f"{self.first_db:.1f} dB < {MIN_FIRST_SQNR_DB:g}): the input scale or preprocessing is wrong")
        layer, drop = self.cliff()
        if drop > MAX_CLIFF_DB:
            found.append(f"layer {layer} loses {drop:.1f} dB of SQNR at once (> {MAX_CLIFF_DB:g}): "
                         "one op computes something else than Keras")
        return found

    def summary(self) -> dict:
        layer, drop = self.cliff()
        return {"images": self.images, "layers_probed": len(self.probes),
                "first": {"layer": self.probes[0][0], "sqnr_db": round(self.first_db, 2)},
                "last": {"layer": self.probes[-1][0], "sqnr_db": round(self.last_db, 2)},
                "largest_drop": {"layer": layer, "db": round(drop, 2)}} if self.probes else {
            "images": self.images, "layers_probed": 0}


def _tensor_of_layer(tensor_names: dict[str, int], layer: str) -> int | None:
    pattern = re.compile(r"(^|[/;])" + re.escape(layer) + r"([/;:]|$)")
    matches = [index for name, index in tensor_names.items() if pattern.search(name)]
    return matches[-1] if matches else None


def depth_profile(model: keras.Model, tflite: bytes, images: np.ndarray, max_images: int = 8) -> DepthProfile:
    """SQNR (dB) of each probed layer's tensor in the file against the Keras layer's output,
    on up to `max_images` images. TFLite's reference kernels keep every intermediate tensor
    (XNNPACK would fuse them away); they round as XNNPACK does to within a step."""
    images = images[:max_images]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "preserve_all_tensors is for debugging"
        interpreter = Interpreter(model_content=tflite, experimental_preserve_all_tensors=True,
                                  experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    produced = {details[t]["name"]: t for op in interpreter._get_ops_details() for t in op["outputs"]}
    pairs = []
    for layer in model.layers:
        if not PROBED.search(layer.name) or isinstance(layer.output, list):
            continue
        index = _tensor_of_layer(produced, layer.name)
        if index is not None and tuple(details[index]["shape"][1:]) == tuple(layer.output.shape[1:]):
            pairs.append((layer.name, index))
    if not pairs:
        return DepthProfile([], len(images))
    probe = keras.Model(model.input, [model.get_layer(name).output for name, _ in pairs])
    expected = probe.predict(images.astype(np.float32), batch_size=8, verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    (input_detail,) = interpreter.get_input_details()
    actual = [[] for _ in pairs]
    for image in images:
        interpreter.set_tensor(input_detail["index"], quantize(image[None].astype(np.float32), input_detail))
        interpreter.invoke()
        for values, (_, index) in zip(actual, pairs):
            values.append(dequantize(interpreter.get_tensor(index), details[index])[0])
    probes = []
    for (name, _), want, got in zip(pairs, expected, actual):
        noise = float(np.sum((want - np.stack(got)) ** 2))
        sqnr = 10 * np.log10(max(float(np.sum(want ** 2)), 1e-30) / max(noise, 1e-30))
        probes.append((name, min(float(sqnr), SQNR_CAP_DB)))
    return DepthProfile(probes, len(images))
