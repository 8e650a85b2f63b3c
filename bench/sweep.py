"""Plans the (model x backend x threads) runs and executes each in its own subprocess
(runtime.isolated).

Runs are sequential on purpose: two benchmarks sharing the cores would distort each other.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable

from runtime import android
from runtime.artifacts import ModelInfo
from runtime.backends import REGISTRY, Availability, Context
from runtime.isolated import run_job, worker_env
from runtime.jobs import BackendSpec, Job, is_keras
from runtime.records import SKIPPED, Record
from runtime.timing import RunSettings


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
