"""python -m studies.ghost_designs on a tiny table: real conversions, real side-by-side timing."""
import json

from studies.ghost_designs import OPTIONS, main


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
