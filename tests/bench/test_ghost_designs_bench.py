"""python -m bench.ghost_designs on a tiny table: real conversions, real side-by-side timing."""
import json

import pytest

from bench.ghost_designs import main


def test_each_design_is_converted_counted_and_timed_against_its_base(tiny_variant, tmp_path, capsys):
    out = tmp_path / "designs"
    assert main(["--base", "tiny", "--size", "64", "--options", "ghostlite,no ResNet-D shortcuts",
                 "--rounds", "1", "--out", str(out)]) == 0
    data = json.loads((out / "ghost_designs.json").read_text())
    rows = {row["option"]: row for row in data["rows"]}
    assert set(rows) == {"ghostlite", "no ResNet-D shortcuts"} and data["machine"]
    for row in rows.values():
        assert row["parameters"] > 0 and row["int8_mb"] > 0 and row["int8_1t_vs_base"] > 0
        assert row["params_vs_base"] != 1 and row["int8_2t_range"].count("-") == 1
    assert (out / "files").is_dir() and "| ghostlite |" in (out / "ghost_designs.md").read_text()


def test_an_unknown_option_is_refused_with_the_valid_ones(capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main(["--options", "warp drive", "--out", str(tmp_path)])
    assert stop.value.code == 2
    assert "unknown option 'warp drive'; valid: ghost (reference)" in capsys.readouterr().err
