"""Training recipes: optimiser, learning-rate schedule, regularisation, weight averaging.

`paper` is the EfficientNetV2 ImageNet recipe; `small` is the default for a user's folder of
a few thousand images, where the paper's schedule (tuned for 350 epochs of 1.28 M images)
would barely leave warm-up.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import tensorflow as tf
import tf_keras as keras


@dataclass(frozen=True)
class Recipe:
    name: str
    optimizer: str  # "rmsprop" | "adamw"
    learning_rate: float  # peak, for a total batch of `reference_batch`
    reference_batch: int
    lr_scaling: str  # how the peak follows the batch: "linear" (SGD-like, the paper) or "sqrt" (Adam-like)
    warmup_epochs: float
    schedule: str  # "exponential" (x decay_rate every decay_epochs) | "cosine" (to 0 at the end)
    weight_decay: float
    l2_in_loss: bool  # paper: wd * sum(w^2) / 2 added to the loss; else decoupled (AdamW)
    label_smoothing: float
    ema: float | None  # decay of the weight average used for validation and export
    bn_momentum: float
    drop_path: float  # stochastic depth rate at the last block (survival 1 - drop_path)
    progression: str | None = None  # default progression preset; None: the variant's (paper's S/M/L)
    decay_rate: float = 0.97
    decay_epochs: float = 2.4

    def peak_learning_rate(self, batch_size: int) -> float:
        ratio = batch_size / self.reference_batch
        return self.learning_rate * (ratio if self.lr_scaling == "linear" else math.sqrt(ratio))

    def describe(self) -> dict:
        return asdict(self)


RECIPES = {
    # Paper, section 5.1: RMSProp (decay 0.9, momentum 0.9), BN momentum 0.99, weight decay 1e-5,
    # lr warmed up to 0.256 per 4096 images then x0.97 every 2.4 epochs, EMA 0.9999,
    # stochastic depth survival 0.8; RandAugment/mixup/dropout come from the progression.
    "paper": Recipe("paper", "rmsprop", 0.256, 4096, "linear", warmup_epochs=5, schedule="exponential",
                    weight_decay=1e-5, l2_in_loss=True, label_smoothing=0.1, ema=0.9999, bn_momentum=0.99,
                    drop_path=0.2),
    # Few thousand images, tens of epochs: AdamW with cosine decay, label smoothing and a short EMA.
    # Peak 3e-3 at batch 32: on the demo set (ghost_b0, 64 px, 10 epochs) it reached 68% val
    # top-1 at epoch 7 where 1e-3 reached 50%; batch 64 (half the steps) learned at half the pace.
    "small": Recipe("small", "adamw", 3e-3, 32, "sqrt", warmup_epochs=2, schedule="cosine", weight_decay=0.05,
                    l2_in_loss=False, label_smoothing=0.1, ema=0.99, bn_momentum=0.9, drop_path=0.0,
                    progression="small"),
}


@keras.saving.register_keras_serializable(package="effnetv2_edge")
class WarmupThenDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak` over `warmup_steps`, then exponential or cosine decay."""

    def __init__(self, peak: float, warmup_steps: int, total_steps: int, schedule: str,
                 decay_rate: float = 0.97, decay_steps: float = 1.0):
        self.peak, self.warmup_steps, self.total_steps = peak, warmup_steps, total_steps
        self.schedule, self.decay_rate, self.decay_steps = schedule, decay_rate, decay_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = self.peak * step / max(self.warmup_steps, 1)
        after = step - self.warmup_steps
        if self.schedule == "cosine":
            progress = tf.clip_by_value(after / max(self.total_steps - self.warmup_steps, 1), 0.0, 1.0)
            decayed = 0.5 * self.peak * (1 + tf.cos(math.pi * progress))
        else:
            decayed = self.peak * self.decay_rate ** tf.floor(after / self.decay_steps)
        return tf.where(step < self.warmup_steps, warmup, decayed)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps,
                "schedule": self.schedule, "decay_rate": self.decay_rate, "decay_steps": self.decay_steps}


def schedule(recipe: Recipe, batch_size: int, steps_per_epoch: int, epochs: int) -> WarmupThenDecay:
    return WarmupThenDecay(recipe.peak_learning_rate(batch_size), round(recipe.warmup_epochs * steps_per_epoch),
                           epochs * steps_per_epoch, recipe.schedule, recipe.decay_rate,
                           recipe.decay_epochs * steps_per_epoch)


def optimizer(recipe: Recipe, learning_rate) -> keras.optimizers.Optimizer:
    """The recipe's optimiser with built-in weight averaging (tf-keras `use_ema`)."""
    ema = dict(use_ema=recipe.ema is not None, ema_momentum=recipe.ema or 0.99)
    if recipe.optimizer == "rmsprop":
        # TF's RMSProp `rho` is the paper's "decay"; epsilon 1e-3 as in the reference code.
        opt = keras.optimizers.RMSprop(learning_rate, rho=0.9, momentum=0.9, epsilon=1e-3, **ema)
    else:
        opt = keras.optimizers.AdamW(learning_rate, weight_decay=recipe.weight_decay, **ema)
        opt.exclude_from_weight_decay(var_names=["_bn/", "bias"])  # decay kernels only
    # fit() ends by overwriting the weights with their average (`finalize_variable_values`). The run
    # calls fit once per epoch, so every epoch restarted from the average (with the paper's 0.9999,
    # close to the initial weights). The average is swapped in only to validate and export
    # (train.network.ema_weights); training keeps its own weights.
    opt.finalize_variable_values = lambda var_list: None
    return opt


def is_decayed(variable: tf.Variable) -> bool:
    """Convolution and dense kernels; not batch-norm parameters or biases."""
    return "kernel" in variable.name


def add_l2_penalty(model: keras.Model, weight_decay: float) -> None:
    """The paper's weight decay: weight_decay * sum(w^2) / 2 over kernels, added to the loss."""
    kernels = [v for v in model.trainable_variables if is_decayed(v)]
    model.add_loss(lambda: weight_decay * tf.add_n([tf.nn.l2_loss(v) for v in kernels]))
