"""make tflite's ARM check (--arm-check CORE): the manifest records whether the new file's outputs
on an emulated ARM core equal x86 LiteRT's, and its instructions per inference there."""
import json

import numpy as np
import pytest

from convert.__main__ import main
from convert.ship import main as ship_main
from convert.validate import arm_check
from tests.conftest import require_arm_env

FAST = ["--size", "48", "--classes", "5", "--calib", "8", "--validate", "4", "--no-gpu-check", "--no-legacy-check"]


def test_the_manifest_records_whether_outputs_on_an_emulated_a76_equal_x86s(tmp_path, tiny_variant):
    require_arm_env()
    labels = tmp_path / "labels.txt"
    labels.write_text("".join(f"class{i}\n" for i in range(5)))  # make ship wants them packed inside
    assert main(["ghost_tiny", *FAST, "--labels", str(labels), "--arm-check", "a76", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "ghost_tiny"
    arm = json.loads((folder / "manifest.json").read_text())["artifacts"]["ghost_tiny_int8.tflite"]["runtimes"]["arm_emulated"]
    # Not asserted equal: XNNPACK's x86 and ARM int8 kernels may round apart (ghost_s int8 224 px on A76
    # differs by up to 15 output steps on the Xeon this was written on); the record must say which.
    assert arm["status"] == ("same outputs" if arm["bit_exact"] else "different outputs")
    assert arm["bit_exact"] == (arm["max_difference"] == 0) == (arm["images_differing"] == 0)
    assert arm["images"] == 4  # every held-out image (--validate 4)
    assert ("first_divergence" in arm) == (not arm["bit_exact"])
    assert arm["core"] == "Cortex-A76" and arm["instructions_per_inference"] > 0
    assert arm["measure"].startswith("emulated")
    assert "on an emulated ARM core" in (folder / "ghost_tiny_int8.report.md").read_text()
    assert ship_main(["ghost_tiny", "--artifacts", str(tmp_path), "--out", str(tmp_path / "dist")]) == 0
    card = (tmp_path / "dist" / "ghost_tiny" / "MODEL_CARD.md").read_text()
    assert "- emulated Cortex-A76 (LiteRT aarch64 under qemu): outputs " in card
    assert "M instructions per inference (qemu count, not a timing)" in card


def test_without_the_environment_the_check_is_skipped_saying_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ARM_ENV", str(tmp_path / "none"))
    result = arm_check(str(tmp_path / "any.tflite"), np.zeros((1, 48, 48, 3), np.float32), "a76")
    assert result == {"status": "skipped", "reason": f"no emulated ARM environment at {tmp_path / 'none'}: run make arm-env"}


def test_an_unknown_core_is_refused_before_converting(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["ghost_tiny", "--arm-check", "a99"])
    assert exit_.value.code == 2
    assert "unknown ARM core 'a99'; valid: a53, a72, a76, n1, v9" in capsys.readouterr().err.strip().splitlines()[-1]
