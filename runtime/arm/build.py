"""`python -m runtime.arm.build` (`make arm-env`): builds the emulated aarch64 environment that
runtime.arm.emulate runs .tflite files in. apt and pip only; idempotent: each part is built in a
`.partial` folder and renamed when complete, finished parts are kept, and READY is written last,
after a smoke run under qemu. A step that cannot be done (no root, no apt, offline) ends the
build with one line saying why and exit code 1.

Never installs arm64 packages with apt (python3.11:arm64 would replace the host's python3.11):
they are downloaded and unpacked into a sysroot that qemu-user's -L prefix serves first.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable, Iterator

from .cores import CORES, sysfs_files
from .env import (CACHE_PLUGIN_NAME, GUEST_PYTHON, LITERT_WHEEL, PLUGIN_NAME, PLUGIN_SOURCE, QEMU, RECIPE, ArmEnv, default_env,
                  plugin_source_sha256)

# The arm64 libraries python3.11 and the LiteRT / numpy wheels load (measured set, DESIGN.md).
DEBIAN_PACKAGES = (
    "libc6 libgcc-s1 libstdc++6 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib "
    "libexpat1 zlib1g libffi8 libbz2-1.0 liblzma5 libcrypt1 libuuid1 libssl3 libsqlite3-0 "
    "libtinfo6 libncursesw6 libreadline8").split()
HOST_TOOLS = {"qemu-aarch64": "qemu-user", "gcc": "gcc", "pkg-config": "pkg-config",
              "dpkg-deb": "dpkg", "apt-get": "apt"}
PIP_PLATFORMS = ("manylinux_2_17_aarch64", "manylinux2014_aarch64", "manylinux_2_27_aarch64",
                 "manylinux_2_28_aarch64")
DEB_SRC_LIST = Path("/etc/apt/sources.list.d/arm-env-deb-src.list")  # only while fetching qemu's source
APT = ["apt-get", "-q", "-o", "DPkg::Lock::Timeout=600"]  # other apt users on the machine: wait


class BuildError(Exception):
    """A step that cannot be done here; the message is the one line the user sees."""


def _say(message: str) -> None:
    print(f"arm-env: {message}", flush=True)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def _run(command: list, what: str, **kwargs) -> str:
    try:
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    except OSError as e:
        raise BuildError(f"{what} failed: {e}") from e
    if result.returncode != 0:
        raise BuildError(f"{what} failed: {_last_line(result.stderr or result.stdout)}")
    return result.stdout


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise BuildError(f"needs root to {what}: run `sudo make arm-env`")


def _staged(target: Path, fill: Callable[[Path], None]) -> None:
    """Builds `target` through `fill(partial)` in a sibling folder, renamed when complete."""
    if target.exists():
        return
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        fill(partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(target)


# --- the host: qemu-user, a compiler, glib headers, arm64 package lists --------------------------

def _glib_cflags() -> list[str] | None:
    result = subprocess.run(["pkg-config", "--cflags", "glib-2.0"], capture_output=True, text=True) \
        if shutil.which("pkg-config") else None
    return result.stdout.split() if result and result.returncode == 0 else None


def ensure_host_tools() -> None:
    if not shutil.which("apt-get") or not shutil.which("dpkg"):
        raise BuildError("needs a Debian/Ubuntu host (apt-get and dpkg not found)")
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if not shutil.which(tool)})
    if _glib_cflags() is None:
        missing.append("libglib2.0-dev")
    if missing:
        _need_root(f"install {' '.join(missing)}")
        _say(f"installing {' '.join(missing)}")
        _run([*APT, "install", "-y", "--no-install-recommends", *missing], "apt-get install")


def ensure_arm64_lists() -> None:
    """dpkg knows arm64 and apt has its package lists (apt-get download needs them)."""
    if "arm64" not in _run(["dpkg", "--print-foreign-architectures"], "dpkg").split():
        _need_root("add the arm64 architecture to dpkg")
        _run(["dpkg", "--add-architecture", "arm64"], "dpkg --add-architecture arm64")
    if subprocess.run(["apt-cache", "show", "libc6:arm64"], capture_output=True).returncode != 0:
        _need_root("update apt's package lists for arm64")
        _say("apt-get update (arm64 package lists)")
        _run([*APT, "update"], "apt-get update (offline?)")


# --- base sysroot and wheels -----------------------------------------------------------------

def _precompile(folder: Path) -> None:
    """Bytecode made once here: the guest would otherwise compile the stdlib and numpy under
    emulation on every run (3.11 bytecode is the same on every architecture)."""
    if sys.version_info[:2] == (3, 11):
        subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", str(folder)],
                       capture_output=True)


def fill_base(sysroot: Path) -> None:
    _say(f"downloading and unpacking {len(DEBIAN_PACKAGES)} arm64 Debian packages")
    with tempfile.TemporaryDirectory(prefix="arm-env-debs-") as debs:
        os.chmod(debs, 0o755)  # apt-get download runs as _apt where it can
        _run(["apt-get", "download", *[f"{p}:arm64" for p in DEBIAN_PACKAGES]],
             "apt-get download of the arm64 packages (offline?)", cwd=debs)
        for deb in sorted(Path(debs).glob("*.deb")):
            _run(["dpkg-deb", "-x", deb, sysroot], f"dpkg-deb -x {deb.name}")
    if not (sysroot / GUEST_PYTHON).exists():
        raise BuildError(f"the arm64 packages hold no {GUEST_PYTHON}")
    _precompile(sysroot / "usr" / "lib" / "python3.11")


def _numpy_pin() -> str:
    """The host's numpy version: guest and host then run the same numpy."""
    try:
        return f"numpy=={importlib.metadata.version('numpy')}"
    except importlib.metadata.PackageNotFoundError:
        return "numpy"


def fill_site(site: Path) -> None:
    wanted = [LITERT_WHEEL, _numpy_pin()]
    _say(f"downloading aarch64 wheels: {' '.join(wanted)} and their dependencies")
    platforms = [arg for p in PIP_PLATFORMS for arg in ("--platform", p)]
    with tempfile.TemporaryDirectory(prefix="arm-env-wheels-") as wheels:
        _run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", *platforms,
              "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", "--abi", "abi3",
              "--abi", "none", "-d", wheels, *wanted], "pip download of the aarch64 wheels (offline?)")
        for wheel in sorted(Path(wheels).glob("*.whl")):
            with zipfile.ZipFile(wheel) as z:
                z.extractall(site)
    _precompile(site)


# --- the counting plugin -------------------------------------------------------------------

def _deb_src_lines() -> list[str]:
    """deb-src twins of apt's Debian entries (one-line and deb822 formats), same mirrors."""
    lines = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.list"))]:
        if path.exists() and path != DEB_SRC_LIST:
            lines += ["deb-src" + line.strip()[3:] for line in path.read_text().splitlines()
                      if line.strip().startswith("deb ") and "debian" in line]
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(line.split(":", 1) for line in stanza.splitlines()
                          if ":" in line and not line.startswith(("#", " ")))
            fields = {k.strip(): v.split() for k, v in fields.items()}
            if "deb" not in fields.get("Types", []) or not any("debian" in u for u in fields.get("URIs", [])):
                continue
            signed = f"[signed-by={fields['Signed-By'][0]}] " if fields.get("Signed-By") else ""
            lines += [f"deb-src {signed}{uri} {suite} {' '.join(fields.get('Components', ['main']))}"
                      for uri in fields["URIs"] for suite in fields.get("Suites", [])]
    return lines


@contextlib.contextmanager
def _qemu_source_available(version: str) -> Iterator[None]:
    """apt can fetch qemu's source: a deb-src list for the duration (removed after)."""
    found = subprocess.run(["apt-cache", "showsrc", f"qemu={version}"], capture_output=True, text=True)
    if found.returncode == 0 and found.stdout.strip():
        yield
        return
    _need_root("add a deb-src entry for qemu's source (its qemu-plugin.h)")
    lines = _deb_src_lines()
    if not lines:
        raise BuildError("no Debian entry in apt's sources to add a deb-src twin of")
    DEB_SRC_LIST.write_text("# make arm-env: qemu's source package (removed when fetched)\n"
                            + "\n".join(lines) + "\n")
    try:
        _say("apt-get update (source lists, for qemu-plugin.h)")
        _run([*APT, "update"], "apt-get update (offline?)")
        yield
    finally:
        DEB_SRC_LIST.unlink(missing_ok=True)


# From the installed qemu's own source: the plugin API header ours is checked against, and qemu's
# contrib cache model (set-associative L1 I/D and L2, LRU), built as it is shipped (runtime/arm/emulate.py).
QEMU_SOURCE_FILES = {"include/qemu/qemu-plugin.h": "qemu-plugin.h", "contrib/plugins/cache.c": "cache.c"}


def fetch_qemu_sources(dest: Path) -> None:
    """QEMU_SOURCE_FILES of the installed qemu's Debian source package, into `dest`."""
    version = _run(["dpkg-query", "-W", "-f=${source:Version}", "qemu-user"], "dpkg-query qemu-user").strip()
    with tempfile.TemporaryDirectory(prefix="arm-env-qemu-src-") as src:
        os.chmod(src, 0o755)
        with _qemu_source_available(version):
            _say(f"downloading qemu {version} source (qemu-plugin.h, its cache model)")
            _run([*APT, "source", "--download-only", f"qemu={version}"],
                 "apt-get source qemu (offline?)", cwd=src)
        tarballs = sorted(Path(src).glob("qemu_*.orig.tar.*"))
        if not tarballs:
            raise BuildError(f"qemu {version} source has no .orig tarball")
        _run(["tar", "-xf", tarballs[0], "-C", src, "--wildcards", *(f"*/{path}" for path in QEMU_SOURCE_FILES)],
             "extracting qemu-plugin.h and contrib/plugins/cache.c")
        for path, name in QEMU_SOURCE_FILES.items():
            shutil.copy(next(Path(src).glob(f"*/{path}")), dest / name)


def _compile_plugin(folder: Path, source: Path, library: str) -> None:
    _run(["gcc", "-O2", "-Wall", "-shared", "-fPIC", "-I", folder, *(_glib_cflags() or []),
          "-o", folder / library, source], f"compiling {source.name}")


def fill_plugin(folder: Path) -> None:
    fetch_qemu_sources(folder)
    _say(f"building {PLUGIN_NAME} and {CACHE_PLUGIN_NAME}")
    _compile_plugin(folder, PLUGIN_SOURCE, PLUGIN_NAME)
    _compile_plugin(folder, folder / "cache.c", CACHE_PLUGIN_NAME)
    (folder / "source.sha256").write_text(plugin_source_sha256() + "\n")


# --- per-core sysroots, smoke run, stamp ---------------------------------------------------

def fill_core(env: ArmEnv, name: str, sysroot: Path) -> None:
    _run(["cp", "-al", f"{env.base}/.", sysroot], f"hard-link copy of the sysroot for {name}")
    for relative, text in sysfs_files(CORES[name]).items():
        path = sysroot / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def smoke_test(env: ArmEnv) -> int:
    """Imports LiteRT and numpy on the emulated A76 with the plugin; returns the instructions it counted."""
    from .emulate import guest_command, guest_environment

    with tempfile.TemporaryDirectory(prefix="arm-env-smoke-") as tmp:
        count = Path(tmp) / "count"
        code = "import numpy, ai_edge_litert.interpreter; print(numpy.__version__)"
        _run(guest_command(env, "a76", ["-c", code], count), "smoke run under qemu (import numpy, LiteRT)",
             timeout=600, env=guest_environment(env))
        instructions = int(count.read_text()) if count.exists() else 0
    if instructions <= 0:
        raise BuildError("smoke run under qemu: the counting plugin counted nothing")
    return instructions


def write_stamp(env: ArmEnv, instructions: int) -> None:
    qemu = _run([QEMU, "--version"], "qemu-aarch64 --version").splitlines()[0].strip()
    data = {"recipe": RECIPE, "qemu": qemu, "wheels": [LITERT_WHEEL, _numpy_pin()], "cores": list(CORES),
            "smoke_instructions": instructions, "built": datetime.datetime.now(datetime.timezone.utc).isoformat()}
    partial = env.stamp.with_name("READY.partial")
    partial.write_text(json.dumps(data, indent=1) + "\n")
    partial.rename(env.stamp)


def build(env: ArmEnv) -> None:
    ensure_host_tools()
    ensure_arm64_lists()
    env.root.mkdir(parents=True, exist_ok=True)
    env.stamp.unlink(missing_ok=True)  # whatever changes below, READY comes back only after the smoke run
    _staged(env.base, fill_base)
    _staged(env.site, fill_site)
    if env.plugin.parent.exists() and not env.plugin_is_current:
        _say(f"{PLUGIN_SOURCE.name} changed or {CACHE_PLUGIN_NAME} is missing: rebuilding the plugins")
        shutil.rmtree(env.plugin.parent)
    _staged(env.plugin.parent, fill_plugin)
    for name in CORES:
        _staged(env.sysroot(name), lambda folder, name=name: fill_core(env, name, folder))
    _say("smoke run: LiteRT and numpy under qemu (Cortex-A76), counting instructions")
    write_stamp(env, smoke_test(env))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.arm.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="rebuild from scratch (removes the folder first)")
    args = parser.parse_args(argv)
    env = default_env()
    if args.force:
        shutil.rmtree(env.root, ignore_errors=True)
    if env.ready:
        _say(f"ready at {env.root} (nothing to do)")
        return 0
    try:
        build(env)
    except BuildError as e:
        print(f"arm-env: error: {e}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"arm-env: error: {e.cmd[0]} timed out after {e.timeout:g} s", file=sys.stderr)
        return 1
    except OSError as e:  # e.g. a folder this user may not write
        print(f"arm-env: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("arm-env: interrupted; the part being built was removed, finished parts are kept", file=sys.stderr)
        return 130
    _say(f"ready at {env.root}: cores {', '.join(CORES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
