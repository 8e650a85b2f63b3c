"""`make qat`: a trained .keras -> quantization-aware fine-tuning -> `<variant>_int8_qat.tflite`.

`make qat BASELINE=1` (--float-baseline) is the fair comparison: the same epochs of fine-tuning
without fake quantization (`<variant>_float_finetuned.keras`), then post-training int8
(`<variant>_int8.tflite`). QAT's gain is its file against that one, not against the model
before fine-tuning (a few more epochs alone move an under-trained model by points).

    trained float model -> fake quantization (quantize.qat) -> activation ranges set from a few
    training batches (qat.initialize_ranges) -> a few epochs on DATA at a low
    learning rate (train's data pipeline) -> the epoch with the best fake-quantized held-out
    top-1 kept (as make train keeps its best epoch) -> concatenation ranges aligned -> the convert
    pipeline (precision int8_qat: validation against the float model, metadata, manifest)

Batch norm is frozen (inference mode, moving statistics kept): the converter folds those
statistics into the convolutions, and ranges learnt over drifting statistics would be stale.
"""
from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass

import numpy as np
import tf_keras as keras

from quantize import qat


@dataclass
class QatSettings:
    variant: str | None = None  # default: the one WEIGHTS was trained as
    weights: str = ""  # a trained .keras of this variant (make train's model.keras)
    data: str = ""
    size: int | None = None  # default: the variant's resolution
    classes: int | None = None  # default: DATA's class folders (checked when given)
    epochs: int = 3
    batch: int = 32
    learning_rate: float = 1e-4  # AdamW peak; cosine to 0 (about 1/30 of the small recipe's)
    weight_decay: float = 0.0  # short fine-tuning: no pull of the trained weights towards 0
    label_smoothing: float = 0.1
    out: str = "artifacts"
    seed: int = 0
    gpu_check: bool = True
    max_top1_drop: float = 1.0
    float_baseline: bool = False  # fine-tune in float and convert with PTQ instead (the fair baseline)
    range_batches: int = 10  # training batches that set the activation ranges before QAT (0: TFMOT's [-6, 6])


def freeze_batch_norm(model: keras.Model) -> None:
    for layer in model.layers:
        inner = getattr(layer, "layer", layer)  # QuantizeWrapper holds the real layer
        if isinstance(inner, keras.layers.BatchNormalization):
            inner.trainable = False


def compile_for_qat(model: keras.Model, s: QatSettings, steps: int, classes: int) -> None:
    schedule = keras.optimizers.schedules.CosineDecay(s.learning_rate, max(1, steps * s.epochs))
    metrics = [keras.metrics.CategoricalAccuracy(name="top1")]
    if classes >= 5:
        metrics.append(keras.metrics.TopKCategoricalAccuracy(5, name="top5"))
    model.compile(keras.optimizers.AdamW(schedule, weight_decay=s.weight_decay),
                  keras.losses.CategoricalCrossentropy(label_smoothing=s.label_smoothing), metrics=metrics)


class BestEpoch:
    """The weights of the epoch with the best held-out top-1; a tie keeps the earlier epoch, as
    make train does. (Keras' EarlyStopping(restore_best_weights=True) forgets its best at every
    fit() call, and fine_tune calls fit once per epoch for the per-epoch image size.)"""

    def __init__(self):
        self.row, self.weights = None, None

    def update(self, row: dict, model: keras.Model) -> None:
        if self.row is None or row["val_top1"] > self.row["val_top1"]:
            self.row, self.weights = row, model.get_weights()  # fake-quant ranges included

    def restore(self, model: keras.Model) -> int:
        model.set_weights(self.weights)
        return self.row["epoch"]


def fine_tune(float_model: keras.Model, s: QatSettings, splits, size: int,
              quantize: bool = True) -> tuple[keras.Model, dict]:
    """The quantization-aware model at its best epoch of `s.epochs`, and a record: one history
    row per epoch (the held-out figures are those of the fake-quantized model: what int8 will
    score), the epoch kept and, for QAT, its held-out top-1 once the concatenation ranges are
    aligned (the ranges the file gets). `quantize=False`: the same schedule on `float_model`
    itself, in float (the baseline)."""
    from train.data import Pipeline, should_cache

    keras.utils.set_random_seed(s.seed)
    model = qat.quantization_aware(float_model) if quantize else float_model
    freeze_batch_norm(model)
    classes = len(splits.class_names)
    pipeline = Pipeline(splits.train, splits.val, classes, s.batch, s.seed, cache=should_cache(splits.train))
    steps = len(splits.train) // s.batch if len(splits.train) >= s.batch else 1
    if quantize and s.range_batches:
        qat.initialize_ranges(model, (images for images, _ in pipeline.train(0, size).take(s.range_batches)))
    compile_for_qat(model, s, steps, classes)
    history, best, progress = [], BestEpoch(), 1 if sys.stdout.isatty() else 2

    def held_out() -> dict:
        return model.evaluate(pipeline.val(size), verbose=0, return_dict=True)

    for epoch in range(s.epochs):
        started = time.perf_counter()
        fit = model.fit(pipeline.train(epoch, size), initial_epoch=epoch, epochs=epoch + 1, verbose=progress)
        seconds = time.perf_counter() - started
        val = held_out()
        row = {"epoch": epoch + 1, "loss": round(fit.history["loss"][-1], 5),
               "train_top1": round(fit.history["top1"][-1], 5), "val_top1": round(val["top1"], 5),
               "val_loss": round(val["loss"], 5), "epoch_s": round(seconds, 1)}
        history.append(row)
        print(f"{'qat' if quantize else 'float'} epoch {row['epoch']}/{s.epochs} | loss {row['loss']:.3f} "
              f"top-1 {row['train_top1']:.3f} | {'fake-quantized ' if quantize else ''}val top-1 {row['val_top1']:.3f} "
              f"| {seconds:.0f} s", flush=True)
        best.update(row, model)
    record = {"history": history, "kept_epoch": best.restore(model)}
    line = f"kept epoch {record['kept_epoch']} (best held-out top-1)"
    if quantize:
        qat.align_concatenation_ranges(model)
        record["aligned_val_top1"] = round(held_out()["top1"], 5)
        line += f" | with the concatenation ranges aligned for the file: {record['aligned_val_top1']:.3f}"
    print(line, flush=True)
    return model, record


def chance_warning(float_top1: float, classes: int) -> str | None:
    """An untrained model scores about 1/classes: QAT then fine-tunes noise and its int8
    agreement says nothing about a real model's."""
    if float_top1 <= 1.5 / classes:
        return (f"warning: the float model scores {float_top1:.1%} held-out top-1 (chance: {1 / classes:.1%}); "
                "QAT adapts a trained model to int8, from an untrained one it measures nothing: "
                "train first (make train)")
    return None


def float_top1(model: keras.Model, splits, size: int, batch: int) -> float:
    from train.data import Pipeline

    pipeline = Pipeline(splits.train, splits.val, len(splits.class_names), batch, cache=False)
    hits = [np.argmax(model.predict_on_batch(images), 1) == np.argmax(labels, 1)
            for images, labels in pipeline.val(size)]
    return float(np.mean(np.concatenate(hits)))


def _checked_classes(s: QatSettings, splits) -> int:
    classes = len(splits.class_names)
    if s.classes is not None and s.classes != classes:
        raise ValueError(f"CLASSES={s.classes} but DATA {s.data!r} has {classes} class folders; make them match")
    return classes


def with_trained_facts(s: QatSettings) -> QatSettings:
    """VARIANT, SIZE and CLASSES from WEIGHTS where unset; a contradiction is a one-line error."""
    from convert.trained import reconcile

    variant, size, classes, _ = reconcile(s.weights, s.variant, s.size, s.classes)
    return dataclasses.replace(s, variant=variant, size=size, classes=classes)


def run(s: QatSettings):
    """Fine-tunes, converts and packages; returns convert's Result."""
    import models
    from convert.pipeline import Job, run as convert_run
    from imagedata.folders import scan

    if s.epochs < 1 or s.batch < 1 or not s.learning_rate > 0 or s.range_batches < 0:
        raise ValueError("EPOCHS and BATCH must be at least 1, the learning rate above 0 and RANGE_BATCHES at least 0")
    if not s.weights:
        raise ValueError("WEIGHTS is required: QAT fine-tunes a trained model (make train writes runs/<variant>/model.keras)")
    s = with_trained_facts(s)
    variant = models.get_variant(s.variant)
    size = variant.input_size(s.size)
    splits = scan(s.data, seed=s.seed)
    classes = _checked_classes(s, splits)
    job = Job(s.variant, "int8_qat", size, classes, weights=s.weights, data=s.data, out=s.out,
              gpu_check=s.gpu_check, seed=s.seed, max_top1_drop=s.max_top1_drop)
    if s.float_baseline:
        return _float_baseline(s, job, splits)
    report = {}

    def quantization_aware(float_model: keras.Model) -> keras.Model:
        score = float_top1(float_model, splits, size, s.batch)
        if warning := chance_warning(score, classes):
            print(warning, file=sys.stderr)
        model, record = fine_tune(float_model, s, splits, size)
        report.update(float_val_top1=round(score, 5), epochs=s.epochs, batch=s.batch,
                      learning_rate=s.learning_rate, range_batches=s.range_batches, **record)
        return model

    result = convert_run(job, quantization_aware=quantization_aware, extra={"qat": report})
    return result


def _float_baseline(s: QatSettings, job, splits):
    """QAT's schedule in float, saved as .keras, then converted as make tflite converts it."""
    import dataclasses
    from pathlib import Path

    import models
    from convert.pipeline import run as convert_run
    from core.files import ensure_writable
    from train.outputs import save_keras

    ensure_writable(Path(s.out))
    model = models.build(s.variant, weights=s.weights, input_size=job.size, num_classes=job.classes,
                         dropout=0.0, drop_path=0.0, classifier_activation="softmax")  # as convert builds it
    score = float_top1(model, splits, job.size, s.batch)
    tuned, record = fine_tune(model, s, splits, job.size, quantize=False)
    path = Path(s.out) / s.variant / f"{s.variant}_float_finetuned.keras"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_keras(tuned, path)
    report = {"weights_before": s.weights, "float_val_top1_before": round(score, 5), "epochs": s.epochs,
              "batch": s.batch, "learning_rate": s.learning_rate, **record}
    return convert_run(dataclasses.replace(job, precision="int8", weights=str(path)), extra={"float_finetune": report})



EPILOG = """example:
  make train VARIANT=ghost_b0 DATA=data/demo SIZE=64
  python -m studies.finetune --variant ghost_b0 --weights runs/ghost_b0/model.keras --data data/demo --size 64

Writes OUT/VARIANT/VARIANT_int8_qat.tflite (uint8 RGB pixels in [0, 255], integer-only, labels
and metadata inside) with its manifest entry (precision int8_qat: the QAT epochs, held-out top-1
of the float model and of the file) and report, as make tflite does."""


def parse(argv: list[str] | None) -> QatSettings:
    import argparse

    d = QatSettings()
    p = argparse.ArgumentParser(prog="python -m studies.finetune", description=__doc__.split("\n")[0],
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", default=d.variant, help="default: the variant WEIGHTS was trained as")
    p.add_argument("--weights", required=True, help="trained .keras of VARIANT (make train's model.keras)")
    p.add_argument("--data", required=True, help="the labelled image folder (train/ and val/, or class folders)")
    p.add_argument("--size", type=int, help="input size (default: the size WEIGHTS was trained at)")
    p.add_argument("--classes", type=int, help="expected class count (checked against DATA)")
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"QAT epochs (default {d.epochs})")
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--lr", type=float, default=d.learning_rate, help=f"peak learning rate (default {d.learning_rate})")
    p.add_argument("--out", default=d.out, help="artifacts folder (default: artifacts)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--no-gpu-check", action="store_true", help="skip the LiteRT GPU accelerator check")
    p.add_argument("--max-top1-drop", type=float, default=d.max_top1_drop,
                   help="reject a file more than this many held-out top-1 points below the float model")
    p.add_argument("--float-baseline", action="store_true",
                   help="the fair baseline: the same fine-tuning in float, then post-training int8 "
                        "(VARIANT_float_finetuned.keras and VARIANT_int8.tflite)")
    p.add_argument("--range-batches", type=int, default=d.range_batches,
                   help=f"training batches that set the activation ranges before QAT (default {d.range_batches}; "
                        "0: TFMOT's initial [-6, 6])")
    a = p.parse_args(argv)
    return QatSettings(a.variant, a.weights, a.data, a.size, a.classes, a.epochs, a.batch, a.lr, out=a.out,
                       seed=a.seed, gpu_check=not a.no_gpu_check, max_top1_drop=a.max_top1_drop,
                       float_baseline=a.float_baseline, range_batches=a.range_batches)


def main(argv: list[str] | None = None) -> int:
    from convert.pipeline import REJECTED
    from convert.report import summary_line
    from core.cli import run_command

    settings = parse(argv)
    return run_command(lambda: summary_line(run(settings)), REJECTED)


if __name__ == "__main__":
    sys.exit(main())
