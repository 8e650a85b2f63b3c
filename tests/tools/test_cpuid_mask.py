"""tools/cpuid_mask.c: a process preloaded with it sees an AVX2-only CPU where CPUID faulting exists,
and says plainly that nothing is masked where it does not."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "tools" / "cpuid_mask.c"
# numpy reads CPUID when it is imported: what it finds is what XNNPACK's cpuinfo would find.
NUMPY_FEATURES = "from numpy._core._multiarray_umath import __cpu_features__ as f; print(f['AVX2'], f['AVX512F'])"


@pytest.fixture(scope="module")
def mask_library(tmp_path_factory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build tools/cpuid_mask.c")
    library = tmp_path_factory.mktemp("mask") / "cpuid_mask.so"
    subprocess.run([compiler, "-O2", "-Wall", "-Werror", "-shared", "-fPIC", "-o", str(library), str(SOURCE)],
                   check=True)
    return library


def test_features_are_masked_where_cpuid_faulting_exists_and_it_says_so_where_not(mask_library):
    env = {**os.environ, "LD_PRELOAD": str(mask_library), "CPUID_MASK_REQUIRED": "1"}
    done = subprocess.run([sys.executable, "-c", NUMPY_FEATURES], capture_output=True, text=True, env=env)
    if "cpuid_fault" in Path("/proc/cpuinfo").read_text().split():
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["True", "False"]  # AVX2 stays, AVX-512 is gone
        assert "AVX2-only" in done.stderr
    else:  # this machine: nothing can be masked, and a run that needs the mask stops
        assert done.returncode == 3 and done.stdout == ""
        assert "features NOT masked" in done.stderr


def test_a_real_segmentation_fault_still_kills_the_process(mask_library):
    env = {**os.environ, "LD_PRELOAD": str(mask_library), "CPUID_MASK_QUIET": "1"}
    done = subprocess.run([sys.executable, "-c", "import ctypes; ctypes.string_at(0)"], env=env,
                          capture_output=True)
    assert done.returncode == -11  # SIGSEGV, not a hang in the handler
