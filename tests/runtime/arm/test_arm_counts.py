"""runtime/arm/counts.csv, the committed emulated counts make tflite compares variants with, and
make arm-counts, which writes it."""
import subprocess
import sys

import pytest

from convert.report import size_class_line
from core.environments import REPO_ROOT
from runtime.arm import CORES
from runtime.arm.counts import TABLE, read_counts, size_class_on_core
from tests.conftest import require_arm_env


def test_the_table_ranks_every_shipped_family_of_s_and_b0_in_int8_on_every_core():
    counts = read_counts()
    for base in ("s", "b0"):
        for core in CORES:
            found = size_class_on_core(base, "int8", core)
            assert found is not None, (base, core)
            assert base in found["million_instructions"] and found["fewest"] in found["million_instructions"]
            assert found["million_instructions"][found["fewest"]] == min(found["million_instructions"].values())
    assert all(c.million_instructions > 0 and c.input_size == 224 for c in counts)
    assert len({(c.variant, c.precision, c.core) for c in counts}) == len(counts)  # one row per key


def test_fp16_is_ranked_by_fp32_counts_and_an_unknown_class_by_none():
    assert size_class_on_core("s", "fp16", "a76")["precision"] == "fp32"
    assert size_class_on_core("s", "int16x8", "a76") is None
    assert size_class_on_core("my_own_table", "int8", "a76") is None


def _table(tmp_path, rows):
    path = tmp_path / "counts.csv"
    path.write_text("base,variant,precision,input_size,core,million_instructions\n"
                    + "".join(f"s,{v},int8,224,a53,{m}\n" for v, m in rows))
    return path


def test_the_summary_names_the_fewest_and_the_others_as_ratios(tmp_path):
    table = _table(tmp_path, [("s", 1000.0), ("ghost_s", 600.0), ("ghostlite_s", 500.0)])
    found = size_class_on_core("s", "int8", "a53", table)
    assert found["fewest"] == "ghostlite_s"
    line = size_class_line("ghost_s", {"status": "same outputs", "size_class": found})
    assert "make tflite VARIANT=ghostlite_s executes fewer instructions: ghostlite_s 500.0 M, " in line
    assert "ghost_s 600.0 M (1.20x)" in line and "s 1,000.0 M (2.00x)" in line and "emulated" in line
    assert "ghostlite_s executes the fewest instructions of its size class" in size_class_line(
        "ghostlite_s", {"size_class": found})
    uncounted = size_class_on_core("s", "int8", "a53", table)  # a design of s's class, not in the table
    assert "ghostr4_s is not counted (make arm-counts ARM_VARIANTS=ghostr4_s)" in size_class_line(
        "ghostr4_s", {"size_class": uncounted})
    assert size_class_line("ghost_s", {"status": "skipped"}) == ""


def test_a_damaged_table_is_a_note_not_a_failed_job(tmp_path):
    damaged = tmp_path / "counts.csv"
    damaged.write_text("base,variant\ns,ghost_s\n")
    found = size_class_on_core("s", "int8", "a76", damaged)
    assert "make arm-counts" in found["unavailable"]
    assert size_class_line("ghost_s", {"size_class": found}).startswith("\nnote: no ARM counts")


@pytest.mark.parametrize("args,message", [
    (["--variants", "nope_s"], "unknown variant 'nope_s'"),
    (["--cores", "a99"], "unknown ARM core 'a99'"),
    (["--variants", ","], "give at least one name"),
])
def test_make_arm_counts_refuses_bad_names_in_one_line_and_writes_nothing(tmp_path, args, message):
    table = tmp_path / "counts.csv"
    done = subprocess.run([sys.executable, "-m", "studies.arm_counts", *args, "--table", str(table),
                           "--files", str(tmp_path / "files")], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not table.exists() and not (tmp_path / "files").exists()


WITH_TINY = ("import sys; from tests.small_models import register_tiny; register_tiny(); "
             "from studies.arm_counts import main; raise SystemExit(main(sys.argv[1:]))")


def test_a_rerun_over_one_variant_updates_its_rows_and_keeps_the_others(tmp_path):
    require_arm_env()
    table = tmp_path / "counts.csv"
    table.write_text(TABLE.read_text())
    before = {(c.variant, c.precision, c.core): c for c in read_counts(table)}
    done = subprocess.run([sys.executable, "-c", WITH_TINY, "--variants", "tiny", "--cores", "a76",
                           "--table", str(table), "--files", str(tmp_path / "files")],
                          cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    after = {(c.variant, c.precision, c.core): c for c in read_counts(table)}
    assert {k: v for k, v in after.items() if k[0] != "tiny"} == before
    assert {k for k in after if k[0] == "tiny"} == {("tiny", "int8", "a76"), ("tiny", "fp32", "a76")}
    assert after[("tiny", "int8", "a76")].million_instructions < after[("tiny", "fp32", "a76")].million_instructions
