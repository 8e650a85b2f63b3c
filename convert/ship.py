"""python -m convert.ship VARIANT [--precision int8] [--artifacts artifacts] [--out dist]: the
folder an Android app drops into its assets.

    OUT/VARIANT/  VARIANT_PRECISION.tflite  (metadata and labels inside)
                  labels.txt, manifest.json (this file's entry), MODEL_CARD.md
                  kotlin/LiteRtClassifier.kt, kotlin/MediaPipeClassifier.kt

Everything is read from what `make tflite` (or `make qat`) wrote: the file must match its
manifest entry (sha256) and carry metadata. Accuracy comes from the manifest (held-out top-1
when the conversion had labelled DATA) and from `make evaluate` beside the file; latency from
`make bench`'s results.json where the file was measured. The folder is built beside OUT and
renamed into place: an earlier shipment is replaced whole or not at all.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from core import artifacts
from core.artifacts import ARTIFACT_FACTS
from core.cli import run_command
from core.files import replace_folder
from imagedata.labels import labels_text

from . import card as cards, kotlin


@dataclass
class Shipment:
    variant: str
    precision: str = "int8"
    artifacts: str = "artifacts"
    out: str = "dist"
    bench: str = "bench-results"


def _source(s: Shipment) -> tuple[Path, dict, dict]:
    """The artifact, its manifest and its entry; every reason not to ship is a ValueError."""
    folder = Path(s.artifacts) / s.variant
    path = folder / artifacts.artifact_name(s.variant, s.precision)
    if not path.is_file():
        make = "make qat" if s.precision == "int8_qat" else "make tflite"
        raise FileNotFoundError(f"{path} does not exist: run `{make} VARIANT={s.variant} PRECISION={s.precision} "
                                f"OUT={s.artifacts}` first (with WEIGHTS= your trained model)")
    manifest = artifacts.read_manifest(folder)
    try:
        entry = artifacts.checked_entry(manifest, path.name)
    except ValueError as error:
        raise ValueError(f"{folder / artifacts.MANIFEST} is damaged ({error}): rebuild it with make tflite") from None
    if entry is None:
        raise ValueError(f"{folder / artifacts.MANIFEST} has no entry for {path.name} (missing, unreadable or not a "
                         "manifest): rebuild it with make tflite")
    if artifacts.sha256(path.read_bytes()) != entry.get("sha256"):
        raise ValueError(f"{path} is not the file its manifest describes (sha256 differs): rebuild it with make tflite")
    return path, manifest, entry


def _json_of(path: Path, writer: str):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not readable JSON ({error}): run {writer} again or delete it") from None


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _latency_row(row: dict) -> dict:
    """One results.json row as the model card shows it (KeyError, TypeError where it is not bench's)."""
    picked = {"backend": row["backend"], "threads": row["threads"], "p50_ms": row["latency"]["p50_ms"],
              "runtime": row["runtime"], "machine": row["machine"]}
    if not _is_number(picked["p50_ms"]):
        raise TypeError(f"p50_ms is {picked['p50_ms']!r}")
    return picked


def measured_latency(path: Path, digest: str, bench_dir: str) -> list[dict]:
    """Rows of `make bench` that timed this very file (its path and its sha256 `digest`: a file
    converted again since is another file); a results.json that is not bench's is a ValueError naming it."""
    results = Path(bench_dir) / "results.json"
    if not results.is_file():
        return []
    document = _json_of(results, "make bench")
    rows = document.get("records") if isinstance(document, dict) else None
    try:
        return [_latency_row(r) for r in rows if r.get("status") == "ok" and r.get("latency")
                and Path(r["path"]).resolve() == path.resolve() and r.get("file_sha256") == digest]
    except (AttributeError, KeyError, TypeError) as error:
        raise ValueError(f"{results} is not what make bench writes ({type(error).__name__}: {error}): run make bench "
                         "again or delete it") from None


def evaluation_of(path: Path, digest: str) -> dict | None:
    """`make evaluate MODEL=path`'s default output, if it was run; one that is not evaluate's is a
    ValueError naming it."""
    report = path.with_name(f"{path.stem}_evaluation") / "evaluation.json"
    if not report.is_file():
        return None
    evaluation = _json_of(report, "make evaluate")
    figures = ("top1", "images") + (("top5",) if isinstance(evaluation, dict) and "top5" in evaluation else ())
    if not (isinstance(evaluation, dict) and all(_is_number(evaluation.get(key)) for key in figures)):
        raise ValueError(f"{report} is not what make evaluate writes (no top-1 and image count): run make evaluate "
                         "again or delete it")
    if evaluation.get("model_sha256") != digest:
        print(f"warning: {report} scored another file than {path.name} (converted again since, or evaluated "
              "before evaluations recorded the file's sha256): left out of the card; run make evaluate again",
              file=sys.stderr)
        return None
    return evaluation


def ship(s: Shipment) -> Path:
    path, manifest, entry = _source(s)
    card = cards.card(path)
    if card["metadata"] is None:
        raise ValueError(f"{path} has no TFLite metadata (an int8-I/O file ships without it): MediaPipe needs it; "
                         "convert with the default IO=uint8")
    labels = card["labels"]
    if not labels:
        raise ValueError(f"{path} has no labels packed inside: an app cannot name its classes; convert with "
                         "labelled DATA (class folders) or LABELS=labels.txt")
    target = Path(s.out) / s.variant
    if target.exists() and not target.is_dir():
        raise ValueError(f"{target} exists and is not a folder: choose another OUT")
    if Path(s.out).exists() and not Path(s.out).is_dir():
        raise ValueError(f"OUT {s.out!r} exists and is not a folder: choose another OUT")
    common = {k: v for k, v in manifest.items() if k != "artifacts"}
    own = {key: entry[key] for key in ARTIFACT_FACTS if key in entry}  # top level before manifest version 3
    facts = {"file": path.name, "variant": s.variant, "precision": s.precision, **common, **own, "entry": entry,
             "labels": labels, "evaluation": evaluation_of(path, entry["sha256"]),
             "latency": measured_latency(path, entry["sha256"], s.bench)}  # _source checked the file against it
    try:
        card_text, examples = model_card(facts), kotlin.examples(facts)
    except (KeyError, TypeError, IndexError, ValueError) as error:
        raise ValueError(f"{path.parent / artifacts.MANIFEST}'s entry for {path.name} lacks what the model card needs "
                         f"({type(error).__name__}: {error}): rebuild it with make tflite") from None
    staging = target.with_name(f".{target.name}.shipping-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        (staging / "kotlin").mkdir(parents=True)
        shutil.copyfile(path, staging / path.name)
        (staging / "labels.txt").write_text(labels_text(labels))
        (staging / "manifest.json").write_text(json.dumps({**common, "artifacts": {path.name: entry}}, indent=2) + "\n")
        (staging / "MODEL_CARD.md").write_text(card_text)
        for name, source in examples.items():
            (staging / "kotlin" / name).write_text(source)
        replace_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def model_card(f: dict) -> str:
    e = f["entry"]
    (inp,), (out,) = e["inputs"], e["outputs"]
    size = f["input_size"]
    accuracy = (e.get("validation") or {}).get("accuracy")
    lines = [f"# {f['file']}", "",
             f"EfficientNetV2 `{f['variant']}` image classifier ({f['parameters']:,} parameters), {f['precision']}, "
             f"{len(f['labels'])} classes (`labels.txt`, also packed inside the file).", "",
             "## Input contract", "",
             f"- one tensor `{inp['name']}`: shape `{inp['shape']}`, dtype `{inp['dtype']}`"
             + (f" (scale {inp['scale']:.6g}, zero point {inp['zero_point']})" if inp["scale"] else ""),
             f"- RGB pixels in [0, 255], row-major, the camera frame resized so its shorter side is {size} and "
             f"centre-cropped to {size}x{size}",
             "- **no normalization in the app**: scaling to the network's range happens inside the graph; "
             "dividing by 255 or subtracting a mean in the app breaks the model", "",
             "## Output", "",
             f"- `{out['name']}`: shape `{out['shape']}`, dtype `{out['dtype']}`"
             + (f", real value = (q - {out['zero_point']}) x {out['scale']:.6g}" if out["scale"] else ""),
             f"- {'probabilities (softmax) over' if f.get('output') == 'probabilities' else 'logits for'} the classes "
             "in `labels.txt` order", "",
             "## Accuracy and speed", ""]
    if accuracy:
        lines.append(f"- held-out top-1 on {accuracy['images']} labelled images: this file "
                     f"{accuracy['tflite_top1']:.2%}, the Keras model {accuracy['keras_top1']:.2%} "
                     f"(agreement {accuracy['top1_agreement']:.2%}; `make tflite` with labelled DATA)")
    if f["evaluation"]:
        ev = f["evaluation"]
        top5 = f", top-5 {ev['top5']:.2%}" if "top5" in ev else ""  # none below 5 classes
        lines.append(f"- `make evaluate`: top-1 {ev['top1']:.2%}{top5} on {ev['images']} images")
    for row in f["latency"]:
        threads = "" if row["threads"] is None else f", {row['threads']} thread(s)"
        lines.append(f"- `make bench`: {row['p50_ms']:.2f} ms p50 on `{row['backend']}`{threads} "
                     f"({row['runtime']}, {row['machine']})")
    if not (accuracy or f["evaluation"] or f["latency"]):
        lines.append("- not measured: convert with labelled `DATA=`, run `make evaluate` and `make bench` to fill this in")
    versions = e.get("versions", {})
    gpu = e.get("gpu", {})
    lines += ["", "## Checked on", "",
              f"- LiteRT (ai-edge-litert {versions.get('ai_edge_litert')}) CPU/XNNPACK: validated against Keras "
              f"({e['validation']['images']} images, top-1 agreement {e['validation']['top1_agreement']:.0%}, "
              f"cosine {e['validation']['cosine_mean']:.4f}); {e['xnnpack_partitions']} XNNPACK partition(s)",
              f"- LiteRT GPU accelerator: {gpu.get('status')}"
              + (f" ({gpu.get('device')})" if gpu.get("device") else "") + (f": {gpu['reason']}" if gpu.get("reason") else ""),
              *_runtime_lines(e.get("runtimes")),
              f"- converted with TensorFlow {versions.get('tensorflow')}, project {versions.get('project')}",
              "", f"sha256 `{e['sha256']}`, {e['size_bytes'] / 1e6:.2f} MB", ""]
    return "\n".join(lines)


def _runtime_lines(runtimes: dict | None) -> list[str]:
    if not runtimes:
        return []
    legacy = runtimes["legacy_tflite_runtime"]
    detail = legacy.get("reason") or f"top-1 agreement {legacy.get('top1_agreement', 0):.0%}"
    return [f"- oldest TFLite runtime with every op version it uses: {runtimes['min_runtime_version']}",
            f"- tflite-runtime 2.14 (the last standalone release): {legacy['status']} ({detail})",
            *_arm_lines(runtimes.get("arm_emulated"))]


def _arm_lines(arm: dict | None) -> list[str]:
    """make tflite's run on an emulated ARM core, where there was one (make arm-env)."""
    if not arm or arm.get("status") == "skipped":
        return []
    if arm["status"] == "failed":
        return [f"- emulated {arm.get('core', 'ARM core')} (LiteRT aarch64 under qemu): failed ({arm.get('reason')})"]
    images = arm.get("images", 1)
    verdict = (f"outputs equal to x86 LiteRT's, bit for bit, on {images} held-out images" if arm["bit_exact"]
               else f"outputs differ from x86 LiteRT's on {arm.get('images_differing', '?')} of {images} held-out "
                    f"images, by up to {arm['max_difference']:g}")
    return [f"- emulated {arm['core']} (LiteRT aarch64 under qemu): {verdict}; "
            f"{arm['instructions_per_inference'] / 1e6:,.1f} M instructions per inference (qemu count, not a timing)"]


def latest_variant(folder: str) -> str:
    """The variant whose manifest make tflite (or make qat) wrote last: what `make tflite
    WEIGHTS=runs/x/model.keras` then `make ship` means."""
    manifests = sorted(Path(folder).glob(f"*/{artifacts.MANIFEST}"), key=lambda path: path.stat().st_mtime)
    if not manifests:
        raise FileNotFoundError(f"no converted model in {folder!r}: run make tflite first, or name one with VARIANT=")
    return manifests[-1].parent.name


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m convert.ship", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    d = Shipment("")
    p.add_argument("variant", nargs="?", help="default: the variant make tflite wrote last into ARTIFACTS")
    p.add_argument("--precision", default=d.precision, choices=artifacts.PRECISIONS,
                   help=f"which file of the variant (default: {d.precision})")
    p.add_argument("--artifacts", default=d.artifacts, help="where make tflite wrote (default: artifacts)")
    p.add_argument("--out", default=d.out, help="destination (default: dist)")
    p.add_argument("--bench", default=d.bench, help="make bench's output folder, for latency (default: bench-results)")
    a = p.parse_args(argv)

    def work() -> str:
        target = ship(Shipment(a.variant or latest_variant(a.artifacts), a.precision, a.artifacts, a.out, a.bench))
        return f"{target}: {', '.join(sorted(p.name for p in target.iterdir()))}"

    return run_command(work)


if __name__ == "__main__":
    sys.exit(main())
