"""EfficientNetV2 architectures as data.

A `Variant` is everything that distinguishes one network from another: a stage table plus
the scaling and regularisation numbers of that size. The builder in `builder.py` reads
these and nothing else, so an ablation or a user's own architecture is a new `Variant`
(usually `dataclasses.replace` of an official one), never new builder code.

Numbers come from the EfficientNetV2 paper (Tan & Le, 2021), the google/automl
reference and `tf_keras.applications.efficientnet_v2`, whose parameter counts ours match.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

BlockType = Literal["fused", "mbconv"]
Preprocessing = Literal["imagenet_mean_std", "minus_one_to_one"]
# The convolutions a Ghost design may turn into Ghost modules.
GHOST_ROLES = ("fused_expand", "fused_project", "mbconv_expand", "mbconv_project", "head")


@dataclass(frozen=True)
class GhostDesign:
    """How a Ghost variant builds its Ghost modules (primary conv -> cheap depthwise conv of its
    output -> both concatenated). Every choice is data: the reference design (`ghost_<name>`) and
    the int8-tuned one (`ghostlite_<name>`) share one builder."""

    # SE bottleneck as a fraction of the block's *expanded* channels. The reference rule (input
    # channels / 4) ties it to the narrow input; 1/24 of the expanded width equals that rule in
    # expand-6 blocks and trims expand-4 blocks to input / 6, which brings the Ghost models to
    # about 65% of the standard parameters (the README's model table).
    se_ratio: float = 1 / 24
    roles: tuple[str, ...] = GHOST_ROLES  # which convolutions become Ghost modules
    min_channels: int = 0  # ... and only those with at least this many output channels
    cheap_kernel: int = 3  # the cheap branch's depthwise kernel
    cheap_activation: bool = True  # the cheap branch ends in the activation, as the primary does
    resnet_d: bool = True  # downsampling blocks get an average-pool + 1x1 conv shortcut (ResNet-D)

    def makes_ghost(self, role: str, filters: int) -> bool:
        return role in self.roles and filters >= self.min_channels


@dataclass(frozen=True)
class Stage:
    """One row of a stage table: `repeats` blocks of one type; the first may stride."""

    block: BlockType
    repeats: int
    kernel: int
    stride: int
    expand: int
    channels: int  # output channels before width scaling
    se_ratio: float = 0.0  # SE bottleneck = block input channels * se_ratio; 0 disables


@dataclass(frozen=True)
class Variant:
    """A complete network description: stage table plus the numbers of that size."""

    name: str
    stages: tuple[Stage, ...]
    stem_channels: int  # before width scaling
    resolution: int  # official evaluation resolution
    width: float = 1.0
    depth: float = 1.0
    head_channels: int = 1280  # before width scaling
    dropout: float = 0.2  # before the classifier
    drop_path: float = 0.2  # stochastic depth, ramped linearly to this over the blocks
    preprocessing: Preprocessing = "minus_one_to_one"
    ghost: GhostDesign | None = None  # None: the standard network

    def input_size(self, size: int | None) -> int:
        """`size`, or the official resolution when none is given (0 is a size, and invalid)."""
        return self.resolution if size is None else size

    def scaled_channels(self, channels: int) -> int:
        """Width scaling with the rounding of the reference implementation (multiple of 8)."""
        divisor = 8
        scaled = channels * self.width
        return int(max(divisor, int(scaled + divisor / 2) // divisor * divisor))

    def scaled_repeats(self, repeats: int) -> int:
        return int(math.ceil(self.depth * repeats))


def _stages(*rows: tuple) -> tuple[Stage, ...]:
    """Compact rows: (block, repeats, kernel, stride, expand, channels, se_ratio)."""
    return tuple(Stage(*row) for row in rows)


# The int8-tuned Ghost design (`ghostlite_<name>`); docs/ghostlite.md has the measurements behind
# it (`python -m studies.ghost_designs`, `python -m studies.ablation`). The cheap branch is a 1x1
# depthwise conv (a per-channel scale and shift of the primary half, then its SiLU): in int8 a
# depthwise multiply-add costs 10x (AVX-512 VNNI) to 29x (AMX) a dense one, and a 3x3 cheap
# branch spends 9 of them per output. S at 224 px, int8, 1 thread, against s: 0.726x on AVX-512
# VNNI, 1.017x on AMX, 0.593x with AVX2 kernels (the reference design: 0.787x, 1.128x, 0.640x);
# at B0 size on the fine demo set it matched or beat the 3x3 branch in top-1 (two seeds).
# Restricting Ghost modules to some convolutions (MBConv stages, expand or wide ones) was slower.
GHOSTLITE = GhostDesign(cheap_kernel=1)

MBCONV_AND_HEAD = ("mbconv_expand", "mbconv_project", "head")
# The other Ghost designs under study (docs/ghostlite.md, timed by `python -m studies.ghost_designs`), by
# the prefix that derives them from any table: each builds, trains and converts by name
# (`make train VARIANT=ghostmb_s`), but only the shipped families are listed among the variants.
STUDIED_DESIGNS: dict[str, GhostDesign] = {
    "ghostmb_": GhostDesign(roles=MBCONV_AND_HEAD),  # Ghost in the MBConv stages and the head only
    "ghostexp_": GhostDesign(roles=("fused_expand", "mbconv_expand", "head")),  # expand convs + head
    "ghostwide_": GhostDesign(min_channels=512),  # only convolutions with >= 512 outputs
    "ghostnod_": GhostDesign(resnet_d=False),  # no ResNet-D shortcuts
    "ghostnoact_": GhostDesign(cheap_activation=False),  # 3x3 cheap branch without SiLU (the first ghostlite)
    "ghostmb1x1_": GhostDesign(roles=MBCONV_AND_HEAD, cheap_kernel=1, cheap_activation=False),
}


# Shared by B0-B3, which differ only by width/depth/resolution (paper, Table 4 note).
BASE_STAGES = _stages(
    ("fused", 1, 3, 1, 1, 16, 0.0),
    ("fused", 2, 3, 2, 4, 32, 0.0),
    ("fused", 2, 3, 2, 4, 48, 0.0),
    ("mbconv", 3, 3, 2, 4, 96, 0.25),
    ("mbconv", 5, 3, 1, 6, 112, 0.25),
    ("mbconv", 8, 3, 2, 6, 192, 0.25),
)
S_STAGES = _stages(
    ("fused", 2, 3, 1, 1, 24, 0.0),
    ("fused", 4, 3, 2, 4, 48, 0.0),
    ("fused", 4, 3, 2, 4, 64, 0.0),
    ("mbconv", 6, 3, 2, 4, 128, 0.25),
    ("mbconv", 9, 3, 1, 6, 160, 0.25),
    ("mbconv", 15, 3, 2, 6, 256, 0.25),
)
M_STAGES = _stages(
    ("fused", 3, 3, 1, 1, 24, 0.0),
    ("fused", 5, 3, 2, 4, 48, 0.0),
    ("fused", 5, 3, 2, 4, 80, 0.0),
    ("mbconv", 7, 3, 2, 4, 160, 0.25),
    ("mbconv", 14, 3, 1, 6, 176, 0.25),
    ("mbconv", 18, 3, 2, 6, 304, 0.25),
    ("mbconv", 5, 3, 1, 6, 512, 0.25),
)
L_STAGES = _stages(
    ("fused", 4, 3, 1, 1, 32, 0.0),
    ("fused", 7, 3, 2, 4, 64, 0.0),
    ("fused", 7, 3, 2, 4, 96, 0.0),
    ("mbconv", 10, 3, 2, 4, 192, 0.25),
    ("mbconv", 19, 3, 1, 6, 224, 0.25),
    ("mbconv", 25, 3, 2, 6, 384, 0.25),
    ("mbconv", 7, 3, 1, 6, 640, 0.25),
)
XL_STAGES = _stages(
    ("fused", 4, 3, 1, 1, 32, 0.0),
    ("fused", 8, 3, 2, 4, 64, 0.0),
    ("fused", 8, 3, 2, 4, 96, 0.0),
    ("mbconv", 16, 3, 2, 4, 192, 0.25),
    ("mbconv", 24, 3, 1, 6, 256, 0.25),
    ("mbconv", 32, 3, 2, 6, 512, 0.25),
    ("mbconv", 8, 3, 1, 6, 640, 0.25),
)

_BASE = dict(stages=BASE_STAGES, stem_channels=32, preprocessing="imagenet_mean_std")

# EfficientNet-Lite0 (tensorflow/tpu, models/official/efficientnet/lite): EfficientNet-B0's MBConv
# table without SE, ReLU6 everywhere (build it with activation=LITE0_ACTIVATION), stem 32 and head
# 1280. Not one of this project's variants: the yardstick whose published phone latency ties emulated
# instruction counts to time (studies/arm_yardstick.py).
LITE0 = Variant("lite0", _stages(
    ("mbconv", 1, 3, 1, 1, 16, 0.0),
    ("mbconv", 2, 3, 2, 6, 24, 0.0),
    ("mbconv", 2, 5, 2, 6, 40, 0.0),
    ("mbconv", 3, 3, 2, 6, 80, 0.0),
    ("mbconv", 3, 5, 1, 6, 112, 0.0),
    ("mbconv", 4, 5, 2, 6, 192, 0.0),
    ("mbconv", 1, 3, 1, 6, 320, 0.0),
), stem_channels=32, resolution=224)
LITE0_ACTIVATION = "relu6"

OFFICIAL: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("b0", resolution=224, **_BASE),
        Variant("b1", resolution=240, depth=1.1, **_BASE),
        Variant("b2", resolution=260, width=1.1, depth=1.2, dropout=0.3, **_BASE),
        Variant("b3", resolution=300, width=1.2, depth=1.4, dropout=0.3, **_BASE),
        Variant("s", S_STAGES, stem_channels=24, resolution=384),
        Variant("m", M_STAGES, stem_channels=24, resolution=480, dropout=0.3),
        Variant("l", L_STAGES, stem_channels=32, resolution=480, dropout=0.4),
        Variant("xl", XL_STAGES, stem_channels=32, resolution=512, dropout=0.4),
    )
}


def _with_blocks(stages: tuple[Stage, ...], block: BlockType) -> tuple[Stage, ...]:
    """Same stages, one block type. Fused rows with expand 1 become expand-1 MBConv."""
    return tuple(dataclasses.replace(s, block=block) for s in stages)


def _half_depth(stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
    """Repeats halved, rounded down (at least 1), as in the reproduction study: S 2,4,4,6,9,15 -> 1,2,2,3,4,7."""
    return tuple(dataclasses.replace(s, repeats=max(1, s.repeats // 2)) for s in stages)


def _without(stages: tuple[Stage, ...], *indices: int) -> tuple[Stage, ...]:
    return tuple(s for i, s in enumerate(stages) if i not in indices)


_S = OFFICIAL["s"]
# Ablations of the S backbone studied in the reproduction work, each a table, no code.
ABLATIONS: dict[str, Variant] = {
    v.name: v
    for v in (
        dataclasses.replace(_S, name="s_all_mbconv", stages=_with_blocks(S_STAGES, "mbconv")),
        dataclasses.replace(_S, name="s_all_fused", stages=_with_blocks(S_STAGES, "fused")),
        dataclasses.replace(_S, name="s_half_depth", stages=_half_depth(S_STAGES)),
        # The study's: the second fused stage and the stride-1 MBConv stage removed, the first
        # stage widened to 48 channels; output stride 16.
        dataclasses.replace(_S, name="s_two_stages_dropped", stages=(
            dataclasses.replace(S_STAGES[0], channels=48), S_STAGES[2], S_STAGES[3], S_STAGES[5])),
        # Ours, kept: the two stride-1 stages (1 and 5) dropped, so the output stride stays 32.
        dataclasses.replace(_S, name="s_stride1_stages_dropped", stages=_without(S_STAGES, 0, 4)),
    )
}
