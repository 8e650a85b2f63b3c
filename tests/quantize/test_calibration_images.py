"""Calibration images from a user's folder: undecodable files skipped and counted, the count asked for."""
import pytest
from PIL import Image

from quantize.calibration import folder_images


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
