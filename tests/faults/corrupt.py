"""Seeded damage. A case is a (kind, seed) pair: the same pair makes the same bytes, so a failing case
reproduces from its id alone (`truncated-seed3`: `damage("truncated", 3, data)`)."""
from __future__ import annotations

import json
import random

import pytest

Region = tuple[int, int]  # [start, end) of the bytes a kind may touch (truncation ignores it)


def rng_for(kind: str, seed: int) -> random.Random:
    return random.Random(f"{kind}:{seed}")


def cases(counts: dict[str, int], marks: dict[str, object] | None = None) -> list:
    """pytest params `(kind, seed)` with ids `kind-seedN`, `counts[kind]` seeds of each kind;
    `marks` (e.g. a known gap's xfail) by kind, or by id for one seed."""
    marks = marks or {}
    ids = [(kind, seed, f"{kind}-seed{seed}") for kind, count in counts.items() for seed in range(count)]
    return [pytest.param(kind, seed, id=name, marks=marks.get(name, marks.get(kind, ()))) for kind, seed, name in ids]


# --- binary files: .tflite, .keras ------------------------------------------------------------

def _truncated(data: bytes, rng: random.Random, region: Region) -> bytes:
    return data[:rng.randrange(1, len(data))]


def _bit_flipped(data: bytes, rng: random.Random, region: Region) -> bytes:
    damaged = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        damaged[rng.randrange(*region)] ^= 1 << rng.randrange(8)
    return bytes(damaged)


def _zero_filled(data: bytes, rng: random.Random, region: Region) -> bytes:
    start = rng.randrange(*region)
    end = min(start + rng.randint(16, 4096), region[1])
    damaged = bytearray(data)
    damaged[start:end] = bytes(end - start)
    if damaged == bytearray(data):  # the span was zeros already: the file must differ
        damaged[start] = 0xFF
    return bytes(damaged)


def _random_bytes(data: bytes, rng: random.Random, region: Region) -> bytes:
    return rng.randbytes(rng.randint(1, len(data)))


def _emptied(data: bytes, rng: random.Random, region: Region) -> bytes:
    return b""


BINARY_DAMAGE = {"truncated": _truncated, "bit-flipped": _bit_flipped, "zero-filled": _zero_filled,
                 "random-bytes": _random_bytes, "empty": _emptied}


def damaged(kind: str, seed: int, data: bytes, region: Region | None = None) -> bytes:
    """`data` with the damage of `kind`, inside `region` where the kind writes bytes."""
    return BINARY_DAMAGE[kind](data, rng_for(kind, seed), region or (0, len(data)))


# --- JSON files: manifest.json, evaluation.json, results.json, state.json --------------------

WRONG_VALUES = (123, 4.5, "text", [1, 2], {"a": 1}, None, True)
Field = tuple[list, tuple]  # (the keys down to a field, the JSON types it may have: str, int, (int, float), ...)


def _has_type(value, types: tuple) -> bool:
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def wrong_value(rng: random.Random, types: tuple) -> object:
    """A JSON value of none of `types` (a number for a string, a list for a number, ...)."""
    return rng.choice([value for value in WRONG_VALUES if not _has_type(value, types)])


def damaged_json(kind: str, seed: int, document, fields: list[Field]) -> str:
    """The text of `document` with the damage of `kind`. `fields`: those a reader relies on, with
    their types; wrong-type and missing-field pick one of them."""
    rng, text = rng_for(kind, seed), json.dumps(document, indent=2)
    if kind == "truncated":
        return text[:rng.randrange(1, len(text))]
    if kind == "garbage":
        return rng.randbytes(rng.randint(1, 2000)).decode("latin-1")
    if kind == "empty-object":
        return "{}"
    if kind == "not-an-object":
        return json.dumps(rng.choice([[], None, 7, "manifest", [document]]))
    path, types = rng.choice(fields)
    copy = json.loads(text)
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if kind == "wrong-type":
        parent[path[-1]] = wrong_value(rng, types)
    elif kind == "missing-field":
        del parent[path[-1]]
    else:
        raise ValueError(f"no JSON damage called {kind!r}")
    return json.dumps(copy, indent=2)


# --- text: labels.txt ----------------------------------------------------------------------------

def random_name(rng: random.Random, alphabet: str = "abcdefghijklmnopqrstuvwxyz", length: int = 8) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))
