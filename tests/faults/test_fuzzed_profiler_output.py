"""A damaged benchmark_model op-profiling output given to `python -m bench.profile --benchmark-output`
(a phone's run, saved): refused in one line naming the file, never an empty table."""
import pytest

from bench.profile import main as profile_main
from tests.faults.corrupt import cases, rng_for
from tests.faults.outcome import CLEAR, in_process, refusal

GROUP = "damaged benchmark_model output"
DAMAGE = {"empty": 1, "random-bytes": 2, "no-summary": 1, "summary-without-rows": 2}
WORDS = ["INFO:", "count=50", "avg=13950", "Timings", "node", "[ms]", "XNNPACK", "====", "1.23", "%"]


def profiler_output(kind: str, seed: int) -> bytes:
    rng = rng_for(kind, seed)
    text = "\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8))) for _ in range(rng.randint(1, 40)))
    if kind == "empty":
        return b""
    if kind == "random-bytes":
        return b"\xff" + rng.randbytes(rng.randint(1, 4000))
    if kind == "no-summary":
        return text.encode()
    if kind == "summary-without-rows":
        return f"INFO: ============ Summary by node type ============\n{text}".encode()
    raise ValueError(f"no profiler output damage called {kind!r}")


@pytest.mark.fault(GROUP, "python -m bench.profile --benchmark-output FILE")
@pytest.mark.parametrize(("kind", "seed"), cases(DAMAGE))
def test_profile_refuses_a_damaged_benchmark_output_naming_it(kind, seed, case, verdict):
    path = case.root / "phone run.txt"
    path.write_bytes(profiler_output(kind, seed))
    finished, harmed = case.run(lambda: in_process(profile_main, ["--benchmark-output", str(path)]))
    verdict(refusal(finished, [path.name], harmed), CLEAR)
