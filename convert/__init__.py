"""Keras -> TFLite at any precision, validated against Keras and packaged for Android."""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from .recipes import PRECISIONS, convert  # noqa: E402

__all__ = ["PRECISIONS", "convert"]
