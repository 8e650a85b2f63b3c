"""Labelled folders: both layouts, the stratified split, undecodable files, one-line errors."""

import numpy as np
import pytest
from PIL import Image

from imagedata.folders import scan


def _image(path, size=(20, 16)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), 90, np.uint8)).save(path)


def _flat_tree(root, counts):
    for name, count in counts.items():
        for i in range(count):
            _image(root / name / f"{i}.png")
    return root


def test_train_and_val_sub_trees_are_used_as_given(small_demo):
    splits = scan(small_demo)
    assert splits.class_names == sorted(splits.class_names) and len(splits.class_names) == 8
    assert len(splits.train) == 8 * 12 and len(splits.val) == 8 * 4
    assert all("/train/" in f for f in splits.train.files) and all("/val/" in f for f in splits.val.files)
    assert splits.train.decoded_bytes == 8 * 12 * 40 * 40 * 3


def test_a_flat_folder_gets_a_seeded_stratified_split(tmp_path):
    root = _flat_tree(tmp_path / "data", {"cat": 30, "dog": 10, "eel": 2})
    splits = scan(root, val_fraction=0.2, seed=3)
    # 20%, raised towards 25 images a class but never above a quarter of it; one image at least
    assert splits.val.per_class(splits.class_names) == {"cat": 8, "dog": 2, "eel": 1}
    assert not set(splits.val.files) & set(splits.train.files)
    assert scan(root, 0.2, seed=3).val.files == splits.val.files
    assert scan(root, 0.2, seed=4).val.files != splits.val.files


@pytest.mark.parametrize("class_size, fraction, held", [(144, 0.1, 25), (400, 0.1, 40), (60, 0.1, 15), (8, 0.1, 2)])
def test_the_validation_split_is_big_enough_to_choose_an_epoch_by(class_size, fraction, held):
    from imagedata.folders import held_out_count

    assert held_out_count(class_size, fraction) == held


def test_a_test_folder_beside_train_is_kept_for_the_end_and_validation_comes_from_train(tmp_path):
    _flat_tree(tmp_path / "data" / "train", {"a": 40, "b": 40})
    _flat_tree(tmp_path / "data" / "test", {"a": 5, "b": 5})
    splits = scan(tmp_path / "data")
    assert len(splits.test) == 10 and all("/test/" in f for f in splits.test.files)
    assert len(splits.val) == 20 and all("/train/" in f for f in splits.val.files + splits.train.files)
    assert splits.held_out is splits.test and "test/ scored at the end" in splits.layout
    assert splits.summary()["test_images"] == 10


def test_undecodable_files_are_skipped_and_counted(tmp_path):
    root = _flat_tree(tmp_path / "data", {"a": 3, "b": 3})
    (root / "a" / "broken.jpg").write_bytes(b"not a jpeg")
    Image.new("RGB", (8, 8)).save(root / "b" / "tiff_saved_as.png", format="TIFF")  # PIL reads it, TF cannot
    splits = scan(root)
    assert sorted(splits.skipped) == ["a/broken.jpg", "b/tiff_saved_as.png"]
    assert len(splits.train) + len(splits.val) == 6


@pytest.mark.parametrize("case, message", [
    ("missing", "does not exist"),
    ("empty", "at least 2 class sub-folders (found: none)"),
    ("one_class", "at least 2 class sub-folders (found: only)"),
    ("unusable_class", "class folder 'b' has no usable image"),
    ("foreign_val_class", "classes that the training folder lacks: zebra"),
])
def test_bad_data_is_a_one_line_error(tmp_path, case, message):
    root = tmp_path / "data"
    if case == "empty":
        root.mkdir()
    elif case == "one_class":
        _flat_tree(root, {"only": 4})
    elif case == "unusable_class":
        _flat_tree(root, {"a": 4})
        (root / "b").mkdir()
        (root / "b" / "x.jpg").write_bytes(b"junk")
    elif case == "foreign_val_class":
        _flat_tree(root / "train", {"a": 2, "b": 2})
        _flat_tree(root / "val", {"a": 1, "zebra": 1})
    with pytest.raises((ValueError, FileNotFoundError)) as error:
        scan(root)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_val_folder_without_some_classes_is_used_and_said_once_naming_them(tmp_path, capsys):
    _flat_tree(tmp_path / "train", {"cat": 4, "dog": 4, "owl": 4})
    _flat_tree(tmp_path / "val", {"cat": 2})
    splits = scan(tmp_path)
    assert len(splits.val) == 2 and splits.class_names == ["cat", "dog", "owl"]
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "2 of the 3 classes (dog, owl)" in warnings[0] and "val" in warnings[0]
