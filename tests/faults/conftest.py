"""The fault suite's good inputs (made once a session), the case folder each case damages, and the
report: a full run of the suite rewrites docs/reliability.md (tests/faults/report.py)."""
from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from tests.faults import report
from tests.faults.outcome import Finished, files_under, harm, writes_nothing

FAULTS_DIR = Path(__file__).resolve().parent
VARIANT, SIZE, CLASSES = "ghost_tiny", 48, 8
TFLITE = f"{VARIANT}_fp32.tflite"
ENTRIES = pytest.StashKey[dict]()  # nodeid -> report.Entry
DESELECTED = pytest.StashKey[bool]()
VERDICT = pytest.StashKey[tuple]()  # on an item: (expected, Outcome)


# --- good inputs, made once ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def good_artifacts(tmp_path_factory, small_demo, tiny_variant) -> Path:
    """make tflite's folder for ghost_tiny fp32 at 48 px with small_demo's 8 labels packed inside:
    OUT/ghost_tiny/{ghost_tiny_fp32.tflite, manifest.json, labels.txt, ...}. Returns OUT."""
    from convert.__main__ import main as convert_main

    out = tmp_path_factory.mktemp("faults") / "artifacts"
    assert convert_main([VARIANT, "--size", str(SIZE), "--classes", str(CLASSES), "--precision", "fp32",
                         "--calib", "4", "--validate", "2", "--no-gpu-check", "--no-legacy-check",
                         "--data", str(small_demo), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def good_keras(tmp_path_factory, small_demo, tiny_variant) -> Path:
    """A run folder as make train leaves it (untrained weights: no training in this suite):
    model.keras (ghost_tiny, 48 px, 8 classes, softmax) and labels.txt. Returns model.keras."""
    import models

    run = tmp_path_factory.mktemp("faults") / "run"
    run.mkdir()
    model = models.build(VARIANT, input_size=SIZE, num_classes=CLASSES, classifier_activation="softmax")
    model.save(run / "model.keras")
    (run / "labels.txt").write_text("".join(f"{name}\n" for name in class_names(small_demo)))
    return run / "model.keras"


@pytest.fixture(scope="session")
def good_run(tmp_path_factory, small_demo, tiny_variant) -> Path:
    """A finished make train run (3 epochs of ghost_tiny at 48 px): model.keras, labels.txt,
    checkpoints/. Returns the run folder."""
    from tests.small_models import TRAIN_FAST
    from train.__main__ import main as train_main

    run = tmp_path_factory.mktemp("faults") / "run"
    assert train_main([*TRAIN_FAST, "--data", str(small_demo), "--out", str(run)]) == 0
    return run


@pytest.fixture(scope="session")
def good_evaluation(tmp_path_factory, good_artifacts, small_demo) -> dict:
    """What make evaluate wrote for the good .tflite (evaluation.json)."""
    from train.evaluate import main as evaluate_main

    out = tmp_path_factory.mktemp("faults") / "evaluation"
    assert evaluate_main(["--model", str(good_artifacts / VARIANT / TFLITE), "--data", str(small_demo),
                          "--out", str(out)]) == 0
    return json.loads((out / "evaluation.json").read_text())


@pytest.fixture(scope="session")
def good_bench_results(tmp_path_factory, good_artifacts) -> dict:
    """What make bench wrote for the good .tflite on the CPU (results.json)."""
    from bench.cli import main as bench_main

    out = tmp_path_factory.mktemp("faults") / "bench"
    assert bench_main([str(good_artifacts / VARIANT / TFLITE), "--backends", "cpu", "--num_runs", "2",
                       "--warmup_runs", "1", "--num_threads", "1", "--min_secs", "0", "--no_progress",
                       "--no_kernels", "--out", str(out)]) == 0
    return json.loads((out / "results.json").read_text())


def class_names(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "train").iterdir() if p.is_dir())


def weights_region(keras_file: Path) -> tuple[int, int]:
    """The bytes of model.weights.h5 inside a .keras zip: damage there is damage to the weights
    (stored members: the zip's CRC-32 of the member is what can notice it)."""
    with zipfile.ZipFile(keras_file) as archive:
        member = archive.getinfo("model.weights.h5")
    header = keras_file.read_bytes()[member.header_offset:member.header_offset + 30]
    name_length, extra_length = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
    start = member.header_offset + 30 + name_length + extra_length
    return start, start + member.compress_size


# --- one case's folder ---------------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    """A folder of its own per case, TMPDIR inside it: whatever a command leaves, there or in
    its temporary folder, is seen."""
    root: Path

    def copy(self, source: Path, name: str) -> Path:
        target = self.root / name
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, target)
        return target

    def run(self, command: Callable[[], Finished], may_write: Callable[[str], bool] = writes_nothing
            ) -> tuple[Finished, list[str]]:
        """Runs `command`; returns how it ended and the files it touched that it should not have."""
        before = files_under(self.root)
        finished = command()
        return finished, harm(before, files_under(self.root), may_write)


@pytest.fixture
def case(tmp_path, monkeypatch) -> Case:
    root = tmp_path / "case"
    (root / "tmp").mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(root / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(root / "tmp"))
    return Case(root)


@pytest.fixture
def verdict(request):
    """verdict(outcome, expected): records the case for the report, then asserts its verdict."""
    def check(outcome, expected: str) -> None:
        request.node.stash[VERDICT] = (expected, outcome)
        assert outcome.kind == expected, str(outcome)
    return check


def json_text(path: Path) -> dict:
    return json.loads(path.read_text())


# --- the report ---------------------------------------------------------------------------------

def pytest_configure(config):
    config.addinivalue_line("markers", "fault(group, command): a fault-suite case: what it damages, which command")
    config.stash[ENTRIES] = {}
    config.stash[DESELECTED] = False


def _in_suite(item) -> bool:
    return FAULTS_DIR in Path(str(item.path)).parents


def pytest_deselected(items):
    if items and any(_in_suite(item) for item in items):
        items[0].config.stash[DESELECTED] = True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    result = outcome.get_result()
    marker = item.get_closest_marker("fault")
    if marker is None or not (result.when == "call" or result.skipped):
        return
    expected, verdict = item.stash.get(VERDICT, ("-", None))
    xfail = item.get_closest_marker("xfail")
    note = xfail.kwargs.get("reason", "") if xfail and verdict is not None else ""
    if result.skipped and not hasattr(result, "wasxfail"):  # skipped before any verdict: say why
        reason = result.longrepr[2] if isinstance(result.longrepr, tuple) else ""
        note, verdict = reason.removeprefix("Skipped: "), None
    group, command = marker.args
    item.config.stash[ENTRIES][item.nodeid] = report.Entry(group, item.name, command, expected, verdict, note)


def _whole_suite_ran(session) -> bool:
    """Only a run of every case may rewrite the page: not -k, a single file, or a run that stopped."""
    args = [Path(arg.split("::")[0]).resolve() for arg in session.config.args]
    covered = all(path == FAULTS_DIR or path in FAULTS_DIR.parents for path in args)
    items = [item for item in session.items if _in_suite(item)]
    entries = session.config.stash[ENTRIES]
    return (covered and items and not session.config.stash[DESELECTED] and not session.shouldstop
            and all(item.nodeid in entries for item in items))


def pytest_sessionfinish(session, exitstatus):
    if _whole_suite_ran(session):
        entries = session.config.stash[ENTRIES]
        report.write([entries[item.nodeid] for item in session.items if _in_suite(item)])
