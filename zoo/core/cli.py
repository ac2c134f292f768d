"""The common part of every ``zoo <model> {train,predict,evaluate,export}`` command.

``add_actions(parser, model, ...)`` creates the four sub-commands with the flags every model shares
and returns them, so a model's ``cli.py`` adds only its own flags; ``setup_logging``,
``train_options``, ``print_json``, ``write_animation`` and ``print_export`` are the shared halves of
its ``run``.
"""
from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from .trainer import STRATEGIES

ACTIONS = ("train", "predict", "evaluate", "export")


def add_actions(parser: argparse.ArgumentParser, model: str, *, presets: Sequence[str], default_preset: str,
                data_help: str, train_description: str, predict_help: str) -> dict[str, argparse.ArgumentParser]:
    """The train/predict/evaluate/export sub-parsers of ``zoo <model>`` with the shared flags."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    t = sub.add_parser("train", help=f"train on a {data_help}", description=train_description)
    t.add_argument("--data", required=True, help=data_help)
    t.add_argument("--workdir", required=True, help="checkpoints, TensorBoard logs, feature cache, model/ "
                                                    "(rerun with the same --workdir to resume)")
    t.add_argument("--preset", default=default_preset, choices=sorted(presets),
                   help=f"hyperparameters (default {default_preset})")
    t.add_argument("--epochs", type=int, help="override the preset's epochs")
    t.add_argument("--batch-size", type=int, help="override the preset's batch size")
    t.add_argument("--seed", type=int, help="random seed (default: the preset's)")
    t.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override any field of the preset's Config (VALUE in JSON: 0.1, true, [1, 2], \"text\"); "
                        "repeatable")
    t.add_argument("--max-minutes", type=float, help="wall-clock budget: stop before an epoch that would end past it")
    t.add_argument("--strategy", default="default", choices=STRATEGIES,
                   help="tf.distribute strategy: default (one device), mirrored (every local device), "
                        "multi-worker (the cluster in TF_CONFIG; see the README)")
    t.add_argument("--cpu-devices", type=int, metavar="N",
                   help="split the CPU into N logical devices (for --strategy mirrored on a CPU-only machine)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("predict", help=predict_help, description=predict_help[0].upper() + predict_help[1:] + ".")
    p.add_argument("--model", required=True, help=f"a model directory (WORKDIR/model or pretrained/{model}/...)")
    p.add_argument("--audio", required=True, help="audio file (wav, flac, ogg, mp3; any rate and channel count)")
    p.add_argument("--out", required=True, help="output .csv, .npy (structured, one field per name) or .json")
    p.add_argument("--tflite", metavar="FILE", help="run the network through this .tflite file written by export")
    p.add_argument("--clip", action="store_true", help="clip the values to [0, 1]")
    p.add_argument("--smooth", type=int, default=1, help="centred moving average over N frames (odd; default 1)")
    p.add_argument("--plot", help="also write a PNG of the main curves")

    e = sub.add_parser("evaluate", help="metrics on held-out clips vs the mean pose")
    e.add_argument("--model", required=True, help="a model directory")
    e.add_argument("--data", required=True, help=data_help)
    e.add_argument("--clips", help="comma-separated clip names (default: the model's test clips, else its validation "
                   "clips)")
    e.add_argument("--out", help="write the metrics as JSON here")

    x = sub.add_parser("export", help="SavedModel (TF-Serving layout) + TFLite with parity report")
    x.add_argument("--model", required=True, help="a model directory")
    x.add_argument("--dest", required=True, help="export root: DEST/NAME/VERSION (SavedModel) and DEST/NAME-vVERSION.*")
    x.add_argument("--audio", help="audio for the parity inputs (default: the shipped sentence, "
                                   "zoo.core.parity_speech)")
    x.add_argument("--name", default=model, help=f"servable name (default {model})")
    x.add_argument("--version", type=int, default=1, help="TF-Serving version folder (default 1)")
    x.add_argument("--no-tflite", action="store_true", help="write the SavedModel only")
    x.add_argument("--int8", action="store_true",
                   help="also write NAME-vVERSION.int8.tflite (dynamic-range quantisation: int8 weights)")
    x.add_argument("--int8-tolerance", type=float, default=0.02,
                   help="max |Δ| of the int8 TFLite vs Keras on the parity inputs (default 0.02)")
    x.add_argument("--overwrite", action="store_true", help="replace an existing export of the same name and version")
    return {"train": t, "predict": p, "evaluate": e, "export": x}


def setup_logging() -> None:
    """INFO messages of the zoo on stderr, TensorFlow's and h5py's chatter at WARNING."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("tensorflow", "absl", "h5py"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def config_overrides(args: argparse.Namespace, fields: Mapping[str, str], config_fields: Sequence[str]) -> dict:
    """{config field: value} of the flags in ``fields`` (flag dest → config field) that were given, with the
    shared ``--epochs``, ``--batch-size``, ``--seed`` and every ``--set FIELD=VALUE`` (a field of
    ``config_fields``; VALUE parsed as JSON, else taken as text; lists become tuples)."""
    fields = {"epochs": "epochs", "batch_size": "batch_size", "seed": "seed", **fields}
    out = {field: getattr(args, dest) for dest, field in fields.items() if getattr(args, dest, None) is not None}
    for item in getattr(args, "set", None) or []:
        name, sep, text = item.partition("=")
        if not sep or name not in config_fields:
            raise ValueError(f"--set {item}: expected FIELD=VALUE with FIELD one of {sorted(config_fields)}")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        out[name] = tuple(value) if isinstance(value, list) else value
    return out


def train_options(args: argparse.Namespace) -> dict:
    """The trainer's keyword arguments from the shared train flags."""
    return {"max_minutes": args.max_minutes, "progress": not args.quiet, "strategy": args.strategy,
            "cpu_devices": args.cpu_devices}


def print_json(value) -> None:
    print(json.dumps(value, indent=1))


def print_trained(summary: Mapping, workdir: str | Path) -> None:
    """A training summary: epochs, clips, the last validation, the state digest, and where the model is."""
    print_json({k: summary.get(k) for k in ("epochs_trained", "best_epoch", "train_clips", "val_clips", "test_clips",
                                            "val", "strategy", "replicas", "chief", "state_sha256")})
    if summary.get("chief", True):
        print(f"model written to {Path(workdir) / 'model'}")
    else:
        print("a non-chief worker: the chief (worker 0) writes the model directory and checkpoints")


def write_animation(anim, args: argparse.Namespace, title: str) -> None:
    """Write ``anim`` to ``--out`` (and the ``--plot`` PNG), saying what was written."""
    anim.write(args.out)
    print(f"{args.out}: {len(anim.values)} frames × {len(anim.names)} channels at {anim.fps:g} fps")
    if args.plot:
        anim.plot(args.plot, title=title)
        print(f"{args.plot}: curves")


def print_export(result) -> None:
    """The parity checks and paths of a ``zoo.export.ExportResult``."""
    for check in result.checks:
        print(f"{check.backend:12s} {check.signature:16s} max |Δ| {check.max_abs_diff:.3g} "
              f"(tolerance {check.tolerance:g})")
    print(f"SavedModel: {result.saved_model}\nTFLite: {result.tflite}")
    if result.tflite_int8 is not None:
        print(f"TFLite int8: {result.tflite_int8}")
    print(f"parity: {result.parity_report}")


def export_options(args: argparse.Namespace) -> dict:
    """``export_model`` keyword arguments from the shared export flags."""
    return {"audio": args.audio, "name": args.name, "version": args.version, "tflite": not args.no_tflite,
            "overwrite": args.overwrite, "int8": args.int8, "int8_tolerance": args.int8_tolerance}


__all__ = ["ACTIONS", "add_actions", "setup_logging", "config_overrides", "train_options", "print_json",
           "print_trained", "write_animation", "print_export", "export_options"]
