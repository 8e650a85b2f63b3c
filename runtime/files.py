"""Folders that are replaced whole or not at all, and temporary folders that a killed process
cannot leave behind for long."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def write_failed(path: Path, error: OSError) -> OSError:
    """The one-line error for a file that could not be written (a full disk, a quota)."""
    return OSError(error.errno, f"cannot write {str(path)!r}: {error.strerror or error}; "
                                "free space there or choose another OUT")


def remove_orphans(folder: Path, prefix: str, suffix: str = "") -> None:
    """Removes the files and folders `{prefix}{pid}-...{suffix}` in `folder` whose process is gone
    (a SIGKILL gives no process the chance to remove its own temporaries)."""
    for path in Path(folder).glob(f"{prefix}*{suffix}"):
        pid = path.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def temporary_directory(prefix: str) -> tempfile.TemporaryDirectory:
    """A TemporaryDirectory named `{prefix}{pid}-...`; each new one first removes those whose
    process is gone (calibration folders reach 100 MB)."""
    remove_orphans(Path(tempfile.gettempdir()), prefix)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-")
