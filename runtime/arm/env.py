"""Where the emulated aarch64 environment lives and whether it is ready (`make arm-env` builds it).

Layout of the folder (REPO_ROOT/.arm-env, or $ARM_ENV):
  base/          arm64 Debian sysroot: the dynamic loader, libc, python3.11 and its stdlib
  cores/<core>/  a hard-linked copy of base plus that core's /proc/cpuinfo and /sys CPU files
  site/          aarch64 wheels (ai-edge-litert, numpy and their dependencies), unpacked
  plugin/        libinsncount.so, the qemu TCG plugin that counts executed instructions, and the
                 sha256 of the insn_count.c it was built from (a changed source rebuilds it);
                 libcache.so, qemu's contrib cache model, built from the installed qemu's source
  READY          written last, by a build that passed its smoke test: without it nothing is used
Standard library only.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

from core.environments import REPO_ROOT

from .cores import CORES

ENV_VAR = "ARM_ENV"
# Bump when the build changes what it produces: an older READY then reads as not ready.
RECIPE = 1
LITERT_WHEEL = "ai-edge-litert==2.3.0"
GUEST_PYTHON = "usr/bin/python3.11"
PLUGIN_NAME = "libinsncount.so"
CACHE_PLUGIN_NAME = "libcache.so"
PLUGIN_SOURCE = Path(__file__).with_name("insn_count.c")
QEMU = "qemu-aarch64"


@dataclasses.dataclass(frozen=True)
class ArmEnv:
    root: Path

    @property
    def base(self) -> Path:
        return self.root / "base"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def plugin(self) -> Path:
        return self.root / "plugin" / PLUGIN_NAME

    @property
    def cache_plugin(self) -> Path:
        return self.plugin.with_name(CACHE_PLUGIN_NAME)

    @property
    def plugin_source_digest(self) -> Path:
        return self.plugin.with_name("source.sha256")

    @property
    def plugin_is_current(self) -> bool:
        """Built from today's insn_count.c (a plugin from before a change lacks what the code asks of it),
        with the cache model beside it."""
        try:
            return (self.plugin_source_digest.read_text().strip() == plugin_source_sha256()
                    and self.cache_plugin.is_file())
        except OSError:
            return False

    @property
    def stamp(self) -> Path:
        return self.root / "READY"

    def sysroot(self, core: str) -> Path:
        return self.root / "cores" / core

    def python(self, core: str) -> Path:
        return self.sysroot(core) / GUEST_PYTHON

    def stamp_data(self) -> dict:
        try:
            return json.loads(self.stamp.read_text())
        except (OSError, ValueError):
            return {}

    def problem(self) -> str:
        """Why the environment cannot be used (with the fix), or "" when it is ready."""
        if not self.stamp.exists():
            return f"no emulated ARM environment at {self.root}: run make arm-env"
        if self.stamp_data().get("recipe") != RECIPE:
            return f"the ARM environment at {self.root} is from an older recipe: run make arm-env"
        if not shutil.which(QEMU):
            return f"{QEMU} not on PATH (Debian package qemu-user): run make arm-env as root"
        missing = [c for c in CORES if not self.python(c).exists()]
        if missing or not self.plugin.exists():
            return f"the ARM environment at {self.root} is incomplete: rm -rf it and run make arm-env"
        if not self.plugin_is_current:
            return (f"the plugins in {self.plugin.parent} predate this checkout's ({PLUGIN_SOURCE.name}, "
                    f"{CACHE_PLUGIN_NAME}): run make arm-env")
        return ""

    @property
    def ready(self) -> bool:
        return not self.problem()


def plugin_source_sha256() -> str:
    return hashlib.sha256(PLUGIN_SOURCE.read_bytes()).hexdigest()


def default_env() -> ArmEnv:
    return ArmEnv(Path(os.environ.get(ENV_VAR) or os.path.join(REPO_ROOT, ".arm-env")))
