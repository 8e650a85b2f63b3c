"""A stop (SIGTERM, Ctrl-C) ends a command promptly even inside a long native call or a
deadlocked clean-up, and does not cut short a clean-up that finishes."""
import signal
import subprocess
import sys
import time

from core.cli import NATIVE_GRACE_S, run_command
from core.environments import REPO_ROOT
from tests.conftest import ctrl_c_reaches

# pbkdf2 with a huge iteration count: seconds to minutes in C, never back in the interpreter.
STUCK_IN_NATIVE_CODE = ("import hashlib, sys; from core.cli import run_command; print('ready', flush=True); "
                        "sys.exit(run_command(lambda: hashlib.pbkdf2_hmac('sha256', b'k', b's', 10**9).hex()))")
SLOW_CLEAN_UP = ("import sys, time; from pathlib import Path; from core.cli import run_command\n"
                 "def work():\n"
                 "    try:\n"
                 "        print('ready', flush=True); time.sleep(600)\n"
                 "    finally:\n"
                 f"        time.sleep({NATIVE_GRACE_S + 2}); Path(sys.argv[1]).write_text('cleaned up')\n"
                 "sys.exit(run_command(work))")


def _start(code: str, *arguments: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", code, *arguments], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_reaches)
    assert process.stdout.readline().strip() == "ready"
    return process


def test_a_stop_inside_a_long_native_call_ends_the_command_within_the_grace_period():
    for stop in (signal.SIGTERM, signal.SIGINT):
        process = _start(STUCK_IN_NATIVE_CODE)
        time.sleep(0.5)
        stopped = time.monotonic()
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=60)
        waited = time.monotonic() - stopped
        assert process.returncode == 130, (stop, stderr)
        assert stderr.strip() == "error: interrupted"
        assert NATIVE_GRACE_S - 0.5 < waited < NATIVE_GRACE_S + 10, waited


def test_clean_up_that_runs_after_the_stop_reached_python_is_not_cut_short(tmp_path):
    marker = tmp_path / "marker"
    process = _start(SLOW_CLEAN_UP, str(marker))
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and stderr.strip() == "error: interrupted"
    assert marker.read_text() == "cleaned up"


def test_a_background_jobs_ignored_ctrl_c_stays_ignored():
    code = ("import signal; from core.cli import run_command; "
            "run_command(lambda: str(int(signal.getsignal(signal.SIGINT))))")
    ignoring = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN), check=True)
    assert ignoring.stdout.strip() == str(int(signal.SIG_IGN))


def test_a_clean_up_that_never_ends_is_cut_at_the_limit():
    code = ("import threading, sys; import core.cli; core.cli.CLEAN_UP_LIMIT_S = 3\n"
            "def work():\n"
            "    try:\n"
            "        print('ready', flush=True); threading.Event().wait()\n"
            "    finally:\n"
            "        threading.Event().wait()  # a deadlocked library\n"
            "sys.exit(core.cli.run_command(work))")
    process = _start(code)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert stderr.strip() == "error: interrupted; clean-up cut short (the next run finishes it)"


def test_a_command_run_in_process_leaves_the_signal_handlers_as_they_were():
    before = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    assert run_command(lambda: None) == 0
    assert {number: signal.getsignal(number) for number in before} == before
