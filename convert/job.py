"""What one conversion is asked to do (`make tflite`'s settings). Imports no TensorFlow, so the
command line answers a usage error at once."""
from __future__ import annotations

from dataclasses import dataclass, field

from quantize.parallel import default_workers

IO_TYPE_NAMES = ("uint8", "int8")  # the integer I/O of full-integer files
PERCENTILE_PRECISIONS = ("int8", "int8_per_tensor")  # the calibrated precisions that take a range percentile
# Each int8 feature map's range from the 90th percentile of its per-image extremes, not min/max over
# all images: on trained models min/max lost up to 84 points on some calibration samples, P=90 at
# most 0.56 (docs/quantization.md). 100 gives the converter's min/max.
DEFAULT_CALIBRATION_PERCENTILE = 90.0


@dataclass
class Job:
    variant: str | None = None  # default: the one WEIGHTS was trained as, else ghost_s (convert.trained)
    precision: str = "int8"
    size: int | None = None  # default: WEIGHTS's input size, else the variant's resolution
    classes: int | None = None  # default: WEIGHTS's head, else LABELS's or DATA's classes, else 1000
    weights: str | None = None
    data: str | None = None
    out: str = "artifacts"
    calibration: int = 100
    validation: int = 16
    io_type: str = "uint8"  # int8 precision only
    labels: str | None = None  # labels.txt path; default: beside WEIGHTS, else class folders of DATA
    gpu_check: bool = True
    legacy_check: bool = True  # run it on tflite-runtime 2.14 where .venv-legacy exists
    arm_core: str | None = None  # run it on this emulated ARM core where make arm-env was run (runtime.arm)
    seed: int = 0
    calibration_workers: int = field(default_factory=default_workers)  # int8 only
    calibration_percentile: float | None = None  # int8 ranges: this percentile of per-image ranges (100: min/max;
    # None: DEFAULT_CALIBRATION_PERCENTILE for PERCENTILE_PRECISIONS)
    calibration_seed: int = 0  # which images calibrate (and validate): the shuffle of DATA or of the photo crops
    max_top1_drop: float = 1.0  # points of held-out top-1 the file may lose against Keras (labelled DATA)
    accuracy_images: int = 1000  # held-out labelled images scored for that (seeded sample)
    force: bool = False  # write the file even where validation refuses it (the manifest says why)

    def __post_init__(self):
        if self.calibration_percentile is None and self.precision in PERCENTILE_PRECISIONS:
            self.calibration_percentile = DEFAULT_CALIBRATION_PERCENTILE
