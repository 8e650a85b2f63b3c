"""A make train run folder damaged between two runs (its checkpoint, its state, its model), or
moved: the rerun that would resume it either resumes or stops with one line naming what is damaged,
before any epoch and without touching the folder."""
import json
import shutil

import pytest

from tests.small_models import TRAIN_FAST
from tests.faults.corrupt import cases, damaged
from tests.faults.outcome import CLEAR, OK, acceptance, in_process, refusal
from train.__main__ import main as train_main

GROUP = "damaged or moved run folder"
TRAIN = "python -m train --variant ghost_tiny ... --out RUN (a finished run, then damaged)"
CHECKPOINT_DAMAGE = {"truncated": 2, "bit-flipped": 3, "zero-filled": 2, "empty": 1}


def _rerun(case, run, data):
    argv = [*TRAIN_FAST, "--data", str(data), "--out", str(run)]
    return case.run(lambda: in_process(train_main, argv), lambda path: path == f"{run.name}/.lock")


def _latest_checkpoint(run):
    prefix = run / "checkpoints" / json.loads((run / "checkpoints" / "state.json").read_text())["checkpoint"]
    return prefix, prefix.with_name(prefix.name + ".data-00000-of-00001")


@pytest.mark.fault(GROUP, TRAIN)
@pytest.mark.parametrize(("kind", "seed"), cases(CHECKPOINT_DAMAGE))
def test_train_refuses_a_damaged_checkpoint_naming_it(kind, seed, case, good_run, small_demo, verdict):
    run = case.copy(good_run, "my run")
    _, data_file = _latest_checkpoint(run)
    data_file.write_bytes(damaged(kind, seed, data_file.read_bytes()))
    finished, harmed = _rerun(case, run, small_demo)
    verdict(refusal(finished, ["checkpoint"], harmed), CLEAR)


@pytest.mark.fault(GROUP, TRAIN)
@pytest.mark.parametrize("kind", ["index-removed", "data-removed"])
def test_train_refuses_a_checkpoint_with_a_file_missing(kind, case, good_run, small_demo, verdict):
    run = case.copy(good_run, "my run")
    prefix, data_file = _latest_checkpoint(run)
    (prefix.with_name(prefix.name + ".index") if kind == "index-removed" else data_file).unlink()
    finished, harmed = _rerun(case, run, small_demo)
    verdict(refusal(finished, ["checkpoint"], harmed), CLEAR)


@pytest.mark.fault(GROUP, TRAIN)
@pytest.mark.parametrize("kind", ["moved", "moved-state-with-absolute-path"])
def test_a_moved_run_folder_still_resumes(kind, case, good_run, small_demo, verdict):
    """A run folder copied elsewhere (state.json from before checkpoints were recorded by name held
    the absolute path of the old place) is found complete: nothing to do, nothing changed."""
    run = case.copy(good_run, "moved run")
    if kind == "moved-state-with-absolute-path":
        state_path = run / "checkpoints" / "state.json"
        state = json.loads(state_path.read_text())
        state["checkpoint"] = f"/old/place/checkpoints/{state['checkpoint']}"
        state_path.write_text(json.dumps(state))
    finished, harmed = _rerun(case, run, small_demo)

    def not_resumed() -> str:
        return "" if "nothing to do" in finished.stdout else f"did not find the run complete: {finished.stdout[-160:]!r}"
    verdict(acceptance(finished, harmed, not_resumed), OK)


@pytest.mark.fault(GROUP, TRAIN)
@pytest.mark.parametrize("kind", ["model-removed"])
def test_a_finished_run_without_its_model_is_refused_naming_it(kind, case, good_run, small_demo, verdict):
    run = case.copy(good_run, "my run")
    (run / "model.keras").unlink()
    finished, harmed = _rerun(case, run, small_demo)
    verdict(refusal(finished, ["model.keras"], harmed), CLEAR)


@pytest.mark.fault(GROUP, TRAIN)
@pytest.mark.parametrize("kind", ["checkpoints-removed"])
def test_a_run_without_checkpoints_starts_again(kind, case, good_run, small_demo, verdict):
    """What the refusals advise (moving checkpoints/ away) works: the run starts from epoch 1."""
    run = case.copy(good_run, "my run")
    shutil.rmtree(run / "checkpoints")
    argv = [*TRAIN_FAST, "--data", str(small_demo), "--out", str(run)]
    finished, harmed = case.run(lambda: in_process(train_main, argv), lambda path: path.startswith(f"{run.name}/"))

    def not_trained() -> str:
        epochs = json.loads((run / "checkpoints" / "state.json").read_text())["completed_epochs"]
        return "" if epochs == 3 else f"{epochs} epochs completed, not 3"
    verdict(acceptance(finished, harmed, not_trained), OK)
