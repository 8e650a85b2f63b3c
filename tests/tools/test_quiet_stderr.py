"""The Makefile's stderr filter: TensorFlow's start-up noise goes, everything else stays."""
import subprocess
import sys
from pathlib import Path

QUIET = Path(__file__).resolve().parents[2] / "tools" / "quiet_stderr.py"


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(QUIET), "-c", code], capture_output=True)


def test_a_real_tensorflow_start_loses_its_noise_and_keeps_the_rest():
    done = _run("import tensorflow as tf, sys; print(int(tf.constant(41) + 1)); "
                "sys.stderr.write('warning: a real one\\n'); sys.exit(3)")
    assert done.returncode == 3 and done.stdout == b"42\n"
    assert done.stderr == b"warning: a real one\n"


def test_partial_lines_pass_at_once_and_lookalikes_are_kept():
    lines = ("'progress 50%\\rprogress 100%\\n'", "'I0000 00:00:1.2 77 mine.cc:3] my own info line\\n'",
             "'E0000 00:00:1795374265.761661 9170 cuda_platform.cc:52] failed call to cuInit\\n'",
             "'no newline at the end'")
    done = _run(f"import sys; [sys.stderr.write(s) for s in ({', '.join(lines)})]")
    assert done.stderr == (b"progress 50%\rprogress 100%\nI0000 00:00:1.2 77 mine.cc:3] my own info line\n"
                           b"no newline at the end")


def test_a_crash_keeps_its_last_words_and_its_signal():
    done = _run("import os, sys, signal; sys.stderr.write('F0000 Check failed: x\\n'); sys.stderr.flush(); "
                "os.kill(os.getpid(), signal.SIGABRT)")
    assert done.returncode == 128 + 6 and b"Check failed: x" in done.stderr
