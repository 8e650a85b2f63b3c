"""One training run: image folder -> trained model.keras, with progressive learning and resume.

    scan DATA -> plan stages -> for each epoch: (re)build the model for the epoch's stage,
    fit one epoch, validate (EMA weights), checkpoint, export the best model

The model is rebuilt at each stage's image size and dropout (paper, Algorithm 1) and takes
the previous stage's weights and optimiser state from the checkpoint: the same code path as
resuming after a kill. (Keras' BackupAndRestore restores within one `fit` of one model; here
every stage is a new model.)
"""
from __future__ import annotations

import dataclasses
import errno
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf
import tf_keras as keras

import models
from core.files import ensure_writable, write_failed
from imagedata.folders import Splits, scan
from models.registry import base_name
from models.weights import check_switches, transfer_weights

from . import adapt, outputs, progressive, recipes
from .data import Pipeline, images_per_second, should_cache
from .state import DamagedRun, read_state, verify_checkpoint

CHECKPOINTS = "checkpoints"
# Settings added after runs existed: at their defaults they stay out of the fingerprint, so
# those runs still resume.
LATER_SETTINGS = ("activation", "se", "flip", "label_smoothing", "strength")


@dataclass
class Settings:
    variant: str = "ghost_b0"
    data: str = ""
    out: str = ""  # default: runs/<variant>
    size: int | None = None  # final image size; default: the variant's resolution
    epochs: int = 25
    batch: int = 32  # total over all devices; small data sets learn faster with more steps
    weights: str | None = None  # None (from scratch) | "imagenet" | a .keras of the same variant
    recipe: str = "small"
    progression: str = "auto"  # a preset name, "auto" (the recipe's, else by variant) or "fixed"
    stages: int = 4
    size_range: tuple[int, int] | None = None  # overrides the preset's first/last size (absolute)
    randaug: tuple[float, float] | None = None  # overrides (first stage, last stage)
    mixup: tuple[float, float] | None = None
    dropout: tuple[float, float] | None = None
    drop_path: float | None = None  # overrides the recipe's
    learning_rate: float | None = None  # peak, overrides the recipe's (already for this batch)
    ema: float | None = -1.0  # -1: the recipe's; None/0: off
    freeze_epochs: int = 0  # head-only epochs first (fine-tuning warm-up)
    classes: int | None = None  # checked against DATA's class folders when given
    val_fraction: float = 0.1
    crop_area: float = 0.8  # smallest random-resized crop (fraction of the image area)
    flip: str = "auto"  # horizontal flips: auto (train.adapt's mirror test decides) | on | off
    label_smoothing: float | None = None  # overrides the recipe's
    strength: float | None = None  # augmentation strength 0-1 (None: from the images per class, train.adapt)
    seed: int = 0
    mixed_precision: str = "auto"  # auto (on with a GPU) | on | off
    activation: str = "silu"  # edge switches (models.build): silu | hard_swish | relu6
    se: bool = True

    @property
    def out_path(self) -> Path:
        return Path(self.out or f"runs/{self.variant}")

    def fingerprint(self) -> dict:
        """What must be equal for a rerun to resume this run (OUT itself excluded; the edge
        switches only when set, so runs from before they existed still resume)."""
        defaults = Settings()
        return {k: v for k, v in dataclasses.asdict(self).items()
                if k != "out" and not (k in LATER_SETTINGS and v == getattr(defaults, k))}


@dataclass
class Plan:
    """Everything fixed before the first epoch."""

    settings: Settings
    splits: Splits
    recipe: recipes.Recipe
    stages: list[progressive.StageSettings]
    strategy: tf.distribute.Strategy
    mixed: bool
    flip: bool = True
    adaptation: dict = dataclasses.field(default_factory=dict)  # what train.adapt decided, from which figures

    @property
    def steps_per_epoch(self) -> int:
        return max(1, len(self.splits.train) // self.settings.batch)


def resolve_recipe(s: Settings) -> recipes.Recipe:
    if s.recipe not in recipes.RECIPES:
        raise ValueError(f"unknown recipe {s.recipe!r}; valid: {', '.join(recipes.RECIPES)}")
    recipe = recipes.RECIPES[s.recipe]
    overrides = {}
    if s.drop_path is not None:
        overrides["drop_path"] = s.drop_path
    if s.ema != -1.0:
        overrides["ema"] = s.ema or None
    if s.learning_rate is not None:
        overrides.update(learning_rate=s.learning_rate, reference_batch=s.batch)
    if s.label_smoothing is not None:
        overrides["label_smoothing"] = s.label_smoothing
    return dataclasses.replace(recipe, **overrides)


def resolve_progression(s: Settings, recipe: recipes.Recipe, target_size: int,
                        min_size: int, strength: float = 1.0) -> list[progressive.StageSettings]:
    """auto: the recipe's preset, else the variant's size class (the paper's S/M/L ranges); its
    RandAugment and mixup ranges scaled by `strength` unless given."""
    name = s.progression
    if name in ("auto", "fixed"):
        name = recipe.progression or progressive.preset_for(s.variant)
    if name not in progressive.PRESETS:
        raise ValueError(f"unknown progression {s.progression!r}; valid: auto, fixed, "
                         f"{', '.join(progressive.PRESETS)}")
    preset = progressive.scaled(progressive.PRESETS[name], strength)
    ranges = {k: v for k, v in (("randaug", s.randaug), ("mixup", s.mixup), ("dropout", s.dropout)) if v}
    preset = dataclasses.replace(preset, **ranges)
    if s.size_range:
        preset = dataclasses.replace(preset, size=s.size_range)
        target_size = s.size_range[1]
    stages = 1 if s.progression == "fixed" else s.stages
    return progressive.plan(preset, target_size, s.epochs, stages, min_size)


def preflight(s: Settings) -> tuple[models.Variant, int]:
    """Checks that need no data; raises a one-line ValueError/FileNotFoundError."""
    variant = models.get_variant(s.variant)
    size = variant.input_size(s.size)
    models.check_settings(variant, size, s.classes or 2, activation=s.activation)
    if s.epochs < 1:
        raise ValueError(f"EPOCHS must be at least 1, got {s.epochs}")
    if not 0 < s.crop_area <= 1:
        raise ValueError(f"the smallest crop area must be in (0, 1], got {s.crop_area}")
    if s.flip not in ("auto", "on", "off"):
        raise ValueError(f"FLIP must be auto, on or off, got {s.flip!r}")
    if s.label_smoothing is not None and not 0 <= s.label_smoothing < 1:
        raise ValueError(f"label smoothing must be in [0, 1), got {s.label_smoothing}")
    if s.strength is not None and not 0 <= s.strength <= 1:
        raise ValueError(f"the augmentation strength must be in [0, 1], got {s.strength}")
    if s.batch < 1:
        raise ValueError(f"BATCH must be at least 1, got {s.batch}")
    if not 0 <= s.freeze_epochs < s.epochs:
        raise ValueError(f"frozen-backbone epochs must be in [0, EPOCHS), got {s.freeze_epochs}")
    if s.weights and s.weights != "imagenet" and not Path(s.weights).is_file():
        raise FileNotFoundError(f"WEIGHTS file {s.weights!r} does not exist; give a .keras file of "
                                f"{s.variant}, 'imagenet', or leave WEIGHTS unset to train from scratch")
    if s.freeze_epochs and not s.weights:
        raise ValueError("frozen-backbone epochs need pretrained WEIGHTS (a random backbone is not worth freezing)")
    if not s.data:
        raise ValueError("DATA is required: a folder with one sub-folder of images per class (make demo-data makes one)")
    return variant, size


def strategy_for() -> tf.distribute.Strategy:
    """MultiWorkerMirrored from TF_CONFIG, Mirrored over several GPUs, else the default."""
    if os.environ.get("TF_CONFIG"):
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def adapt_to_data(s: Settings, splits: Splits) -> tuple[bool, float, dict]:
    """Flips and augmentation strength from the folder (train.adapt), unless set: (flip,
    strength, the record of both decisions for train.json)."""
    per_class = len(splits.train) / len(splits.class_names)
    strength = adapt.augmentation_strength(per_class) if s.strength is None else s.strength
    record = {"train_images_per_class": round(per_class, 1),
              "augmentation_strength": round(strength, 3) if s.strength is None else f"{s.strength} (set)"}
    if s.flip == "auto":
        mirror = adapt.mirror_test(splits.train, len(splits.class_names), s.seed)
        flip = adapt.flips_wanted(mirror)
        record["flip"] = {"on": flip, "decided_by": "mirror test", **mirror}
    else:
        flip = s.flip == "on"
        record["flip"] = {"on": flip, "decided_by": "FLIP setting"}
    return flip, strength, record


def make_plan(s: Settings, strategy: tf.distribute.Strategy | None = None) -> Plan:
    variant, size = preflight(s)
    recipe = resolve_recipe(s)
    resolve_progression(s, recipe, size, models.min_input_size(variant))  # bad settings fail before the scan
    splits = scan(s.data, s.val_fraction, s.seed)
    if s.classes is not None and s.classes != len(splits.class_names):
        raise ValueError(f"CLASSES={s.classes} but DATA has {len(splits.class_names)} class folders "
                         f"({', '.join(splits.class_names[:6])}{', ...' if len(splits.class_names) > 6 else ''}); "
                         "leave CLASSES unset or make them match")
    if s.batch > len(splits.train):
        raise ValueError(f"BATCH={s.batch} is larger than the {len(splits.train)} training images; use a smaller BATCH")
    strategy = strategy or strategy_for()
    gpu = bool(tf.config.list_logical_devices("GPU"))
    if s.mixed_precision not in ("auto", "on", "off"):
        raise ValueError(f"mixed precision must be auto, on or off, got {s.mixed_precision!r}")
    mixed = s.mixed_precision == "on" or (s.mixed_precision == "auto" and gpu)
    flip, strength, adaptation = adapt_to_data(s, splits)
    if s.ema == -1.0 and recipe.ema:  # the recipe's average, not one the user set
        steps = max(1, len(splits.train) // s.batch) * s.epochs
        decay = round(adapt.ema_decay(recipe.ema, steps), 5)
        recipe = dataclasses.replace(recipe, ema=decay or None)  # 0: too few steps to average over
        adaptation["ema"] = {"decay": decay, "training_steps": steps}
    stages = resolve_progression(s, recipe, size, models.min_input_size(variant), strength)
    return Plan(s, splits, recipe, stages, strategy, mixed, flip, adaptation)


# ---------------------------------------------------------------- model per phase

@dataclass(frozen=True)
class Phase:
    """A stretch of epochs trained by one compiled model: a stage, frozen or not."""

    stage: progressive.StageSettings
    frozen: bool


def phase_of(plan: Plan, epoch: int) -> Phase:
    return Phase(progressive.stage_of(plan.stages, epoch), epoch < plan.settings.freeze_epochs)


def build_network(plan: Plan, size: int, dropout: float, training: bool) -> keras.Model:
    """Our builder at `size`; for training: logits (float32 even under mixed precision),
    the recipe's batch-norm momentum, synchronised batch norm across replicas."""
    s = plan.settings
    keras.mixed_precision.set_global_policy("mixed_float16" if training and plan.mixed else "float32")
    try:
        model = models.build(s.variant, input_size=size, num_classes=len(plan.splits.class_names),
                             dropout=dropout, drop_path=plan.recipe.drop_path, activation=s.activation, se=s.se,
                             classifier_activation=None if training else "softmax")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    if not training:
        return model
    # A fresh head starts at zero: the reference initialiser (variance scaling over fan-out) is
    # sized for 1000 classes; with a handful, logits start with a std of several units and
    # the first epochs undo that instead of learning (loss far above ln(classes)).
    head = model.get_layer("predictions")
    head.kernel.assign(tf.zeros_like(head.kernel))
    replicas = plan.strategy.num_replicas_in_sync
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = plan.recipe.bn_momentum
            if replicas > 1:  # each replica sees a slice of the batch: normalise over all of it
                layer.fused, layer.synchronized = False, True
    if plan.mixed:
        logits = keras.layers.Activation("linear", dtype="float32", name="logits_float32")(model.output)
        model = keras.Model(model.input, logits, name=model.name)
    return model


def initial_weights(plan: Plan, model: keras.Model) -> None:
    """Fine-tuning starts: ImageNet (ported from keras.applications) or a .keras of the same
    variant; a head with another class count keeps its fresh initialisation."""
    s = plan.settings
    if s.weights == "imagenet":
        from models.weights import port_keras_applications

        port_keras_applications(model, base_name(s.variant))
        return
    source = keras.models.load_model(s.weights, compile=False)
    check_switches(source, model, s.weights)
    head = next((layer for layer in source.layers if layer.name == "predictions"), None)
    other_classes = head is not None and head.units != len(plan.splits.class_names)
    transfer_weights(source, model, may_stay=("predictions",), leave_out=("predictions",) if other_classes else ())


def freeze_backbone(model: keras.Model, frozen: bool) -> None:
    """Head-only training (frozen batch norm runs in inference mode, as fine-tuning wants)."""
    for layer in model.layers:
        layer.trainable = not frozen or layer.name == "predictions"


def compile_for(plan: Plan, model: keras.Model, phase: Phase) -> None:
    recipe = plan.recipe
    frozen_epochs = plan.settings.freeze_epochs
    epochs = frozen_epochs if phase.frozen else plan.settings.epochs - frozen_epochs
    optimizer = recipes.optimizer(recipe, recipes.schedule(recipe, plan.settings.batch, plan.steps_per_epoch, epochs))
    if recipe.l2_in_loss:
        recipes.add_l2_penalty(model, recipe.weight_decay)
    metrics = [keras.metrics.CategoricalAccuracy(name="top1")]
    if len(plan.splits.class_names) >= 5:
        metrics.append(keras.metrics.TopKCategoricalAccuracy(5, name="top5"))
    model.compile(optimizer,
                  keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=recipe.label_smoothing),
                  metrics=metrics)
    optimizer.build(model.trainable_variables)  # slots exist now, so a checkpoint restores into them


def reseed_dropout(model: keras.Model, seed: int, epoch: int) -> None:
    """Dropout and stochastic-depth masks as a function of (seed, epoch, layer), so a resumed run
    draws exactly the masks of an uninterrupted one. (A functional model's checkpoint holds only
    layers with weights: the generators' state is not in it.) Needs
    `keras.backend.experimental.enable_tf_random_generator()` before the model is built."""
    for index, layer in enumerate(model.layers):
        generator = getattr(layer, "_random_generator", None)
        if generator is None:
            continue
        generator._maybe_init()  # tf-keras creates it lazily, at the first traced call
        if generator._generator is not None:
            generator._generator.reset_from_seed(seed * 1_000_003 + epoch * 10_007 + index)


@contextmanager
def ema_weights(model: keras.Model):
    """Swaps the optimiser's moving averages into the trainable weights for the duration
    (tf-keras keeps them private; `finalize_variable_values` would swap for good)."""
    optimizer = model.optimizer
    if not getattr(optimizer, "use_ema", False):
        yield
        return
    variables = model.trainable_variables
    averages = [optimizer._model_variables_moving_average[optimizer._index_dict[optimizer._var_key(v)]]
                for v in variables]
    saved = [v.numpy() for v in variables]
    for variable, average in zip(variables, averages):
        variable.assign(average)
    try:
        yield
    finally:
        for variable, value in zip(variables, saved):
            variable.assign(value)


# ---------------------------------------------------------------- the run

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
        self.manager = None
        self.model, self.phase = None, None
        self.inference_model = None
        self.state = {"fingerprint": json.loads(json.dumps(self.s.fingerprint())), "completed_epochs": 0,
                      "history": [], "best": None, "checkpoint": None, "pipeline_images_per_s": {}}

    # -- state on disk
    @property
    def state_path(self) -> Path:
        return self.out / CHECKPOINTS / "state.json"

    def load_state(self) -> None:
        if not self.state_path.is_file():
            return
        state = read_state(self.state_path)
        if state["fingerprint"] != self.state["fingerprint"]:
            changed = sorted(k for k in self.state["fingerprint"]
                             if state["fingerprint"].get(k) != self.state["fingerprint"][k])
            raise ValueError(f"OUT {str(self.out)!r} holds a run with other settings ({', '.join(changed)}); "
                             "rerun the same command to resume it, or choose another OUT")
        if state["checkpoint"]:
            state["checkpoint"] = Path(state["checkpoint"]).name  # an absolute path from before: its name here
            verify_checkpoint(self.out / CHECKPOINTS / state["checkpoint"])
        if state["best"] and not (self.out / "model.keras").is_file():
            forget_lost_best(state, self.out, self.s.epochs)
        self.state = state

    def save_epoch(self, row: dict) -> None:
        """Checkpoint first, then the state that points to it: a kill between the two leaves
        the previous state and its checkpoint (kept: max_to_keep=2) consistent."""
        try:
            path = self.manager.save(checkpoint_number=row["epoch"])
        except tf.errors.OpError as error:  # a full disk: TensorFlow's own error type, not OSError
            raise write_failed(self.out / CHECKPOINTS, OSError(errno.EIO, error.message)) from None
        self.state["history"].append(row)
        self.state["completed_epochs"] = row["epoch"]
        self.state["checkpoint"] = Path(path).name  # by name: the run folder may move
        self.state["phase"] = [self.phase.stage.index, self.phase.frozen]
        outputs.write_json(self.state_path, self.state)

    # -- model per phase
    def enter_phase(self, phase: Phase) -> None:
        keras.backend.clear_session()
        saved = self.state.get("phase")  # [stage, frozen]
        checkpoint = self.state["checkpoint"] and str(self.out / CHECKPOINTS / self.state["checkpoint"])
        with self.plan.strategy.scope():
            keras.utils.set_random_seed(self.s.seed + phase.stage.index)
            model = build_network(self.plan, phase.stage.size, phase.stage.dropout, training=True)
            if checkpoint and saved[1] != phase.frozen:
                # Head-only -> whole network: other trainable variables, so a fresh optimiser.
                # Restored before compile: a compiled model's checkpoint includes its optimiser.
                tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial()
            freeze_backbone(model, phase.frozen)
            compile_for(self.plan, model, phase)
        if checkpoint and saved[1] == phase.frozen:  # weights, optimiser slots, step, weight averages
            tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial()
        elif not checkpoint and self.s.weights:
            initial_weights(self.plan, model)
        self.model, self.phase = model, phase
        self.manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), self.out / CHECKPOINTS,
                                                  max_to_keep=2)

    # -- one epoch
    def train_epoch(self, epoch: int) -> dict:
        stage = self.phase.stage
        with self.plan.strategy.scope():
            reseed_dropout(self.model, self.s.seed, epoch)
        data = self.pipeline.train(epoch, stage.size, stage.randaug, stage.mixup)
        key = str(stage.size)
        if key not in self.state["pipeline_images_per_s"]:
            self.state["pipeline_images_per_s"][key] = round(images_per_second(data), 1)
        started, clock = time.perf_counter(), StepClock()
        progress = 1 if sys.stdout.isatty() else 2  # a bar on a terminal, one line per epoch in a log
        history = self.model.fit(data, initial_epoch=epoch, epochs=epoch + 1, verbose=progress, callbacks=[clock])
        seconds = time.perf_counter() - started
        val = self.validate()
        optimizer = self.model.optimizer
        return {"epoch": epoch + 1, "stage": stage.index + 1, "image_size": stage.size, "randaug": stage.randaug,
                "mixup": stage.mixup, "dropout": stage.dropout, "frozen_backbone": self.phase.frozen,
                "loss": round(history.history["loss"][-1], 5), "train_top1": round(history.history["top1"][-1], 5),
                "val_loss": round(val["loss"], 5), "val_top1": round(val["top1"], 5),
                "val_top5": round(val["top5"], 5),
                "learning_rate": float(keras.backend.get_value(optimizer.learning_rate)),  # of the last step
                "train_images_per_s": round(clock.images_per_s(self.s.batch, seconds), 1),
                "epoch_s": round(seconds, 1)}

    def shipped_model(self) -> keras.Model:
        """The model as it ships (final size, probabilities), built once; holds the EMA weights
        of the last validated epoch."""
        if self.inference_model is None:
            dropout = models.get_variant(self.s.variant).dropout  # inactive at inference; keeps the layer
            model = build_network(self.plan, self.plan.stages[-1].size, dropout, training=False)
            metrics = [keras.metrics.CategoricalAccuracy(name="top1"),
                       keras.metrics.TopKCategoricalAccuracy(min(5, len(self.plan.splits.class_names)), name="top5")]
            model.compile(loss=keras.losses.CategoricalCrossentropy(label_smoothing=self.plan.recipe.label_smoothing),
                          metrics=metrics)
            self.inference_model = model
        return self.inference_model

    def validate(self) -> dict:
        """Held-out figures of the model as it ships: EMA weights, final image size (whatever the
        stage), so the best epoch is chosen on what an app will run."""
        model = self.shipped_model()
        with ema_weights(self.model):
            transfer_weights(self.model, model)
        return model.evaluate(self.pipeline.val(self.plan.stages[-1].size), verbose=0, return_dict=True)

    def export_best(self, row: dict) -> None:
        """model.keras: the validated model, loadable as `make tflite WEIGHTS=`."""
        outputs.save_keras(self.inference_model, self.out / "model.keras")
        self.state["best"] = {"epoch": row["epoch"], "val_top1": row["val_top1"], "val_top5": row["val_top5"],
                              "val_loss": row["val_loss"], "parameters": self.inference_model.count_params()}

    def write_reports(self) -> None:
        rows = self.state["history"]
        outputs.write_history(self.out / "history.csv", rows)
        outputs.plot_curves(self.out / "curves.png", rows, f"{self.s.variant} on {Path(self.s.data).name}")
        outputs.write_json(self.out / "train.json", self.summary())

    def summary(self) -> dict:
        rows = self.state["history"]
        return {"variant": self.s.variant, "settings": self.state["fingerprint"], "out": str(self.out),
                "recipe": self.plan.recipe.describe(), "stages": [dataclasses.asdict(st) for st in self.plan.stages],
                "adapted_to_data": self.plan.adaptation, "test": self.state.get("test"),
                "data": self.plan.splits.summary(), "classes": self.plan.splits.class_names,
                "replicas": self.plan.strategy.num_replicas_in_sync, "mixed_precision": self.plan.mixed,
                "completed_epochs": self.state["completed_epochs"], "best": self.state["best"],
                "pipeline_images_per_s": self.state["pipeline_images_per_s"],
                "train_images_per_s": {str(r["image_size"]): r["train_images_per_s"] for r in rows},
                "train_seconds": round(sum(r["epoch_s"] for r in rows), 1)}

    def train(self) -> dict:
        self.out.mkdir(parents=True, exist_ok=True)
        with outputs.RunLock(self.out):
            self.load_state()
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
                outputs.write_json(self.state_path, self.state)
                self.write_reports()
            return self.summary()

    def test_figures(self) -> dict:
        """The kept model.keras scored once on DATA/test/ (never used to choose anything)."""
        model = self.shipped_model()
        kept = keras.models.load_model(self.out / "model.keras", compile=False)
        transfer_weights(kept, model)
        test = self.plan.splits.test
        figures = model.evaluate(self.pipeline.labelled(test, self.plan.stages[-1].size), verbose=0, return_dict=True)
        return {"images": len(test), "top1": round(figures["top1"], 5), "top5": round(figures["top5"], 5),
                "epoch": self.state["best"]["epoch"]}

    def run_epoch(self, epoch: int, scalars: outputs.Scalars) -> None:
        phase = phase_of(self.plan, epoch)
        if phase != self.phase:
            self.enter_phase(phase)
        row = self.train_epoch(epoch)
        if is_better(row, self.state["best"]):
            self.export_best(row)
        self.save_epoch(row)
        scalars.write(row)
        self.write_reports()
        print(epoch_line(row, self.s.epochs), flush=True)


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
    keras.backend.experimental.enable_tf_random_generator()
    plan = make_plan(settings, strategy)
    ensure_writable(settings.out_path)
    return Run(plan).train()
