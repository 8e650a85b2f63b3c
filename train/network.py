"""The model of one training phase: built at the stage's size and dropout, given its first
weights, frozen or not, compiled; and the two places where the run needs more of tf-keras than
its public API offers (dropout masks that a resume redraws; the weight average swapped in)."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import tensorflow as tf
import tf_keras as keras

import models
from models.registry import base_name
from models.weights import check_switches, transfer_weights

from . import progressive, recipes
from .plan import Plan


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
    layers with weights: the generators' state is not in it.)

    tf-keras has no public way to reseed a layer's generator, so this reaches into
    `BaseRandomLayer._random_generator` (tf-keras 2.x). It needs
    `keras.backend.experimental.enable_tf_random_generator()` before the model is built, and raises
    where a random layer has no generator it can reseed, so a tf-keras that moves these internals
    fails here (and in tests/train/test_network.py) instead of silently breaking resumes."""
    for index, layer in enumerate(model.layers):
        if not isinstance(layer, keras.__internal__.layers.BaseRandomLayer):
            continue
        generator = getattr(layer, "_random_generator", None)
        if generator is None or not hasattr(generator, "_maybe_init"):
            raise RuntimeError(f"cannot reseed {layer.name}'s random generator: tf-keras "
                               f"{keras.__version__} moved BaseRandomLayer._random_generator")
        generator._maybe_init()  # tf-keras creates it lazily, at the first traced call
        if generator._generator is None:
            raise RuntimeError(f"{layer.name} draws from the legacy global generator: call "
                               "keras.backend.experimental.enable_tf_random_generator() before building")
        generator._generator.reset_from_seed(seed * 1_000_003 + epoch * 10_007 + index)


@contextmanager
def tf_random_generators():
    """Random layers built inside draw from their own tf.random.Generator (which reseed_dropout
    can reseed) instead of the global one; the process's previous setting is restored after."""
    experimental = keras.backend.experimental
    was_enabled = experimental.is_tf_random_generator_enabled()
    experimental.enable_tf_random_generator()
    try:
        yield
    finally:
        if not was_enabled:
            experimental.disable_tf_random_generator()


@contextmanager
def ema_weights(model: keras.Model):
    """The optimiser's weight average in the trainable weights for the duration, the trained
    weights back after. `finalize_variable_values` is tf-keras' public swap (for good, on every
    replica); the trained values are kept here to undo it. train.recipes.optimizer turns the
    instance's swap off (fit() would end every epoch with it), so the class's is called."""
    optimizer = model.optimizer
    if not getattr(optimizer, "use_ema", False):
        yield
        return
    variables = model.trainable_variables
    saved = [v.numpy() for v in variables]
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer under mixed precision
    type(inner).finalize_variable_values(inner, variables)
    try:
        yield
    finally:
        for variable, value in zip(variables, saved):
            variable.assign(value)
