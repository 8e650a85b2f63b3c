"""runtime.arm.estimate and the Lite0 yardstick's table: counts to an estimated phone time."""
import dataclasses

import pytest

from runtime.arm.estimate import PIXEL4
from studies.arm_yardstick import markdown


def test_the_estimate_divides_instructions_by_ipc_clock_and_threads():
    instructions = 2_000_000_000
    one_thread = dataclasses.replace(PIXEL4, clock_ghz=2.84, threads=1)  # the prime core alone
    assert one_thread.estimated_ms(instructions) == pytest.approx(1e3 * instructions / (2.0 * 2.84e9))
    assert PIXEL4.estimated_ms(instructions) == pytest.approx(1e3 * instructions / (2.0 * 2.525e9 * 4))
    # The IPC that would match a measured time is the one the estimate then reproduces it with.
    ipc = PIXEL4.implied_ipc(instructions, 12.0)
    assert PIXEL4.estimated_ms(instructions) * PIXEL4.ipc / ipc == pytest.approx(12.0)


def test_the_yardstick_table_sets_estimate_and_published_figure_side_by_side():
    rows = [{"file": "lite0_int8.tflite", "instructions": 100_000_000, "estimated_ms": 4.95, "published_ms": 6.5,
             "implied_ipc": 1.52},
            {"file": "s_int8.tflite", "instructions": 295_800_000, "estimated_ms": 14.6}]
    text = markdown({"device": PIXEL4.__dict__, "rows": rows})
    assert "an estimate, not a measurement" in text
    assert "| lite0_int8.tflite | 100.0 | 4.95 | 6.5 | 1.31 | 1.52 |" in text
    assert "| s_int8.tflite | 295.8 | 14.60 | - | - | - |" in text
