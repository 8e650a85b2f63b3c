"""python tools/quiet_stderr.py ARGS...: runs `python ARGS...` with TensorFlow's start-up noise
removed from its stderr (the Makefile runs every stage through it; VERBOSE=1 does not).

TensorFlow prints a few lines before its log settings apply, so TF_CPP_MIN_LOG_LEVEL cannot
hide them: absl's "All log messages before absl::InitializeLog()", the oneDNN notice, the
CPU-instructions notice, "Could not find cuda drivers", "failed call to cuInit". On a machine
without a GPU they read like errors. Every other byte passes through as it comes, partial lines
too (progress bars), and the exit status is the command's. A filter process rather than a
redirection inside the command: a crashing command's last words still get through.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
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


def main(argv: list[str]) -> int:
    child = subprocess.Popen([sys.executable, *argv], stderr=subprocess.PIPE)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the child (same process group)
    copy_without_noise(child.stderr.fileno(), sys.stderr.buffer)
    code = child.wait()
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
