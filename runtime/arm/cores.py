"""The ARM cores `make arm-env` emulates: qemu's CPU model and the identity XNNPACK reads.

XNNPACK picks its kernels per core (A53-tuned int8 kernels, dot-product kernels on A76/N1, i8mm
and SME on v9), and it identifies the core by its MIDR: from /proc/cpuinfo and
/sys/devices/system/cpu, which each core's sysroot fakes (qemu-user passes the host's through).
Standard library only.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Core:
    name: str
    title: str          # what a table calls it
    qemu_cpu: str       # qemu-aarch64 -cpu
    midr: int           # MIDR_EL1: implementer[31:24] variant[23:20] arch[19:16] part[15:4] revision[3:0]
    features: str       # /proc/cpuinfo "Features" (cpuinfo reads the hwcaps qemu gives; this is for readers)

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
    Core("a53", "Cortex-A53", "cortex-a53", 0x410FD034, _V8_0),
    Core("a72", "Cortex-A72", "cortex-a72", 0x410FD083, _V8_0),
    Core("a76", "Cortex-A76", "cortex-a76", 0x414FD0B1, _V8_2),
    Core("n1", "Neoverse-N1", "neoverse-n1", 0x414FD0C1, _V8_2 + " ssbs"),
    # qemu 7.2's SME emulation gives wrong results: its `max` core (Armv9 with SVE2, i8mm, bf16)
    # is only usable with SME off.
    Core("v9", "Armv9 (qemu max, SME off)", "max,sme=off", 0x000F0510,
         _V8_2 + " sha3 sm3 sm4 sha512 sve asimdfhm flagm sb paca pacg dcpodp sve2 svei8mm "
                 "svebf16 i8mm bf16"),
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
