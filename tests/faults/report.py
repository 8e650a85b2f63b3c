"""docs/reliability.md from one full run of the fault suite: every case, grouped by what was damaged,
with its command, the verdict it must get and the one it got."""
from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

from tests.faults.outcome import KINDS, OUTCOME_DOC, Outcome

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
SKIPPED, KNOWN_GAP = "skipped", "known gap"


@dataclasses.dataclass(frozen=True)
class Entry:
    group: str
    case: str  # the test and its parameters: `test_name[truncated-seed3]`
    command: str
    expected: str
    outcome: Outcome | None = None  # None: skipped before it ran
    note: str = ""  # a skip's or a known gap's reason

    @property
    def result(self) -> str:
        if self.outcome is None:
            return SKIPPED
        return self.outcome.kind


def _summary(entries: list[Entry]) -> list[str]:
    columns = [*KINDS, SKIPPED]
    lines = ["| inputs | cases | " + " | ".join(columns) + " | known gaps |",
             "|---|---:|" + "---:|" * (len(columns) + 1)]
    groups = list(dict.fromkeys(e.group for e in entries))
    for group in groups + ["all"]:
        chosen = [e for e in entries if group in (e.group, "all")]
        counts = Counter(e.result for e in chosen)
        gaps = sum(1 for e in chosen if e.note and e.outcome is not None)
        lines.append(f"| {group} | {len(chosen)} | " + " | ".join(str(counts[c]) for c in columns) + f" | {gaps} |")
    return lines


def _notes(entries: list[Entry]) -> dict[str, str]:
    """Each distinct known-gap or skip reason -> its short name (G1, G2, ...; S1, ...), first seen first."""
    names: dict[str, str] = {}
    for e in entries:
        if e.note and e.note not in names:
            prefix = "S" if e.outcome is None else "G"
            names[e.note] = f"{prefix}{sum(n.startswith(prefix) for n in names.values()) + 1}"
    return names


def _group(group: str, entries: list[Entry], notes: dict[str, str]) -> list[str]:
    lines = ["", f"## {group}", "", "| case | command | must be | is | known gap / skip |", "|---|---|---|---|---|"]
    for e in entries:
        result = f"**{e.result}**" if e.result not in (e.expected, SKIPPED) else e.result
        lines.append(f"| `{e.case}` | `{e.command}` | {e.expected} | {result} | {notes.get(e.note, '')} |")
    return lines


def _reasons(entries: list[Entry], notes: dict[str, str]) -> list[str]:
    if not notes:
        return []
    lines = ["", "## Known gaps and skips", ""]
    for note, name in notes.items():
        count = sum(1 for e in entries if e.note == note)
        lines.append(f"- **{name}** ({count} case{'s' if count > 1 else ''}): {note}")
    return lines


def markdown(entries: list[Entry]) -> str:
    notes = _notes(entries)
    lines = ["# Reliability: damaged and odd input, signals, full disks", "",
             "What each command does when it is handed a damaged file, a garbled JSON file, an odd labels file or",
             "image, a path with spaces and unicode, a damaged or moved run folder, a full disk, or a second",
             "command writing into the same folder; and what is left after SIGTERM, Ctrl-C (SIGINT to the whole",
             "process group) or SIGKILL at a random point of make train, tflite, qat and bench: no process, no",
             "traceback, every file in OUT the previous complete one or a new complete one, and a rerun that",
             "finishes (a run resumes) and leaves no temporary file. Every case below is a test in `tests/faults/`,",
             "fed input made by a seeded random generator: the seed is in the case name (`truncated-seed3`), so a",
             "case reproduces exactly (a signal's point is a seeded fraction of the command's uninterrupted time on",
             "the machine). Regenerate this page with `make test-faults` (a full run of the suite rewrites it).",
             "", "Verdicts:", "", *OUTCOME_DOC,
             f"- **{KNOWN_GAP}** (G1, G2, ...): the case is marked `xfail(strict=True)`: today's verdict is not the "
             "one it must be; the reason at the end says why and where the fix belongs. Once fixed the case passes, "
             "the strict mark fails the suite, and the mark goes.",
             "", *_summary(entries)]
    for group in dict.fromkeys(e.group for e in entries):
        lines += _group(group, [e for e in entries if e.group == group], notes)
    return "\n".join(lines + _reasons(entries, notes)) + "\n"


def write(entries: list[Entry], path: Path = DOC) -> None:
    text = markdown(entries)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
