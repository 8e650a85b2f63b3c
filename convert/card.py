"""python -m convert.card FILE.tflite [--json]: the card of any .tflite, ours or not.

Metadata (name, version, description, normalization), labels, inputs and outputs with their
quantization (what an app must feed and read), every op with its count and version, float ops,
XNNPACK partitions, size and sha256. A file that LiteRT refuses, or that differs from the sha256
its manifest.json recorded, is a one-line error naming it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core import artifacts
from core.cli import run_command

from . import metadata, ops, validate


def card(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} is not a file; give a .tflite (make tflite writes artifacts/...)")
    problem = artifacts.describe(str(path)).problem  # its identifier, its manifest's sha256, LiteRT's verifier
    if problem:
        raise ValueError(f"{str(path)!r} cannot be read as a model: {problem}")
    tflite = path.read_bytes()
    embedded = metadata.read_metadata(tflite) if metadata.has_metadata(tflite) else None
    op_list = ops.operators(tflite)
    counts, versions = ops.op_summary(op_list), ops.op_versions(tflite)
    return {"file": str(path), "size_bytes": len(tflite), "sha256": artifacts.sha256(tflite),
            "metadata": embedded, "labels": (embedded or {}).get("labels"), **validate.io_contract(tflite),
            "ops": {name: {"count": count, "version": versions.get(name)} for name, count in counts.items()},
            "float_ops": len(ops.float_ops(op_list)), "xnnpack_partitions": validate.xnnpack_partitions(tflite),
            "min_runtime_version": ops.min_runtime_version(tflite)}


def render(c: dict) -> str:
    meta = c["metadata"]
    lines = [f"# {Path(c['file']).name}", "", f"- size: {c['size_bytes'] / 1e6:.3f} MB, sha256 {c['sha256']}"]
    if meta:
        lines.append(f"- metadata: {meta['name']!r} version {meta['version']}: {meta['description']}")
        if meta.get("normalization"):
            lines.append(f"- normalization declared for the input: {meta['normalization']}")
    else:
        lines.append("- metadata: none (MediaPipe's ImageClassifier needs it; make tflite embeds it)")
    labels = c["labels"]
    lines.append(f"- labels: {len(labels)} ({', '.join(labels[:8])}{', ...' if len(labels) > 8 else ''})"
                 if labels else "- labels: none packed")
    for kind in ("inputs", "outputs"):
        for t in c[kind]:
            quantized = f", scale {t['scale']:.6g}, zero point {t['zero_point']}" if t["scale"] else ""
            lines.append(f"- {kind[:-1]} {t['name']!r}: {t['shape']} {t['dtype']}{quantized}")
    lines.append(f"- float ops: {c['float_ops']}; XNNPACK partitions: {c['xnnpack_partitions']}; "
                 f"oldest TFLite runtime for its op versions: {c['min_runtime_version']}")
    lines += ["", "| op | count | version |", "|---|---:|---:|"]
    lines += [f"| {name} | {op['count']} | {op['version']} |" for name, op in c["ops"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m convert.card", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="a .tflite file")
    p.add_argument("--json", action="store_true", help="print the card as JSON")
    a = p.parse_args(argv)
    return run_command(lambda: json.dumps(card(Path(a.file)), indent=1) if a.json
                       else render(card(Path(a.file))).rstrip("\n"))


if __name__ == "__main__":
    sys.exit(main())
