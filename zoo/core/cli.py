"""The common part of every ``zoo <model> {train,predict,evaluate,export,info}`` command.

``add_actions(parser, model, ...)`` creates the sub-commands with the flags every model shares and
returns them, so a model's ``cli.py`` adds only its own flags. A model's ``cli.py`` has
``validate(args)`` (every argument checked without TensorFlow and before anything is written: the
``check_*`` helpers here and ``zoo.core.validate``) and ``run(args, checked)``; ``guarded`` runs them
so that a user sees one line per failure:

* a bad argument or input (``ValueError`` and its kin: ``UsageError``, ``DataError``, ``ModelDirError``;
  ``FileNotFoundError``, ``FileExistsError``, ``ExportParityError``): ``<prog>: error: <cause>``, status 2;
* anything else: one line with the log file that holds the traceback (``--debug`` prints it), status 1;
* Ctrl-C: ``<prog>: interrupted``, status 130 (writers are atomic and staging folders are removed on the
  way out, so nothing is left half-written). A Ctrl-C that lands inside an import is held until the import is over
  (``_DeferredInterrupt``): libraries' import-time code may swallow a KeyboardInterrupt (the command then ran to
  the end) or wrap it (a RuntimeError from ``__set_name__``); a KeyboardInterrupt wrapped all the same is still
  status 130.

``setup_logging``, ``train_options``, ``print_json``, ``write_animation`` and ``print_export`` are the
shared halves of ``run``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from . import validate as check
from .animation import OUTPUT_SUFFIXES
from .trainer import STRATEGIES

ACTIONS = ("train", "predict", "evaluate", "export", "info")
LOG_DIR_ENV = "ZOO_LOG_DIR"
BAND_WARN_FRACTION = 0.75  # warn when the audio's measured bandwidth is below this fraction of the model's Nyquist


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``<prog>: error: <cause> (see <prog> --help)``, status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


_NEGATIVE_LIST = re.compile(r"^-(\d|\.\d)[\d.eE+-]*(,[\d.eE+-]*)+$")


def glue_negative_values(argv: Sequence[str]) -> list[str]:
    """``--opt -0.3,0.2`` → ``--opt=-0.3,0.2``: argparse would take a comma list that starts with a minus sign
    for an option (a lone ``-0.3`` it already reads as a number). No flag of the zoo starts with a digit, so the
    rewrite is unambiguous."""
    out: list[str] = []
    for token in argv:
        if out and _NEGATIVE_LIST.match(token) and out[-1].startswith("--") and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def log_dir() -> Path:
    """Where error logs go: ``$ZOO_LOG_DIR``, else ``$XDG_CACHE_HOME/speech-anim-zoo/logs`` (``~/.cache``)."""
    if os.environ.get(LOG_DIR_ENV):
        return Path(os.environ[LOG_DIR_ENV])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "speech-anim-zoo" / "logs"


def _write_log(prog: str, text: str) -> Path | None:
    import tempfile

    name = f"zoo-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(f"{prog}\n{' '.join(sys.argv)}\n\n{text}")
            return path
        except OSError:
            continue
    return None


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that describe a bad argument or input (printed as one line, status 2)."""
    from zoo.export import ExportParityError

    return ValueError, FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError, ExportParityError


def checked_run(prog: str, cli, args: argparse.Namespace) -> int:
    """A model action: ``cli.validate(args)`` then, unless ``--dry-run``, ``cli.run(args, checked)``."""
    checked = cli.validate(args)
    if getattr(args, "dry_run", False):
        print(f"{prog}: arguments checked; nothing done (--dry-run)")
        return 0
    return cli.run(args, checked)


def _importing(frame) -> bool:
    """Whether ``frame`` or a caller runs inside ``importlib``'s machinery (a module being imported)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


class _DeferredInterrupt:
    """The SIGINT handler of ``guarded``: KeyboardInterrupt at once, or, inside an import, as soon as the import is
    over (SIGALRM re-checks every ``RECHECK_S`` seconds). Installed only in the main thread, where POSIX timers
    exist, and in place of Python's default handler (an ignored SIGINT, as in a background job, stays ignored)."""

    RECHECK_S = 0.05

    def __enter__(self):
        self.active = (threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
                       and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        self.pending = False
        if self.active:
            self.saved = signal.signal(signal.SIGINT, self._interrupt), signal.signal(signal.SIGALRM, self._interrupt)
        return self

    def _interrupt(self, signum, frame):
        if _importing(frame):
            self.pending = True
            signal.setitimer(signal.ITIMER_REAL, self.RECHECK_S)
            return
        self.pending = False
        raise KeyboardInterrupt

    def __exit__(self, kind, value, tb):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGINT, self.saved[0])
            signal.signal(signal.SIGALRM, self.saved[1])
            if self.pending and kind is None:  # the work ended before the re-check came
                raise KeyboardInterrupt
        return False


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def guarded(prog: str, work: Callable[[], int], debug: bool = False) -> int:
    """``work()`` with the CLI's error policy (module docstring); returns the exit status."""
    try:
        with _DeferredInterrupt():
            return work()
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return 130
    except user_errors() as exc:
        if debug:
            traceback.print_exc()
        sys.stderr.write(f"{prog}: error: {_one_line(exc)}\n")
        return 2
    except Exception as exc:  # a bug or an environment failure: one line here, the traceback in the log
        if _caused_by_interrupt(exc):
            sys.stderr.write(f"{prog}: interrupted\n")
            return 130
        text = traceback.format_exc()
        if debug:
            sys.stderr.write(text)
        log = _write_log(prog, text)
        where = f"traceback in {log}" if log else "no log could be written"
        sys.stderr.write(f"{prog}: unexpected error: {type(exc).__name__}: {_one_line(exc)} ({where}; "
                         "--debug prints it)\n")
        return 1


def quiet_tensorflow() -> None:
    """Import TensorFlow and initialise its devices with its C++ start-up lines silenced
    (``zoo.core.runners.quiet_native_stderr``): they would bury the CLI's one-line messages. Call it only where the
    command will use TensorFlow (``--debug`` skips it)."""
    if "tensorflow" in sys.modules:
        return
    from .runners import quiet_native_stderr

    with quiet_native_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices()


def warn(prog: str, message: str) -> None:
    sys.stderr.write(f"{prog}: warning: {message}\n")


def add_actions(parser: argparse.ArgumentParser, model: str, *, presets: Sequence[str], default_preset: str,
                data_help: str, train_description: str, predict_help: str,
                audio_help: str = "audio file: wav, flac, ogg or mp3 (libsndfile), any rate and channel count "
                                  "(m4a/AAC: convert first)", audio_required: bool = True, engines: bool = True,
                extra: Mapping[str, str] | None = None) -> dict[str, argparse.ArgumentParser]:
    """The train/predict/evaluate/export/info sub-parsers of ``zoo <model>`` with the shared flags.

    ``audio_required``: predict needs ``--audio`` (a model driven by other inputs sets False and adds its own);
    ``engines``: predict offers ``--engine``/``--tflite`` and export ``--audio`` (the parity audio), for models
    whose network runs from audio through LiteRT; ``extra``: {action: help} of the model's own further actions
    (with ``--debug``/``--dry-run``; the model adds their flags)."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="print the full traceback of an error (otherwise it goes to a log file)")
    debug.add_argument("--dry-run", action="store_true",
                       help="check every argument and input as the command would, then stop without doing the work")
    model_help = f"a model directory (WORKDIR/model of a training run, or pretrained/{model}/<preset>)"

    t = sub.add_parser("train", help=f"train on a {data_help}", description=train_description, parents=[debug])
    t.add_argument("--data", required=True, help=data_help)
    t.add_argument("--workdir", required=True, help="checkpoints, TensorBoard logs, feature cache, model/ "
                                                    "(rerun with the same --workdir to resume)")
    t.add_argument("--preset", default=default_preset, choices=sorted(presets),
                   help=f"hyperparameters (default {default_preset})")
    t.add_argument("--epochs", type=check.non_negative_int,
                   help="override the preset's epochs (0: write the initialised, untrained model)")
    t.add_argument("--batch-size", type=check.positive_int, help="override the preset's batch size")
    t.add_argument("--seed", type=int, help="random seed (default: the preset's)")
    t.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override any field of the preset's Config (VALUE in JSON: 0.1, true, [1, 2], \"text\"); "
                        "repeatable")
    t.add_argument("--max-minutes", type=check.positive_float,
                   help="wall-clock budget: stop before an epoch that would end past it")
    t.add_argument("--strategy", default="default", choices=STRATEGIES,
                   help="tf.distribute strategy: default (one device), mirrored (every local device), "
                        "multi-worker (the cluster in TF_CONFIG; see the README)")
    t.add_argument("--cpu-devices", type=check.positive_int, metavar="N",
                   help="split the CPU into N logical devices (for --strategy mirrored on a CPU-only machine)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("predict", help=predict_help, description=predict_help[0].upper() + predict_help[1:] + ".",
                       parents=[debug])
    p.add_argument("--model", required=True, help=model_help)
    p.add_argument("--audio", required=audio_required, help=audio_help)
    p.add_argument("--out", required=True, help="output file: .csv (time + one column per channel), .npy "
                                                "(structured, one field per channel) or .json")
    if engines:
        p.add_argument("--engine", default="auto", choices=["auto", "keras", "litert"],
                       help="auto (default): the model folder's model.tflite through LiteRT when it has one (no "
                            "TensorFlow import: fast start), else Keras")
        p.add_argument("--tflite", metavar="FILE", help="run the network through this .tflite file written by export")
    p.add_argument("--clip", action="store_true", help="clip the values to [0, 1]")
    p.add_argument("--smooth", type=check.odd_positive_int, default=1, metavar="N",
                   help="centred moving average over N frames (odd, at most the clip's frames; default 1: none)")
    p.add_argument("--plot", metavar="PNG", help="also write a .png of the main curves")

    e = sub.add_parser("evaluate", help="metrics on held-out clips vs the mean pose", parents=[debug])
    e.add_argument("--model", required=True, help=model_help)
    e.add_argument("--data", required=True, help=data_help)
    e.add_argument("--clips", help="comma-separated clip names (default: the model's test clips, else its validation "
                   "clips)")
    e.add_argument("--out", help="write the metrics as .json here")

    x = sub.add_parser("export", help="SavedModel (TF-Serving layout) + TFLite with parity report", parents=[debug])
    x.add_argument("--model", required=True, help=model_help)
    x.add_argument("--dest", required=True, help="export root (created if needed): DEST/NAME/VERSION (SavedModel, "
                                                 "TF-Serving layout) and DEST/NAME-vVERSION.{tflite,parity.json}")
    if engines:
        x.add_argument("--audio", help="audio for the parity inputs (default: the shipped sentence, "
                                       "zoo.core.parity_speech)")
    x.add_argument("--name", default=model, help=f"servable name: the folder under DEST and TF-Serving's model "
                                                 f"name (default {model})")
    x.add_argument("--version", type=check.positive_int, default=1,
                   help="TF-Serving version folder, a positive integer (default 1)")
    x.add_argument("--no-tflite", action="store_true", help="write the SavedModel only")
    x.add_argument("--int8", action="store_true",
                   help="also write NAME-vVERSION.int8.tflite (dynamic-range quantisation: int8 weights)")
    x.add_argument("--int8-tolerance", type=check.positive_float, default=0.02,
                   help="max |Δ| of the int8 TFLite vs Keras on the parity inputs (default 0.02)")
    x.add_argument("--overwrite", action="store_true",
                   help="replace an existing export of the same name and version (otherwise it is an error)")

    i = sub.add_parser("info", help="what a model takes and gives: preset, outputs, emotions, rates, lookahead",
                       description=f"Describe a {model} model directory (without TensorFlow), or list the presets "
                                   "when no --model is given.", parents=[debug])
    i.add_argument("--model", help=model_help)
    i.add_argument("--json", action="store_true", help="print the description as JSON")
    more = {name: sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".", parents=[debug])
            for name, text in (extra or {}).items()}
    return {"train": t, "predict": p, "evaluate": e, "export": x, "info": i, **more}


# -- checks every model's validate() shares ------------------------------------------------------------
def check_outputs(args: argparse.Namespace) -> None:
    """``--out`` (an animation: .csv/.npy/.json; evaluate: .json) and ``--plot`` (.png) are files we may write."""
    if getattr(args, "out", None):
        suffixes = (".json",) if args.action == "evaluate" else OUTPUT_SUFFIXES
        check.output_file(args.out, "--out", suffixes)
    if getattr(args, "plot", None):
        check.output_file(args.plot, "--plot", (".png",))
        if Path(args.plot).resolve() == Path(args.out).resolve():
            raise check.UsageError("--plot", args.plot, "is the --out file")


def check_smoothing(args: argparse.Namespace, frames: int) -> None:
    """``--smooth N`` must fit in the clip: N ≤ its frames (smoothing never changes the frame count)."""
    if getattr(args, "smooth", 1) > frames:
        raise check.UsageError("--smooth", args.smooth, f"is longer than the clip ({frames} frames); use an odd "
                                                        f"width of at most {frames}")


def check_audio(path, prog: str, model_rate: int, argument: str = "--audio"):
    """(audio, rate) of the file ``path`` given as ``argument``, read once; a warning when its measured bandwidth is
    below ``BAND_WARN_FRACTION`` of the model's Nyquist frequency (8 kHz audio, or 8 kHz speech upsampled)."""
    audio, rate = check.audio_input(path, argument)
    band = check.band_limit_hz(audio, rate)
    if band < BAND_WARN_FRACTION * model_rate / 2:
        source = f"a {rate} Hz file" if rate < model_rate else "band-limited audio (upsampled?)"
        warn(prog, f"{path}: {source} whose content ends at {band / 1000:.1f} kHz; "
                   f"the model was trained on {model_rate} Hz speech with content up to {model_rate / 2000:g} kHz, "
                   "so its curves may be meaningless")
    return audio, rate


def check_export_dest(args: argparse.Namespace) -> None:
    """``--dest`` a writable folder, ``--name`` a plain folder name, and no existing export without
    ``--overwrite``."""
    dest = check.output_folder(args.dest, "--dest")
    if not args.name or "/" in args.name or args.name.startswith(".") or args.name != args.name.strip():
        raise check.UsageError("--name", args.name, "must be a plain folder name (no '/', not starting with '.')")
    targets = [dest / args.name / str(args.version), dest / f"{args.name}-v{args.version}.parity.json"]
    existing = [t for t in targets if t.exists()]
    if existing and not args.overwrite:
        raise check.UsageError("--dest", args.dest, f"{existing[0]} exists; add --overwrite to replace it")
    if getattr(args, "audio", None):
        check.audio_input(args.audio, "--audio")


def check_export(args: argparse.Namespace, check_model: Callable) -> dict:
    """export's arguments: the model folder (``check_model(path)``, the model's own check), ``--int8`` only with
    the TFLite file, and the destination (``check_export_dest``)."""
    check_model(args.model)
    if args.int8 and args.no_tflite:
        raise check.UsageError("--int8", None, "needs the TFLite model (drop --no-tflite)")
    check_export_dest(args)
    return {}


def name_list(text: str | None, argument: str, known: set[str], what: str) -> list[str]:
    """The comma-separated names of ``argument`` (``[]`` for none), each one of ``known``; else a UsageError
    "no <what> 'name'"."""
    names = [n.strip() for n in text.split(",") if n.strip()] if text else []
    unknown = [n for n in names if n not in known]
    if unknown:
        raise check.UsageError(argument, text, f"no {what.replace('{}', repr(unknown[0]))}")
    return names


def check_model_dir(path, verify: Callable):
    """``verify(path)`` (a model's TF-free model-directory check) with its failure as a ``--model`` error."""
    check.input_folder(path, "--model")
    try:
        return verify(path)
    except (ValueError, FileNotFoundError) as exc:
        raise check.UsageError("--model", None, _one_line(exc)) from None


def start_run(args: argparse.Namespace, uses_tensorflow: bool | None = None) -> None:
    """Before an action's work: logging set up and, for an action that loads TensorFlow (default: every action but
    info), its start-up chatter silenced unless ``--debug``."""
    setup_logging()
    if (args.action != "info" if uses_tensorflow is None else uses_tensorflow) and not getattr(args, "debug", False):
        quiet_tensorflow()


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


def run_info(model: str, presets, args: argparse.Namespace, checked: Mapping, describe: Callable,
             text: Callable[[dict], str]) -> int:
    """``zoo <model> info``: without ``--model`` the presets and this checkout's pretrained presets; with it the
    model folder's ``describe(*checked["model"])`` as JSON (``--json``) or as ``text(d)``."""
    import zoo

    if checked["model"] is None:
        print(f"presets (zoo {model} train --preset): " + ", ".join(sorted(presets)))
        print(f"pretrained (--model pretrained/{model}/<name>): " + (", ".join(zoo.pretrained_presets(model))
                                                                     or "none"))
        return 0
    d = describe(*checked["model"])
    if args.json:
        print_json(d)
    else:
        print(text(d))
    return 0


def print_trained(summary: Mapping, workdir: str | Path) -> None:
    """A training summary: epochs, clips, the last validation, the state digest, and where the model is."""
    keys = ("epochs_trained", "best_epoch", "train_clips", "val_clips", "test_clips", "train_sequences",
            "val_sequences", "test_sequences", "val", "strategy", "replicas", "chief", "state_sha256")
    print_json({k: summary[k] for k in keys if k in summary})
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
    """The parity checks and paths of a ``zoo.export.ExportResult`` (and of the files a model's subclass adds, e.g.
    landmark_dcgan's ``generator_tflite``: one line each, the field's name with spaces)."""
    for c in result.checks:
        print(f"{c.backend:12s} {c.signature:16s} max |Δ| {c.max_abs_diff:.3g} (tolerance {c.tolerance:g})")
    print(f"SavedModel: {result.saved_model}\nTFLite: {result.tflite}")
    if result.tflite_int8 is not None:
        print(f"TFLite int8: {result.tflite_int8}")
    shared = {"saved_model", "tflite", "tflite_int8", "parity_report", "checks"}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if f.name not in shared and isinstance(value, Path):
            print(f"{f.name.replace('_', ' ')}: {value}")
    print(f"parity: {result.parity_report}")


def report_evaluation(result, out=None, shown=None) -> int:
    """Write ``result`` as JSON to ``out`` (atomically) when given and print ``shown`` (default ``result``); 0."""
    if out:
        from zoo.datasets.cache import atomic_write_bytes

        atomic_write_bytes(Path(out), json.dumps(result, indent=1).encode())
    print_json(result if shown is None else shown)
    return 0


def run_export(args: argparse.Namespace, export_model: Callable) -> int:
    """``export_model(--model, --dest, shared export flags)`` and its parity lines printed; 0."""
    print_export(export_model(args.model, args.dest, **export_options(args)))
    return 0


def export_options(args: argparse.Namespace) -> dict:
    """``export_model`` keyword arguments from the shared export flags."""
    return {**({"audio": args.audio} if hasattr(args, "audio") else {}), "name": args.name, "version": args.version,
            "tflite": not args.no_tflite, "overwrite": args.overwrite, "int8": args.int8,
            "int8_tolerance": args.int8_tolerance}


__all__ = ["ACTIONS", "Parser", "glue_negative_values", "checked_run", "guarded", "warn", "quiet_tensorflow",
           "user_errors", "log_dir", "check_outputs", "check_smoothing", "check_audio", "check_export_dest",
           "check_model_dir", "check_export",
           "name_list", "add_actions", "setup_logging", "config_overrides", "train_options", "print_json",
           "print_trained", "write_animation", "print_export", "export_options", "report_evaluation", "run_export",
           "start_run"]
