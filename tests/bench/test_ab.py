"""`python -m bench.ab`: two files timed in alternating rounds in one process."""
import re
import statistics

import pytest

from bench.ab import ab_ratios, main
from tests.small_models import tflite, tiny_b0

BIG = 192  # 9x the pixels of the 64 px fp32_model: a clear latency gap however noisy the machine


@pytest.fixture(scope="module")
def big_model(tmp_path_factory):
    """The bench's tiny b0 at 192 px instead of 64: the same graph, about 9x the work."""
    path = tmp_path_factory.mktemp("ab") / "b0_fp32.tflite"
    path.write_bytes(tflite(tiny_b0(BIG, 10, classifier_activation=None), "fp32", BIG))
    return str(path)


def test_each_round_times_a_then_b_and_keeps_them_apart(fp32_model, big_model):
    small_ms, big_ms = ab_ratios(fp32_model, big_model, num_runs=3, rounds=4, warmup_runs=1)
    assert len(small_ms) == len(big_ms) == 4
    # Swapped or mixed-up lists would put the 9x-slower file's times on A's side.
    assert statistics.median(b / a for a, b in zip(small_ms, big_ms)) > 3
    big_first, small_second = ab_ratios(big_model, fp32_model, num_runs=3, rounds=3, warmup_runs=1)
    assert statistics.median(b / a for a, b in zip(big_first, small_second)) < 1 / 3


def test_prints_both_medians_and_the_median_ratio_within_its_rounds_range(fp32_model, big_model, capsys):
    assert main([fp32_model, big_model, "--num_runs", "3", "--rounds", "3"]) == 0
    first, second = capsys.readouterr().out.strip().splitlines()
    timing = re.fullmatch(r"A b0_fp32\.tflite: p50 ([\d.]+) ms; B b0_fp32\.tflite: p50 ([\d.]+) ms "
                          r"\(1 thread\(s\), 3 alternating rounds of 3 runs\)", first)
    ratio = re.fullmatch(r"B/A latency ([\d.]+) \(rounds range ([\d.]+)-([\d.]+)\)", second)
    assert timing and ratio, (first, second)
    a_ms, b_ms = map(float, timing.groups())
    median, low, high = map(float, ratio.groups())
    assert low <= median <= high and median > 3 and b_ms > 3 * a_ms


def test_a_missing_file_is_a_one_line_error(fp32_model, capsys):
    assert main([str(fp32_model), "/no/such.tflite"]) == 2
    assert capsys.readouterr().err.strip() == "bench.ab: error: /no/such.tflite is not a file"
