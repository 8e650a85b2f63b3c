"""make arm-env (runtime.arm.build): idempotent, never reports a half-built environment as ready,
and stops with one line where a step cannot be done."""
import os
import subprocess
import sys
import time

import pytest

from runtime.arm.build import _staged
from runtime.arm.cores import CORES
from core.environments import REPO_ROOT
from tests.conftest import require_arm_env


def _build(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runtime.arm.build"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_second_build_is_quick_and_changes_nothing():
    env = require_arm_env()
    stamp = env.stamp.stat().st_mtime_ns
    start = time.monotonic()
    result = _build(dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"arm-env: ready at {env.root} (nothing to do)"
    assert time.monotonic() - start < 10
    assert env.stamp.stat().st_mtime_ns == stamp


def test_each_core_sysroot_carries_that_core_identity():
    env = require_arm_env()
    for core in CORES.values():
        root = env.sysroot(core.name)
        assert (root / "sys/devices/system/cpu/cpu0/regs/identification/midr_el1").read_text() == f"0x{core.midr:016x}\n"
        assert f"CPU part\t: 0x{core.part:03x}\n" in (root / "proc/cpuinfo").read_text()


def test_a_host_without_apt_stops_with_one_line_and_nothing_ready(tmp_path):
    target = tmp_path / "arm-env"
    result = _build({"PATH": str(tmp_path), "ARM_ENV": str(target), "HOME": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "arm-env: error: needs a Debian/Ubuntu host (apt-get and dpkg not found)"]
    assert not (target / "READY").exists()


def test_offline_the_build_stops_with_one_line_and_leaves_nothing_behind(tmp_path):
    require_arm_env()  # the host steps (qemu-user, arm64 package lists) done: the downloads come next
    target = tmp_path / "arm-env"
    no_network = {**os.environ, "ARM_ENV": str(target), "http_proxy": "http://127.0.0.1:9",
                  "https_proxy": "http://127.0.0.1:9"}  # apt and pip both go through it: nothing answers
    result = _build(no_network)
    assert result.returncode == 1
    error, = result.stderr.strip().splitlines()
    assert error.startswith("arm-env: error: apt-get download of the arm64 packages (offline?) failed: ")
    assert not target.exists() or list(target.iterdir()) == []


def test_a_part_whose_build_fails_is_not_kept_and_is_rebuilt_next_time(tmp_path):
    target = tmp_path / "base"

    def fail(folder):
        (folder / "half").write_text("half-built")
        raise RuntimeError("network gone")

    with pytest.raises(RuntimeError, match="network gone"):
        _staged(target, fail)
    assert list(tmp_path.iterdir()) == []
    _staged(target, lambda folder: (folder / "whole").write_text("done"))
    assert sorted(p.name for p in target.iterdir()) == ["whole"]


def test_without_the_environment_tests_skip_locally_and_fail_in_ci(tmp_path):
    missing = {**os.environ, "ARM_ENV": str(tmp_path / "none")}
    missing.pop("CI", None)
    test = "tests/runtime/arm/test_arm_env_build.py::test_each_core_sysroot_carries_that_core_identity"

    def pytest_run(env):
        return subprocess.run([sys.executable, "-m", "pytest", test, "-q", "-p", "no:cacheprovider"],
                              cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)

    local, ci = pytest_run(missing), pytest_run({**missing, "CI": "1"})
    assert local.returncode == 0 and "1 skipped" in local.stdout
    assert ci.returncode == 1 and "make arm-env (CI builds it before the tests)" in ci.stdout
