"""The arm-<core> bench backends: one emulated core per backend, rows that carry instructions per
inference (a qemu count) where the other backends carry latency. Their latency and memory fields
stay empty: emulation time says nothing about a phone's.
Imported by runtime.backends (also in the legacy environment): standard library at import.
"""
from __future__ import annotations

from ..jobs import BackendSpec, Job
from ..records import FAILED, Record
from .cores import CORES, core
from .emulate import run_on_core
from .env import LITERT_WHEEL, default_env

PREFIX = "arm-"
# Below bench's default --timeout (600 s), so a slow emulation says so itself.
TIMEOUT_S = 570.0
MEMORY_RECORDED = ("l1d_accesses", "l1d_misses", "l1i_misses", "l2_misses")  # of emulate.MEMORY_FIELDS


def backend_names() -> list[str]:
    return [PREFIX + name for name in CORES]


def help_text(name: str) -> str:
    return (f"LiteRT (aarch64, XNNPACK, 1 thread) on an emulated {CORES[name.removeprefix(PREFIX)].title} "
            "(qemu-user; make arm-env): instructions per inference, not a timing; ;caches=on adds memory "
            "accesses and misses through its modelled caches")


def core_of(spec: BackendSpec) -> str:
    return spec.name.removeprefix(PREFIX)


def problem() -> str:
    """Why the emulated environment cannot run (with the fix), "" when it can."""
    return default_env().problem()


def run(job: Job) -> Record:
    c = core(core_of(job.backend))
    qemu = default_env().stamp_data().get("qemu", "qemu-aarch64")
    fields = dict(threads=1, emulated_core=c.title, accelerator=f"XNNPACK on {c.title}",
                  runtime=f"{LITERT_WHEEL.replace('==', ' ')} aarch64 under {qemu}")
    caches = cache_model_wanted(job.backend)
    if caches:
        fields["accelerator"] += f" (caches modelled: {c.caches.summary()})"
    result = run_on_core(job.model.path, c.name, timeout=TIMEOUT_S, caches=caches)
    if not result.ok:
        return job.record(status=FAILED, reason=result.reason, **fields)
    memory = {f"{name}_per_inference": result.memory[name] for name in MEMORY_RECORDED} if caches else {}
    return job.record(instructions_per_inference=result.instructions_per_inference, **memory, **fields)


def cache_model_wanted(spec: BackendSpec) -> bool:
    """`arm-a76;caches=on`: memory accesses and misses too (qemu's cache model; several times slower)."""
    value = spec.options.get("caches", "off")
    if value not in ("on", "off"):
        raise ValueError(f"{spec.name}: caches={value!r}; use caches=on or caches=off")
    return value == "on"
