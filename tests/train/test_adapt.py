"""make train adapts to the folder: flips off where mirroring changes the class, augmentation
strength from the images per class, a test/ split scored once at the end."""
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from train.adapt import augmentation_strength, flips_wanted, mirror_test
from imagedata.folders import scan
from train.__main__ import main

from tests.small_models import TRAIN_FAST


def _arrow(pointing: str, rng: np.random.Generator, size: int = 40) -> Image.Image:
    """A filled triangle pointing left or right, jittered in place, size and shade, on noise."""
    image = Image.fromarray(rng.integers(0, 60, (size, size, 3), dtype=np.uint8))
    cx, cy, r = size / 2 + rng.uniform(-3, 3), size / 2 + rng.uniform(-3, 3), rng.uniform(10, 15)
    tip, back = (cx - r, cx + r) if pointing == "left" else (cx + r, cx - r)
    ImageDraw.Draw(image).polygon([(tip, cy), (back, cy - r), (back, cy + r)], fill=tuple(rng.integers(160, 256, 3)))
    return image


def _arrows(root, per_class: dict[str, int], seed: int = 0):
    rng = np.random.default_rng(seed)
    for split, count in per_class.items():
        for pointing in ("left", "right"):
            folder = root / split / pointing
            folder.mkdir(parents=True)
            for i in range(count):
                _arrow(pointing, rng).save(folder / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def arrows(tmp_path_factory):
    return _arrows(tmp_path_factory.mktemp("arrows") / "arrows", {"train": 40, "test": 8})


def test_the_mirror_test_turns_flips_off_where_a_mirror_image_is_another_class(arrows):
    splits = scan(arrows)
    test = mirror_test(splits.train, 2)
    assert test["informative"] and test["mirrored_top1"] < test["centroid_top1"] - 0.5
    assert not flips_wanted(test)


def test_the_mirror_test_keeps_flips_where_classes_are_mirror_symmetric(small_demo):
    splits = scan(small_demo)  # rotated shapes on random backgrounds: a mirror image is the same class
    assert flips_wanted(mirror_test(splits.train, len(splits.class_names)))


def test_weight_averaging_spans_at_most_a_tenth_of_the_run():
    from train.adapt import ema_decay

    assert ema_decay(0.99, 10_000) == 0.99 and ema_decay(0.9999, 925) == pytest.approx(1 - 1 / 92.5)
    assert ema_decay(0.99, 75) == pytest.approx(1 - 1 / 7.5) and ema_decay(0.99, 3) == 0.0


def test_augmentation_grows_with_the_images_per_class():
    strengths = [augmentation_strength(n) for n in (10, 50, 144, 400, 1000, 5000)]
    assert strengths[:2] == [0.0, 0.0] and strengths[-2:] == [1.0, 1.0]
    assert strengths == sorted(strengths) and 0.3 < strengths[2] < 0.4


def test_a_run_records_what_it_adapted_and_scores_test_once(tmp_path, arrows, capsys, tiny_variant):
    out = tmp_path / "run"
    assert main([*TRAIN_FAST, "--data", str(arrows), "--out", str(out)]) == 0
    assert "test top-1" in capsys.readouterr().out
    summary = json.loads((out / "train.json").read_text())
    adapted = summary["adapted_to_data"]
    assert adapted["flip"]["on"] is False and adapted["flip"]["decided_by"] == "mirror test"
    assert adapted["augmentation_strength"] == 0.0 and all(s["randaug"] == 0 for s in summary["stages"])
    assert adapted["ema"]["decay"] == 0.0 and summary["recipe"]["ema"] is None  # 3 epochs of 3 steps: no average
    assert summary["data"]["val_images"] == 20 and summary["data"]["test_images"] == 16  # val from train/
    assert summary["test"]["images"] == 16 and 0 <= summary["test"]["top1"] <= 1
    assert summary["test"]["epoch"] == summary["best"]["epoch"]


def test_each_adaptation_has_a_switch(tmp_path, arrows, tiny_variant):
    out = tmp_path / "run"
    assert main([*TRAIN_FAST, "--data", str(arrows), "--out", str(out), "--epochs", "1", "--stages", "1",
                 "--flip", "on", "--strength", "1", "--label-smoothing", "0"]) == 0
    summary = json.loads((out / "train.json").read_text())
    assert summary["adapted_to_data"]["flip"] == {"on": True, "decided_by": "FLIP setting"}
    assert summary["stages"][-1]["randaug"] == 4 and summary["recipe"]["label_smoothing"] == 0
