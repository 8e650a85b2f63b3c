"""Worker processes that cannot outlive the command that started them."""
from __future__ import annotations

import ctypes
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def dies_with_parent() -> None:
    """preexec_fn for a worker: the kernel sends it SIGKILL when the thread that started it ends,
    even if that process was itself killed outright (a SIGKILL, the OOM killer), where no clean-up
    code of the parent runs. Start workers from the main thread (a thread's end counts as the
    parent's). Elsewhere than Linux this does nothing: workers there end at their next pipe write."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
