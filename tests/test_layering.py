"""Imports go down the layers of docs/architecture.md: a package imports only packages of lower
layers, so no two packages import each other.

Read from the source with ast, every import wherever it is (module level, inside a function or
an `if`): an import moved into a function hides a cycle, it does not remove it. A module run as
`[python, "-m", "pkg.module"]` or named to importlib.import_module counts as an import too.
"""
from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The layer of each top-level package, bottom first. A package may import any lower layer and
# nothing of its own layer or above (docs/architecture.md draws this).
LAYERS = {
    "core": 0,  # artifact contract, command errors, environments, atomic files, CSV and plots
    "models": 1,  # Keras builders
    "imagedata": 1,  # image files, labels.txt, DATA folder layouts
    "runtime": 2,  # running a .tflite: backends, isolated workers, inference
    "quantize": 3,  # the quantization library: calibration, ranges, QAT configs
    "train": 4,
    "convert": 4,
    "bench": 5,
    "studies": 6,  # workflows over several stages: qat, quant report, calib study, ablation, designs
    "tools": 7,  # scripts the Makefile runs; not a package, imported by none
}
NOT_LAYERED = {"tests"}  # tests may import every package; nothing imports them

# Imports that still go up or sideways, each with why. Strict: an entry that no longer matches
# any import fails the test until it is deleted here, so this list only shrinks.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


@dataclasses.dataclass(frozen=True)
class Import:
    file: str  # relative to the repository root
    line: int
    module: str  # absolute dotted name

    @property
    def source(self) -> str:
        return self.file.split("/")[0]

    @property
    def target(self) -> str:
        return self.module.split(".")[0]

    def __str__(self) -> str:
        return f"{self.file}:{self.line} imports {self.module}"


def _module_name(relative: Path) -> list[str]:
    parts = list(relative.with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _absolute(node: ast.ImportFrom, relative: Path) -> str:
    """The dotted module a `from` import names; relative ones resolved against the file."""
    if node.level == 0:
        return node.module
    module = _module_name(relative)
    package = module if relative.name == "__init__.py" else module[:-1]
    base = package[:len(package) - (node.level - 1)]
    if len(base) != len(package) - (node.level - 1) or not base:
        return "." * node.level + (node.module or "")  # climbs out of its top-level package
    return ".".join(base + ([node.module] if node.module else []))


def _named_modules(node: ast.AST) -> list[str]:
    """Modules a call or list names as strings: `[..., "-m", "pkg.mod", ...]`, import_module("pkg")."""
    if isinstance(node, (ast.List, ast.Tuple)):
        values = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
        return [module for flag, module in zip(values, values[1:]) if flag == "-m" and isinstance(module, str)]
    if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
        first = node.args[0] if node.args else None
        return [first.value] if isinstance(first, ast.Constant) and isinstance(first.value, str) else []
    return []


def imports_of(path: Path) -> list[Import]:
    relative = path.relative_to(ROOT)
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(relative))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [_absolute(node, relative)]
        else:
            modules = _named_modules(node)
        found += [Import(relative.as_posix(), node.lineno, module) for module in modules]
    return found


def project_files() -> list[Path]:
    folders = [p for p in ROOT.iterdir() if p.is_dir() and p.name in LAYERS]
    return sorted(f for folder in folders for f in folder.rglob("*.py"))


def cross_package_imports() -> list[Import]:
    """Every import of one project package by another (tests excluded)."""
    packages = set(LAYERS) | NOT_LAYERED
    return [i for f in project_files() for i in imports_of(f)
            if i.module.startswith(".") or (i.target in packages and i.target != i.source)]


def _is_upward(i: Import) -> bool:
    return i.module.startswith(".") or i.target not in LAYERS or LAYERS[i.target] >= LAYERS[i.source]


def _known(i: Import) -> bool:
    return (i.file, i.module) in KNOWN_UPWARD


def test_every_package_has_a_layer():
    unplaced = sorted(p.name for p in ROOT.iterdir()
                      if (p / "__init__.py").is_file() and p.name not in LAYERS and p.name not in NOT_LAYERED)
    assert not unplaced, f"new top-level packages {unplaced}: give each a layer in LAYERS and docs/architecture.md"


def test_imports_only_go_down():
    upward = [i for i in cross_package_imports() if _is_upward(i) and not _known(i)]
    assert not upward, "imports that go up or sideways (layers: LAYERS in this file):\n" + "\n".join(
        f"  {i} ({i.source}: layer {LAYERS[i.source]}, {i.target}: layer {LAYERS.get(i.target, '?')})"
        for i in upward)


def test_the_known_upward_imports_are_still_there():
    seen = {(i.file, i.module) for i in cross_package_imports()}
    gone = sorted(key for key in KNOWN_UPWARD if key not in seen)
    assert not gone, "fixed, so delete from KNOWN_UPWARD: " + ", ".join(f"{f} -> {m}" for f, m in gone)


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the package graph as [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for following in sorted(edges.get(node, ())):
            if state.get(following) == "open":
                return path[path.index(following):] + [following]
            if following not in state and (found := visit(following, path + [following])):
                return found
        state[node] = "done"
        return None

    return next((c for n in sorted(edges) if n not in state and (c := visit(n, [n]))), None)


def test_no_two_packages_import_each_other_even_through_others():
    imports = [i for i in cross_package_imports() if not i.module.startswith(".")]
    edges: dict[str, set[str]] = {}
    for i in imports:
        edges.setdefault(i.source, set()).add(i.target)
    cycle = _cycle(edges)
    if cycle:
        steps = [next(i for i in imports if (i.source, i.target) == pair) for pair in zip(cycle, cycle[1:])]
        pytest.fail("packages import each other: " + " -> ".join(cycle) + "\n" + "\n".join(f"  {i}" for i in steps))


@pytest.mark.parametrize("source, expected", [
    ("import train.run\n", ["train.run"]),
    ("def f():\n    from convert import pipeline\n", ["convert"]),
    ("from . import qat\n", ["quantize"]),
    ("from ..x import y\n", ["..x"]),
    ("run([sys.executable, '-m', 'studies.finetune'])\n", ["studies.finetune"]),
    ("importlib.import_module('bench.cli')\n", ["bench.cli"]),
])
def test_imports_are_found_wherever_they_are(tmp_path, monkeypatch, source, expected):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "quantize").mkdir()
    (tmp_path / "quantize" / "m.py").write_text(source)
    found = imports_of(tmp_path / "quantize" / "m.py")
    assert [i.module for i in found] == expected and all(i.file == "quantize/m.py" for i in found)


def test_a_cycle_is_named_in_order():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None
