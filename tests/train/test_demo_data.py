"""train.demo_data: layout, determinism, no colour shortcut, and safe (re)runs, on real files."""
import itertools
import json
import os

import numpy as np
import pytest
from PIL import Image

from train import demo_data
from train.demo_data import CLASSES, generate, main

SMALL = dict(train_per_class=12, val_per_class=4, size=48, seed=0)


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "set"
    return out, generate(out, **SMALL)


def _pngs(root):
    return sorted(p.relative_to(root) for p in root.rglob("*.png"))


def _load(path):
    return np.asarray(Image.open(path).convert("RGB"))


def test_layout_counts_and_files(small_set):
    out, summary = small_set
    assert len(CLASSES) >= 6 and len(set(CLASSES)) == len(CLASSES)
    assert summary["classes"] == list(CLASSES)
    assert summary["counts"] == {"train": 12 * len(CLASSES), "val": 4 * len(CLASSES)}
    assert (summary["size"], summary["seed"], summary["out"]) == (48, 0, str(out))
    assert sorted(p.name for p in out.iterdir()) == ["demo.json", "train", "val"]
    assert json.loads((out / "demo.json").read_text())["size"] == 48
    for split, n in (("train", 12), ("val", 4)):
        assert sorted(p.name for p in (out / split).iterdir()) == sorted(CLASSES)
        for name in CLASSES:
            files = sorted((out / split / name).iterdir())
            assert [f.name for f in files] == [f"{name}_{i:05d}.png" for i in range(n)]
            for f in files:
                with Image.open(f) as image:
                    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (48, 48))
                    image.load()
    assert not list(out.parent.glob("set.*")), "temp folders left behind"


def test_same_seed_same_bytes_other_seed_other_images(small_set, tmp_path):
    out, _ = small_set
    again = tmp_path / "again"
    generate(again, **SMALL)
    assert _pngs(again) == _pngs(out)
    for rel in _pngs(out):
        assert (again / rel).read_bytes() == (out / rel).read_bytes(), rel

    other = tmp_path / "other"
    generate(other, **{**SMALL, "seed": 1})
    for rel in _pngs(out):
        assert not np.array_equal(_load(other / rel), _load(out / rel)), rel


def test_an_image_does_not_depend_on_how_many_others_are_generated(small_set, tmp_path):
    out, _ = small_set
    fewer = tmp_path / "fewer"
    generate(fewer, **{**SMALL, "train_per_class": 3, "val_per_class": 1})
    for rel in _pngs(fewer):
        assert (fewer / rel).read_bytes() == (out / rel).read_bytes(), rel


def _mean_rgb_features(root, split):
    feats, labels = [], []
    for k, name in enumerate(CLASSES):
        for f in sorted((root / split / name).glob("*.png")):
            feats.append(_load(f).reshape(-1, 3).mean(axis=0))
            labels.append(k)
    return np.array(feats), np.array(labels)


def _nearest_centroid_accuracy(train_x, train_y, val_x, val_y):
    centroids = np.stack([train_x[train_y == k].mean(axis=0) for k in range(len(CLASSES))])
    predicted = np.linalg.norm(val_x[:, None, :] - centroids[None], axis=2).argmin(axis=1)
    return float((predicted == val_y).mean())


def test_mean_colour_alone_does_not_solve_it(tmp_path):
    out = tmp_path / "colour"
    generate(out, train_per_class=60, val_per_class=20, size=32, seed=3)
    train_x, train_y = _mean_rgb_features(out, "train")
    val_x, val_y = _mean_rgb_features(out, "val")

    # The probe itself works: had each class its own tint (a corner of the RGB cube), it would solve it.
    palette = np.array(list(itertools.product([0, 255], repeat=3)))[np.arange(len(CLASSES)) % 8]
    tinted = _nearest_centroid_accuracy(0.5 * train_x + 0.5 * palette[train_y], train_y,
                                        0.5 * val_x + 0.5 * palette[val_y], val_y)
    assert tinted > 0.9

    accuracy = _nearest_centroid_accuracy(train_x, train_y, val_x, val_y)
    assert accuracy < 0.45, f"mean colour predicts the class ({accuracy:.2f}; chance {1 / len(CLASSES):.2f})"


def test_rerun_with_same_parameters_is_a_no_op(small_set, capsys):
    out, _ = small_set
    before = {rel: os.stat(out / rel).st_mtime_ns for rel in _pngs(out)}
    summary = generate(out, **SMALL)
    assert summary["generated"] is False and summary["counts"]["train"] == 12 * len(CLASSES)
    assert "nothing to do" in capsys.readouterr().out
    assert {rel: os.stat(out / rel).st_mtime_ns for rel in _pngs(out)} == before
    assert main(["--out", str(out), "--train-per-class", "12", "--val-per-class", "4", "--size", "48"]) == 0


def test_previous_demo_set_with_other_parameters_is_replaced(tmp_path):
    out = tmp_path / "set"
    generate(out, train_per_class=2, val_per_class=1, size=32)
    summary = generate(out, train_per_class=3, val_per_class=1, size=32)
    assert summary["generated"] is True
    assert len(list((out / "train" / CLASSES[0]).glob("*.png"))) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


def test_foreign_folder_is_refused_and_left_alone(tmp_path, capsys):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "cat.jpg").write_bytes(b"not ours")
    with pytest.raises(ValueError, match="not a demo set.*new folder or a previous demo set"):
        generate(out, **SMALL)
    assert sorted(p.name for p in out.iterdir()) == ["cat.jpg"]

    assert main(["--out", str(out), "--size", "48"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "not a demo set" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]


def test_bad_parameters_exit_2(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "x"), "--size", "8"]) == 2
    assert capsys.readouterr().err.startswith("error: --size")
    assert not (tmp_path / "x").exists()


def test_an_interrupted_run_leaves_no_set(tmp_path, monkeypatch):
    out = tmp_path / "set"
    calls = []

    def failing_render(*args):
        calls.append(args)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real_render(*args)

    real_render = demo_data.render
    monkeypatch.setattr(demo_data, "render", failing_render)
    with pytest.raises(KeyboardInterrupt):
        generate(out, **SMALL)
    assert len(calls) == 5  # the interrupt is the one injected mid-run, not an earlier failure
    assert list(tmp_path.iterdir()) == []


def test_stale_partial_of_a_dead_run_is_removed(tmp_path):
    out = tmp_path / "set"
    stale = tmp_path / "set.partial-999999999"  # above any Linux pid_max: no such process
    (stale / "train").mkdir(parents=True)
    generate(out, train_per_class=1, val_per_class=1, size=32)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


def test_help_teaches(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--out" in text and "train/<class>" in text and all(name in text for name in CLASSES)


def test_the_fine_set_makes_each_shape_fill_pair_a_class(tmp_path):
    from train.demo_data import FINE_CLASSES, render

    summary = generate(tmp_path / "fine", train_per_class=2, val_per_class=1, size=32, seed=0, kind="fine")
    assert summary["classes"] == list(FINE_CLASSES) and len(FINE_CLASSES) == 18
    assert sorted(p.name for p in (tmp_path / "fine" / "train").iterdir()) == sorted(FINE_CLASSES)
    # Same shape, other fill: other pixels inside the silhouette.
    assert not np.array_equal(render("disc_solid", 32, 0, "train", 0), render("disc_striped", 32, 0, "train", 0))


def test_an_unknown_set_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown demo set 'nonesuch'"):
        generate(tmp_path / "x", 1, 1, 32, 0, kind="nonesuch")
