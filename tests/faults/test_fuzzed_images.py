"""Undecodable files among the images of a data folder (make evaluate's DATA, make tflite's DATA):
skipped and counted, the rest scored or calibrated on as usual; a class folder with no usable
image at all is refused naming it."""
import io
import shutil
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from convert.__main__ import main as convert_main
from tests.faults.conftest import SIZE, TFLITE, VARIANT, json_text
from tests.faults.corrupt import cases, rng_for
from tests.faults.outcome import CLEAR, OK, acceptance, in_process, refusal, writes_nothing, writes_under
from train.evaluate import main as evaluate_main

GROUP = "undecodable images in a data folder"
DAMAGE = {"truncated-png": 2, "truncated-jpeg": 2, "zero-bytes": 1, "text-named-jpg": 1, "random-bytes-png": 1,
          "huge-dimensions": 2}
VALID = {"png-named-jpg": 1}


def _picture(rng, image_format: str) -> bytes:
    pixels = np.frombuffer(rng.randbytes(40 * 40 * 3), np.uint8).reshape(40, 40, 3)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, image_format)
    return out.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height RGB pixels (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def image_file(kind: str, seed: int) -> tuple[str, bytes]:
    """(file name, bytes) of an image file of `kind`."""
    rng = rng_for(kind, seed)
    if kind in ("truncated-png", "truncated-jpeg"):
        data = _picture(rng, "PNG" if kind.endswith("png") else "JPEG")
        return f"cut {seed}.{kind.split('-')[1].replace('jpeg', 'jpg')}", data[:rng.randrange(1, len(data))]
    if kind == "zero-bytes":
        return "empty.jpg", b""
    if kind == "text-named-jpg":
        return "notes.jpg", " ".join(rng.choice(["not", "an", "image", "at", "all"]) for _ in range(50)).encode()
    if kind == "random-bytes-png":
        return "noise.png", rng.randbytes(rng.randint(1, 5000))
    if kind == "huge-dimensions":
        return "bomb.png", _png_claiming(rng.randint(50_000, 500_000), rng.randint(50_000, 500_000))
    if kind == "png-named-jpg":
        return "really a png.jpg", _picture(rng, "PNG")
    raise ValueError(f"no image damage called {kind!r}")


def _evaluate(case, good_artifacts, data, may_write=writes_under("evaluation")):
    argv = ["--model", str(good_artifacts / VARIANT / TFLITE), "--data", str(data), "--split", "all",
            "--out", str(case.root / "evaluation")]
    return case.run(lambda: in_process(evaluate_main, argv), may_write)


def _convert(case, data, may_write=writes_under("artifacts")):
    argv = [VARIANT, "--size", str(SIZE), "--precision", "fp32", "--calib", "4", "--validate", "8",
            "--no-gpu-check", "--no-legacy-check", "--data", str(data), "--out", str(case.root / "artifacts")]
    return case.run(lambda: in_process(convert_main, argv), may_write)


def _two_class_folder(case, pictures: int = 2):
    data = case.root / "few images"
    for name in ("a", "b"):
        (data / name).mkdir(parents=True)
        for index in range(pictures):
            (data / name / f"{index}.png").write_bytes(_picture(rng_for(name, index), "PNG"))
    return data


EVALUATE = "python -m train.evaluate --model FILE --data DATA --split all --out OUT"
CONVERT = f"python -m convert {VARIANT} --size {SIZE} --precision fp32 --validate 8 --data DATA --out OUT"


@pytest.mark.fault(GROUP, EVALUATE)
@pytest.mark.parametrize(("kind", "seed"), cases({**DAMAGE, **VALID}))
def test_evaluate_skips_and_counts_an_undecodable_image(kind, seed, case, good_artifacts, small_demo, verdict):
    data = case.copy(small_demo, "data")
    name, content = image_file(kind, seed)
    (data / "val" / "checker" / name).write_bytes(content)
    finished, harmed = _evaluate(case, good_artifacts, data)
    good = kind in VALID

    def miscounted() -> str:
        result = json_text(case.root / "evaluation" / "evaluation.json")
        wanted = (128 + good, 1 - good)
        found = (result["images"], result["skipped_files"])
        return "" if found == wanted else f"(images, skipped) {found}, not {wanted}"
    verdict(acceptance(finished, harmed, miscounted), OK)


@pytest.mark.fault(GROUP, CONVERT)
@pytest.mark.parametrize(("kind", "seed"), cases({**DAMAGE, **VALID}))
def test_convert_skips_an_undecodable_image_and_names_it(kind, seed, case, tiny_variant, verdict):
    data = _two_class_folder(case)
    name, content = image_file(kind, seed)
    (data / "a" / name).write_bytes(content)
    finished, harmed = _convert(case, data)

    def unreported() -> str:
        warnings = [line for line in (finished.stdout + finished.stderr).splitlines() if "could not be decoded" in line]
        if kind in VALID:
            return "" if not warnings else "a valid image was skipped"
        return "" if any(name in line for line in warnings) else f"no warning naming {name!r}"
    verdict(acceptance(finished, harmed, unreported), OK)


def _all_undecodable(data, seed: int) -> None:
    folder = data / "a"
    shutil.rmtree(folder)
    folder.mkdir()
    for kind in DAMAGE:
        name, content = image_file(kind, seed)
        (folder / name).write_bytes(content)


@pytest.mark.fault(GROUP, EVALUATE)
@pytest.mark.parametrize("seed", [pytest.param(0, id="all-undecodable-seed0")])
def test_evaluate_refuses_a_class_folder_without_a_usable_image(seed, case, good_artifacts, verdict):
    data = _two_class_folder(case)
    _all_undecodable(data, seed)
    finished, harmed = _evaluate(case, good_artifacts, data, writes_nothing)
    verdict(refusal(finished, ["'a'"], harmed), CLEAR)


@pytest.mark.fault(GROUP, CONVERT)
@pytest.mark.parametrize("seed", [pytest.param(0, id="all-undecodable-seed0")])
def test_convert_refuses_a_data_folder_without_a_usable_image(seed, case, tiny_variant, verdict):
    data = _two_class_folder(case, pictures=0)
    _all_undecodable(data, seed)
    shutil.rmtree(data / "b")
    finished, harmed = _convert(case, data, writes_nothing)
    verdict(refusal(finished, [data.name], harmed), CLEAR)
