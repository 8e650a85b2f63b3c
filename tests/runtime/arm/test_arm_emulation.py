"""runtime.arm: a real .tflite on emulated ARM cores under qemu-user (make arm-env): outputs equal to
x86 LiteRT's, a positive instruction count per inference, and failures as one-line results."""
import subprocess
import sys

import numpy as np
import pytest

from runtime.arm import CORES, ArmEnv, run_on_core
from runtime.arm.emulate import read_cache_log
from runtime.arm.numerics import agreement, host_outputs
from core.environments import REPO_ROOT
from tests.conftest import require_arm_env


@pytest.fixture(scope="module")
def runs(tiny_int8):
    """The tiny int8 B0 on an in-order core with A53-tuned kernels and on a dot-product core."""
    require_arm_env()
    return {core: run_on_core(tiny_int8, core) for core in ("a53", "a76")}


@pytest.mark.parametrize("core", ["a53", "a76"])
def test_int8_outputs_on_an_emulated_core_equal_x86_bit_for_bit(runs, tiny_int8, core):
    run = runs[core]
    assert run.ok, run.reason
    assert run.instructions_per_inference > 0
    assert run.instructions_first_run > run.instructions_per_inference  # start-up is counted apart
    host = host_outputs(tiny_int8, run.inputs)
    assert run.outputs[0].dtype == np.uint8
    assert np.array_equal(host[0], run.outputs[0])
    assert agreement(tiny_int8, run).bit_exact


def test_a53_kernels_execute_more_instructions_than_a76_dot_product_kernels(runs):
    # XNNPACK's int8 GEMMs: multiply-accumulate by lane on A53, SDOT (4 products an instruction) on A76.
    assert runs["a53"].instructions_per_inference > 1.5 * runs["a76"].instructions_per_inference


def test_unknown_core_is_a_one_line_error_listing_the_valid_ones(tiny_int8):
    with pytest.raises(ValueError, match="unknown ARM core 'a99'; valid: a53, a72, a76, n1, v9"):
        run_on_core(tiny_int8, "a99")
    cli = subprocess.run([sys.executable, "-m", "runtime.arm", str(tiny_int8), "--cores", "a76,a99"],
                         cwd=REPO_ROOT, capture_output=True, text=True)
    assert cli.returncode == 2
    assert cli.stderr.strip().splitlines() == [
        "runtime.arm: error: argument --cores: unknown ARM core 'a99'; valid: " + ", ".join(CORES)]


def test_missing_environment_is_a_failed_result_naming_make_arm_env(tiny_int8, tmp_path):
    run = run_on_core(tiny_int8, "a76", env=ArmEnv(tmp_path / "none"))
    assert not run.ok and "make arm-env" in run.reason and "\n" not in run.reason


def test_damaged_file_is_a_failed_result_with_a_one_line_reason(tmp_path):
    require_arm_env()
    damaged = tmp_path / "damaged.tflite"
    damaged.write_bytes(b"TFL3" + bytes(range(256)) * 8)
    run = run_on_core(damaged, "a53")
    assert not run.ok
    assert run.reason.startswith("LiteRT cannot open it (")  # found on the host, before qemu starts
    assert "\n" not in run.reason and run.instructions_per_inference is None


def test_a_run_past_its_timeout_is_killed_and_reported(tiny_int8):
    require_arm_env()
    run = run_on_core(tiny_int8, "a53", timeout=0.5)
    assert not run.ok and run.reason == "timed out after 0.5 s (qemu killed)"


def test_stacked_samples_run_one_after_the_other_and_count_the_same_per_inference(runs, tiny_int8):
    pixels = np.random.default_rng(2).integers(0, 256, (3, 1, 64, 64, 3), dtype=np.uint8)
    run = run_on_core(tiny_int8, "a76", inputs=[pixels], stacked=True)
    assert run.ok, run.reason
    assert run.outputs[0].shape == (3, 1, 10)
    for sample, output in zip(pixels, run.outputs[0]):
        assert np.array_equal(host_outputs(tiny_int8, [sample])[0], output)
    assert agreement(tiny_int8, run, stacked=True).samples == 3
    single = runs["a76"].instructions_per_inference
    # Nearly the same work whatever the pixels: the stacked run counted 0.1% more per inference than the
    # single one (1,204,247 against 1,202,978 on A76), so equal within 0.5%, not exactly.
    assert abs(run.instructions_per_inference - single) < 5e-3 * single


def test_per_function_counts_add_up_and_name_each_cores_kernels(tiny_int8):
    require_arm_env()
    kernels = {}
    for core in ("a53", "a76"):
        run = run_on_core(tiny_int8, core, by_symbol=True)
        assert run.ok, run.reason
        named = sum(run.instructions_by_symbol.values())
        assert 0.98 * run.instructions_per_inference <= named <= run.instructions_per_inference
        kernels[core] = " ".join(symbol for symbol in run.instructions_by_symbol if symbol.startswith("xnn_qs8"))
    assert "cortex_a53" in kernels["a53"] and "neondot" not in kernels["a53"]  # XNNPACK's A53-tuned GEMMs
    assert "neondot" in kernels["a76"]  # SDOT on a dot-product core


CACHE_REPORT = """core #, data accesses, data misses, dmiss rate, insn accesses, insn misses, imiss rate, l2 accesses, l2 misses, l2 miss rate
0       1200           30           2.5000%  5000           12           0.2400%  42             7            16.6667%

address, data misses, instruction
"""


def test_the_cache_models_report_is_read_into_named_totals():
    assert read_cache_log(CACHE_REPORT) == {"l1d_accesses": 1200, "l1d_misses": 30, "l1i_accesses": 5000,
                                            "l1i_misses": 12, "l2_accesses": 42, "l2_misses": 7}
    with pytest.raises(ValueError, match="expected 6 totals"):
        read_cache_log(CACHE_REPORT.replace("42             7            16.6667%", ""))


def test_the_cache_model_counts_one_inferences_accesses_and_misses(runs, tiny_int8):
    run = run_on_core(tiny_int8, "a76", caches=True)
    assert run.ok, run.reason
    memory = run.memory
    assert run.instructions_per_inference == runs["a76"].instructions_per_inference  # the model does not change them
    assert 0 < memory["l1d_misses"] < memory["l1d_accesses"] < run.instructions_per_inference
    assert 0 <= memory["l2_misses"] <= memory["l2_accesses"]
    # the L2 sees exactly the L1 misses (data and instruction), up to the halving of two runs' difference
    assert abs(memory["l2_accesses"] - memory["l1d_misses"] - memory["l1i_misses"]) <= 1
