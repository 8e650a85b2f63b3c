"""SIGTERM, SIGINT (Ctrl-C, to the whole process group) and SIGKILL at seeded random points of
make train, make tflite, make qat, make calib-study and make bench, each run as make runs it (through
tools/quiet_stderr.py, in a session of its own). After the signal: no process of the command is
left, no traceback reached the terminal, every file in OUT is the previous complete one or a new
complete one; then the same command, rerun, finishes (a run resumes) and leaves no temporary
file, not even one a SIGKILL left.

The random point is a seeded fraction of the command's own uninterrupted time on this machine
(measured once a session), so a case lands at the same stage of the work on a fast or slow
machine and reproduces from its id (`TERM-seed1`)."""
from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from core.artifacts import MANIFEST, sha256
from tests.small_models import TRAIN_FAST
from tests.faults.conftest import CLASSES, SIZE, TFLITE, VARIANT
from tests.faults.corrupt import cases
from tests.faults.outcome import (CLEAR, DAMAGING, REPO_ROOT, TINY_COMMAND, TRACEBACK, UNCLEAR, WRONG, Finished,
                                  Outcome, files_under, is_temporary)

GROUP = "signals at random points"
SIGNALS = {"TERM": signal.SIGTERM, "INT": signal.SIGINT, "KILL": signal.SIGKILL}
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
GRACE_S = 10  # how long the command's processes may take to end after the one signalled
QAT = ["--variant", VARIANT, "--size", str(SIZE), "--batch", "16", "--epochs", "1", "--no-gpu-check",
       "--max-top1-drop", "100"]


@dataclasses.dataclass(frozen=True)
class Command:
    """One make target as its process runs it; OUT holds what it writes, seeded with what an
    earlier complete run left there (which must survive a signal unless replaced whole)."""
    module: str
    arguments: Callable[[Path, dict], list[str]]  # (OUT, inputs) -> argv
    previous: Callable[[Path, dict], None] = lambda out, inputs: None  # fills OUT before the run


def _previous_artifacts(out: Path, inputs: dict) -> None:
    import shutil

    shutil.copytree(inputs["artifacts"], out)


def _previous_bench(out: Path, inputs: dict) -> None:
    out.mkdir()
    (out / "results.json").write_text(json.dumps(inputs["bench_results"]))


COMMANDS = {
    "train": Command("train", lambda out, i: [*TRAIN_FAST, "--data", str(i["data"]), "--out", str(out)]),
    "tflite": Command("convert", lambda out, i: [
        VARIANT, "--size", str(SIZE), "--classes", str(CLASSES), "--precision", "int8", "--calib", "16",
        "--calib-workers", "2", "--validate", "4", "--no-gpu-check", "--no-legacy-check", "--weights",
        str(i["model"]), "--data", str(i["data"]), "--out", str(out), "--max-top1-drop", "100"],
        _previous_artifacts),
    "qat": Command("studies.finetune", lambda out, i: [*QAT, "--weights", str(i["model"]), "--data",
                                                        str(i["data"]), "--out", str(out)], _previous_artifacts),
    "calib-study": Command("studies.calib_study", lambda out, i: [
        "--variant", VARIANT, "--size", str(SIZE), "--calib", "16", "--percentiles", "100,90", "--seeds", "0,1",
        "--weights", str(i["model"]), "--data", str(i["data"]), "--out", str(out)]),
    "bench": Command("bench", lambda out, i: [
        str(i["artifacts"] / VARIANT / TFLITE), "--backends", "cpu,interpreter,tf", "--num_runs", "30",
        "--warmup_runs", "2", "--num_threads", "1", "--min_secs", "0", "--no_progress", "--out", str(out)],
        _previous_bench),
}
SEEDS = {"train": 2, "tflite": 2, "qat": 1, "calib-study": 1, "bench": 2}


# --- running a command and stopping it ----------------------------------------------------------

def _start(command: Command, out: Path, inputs: dict, logs: Path) -> subprocess.Popen:
    argv = [sys.executable, str(REPO_ROOT / "tools" / "quiet_stderr.py"), "-c", TINY_COMMAND, command.module,
            *command.arguments(out, inputs)]
    (logs / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TMPDIR": str(logs / "tmp")}
    with open(logs / "stdout", "wb") as stdout, open(logs / "stderr", "wb") as stderr:
        return subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=stdout, stderr=stderr, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _finished(process: subprocess.Popen, logs: Path, timeout: float = 600) -> Finished:
    code = process.wait(timeout)
    return Finished(code, (logs / "stdout").read_text(errors="replace"), (logs / "stderr").read_text(errors="replace"))


def _processes() -> dict[int, tuple[int, str, str]]:
    """Every process: pid -> (parent pid, state, command line)."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # ended while we looked
            continue
        fields = text[text.rindex(")") + 2:].split()
        table[int(stat.parent.name)] = (int(fields[1]), fields[0], command[:120])
    return table


def _descendants() -> list[str]:
    """`pid command` of the living descendants of this process: with _adopting_orphans, every
    process the command started, in whatever session, once their parent is gone."""
    table, found, frontier = _processes(), [], [os.getpid()]
    while frontier:
        children = [pid for pid, (parent, state, _) in table.items() if parent in frontier and state != "Z"]
        found += children
        frontier = children
    return [f"{pid} {table[pid][2]}" for pid in found]


@contextlib.contextmanager
def _adopting_orphans():
    """Makes this process the child subreaper (Linux): a process whose parent dies is re-parented
    here rather than to init, so none escapes _descendants by a new session or a dead parent."""
    prctl = ctypes.CDLL(None).prctl
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        yield
    finally:
        prctl(PR_SET_CHILD_SUBREAPER, 0)
        for pid, (parent, state, _) in _processes().items():
            if parent == os.getpid() and state == "Z":
                os.waitpid(pid, os.WNOHANG)  # adopted and ended: reaped here, as init would


def _left_behind(before: list[str]) -> list[str]:
    """Processes of the command (descendants not in `before`) still alive GRACE_S after it ended;
    killed, then named."""
    deadline = time.monotonic() + GRACE_S
    while (members := [m for m in _descendants() if m not in before]) and time.monotonic() < deadline:
        time.sleep(0.2)
    for member in members:
        try:
            os.kill(int(member.split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    return members


def _signal(process: subprocess.Popen, name: str) -> None:
    """Ctrl-C reaches the terminal's whole foreground group; `kill` and a CI timeout one process."""
    if process.poll() is not None:
        return
    if name == "INT":
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(SIGNALS[name])


# --- what a file must be ------------------------------------------------------------------------

def _incomplete(path: Path, manifest: dict) -> str:
    """Why `path` is not a complete file of its kind, or ""."""
    data = path.read_bytes()
    if path.suffix == ".tflite":
        from ai_edge_litert.interpreter import Interpreter

        recorded = manifest.get("artifacts", {}).get(path.name, {}).get("sha256")
        if data[4:8] != b"TFL3" or (recorded and recorded != sha256(data)):
            return "not the file its manifest records"
        try:
            Interpreter(model_content=data)
        except Exception as error:  # noqa: BLE001 - any refusal is a broken file
            return f"LiteRT refuses it ({str(error)[:80]})"
    elif path.suffix == ".json":
        try:
            json.loads(data)
        except ValueError:
            return "not valid JSON"
    elif path.suffix == ".keras":
        try:
            with zipfile.ZipFile(path) as archive:
                return "" if archive.testzip() is None else "a damaged member"
        except zipfile.BadZipFile:
            return "not a zip archive"
    return ""


def _state_problem(run: Path) -> str:
    """A run folder's resume state must be readable and point to a good checkpoint."""
    from train.state import read_state, verify_checkpoint

    path = run / "checkpoints" / "state.json"
    if not path.is_file():
        return ""
    try:
        state = read_state(path)
        if state["checkpoint"]:
            verify_checkpoint(run / "checkpoints" / state["checkpoint"])
    except ValueError as error:
        return str(error)
    return ""


def _broken_files(out: Path, before: dict[str, str], temporaries_allowed: bool) -> list[str]:
    """Files under OUT that are neither the previous one nor a complete new one."""
    if not out.is_dir():
        return []
    manifests = {path.parent: json.loads(path.read_text()) for path in out.rglob(MANIFEST)
                 if not _incomplete(path, {})}
    problems = []
    for name, digest in files_under(out).items():
        path = out / name
        if is_temporary(path.name) or any(is_temporary(part) for part in Path(name).parts[:-1]):
            problems += [] if temporaries_allowed else [f"left temporary {name}"]
        elif before.get(name) != digest and (why := _incomplete(path, manifests.get(path.parent, {}))):
            problems.append(f"{name}: {why}")
    state = _state_problem(out)
    return problems + ([f"resume state: {state}"] if state else [])


# --- the verdict --------------------------------------------------------------------------------

def _after_signal(finished: Finished, name: str, left: list[str], broken: list[str]) -> Outcome:
    if left:
        return Outcome(DAMAGING, f"{len(left)} process(es) left: {', '.join(left[:3])}")
    if broken:
        return Outcome(DAMAGING, "; ".join(broken[:3]))
    if TRACEBACK in finished.stderr + finished.stdout:
        tail = (finished.stderr + finished.stdout).strip().splitlines()[-1]
        return Outcome(UNCLEAR, f"a traceback reached the terminal, ending {tail[:160]!r}")
    if name != "KILL" and finished.code == 0:
        return Outcome(CLEAR)  # finished before the signal arrived: fine, and checked like any other run
    if name != "KILL" and len(finished.error_lines) > 1:
        return Outcome(UNCLEAR, f"{len(finished.error_lines)} error lines after {name}")
    return Outcome(CLEAR)


def _after_rerun(finished: Finished, broken: list[str]) -> Outcome | None:
    if finished.code != 0:
        reason = (finished.error_lines or [finished.stderr.strip()[-160:]])[-1]
        return Outcome(WRONG, f"the rerun failed (exit {finished.code}): {reason[:160]!r}")
    return Outcome(DAMAGING, "after the rerun: " + "; ".join(broken[:3])) if broken else None


@pytest.fixture(scope="session")
def signal_inputs(good_run, good_artifacts, good_bench_results, small_demo) -> dict:
    return {"data": small_demo, "model": good_run / "model.keras", "artifacts": good_artifacts,
            "bench_results": good_bench_results}


@pytest.fixture(scope="session")
def uninterrupted_s(signal_inputs, tmp_path_factory) -> dict[str, float]:
    """Each command's time, run once whole from the same starting point, on this machine."""
    seconds = {}
    for name, command in COMMANDS.items():
        root = tmp_path_factory.mktemp(f"uninterrupted-{name}")
        command.previous(root / "out", signal_inputs)
        started = time.monotonic()
        finished = _finished(_start(command, root / "out", signal_inputs, root), root)
        assert finished.code == 0, f"{name} failed uninterrupted: {finished.stderr[-400:]}"
        seconds[name] = time.monotonic() - started
    return seconds


def _cases() -> list:
    return [pytest.param(target, *param.values, id=f"{target}-{param.id}")
            for target, seeds in SEEDS.items() for param in cases(dict.fromkeys(SIGNALS, seeds))]


@pytest.mark.fault(GROUP, "make train/tflite/qat/calib-study/bench (tiny), a signal at a seeded point, then rerun")
@pytest.mark.parametrize(("target", "kind", "seed"), _cases())
def test_a_signal_at_a_random_point_loses_nothing_and_a_rerun_finishes(target, kind, seed, tmp_path, signal_inputs,
                                                                      uninterrupted_s, verdict):
    command, out = COMMANDS[target], tmp_path / "out"
    command.previous(out, signal_inputs)
    before = files_under(out) if out.is_dir() else {}
    delay = random.Random(f"{target}:{kind}:{seed}").uniform(0.05, 0.95) * uninterrupted_s[target]
    with _adopting_orphans():
        already = _descendants()  # this process's own helpers (a multiprocessing resource tracker)
        process = _start(command, out, signal_inputs, tmp_path)
        time.sleep(delay)
        _signal(process, kind)
        finished = _finished(process, tmp_path)
        outcome = _after_signal(finished, kind, _left_behind(already), _broken_files(out, before, kind == "KILL"))
        if outcome.kind == CLEAR:
            rerun = _start(command, out, signal_inputs, tmp_path)
            rerun_finished = _finished(rerun, tmp_path)
            litter = [f"left in TMPDIR: {name}" for name in files_under(tmp_path / "tmp")]
            outcome = _after_rerun(rerun_finished, _broken_files(out, {}, False) + litter) or outcome
            _left_behind(already)
    verdict(outcome, CLEAR)
