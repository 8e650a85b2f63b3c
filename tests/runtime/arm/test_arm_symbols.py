"""runtime.arm.symbols: the plugin's per-block counts named by a real library's symbol table."""
import subprocess
from pathlib import Path

import ai_edge_litert

from runtime.arm.symbols import UNMAPPED, executable_mappings, instructions_by_symbol

LIBRARY = str(next(Path(ai_edge_litert.__file__).parent.glob("libpywrap_litert_common.so")))
BIAS = 0x5500000000


def _a_kernel() -> tuple[str, int, int]:
    """An XNNPACK kernel of the (host) LiteRT library: name, address and size, as nm lists them."""
    listing = subprocess.run(["nm", "-S", "--defined-only", LIBRARY], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3].startswith("xnn_qs8_qc8w_igemm") and int(parts[1], 16) > 8:
            return parts[3], int(parts[0], 16), int(parts[1], 16)
    raise AssertionError("no XNNPACK igemm kernel in the LiteRT library")


def _maps(text_offset: int) -> str:
    end = BIAS + 0x4000000
    return (f"{BIAS:x}-{BIAS + 0x1000:x} r--p 00000000 fe:00 1 {LIBRARY}\n"
            f"{BIAS + text_offset:x}-{end:x} r-xp {text_offset:08x} fe:00 1 {LIBRARY}\n"
            "7f0000000000-7f0000001000 r-xp 00000000 00:00 0 [vdso]\n")


def test_blocks_are_named_by_the_function_they_lie_in_and_every_instruction_is_kept():
    name, address, size = _a_kernel()
    maps = _maps(0x1000)
    inside = BIAS + address + size // 2
    blocks = f"{BIAS + address:x} 10 3\n{inside:x} 4 5\n7f0000000010 7 1\n{BIAS + 0x3ffffff:x} 2 1\n"
    counts = instructions_by_symbol(blocks, maps)
    assert counts[name] == 10 * 3 + 4 * 5
    assert counts[UNMAPPED] == 7  # the vDSO is no file
    assert sum(counts.values()) == 30 + 20 + 7 + 2


def test_only_executable_file_mappings_with_a_known_load_address_are_kept():
    mappings = executable_mappings(_maps(0x1000) + "5600000000-5600001000 r-xp 00002000 fe:00 2 /lib/other.so\n")
    assert [(m.path, m.bias) for m in mappings] == [(LIBRARY, BIAS)]  # other.so: no offset-0 mapping seen
