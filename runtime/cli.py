"""How every command ends: its output, or one `error:` line and an exit code, never a traceback
for bad input."""
from __future__ import annotations

import sys
from typing import Callable

# What bad input raises (a missing file, an unknown name, a failed check the user can fix).
USER_ERRORS = (ValueError, OSError, RuntimeError)


def run_command(work: Callable[[], str | None],
                failures: tuple[tuple[type[BaseException], int, str], ...] = ()) -> int:
    """Runs `work` and prints what it returns: exit 0. `failures` names exceptions with their
    own exit code and message prefix (make tflite's rejected file: 3, "validation failed: ");
    any other user error exits 2. Either way stderr gets one line."""
    try:
        output = work()
    except USER_ERRORS as error:
        code, prefix = next(((c, p) for kind, c, p in failures if isinstance(error, kind)), (2, ""))
        print(f"error: {prefix}{error}", file=sys.stderr)
        return code
    if output:
        print(output)
    return 0
