"""One training run: image folder -> trained model.keras, with progressive learning and resume.

    plan (train.plan) -> for each epoch: the phase's model (train.network), fit one epoch,
    validate the model as it ships, checkpoint, export the best model, write the reports

The model is rebuilt at each stage's image size and dropout (paper, Algorithm 1) and takes
the previous stage's weights and optimiser state from the checkpoint: the same code path as
resuming after a kill. (Keras' BackupAndRestore restores within one `fit` of one model; here
every stage is a new model.)
"""
from __future__ import annotations

import dataclasses
import errno
import json
import sys
import time
from pathlib import Path

import tensorflow as tf
import tf_keras as keras

import models
from core.files import ensure_writable, write_failed
from models.weights import transfer_weights

from . import outputs, progressive
from .data import Pipeline, images_per_second, should_cache
from .network import Phase, build_network, compile_for, ema_weights, freeze_backbone, initial_weights, phase_of
from .network import reseed_dropout, tf_random_generators
from .plan import Plan, Settings, make_plan
from .state import DamagedRun, read_state, verify_checkpoint

__all__ = ["Run", "Settings", "train"]

CHECKPOINTS = "checkpoints"


class RunState(dict):
    """state.json: the settings' fingerprint, the epochs done with their figures, the best epoch,
    and the checkpoint to resume from (by name, so the run folder may move)."""

    def __init__(self, out: Path, fingerprint: dict):
        super().__init__(fingerprint=json.loads(json.dumps(fingerprint)), completed_epochs=0, history=[],
                         best=None, checkpoint=None, pipeline_images_per_s={})
        self.out = out

    @property
    def path(self) -> Path:
        return self.out / CHECKPOINTS / "state.json"

    @property
    def checkpoint_path(self) -> str | None:
        return self["checkpoint"] and str(self.out / CHECKPOINTS / self["checkpoint"])

    def load(self, epochs: int) -> None:
        """The state a killed or finished run left in OUT, checked against these settings."""
        if not self.path.is_file():
            return
        state = read_state(self.path)
        if state["fingerprint"] != self["fingerprint"]:
            changed = sorted(k for k in self["fingerprint"] if state["fingerprint"].get(k) != self["fingerprint"][k])
            raise ValueError(f"OUT {str(self.out)!r} holds a run with other settings ({', '.join(changed)}); "
                             "rerun the same command to resume it, or choose another OUT")
        if state["checkpoint"]:
            state["checkpoint"] = Path(state["checkpoint"]).name  # an absolute path from before: its name here
            verify_checkpoint(self.out / CHECKPOINTS / state["checkpoint"])
        if state["best"] and not (self.out / "model.keras").is_file():
            forget_lost_best(state, self.out, epochs)
        self.update(state)

    def save_epoch(self, manager: tf.train.CheckpointManager, row: dict, phase: Phase) -> None:
        """Checkpoint first, then the state that points to it: a kill between the two leaves
        the previous state and its checkpoint (kept: max_to_keep=2) consistent."""
        try:
            path = manager.save(checkpoint_number=row["epoch"])
        except tf.errors.OpError as error:  # a full disk: TensorFlow's own error type, not OSError
            raise write_failed(self.out / CHECKPOINTS, OSError(errno.EIO, error.message)) from None
        self["history"].append(row)
        self["completed_epochs"] = row["epoch"]
        self["checkpoint"] = Path(path).name
        self["phase"] = [phase.stage.index, phase.frozen]
        self.write()

    def write(self) -> None:
        outputs.write_json(self.path, dict(self))


class PhaseModel:
    """The training model of the current phase, with its checkpoint manager: rebuilt when the
    phase changes, restored from the last checkpoint (weights, optimiser, step, averages)."""

    def __init__(self, plan: Plan, out: Path):
        self.plan, self.out = plan, out
        self.model, self.phase, self.manager = None, None, None

    def enter(self, phase: Phase, state: RunState) -> None:
        keras.backend.clear_session()
        saved = state.get("phase")  # [stage, frozen] of the checkpoint
        checkpoint = state.checkpoint_path
        s = self.plan.settings
        with self.plan.strategy.scope():
            keras.utils.set_random_seed(s.seed + phase.stage.index)
            model = build_network(self.plan, phase.stage.size, phase.stage.dropout, training=True)
            if checkpoint and saved[1] != phase.frozen:
                # Head-only -> whole network: other trainable variables, so a fresh optimiser.
                # Restored before compile: a compiled model's checkpoint includes its optimiser.
                tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial()
            freeze_backbone(model, phase.frozen)
            compile_for(self.plan, model, phase)
        if checkpoint and saved[1] == phase.frozen:  # weights, optimiser slots, step, weight averages
            tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial()
        elif not checkpoint and s.weights:
            initial_weights(self.plan, model)
        self.model, self.phase = model, phase
        self.manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), self.out / CHECKPOINTS,
                                                  max_to_keep=2)

    def fit_epoch(self, epoch: int, data: tf.data.Dataset) -> tuple[dict, float, float]:
        """One epoch of fit: (its loss and top-1, seconds, training images per second)."""
        with self.plan.strategy.scope():
            reseed_dropout(self.model, self.plan.settings.seed, epoch)
        started, clock = time.perf_counter(), StepClock()
        progress = 1 if sys.stdout.isatty() else 2  # a bar on a terminal, one line per epoch in a log
        history = self.model.fit(data, initial_epoch=epoch, epochs=epoch + 1, verbose=progress, callbacks=[clock])
        seconds = time.perf_counter() - started
        last = {name: values[-1] for name, values in history.history.items()}
        return last, seconds, clock.images_per_s(self.plan.settings.batch, seconds)


class ShippedModel:
    """The model as it ships (final size, probabilities), built once, scored with the training
    model's weight average: the best epoch is chosen on what an app will run."""

    def __init__(self, plan: Plan):
        self.plan, self._model = plan, None

    @property
    def model(self) -> keras.Model:
        if self._model is None:
            plan = self.plan
            dropout = models.get_variant(plan.settings.variant).dropout  # inactive at inference; keeps the layer
            model = build_network(plan, plan.stages[-1].size, dropout, training=False)
            metrics = [keras.metrics.CategoricalAccuracy(name="top1"),
                       keras.metrics.TopKCategoricalAccuracy(min(5, len(plan.splits.class_names)), name="top5")]
            model.compile(loss=keras.losses.CategoricalCrossentropy(label_smoothing=plan.recipe.label_smoothing),
                          metrics=metrics)
            self._model = model
        return self._model

    def score(self, training_model: keras.Model, data: tf.data.Dataset) -> dict:
        """Loss, top-1 and top-5 on `data` of the training model's average at the final size."""
        with ema_weights(training_model):
            transfer_weights(training_model, self.model)
        return self.model.evaluate(data, verbose=0, return_dict=True)

    def score_kept(self, path: Path, data: tf.data.Dataset) -> dict:
        """The same figures of a model.keras written earlier."""
        transfer_weights(keras.models.load_model(path, compile=False), self.model)
        return self.model.evaluate(data, verbose=0, return_dict=True)


class StepClock(keras.callbacks.Callback):
    """Training speed without the first step, which traces the train function (seconds)."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            self.started, self.steps = time.perf_counter(), 0
        else:
            self.steps += 1
            self.ended = time.perf_counter()

    def images_per_s(self, batch_size: int, epoch_seconds: float) -> float:
        if not self.steps:
            return batch_size / epoch_seconds
        return self.steps * batch_size / (self.ended - self.started)


class Run:
    """The epoch loop with its files; `Run(plan).train()` resumes whatever OUT holds."""

    def __init__(self, plan: Plan):
        self.plan, self.s = plan, plan.settings
        self.out = self.s.out_path
        self.pipeline = Pipeline(plan.splits.train, plan.splits.val, len(plan.splits.class_names), self.s.batch,
                                 self.s.seed, cache=should_cache(plan.splits.train), crop_area=self.s.crop_area,
                                 flip=plan.flip)
        self.state = RunState(self.out, self.s.fingerprint())
        self.training = PhaseModel(plan, self.out)
        self.shipped = ShippedModel(plan)

    def train(self) -> dict:
        self.out.mkdir(parents=True, exist_ok=True)
        with outputs.RunLock(self.out):
            self.state.load(self.s.epochs)
            first = self.state["completed_epochs"]
            if first == self.s.epochs:
                print(f"{self.out} already holds this run, complete ({self.s.epochs} epochs); nothing to do")
                return self.summary()
            if first == 0:
                outputs.write_labels(self.out / "labels.txt", self.plan.splits.class_names)
            scalars = outputs.Scalars(self.out / "tensorboard")
            for epoch in range(first, self.s.epochs):
                self.run_epoch(epoch, scalars)
            if self.plan.splits.test is not None:
                self.state["test"] = self.test_figures()
                self.state.write()
                self.write_reports()
            return self.summary()

    def run_epoch(self, epoch: int, scalars: outputs.Scalars) -> None:
        phase = phase_of(self.plan, epoch)
        if phase != self.training.phase:
            self.training.enter(phase, self.state)
        row = self.train_epoch(epoch, phase.stage)
        if is_better(row, self.state["best"]):
            self.export_best(row)
        self.state.save_epoch(self.training.manager, row, phase)
        scalars.write(row)
        self.write_reports()
        print(epoch_line(row, self.s.epochs), flush=True)

    def train_epoch(self, epoch: int, stage: progressive.StageSettings) -> dict:
        data = self.pipeline.train(epoch, stage.size, stage.randaug, stage.mixup)
        key = str(stage.size)
        if key not in self.state["pipeline_images_per_s"]:
            self.state["pipeline_images_per_s"][key] = round(images_per_second(data), 1)
        fit, seconds, images_per_s = self.training.fit_epoch(epoch, data)
        val = self.shipped.score(self.training.model, self.pipeline.val(self.plan.stages[-1].size))
        learning_rate = keras.backend.get_value(self.training.model.optimizer.learning_rate)  # of the last step
        return {"epoch": epoch + 1, "stage": stage.index + 1, "image_size": stage.size, "randaug": stage.randaug,
                "mixup": stage.mixup, "dropout": stage.dropout, "frozen_backbone": self.training.phase.frozen,
                "loss": round(fit["loss"], 5), "train_top1": round(fit["top1"], 5),
                "val_loss": round(val["loss"], 5), "val_top1": round(val["top1"], 5),
                "val_top5": round(val["top5"], 5), "learning_rate": float(learning_rate),
                "train_images_per_s": round(images_per_s, 1), "epoch_s": round(seconds, 1)}

    def export_best(self, row: dict) -> None:
        """model.keras: the validated model, loadable as `make tflite WEIGHTS=`."""
        model = self.shipped.model
        outputs.save_keras(model, self.out / "model.keras")
        self.state["best"] = {"epoch": row["epoch"], "val_top1": row["val_top1"], "val_top5": row["val_top5"],
                              "val_loss": row["val_loss"], "parameters": model.count_params()}

    def test_figures(self) -> dict:
        """The kept model.keras scored once on DATA/test/ (never used to choose anything)."""
        test = self.plan.splits.test
        figures = self.shipped.score_kept(self.out / "model.keras",
                                          self.pipeline.labelled(test, self.plan.stages[-1].size))
        return {"images": len(test), "top1": round(figures["top1"], 5), "top5": round(figures["top5"], 5),
                "epoch": self.state["best"]["epoch"]}

    def write_reports(self) -> None:
        rows = self.state["history"]
        outputs.write_history(self.out / "history.csv", rows)
        outputs.plot_curves(self.out / "curves.png", rows, f"{self.s.variant} on {Path(self.s.data).name}")
        outputs.write_json(self.out / "train.json", self.summary())

    def summary(self) -> dict:
        rows, plan = self.state["history"], self.plan
        return {"variant": self.s.variant, "settings": self.state["fingerprint"], "out": str(self.out),
                "recipe": plan.recipe.describe(), "stages": [dataclasses.asdict(st) for st in plan.stages],
                "adapted_to_data": plan.adaptation, "test": self.state.get("test"),
                "data": plan.splits.summary(), "classes": plan.splits.class_names,
                "replicas": plan.strategy.num_replicas_in_sync, "mixed_precision": plan.mixed,
                "completed_epochs": self.state["completed_epochs"], "best": self.state["best"],
                "pipeline_images_per_s": self.state["pipeline_images_per_s"],
                "train_images_per_s": {str(r["image_size"]): r["train_images_per_s"] for r in rows},
                "train_seconds": round(sum(r["epoch_s"] for r in rows), 1)}


def forget_lost_best(state: dict, out: Path, epochs: int) -> None:
    """model.keras was removed from a run folder: the remaining epochs keep the best of theirs;
    a finished run has none left to write one."""
    lost = f"{out / 'model.keras'} (epoch {state['best'].get('epoch')}'s model) is missing"
    if state["completed_epochs"] >= epochs:
        raise DamagedRun(out, f"{lost} and the run is complete; train again into another OUT")
    print(f"warning: {lost}; keeping the best of the remaining epochs", file=sys.stderr)
    state["best"] = None


def is_better(row: dict, best: dict | None) -> bool:
    """Higher held-out top-1; at equal top-1 (common on a few hundred images) the lower loss."""
    if best is None:
        return True
    return (row["val_top1"], -row["val_loss"]) > (best["val_top1"], -best.get("val_loss", float("inf")))


def epoch_line(row: dict, epochs: int) -> str:
    return (f"epoch {row['epoch']}/{epochs} stage {row['stage']} size {row['image_size']}"
            f"{' (head only)' if row['frozen_backbone'] else ''} | loss {row['loss']:.3f} "
            f"top-1 {row['train_top1']:.3f} | val loss {row['val_loss']:.3f} top-1 {row['val_top1']:.3f} "
            f"| lr {row['learning_rate']:.2e} | {row['train_images_per_s']:.0f} img/s")


def train(settings: Settings, strategy: tf.distribute.Strategy | None = None) -> dict:
    """Trains (or resumes) the run `settings` describe; returns the train.json summary."""
    plan = make_plan(settings, strategy)
    ensure_writable(settings.out_path)
    with tf_random_generators():
        return Run(plan).train()
