"""python -m convert.cost: the real conversion job per variant x precision, its wall time, peak
memory and manifest figures in one table; a failing conversion is a row, not a crash."""
import json

from convert.cost import main

QUICK = "--size 32 --classes 2 --calib 2 --validate 2 --no-gpu-check --no-legacy-check"


def test_conversion_costs_are_measured_and_a_failure_is_a_row(tmp_path, capsys):
    code = main(["--variants", "b0", "--precisions", "fp32,int4", "--out", str(tmp_path), "--convert-args", QUICK])
    assert code == 1  # one conversion failed
    rows = {row["precision"]: row for row in json.loads((tmp_path / "conversion.json").read_text())}
    ok, failed = rows["fp32"], rows["int4"]
    assert ok["status"] == "ok" and ok["size_mb"] > 1 and ok["peak_mb"] > 100 and ok["wall_s"] >= ok["convert_s"] > 0
    assert ok["cosine"] > 0.999 and ok["xnnpack_partitions"] == 1
    assert failed["status"].startswith("exit 2: error: unknown precision 'int4'")
    table = (tmp_path / "conversion.md").read_text()
    assert "| b0 | fp32 |" in table and "| b0 | int4 |" in table and table in capsys.readouterr().out
