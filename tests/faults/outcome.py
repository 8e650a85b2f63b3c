"""What a command did with a case, in one word (MEANING), from its exit code, its output and the
files it left."""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import re
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Callable

CLEAR, OK, UNCLEAR, WRONG, DAMAGING = "clear", "ok", "unclear", "wrong", "damaging"
MEANING = {
    CLEAR: "non-zero exit with one `error:` line that names the bad file (or bench rows marked failed, with "
           "the reason); no traceback; nothing written or changed",
    OK: "odd but valid input (spaces and unicode in paths and class names, a PNG named .jpg, an undecodable "
        "image among good ones) handled like any other, with the result it should have",
    UNCLEAR: "a Python traceback, or an error line that does not name the file",
    WRONG: "exit 0 on input it should refuse, valid input refused, or a wrong result",
    DAMAGING: "a good file changed or removed, or a half-written, temporary or unasked-for file left",
}
KINDS = tuple(MEANING)
OUTCOME_DOC = [f"- **{kind}**: {meaning}" for kind, meaning in MEANING.items()]
TRACEBACK = "Traceback (most recent call last)"
_ERROR_LINE = re.compile(r"^(?:[\w.]+: )?error: ")  # `error: ...`, `bench: error: ...`
# What an interrupted atomic write or model save, a shipment or a write check leaves behind.
_TEMPORARY = re.compile(r"^\..+\.tmp$|\.shipping-\d+$|^\.write-check-|\.old-\d+$|^\..+\.\d+-\w+\.keras$")


def is_temporary(name: str) -> bool:
    return bool(_TEMPORARY.search(name))


# TensorFlow's autograph writes the modules it generates to TMPDIR and removes them when Python exits.
_TENSORFLOW_OWN = re.compile(r"^__autograph_generated_file\w+\.py$")


@dataclasses.dataclass(frozen=True)
class Finished:
    """A command's exit code and output."""
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in re.split(r"[\r\n]", self.stderr) if _ERROR_LINE.match(line)]


@dataclasses.dataclass(frozen=True)
class Outcome:
    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


def in_process(main: Callable[[list[str]], int], argv: list[str]) -> Finished:
    """`main(argv)` as its process would end: an exception that escapes is a traceback on stderr
    and exit 1, argparse's exit keeps its code."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except Exception:  # noqa: BLE001 - what escapes is what the user would see as a traceback
            traceback.print_exc()
            code = 1
    return Finished(code, stdout.getvalue(), stderr.getvalue())


REPO_ROOT = Path(__file__).resolve().parents[2]


# `python -c TINY_COMMAND module args...`: `python -m module args...` in a process where ghost_tiny
# is registered (it exists only where registered), after runtime, as every command imports it first.
TINY_COMMAND = ("import runtime, runpy, sys; from tests.small_models import register_tiny; register_tiny(); "
                "module = sys.argv.pop(1); sys.argv[0] = module; runpy.run_module(module, run_name='__main__', "
                "alter_sys=True)")


def as_process(module: str, args: list[str], env: dict[str, str], timeout: float = 240) -> Finished:
    """`python -m module args` from the repository root, as make runs it."""
    done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, errors="replace", cwd=REPO_ROOT)
    return Finished(done.returncode, done.stdout, done.stderr)


# --- what changed on disk ---------------------------------------------------------------------

def files_under(root: Path) -> dict[str, str]:
    """Every file under `root` (relative path -> sha256 of its bytes), but TensorFlow's own."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*"))
            if path.is_file() and not path.is_symlink() and not _TENSORFLOW_OWN.match(path.name)}


def harm(before: dict[str, str], after: dict[str, str], may_write: Callable[[str], bool]) -> list[str]:
    """Files changed, removed or left that the command had no business touching: `may_write(path)`
    says which paths it may create or replace (its outputs); a temporary file is never fine."""
    problems = [f"changed {p}" for p in before if p in after and before[p] != after[p] and not may_write(p)]
    problems += [f"removed {p}" for p in before if p not in after and not may_write(p)]
    new = [p for p in after if p not in before]
    problems += [f"left temporary {p}" for p in new if _TEMPORARY.search(Path(p).name)]
    problems += [f"wrote {p}" for p in new if not may_write(p) and not _TEMPORARY.search(Path(p).name)]
    return problems


def writes_nothing(path: str) -> bool:
    return False


def writes_under(*folders: str) -> Callable[[str], bool]:
    """may_write for a command whose outputs go to `folders` (relative to the case folder)."""
    return lambda path: any(path == f or path.startswith(f"{f}/") for f in folders)


# --- the verdicts -----------------------------------------------------------------------------

def _traceback_line(finished: Finished) -> str:
    text = finished.stderr + finished.stdout
    tail = text[text.index(TRACEBACK):].strip().splitlines()
    return f"traceback ending {tail[-1][:160]!r}"


def refusal(finished: Finished, names: list[str], harmed: list[str], failed_rows: list[dict] | None = None) -> Outcome:
    """The verdict on a command given input it must refuse. `names`: what the error line must
    name (the file, or its folder); `failed_rows`: bench's rows for the file, which may carry the
    refusal instead of an error line."""
    damage = [h for h in harmed if not h.startswith("wrote ")]  # changed, removed, temporaries
    if damage or (harmed and finished.code != 0):  # or a failure that left output behind
        return Outcome(DAMAGING, "; ".join((damage or harmed)[:3]))
    if TRACEBACK in finished.stderr + finished.stdout:
        return Outcome(UNCLEAR, _traceback_line(finished))
    if finished.code == 0 and harmed:
        return Outcome(WRONG, f"exit 0 on input it should refuse, and {harmed[0]}")
    if failed_rows:
        unexplained = [row for row in failed_rows if row.get("status") != "failed" or not row.get("reason")]
        return Outcome(WRONG, f"{len(unexplained)} row(s) not failed with a reason") if unexplained else Outcome(CLEAR)
    if finished.code == 0:
        return Outcome(WRONG, "exit 0 on input it should refuse")
    errors = finished.error_lines
    if len(errors) != 1:
        return Outcome(UNCLEAR, f"{len(errors)} error lines, exit {finished.code}")
    if not any(name in errors[0] for name in names):
        return Outcome(UNCLEAR, f"the error line does not name {names[0]!r}: {errors[0][:160]!r}")
    return Outcome(CLEAR)


def acceptance(finished: Finished, harmed: list[str], problem: Callable[[], str] = lambda: "") -> Outcome:
    """The verdict on a command given odd but valid input: exit 0, `problem()` finds nothing wrong
    with what it made ("" or why the result is wrong), nothing damaged."""
    if harmed:
        return Outcome(DAMAGING, "; ".join(harmed[:3]))
    if TRACEBACK in finished.stderr + finished.stdout:
        return Outcome(UNCLEAR, _traceback_line(finished))
    if finished.code != 0:
        reason = (finished.error_lines or ["no error line"])[-1]
        return Outcome(WRONG, f"refused valid input (exit {finished.code}): {reason[:160]!r}")
    wrong = problem()
    return Outcome(WRONG, wrong) if wrong else Outcome(OK)
