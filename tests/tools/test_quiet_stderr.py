"""The Makefile's stderr filter: TensorFlow's start-up noise goes, everything else stays."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ctrl_c_reaches

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


# A command that writes its pid, counts the SIGTERMs it gets, and once stopped lingers a second
# (long enough for a duplicate to arrive) before writing the count and exiting as a shell reports a TERM.
COUNTING = ("import os, signal, sys, time; got = []; signal.signal(signal.SIGTERM, lambda *a: got.append(1)); "
            "open(sys.argv[1], 'w').write(str(os.getpid())); [time.sleep(0.05) for _ in range(1200) if not got]; "
            "time.sleep(1.5); open(sys.argv[2], 'w').write(str(len(got))); sys.exit(143)")


def _pid_from(path: Path) -> int:
    deadline = time.monotonic() + 30
    while not (path.is_file() and path.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return int(path.read_text())


def _state(pid: int) -> str:
    """The process's state letter (R, S, T for stopped, Z for a zombie), or "gone"."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return "gone"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _state(pid) not in ("gone", "Z", "X") and time.monotonic() < deadline:
        time.sleep(0.05)
    return _state(pid) in ("gone", "Z", "X")  # a zombie nobody reaped has ended too


def _stops_reach() -> None:
    """preexec_fn: Ctrl-C and hang-up as a terminal's foreground job gets them. Under `nohup` (or a
    background shell job) they arrive ignored, and the filter rightly leaves an ignored signal ignored."""
    ctrl_c_reaches()
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _start(tmp_path) -> tuple[subprocess.Popen, int]:
    """The filter running a command that writes its pid and sleeps: (the filter, the command's pid)."""
    code = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"
    quiet = subprocess.Popen([sys.executable, str(QUIET), "-c", code, str(tmp_path / "pid")],
                             stderr=subprocess.DEVNULL, preexec_fn=_stops_reach)
    return quiet, _pid_from(tmp_path / "pid")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_to_the_filter_stops_its_command_and_exits_as_a_shell_reports_it(tmp_path, stop):
    quiet, child = _start(tmp_path)
    quiet.send_signal(stop)
    assert quiet.wait(timeout=30) == 128 + stop  # generous: a loaded 2-core machine once needed more than 10 s
    assert _gone_within(child, 5)


def test_a_filter_killed_outright_takes_its_command_with_it(tmp_path):
    quiet, child = _start(tmp_path)
    quiet.kill()
    assert quiet.wait(timeout=10) == -signal.SIGKILL
    assert _gone_within(child, 5), "the command lives on without its filter"


def test_ctrl_z_stops_the_command_and_fg_resumes_it(tmp_path):
    quiet, child = _start(tmp_path)
    quiet.send_signal(signal.SIGTSTP)
    deadline = time.monotonic() + 5
    while _state(child) != "T" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(child) == "T"
    quiet.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + 5
    while _state(child) == "T" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(child) in ("S", "R")
    quiet.terminate()
    assert quiet.wait(timeout=10) == 143 and _gone_within(child, 5)


@pytest.mark.parametrize("whole_group", [False, True], ids=["make's pid", "make's process group"])
def test_kill_of_make_stops_the_command_with_one_sigterm(tmp_path, whole_group):
    """The Makefile's pattern: a quoted recipe line, so make runs it through /bin/sh."""
    (tmp_path / "Makefile").write_text(f"all:\n\t{sys.executable} {QUIET} -c \"{COUNTING}\" "
                                       f"'{tmp_path / 'pid'}' '{tmp_path / 'count'}'\n")
    make = subprocess.Popen(["make", "-s", "-C", str(tmp_path)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    child = _pid_from(tmp_path / "pid")
    if whole_group:
        os.killpg(make.pid, signal.SIGTERM)
    else:
        make.terminate()
    assert make.wait(timeout=10) != 0  # -SIGTERM, or 2 where make 4.3 races its own signal handler
    assert _gone_within(child, 10), "make is gone, the command it ran is not"
    assert (tmp_path / "count").read_text() == "1"  # its clean-up ran once, uninterrupted
