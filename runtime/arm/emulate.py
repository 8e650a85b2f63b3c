"""Runs a .tflite on one emulated ARM core (qemu-user, `make arm-env`) and counts the instructions
one inference executes: the file runs twice, with N and with N + 2 invoke() calls (N: the input samples,
1 by default), under a qemu plugin that counts every executed guest instruction; half the difference is
one warm inference (start-up, loading and the samples' inferences cancel out). Both runs go side by
side, on the same inputs (default: one seeded random sample). `by_symbol`: the plugin counts per
block too, and the same difference is taken per function (runtime/arm/symbols.py): which XNNPACK
kernels an inference runs on this core, and how many instructions each. `caches`: qemu's contrib
cache model runs beside the counter with the core's L1 and L2 geometry (cores.Caches) and the same
difference gives one inference's memory accesses and misses (a model: no prefetchers, no L3, LRU).

Never raises for what happens in the emulator: a bad file, a qemu crash or a timeout is a result
with ok=False and a one-line reason. An unknown core name is the caller's error (ValueError).
"""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from core.files import temporary_directory

from .cores import core as core_named
from .env import QEMU, ArmEnv, default_env

GUEST_SCRIPT = Path(__file__).with_name("guest.py")


@dataclasses.dataclass
class ArmRun:
    core: str
    ok: bool
    reason: str = ""                              # why not ok, one line
    instructions_per_inference: int | None = None
    instructions_first_run: int | None = None     # the shorter run: start-up, load, one inference per sample
    inputs: list | None = None                    # numpy arrays, in the model's input order (stacked: as given)
    outputs: list | None = None                   # stacked on a samples axis where the inputs were
    seconds: float = 0.0                          # wall time of the emulation (both runs)
    instructions_by_symbol: dict[str, int] | None = None  # by_symbol: per function, one warm inference
    memory: dict[str, int] | None = None          # caches: MEMORY_FIELDS of one warm inference (cache model)


# qemu's contrib cache model's totals, in the order it prints them (rates left out): per inference.
MEMORY_FIELDS = ("l1d_accesses", "l1d_misses", "l1i_accesses", "l1i_misses", "l2_accesses", "l2_misses")


def guest_environment(env: ArmEnv) -> dict[str, str]:
    """A clean environment for the guest (a host LD_PRELOAD would be loaded into it)."""
    return {"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir(), "LANG": "C.UTF-8",
            "PYTHONPATH": str(env.site), "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",  # the two runs then differ only by their invoke() calls
            "OPENBLAS_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def guest_command(env: ArmEnv, core: str, args: list[str], count_file: Path, blocks_file: Path | None = None,
                  cache_log: Path | None = None) -> list[str]:
    """qemu-aarch64 running the sysroot's python3.11 as `core`, counting into `count_file` (and per
    translated block into `blocks_file`; and through the core's caches, modelled, into `cache_log`)."""
    c = core_named(core)
    plugin = f"{env.plugin},out={count_file}" + (f",blocks={blocks_file}" if blocks_file else "")
    caches = (["-plugin", f"{env.cache_plugin},{c.caches.plugin_args()}", "-d", "plugin", "-D", str(cache_log)]
              if cache_log else [])
    return [QEMU, "-L", str(env.sysroot(core)), "-cpu", c.qemu_cpu, "-plugin", plugin, *caches,
            str(env.python(core)), *args]


def read_cache_log(text: str) -> dict[str, int]:
    """The cache model's totals (MEMORY_FIELDS) from its report: a header line starting "core #",
    then a line per core; one core in user mode."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("core #"))
    numbers = [int(token) for token in lines[header + 1].split()[1:] if not token.endswith("%")]
    if len(numbers) != len(MEMORY_FIELDS):
        raise ValueError(f"expected {len(MEMORY_FIELDS)} totals, found {len(numbers)}: {lines[header + 1]!r}")
    return dict(zip(MEMORY_FIELDS, numbers))


def _reason(returncode: int, stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    # qemu reports a guest crash as "qemu: uncaught target signal 11 (Segmentation fault) ..."
    crash = [line for line in lines if line.startswith("qemu:")]
    tail = (crash or lines or ["no error output"])[-1][:300]
    if returncode < 0:
        return f"qemu killed by {signal.Signals(-returncode).name}: {tail}"
    return f"exit code {returncode}: {tail}"


def _start(env: ArmEnv, core: str, model: Path, inputs: str, samples: int, tmp: Path,
           invokes: int, by_symbol: bool, caches: bool) -> subprocess.Popen:
    args = [str(GUEST_SCRIPT), str(model), inputs, str(tmp / f"out{invokes}.npz"), str(samples), str(invokes)]
    blocks = None
    if by_symbol:
        args.append(str(tmp / f"maps{invokes}"))
        blocks = tmp / f"blocks{invokes}"
    command = guest_command(env, core, args, tmp / f"count{invokes}", blocks,
                            tmp / f"caches{invokes}" if caches else None)
    return subprocess.Popen(command, cwd=tmp, env=guest_environment(env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _finish(procs: dict[int, subprocess.Popen], deadline: float) -> dict[int, str]:
    """Waits for every run; returns the stderr of each. Kills them all at the deadline."""
    errors = {}
    try:
        for n, proc in procs.items():
            errors[n] = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))[1].decode(errors="replace")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return errors


def _save_inputs(model: Path, inputs: list | None, stacked: bool, tmp: Path) -> str:
    """The guest's inputs file, each input stacked on a samples axis. Without `inputs`, one sample
    of the bench workers' seeded input (runtime.loaders.random_input), made here: the guest runs
    without the project on its path."""
    import numpy as np

    if inputs is None:
        from ai_edge_litert.interpreter import Interpreter

        from ..loaders import random_input

        details = Interpreter(model_path=str(model)).get_input_details()
        inputs, stacked = [random_input(d["shape"], d["dtype"])[None] for d in details], True
    np.savez(tmp / "inputs.npz", **{f"input_{i}": x if stacked else x[None] for i, x in enumerate(inputs)})
    return str(tmp / "inputs.npz")


def _arrays(path: Path, prefix: str, stacked: bool) -> list:
    import numpy as np

    with np.load(path) as saved:
        arrays = [saved[f"{prefix}_{i}"] for i in range(sum(k.startswith(prefix) for k in saved.files))]
    return arrays if stacked else [a[0] for a in arrays]


def _collect(core: str, procs: dict, errors: dict, tmp: Path, stacked: bool, by_symbol: bool, caches: bool,
             seconds: float) -> ArmRun:
    for n, proc in procs.items():
        if proc.returncode != 0:
            which = f"{n} invoke{'s' if n > 1 else ''}"
            return ArmRun(core, False, f"emulated run ({which}) failed: {_reason(proc.returncode, errors[n])}",
                          seconds=seconds)
    try:
        counts = {n: int((tmp / f"count{n}").read_text()) for n in procs}
    except (OSError, ValueError):
        return ArmRun(core, False, "the counting plugin wrote no count (qemu exited abnormally)", seconds=seconds)
    short, long = sorted(procs)
    per_inference = (counts[long] - counts[short]) // 2
    if per_inference <= 0:
        return ArmRun(core, False, f"{long} invokes counted no more than {short} ({counts[long]} vs {counts[short]})",
                      seconds=seconds)
    try:
        per_symbol = _by_symbol(tmp, short, long) if by_symbol else None
    except OSError:
        return ArmRun(core, False, "the counting plugin wrote no per-block counts (qemu exited abnormally)",
                      seconds=seconds)
    try:
        memory = _memory_per_inference(tmp, short, long) if caches else None
    except (OSError, ValueError, StopIteration):
        return ArmRun(core, False, "the cache model wrote no totals (qemu exited abnormally)", seconds=seconds)
    out = tmp / f"out{short}.npz"
    return ArmRun(core, True, instructions_per_inference=per_inference, instructions_first_run=counts[short],
                  inputs=_arrays(out, "input", stacked), outputs=_arrays(out, "output", stacked), seconds=seconds,
                  instructions_by_symbol=per_symbol, memory=memory)


def _memory_per_inference(tmp: Path, short: int, long: int) -> dict[str, int]:
    """Each cache total of one warm inference: half the difference between the runs, as for counts."""
    runs = {n: read_cache_log((tmp / f"caches{n}").read_text()) for n in (short, long)}
    return {field: max(0, (runs[long][field] - runs[short][field]) // 2) for field in MEMORY_FIELDS}


def _by_symbol(tmp: Path, short: int, long: int) -> dict[str, int]:
    """Per function, half the difference between the runs: one warm inference (functions that
    only the start-up or the samples' reads ran cancel out; what is left below 0 is dropped)."""
    from .symbols import instructions_by_symbol

    runs = {n: instructions_by_symbol((tmp / f"blocks{n}").read_text(), (tmp / f"maps{n}").read_text())
            for n in (short, long)}
    per_inference = {name: (runs[long][name] - runs[short].get(name, 0)) // 2 for name in runs[long]}
    return dict(sorted(((name, count) for name, count in per_inference.items() if count > 0),
                       key=lambda item: -item[1]))


def run_on_core(model: str | os.PathLike, core: str, inputs: list | None = None, timeout: float = 600.0,
                env: ArmEnv | None = None, stacked: bool = False, by_symbol: bool = False,
                caches: bool = False) -> ArmRun:
    """Instructions per inference of `model` on the emulated `core`, and its outputs for `inputs`: one
    array per model input (default: seeded random pixels, returned in .inputs); `stacked`: each holds
    several samples on a new first axis, run one after the other, and the outputs come back stacked
    the same way; `by_symbol`: per function too; `caches`: memory accesses and misses of one inference
    through the core's caches (qemu's contrib cache model, cores.Caches; several times slower).
    ValueError for an unknown core."""
    core_named(core)  # unknown names fail here, before anything runs
    env = env or default_env()
    if problem := env.problem():
        return ArmRun(core, False, problem)
    model = Path(model).resolve()
    if not model.is_file():
        return ArmRun(core, False, f"no such file: {model}")
    start = time.monotonic()
    with temporary_directory("arm-run-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            given = _save_inputs(model, inputs, stacked, tmp)
        except ValueError as error:  # LiteRT refuses the file on the host too
            return ArmRun(core, False, f"LiteRT cannot open it ({' '.join(str(error).split())[:160]})")
        samples = len(inputs[0]) if stacked and inputs else 1
        procs = {n: _start(env, core, model, given, samples, tmp, n, by_symbol, caches)
                 for n in (samples, samples + 2)}
        try:
            errors = _finish(procs, start + timeout)
        except subprocess.TimeoutExpired:
            return ArmRun(core, False, f"timed out after {timeout:g} s (qemu killed)",
                          seconds=time.monotonic() - start)
        return _collect(core, procs, errors, tmp, stacked, by_symbol, caches, time.monotonic() - start)


def checked_run(model: str | os.PathLike, core: str, by_symbol: bool = False) -> ArmRun:
    """run_on_core for a study or profile that needs its figures: RuntimeError with the reason otherwise."""
    run = run_on_core(model, core, by_symbol=by_symbol)
    if not run.ok:
        raise RuntimeError(f"{Path(model).name} on the emulated {core}: {run.reason}")
    return run


def instructions_per_inference(model: str | os.PathLike, core: str) -> int:
    return checked_run(model, core).instructions_per_inference
