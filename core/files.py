"""How files and folders are replaced: whole or not at all. A reader sees the old version or
the new one, never a half-written file, even if the writer dies mid-write; temporary folders
that a killed process leaves behind are removed by the next one."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator


def _ordinary_mode() -> int:
    """The mode open() would give a new file (mkstemp makes 0600; outputs are ordinary files)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def replacing(path: Path, suffix: str = ".tmp") -> Iterator[str]:
    """A temporary file beside `path` for the block to write; renamed over `path` when the
    block ends, removed if it raises. `suffix`: for writers that insist on one (Keras)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    try:
        yield temporary
        os.chmod(temporary, _ordinary_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: bytes | str) -> None:
    """`data` into `path`, replaced whole (fsync before the rename)."""
    payload = data.encode() if isinstance(data, str) else data
    with replacing(path) as temporary, open(temporary, "wb") as file:
        file.write(payload)
        file.flush()
        os.fsync(file.fileno())


def ensure_writable(folder: Path) -> None:
    """Fails before any work if `folder` cannot take files (one-line reason). Leaves nothing:
    a run refused later leaves no empty folder; the first file written makes it. It creates
    and removes a folder where `folder` would go: access() says yes to root where nothing can
    be created (/proc, a read-only mount's subfolders)."""
    existing = Path(folder)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        problem = f"{str(existing)!r} is a file, not a folder"
    else:
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".write-check-", dir=existing))
            return
        except OSError as error:
            problem = f"cannot create anything in {str(existing)!r}: {error.strerror}"
    raise PermissionError(f"cannot write to OUT folder {str(folder)!r} ({problem}); choose a writable OUT=...")


def replace_folder(staging: Path, target: Path) -> None:
    """Moves a finished `staging` folder to `target` (a sibling), replacing what was there:
    readers see the old folder or the new one, never a mix (two renames on one filesystem)."""
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old)
    else:
        staging.rename(target)


def alive(pid: int) -> bool:
    """Whether process `pid` still runs (the owner of a temporary folder named after it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def temporary_directory(prefix: str) -> tempfile.TemporaryDirectory:
    """A TemporaryDirectory named `{prefix}{pid}-...`. A SIGKILL gives no process the chance to
    remove its own (calibration folders reach 100 MB), so each new one first removes those
    whose process is gone."""
    for path in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        pid = path.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-")
