"""Plans the (model x backend x threads) runs and executes each in its own subprocess.

Runs are sequential on purpose: two benchmarks sharing the cores would distort each other.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
from typing import Iterable

from . import android
from .artifacts import ModelInfo, describe
from runtime.environments import REPO_ROOT, with_repo_on_path

from .backends import REGISTRY, Availability, Context
from .jobs import BackendSpec, Job, is_keras
from .records import FAILED, SKIPPED, Record
from .timing import RunSettings


@dataclasses.dataclass(frozen=True)
class Planned:
    job: Job
    python: str
    skip: str = ""  # non-empty: not run, and why


def _checked(specs: list[BackendSpec], ctx: Context) -> list[tuple[BackendSpec, Availability]]:
    """Each spec with its availability, plus the `also` backends that are available."""
    checked, names = [], {s.name for s in specs}
    for spec in specs:
        checked.append((spec, REGISTRY[spec.name].check(spec, ctx)))
        for extra in REGISTRY[spec.name].also:
            if extra not in names:
                availability = REGISTRY[extra].check(BackendSpec(extra), ctx)
                if not availability.reason:
                    checked.append((BackendSpec(extra), availability))
    return checked


def plan(models: list[ModelInfo], specs: list[BackendSpec], threads: list[int],
         settings: RunSettings, ctx: Context, machine: str = "") -> list[Planned]:
    checked, planned, keras_seen = _checked(specs, ctx), [], set()
    for model in models:
        for spec, availability in checked:
            backend = REGISTRY[spec.name]
            if is_keras(spec.name):  # one TensorFlow row per Keras model, not per .tflite file
                key = (spec.label, model.keras_key)
                if key in keras_seen:
                    continue
                keras_seen.add(key)
            reason = availability.reason or backend.skip_model(model)
            for t in threads if backend.threaded(spec) else [None]:
                job = Job(model, spec, t, settings, {**availability.options, "machine": machine})
                planned.append(Planned(job, availability.python, reason))
    return planned


def worker_env() -> dict[str, str]:
    env = with_repo_on_path(dict(os.environ))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "XDG_RUNTIME_DIR" not in env:  # LiteRT's GPU accelerator (Dawn) needs one
        env["XDG_RUNTIME_DIR"] = _private_runtime_dir().name
    return env


@functools.cache
def _private_runtime_dir() -> tempfile.TemporaryDirectory:
    """One per process, removed when it exits (a directory per job used to stay in /tmp)."""
    return tempfile.TemporaryDirectory(prefix="bench-xdg-")


def _failure(returncode: int, stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    # An abseil fatal error ends in a stack trace; the reason is its "Check failed" line.
    lines = [line for line in lines if not line.startswith(("@", "***"))]
    fatal = [line for line in lines if "Check failed" in line or line.startswith("F0000")]
    tail = (fatal or lines or ["no error output"])[-1][:300]
    if returncode < 0:
        return f"crashed with {signal.Signals(-returncode).name}: {tail}"
    return f"worker exited with code {returncode}: {tail}"


def run_job(job: Job, python: str = sys.executable, timeout: float = 600.0,
            env: dict[str, str] | None = None) -> Record:
    """Runs one job in a fresh worker process; a crash, hang or error is a failed row."""
    with tempfile.TemporaryDirectory(prefix="bench-job-") as tmp:
        job_path, result_path = os.path.join(tmp, "job.json"), os.path.join(tmp, "result.json")
        with open(job_path, "w") as f:
            json.dump(job.to_dict(), f)
        proc = subprocess.Popen([python, "-m", "bench.worker", job_path, result_path],
                                cwd=REPO_ROOT, env=env or worker_env(), text=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)  # its own group: a hang is killed whole
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return job.record(status=FAILED, reason=f"timed out after {timeout:g} s (killed)")
        if proc.returncode == 0 and os.path.exists(result_path):
            with open(result_path) as f:
                return Record.from_dict(json.load(f))
        return job.record(status=FAILED, reason=_failure(proc.returncode, stderr))


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


def describe_plan(planned: Planned) -> str:
    job = planned.job
    threads = f" threads={job.threads}" if job.threads else ""
    head = f"{job.model.name} on {job.backend.label}{threads}"
    if job.backend.name == "android":
        return f"{head}:\n{android.render(android.commands(job))}"
    return f"{head}" + (f"  [skip: {planned.skip}]" if planned.skip else "")


def execute(planned: Iterable[Planned], timeout: float = 600.0,
            progress: bool = True) -> list[Record]:
    """Runs the plan in order, with a progress bar; skipped runs become skipped rows."""
    from tqdm import tqdm

    planned, records, env = list(planned), [], worker_env()
    bar = tqdm(planned, unit="run", disable=not progress, dynamic_ncols=True)
    for p in bar:
        job = p.job
        bar.set_postfix_str(f"{job.model.name} {job.backend.label} t={job.threads or '-'}")
        if p.skip:
            if job.backend.name == "android":
                bar.write(describe_plan(p))
            records.append(job.record(status=SKIPPED, reason=p.skip))
            continue
        records.append(run_job(job, p.python, timeout, env))
        if not records[-1].ok:
            bar.write(f"{job.model.name} {job.backend.label}: {records[-1].status}: "
                      f"{records[-1].reason}")
    return records
