"""make figures: every PNG in docs/figures comes from a committed raw file, drawn again without measuring."""
import shutil
from pathlib import Path

from studies.figures import FIGURES, main

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "docs" / "figures" / "raw"


def test_every_figure_is_drawn_again_from_its_committed_raw_file(tmp_path):
    assert {f.name for f in (ROOT / "docs" / "figures").glob("*.png")} == {f.png for f in FIGURES}
    assert main(["--raw", str(RAW), "--out", str(tmp_path)]) == 0
    for figure in FIGURES:
        assert (tmp_path / figure.png).read_bytes()[:4] == b"\x89PNG", figure.png


def test_a_missing_raw_file_is_a_one_line_error_and_no_figure_changes(tmp_path, capsys):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "ablation_curves.csv").unlink()
    assert main(["--raw", str(raw), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "\n" not in error
    assert "ablation_curves.csv' is missing" in error and "make ablation" in error
    assert not (tmp_path / "out").exists()


def test_a_damaged_raw_file_is_a_one_line_error(tmp_path, capsys):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "profile_s_ghostnoact_int8_amx.json").write_text('[{"model": "s_int8.tflite"}]')
    assert main(["--raw", str(raw), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "\n" not in error and "is not a profile.json of make profile" in error


def test_each_study_redraws_its_own_saved_output(tmp_path):
    from bench.profile import main as profile_main
    from studies.ablation import main as ablation_main

    assert profile_main(["--replot", str(RAW / "profile_s_ghost_ghostlite_int8.json"), "--out", str(tmp_path)]) == 0
    assert "| DEPTHWISE_CONV_2D |" in (tmp_path / "profile.md").read_text()
    assert ablation_main(["--replot", str(RAW / "ablation_curves.csv"), "--out", str(tmp_path)]) == 0
    for name in ("profile.png", "train_top1.png", "val_top1.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name


def test_the_figures_are_the_same_bytes_whatever_the_hash_seed(tmp_path):
    """Op types tied in cost once took set order, which PYTHONHASHSEED changes: the committed chart
    then flipped between two versions from one run of make figures to the next."""
    import os
    import subprocess
    import sys

    drawn = {}
    for seed in ("1", "2"):
        out = tmp_path / seed
        out.mkdir()
        subprocess.run([sys.executable, "-m", "studies.figures", "--raw", str(RAW), "--out", str(out)], cwd=ROOT,
                       check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed})
        drawn[seed] = {f.png: (out / f.png).read_bytes() for f in FIGURES}
    assert drawn["1"] == drawn["2"]
    assert drawn["1"]["profile_s_ghostnoact_int8_amx.png"] == (ROOT / "docs" / "figures" /
                                                                 "profile_s_ghostnoact_int8_amx.png").read_bytes()
