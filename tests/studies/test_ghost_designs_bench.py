"""python -m studies.ghost_designs on a tiny table: real conversions, real side-by-side timing."""
import json
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

import models
from runtime.arm import instructions_per_inference
from studies.ghost_designs import OPTIONS, main
from tests.conftest import require_arm_env


def _parameters(name: str) -> int:
    return models.build(name, input_size=64, num_classes=1000).count_params()


def test_each_design_is_converted_counted_and_timed_against_its_base(tiny_variant, tmp_path, capsys):
    out = tmp_path / "designs"
    args = ["--base", "tiny", "--size", "64", "--options", "ghostlite,no ResNet-D shortcuts", "--rounds", "1",
            "--out", str(out)]
    assert main(args) == 0
    data = json.loads((out / "ghost_designs.json").read_text())
    rows = {row["option"]: row for row in data["rows"]}
    assert set(rows) == {"ghostlite", "no ResNet-D shortcuts"} and data["machine"]
    base = _parameters("tiny")
    for option, row in rows.items():
        assert row["variant"] == OPTIONS[option] + "tiny"
        # Counted on the design's own model, against the base's: both fewer parameters than the base.
        assert row["parameters"] == _parameters(row["variant"]) < base
        assert row["params_vs_base"] == round(row["parameters"] / base, 3)
        int8 = Path(row["int8_file"])
        assert int8.parent == out / "files" and row["int8_mb"] == round(int8.stat().st_size / 1e6, 2)
        (details,) = Interpreter(model_path=str(int8)).get_input_details()
        assert details["dtype"] == np.uint8 and list(details["shape"]) == [1, 64, 64, 3]
        for column in ("int8_1t", "int8_2t", "fp32_1t"):
            low, high = map(float, row[f"{column}_range"].split("-"))
            # The range is written to 2 decimals, the median to 3: 0.005 is the range's rounding.
            assert low - 0.005 <= row[f"{column}_vs_base"] <= high + 0.005 and row[f"base_{column}_ms"] > 0
    table = (out / "ghost_designs.md").read_text()
    assert "| ghostlite | ghostlite_tiny |" in table and "| no ResNet-D shortcuts | ghostnod_tiny |" in table
    # A rerun only measures: the converted files are kept, not written again.
    files = {p: p.stat().st_mtime_ns for p in (out / "files").iterdir()}
    assert len(files) == 6  # fp32 and int8 of the base and of each design
    assert main(args) == 0
    assert {p: p.stat().st_mtime_ns for p in (out / "files").iterdir()} == files


def test_with_arm_cores_each_design_is_counted_against_its_base_on_each_core(tiny_variant, tmp_path):
    require_arm_env()
    out = tmp_path / "designs"
    assert main(["--base", "tiny", "--size", "64", "--options", "ghostlite", "--rounds", "1",
                 "--arm-cores", "a53,a76", "--out", str(out)]) == 0
    (row,) = json.loads((out / "ghost_designs.json").read_text())["rows"]
    for core in ("a53", "a76"):
        own = instructions_per_inference(row["int8_file"], core)
        base = instructions_per_inference(row["base_int8_file"], core)
        # Written in millions to 1 decimal (0.05 M of rounding); counts of one file repeat to within 1%.
        assert row[f"int8_{core}_minstr"] == pytest.approx(own / 1e6, abs=0.05 + 0.01 * own / 1e6)
        assert row[f"int8_{core}_vs_base"] == pytest.approx(own / base, rel=0.01)
    assert row["int8_a53_minstr"] > row["int8_a76_minstr"]  # no dot product on the A53
    text = (out / "ghost_designs.md").read_text()
    assert "int8_a53_vs_base | int8_a76_vs_base |" in text and "**emulated**" in text


def test_every_option_can_be_named_in_the_comma_separated_list():
    assert not [label for label in OPTIONS if "," in label]


def test_an_unknown_option_or_unusable_out_is_one_line_exit_2(capsys, tmp_path):
    assert main(["--options", "warp drive", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "unknown option 'warp drive'; valid: ghost (reference)" in error and error.count("\n") == 1
    (tmp_path / "file").write_text("")
    assert main(["--options", "ghostlite", "--out", str(tmp_path / "file" / "x")]) == 2
    error = capsys.readouterr().err
    assert "cannot write to OUT folder" in error and error.count("\n") == 1
    assert main(["--options", "ghostlite", "--arm-cores", "a99", "--out", str(tmp_path / "out")]) == 2
    assert "unknown ARM core 'a99'" in capsys.readouterr().err and not (tmp_path / "out").exists()
