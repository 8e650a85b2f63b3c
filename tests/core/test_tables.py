"""CSV tables: a header, one row per dict, keys beyond the columns left out."""
import csv
import io

from core.tables import csv_text, write_csv


def test_rows_read_back_under_their_columns_without_the_extra_keys(tmp_path):
    rows = [{"variant": "s", "top1": 0.5, "note": "not a column"}, {"variant": "ghost_s", "top1": 0.75}]
    write_csv(tmp_path / "t.csv", rows, ("variant", "top1"))
    text = (tmp_path / "t.csv").read_bytes().decode()
    assert text == csv_text(rows, ("variant", "top1"))
    assert list(csv.DictReader(io.StringIO(text))) == [{"variant": "s", "top1": "0.5"},
                                                        {"variant": "ghost_s", "top1": "0.75"}]
