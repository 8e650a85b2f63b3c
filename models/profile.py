"""Parameter and multiply-add counts, and the table of all variants in README."""
from __future__ import annotations

import numpy as np
import tf_keras as keras
from tf_keras import layers

from .registry import GHOST_PREFIX, build
from .tables import OFFICIAL


def count_macs(model: keras.Model) -> int:
    """Multiply-adds of the convolutions and dense layers, the figure papers quote as FLOPs.

    Written out because TF's profiler counts 2 FLOPs per MAC plus every element-wise op and
    needs a frozen graph; this walks the layers' static shapes in milliseconds.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.DepthwiseConv2D):
            _, h, w, c = layer.output_shape
            total += h * w * c * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output_shape
            c_in = layer.input_shape[-1]
            total += h * w * c_out * c_in * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, layers.Dense):
            total += layer.input_shape[-1] * layer.units
    return total


def variant_table(names: list[str] | None = None, input_size: int | None = None) -> list[dict]:
    """One row per standard variant with its Ghost twin: params, MACs and their ratios."""
    rows = []
    for name in names or list(OFFICIAL):
        standard, ghost = build(name, input_size=input_size), build(GHOST_PREFIX + name, input_size=input_size)
        row = {"variant": name, "resolution": standard.input_shape[1],
               "params": standard.count_params(), "macs": count_macs(standard),
               "ghost_params": ghost.count_params(), "ghost_macs": count_macs(ghost)}
        row["params_ratio"] = row["ghost_params"] / row["params"]
        row["macs_ratio"] = row["ghost_macs"] / row["macs"]
        rows.append(row)
        keras.backend.clear_session()
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| variant | resolution | params | GMACs | ghost params | ghost GMACs | ghost/std params | ghost/std MACs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['variant']} | {r['resolution']} | {r['params']:,} | {r['macs'] / 1e9:.2f} | "
              f"{r['ghost_params']:,} | {r['ghost_macs'] / 1e9:.2f} | {r['params_ratio']:.1%} | {r['macs_ratio']:.1%} |"
              for r in rows]
    return "\n".join(lines)


def int8_floor_bytes(model: keras.Model) -> int:
    """The least a full-integer file can weigh: conv/dense weights at 1 byte each, plus a
    4-byte int32 bias per output channel (batch norm folds into it)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, (layers.Conv2D, layers.Dense)):  # DepthwiseConv2D is a Conv2D
            kernel = layer.weights[0]
            out_channels = layer.output_shape[-1]
            total += int(np.prod(kernel.shape)) + 4 * out_channels
    return total
