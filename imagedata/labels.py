"""labels.txt: one class name per line (spaces belong to the name), UTF-8, each name once."""
from __future__ import annotations

from pathlib import Path


def labels_from_text(text: str, source: str) -> list[str]:
    """The class names in a labels text (blank lines skipped); `source` names it in errors."""
    labels = [line.strip() for line in text.splitlines() if line.strip()]
    check_distinct_labels(labels, source)
    return labels


def read_labels(path: str | Path) -> list[str]:
    """A labels.txt file, refused at once (one line naming the file) if it cannot be one."""
    source = f"labels file {str(path)!r}"
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{source} does not exist") from None
    except UnicodeDecodeError:
        raise ValueError(f"{source} is not UTF-8 text; give one class name per line") from None
    labels = labels_from_text(text, source)
    if not labels:
        raise ValueError(f"{source} is empty; give one class name per line")
    return labels


def labels_text(labels: list[str]) -> str:
    """What read_labels reads back as `labels`."""
    return "\n".join(labels) + "\n"


def check_distinct_labels(labels: list[str], source: str) -> None:
    """Two outputs with one name: an app could not tell them apart, scoring would use the first."""
    seen, repeated = set(), []
    for label in labels:
        if label in seen and label not in repeated:
            repeated.append(label)
        seen.add(label)
    if repeated:
        raise ValueError(f"{source} names {', '.join(map(repr, repeated[:3]))} more than once; "
                         "give each class exactly one line")


def matched_labels(labels: list[str] | None, source: str | Path, splits) -> list[int]:
    """For each class of DATA (`splits`, imagedata.folders.scan's), the output index of the model
    whose class names are `labels` (read from `source`); a mismatch is a one-line error."""
    if labels is None:
        raise ValueError(f"{source} has no labels (no labels.txt beside it, none packed inside); "
                         "put the training run's labels.txt next to it")
    missing = [name for name in splits.class_names if name not in labels]
    if missing:
        raise ValueError(f"DATA classes {_names(missing)} are not among the class names in {source} "
                         f"({_names(labels)}); evaluate on folders named as the training classes")
    return [labels.index(name) for name in splits.class_names]


def _names(names: list[str], shown: int = 5, longest: int = 40) -> str:
    """A few names for a one-line message, each cut to `longest` characters."""
    cut = [name if len(name) <= longest else name[:longest] + "..." for name in names[:shown]]
    return ", ".join(cut) + (", ..." if len(names) > shown else "")
