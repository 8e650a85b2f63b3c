"""make defaults-study's table and arguments (its runs train for minutes: measured in docs/training.md)."""
import pytest

from studies.defaults_study import main, markdown


def _cell(method, seed, top1, int8, seconds):
    return {"folder": "faces", "variant": "b0", "method": method, "seed": seed, "float_top1": top1,
            "int8_top1": int8, "train_seconds": seconds}


def test_several_seeds_get_a_row_of_their_means_and_one_seed_none():
    table = markdown([_cell("defaults", 0, 0.9, 0.9, 100), _cell("defaults", 1, 1.0, 0.975, 120),
                      _cell("plain", 0, 0.975, 0.975, 50)])
    rows = table.splitlines()[2:]
    assert rows == ["| faces | b0 | defaults | 0 | 90.00% | 90.00% | 100 |",
                    "| faces | b0 | defaults | 1 | 100.00% | 97.50% | 120 |",
                    "| faces | b0 | defaults | mean of 2 | 95.00% | 93.75% | 110 |",
                    "| faces | b0 | plain | 0 | 97.50% | 97.50% | 50 |"]


def test_cells_from_before_seeds_were_recorded_count_as_seed_0():
    old = _cell("plain", 0, 0.5, 0.5, 10)
    del old["seed"]
    assert markdown([old]).splitlines()[2] == "| faces | b0 | plain | 0 | 50.00% | 50.00% | 10 |"


@pytest.mark.parametrize(("argument", "message"), [("--seeds=0,x", "--seeds takes comma-separated integers"),
                                                   ("--methods=fancy", "methods are defaults, plain")])
def test_bad_arguments_are_one_line_errors(argument, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["--folders", str(tmp_path), argument, "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
