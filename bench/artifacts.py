"""Which files a sweep measures: paths and glob patterns, expanded, with row names that tell
same-named files from different folders apart."""
from __future__ import annotations

import dataclasses
import glob
import os
from collections import Counter

from core.artifacts import ModelInfo

DEFAULT_GLOB = "artifacts/*/*.tflite"


def expand(patterns: list[str]) -> list[str]:
    """File paths from paths and glob patterns, in order, without duplicates.

    A pattern never matches `*.rejected.tflite` (what make tflite keeps of a file that failed
    validation); name one explicitly to measure it. Raises FileNotFoundError for a path or
    pattern that matches nothing.
    """
    paths: list[str] = []
    for pattern in patterns or [DEFAULT_GLOB]:
        if glob.has_magic(pattern):
            matches = [m for m in sorted(glob.glob(pattern)) if not m.endswith(".rejected.tflite")]
        else:
            matches = [pattern]
        matches = [m for m in matches if os.path.isfile(m)]
        if not matches:
            hint = " (run `make tflite` first)" if pattern == DEFAULT_GLOB else ""
            raise FileNotFoundError(f"no model file matches {pattern!r}{hint}")
        paths += [m for m in matches if m not in paths]
    return paths


def distinct_names(models: list[ModelInfo]) -> list[ModelInfo]:
    """Rows are named by file name; files that share one are named by their folder too
    (`a/b0_int8.tflite`, `b/b0_int8.tflite`), or by their whole path if that is not enough."""
    counts = Counter(m.name for m in models)
    named = [m if counts[m.name] == 1 else
             dataclasses.replace(m, name=os.path.join(os.path.basename(os.path.dirname(m.path)), m.name))
             for m in models]
    counts = Counter(m.name for m in named)
    return [m if counts[m.name] == 1 else dataclasses.replace(m, name=m.path) for m in named]
