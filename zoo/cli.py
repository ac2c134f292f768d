"""The ``zoo`` command.

``zoo models`` lists the five methods with their status in this checkout; ``zoo <model>``
describes one; ``zoo corpus`` writes the synthetic corpus; ``zoo bench`` runs benchmarks/. Subcommands
(train, predict, evaluate, export) appear under a model only
once that model implements them: no command here pretends to do what does not exist.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__, registry


def _describe(info: registry.ModelInfo) -> str:
    lines = [f"{info.title} ({info.name}): {info.summary}", f"paper: {info.paper}", f"status: {info.status}"]
    if info.status != "available":
        lines.append("not implemented in this checkout yet: it has no train/predict/evaluate/export commands.")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    from zoo.core import validate as check
    from zoo.core.cli import Parser

    parser = Parser(
        prog="zoo", description="speech-anim-zoo: speech-driven animation models in TF2/Keras. Arguments are "
                                "checked before any work; an error is one line (exit status 2), Ctrl-C exits 130.")
    parser.add_argument("--version", action="version", version=f"speech-anim-zoo {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="print full tracebacks (otherwise an unexpected error is one line and a log file)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.add_parser("models", help="list the five models and their status",
                   description="List the five models and their status in this checkout.")
    corpus = sub.add_parser(
        "corpus", help="generate the synthetic talking corpus in the real dataset layouts",
        description="Generate the synthetic talking corpus (espeak-ng speech, face motion, meshes, rendered "
                    "video) in the FACEGOOD, EveNet, VOCASET and RAVDESS layouts, and the RAVDESS trials' meshes in "
                    "the derived VOCA repo's layout (ravdess_meshes/). The same arguments give "
                    "byte-identical files; a second call with the same arguments reuses the folder.")
    corpus.add_argument("--out", required=True, help="output folder (new, empty, or a corpus of the same arguments)")
    corpus.add_argument("--preset", default="small", choices=["small", "medium"],
                        help="small: ~10 min of sentences + 120 RAVDESS trials; medium: ~40 min + 240")
    corpus.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    corpus.add_argument("--workers", type=check.positive_int, default=None,
                        help="processes for rendering (default: CPU count, at most 4)")
    corpus.add_argument("--dry-run", action="store_true", help="check the arguments, then stop")
    bench = sub.add_parser(
        "bench", help="run the benchmarks (a source checkout's benchmarks/) -> benchmarks/results.{md,json}",
        description="Run the side-by-side benchmarks in the source checkout's benchmarks/ folder (ours vs a "
                    "reference in the same run, interleaved) and write benchmarks/results.json and results.md. "
                    "The same as `make bench`; all suites take under 10 minutes on 2 cores.")
    bench.add_argument("suites", nargs="*", metavar="NAME", help="suites to run (default: all), e.g. audio2face")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run; noisier figures)")
    bench.add_argument("--profile", metavar="DIR", help="also write a cProfile of each suite into DIR")
    for info in registry.MODELS:
        model_parser = sub.add_parser(info.name, help=f"{info.title} [{info.status}]",
                                      description=_describe(info),
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
        if info.status == "available":
            _model_cli(info.name).add_commands(model_parser)
    return parser


def _model_cli(name: str):
    import importlib

    return importlib.import_module(f"zoo.{name}.cli")


def _corpus(args) -> int:
    import logging
    import time

    from zoo.core.validate import output_folder
    from zoo.datasets.synthetic import corpus

    output_folder(args.out, "--out")
    if args.dry_run:
        print("zoo corpus: arguments checked; nothing done (--dry-run)")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()
    manifest = corpus.generate(args.out, args.preset, args.seed, workers=args.workers)
    print(f"{args.out}: {len(manifest['utterances'])} utterances, {manifest['speech_seconds'] / 60:.1f} min of "
          f"speech, {len(manifest['files'])} files ({time.perf_counter() - started:.1f} s)")
    return 0


def benchmarks_dir() -> Path:
    """The ``benchmarks/`` folder beside the ``zoo`` package (present in a source checkout)."""
    return Path(__file__).resolve().parent.parent / "benchmarks"


def _bench(args) -> int:
    import subprocess

    runner = benchmarks_dir() / "run.py"
    if not runner.is_file():
        print(f"zoo bench: error: no {runner}: the benchmarks live in the source checkout "
              "(git clone the project and install it with `make setup`)", file=sys.stderr)
        return 2
    options = (["--quick"] if args.quick else []) + (["--profile", args.profile] if args.profile else [])
    return subprocess.call([sys.executable, str(runner), *args.suites, *options])


def main(argv: list[str] | None = None) -> int:
    from zoo.core.cli import checked_run, glue_negative_values, guarded

    parser = build_parser()
    args, unknown = parser.parse_known_args(glue_negative_values(sys.argv[1:] if argv is None else argv))
    if unknown:  # named after the command that was meant, not the top-level parser
        prog = " ".join(["zoo", *(w for w in (args.command, getattr(args, "action", None)) if w)])
        sys.stderr.write(f"{prog}: error: unrecognized arguments: {' '.join(unknown)} (see {prog} --help)\n")
        return 2
    debug = bool(getattr(args, "debug", False))
    if not debug:  # TensorFlow's C++ start-up chatter would bury the one-line messages
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "corpus":
        return guarded("zoo corpus", lambda: _corpus(args), debug)
    if args.command == "bench":
        return guarded("zoo bench", lambda: _bench(args), debug)
    if args.command == "models":
        width = max(len(m.name) for m in registry.MODELS)
        for m in registry.MODELS:
            print(f"{m.name:<{width}}  {m.status:<9}  {m.title}: {m.paper}")
        return 0
    info = registry.get(args.command)
    if info.status == "available" and getattr(args, "action", None):
        prog = f"zoo {info.name} {args.action}"
        return guarded(prog, lambda: checked_run(prog, _model_cli(info.name), args), debug)
    print(_describe(info))
    if info.status == "available":
        print(f"actions: zoo {info.name} {{train,predict,evaluate,export,info}} --help")
    return 0 if info.status == "available" else 2


if __name__ == "__main__":
    sys.exit(main())
