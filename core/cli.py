"""How every command ends: its output, or one `error:` line and an exit code, never a traceback
for bad input."""
from __future__ import annotations

import signal
import sys
from typing import Callable

# What bad input raises (a missing file, an unknown name, a failed check the user can fix).
USER_ERRORS = (ValueError, OSError, RuntimeError)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """SIGTERM (what `timeout`, CI cancellation and `kill` send) unwinds like Ctrl-C, so every
    `finally` and temporary folder is cleaned up instead of left behind."""
    signal.signal(signal.SIGTERM, _interrupt)


def run_command(work: Callable[[], str | None],
                failures: tuple[tuple[type[BaseException], int, str], ...] = ()) -> int:
    """Runs `work` and prints what it returns: exit 0. `failures` names exceptions with their
    own exit code and message prefix (make tflite's rejected file: 3, "validation failed: ");
    any other user error exits 2; Ctrl-C or SIGTERM exits 130 after cleaning up. Either way
    stderr gets one line."""
    stop_on_sigterm()
    try:
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
