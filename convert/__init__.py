"""Keras -> TFLite at any precision, validated against Keras and packaged for Android.

`python -m convert --help`; the library entry point is `convert.pipeline.run(Job(...))`.
Nothing heavy is imported here, so the command line rejects bad arguments at once."""
from core.environments import use_tf_keras

use_tf_keras()  # before TensorFlow is imported
