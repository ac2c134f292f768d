"""The ``zoo`` command.

``zoo models`` lists the five methods with their status in this checkout; ``zoo <model>``
describes one. Subcommands (train, predict, evaluate, export) appear under a model only
once that model implements them: no command here pretends to do what does not exist.
"""
from __future__ import annotations

import argparse
import sys

from . import __version__, registry


def _describe(info: registry.ModelInfo) -> str:
    lines = [f"{info.title} ({info.name}): {info.summary}", f"paper: {info.paper}", f"status: {info.status}"]
    if info.status != "available":
        lines.append("not implemented in this checkout yet: it has no train/predict/evaluate/export commands.")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo", description="speech-anim-zoo: speech-driven animation models in TF2/Keras.")
    parser.add_argument("--version", action="version", version=f"speech-anim-zoo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("models", help="list the five models and their status",
                   description="List the five models and their status in this checkout.")
    for info in registry.MODELS:
        sub.add_parser(info.name, help=f"{info.title} [{info.status}]",
                       description=_describe(info), formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "models":
        width = max(len(m.name) for m in registry.MODELS)
        for m in registry.MODELS:
            print(f"{m.name:<{width}}  {m.status:<9}  {m.title}: {m.paper}")
        return 0
    info = registry.get(args.command)
    print(_describe(info))
    return 0 if info.status == "available" else 2


if __name__ == "__main__":
    sys.exit(main())
