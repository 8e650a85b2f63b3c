"""Files are replaced whole: a failed write leaves the old file and no temporary behind."""
import os

import pytest

from core.files import atomic_write, replacing


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "model.keras"
    atomic_write(target, "old")
    with pytest.raises(RuntimeError, match="killed mid-write"), replacing(target, suffix=".keras") as temporary:
        open(temporary, "w").write("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["model.keras"]


def test_a_replaced_file_is_an_ordinary_file(tmp_path):
    umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a" / "x.txt", b"new")  # the folder is made too
    finally:
        os.umask(umask)
    assert (tmp_path / "a" / "x.txt").stat().st_mode & 0o777 == 0o644
