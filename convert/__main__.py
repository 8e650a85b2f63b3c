"""python -m convert VARIANT [options]: the job behind `make tflite`."""
from __future__ import annotations

import argparse
import sys

from core.artifacts import PRECISIONS
from core.cli import run_command
from runtime.arm.cores import core as arm_core

from .job import DEFAULT_CALIBRATION_PERCENTILE, IO_TYPE_NAMES, Job

EPILOG = """examples:
  python -m convert ghost_s                       int8, built-in calibration photos, uint8 I/O
  python -m convert s --precision fp16 --size 224
  python -m convert --weights runs/b0/model.keras --data ~/photos    variant, size, classes, labels from the run

Writes OUT/VARIANT/VARIANT_PRECISION.tflite, manifest.json, a .report.md and labels.txt
(when labels are known). Inputs are [1, SIZE, SIZE, 3] RGB pixels in [0, 255]; the
model's preprocessing is inside the graph."""


def _arm_core(name: str) -> str:
    try:
        return arm_core(name).name
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse(argv: list[str] | None) -> Job:
    p = argparse.ArgumentParser(prog="python -m convert", description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Job()
    p.add_argument("variant", nargs="?", help="e.g. b0, s, ghost_s (python -m models list); default: the one "
                                              "WEIGHTS was trained as, else ghost_s")
    p.add_argument("--precision", default=defaults.precision, help=f"one of {', '.join(PRECISIONS)} (default int8)")
    p.add_argument("--size", type=int, help="input resolution (default: WEIGHTS's, else the variant's own)")
    p.add_argument("--classes", type=int, help="default: WEIGHTS's head, else LABELS's or DATA's classes, else 1000")
    p.add_argument("--weights", help="a .keras/.h5 file of this variant, or 'imagenet' (online); default: "
                                     "untrained, with batch-norm statistics re-estimated on the photos")
    p.add_argument("--data", help="image folder for calibration and validation (default: built-in photos)")
    p.add_argument("--out", default=defaults.out, help="artifacts folder (default: artifacts)")
    p.add_argument("--calib", type=int, default=defaults.calibration, help="calibration samples (int8/int16x8)")
    p.add_argument("--calib-workers", type=int, default=defaults.calibration_workers,
                   help="processes that calibrate int8 in parallel, same file as 1 (default: the CPU "
                        "cores, at most 8; 1 = the converter's own serial calibration)")
    p.add_argument("--calib-percentile", type=float,
                   help="int8 range estimator: each tensor's range from this percentile of its per-image ranges "
                        f"(default {DEFAULT_CALIBRATION_PERCENTILE:g}; 100 = min/max over all images)")
    p.add_argument("--calib-seed", type=int, default=defaults.calibration_seed,
                   help="which images calibrate: the seed of the shuffle they are drawn from (default 0)")
    p.add_argument("--validate", type=int, default=defaults.validation, help="held-out validation images")
    p.add_argument("--io", default=defaults.io_type, help=f"int8 input/output type: {' or '.join(IO_TYPE_NAMES)}")
    p.add_argument("--labels", help="labels.txt, one class per line (default: the one beside WEIGHTS, else DATA's "
                                    "class folders)")
    p.add_argument("--no-gpu-check", action="store_true", help="skip the LiteRT GPU accelerator check")
    p.add_argument("--no-legacy-check", action="store_true",
                   help="skip running the file on tflite-runtime 2.14 (done where .venv-legacy exists)")
    p.add_argument("--arm-check", metavar="CORE", type=_arm_core,
                   help="also run the file on this emulated ARM core (make arm-env; make tflite passes a76): "
                        "the manifest records whether its outputs equal x86's and its instructions per inference")
    p.add_argument("--max-top1-drop", type=float, default=defaults.max_top1_drop,
                   help="with WEIGHTS and labelled DATA: reject a file whose held-out top-1 is more than this "
                        "many points below Keras's (default 1)")
    p.add_argument("--force", action="store_true",
                   help="write the file even if validation refuses it; the manifest records the refusal")
    a = p.parse_args(argv)
    return Job(a.variant, a.precision, a.size, a.classes, a.weights, a.data, a.out, a.calib, a.validate,
               a.io, a.labels, not a.no_gpu_check, calibration_workers=a.calib_workers,
               max_top1_drop=a.max_top1_drop, legacy_check=not a.no_legacy_check, arm_core=a.arm_check,
               calibration_percentile=a.calib_percentile, calibration_seed=a.calib_seed, force=a.force)


def main(argv: list[str] | None = None) -> int:
    job = parse(argv)
    from .pipeline import REJECTED, run  # TensorFlow: only once the arguments parse
    from .report import summary_line

    return run_command(lambda: summary_line(run(job)), REJECTED)


if __name__ == "__main__":
    sys.exit(main())
