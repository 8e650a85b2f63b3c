"""python -m models: list, table and build, as a user calls them."""
import json

import tf_keras as keras

from models.__main__ import main


def test_list_names_standard_ghost_and_ablation_variants(capsys):
    assert main(["list"]) == 0
    names = capsys.readouterr().out.split()
    assert {"b0", "xl", "ghost_s", "s_all_mbconv", "s_two_stages_dropped"} <= set(names)


def test_table_gives_params_and_macs_of_both_families(capsys):
    assert main(["table", "b0", "--size", "64", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["variant"] == "b0" and row["params"] == 7_200_312  # parameters do not depend on the size
    assert 0 < row["ghost_params"] < row["params"] and 0 < row["ghost_macs"] < row["macs"]
    assert row["params_ratio"] == row["ghost_params"] / row["params"]


def test_build_prints_the_model_and_saves_a_loadable_file(capsys, tmp_path, tiny_variant):
    path = tmp_path / "tiny.keras"
    assert main(["build", "ghost_tiny", "--size", "32", "--classes", "3", "--activation", "relu6",
                 "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ghost_tiny: input (None, 32, 32, 3)") and f"saved {path}" in out
    assert keras.models.load_model(path).output_shape == (None, 3)


def test_bad_names_and_sizes_are_one_line_errors(capsys):
    assert main(["build", "nonesuch"]) == 2
    assert "unknown variant 'nonesuch'" in capsys.readouterr().err
    assert main(["build", "b0", "--size", "8"]) == 2
    error = capsys.readouterr().err.strip()
    assert "smaller than the total stride" in error and "\n" not in error
