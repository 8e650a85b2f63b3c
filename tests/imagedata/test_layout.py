"""Where a DATA folder keeps the images that training and calibration may use."""
from imagedata.layout import held_out_folders, training_folder


def test_a_flat_folder_is_used_whole(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "train").mkdir()  # a class that happens to be called train
    assert training_folder(tmp_path) == tmp_path and held_out_folders(tmp_path) == []


def test_train_beside_val_or_test_keeps_the_held_out_images_out(tmp_path):
    for name in ("train", "test", "val"):
        (tmp_path / name).mkdir()
    assert training_folder(tmp_path) == tmp_path / "train"
    assert held_out_folders(tmp_path) == ["val", "test"]
