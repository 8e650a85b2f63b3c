"""`python -m bench.ab`: two files timed in alternating rounds in one process."""
from bench.ab import ab_ratios, main


def test_alternating_rounds_time_both_files_each_round(fp32_model, int8_model):
    a_ms, b_ms = ab_ratios(str(fp32_model), str(int8_model), num_runs=3, rounds=4, warmup_runs=1)
    assert len(a_ms) == len(b_ms) == 4 and min(a_ms + b_ms) > 0


def test_prints_medians_and_the_ratio_with_its_spread(fp32_model, capsys):
    assert main([str(fp32_model), str(fp32_model), "--num_runs", "3", "--rounds", "3"]) == 0
    out = capsys.readouterr().out
    assert "B/A latency" in out and "rounds range" in out and "3 alternating rounds of 3 runs" in out


def test_a_missing_file_is_a_one_line_error(fp32_model, capsys):
    assert main([str(fp32_model), "/no/such.tflite"]) == 2
    assert capsys.readouterr().err.strip() == "bench.ab: error: /no/such.tflite is not a file"
