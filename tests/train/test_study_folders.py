"""The measurement folders built from packaged data, and the plain loop make train is measured against."""
import json

import numpy as np
from PIL import Image

from train.baseline import main as baseline_main
from train.study_folders import main as folders_main


def test_study_folders_are_train_and_test_trees_of_real_packaged_images(tmp_path):
    assert folders_main(["--out", str(tmp_path), "--sets", "digits,faces"]) == 0
    digits = tmp_path / "digits"
    assert sorted(p.name for p in (digits / "train").iterdir()) == [str(d) for d in range(10)]
    assert len(list((digits / "train").rglob("*.png"))) == 1438 and len(list((digits / "test").rglob("*.png"))) == 359
    image = np.asarray(Image.open(next((digits / "test" / "7").iterdir())))
    assert image.shape == (64, 64, 3) and image.std() > 20  # a drawn digit, not a blank
    assert len(list((tmp_path / "faces" / "test").rglob("*.png"))) == 40
    assert not list(tmp_path.glob(".*partial*"))


def test_an_unknown_set_is_refused(tmp_path, capsys):
    try:
        folders_main(["--out", str(tmp_path), "--sets", "mnist"])
    except SystemExit as exit:
        assert exit.code == 2
    assert "unknown set(s) mnist" in capsys.readouterr().err


def test_the_plain_loop_never_scores_images_it_trained_on(tmp_path, small_demo, tiny_variant):
    out = tmp_path / "plain"
    assert baseline_main(["--data", str(small_demo), "--variant", "ghost_tiny", "--size", "48", "--epochs", "1",
                          "--batch", "16", "--out", str(out)]) == 0
    result = json.loads((out / "baseline.json").read_text())
    assert result["train_images"] == 8 * 12 and result["held_out_images"] == 8 * 4 and 0 <= result["top1"] <= 1
    assert result["held_out"] == "val"  # no test/: val is scored, so it does not train
    assert (out / "model.keras").is_file() and (out / "labels.txt").read_text().count("\n") == 8
