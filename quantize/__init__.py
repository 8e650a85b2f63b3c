"""The quantization library under convert and train: calibration images and the representative
dataset, calibration spread over processes with percentile ranges, and the QuantizeConfigs of
quantization-aware training (quantize.qat). It never imports convert: the workflows built on
both (make qat, quant-report, calib-study) are in studies/."""
from core.environments import use_tf_keras

use_tf_keras()  # before TensorFlow is imported

from .calibration import ImageSet, builtin_images, folder_images, representative_dataset  # noqa: E402
from .parallel import default_workers, parallel_calibration  # noqa: E402

__all__ = ["ImageSet", "builtin_images", "default_workers", "folder_images",
           "parallel_calibration", "representative_dataset"]
