import dataclasses
import time

import numpy as np
import pytest

from runtime.records import Latency, Record, percentile
from runtime.timing import RunSettings, measure, timed_runs


@pytest.mark.parametrize("q", [0, 10, 50, 90, 99, 100])
def test_percentile_matches_numpy(q):
    values = sorted(np.random.default_rng(1).exponential(size=37).tolist())
    assert percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_latency_summary():
    lat = Latency.from_samples([4.0, 1.0, 3.0, 2.0])
    assert (lat.runs, lat.mean_ms, lat.p50_ms, lat.min_ms, lat.max_ms) == (4, 2.5, 2.5, 1.0, 4.0)
    assert lat.std_ms == pytest.approx(np.std([1, 2, 3, 4]))


def test_runs_at_least_num_runs_and_min_secs_but_stop_at_max_secs():
    assert len(timed_runs(lambda: None, RunSettings(num_runs=7, min_secs=0))) == 7
    start = time.perf_counter()
    samples = timed_runs(lambda: time.sleep(0.001), RunSettings(num_runs=1, min_secs=0.05))
    assert time.perf_counter() - start >= 0.05 and len(samples) > 1
    samples = timed_runs(lambda: time.sleep(0.01), RunSettings(num_runs=10**6, min_secs=0, max_secs=0.05))
    assert 1 <= len(samples) < 20


def test_first_inference_is_timed_apart_from_warmup_and_timed_runs():
    calls = []
    timing = measure(lambda: calls.append(1), RunSettings(num_runs=5, warmup_runs=3, min_secs=0))
    assert len(calls) == 1 + 3 + 5 and len(timing.samples_ms) == 5 and timing.first_ms >= 0


def test_record_flattens_and_round_trips():
    record = Record(model="m.tflite", path="/m.tflite", variant="b0", precision="int8",
                    backend="cpu", threads=2, latency=Latency.from_samples([1.0, 2.0]))
    flat = record.flat()
    assert flat["p50_ms"] == 1.5 and "latency" not in flat
    assert Record.from_dict(dataclasses.asdict(record)) == record
