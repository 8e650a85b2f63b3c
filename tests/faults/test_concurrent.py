"""Two commands writing into one folder at once, as two terminals or a CI matrix would: both
finish, and the folder holds both results (the manifest is updated under a lock, every file is
replaced atomically)."""
import json
import os
import subprocess
import sys

import pytest

from core.artifacts import MANIFEST, sha256
from tests.faults.conftest import CLASSES, SIZE, VARIANT
from tests.faults.outcome import CLEAR, REPO_ROOT, TINY_COMMAND, WRONG, Outcome, files_under, is_temporary

GROUP = "two commands into one folder"
PRECISIONS = ("fp32", "fp16")


def _convert(out, precision: str, data, log) -> subprocess.Popen:
    argv = [VARIANT, "--size", str(SIZE), "--classes", str(CLASSES), "--precision", precision, "--calib", "8",
            "--validate", "2", "--no-gpu-check", "--no-legacy-check", "--data", str(data), "--out", str(out)]
    with open(log, "wb") as stderr:
        return subprocess.Popen([sys.executable, "-c", TINY_COMMAND, "convert", *argv], cwd=REPO_ROOT,
                                stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


@pytest.mark.fault(GROUP, f"python -m convert {VARIANT} --precision P --out OUT, twice at once (fp32, fp16)")
@pytest.mark.parametrize("kind", ["fp32-and-fp16"])
def test_two_conversions_into_one_folder_both_land(kind, tmp_path, small_demo, verdict):
    out = tmp_path / "artifacts"
    logs = [tmp_path / f"{precision}.log" for precision in PRECISIONS]
    runs = [_convert(out, precision, small_demo, log) for precision, log in zip(PRECISIONS, logs)]
    ended = [(run.wait(600), log.read_text(errors="replace")) for run, log in zip(runs, logs)]
    folder = out / VARIANT
    failed = [f"exit {code}: {err.strip()[-160:]!r}" for code, err in ended if code != 0]
    entries = json.loads((folder / MANIFEST).read_text())["artifacts"] if not failed else {}
    wrong = failed or [f"{name}: not the file its manifest entry records" for name, entry in entries.items()
                       if sha256((folder / name).read_bytes()) != entry["sha256"]]
    wrong += [] if failed or set(entries) == {f"{VARIANT}_{p}.tflite" for p in PRECISIONS} else [
        f"manifest entries {sorted(entries)}"]
    wrong += [f"left temporary {name}" for name in files_under(out) if is_temporary(os.path.basename(name))]
    verdict(Outcome(WRONG, "; ".join(wrong)) if wrong else Outcome(CLEAR), CLEAR)
