"""From emulated instruction counts to an estimated time on a phone: the model every ARM estimate
in this project uses, labelled an estimate wherever it appears.

    estimated ms = instructions per inference / (IPC x clock x threads)

- instructions: one inference on one emulated core (runtime.arm.run_on_core, 1 thread);
- IPC: instructions per cycle the core sustains on XNNPACK's kernels. Not measurable here (no ARM
  hardware), so an assumption with its reason: the Cortex-A76 decodes up to 4 instructions a cycle
  and has two 128-bit SIMD pipes (Arm Cortex-A76 Software Optimization Guide); XNNPACK's GEMM and
  convolution kernels are SIMD-pipe bound, about two thirds of their instructions SIMD, so 2 per cycle
  is the middle value (with loads and scalar bookkeeping beside the SIMD ops, up to ~3);
- threads: perfect scaling over the big cores, which XNNPACK's partitioning approaches on the large
  convolutions and misses on the small ops (an optimistic term);
- nothing for memory stalls: the counts have none (a cache model would add them).

The yardstick (studies/arm_yardstick.py) compares the estimate for EfficientNet-Lite0 with its
published Pixel 4 latency; the ratio it reports is how far to trust the same model elsewhere.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Device:
    name: str
    core: str           # the emulated core (runtime.arm.CORES) whose counts apply
    clock_ghz: float    # mean clock of the cores the threads run on
    threads: int
    ipc: float          # assumed instructions per cycle per core
    source: str         # where the clock and core figures come from

    def estimated_ms(self, instructions_per_inference: int) -> float:
        return 1e3 * instructions_per_inference / (self.ipc * self.clock_ghz * 1e9 * self.threads)

    def implied_ipc(self, instructions_per_inference: int, measured_ms: float) -> float:
        """The IPC x scaling that would make the estimate equal a measured time."""
        return instructions_per_inference / (measured_ms / 1e3 * self.clock_ghz * 1e9 * self.threads)


# Snapdragon 855: one Cortex-A76-based Kryo 485 Gold at 2.84 GHz and three at 2.42 GHz (the big cores
# four threads run on), four A55s at 1.78 GHz (Qualcomm's product brief).
PIXEL4 = Device("Pixel 4 (Snapdragon 855), 4 threads on its A76 cores", "a76", (2.84 + 3 * 2.42) / 4, 4, 2.0,
                "Qualcomm Snapdragon 855 product brief; IPC assumed (runtime/arm/estimate.py)")
