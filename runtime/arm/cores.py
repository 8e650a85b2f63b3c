"""The ARM cores `make arm-env` emulates: qemu's CPU model and the identity XNNPACK reads.

XNNPACK picks its kernels per core (A53-tuned int8 kernels, dot-product kernels on A76/N1, i8mm
and SME on v9), and it identifies the core by its MIDR: from /proc/cpuinfo and
/sys/devices/system/cpu, which each core's sysroot fakes (qemu-user passes the host's through).
Standard library only.
"""
from __future__ import annotations

import dataclasses

KB = 1024


@dataclasses.dataclass(frozen=True)
class Caches:
    """One core's caches as the cache model takes them (bytes, ways; 64-byte lines on every core
    here). Sizes are options when a chip is made; these are common phone and board configurations,
    from each core's Arm Technical Reference Manual. No L3 or system cache is modelled."""
    l1i: tuple[int, int]
    l1d: tuple[int, int]
    l2: tuple[int, int]
    line: int = 64

    def plugin_args(self) -> str:
        """Arguments of qemu's contrib cache plugin (limit=0: totals only, no per-instruction lists)."""
        return (f"icachesize={self.l1i[0]},iassoc={self.l1i[1]},iblksize={self.line},"
                f"dcachesize={self.l1d[0]},dassoc={self.l1d[1]},dblksize={self.line},"
                f"l2cachesize={self.l2[0]},l2assoc={self.l2[1]},l2blksize={self.line},limit=0")

    def summary(self) -> str:
        kb = lambda size_ways: f"{size_ways[0] // KB} KB {size_ways[1]}-way"  # noqa: E731
        return f"L1I {kb(self.l1i)}, L1D {kb(self.l1d)}, L2 {kb(self.l2)}, {self.line} B lines"


@dataclasses.dataclass(frozen=True)
class Core:
    name: str
    title: str          # what a table calls it
    qemu_cpu: str       # qemu-aarch64 -cpu
    midr: int           # MIDR_EL1: implementer[31:24] variant[23:20] arch[19:16] part[15:4] revision[3:0]
    features: str       # /proc/cpuinfo "Features" (cpuinfo reads the hwcaps qemu gives; this is for readers)
    caches: Caches      # for the cache model (emulate.run_on_core(caches=True))

    @property
    def implementer(self) -> int:
        return self.midr >> 24 & 0xFF

    @property
    def variant(self) -> int:
        return self.midr >> 20 & 0xF

    @property
    def part(self) -> int:
        return self.midr >> 4 & 0xFFF

    @property
    def revision(self) -> int:
        return self.midr & 0xF


_V8_0 = "fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid"
_V8_2 = _V8_0 + " atomics fphp asimdhp asimdrdm lrcpc dcpop asimddp"

CORES: dict[str, Core] = {c.name: c for c in [
    # L2: shared by the cluster on A53 and A72 (Raspberry Pi 3: 512 KB, Pi 4: 1 MB), private on the others.
    Core("a53", "Cortex-A53", "cortex-a53", 0x410FD034, _V8_0, Caches((32 * KB, 2), (32 * KB, 4), (512 * KB, 16))),
    Core("a72", "Cortex-A72", "cortex-a72", 0x410FD083, _V8_0, Caches((48 * KB, 3), (32 * KB, 2), (1024 * KB, 16))),
    Core("a76", "Cortex-A76", "cortex-a76", 0x414FD0B1, _V8_2, Caches((64 * KB, 4), (64 * KB, 4), (512 * KB, 8))),
    Core("n1", "Neoverse-N1", "neoverse-n1", 0x414FD0C1, _V8_2 + " ssbs",
         Caches((64 * KB, 4), (64 * KB, 4), (1024 * KB, 8))),
    # qemu 7.2's SME emulation gives wrong results: its `max` core (Armv9 with SVE2, i8mm, bf16)
    # is only usable with SME off.
    Core("v9", "Armv9 (qemu max, SME off)", "max,sme=off", 0x000F0510,
         _V8_2 + " sha3 sm3 sm4 sha512 sve asimdfhm flagm sb paca pacg dcpodp sve2 svei8mm "
                 "svebf16 i8mm bf16",
         Caches((64 * KB, 4), (64 * KB, 4), (512 * KB, 8))),  # as a Cortex-A710, an Armv9 phone core
]}


def core(name: str) -> Core:
    """The core called `name`; ValueError naming the valid ones otherwise."""
    try:
        return CORES[name]
    except KeyError:
        raise ValueError(f"unknown ARM core {name!r}; valid: {', '.join(CORES)}") from None


def cpuinfo(c: Core) -> str:
    """An aarch64 /proc/cpuinfo for one processor."""
    return (f"processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: {c.features}\n"
            f"CPU implementer\t: 0x{c.implementer:02x}\nCPU architecture: 8\n"
            f"CPU variant\t: 0x{c.variant:x}\nCPU part\t: 0x{c.part:03x}\n"
            f"CPU revision\t: {c.revision}\n\n")


def sysfs_files(c: Core) -> dict[str, str]:
    """Relative path in the sysroot -> contents: one online CPU with this MIDR."""
    cpu = "sys/devices/system/cpu"
    return {"proc/cpuinfo": cpuinfo(c), f"{cpu}/possible": "0\n", f"{cpu}/present": "0\n",
            f"{cpu}/online": "0\n", f"{cpu}/cpu0/regs/identification/midr_el1": f"0x{c.midr:016x}\n"}
