"""Names for the guest code the counting plugin saw run: its per-block counts (start address,
instructions, runs) are mapped through the guest's /proc/self/maps to the library each block lies
in, and through that library's symbol table (`nm`, which reads aarch64 ELF files on any host) to a
function: `xnn_qs8_qc8w_igemm_minmax_fp32_ukernel_4x16c4__neondot`, `memcpy`, ...

What perf's symbol report does for a native process (bench/profile.py), for an emulated one.
"""
from __future__ import annotations

import bisect
import dataclasses
import functools
import os
import subprocess
from collections import Counter
from pathlib import Path

UNMAPPED = "[code outside any file]"  # qemu's own trampolines, the vDSO, JIT


@dataclasses.dataclass(frozen=True)
class Mapping:
    start: int
    end: int
    path: str
    bias: int  # where the file's address 0 lies in this process


def executable_mappings(maps: str) -> list[Mapping]:
    """The executable file mappings of a /proc/PID/maps text, sorted by address."""
    rows = [line.split(maxsplit=5) for line in maps.splitlines()]
    rows = [row for row in rows if len(row) == 6 and row[5].startswith("/")]
    # A shared library's first mapping (file offset 0) is where its ELF address 0 was placed.
    bias = {}
    for address, _, offset, _, _, path in rows:
        if int(offset, 16) == 0:
            bias.setdefault(path, int(address.split("-")[0], 16))
    mappings = []
    for address, perms, _, _, _, path in rows:
        if "x" in perms and path in bias:
            start, end = (int(part, 16) for part in address.split("-"))
            mappings.append(Mapping(start, end, path, bias[path]))
    return sorted(mappings, key=lambda m: m.start)


@dataclasses.dataclass(frozen=True)
class SymbolTable:
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    names: tuple[str, ...]

    def name(self, address: int) -> str | None:
        i = bisect.bisect_right(self.starts, address) - 1
        return self.names[i] if i >= 0 and address < self.ends[i] else None


@functools.lru_cache(maxsize=64)
def symbol_table(path: str) -> SymbolTable:
    """The sized functions of an ELF file: its full symbol table, else its dynamic one (a stripped
    library keeps only its exported names). Demangled (`tflite::ops::builtin::...`)."""
    for extra in ([], ["-D"]):
        listing = subprocess.run(["nm", "-C", "-S", "--defined-only", *extra, path], capture_output=True,
                                 text=True, env={**os.environ, "LC_ALL": "C"})
        functions = []
        for line in listing.stdout.splitlines():
            parts = line.split(maxsplit=3)
            if len(parts) == 4 and parts[2] in "tTwWiI" and int(parts[1], 16) > 0:
                start = int(parts[0], 16)
                functions.append((start, start + int(parts[1], 16), parts[3]))
        if functions:
            functions.sort()
            starts, ends, names = zip(*functions)
            return SymbolTable(starts, ends, names)
    return SymbolTable((), (), ())


def instructions_by_symbol(blocks: str, maps: str) -> Counter:
    """Instructions executed per function from the plugin's blocks file (`address insns runs` in hex,
    decimal, decimal per line); code in a file without a name for it counts as `[library]`."""
    mappings = executable_mappings(maps)
    starts = [m.start for m in mappings]
    totals: Counter = Counter()
    for line in blocks.splitlines():
        address, insns, runs = line.split()
        address = int(address, 16)
        i = bisect.bisect_right(starts, address) - 1
        if i < 0 or address >= mappings[i].end:
            totals[UNMAPPED] += int(insns) * int(runs)
            continue
        mapping = mappings[i]
        name = symbol_table(mapping.path).name(address - mapping.bias)
        totals[name.split("@")[0] if name else f"[{Path(mapping.path).name}]"] += int(insns) * int(runs)
    return totals
