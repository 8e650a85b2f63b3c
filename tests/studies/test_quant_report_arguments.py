"""make quant-report's arguments: nonsense is a one-line argparse error (exit 2) before any work,
never an empty report or a traceback."""
import pytest

from studies.quant_report import main


@pytest.mark.parametrize("flag, value, message", [
    ("--images", "0", "argument --images: must be at least 1, got 0"),
    ("--images", "-4", "argument --images: must be at least 1, got -4"),
    ("--calib", "0", "argument --calib: must be at least 1, got 0"),
    ("--images", "many", "argument --images: expected a whole number, got 'many'"),
    ("--float", "abc", "argument --float: expected comma-separated whole numbers like 0,5,10, got 'abc'"),
    ("--float", "5,-1", "argument --float: op counts must be 0 or more, got '5,-1'"),
])
def test_nonsense_counts_are_refused_while_parsing(tmp_path, capsys, flag, value, message):
    with pytest.raises(SystemExit) as exit:
        main(["--weights", str(tmp_path / "model.keras"), "--data", str(tmp_path), "--out", str(tmp_path / "out"),
              f"{flag}={value}"])
    assert exit.value.code == 2
    error = capsys.readouterr().err
    assert error.splitlines()[-1] == f"python -m studies.quant_report: error: {message}" and "Traceback" not in error
    assert not (tmp_path / "out").exists()
