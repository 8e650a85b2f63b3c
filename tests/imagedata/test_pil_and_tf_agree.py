"""The two resize-and-crop paths see the same picture: PIL's (imagedata.decode.fit_to_square, what
calibration images go through) and TensorFlow's (imagedata.tensors, what training, validation and
make evaluate see).

Measured on scikit-image's photographs (differences in uint8 levels, PIL minus TF):
- PNG, no shrinking while decoding (shorter side under 4x the size): at most 1 level anywhere;
  both are antialiased bilinear resizes with half-pixel centres, apart only in rounding.
- PNG, shorter side at least 4x the size: PIL first shrinks by a whole factor (`Image.reduce`, a
  box filter, to bound memory), then resizes. Sharp edges then differ by up to 46 levels in single
  pixels, but the mean absolute difference stays under 2.5 and per-channel means within 0.5.
- JPEG: both decode with libjpeg's accurate integer DCT (imagedata.tensors asks for it; TensorFlow's
  default fast DCT made red and blue about 1.2 levels darker), so the decoded pixels are identical
  and the resized ones as close as a PNG's.
  These tests fail if any of the gaps grows.
"""
import numpy as np
import pytest
import skimage.data
import tensorflow as tf
from PIL import Image

from imagedata.decode import fit_to_square
from imagedata.tensors import decode, resize_and_centre_crop

PHOTOS = ("chelsea", "coffee")  # 300x451 and 400x600 colour photographs, shipped by scikit-image


def _both(path, size):
    with Image.open(path) as image:
        pil = fit_to_square(image, size).astype(np.float64)
    tf_pixels = resize_and_centre_crop(decode(str(path)), size).numpy().astype(np.float64)
    assert pil.shape == tf_pixels.shape == (size, size, 3)
    return pil, tf_pixels


def _photo(tmp_path, name, suffix, scale=1):
    image = Image.fromarray(getattr(skimage.data, name)())
    if scale != 1:  # a camera-sized file: the path where PIL shrinks while decoding
        image = image.resize((image.width * scale, image.height * scale), Image.BICUBIC)
    path = tmp_path / f"{name}{scale}{suffix}"
    image.save(path, **({"quality": 95} if suffix == ".jpg" else {}))
    return path


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("size", [224, 512])  # shrinking (224) and enlarging (512) the shorter side
def test_same_png_pixels_give_the_same_crop_to_one_level(tmp_path, name, size):
    pil, tf_pixels = _both(_photo(tmp_path, name, ".png"), size)
    assert np.abs(pil - tf_pixels).max() <= 1


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("size", [64, 224])
def test_a_large_png_shrunk_by_pil_first_shows_the_same_picture(tmp_path, name, size):
    path = _photo(tmp_path, name, ".png", scale=4)
    pil, tf_pixels = _both(path, size)
    with Image.open(path) as image:
        assert min(image.size) // (2 * size) >= 2  # fit_to_square takes its Image.reduce path here
    assert np.abs(pil - tf_pixels).mean() < 3
    assert np.abs(pil.mean((0, 1)) - tf_pixels.mean((0, 1))).max() < 0.6
    for q in (1, 99):  # the tails calibration ranges come from
        assert np.abs(np.percentile(pil, q, axis=(0, 1)) - np.percentile(tf_pixels, q, axis=(0, 1))).max() <= 4


@pytest.mark.parametrize("name", PHOTOS)
def test_a_jpeg_decodes_to_pils_pixels_exactly(tmp_path, name):
    path = _photo(tmp_path, name, ".jpg")
    with Image.open(path) as image:
        pil_full = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(decode(str(path)).numpy(), pil_full)
    fast = tf.io.decode_image(tf.io.read_file(str(path)), channels=3).numpy()
    assert not np.array_equal(fast, pil_full)  # TensorFlow's default would not be
    pil, tf_pixels = _both(path, 224)
    assert np.abs(pil - tf_pixels).max() <= 1  # as a PNG's
    pil, tf_pixels = _both(path, 64)  # PIL shrinks while decoding here (as the large PNGs above)
    assert np.abs(pil - tf_pixels).mean() < 3 and np.abs(pil.mean((0, 1)) - tf_pixels.mean((0, 1))).max() < 0.6
