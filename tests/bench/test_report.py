"""The speed-up table: which rows it compares, and that it leaves out what it cannot compare."""
from runtime.records import Latency, Record
from bench.report import ratios, ratios_markdown


def row(variant, precision, backend, threads, p50, status="ok"):
    latency = Latency(mean_ms=p50, p50_ms=p50, p90_ms=p50, p99_ms=p50, std_ms=0.0, runs=5,
                      min_ms=p50, max_ms=p50) if status == "ok" else None
    return Record(model=f"{variant}_{precision}", path="", variant=variant, precision=precision,
                  backend=backend, threads=threads, status=status, latency=latency)


def test_speedups_pair_rows_of_the_same_backend_and_threads():
    records = [row("s", "fp32", "cpu", 1, 100.0), row("s", "int8", "cpu", 1, 40.0),
               row("ghost_s", "int8", "cpu", 1, 20.0), row("ghostlite_s", "int8", "cpu", 1, 25.0),
               row("s", "keras-fp32", "tf", 1, 160.0),
               row("s", "fp32", "cpu", 2, 60.0),  # no int8 at 2 threads: no pair
               row("ghost_s", "fp32", "cpu", 1, 0.0, status="failed")]
    found = {(name, what, where): round(value, 3) for name, what, where, value in ratios(records)}
    assert found == {
        ("int8 vs fp32 (speed-up)", "s", "cpu x1"): 2.5,
        ("ghost vs standard (speed-up)", "ghost_s int8", "cpu x1"): 2.0,
        ("ghost vs standard (speed-up)", "ghostlite_s int8", "cpu x1"): 1.6,
        ("TFLite vs TensorFlow (speed-up)", "s fp32", "cpu x1"): 1.6,
        ("TFLite vs TensorFlow (speed-up)", "s int8", "cpu x1"): 4.0,
    }
    assert "| int8 vs fp32 (speed-up) | s | cpu x1 | 2.50x |" in ratios_markdown(records)


def test_no_comparable_rows_no_table():
    assert ratios_markdown([row("b0", "fp32", "cpu", 1, 10.0)]) == ""
