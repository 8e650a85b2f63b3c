"""Runs one .tflite (or Keras model) on one backend in a process of its own: a delegate that
crashes or hangs takes down only that process. `make bench` times every row this way and
`make tflite` checks each new file on the GPU this way (probe)."""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

from core.artifacts import describe
from core.environments import REPO_ROOT, with_repo_on_path
from core.files import temporary_directory
from core.processes import dies_with_parent

from .backends import REGISTRY, Context
from .jobs import BackendSpec, Job
from .records import FAILED, SKIPPED, Record
from .timing import RunSettings


def worker_env() -> dict[str, str]:
    env = with_repo_on_path(dict(os.environ))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "XDG_RUNTIME_DIR" not in env:  # LiteRT's GPU accelerator (Dawn) needs one
        env["XDG_RUNTIME_DIR"] = _private_runtime_dir().name
    return env


@functools.cache
def _private_runtime_dir() -> tempfile.TemporaryDirectory:
    """One per process, removed when it exits (a directory per job used to stay in /tmp)."""
    return temporary_directory("bench-xdg-")


def _failure(returncode: int, stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    # An abseil fatal error ends in a stack trace; the reason is its "Check failed" line.
    lines = [line for line in lines if not line.startswith(("@", "***"))]
    fatal = [line for line in lines if "Check failed" in line or line.startswith("F0000")]
    tail = (fatal or lines or ["no error output"])[-1][:300]
    if returncode < 0:
        return f"crashed with {signal.Signals(-returncode).name}: {tail}"
    return f"worker exited with code {returncode}: {tail}"


# LiteRT raises with source locations only ("ERROR: [./litert/cc/litert_compiled_model.h:1961]");
# the cause is the first error it logged before, e.g. "ERROR: [delegate_webgpu.cc:359] Failed to
# initialize WebGPU environment: INTERNAL: No adapters found" (LiteRT's or abseil's log format).
_LOGGED_ERROR = re.compile(r"^(?:ERROR: \[[^\]]+\]|E\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\])\s*(\S.*)$")
_HINTS = {  # logged cause -> what to do about it
    "No adapters found": "no Vulkan GPU could be opened: its driver (ICD) did not load; NVIDIA's "
                         "needs libglvnd (apt-get install libglvnd0 libegl1 libgl1)",
}


def _logged_cause(stderr: str) -> str | None:
    for line in stderr.splitlines():
        match = _LOGGED_ERROR.match(line.strip())
        if match:
            cause = match.group(1)[:300]
            hints = [hint for mark, hint in _HINTS.items() if mark in cause]
            return f"{cause}: {hints[0]}" if hints else cause
    return None


def _with_logged_cause(record: Record, stderr: str) -> Record:
    cause = _logged_cause(stderr) if record.status == FAILED else None
    if not cause or cause in record.reason:
        return record
    return dataclasses.replace(record, reason=f"{record.reason} (LiteRT logged: {cause})")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def run_job(job: Job, python: str = sys.executable, timeout: float = 600.0,
            env: dict[str, str] | None = None) -> Record:
    """Runs one job in a fresh worker process; a crash, hang or error is a failed row. The
    worker never outlives this call: on a timeout, Ctrl-C or any error its group is killed."""
    with temporary_directory("bench-job-") as tmp:
        job_path, result_path = os.path.join(tmp, "job.json"), os.path.join(tmp, "result.json")
        with open(job_path, "w") as f:
            json.dump(job.to_dict(), f)
        proc = subprocess.Popen([python, "-m", "runtime.worker", job_path, result_path],
                                cwd=REPO_ROOT, env=env or worker_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True,  # its own group: a hang is killed whole
                                preexec_fn=dies_with_parent)  # and no SIGKILL of the sweep leaves it running
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return job.record(status=FAILED, reason=f"timed out after {timeout:g} s (killed)")
        except BaseException:  # Ctrl-C: no orphan left running until its own time limit
            _kill_group(proc)
            raise
        text = stderr.decode(errors="replace")  # bytes: a runtime fed a random file may print anything
        if proc.returncode == 0 and os.path.exists(result_path):
            with open(result_path) as f:
                return _with_logged_cause(Record.from_dict(json.load(f)), text)
        return job.record(status=FAILED, reason=_failure(proc.returncode, text))


def measure(path: str, backend: str = "cpu", threads: int | None = 1, settings: RunSettings = RunSettings(),
            timeout: float = 600.0, ctx: Context = Context()) -> Record:
    """One file on one backend in its own process, timed as `make bench` times it."""
    spec = BackendSpec.parse(backend)
    availability = REGISTRY[spec.name].check(spec, ctx)
    job = Job(describe(path), spec, threads if REGISTRY[spec.name].threaded(spec) else None, settings,
              availability.options)
    if availability.reason:
        return job.record(status=SKIPPED, reason=availability.reason)
    return run_job(job, availability.python, timeout)


def probe(path: str, backend: str = "gpu", timeout: float = 300.0, ctx: Context = Context()) -> Record:
    """One run of one file on one backend, in its own process: does it load, compile and run
    there, fully accelerated or not? (`make tflite` checks each new file on the GPU with it.)"""
    return measure(path, backend, None, RunSettings(num_runs=1, warmup_runs=0, min_secs=0.0), timeout, ctx)


