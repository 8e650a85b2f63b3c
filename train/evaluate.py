"""python -m train.evaluate --model FILE --data FOLDER: accuracy of a .keras or any .tflite.

Both kinds see the same uint8 pixels (shorter side resized, centre crop: what an app feeds);
a .tflite runs in LiteRT one image at a time with its inputs quantized and outputs
dequantized, whatever its precision and I/O type. Class names come from the model (labels.txt
beside it, or the labels packed inside a .tflite) and are matched to DATA's folder names.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.artifacts import sha256
from core.cli import run_command
from imagedata.folders import LabelledFiles, Splits, scan
from imagedata.labels import labels_from_text, matched_labels, read_labels
from imagedata.tensors import images_of


SPLITS = ("held-out", "all")


@dataclass
class Model:
    path: Path
    size: int
    num_classes: int
    labels: list[str] | None
    sha256: str
    labels_source: str  # where `labels` came (or would come) from, for error messages
    keras_model: object = None  # the loaded tf-keras model of a .keras file

    @property
    def is_tflite(self) -> bool:
        return self.path.suffix == ".tflite"

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Scores (probabilities or logits) per image."""
        if self.is_tflite:
            from runtime.inference import run_tflite

            return run_tflite(self.path.read_bytes(), images)
        return self.keras_model.predict(images.astype(np.float32), batch_size=32, verbose=0)


def packed_labels(tflite: Path) -> list[str] | None:
    """labels.txt packed inside a .tflite (TFLite metadata keeps associated files in a zip tail):
    one class name per line, spaces included."""
    try:
        with zipfile.ZipFile(io.BytesIO(tflite.read_bytes())) as archive:
            name = next((n for n in archive.namelist() if n.endswith(".txt")), None)
            if name is None:
                return None
            text = archive.read(name).decode()
    except (zipfile.BadZipFile, UnicodeDecodeError):  # no zip tail, or not a labels file: no packed labels
        return None
    return labels_from_text(text, f"the labels packed inside {tflite}")


def open_model(path: str | Path) -> Model:
    """The model checked before any image is read: a .tflite as bench checks it (TFLite identifier,
    the sha256 its manifest recorded, LiteRT's verifier), a .keras as make tflite's WEIGHTS; either
    must be an image classifier, and its labels must name each of its outputs once."""
    path = Path(path)
    if not path.is_file() or path.suffix not in (".keras", ".tflite"):
        raise FileNotFoundError(f"MODEL {str(path)!r} is not a .keras or .tflite file; give one "
                                "(make train writes runs/VARIANT/model.keras, make tflite artifacts/...)")
    model = _open_tflite(path) if path.suffix == ".tflite" else _open_keras(path)
    if model.labels is None:
        beside = path.parent / "labels.txt"
        if beside.is_file():
            model.labels, model.labels_source = read_labels(beside), f"labels file {str(beside)!r}"
    if model.labels is not None and len(model.labels) != model.num_classes:
        raise ValueError(f"{model.labels_source} has {len(model.labels)} class names but MODEL {str(path)!r} "
                         f"has {model.num_classes} outputs; put the labels.txt of the run that made it beside it")
    return model


def _open_tflite(path: Path) -> Model:
    from core.artifacts import describe

    info = describe(str(path))
    if info.problem:
        raise ValueError(f"MODEL {str(path)!r} cannot be evaluated: {info.problem}")
    if info.input_size is None or info.num_classes is None:
        raise ValueError(f"MODEL {str(path)!r} is not an image classifier (a square image in, one score per "
                         "class out); give a file that make tflite wrote")
    packed = packed_labels(path)
    source = f"the labels packed inside {str(path)!r}" if packed else f"MODEL {str(path)!r}"
    return Model(path, info.input_size, info.num_classes, packed, info.sha256, source)


def _open_keras(path: Path) -> Model:
    import models  # noqa: F401  (registers the custom objects that .keras files name)
    from models.weights import load_saved

    model = load_saved(str(path))
    input_shape, output_shape = model.input_shape, model.output_shape
    if not (isinstance(input_shape, tuple) and len(input_shape) == 4 and isinstance(output_shape, tuple)
            and len(output_shape) == 2):
        raise ValueError(f"MODEL {str(path)!r} is not an image classifier (one image in, one score per class "
                         "out); give the model.keras that make train wrote")
    if input_shape[1] is None:
        raise ValueError(f"MODEL {str(path)!r} has no fixed input size; save it with one (make train does)")
    return Model(path, int(input_shape[1]), int(output_shape[-1]), None, sha256(path.read_bytes()),
                 f"MODEL {str(path)!r}", keras_model=model)


def scores(labels: np.ndarray, predictions: np.ndarray, class_names: list[str], model_index: list[int]) -> dict:
    """top-1/top-5 over the model's own outputs, per-class top-1 and the confusion matrix over DATA's classes."""
    truth = np.asarray(model_index)[labels]  # DATA label -> model output index
    ranked = np.argsort(-predictions, axis=1)
    top1 = ranked[:, 0] == truth
    result = {"images": int(len(labels)), "top1": float(top1.mean())}
    if predictions.shape[1] >= 5:
        result["top5"] = float(np.mean(np.any(ranked[:, :5] == truth[:, None], axis=1)))
    predicted = _to_data(ranked[:, 0], model_index)  # -1: a class DATA lacks
    confusion = np.zeros((len(class_names), len(class_names) + 1), int)
    for actual, guess in zip(labels, predicted):
        confusion[actual, guess] += 1  # column -1 (last): predicted a class outside DATA
    result["per_class"] = {name: (float(top1[labels == i].mean()) if np.any(labels == i) else None)
                           for i, name in enumerate(class_names)}
    result["confusion_matrix"] = confusion[:, :len(class_names)].tolist()
    result["predicted_outside_data"] = int(confusion[:, -1].sum())
    return result


def plot_confusion(path: Path, matrix: list[list[int]], class_names: list[str], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from core.plots import save_figure

    matrix = np.asarray(matrix)
    side = max(4.0, 0.45 * len(class_names) + 2)
    figure, axis = plt.subplots(figsize=(side + 1, side))
    shown = axis.imshow(matrix, cmap="Blues")
    figure.colorbar(shown, ax=axis)
    ticks = range(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=90 if len(class_names) > 6 else 0)
    axis.set_yticks(ticks, class_names)
    if len(class_names) <= 20:
        for (i, j), count in np.ndenumerate(matrix):
            axis.text(j, i, count, ha="center", va="center", color="white" if count > matrix.max() / 2 else "black")
    axis.set_xlabel("predicted")
    axis.set_ylabel("actual")
    axis.set_title(title)
    save_figure(figure, path)


def evaluate(model_path: str, data: str, out: str | None = None, reference: str | None = None,
             split: str = "held-out", val_fraction: float = 0.1, seed: int = 0) -> dict:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    model = open_model(model_path)
    other = open_model(reference) if reference else None
    splits = scan(data, val_fraction, seed)
    files = splits.held_out if split == "held-out" else _all(splits)
    index = matched_labels(model.labels, model.labels_source, splits)
    images = images_of(files, model.size)
    predictions = model.predict(images)
    labels = np.asarray(files.labels)
    result = {"model": str(model.path), "model_sha256": model.sha256, "data": str(data),
              "split": splits.layout if split == "held-out" else "all images", "input_size": model.size,
              **scores(labels, predictions, splits.class_names, index), "classes": splits.class_names,
              "skipped_files": len(splits.skipped)}
    if other is not None:
        other_index = matched_labels(other.labels, other.labels_source, splits)
        other_images = images if other.size == model.size else images_of(files, other.size)
        ours = _to_data(predictions.argmax(1), index)
        theirs = _to_data(other.predict(other_images).argmax(1), other_index)
        result["reference"] = {"model": str(other.path), "top1_agreement": float(np.mean(ours == theirs)),
                               "top1": float(np.mean(theirs == labels))}
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        from core.files import atomic_write

        atomic_write(folder / "evaluation.json", json.dumps(result, indent=2) + "\n")
        plot_confusion(folder / "confusion_matrix.png", result["confusion_matrix"], splits.class_names,
                       f"{model.path.name}: top-1 {result['top1']:.2%} on {result['images']} images")
    return result


def _to_data(model_classes: np.ndarray, model_index: list[int]) -> np.ndarray:
    """Model output indices -> DATA label indices (-1 for a class DATA lacks)."""
    to_data = {m: d for d, m in enumerate(model_index)}
    return np.array([to_data.get(int(c), -1) for c in model_classes])


def _all(splits: Splits) -> LabelledFiles:
    parts = [splits.train, splits.val, *([splits.test] if splits.test is not None else [])]
    return LabelledFiles([f for part in parts for f in part.files], [label for part in parts for label in part.labels])


def report(result: dict) -> str:
    lines = [f"{result['model']}: top-1 {result['top1']:.2%}"
             + (f", top-5 {result['top5']:.2%}" if "top5" in result else "")
             + f" on {result['images']} images ({result['split']})"]
    if "reference" in result:
        ref = result["reference"]
        lines.append(f"reference {ref['model']}: top-1 {ref['top1']:.2%}, top-1 agreement {ref['top1_agreement']:.2%}")
    width = max(len(name) for name in result["classes"])
    lines.append("per class top-1 | confusion row (predicted: " + " ".join(n[:6] for n in result["classes"]) + ")")
    for name, row in zip(result["classes"], result["confusion_matrix"]):
        accuracy = result["per_class"][name]
        lines.append(f"  {name:<{width}} {'-' if accuracy is None else f'{accuracy:6.1%}'} | "
                     + " ".join(f"{count:6d}" for count in row))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a .keras (make train) or .tflite (make tflite) file")
    p.add_argument("--data", required=True, help="image folder, one sub-folder per class")
    p.add_argument("--out", help="folder for evaluation.json and confusion_matrix.png "
                                 "(default: MODEL's folder/<model name>_evaluation)")
    p.add_argument("--reference", help="a second model: top-1 agreement of the two on the same images")
    p.add_argument("--split", default="held-out", choices=SPLITS,
                   help="held-out: val/ (or test/) if DATA has train/, else the seeded held-out split "
                        "make train used; all: every image")
    p.add_argument("--val-fraction", type=float, default=0.1, help="as given to make train (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="as given to make train (default 0)")
    a = p.parse_args(argv)
    out = a.out or str(Path(a.model).parent / f"{Path(a.model).stem}_evaluation")
    return run_command(lambda: report(evaluate(a.model, a.data, out, a.reference, a.split, a.val_fraction, a.seed)))


if __name__ == "__main__":
    sys.exit(main())
