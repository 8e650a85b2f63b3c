"""python -m train --data FOLDER [options]: the job behind `make train`."""
from __future__ import annotations

import argparse
import sys

from core.cli import run_command

from .progressive import PRESETS
from .recipes import RECIPES
from .run import Settings, train

EPILOG = """examples:
  python -m train --data data/demo --variant ghost_b0 --size 64
  python -m train --data ~/flowers --variant b0 --weights imagenet --freeze-epochs 2 --epochs 15
  python -m train --data ~/birds --variant s --recipe paper --progression s --stages 4 --size 300

DATA: one sub-folder of images per class; with train/ and val/ (or test/) sub-trees those are
used, otherwise a seeded, stratified 10% of each class is held out. Writes OUT (default
runs/VARIANT): model.keras (best held-out top-1, usable as `make tflite WEIGHTS=`), labels.txt,
history.csv, curves.png, train.json, tensorboard/, checkpoints/. Rerunning the same command
resumes from the last completed epoch.

Progressive learning (EfficientNetV2 paper, Algorithm 1): image size, RandAugment magnitude,
mixup alpha and dropout grow linearly over --stages. Presets s, m, l are the paper's ImageNet
ranges with sizes scaled so the last stage trains at --size (s: 128->300 becomes
0.43*SIZE->SIZE); `small` (the default recipe's) goes from 0.75*SIZE with mild
regularisation. --progression fixed trains every epoch at the last stage's settings.
Several GPUs: MirroredStrategy; several machines: MultiWorkerMirroredStrategy from TF_CONFIG
(set it on every worker, e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]},
"task": {"type": "worker", "index": 0}}); mixed precision on GPUs."""


def _range(text: str) -> tuple[float, float]:
    try:
        first, _, last = text.partition(":")
        return float(first), float(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FIRST:LAST (e.g. 5:15), got {text!r}") from None


def _size_range(text: str) -> tuple[int, int]:
    first, last = _range(text)
    return int(first), int(last)


def parse(argv: list[str] | None) -> Settings:
    p = argparse.ArgumentParser(prog="python -m train", description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    d = Settings()
    p.add_argument("--data", required=True, help="image folder, one sub-folder per class")
    p.add_argument("--variant", default=d.variant, help="e.g. b0, s, ghost_b0 (python -m models list)")
    p.add_argument("--out", default="", help="run folder (default: runs/VARIANT)")
    p.add_argument("--size", type=int, help="final training image size (default: the variant's resolution)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch", type=int, default=d.batch, help="total batch over all devices")
    p.add_argument("--weights", help="imagenet (online) or a .keras of this variant to fine-tune; default: scratch")
    p.add_argument("--freeze-epochs", type=int, default=0, help="head-only epochs before the whole network trains")
    p.add_argument("--recipe", default=d.recipe, help=f"{' | '.join(RECIPES)} (default {d.recipe})")
    p.add_argument("--progression", default=d.progression,
                   help=f"auto (the recipe's: small for --recipe small; the variant's s/m/l for paper) | "
                        f"fixed | {' | '.join(PRESETS)}")
    p.add_argument("--stages", type=int, help="progressive stages (default 4, at most EPOCHS)")
    p.add_argument("--size-range", type=_size_range, help="FIRST:LAST image size, overrides the preset's")
    p.add_argument("--randaug", type=_range, help="FIRST:LAST RandAugment magnitude (10 = standard)")
    p.add_argument("--mixup", type=_range, help="FIRST:LAST mixup alpha (0 = off)")
    p.add_argument("--dropout", type=_range, help="FIRST:LAST dropout before the classifier")
    p.add_argument("--drop-path", type=float, help="stochastic depth rate at the last block (recipe's by default)")
    p.add_argument("--lr", type=float, help="peak learning rate for this batch (default: the recipe's, scaled)")
    p.add_argument("--ema", type=float, default=-1.0, help="weight-average decay, 0 = off (default: the recipe's)")
    p.add_argument("--classes", type=int, help="expected number of classes (checked against DATA)")
    p.add_argument("--val-fraction", type=float, default=d.val_fraction, help="held out per class without val/ (default 0.1, at least 25 images of a class where that leaves it 75%%)")
    p.add_argument("--crop-area", type=float, default=d.crop_area,
                   help="smallest random crop as a fraction of the image area (default 0.8; ImageNet recipes use 0.08)")
    p.add_argument("--flip", default=d.flip, choices=("auto", "on", "off"),
                   help="random horizontal flips; auto (default): off where a mirror test on the folder finds "
                        "that mirroring changes the class (digits, text, left/right classes)")
    p.add_argument("--label-smoothing", type=float, help="0 = off (default: the recipe's, 0.1)")
    p.add_argument("--strength", type=float,
                   help="augmentation strength 0-1 scaling RandAugment and mixup (default: from the images per "
                        "class, 0 at 50 or fewer, 1 at 1,000 or more)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--mixed-precision", default=d.mixed_precision, help="auto (on with a GPU) | on | off")
    p.add_argument("--activation", default=d.activation,
                   help="silu (default) | relu6 | hard_swish: the edge switch; make tflite/qat take it from the .keras")
    p.add_argument("--no-se", action="store_true", help="build without squeeze-excite (the other edge switch)")
    a = p.parse_args(argv)
    return Settings(variant=a.variant, data=a.data, out=a.out, size=a.size, epochs=a.epochs, batch=a.batch,
                    weights=a.weights, recipe=a.recipe, progression=a.progression,
                    stages=a.stages if a.stages is not None else max(1, min(d.stages, a.epochs)),
                    size_range=a.size_range, randaug=a.randaug, mixup=a.mixup, dropout=a.dropout,
                    drop_path=a.drop_path, learning_rate=a.lr, ema=a.ema, freeze_epochs=a.freeze_epochs,
                    classes=a.classes, val_fraction=a.val_fraction, crop_area=a.crop_area, flip=a.flip,
                    label_smoothing=a.label_smoothing, strength=a.strength, seed=a.seed,
                    mixed_precision=a.mixed_precision, activation=a.activation, se=not a.no_se)


def main(argv: list[str] | None = None) -> int:
    settings = parse(argv)
    return run_command(lambda: result_line(train(settings)))


def result_line(summary: dict) -> str:
    best = summary["best"] or {}
    test = summary.get("test")
    return (f"{summary['out']}/model.keras: best val top-1 {best.get('val_top1', float('nan')):.4f} at epoch "
            f"{best.get('epoch')} of {summary['completed_epochs']}"
            + (f" | test top-1 {test['top1']:.4f} on {test['images']} images" if test else "")
            + f" | {summary['train_seconds']:.0f} s training")


if __name__ == "__main__":
    sys.exit(main())
