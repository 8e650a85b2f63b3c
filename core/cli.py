"""How every command ends: its output, or one `error:` line and an exit code, never a traceback
for bad input."""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Callable, Iterator

# What bad input raises (a missing file, an unknown name, a failed check the user can fix).
USER_ERRORS = (ValueError, OSError, RuntimeError)


STOPS = (signal.SIGTERM, signal.SIGINT)
NATIVE_GRACE_S = 5  # how long a stop may wait for a native call (a conversion pass) to return
CLEAN_UP_LIMIT_S = 30  # how long the clean-up it starts may take
_stop_handled = threading.Event()  # the Python handler ran: the command is unwinding
_idle = threading.Event()  # no command is running in this process (stops are not ours to watch)
_idle.set()
_wakeups: list[int] = []  # read end of the pipe Python's C-level signal handler writes to


def _interrupt(signum, frame):
    _stop_handled.set()
    raise KeyboardInterrupt


def _end(message: bytes) -> None:
    os.write(2, message)
    os._exit(130)


def _watch_stops(wakeups: int) -> None:
    """Python runs a signal handler only between bytecodes, so a stop that arrives during a long
    native call (an MLIR pass, a TensorFlow kernel) would wait for that call to return: a minute
    on a large model, and meanwhile the command outlives the terminal or filter that stopped it.
    The C-level handler writes each signal's number to `wakeups` at once; if the Python handler
    has not run NATIVE_GRACE_S later, the process ends here, and so it does if the clean-up the
    handler started is still going CLEAN_UP_LIMIT_S later: a deadlock in a library must not keep
    a stopped command alive. What a cut clean-up leaves, the next run removes, as after a
    SIGKILL (temporaries carry the pid of a writer that is gone)."""
    while True:
        stopped = any(number in STOPS for number in os.read(wakeups, 64))
        if not stopped or _idle.is_set():
            continue
        if not _stop_handled.wait(NATIVE_GRACE_S):
            _end(b"error: interrupted\n")
        if not _idle.wait(CLEAN_UP_LIMIT_S):
            _end(b"error: interrupted; clean-up cut short (the next run finishes it)\n")


@contextlib.contextmanager
def stops_end_the_command() -> Iterator[None]:
    """While a command runs: SIGTERM (what `timeout`, CI cancellation and `kill` send) unwinds
    like Ctrl-C, so every `finally` and temporary folder is cleaned up instead of left behind,
    and either one ends the process within NATIVE_GRACE_S even inside native code, its clean-up
    within CLEAN_UP_LIMIT_S. The handlers before are restored after. Main thread only."""
    previous = {number: signal.getsignal(number) for number in STOPS}
    signal.signal(signal.SIGTERM, _interrupt)
    if previous[signal.SIGINT] is not signal.SIG_IGN:  # a background job's Ctrl-C stays ignored
        signal.signal(signal.SIGINT, _interrupt)
    if not _wakeups:
        reader, writer = os.pipe()
        os.set_blocking(writer, False)  # the C handler must never block
        signal.set_wakeup_fd(writer, warn_on_full_buffer=False)
        _wakeups.append(reader)
        threading.Thread(target=_watch_stops, args=(reader,), name="stop-watchdog", daemon=True).start()
    _stop_handled.clear()
    _idle.clear()
    try:
        yield
    finally:
        _idle.set()
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_command(work: Callable[[], str | None],
                failures: tuple[tuple[type[BaseException], int, str], ...] = ()) -> int:
    """Runs `work` and prints what it returns: exit 0. `failures` names exceptions with their
    own exit code and message prefix (make tflite's rejected file: 3, "validation failed: ");
    any other user error exits 2; Ctrl-C or SIGTERM exits 130 after cleaning up. Either way
    stderr gets one line."""
    try:
        with stops_end_the_command():
            output = work()
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as error:
        code, prefix = next(((c, p) for kind, c, p in failures if isinstance(error, kind)), (2, ""))
        print(f"error: {prefix}{error}", file=sys.stderr)
        return code
    if output:
        print(output)
    return 0


def add_trained_model_arguments(parser, variant: str) -> None:
    """The arguments of the commands that work on a trained model and its data (quant-report, calib-study)."""
    parser.add_argument("--variant", default=variant, help="default: the one WEIGHTS was trained as")
    parser.add_argument("--weights", required=True, help="trained .keras (make train's model.keras)")
    parser.add_argument("--data", required=True,
                        help="labelled image folder (calibration from train/ when it has train/ and val/)")
    parser.add_argument("--size", type=int)
    parser.add_argument("--classes", type=int, help="default: DATA's class folders")
