"""How files and folders are replaced: whole or not at all. A reader sees the old version or
the new one, never a half-written file, even if the writer dies mid-write; temporary files and
folders that a killed process leaves behind are removed by the next one."""
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
    block ends, removed if it raises. `suffix`: for writers that insist on one (Keras). The
    temporary's name carries the writer's pid: one a killed writer left is removed by the next
    write of that file. A failed write (a full disk) is one error naming `path`; the old file stays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}."
    remove_orphans(path.parent, prefix, suffix)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{prefix}{os.getpid()}-", suffix=suffix)
    os.close(handle)
    try:
        yield temporary
        os.chmod(temporary, _ordinary_mode())
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise write_failed(path, error) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_failed(path: Path, error: OSError) -> OSError:
    """The one-line error for a file that could not be written (a full disk, a quota)."""
    return OSError(error.errno, f"cannot write {str(path)!r}: {error.strerror or error}; "
                                "free space there or choose another OUT")


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


def remove_orphans(folder: Path, prefix: str, suffix: str = "") -> None:
    """Removes the files and folders `{prefix}{pid}-...{suffix}` in `folder` whose process is gone
    (a SIGKILL gives no process the chance to remove its own temporaries)."""
    for path in Path(folder).glob(f"{prefix}*{suffix}"):
        pid = path.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def temporary_directory(prefix: str) -> tempfile.TemporaryDirectory:
    """A TemporaryDirectory named `{prefix}{pid}-...`; each new one first removes those whose
    process is gone (calibration folders reach 100 MB)."""
    remove_orphans(Path(tempfile.gettempdir()), prefix)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-")
