"""The host a row was measured on: CPU, cores, the SIMD flags that decide XNNPACK's kernels."""
from __future__ import annotations

import dataclasses
import os
import platform

# /proc/cpuinfo flags that decide which XNNPACK kernels run (int8 speed hinges on VNNI).
_CPU_FLAGS = ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni",
              "avx512_bf16", "amx_int8", "asimddp", "i8mm", "sve")


@dataclasses.dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    flags: tuple[str, ...]
    system: str

    def summary(self) -> str:
        return f"{self.cpu} x{self.cores} [{' '.join(self.flags) or 'no SIMD flags found'}]"


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


def machine_info() -> Machine:
    info = _cpuinfo()
    present = set((info.get("flags") or info.get("Features", "")).split())
    return Machine(cpu=info.get("model name") or platform.processor() or platform.machine(),
                   cores=os.cpu_count() or 1, flags=tuple(f for f in _CPU_FLAGS if f in present),
                   system=f"{platform.system()} {platform.release()} {platform.machine()}")
