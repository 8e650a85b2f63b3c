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
from dataclasses import KW_ONLY, dataclass
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
    # Channels per primary channel (GhostNet's s): the primary conv makes filters / ratio of them.
    # Above 2, only where it divides the channel count and `ratio_from` is reached; elsewhere 2.
    ratio: int = 2
    ratio_from: int = 0

    def makes_ghost(self, role: str, filters: int) -> bool:
        return role in self.roles and filters >= self.min_channels

    def ratio_for(self, filters: int) -> int:
        return self.ratio if filters >= self.ratio_from and filters % self.ratio == 0 else 2


@dataclass(frozen=True)
class Stage:
    """One row of a stage table: `repeats` blocks of one type; the first may stride. Every field
    after the block type is named where a row is written (`Stage("mbconv", repeats=3, kernel=3, ...)`):
    seven bare numbers in a row are too easy to misplace."""

    block: BlockType
    _: KW_ONLY
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
    # ghostlite with fewer dense multiply-adds, for ARM cores (docs/arm.md): 1/3 or 1/4 primaries
    "ghostr3_": GhostDesign(cheap_kernel=1, ratio=3),
    "ghostr4_": GhostDesign(cheap_kernel=1, ratio=4),
    "ghostr4w_": GhostDesign(cheap_kernel=1, ratio=4, ratio_from=256),  # ratio 4 in wide convs only
}


# Shared by B0-B3, which differ only by width/depth/resolution (paper, Table 4 note).
BASE_STAGES = (
    Stage("fused", repeats=1, kernel=3, stride=1, expand=1, channels=16),
    Stage("fused", repeats=2, kernel=3, stride=2, expand=4, channels=32),
    Stage("fused", repeats=2, kernel=3, stride=2, expand=4, channels=48),
    Stage("mbconv", repeats=3, kernel=3, stride=2, expand=4, channels=96, se_ratio=0.25),
    Stage("mbconv", repeats=5, kernel=3, stride=1, expand=6, channels=112, se_ratio=0.25),
    Stage("mbconv", repeats=8, kernel=3, stride=2, expand=6, channels=192, se_ratio=0.25),
)
S_STAGES = (
    Stage("fused", repeats=2, kernel=3, stride=1, expand=1, channels=24),
    Stage("fused", repeats=4, kernel=3, stride=2, expand=4, channels=48),
    Stage("fused", repeats=4, kernel=3, stride=2, expand=4, channels=64),
    Stage("mbconv", repeats=6, kernel=3, stride=2, expand=4, channels=128, se_ratio=0.25),
    Stage("mbconv", repeats=9, kernel=3, stride=1, expand=6, channels=160, se_ratio=0.25),
    Stage("mbconv", repeats=15, kernel=3, stride=2, expand=6, channels=256, se_ratio=0.25),
)
M_STAGES = (
    Stage("fused", repeats=3, kernel=3, stride=1, expand=1, channels=24),
    Stage("fused", repeats=5, kernel=3, stride=2, expand=4, channels=48),
    Stage("fused", repeats=5, kernel=3, stride=2, expand=4, channels=80),
    Stage("mbconv", repeats=7, kernel=3, stride=2, expand=4, channels=160, se_ratio=0.25),
    Stage("mbconv", repeats=14, kernel=3, stride=1, expand=6, channels=176, se_ratio=0.25),
    Stage("mbconv", repeats=18, kernel=3, stride=2, expand=6, channels=304, se_ratio=0.25),
    Stage("mbconv", repeats=5, kernel=3, stride=1, expand=6, channels=512, se_ratio=0.25),
)
L_STAGES = (
    Stage("fused", repeats=4, kernel=3, stride=1, expand=1, channels=32),
    Stage("fused", repeats=7, kernel=3, stride=2, expand=4, channels=64),
    Stage("fused", repeats=7, kernel=3, stride=2, expand=4, channels=96),
    Stage("mbconv", repeats=10, kernel=3, stride=2, expand=4, channels=192, se_ratio=0.25),
    Stage("mbconv", repeats=19, kernel=3, stride=1, expand=6, channels=224, se_ratio=0.25),
    Stage("mbconv", repeats=25, kernel=3, stride=2, expand=6, channels=384, se_ratio=0.25),
    Stage("mbconv", repeats=7, kernel=3, stride=1, expand=6, channels=640, se_ratio=0.25),
)
XL_STAGES = (
    Stage("fused", repeats=4, kernel=3, stride=1, expand=1, channels=32),
    Stage("fused", repeats=8, kernel=3, stride=2, expand=4, channels=64),
    Stage("fused", repeats=8, kernel=3, stride=2, expand=4, channels=96),
    Stage("mbconv", repeats=16, kernel=3, stride=2, expand=4, channels=192, se_ratio=0.25),
    Stage("mbconv", repeats=24, kernel=3, stride=1, expand=6, channels=256, se_ratio=0.25),
    Stage("mbconv", repeats=32, kernel=3, stride=2, expand=6, channels=512, se_ratio=0.25),
    Stage("mbconv", repeats=8, kernel=3, stride=1, expand=6, channels=640, se_ratio=0.25),
)

_BASE = dict(stages=BASE_STAGES, stem_channels=32, preprocessing="imagenet_mean_std")

# EfficientNet-Lite0 (tensorflow/tpu, models/official/efficientnet/lite): EfficientNet-B0's MBConv
# table without SE, ReLU6 everywhere (build it with activation=LITE0_ACTIVATION), stem 32 and head
# 1280. Not one of this project's variants: the yardstick whose published phone latency ties emulated
# instruction counts to time (studies/arm_yardstick.py).
LITE0 = Variant("lite0", (
    Stage("mbconv", repeats=1, kernel=3, stride=1, expand=1, channels=16),
    Stage("mbconv", repeats=2, kernel=3, stride=2, expand=6, channels=24),
    Stage("mbconv", repeats=2, kernel=5, stride=2, expand=6, channels=40),
    Stage("mbconv", repeats=3, kernel=3, stride=2, expand=6, channels=80),
    Stage("mbconv", repeats=3, kernel=5, stride=1, expand=6, channels=112),
    Stage("mbconv", repeats=4, kernel=5, stride=2, expand=6, channels=192),
    Stage("mbconv", repeats=1, kernel=3, stride=1, expand=6, channels=320),
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
