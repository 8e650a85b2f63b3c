"""make ablation on two tiny tables: every column filled from real training, conversion and timing."""
import csv

from studies.ablation import COLUMNS, main


def test_an_ablation_trains_converts_and_times_each_variant(tmp_path, small_demo, tiny_variant, capsys):
    out = tmp_path / "ablation"
    assert main(["--variants", "tiny,ghost_tiny", "--data", str(small_demo), "--size", "48", "--epochs", "2",
                 "--batch", "16", "--stages", "1", "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out / "ablation.csv")))
    assert [r["variant"] for r in rows] == ["tiny", "ghost_tiny"] and list(rows[0]) == list(COLUMNS)
    for row in rows:
        assert int(row["parameters"]) > 0 and float(row["gmacs"]) > 0 and float(row["epoch_s"]) > 0
        assert 0 <= float(row["best_val_top1"]) <= 1 and float(row["int8_mb"]) > 0
        assert float(row["int8_ms_1_thread"]) > 0, row["note"]
    assert int(rows[1]["parameters"]) < int(rows[0]["parameters"])  # Ghost has fewer
    for name in ("train_top1.png", "val_top1.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert "| tiny |" in (out / "ablation.md").read_text() and "| ghost_tiny |" in capsys.readouterr().out


def test_an_unknown_variant_fails_before_any_training(tmp_path, small_demo, capsys):
    assert main(["--variants", "s,nonesuch", "--data", str(small_demo), "--out", str(tmp_path / "a")]) == 2
    assert "unknown variant 'nonesuch'" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
