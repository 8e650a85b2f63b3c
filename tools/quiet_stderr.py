"""python tools/quiet_stderr.py ARGS...: runs `python ARGS...` with TensorFlow's start-up noise
removed from its stderr (the Makefile runs every stage through it; VERBOSE=1 does not).

TensorFlow prints a few lines before its log settings apply, so TF_CPP_MIN_LOG_LEVEL cannot
hide them: absl's "All log messages before absl::InitializeLog()", the oneDNN notice, the
CPU-instructions notice, "Could not find cuda drivers", "failed call to cuInit". On a machine
without a GPU they read like errors. Every other byte passes through as it comes, partial lines
too (progress bars), and the exit status is the command's. A filter process rather than a
redirection inside the command: a crashing command's last words still get through.

No process outlives the filter. The command runs in its own process group; SIGTERM, SIGINT,
SIGHUP and SIGQUIT that reach the filter are forwarded to that group once (a kill of make's
group reaches the filter by up to three paths, and a second KeyboardInterrupt would cut the
command's clean-up short; a repeat a second later goes through), Ctrl-Z and `fg` too. On Linux
the command gets SIGTERM when the filter dies, even of SIGKILL, and the filter when the recipe's
shell dies (`kill` of make's pid: make passes SIGTERM to that shell only, which dies of it).
"""
from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import sys
import time
from typing import BinaryIO

NOISE = re.compile(rb"^(WARNING: All log messages before absl::InitializeLog"
                   rb"|[IWE]0000 \S+ +\d+ (port|cudart_stub|cpu_feature_guard|cuda_platform|cuda_executor)\.cc:"
                   rb"|To enable the following instructions: .* rebuild TensorFlow"
                   rb"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.$)")
# A partial line that may still become noise is held back until its newline.
PREFIXES = (b"WARNING: All log messages", b"I0000 ", b"W0000 ", b"E0000 ", b"To enable the following",
            b"INFO: Created TensorFlow Lite")


def _may_be_noise(partial: bytes) -> bool:
    return any(prefix.startswith(partial[:len(prefix)]) for prefix in PREFIXES)


def copy_without_noise(source: int, sink: BinaryIO) -> None:
    pending = b""
    while chunk := os.read(source, 65536):
        *lines, pending = (pending + chunk).split(b"\n")
        sink.write(b"".join(line + b"\n" for line in lines if not NOISE.match(line)))
        if pending and not _may_be_noise(pending):
            sink.write(pending)
            pending = b""
        sink.flush()
    if pending and not NOISE.match(pending):
        sink.write(pending)
        sink.flush()


STOPPING = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
PR_SET_PDEATHSIG = 1
_prctl = getattr(ctypes.CDLL(None), "prctl", None)  # Linux only


def _die_with_parent(parent: int | None = None) -> None:
    """SIGTERM to this process when its parent dies; at once if `parent` is already gone."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str]) -> int:
    if _prctl:
        _die_with_parent()
    parent, last_stop = os.getpid(), [float("-inf")]
    child = subprocess.Popen([sys.executable, *argv], stderr=subprocess.PIPE, process_group=0,
                             preexec_fn=(lambda: _die_with_parent(parent)) if _prctl else None)

    def forward(signum, frame):
        if signum in STOPPING:
            if time.monotonic() - last_stop[0] < 1:
                return  # the same stop, reaching the filter by another path
            last_stop[0] = time.monotonic()
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass
        if signum == signal.SIGTSTP:  # Ctrl-Z stops the command (not in the terminal's group), then the filter
            os.kill(os.getpid(), signal.SIGSTOP)

    for signum in (*STOPPING, signal.SIGTSTP, signal.SIGCONT):
        if signal.getsignal(signum) != signal.SIG_IGN:  # a background job's ignored Ctrl-C stays ignored
            signal.signal(signum, forward)
    copy_without_noise(child.stderr.fileno(), sys.stderr.buffer)
    code = child.wait()
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
