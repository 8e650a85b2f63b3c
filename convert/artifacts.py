"""Files that ship: written atomically, described by a manifest, never half-written."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes | str) -> None:
    """Temporary file in the same folder, fsync, rename: readers see the old file or the
    new one, never a partial one, even if the process dies mid-write."""
    payload = data.encode() if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; artifacts are ordinary files
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def ensure_writable(folder: Path) -> None:
    """Fails before any work if `folder` cannot take files (one-line reason, nothing left)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise PermissionError(f"cannot write to OUT folder {str(folder)!r} ({error.strerror}); "
                              "choose a writable OUT=...") from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def update_manifest(folder: Path, common: dict, file_name: str, entry: dict) -> dict:
    """manifest.json keeps one entry per artifact of the variant: re-reads, updates, rewrites."""
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        manifest = {}
    manifest.update(common)
    manifest.setdefault("artifacts", {})[file_name] = entry
    atomic_write(path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
