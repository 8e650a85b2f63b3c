"""Calibration data for post-training quantization (and, later, quantization-aware training)."""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from .calibration import IMAGE_EXTENSIONS, ImageSet, builtin_images, folder_images, representative_dataset  # noqa: E402
from .parallel import default_workers, parallel_calibration  # noqa: E402

__all__ = ["IMAGE_EXTENSIONS", "ImageSet", "builtin_images", "default_workers", "folder_images",
           "parallel_calibration", "representative_dataset"]
