"""Two commands writing into one folder at once, as two terminals or a CI matrix would: both
finish, and the folder holds a complete result (the manifest is updated under a lock, every file
is replaced atomically, a shipment's folder is swapped whole)."""
import json
import os
import subprocess
import sys

import pytest

from core.artifacts import MANIFEST, sha256
from tests.faults.conftest import CLASSES, SIZE, TFLITE, VARIANT
from tests.faults.outcome import CLEAR, REPO_ROOT, TINY_COMMAND, WRONG, Outcome, files_under, is_temporary

GROUP = "two commands into one folder"
PRECISIONS = ("fp32", "fp16")


def _together(module: str, argvs: list[list[str]], logs) -> list[str]:
    """Runs `python -m module argv` for each argv at once; what went wrong with any of them."""
    runs = []
    for argv, log in zip(argvs, logs):
        with open(log, "wb") as stderr:
            runs.append(subprocess.Popen([sys.executable, "-c", TINY_COMMAND, module, *argv], cwd=REPO_ROOT,
                                         stdout=subprocess.DEVNULL, stderr=stderr,
                                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}))
    ended = [(run.wait(600), log.read_text(errors="replace")) for run, log in zip(runs, logs)]
    return [f"exit {code}: {err.strip()[-160:]!r}" for code, err in ended if code != 0]


def _files_match_their_manifest(folder, names) -> list[str]:
    entries = json.loads((folder / MANIFEST).read_text())["artifacts"]
    wrong = [] if set(names) <= set(entries) else [f"manifest entries {sorted(entries)}, not {sorted(names)}"]
    return wrong + [f"{name}: not the file its manifest entry records" for name in names if name in entries
                    and sha256((folder / name).read_bytes()) != entries[name]["sha256"]]


def _verdict(wrong: list[str], root) -> Outcome:
    wrong = wrong + [f"left temporary {name}" for name in files_under(root) if is_temporary(os.path.basename(name))]
    return Outcome(WRONG, "; ".join(wrong)) if wrong else Outcome(CLEAR)


@pytest.mark.fault(GROUP, f"python -m convert {VARIANT} --precision P --out OUT, twice at once (fp32, fp16)")
@pytest.mark.parametrize("kind", ["fp32-and-fp16"])
def test_two_conversions_into_one_folder_both_land(kind, tmp_path, small_demo, verdict):
    out = tmp_path / "artifacts"
    argvs = [[VARIANT, "--size", str(SIZE), "--classes", str(CLASSES), "--precision", precision, "--calib", "8",
              "--validate", "2", "--no-gpu-check", "--no-legacy-check", "--data", str(small_demo), "--out", str(out)]
             for precision in PRECISIONS]
    failed = _together("convert", argvs, [tmp_path / f"{p}.log" for p in PRECISIONS])
    names = [f"{VARIANT}_{p}.tflite" for p in PRECISIONS]
    verdict(_verdict(failed or _files_match_their_manifest(out / VARIANT, names), out), CLEAR)


@pytest.mark.fault(GROUP, "python -m studies.finetune --variant ghost_tiny ... --out OUT, twice at once")
@pytest.mark.parametrize("kind", ["qat-twice"])
def test_two_qat_runs_into_one_folder_leave_one_complete_file(kind, tmp_path, good_run, small_demo, verdict):
    out = tmp_path / "artifacts"
    argv = ["--variant", VARIANT, "--size", str(SIZE), "--batch", "16", "--epochs", "1", "--no-gpu-check",
            "--max-top1-drop", "100", "--weights", str(good_run / "model.keras"), "--data", str(small_demo),
            "--out", str(out)]
    failed = _together("studies.finetune", [argv, argv], [tmp_path / f"{i}.log" for i in range(2)])
    verdict(_verdict(failed or _files_match_their_manifest(out / VARIANT, [f"{VARIANT}_int8_qat.tflite"]), out),
            CLEAR)


@pytest.mark.fault(GROUP, f"python -m convert.ship {VARIANT} --precision fp32 --out DIST, twice at once")
@pytest.mark.parametrize("kind", ["ship-twice"])
def test_two_shipments_into_one_folder_leave_one_whole_shipment(kind, tmp_path, good_artifacts, verdict):
    dist = tmp_path / "dist"
    argv = [VARIANT, "--precision", "fp32", "--artifacts", str(good_artifacts), "--out", str(dist)]
    failed = _together("convert.ship", [argv, argv], [tmp_path / f"{i}.log" for i in range(2)])
    shipped = dist / VARIANT
    wrong = failed or ([] if (shipped / TFLITE).read_bytes() == (good_artifacts / VARIANT / TFLITE).read_bytes()
                       and (shipped / "MODEL_CARD.md").is_file() else ["the shipped folder is not whole"])
    wrong += [f"left {p.name}" for p in dist.iterdir() if p.name != VARIANT]
    verdict(_verdict(wrong, dist), CLEAR)
