"""convert.divergence: every op output exposed, run on x86 and an emulated ARM core, the first op whose
output differs named."""
import numpy as np

from convert.divergence import every_output_exposed, first_divergence
from convert.ops import operators
from runtime.arm.numerics import host_outputs
from tests.conftest import require_arm_env


def test_exposing_every_op_output_keeps_what_the_file_computes(tiny_int8, tmp_path):
    original = tiny_int8.read_bytes()
    exposed, names = every_output_exposed(original)
    assert [op for _, op, _ in names] == [o["op"] for o in operators(original)]  # one output per op here
    (tmp_path / "exposed.tflite").write_bytes(exposed)
    pixels = [np.random.default_rng(1).integers(0, 255, (1, 64, 64, 3), dtype=np.uint8)]
    every = host_outputs(tmp_path / "exposed.tflite", pixels)
    assert len(every) == len(names)
    assert np.array_equal(every[-1], host_outputs(tiny_int8, pixels)[0])


def test_a_file_equal_on_x86_and_arm_has_no_first_divergence(tiny_int8):
    require_arm_env()
    assert first_divergence(str(tiny_int8), "a76") is None
