"""Which files a sweep measures: paths and glob patterns, expanded."""
from __future__ import annotations

import glob
import os

DEFAULT_GLOB = "artifacts/*/*.tflite"


def expand(patterns: list[str]) -> list[str]:
    """File paths from paths and glob patterns, in order, without duplicates.

    Raises FileNotFoundError for a path or pattern that matches nothing.
    """
    paths: list[str] = []
    for pattern in patterns or [DEFAULT_GLOB]:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        matches = [m for m in matches if os.path.isfile(m)]
        if not matches:
            hint = " (run `make tflite` first)" if pattern == DEFAULT_GLOB else ""
            raise FileNotFoundError(f"no model file matches {pattern!r}{hint}")
        paths += [m for m in matches if m not in paths]
    return paths
