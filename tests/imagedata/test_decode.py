"""Image files to the model's input: every format decodes to the pixels an app would feed."""
import numpy as np
from PIL import Image

from imagedata.decode import fit_to_square


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
