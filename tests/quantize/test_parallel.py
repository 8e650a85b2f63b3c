"""Calibration spread over processes gives the file the converter's serial calibration gives."""
import numpy as np
import pytest
import tensorflow as tf

import models
from convert.recipes import convert
from quantize import builtin_images
from quantize.parallel import merge_calibrations

SIZE = 64


@pytest.fixture(scope="module")
def tiny_model_and_images(tiny_variant):
    tf.keras.utils.set_random_seed(0)
    model = models.build("ghost_tiny", input_size=SIZE, num_classes=5, classifier_activation=None)
    return model, builtin_images(SIZE, calibration=26, validation=1).calibration  # 27 with the anchor


def test_parallel_calibration_gives_a_byte_identical_int8_file(tiny_model_and_images):
    model, images = tiny_model_and_images
    serial = convert(model, "int8", images, calibration_workers=1)
    assert convert(model, "int8", images, calibration_workers=2) == serial
    assert convert(model, "int8", images, calibration_workers=3) == serial  # uneven shards (9, 9, 9... of 27)


def test_merged_ranges_span_every_shard(tiny_model_and_images):
    """Calibrating on more images widens the ranges: a merge that kept one shard would not."""
    from tensorflow.lite.python.optimize import calibrator

    from quantize.parallel import _tensor_ranges

    model, images = tiny_model_and_images
    float_model = calibrator.add_intermediate_tensors(convert(model, "fp32"))
    shards = [calibrator.Calibrator(float_model).calibrate(
        lambda part=part: ([image[None].astype(np.float32)] for image in part)) for part in (images[:3], images[3:])]
    merged = _tensor_ranges(merge_calibrations(shards))
    first, second = _tensor_ranges(shards[0]), _tensor_ranges(shards[1])
    assert merged.keys() == first.keys() == second.keys()
    for key, (low, high) in merged.items():
        assert low == min(first[key][0], second[key][0]) and high == max(first[key][1], second[key][1])
    assert any(merged[key] != first[key] for key in merged)


def test_a_script_without_a_main_guard_is_not_rerun_by_the_workers(tmp_path, tiny_variant):
    """Workers are plain subprocesses: multiprocessing's spawn would re-run this script in
    each worker (and crash there, or repeat its side effects)."""
    import subprocess
    import sys
    from pathlib import Path

    marker = tmp_path / "runs.txt"
    script = tmp_path / "unguarded.py"
    script.write_text(f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from tests.small_models import register_tiny
register_tiny()
open({str(marker)!r}, "a").write("run\\n")
import tensorflow as tf, models
from convert.recipes import convert
from quantize import builtin_images
model = models.build("ghost_tiny", input_size=64, num_classes=5, classifier_activation=None)
convert(model, "int8", builtin_images(64, calibration=20, validation=1).calibration, calibration_workers=2)
""")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "calibrating on 2 cores" in done.stderr
    assert marker.read_text() == "run\n"


def test_percentile_100_is_min_max_calibration_and_the_same_on_any_number_of_workers(tiny_model_and_images):
    model, images = tiny_model_and_images
    serial = convert(model, "int8", images, calibration_workers=1)
    assert convert(model, "int8", images, calibration_workers=1, calibration_percentile=100) == serial
    assert convert(model, "int8", images, calibration_workers=2, calibration_percentile=100) == serial
    narrow = convert(model, "int8", images, calibration_workers=1, calibration_percentile=90)
    assert convert(model, "int8", images, calibration_workers=2, calibration_percentile=90) == narrow


def test_percentile_ranges_clip_feature_maps_and_keep_min_max_for_the_input_and_pooled_tensors():
    from quantize.parallel import percentile_calibration, per_image_ranges, _tensor_ranges
    from tensorflow.lite.python.optimize import calibrator
    from tensorflow.lite.tools import flatbuffer_utils

    model = tf.keras.Sequential([tf.keras.Input((8, 8, 3), batch_size=1), tf.keras.layers.Conv2D(4, 3),
                                 tf.keras.layers.GlobalAveragePooling2D(), tf.keras.layers.Dense(3)])
    float_model = calibrator.add_intermediate_tensors(convert(model, "fp32"))
    images = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    images[0] = 255  # one outlier image

    keys, ranges = per_image_ranges(float_model, images)
    template = calibrator.Calibrator(float_model).calibrate(lambda: ([i[None].astype(np.float32)] for i in images))
    full, clipped = _tensor_ranges(template), _tensor_ranges(percentile_calibration(template, keys, ranges, 90))
    shapes = {(0, t): tuple(tensor.shape) for t, tensor in enumerate(
        flatbuffer_utils.convert_bytearray_to_object(bytearray(template)).subgraphs[0].tensors)}
    input_key = (0, 0)
    assert clipped[input_key] == full[input_key] == (0.0, 255.0)
    maps = [key for key in full if key != input_key and len(shapes[key]) == 4 and np.prod(shapes[key][1:3]) > 1]
    vectors = [key for key in full if key != input_key and len(shapes[key]) == 2]
    assert maps and vectors  # the convolution's output; the pooled features and the logits
    assert all(clipped[k][0] >= full[k][0] and clipped[k][1] <= full[k][1] for k in maps)
    assert any(clipped[k] != full[k] for k in maps)
    assert all(clipped[k] == full[k] for k in vectors)
