"""The manifest under concurrent writers and corruption, per-artifact facts, and temporary folders
that a killed process leaves."""
import multiprocessing
import os
import subprocess
import tempfile

from core.artifacts import read_manifest, update_manifest
from core.files import temporary_directory


def _writer(folder: str, worker: int, count: int) -> None:
    from pathlib import Path

    for index in range(count):
        update_manifest(Path(folder), {"variant": "b0"}, f"w{worker}_{index}.tflite", {"precision": "fp32"})


def test_concurrent_writers_keep_every_entry(tmp_path):
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(str(tmp_path), w, 60)) for w in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    assert len(read_manifest(tmp_path)["artifacts"]) == 120


def test_a_corrupt_manifest_is_kept_aside_not_silently_replaced(tmp_path, capsys):
    (tmp_path / "manifest.json").write_text('{"variant": "b0", "artifacts": {"b0_fp32.tflite": ')
    update_manifest(tmp_path, {"variant": "b0"}, "b0_int8.tflite", {"precision": "int8"})
    kept = list(tmp_path.glob("manifest.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text().startswith('{"variant": "b0"')
    assert kept[0].name in capsys.readouterr().err


def test_temporary_folders_of_dead_processes_are_removed_by_the_next_one(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / f"calibration-{dead.pid}-abc").mkdir()
    (tmp_path / f"calibration-{os.getppid()}-def").mkdir()  # a live process's: kept
    with temporary_directory("calibration-") as mine:
        assert os.path.basename(mine).startswith(f"calibration-{os.getpid()}-")
        left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([f"calibration-{os.getppid()}-def", os.path.basename(mine)])
