"""make calib-study: int8 files over calibration samples and range estimators, scored on held-out images."""
import json

import pytest

from convert.__main__ import main as convert_main
from studies.calib_study import main, summarize

STUDY = ["--variant", "ghost_tiny", "--size", "48", "--calib", "16"]


def test_every_seed_and_percentile_is_a_scored_file_and_p90_seed_0_is_make_tflites_file(
        trained_tiny, small_demo, tmp_path, capsys):
    model, _ = trained_tiny
    assert convert_main(["ghost_tiny", "--size", "48", "--classes", "8", "--weights", str(model), "--data",
                         str(small_demo), "--calib", "16", "--no-gpu-check", "--no-legacy-check", "--max-top1-drop", "100",
                         "--out", str(tmp_path / "made")]) == 0  # make tflite's defaults otherwise
    assert main([*STUDY, "--weights", str(model), "--data", str(small_demo), "--percentiles", "100,90",
                 "--seeds", "0,1", "--out", str(tmp_path)]) == 0
    study = json.loads((tmp_path / "calib_study.json").read_text())
    cells = study["cells"]
    assert [(c["percentile"], c["seed"]) for c in cells] == [(100, 0), (90, 0), (100, 1), (90, 1)]
    assert all(0 <= c["top1"] <= 1 and 0 <= c["agreement"] <= 1 for c in cells)
    made = json.loads((tmp_path / "made" / "ghost_tiny" / "manifest.json").read_text())["artifacts"]["ghost_tiny_int8.tflite"]
    assert made["job"]["calibration_percentile"] == 90
    assert cells[1]["top1"] == made["validation"]["accuracy"]["tflite_top1"]
    assert cells[1]["agreement"] == made["validation"]["accuracy"]["top1_agreement"]
    assert sorted(row["percentile"] for row in study["summary"]) == [90, 100]
    printed = capsys.readouterr().out
    assert "Best here: **" in printed and "| 90 | default (CALIB_PERCENTILE=90) |" in printed
    assert "| 100 | CALIB_PERCENTILE=100 (min/max) |" in printed
    assert (tmp_path / "calib_study.csv").read_text().startswith("percentile,seed,top1")


def test_the_summary_ranks_by_mean_top1_then_agreement():
    cells = [{"percentile": 100, "seed": 0, "top1": 0.70, "agreement": 0.99},
             {"percentile": 100, "seed": 1, "top1": 0.74, "agreement": 0.97},
             {"percentile": 90, "seed": 0, "top1": 0.72, "agreement": 0.98},
             {"percentile": 90, "seed": 1, "top1": 0.72, "agreement": 0.99}]
    summary = summarize(cells, keras_top1=0.75)
    assert [row["percentile"] for row in summary] == [90, 100]  # same mean top-1; 90 agrees more
    assert summary[1]["min_top1"] == 0.70 and summary[1]["max_top1"] == 0.74
    assert summary[0]["mean_drop_points"] == pytest.approx(3.0)


@pytest.mark.parametrize("args, message", [
    (["--percentiles", "100,40"], "40"),
    (["--seeds", ""], "at least one calibration seed"),
])
def test_bad_settings_are_one_line_errors_before_any_conversion(trained_tiny, small_demo, tmp_path, capsys,
                                                                  args, message):
    model, _ = trained_tiny
    out = tmp_path / "study"
    assert main([*STUDY, "--weights", str(model), "--data", str(small_demo), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()
