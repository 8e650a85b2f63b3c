"""python -m models {list,table,build}: inspect the variants without writing code."""
from __future__ import annotations

import argparse
import json
import sys

import models
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

    try:
        if args.command == "list":
            print("\n".join(models.variant_names()))
        elif args.command == "table":
            rows = variant_table(args.names or None, args.size)
            print(json.dumps(rows, indent=1) if args.json else markdown(rows))
        else:
            model = models.build(args.variant, input_size=args.size, num_classes=args.classes,
                                 activation=args.activation, se=not args.no_se)
            print(f"{model.name}: input {model.input_shape}, {model.count_params():,} params, "
                  f"{count_macs(model) / 1e9:.3f} GMACs, {len(model.layers)} layers")
            if args.save:
                model.save(args.save)
                print(f"saved {args.save}")
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
