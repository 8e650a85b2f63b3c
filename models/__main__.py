"""python -m models {list,table,build}: inspect the variants without writing code."""
from __future__ import annotations

import argparse
import json
import sys

import models
from core.cli import run_command
from models.profile import count_macs, markdown, variant_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every buildable variant name")
    table = commands.add_parser("table", help="params and MACs of standard and Ghost variants")
    table.add_argument("names", nargs="*", help="standard variants (default: b0 ... xl)")
    table.add_argument("--size", type=int, help="input size for all (default: each variant's own)")
    table.add_argument("--json", action="store_true", help="print JSON rows instead of Markdown")
    build = commands.add_parser("build", help="build one variant, print its size, optionally save")
    build.add_argument("variant")
    build.add_argument("--size", type=int)
    build.add_argument("--classes", type=int, default=1000)
    build.add_argument("--activation", default="silu", choices=models.ACTIVATIONS)
    build.add_argument("--no-se", action="store_true")
    build.add_argument("--save", help="write the model to this .keras file")
    args = parser.parse_args(argv)

    return run_command(lambda: COMMANDS[args.command](args))


def _list(args) -> str:
    return "\n".join(models.variant_names())


def _table(args) -> str:
    rows = variant_table(args.names or None, args.size)
    return json.dumps(rows, indent=1) if args.json else markdown(rows)


def _build(args) -> str:
    model = models.build(args.variant, input_size=args.size, num_classes=args.classes,
                         activation=args.activation, se=not args.no_se)
    summary = (f"{model.name}: input {model.input_shape}, {model.count_params():,} params, "
               f"{count_macs(model) / 1e9:.3f} GMACs, {len(model.layers)} layers")
    if args.save:
        model.save(args.save)
        summary += f"\nsaved {args.save}"
    return summary


COMMANDS = {"list": _list, "table": _table, "build": _build}


if __name__ == "__main__":
    sys.exit(main())
