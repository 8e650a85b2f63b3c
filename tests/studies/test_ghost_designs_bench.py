"""python -m studies.ghost_designs on a tiny table: real conversions, real side-by-side timing."""
import json

from studies.ghost_designs import OPTIONS, main
from tests.conftest import require_arm_env


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


def test_with_arm_cores_each_design_is_counted_against_its_base_on_each_core(tiny_variant, tmp_path):
    require_arm_env()
    out = tmp_path / "designs"
    assert main(["--base", "tiny", "--size", "64", "--options", "ghostlite", "--rounds", "1",
                 "--arm-cores", "a53,a76", "--out", str(out)]) == 0
    (row,) = json.loads((out / "ghost_designs.json").read_text())["rows"]
    for core in ("a53", "a76"):
        assert row[f"int8_{core}_minstr"] > 0 and 0.2 < row[f"int8_{core}_vs_base"] < 5
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
