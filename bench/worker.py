"""One benchmark in its own process: `python -m bench.worker JOB.json RESULT.json`.

The sweep starts one of these per (model, backend, threads), so a delegate that crashes or
hangs takes only its own row down. Peak memory is this process's high-water mark.
"""
from __future__ import annotations

import dataclasses
import json
import resource
import sys
from typing import Callable

from . import android
from .jobs import Job
from .records import FAILED, SKIPPED, Latency, Record
from .runtimes import IN_PROCESS_LOADERS, Skip
from .timing import measure


def rss_mb() -> float | None:
    """Current resident set size (Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def measure_in_process(job: Job) -> Record:
    baseline = rss_mb()  # before the runtime is imported and the model opened
    session = IN_PROCESS_LOADERS[job.backend.name](job)
    timing = measure(session.step, job.settings)
    return job.record(accelerator=session.accelerator, runtime=session.runtime,
                      fully_accelerated=session.fully_accelerated,
                      software_emulated=session.software_emulated, init_ms=session.init_ms,
                      first_ms=timing.first_ms, latency=Latency.from_samples(timing.samples_ms),
                      peak_rss_mb=peak_rss_mb(), baseline_rss_mb=baseline)


RUNNERS: dict[str, Callable[[Job], Record]] = {
    **{name: measure_in_process for name in IN_PROCESS_LOADERS},
    "android": android.run,
}


def run(job: Job) -> Record:
    try:
        return RUNNERS[job.backend.name](job)
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
