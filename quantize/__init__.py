"""Calibration data for post-training quantization (and, later, quantization-aware training)."""
from core.environments import use_tf_keras

use_tf_keras()  # before TensorFlow is imported

from .calibration import ImageSet, builtin_images, folder_images, representative_dataset  # noqa: E402
from .parallel import default_workers, parallel_calibration  # noqa: E402

__all__ = ["ImageSet", "builtin_images", "default_workers", "folder_images",
           "parallel_calibration", "representative_dataset"]
