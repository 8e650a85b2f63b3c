"""Calibration images from a user's folder: every format decodes to the pixels an app would feed."""
import numpy as np
import pytest
from PIL import Image

from quantize.calibration import fit_to_square, folder_images


def test_16_bit_grayscale_keeps_its_tones_instead_of_turning_white(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (64, 1))
    Image.fromarray(ramp).save(tmp_path / "ramp16.png")
    with Image.open(tmp_path / "ramp16.png") as image:
        assert image.mode.startswith("I")  # what Pillow makes of a 16-bit PNG
        pixels = fit_to_square(image, 32)
    assert pixels.shape == (32, 32, 3) and pixels.min() < 10 and pixels.max() > 245
    assert 110 < pixels.mean() < 145


def test_a_large_image_is_shrunk_while_decoding_to_the_same_picture(tmp_path):
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    Image.fromarray(small).resize((4000, 3000), Image.NEAREST).save(tmp_path / "big.png")
    Image.fromarray(small).resize((4000, 3000), Image.NEAREST).save(tmp_path / "big.jpg", quality=95)
    direct = np.asarray(Image.fromarray(small).resize((85, 64), Image.BILINEAR).crop((10, 0, 74, 64)), np.float32)
    for name in ("big.png", "big.jpg"):
        with Image.open(tmp_path / name) as image:
            pixels = fit_to_square(image, 64)
        assert pixels.shape == (64, 64, 3)
        assert np.abs(pixels.astype(np.float32) - direct).mean() < 25, name


def test_images_over_the_decompression_limit_are_skipped_and_counted(tmp_path, monkeypatch):
    for index in range(4):
        Image.new("RGB", (40, 40), (index * 40, 0, 0)).save(tmp_path / f"{index}.png")
    Image.new("RGB", (400, 400)).save(tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40 * 40 * 2)  # bomb.png is over twice the limit
    images = folder_images(tmp_path, 32, calibration=10, validation=1)  # asks for more than there are
    assert images.skipped == ["bomb.png"] and len(images.calibration) + len(images.validation) == 4


@pytest.mark.parametrize("calibration, held_out", [(16, 6), (3, 3)])  # 1/5 of the images decoded, at most 16
def test_calibration_uses_the_count_asked_for(tmp_path, calibration, held_out):
    for index in range(30):
        Image.new("RGB", (40, 40), (index * 8, 0, 0)).save(tmp_path / f"{index}.png")
    images = folder_images(tmp_path, 32, calibration=calibration, validation=16)
    assert len(images.calibration) == calibration and len(images.validation) == held_out
