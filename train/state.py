"""A run's resumable state, OUT/checkpoints/state.json, and the checkpoint it points to: both
checked on every resume, so a damaged run is one error line naming the file, never a traceback
mid-epoch.

The checkpoint is recorded by its name inside the checkpoints folder, not by its path: a run
folder that was moved or copied still resumes (state.json files written with absolute paths
are read the same way).
"""
from __future__ import annotations

import json
from pathlib import Path

import tensorflow as tf

# What state.json holds and each field's JSON type (None: null allowed).
FIELDS = {"fingerprint": (dict,), "completed_epochs": (int,), "history": (list,), "best": (dict, type(None)),
          "checkpoint": (str, type(None)), "pipeline_images_per_s": (dict,)}


class DamagedRun(ValueError):
    """A run folder whose state or checkpoint cannot be resumed."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"cannot resume from {str(path)!r}: {problem}; move the run folder's checkpoints/ "
                         "away to start the run again, or choose another OUT")


def read_state(path: Path) -> dict:
    """state.json, checked field by field and for agreement between its fields."""
    try:
        state = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedRun(path, f"not valid JSON ({' '.join(str(error).split())[:120]})") from None
    if not isinstance(state, dict):
        raise DamagedRun(path, "not a JSON object")
    missing = [key for key in FIELDS if key not in state]
    wrong = [key for key, kinds in FIELDS.items()
             if key in state and (not isinstance(state[key], kinds) or isinstance(state[key], bool))]
    if missing or wrong:
        raise DamagedRun(path, "; ".join(part for part in (
            f"{', '.join(missing)} missing" if missing else "",
            f"{', '.join(wrong)} of the wrong JSON type" if wrong else "") if part))
    done, history = state["completed_epochs"], state["history"]
    if done != len(history) or not all(isinstance(row, dict) for row in history):
        raise DamagedRun(path, f"completed_epochs is {done} but history holds {len(history)} epochs")
    if done and (state["checkpoint"] is None or state["best"] is None):
        raise DamagedRun(path, f"{done} epochs completed but no checkpoint or best epoch recorded")
    return state


def verify_checkpoint(prefix: Path) -> None:
    """Reads every tensor once: TensorFlow checks each one's CRC32C as it reads it, so a truncated
    or bit-flipped data file, or a missing index, is found here rather than at the first step
    (optimiser slots are restored lazily, mid-epoch)."""
    index = prefix.with_name(prefix.name + ".index")
    if not index.is_file():
        raise DamagedRun(index, "the checkpoint's index file is missing")
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as error:  # noqa: BLE001 - TensorFlow raises OpErrors, IndexError, ValueError for broken bundles
        raise DamagedRun(prefix.parent, f"checkpoint {prefix.name} is damaged "
                                        f"({' '.join(str(error).split())[:160]})") from None
