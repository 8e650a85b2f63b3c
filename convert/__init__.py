"""Keras -> TFLite at any precision, validated against Keras and packaged for Android.

`python -m convert --help`; the library entry point is `convert.pipeline.run(Job(...))`.
Nothing heavy is imported here, so the command line rejects bad arguments at once."""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
