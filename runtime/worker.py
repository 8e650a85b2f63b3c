"""One benchmark in its own process: `python -m runtime.worker JOB.json RESULT.json`.

runtime.isolated starts one of these per (model, backend, threads), so a delegate that
crashes or hangs takes only its own row down. Peak memory is this process's high-water mark.
"""
from __future__ import annotations

import dataclasses
import json
import sys

from .backends import REGISTRY
from .jobs import Job
from .loaders import Skip
from .records import FAILED, SKIPPED, Record


def run(job: Job) -> Record:
    try:
        return REGISTRY[job.backend.name].run(job)
    except Skip as e:
        return job.record(status=SKIPPED, reason=str(e))
    except Exception as e:  # noqa: BLE001 - any runtime error is this row's result
        return job.record(status=FAILED, reason=f"{type(e).__name__}: {e}"[:500])


def main(argv: list[str]) -> int:
    job_path, result_path = argv
    with open(job_path) as f:
        job = Job.from_dict(json.load(f))
    record = run(job)
    with open(result_path, "w") as f:
        json.dump(dataclasses.asdict(record), f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
