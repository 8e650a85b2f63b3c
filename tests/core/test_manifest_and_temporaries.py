"""The manifest under concurrent writers and corruption, per-artifact facts, and temporary folders
that a killed process leaves."""
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

from core.artifacts import read_manifest, update_manifest
from core.environments import REPO_ROOT
from core.files import atomic_write, temporary_directory
from tests.conftest import ctrl_c_reaches


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


def test_a_write_removes_the_temporary_a_killed_writer_left_and_keeps_a_live_ones(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f".labels.txt.{dead.pid}-x1y2.tmp"
    busy = tmp_path / f".labels.txt.{os.getppid()}-a3b4.tmp"  # another writer, still at work
    orphan.write_text("half")
    busy.write_text("half")
    atomic_write(tmp_path / "labels.txt", "a\nb\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["labels.txt", busy.name])


def test_a_write_that_fails_names_the_file_and_keeps_the_old_one(tmp_path):
    """A process whose files may not grow past 16 bytes (RLIMIT_FSIZE: every larger write fails,
    as on a full disk; tests/faults mounts a real full tmpfs) writes 1 kB over a good file."""
    target = tmp_path / "results.json"
    target.write_text("old")
    write = f"from core.files import atomic_write; atomic_write(__import__('pathlib').Path({str(target)!r}), 'x' * 1024)"
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16))  # noqa: E731
    done = subprocess.run([sys.executable, "-c", write], cwd=REPO_ROOT, capture_output=True, text=True,
                          preexec_fn=limit)
    assert done.returncode != 0
    assert f"cannot write {str(target)!r}: File too large" in done.stderr
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_a_ctrl_c_while_a_command_imports_tensorflow_ends_in_one_line(tmp_path):
    """python -m train imports TensorFlow for seconds before main() runs; a Ctrl-C then must not
    print the traceback of TensorFlow's import machinery."""
    command = subprocess.Popen([sys.executable, "-m", "train", "--variant", "b0", "--data", str(tmp_path)],
                               cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=ctrl_c_reaches)
    time.sleep(1.0)  # TensorFlow's import takes several seconds
    command.send_signal(signal.SIGINT)
    _, stderr = command.communicate(timeout=60)
    assert command.returncode in (-signal.SIGINT, 130)
    assert "Traceback" not in stderr and "error: interrupted" in stderr
