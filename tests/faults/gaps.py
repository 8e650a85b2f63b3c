"""The known gaps: cases whose verdict today is not the one they must have, each an
xfail(strict=True) with the reason and where the fix belongs. Fixing one makes its cases pass,
the strict mark then fails the suite, and the mark goes (docs/reliability.md lists them).
None are open today; mark a new one as `known_gap("what happens; where the fix belongs")`."""
import pytest


def known_gap(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)
