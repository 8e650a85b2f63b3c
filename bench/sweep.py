"""Plans the (model x backend x threads) runs and executes each in its own subprocess
(runtime.isolated).

Runs are sequential on purpose: two benchmarks sharing the cores would distort each other.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Iterable

from core.artifacts import ModelInfo
from runtime import android
from runtime.backends import REGISTRY, Availability, Context
from runtime.isolated import run_job, worker_env
from runtime.jobs import BackendSpec, Job, is_keras
from runtime.records import FAILED, SKIPPED, Record
from runtime.timing import RunSettings


@dataclasses.dataclass(frozen=True)
class Planned:
    job: Job
    python: str
    skip: str = ""     # non-empty: not run, and why
    invalid: str = ""  # non-empty: the file failed its checks; a failed row, never run


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
            invalid = "" if is_keras(spec.name) or not model.problem else f"file check failed: {model.problem}"
            for t in threads if backend.threaded(spec) else [None]:
                job = Job(model, spec, t, settings, {**availability.options, "machine": machine})
                planned.append(Planned(job, availability.python, reason, invalid))
    return planned


def describe_plan(planned: Planned) -> str:
    job = planned.job
    threads = f" threads={job.threads}" if job.threads else ""
    head = f"{job.model.name} on {job.backend.label}{threads}"
    if job.backend.name == "android":
        return f"{head}:\n{android.render(android.commands(job))}"
    return f"{head}" + (f"  [skip: {planned.skip}]" if planned.skip else "")


def _run(p: Planned, timeout: float, env: dict[str, str]) -> Record:
    if p.invalid:
        return p.job.record(status=FAILED, reason=p.invalid)
    if p.skip:
        return p.job.record(status=SKIPPED, reason=p.skip)
    return run_job(p.job, p.python, timeout, env)


def execute(planned: Iterable[Planned], timeout: float = 600.0, progress: bool = True,
            on_record: Callable[[list[Record]], None] = lambda records: None) -> list[Record]:
    """Runs the plan in order, with a progress bar; skipped runs become skipped rows, files
    that failed their checks failed rows. `on_record` gets the rows so far after each one
    (the CLI writes them: a late crash or Ctrl-C loses nothing measured)."""
    from tqdm import tqdm

    planned, records, env = list(planned), [], worker_env()
    bar = tqdm(planned, unit="run", disable=not progress, dynamic_ncols=True)
    for p in bar:
        job = p.job
        bar.set_postfix_str(f"{job.model.name} {job.backend.label} t={job.threads or '-'}")
        if p.skip and not p.invalid and job.backend.name == "android":
            bar.write(describe_plan(p))
        records.append(_run(p, timeout, env))
        on_record(records)
        if records[-1].status == FAILED:
            bar.write(f"{job.model.name} {job.backend.label}: {records[-1].status}: "
                      f"{records[-1].reason}")
    return records
