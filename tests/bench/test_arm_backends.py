"""The arm-<core> backends through the real bench command: rows that carry instructions per
inference (qemu count) instead of times, marked emulated, in the table, JSON and plots."""
import json
import os

import pytest


from bench.cli import main as bench_main
from runtime.arm import CORES
from runtime.backends import REGISTRY
from runtime.records import SKIPPED
from tests.conftest import require_arm_env


def test_every_emulated_core_is_a_backend_that_says_it_counts_instructions():
    for core in CORES:
        assert "instructions per inference, not a timing" in REGISTRY[f"arm-{core}"].help


def _bench(model: str, out, backends: str, exit_code: int = 0) -> dict:
    assert bench_main([model, "--backends", backends, "--num_threads", "1", "--out", str(out),
                       "--no_kernels", "--no_progress"]) == exit_code
    return json.loads((out / "results.json").read_text())


def test_arm_rows_carry_instructions_not_latency(int8_model, tmp_path):
    require_arm_env()
    row, = _bench(int8_model, tmp_path, "arm-a76")["records"]
    assert row["status"] == "ok", row["reason"]
    assert row["backend"] == "arm-a76" and row["threads"] == 1 and row["emulated_core"] == "Cortex-A76"
    assert row["instructions_per_inference"] > 0
    assert row["latency"] is None and row["init_ms"] is None and row["peak_rss_mb"] is None
    table = (tmp_path / "results.md").read_text()
    assert "EMULATED (qemu instruction count, not a timing)" in table and "M instr/inf" in table
    assert (tmp_path / "arm_instructions.png").stat().st_size > 0
    assert not (tmp_path / "latency_bars.png").exists()  # no timed row, no latency plot


def test_without_the_environment_arm_rows_are_skipped_saying_how_to_build_it(int8_model, tmp_path, monkeypatch):
    monkeypatch.setenv("ARM_ENV", str(tmp_path / "no-arm-env"))
    row, = _bench(int8_model, tmp_path / "out", "arm-a53", exit_code=1)["records"]  # 1: no row measured
    assert row["status"] == SKIPPED
    assert row["reason"] == f"no emulated ARM environment at {tmp_path / 'no-arm-env'}: run make arm-env"
    assert os.path.basename(row["path"]) == "b0_int8.tflite"


@pytest.mark.slow  # 50 s; the cache model itself is checked by tests/runtime/arm in the default suite
def test_caches_on_adds_memory_accesses_and_misses_to_the_row(int8_model, tmp_path):
    require_arm_env()
    row, = _bench(int8_model, tmp_path, "arm-a53;caches=on")["records"]
    assert row["status"] == "ok", row["reason"]
    assert 0 < row["l1d_misses_per_inference"] < row["l1d_accesses_per_inference"] < row["instructions_per_inference"]
    assert row["l2_misses_per_inference"] >= 0 and "caches modelled: L1I 32 KB 2-way" in row["accelerator"]
    assert "M L1D acc / miss / L2 miss" in (tmp_path / "results.md").read_text()


def test_a_bad_caches_option_is_a_failed_row_naming_the_valid_values(int8_model, tmp_path):
    require_arm_env()
    row, = _bench(int8_model, tmp_path, "arm-a76;caches=yes", exit_code=1)["records"]
    assert row["status"] == "failed" and "caches='yes'; use caches=on or caches=off" in row["reason"]
