"""``zoo audio2face {train,predict,evaluate,export,info}``: Audio2Face's own flags on ``zoo.core.cli``'s.

``validate(args)`` checks every argument without TensorFlow and before anything is written (model folder,
audio, outputs, emotion control, UDP target and name files) and returns what it read; ``run(args, checked)``
does the work.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from zoo.core import cli as common
from zoo.core import validate as check

from .config import PRESETS

PROG = "zoo audio2face"


def add_commands(parser) -> None:
    actions = common.add_actions(
        parser, "audio2face", presets=PRESETS, default_preset="paper",
        data_help="FACEGOOD-layout folder (wav/, bs_value/, a name file)",
        train_description="Train Audio2Face on a FACEGOOD-layout folder, synthetic or real. Whole clips are held out "
                          "for validation; a checkpoint is written every epoch and a rerun with the same --workdir "
                          "resumes. The model lands in WORKDIR/model.",
        predict_help="audio file → named blendshape curves at 30 fps")
    t = actions["train"]
    t.add_argument("--val-clips", help="comma-separated validation clips (default: 20%% of the other clips)")
    t.add_argument("--test-clips", help="comma-separated test clips: never read by training (evaluate them after)")
    t.add_argument("--names-file", help="channel names in label-column order (default: the folder's *bs_name*.npy)")
    t.add_argument("--channels", default="preset", choices=["preset", "data"],
                   help="output channels: the preset's (facegood: the 37) or every channel that varies in the data")
    t.add_argument("--feature", choices=["lpc_facegood", "autocorr_paper"],
                   help="override the input feature: FACEGOOD's LPC or the paper's autocorrelation")
    t.add_argument("--time-shift", type=float, help="augmentation: random shift of ±S frames (paper: 0.5)")
    t.add_argument("--feature-noise", action="store_true", help="augmentation: 1.4^N(0,1) per feature map")
    t.add_argument("--emotions", metavar="FILE",
                   help="emotion label of each clip (JSON {clip: label} or CSV clip,label): the paper preset stores "
                        "which database rows belong to which emotion, for predict --emotion NAME")

    p = actions["predict"]
    p.add_argument("--arkit", action="store_true", help="write ARKit-52 names (mapped by name)")
    emo = p.add_mutually_exclusive_group()
    emo.add_argument("--emotion", metavar="NAME[:W],...",
                     help="emotion by name, or a blend such as happy:0.7,neutral:0.3 (presets with an emotion "
                          "database trained with labels; `info` lists them)")
    emo.add_argument("--emotion-index", type=int, metavar="I", help="use entry I of the emotion database")
    emo.add_argument("--emotion-vector", nargs="+", metavar="V",
                     help="the E values of an emotion vector, comma- or space-separated (negative values work)")
    emo.add_argument("--emotion-file", metavar="NPY", help=".npy of (E,) or (frames, E) emotion vectors")
    p.add_argument("--udp", nargs="?", const="127.0.0.1:43014", metavar="HOST:PORT",
                   help="also stream the frames to FACEGOOD's Unreal receiver, paced at 30 fps (default "
                        "127.0.0.1:43014; a host beyond this machine needs --allow-remote)")
    p.add_argument("--allow-remote", action="store_true", help="allow --udp to send to a non-loopback host")
    p.add_argument("--udp-names", metavar="FILE",
                   help="name file of the receiver's 116 slots (default: FACEGOOD's bsname order)")

    actions["evaluate"].add_argument("--names-file", help="channel names in label-column order")


# -- validation (no TensorFlow) --------------------------------------------------------------------------------
def _model(path):
    from .predict import verify

    return common.check_model_dir(path, verify)


def _clip_names(data: Path) -> set[str]:
    return {p.stem for p in (data / "wav").glob("*.wav")}


def _clip_list(text: str | None, argument: str, known: set[str]) -> list[str]:
    return common.name_list(text, argument, known, "clip {} in the data's wav/ folder")


def _names_file(path, argument: str):
    from zoo.datasets import DataError, read_names

    check.input_file(path, argument)
    try:
        return read_names(path)
    except DataError as exc:
        raise check.UsageError(argument, None, str(exc)) from None


def read_emotion_labels(path) -> dict[str, str]:
    """{clip: label} from a JSON object or a ``clip,label`` CSV (``zoo.core.validate.name_map``)."""
    return check.name_map(path, "--emotions")


def parse_blend(text: str, known) -> dict[str, float]:
    """``happy`` or ``happy:0.7,neutral:0.3`` → {label: weight} (weights ≥ 0 with a positive sum; the Predictor
    normalises them)."""
    weights: dict[str, float] = {}
    for part in text.split(","):
        name, _, w = part.strip().partition(":")
        if name not in known:
            raise check.UsageError("--emotion", text, f"unknown emotion {name!r}; this model knows "
                                                      f"{', '.join(sorted(known)) or 'none (trained without labels)'}")
        try:
            weight = float(w) if w else 1.0
        except ValueError:
            raise check.UsageError("--emotion", text, f"weight {w!r} of {name} is not a number") from None
        if not (np.isfinite(weight) and weight >= 0):
            raise check.UsageError("--emotion", text, f"weight of {name} must be ≥ 0")
        weights[name] = weights.get(name, 0.0) + weight
    if sum(weights.values()) <= 0:
        raise check.UsageError("--emotion", text, "the weights sum to 0")
    return weights


def _emotion(args, found, config, frames: int):
    """The emotion control of the predict flags (``Predictor.emotion_vectors`` accepts it), checked."""
    given = next((f for f in ("emotion", "emotion_index", "emotion_vector", "emotion_file")
                  if getattr(args, f) is not None), None)
    if given is None:
        return None
    flag = "--" + given.replace("_", "-")
    if not config.has_emotion_input:
        raise check.UsageError(flag, None, f"preset {config.preset!r} has no emotion input (its emotion branch is "
                                           "computed from the audio)")
    dim = config.emotion_dim
    if given == "emotion":
        return parse_blend(args.emotion, (found.metadata.get("emotions") or {}).keys())
    if given == "emotion_index":
        rows = found.check_array("emotion_database", (None, dim), "the emotion index")[0]  # from the header
        if not 0 <= args.emotion_index < rows:
            raise check.UsageError(flag, args.emotion_index, f"out of range: the database has {rows} entries "
                                                             f"(0 to {rows - 1})")
        return args.emotion_index
    if given == "emotion_vector":
        try:
            values = [float(v) for item in args.emotion_vector for v in item.split(",") if v.strip()]
        except ValueError as exc:
            raise check.UsageError(flag, " ".join(args.emotion_vector), str(exc)) from None
        if len(values) != dim or not np.all(np.isfinite(values)):
            raise check.UsageError(flag, " ".join(args.emotion_vector), f"needs {dim} finite values, got "
                                                                          f"{len(values)}")
        return np.asarray(values, np.float32)
    check.input_file(args.emotion_file, flag, (".npy",))
    try:
        e = np.load(args.emotion_file, allow_pickle=False)
    except ValueError as exc:
        raise check.UsageError(flag, args.emotion_file, f"not a plain .npy array ({exc})") from None
    if e.shape not in ((dim,), (frames, dim)) or not np.all(np.isfinite(e)):
        raise check.UsageError(flag, args.emotion_file, f"shape {e.shape}: expected ({dim},) or ({frames}, {dim}) "
                                                        "finite values for this clip")
    return e.astype(np.float32)


def _udp(args, names) -> dict | None:
    from .rig import FACEGOOD_116_UE
    from .udp import N_SLOTS

    if not args.udp:
        for flag in ("udp_names", "allow_remote"):
            if getattr(args, flag):
                raise check.UsageError("--" + flag.replace("_", "-"), None, "only with --udp")
        return None
    host, port = check.udp_target(args.udp, "--udp", allow_remote=args.allow_remote)
    slots = FACEGOOD_116_UE
    if args.udp_names:
        slots = _names_file(args.udp_names, "--udp-names")
        if len(slots) != N_SLOTS:
            raise check.UsageError("--udp-names", args.udp_names, f"the receiver has {N_SLOTS} slots, the file names "
                                                                  f"{len(slots)}")
    missing = sorted(set(names) - set(slots))
    if missing:
        hint = "" if args.udp_names else "; add --udp-names with the receiver's 116 names in slot order"
        raise check.UsageError("--udp", args.udp, f"{len(missing)} of the model's channels are not receiver slots "
                                                  f"(e.g. {missing[:3]}){hint}")
    return {"host": host, "port": port, "names": slots}


def _check_predict(args) -> dict:
    from zoo.core.modeldir import TFLITE_FILE, ModelDirError
    from zoo.datasets import ARKIT_52, expected_frames

    from . import features as feats
    from .predict import Predictor, resolve_engine

    common.check_outputs(args)
    if args.tflite:
        check.input_file(args.tflite, "--tflite", (".tflite",))
    found, config = _model(args.model)
    try:
        resolve_engine(found.path, args.engine, args.tflite)
    except ModelDirError:
        raise check.UsageError("--engine", "litert", f"{found.path} has no {TFLITE_FILE}; pass --tflite FILE (from "
                                                     "export) or use --engine keras") from None
    except ValueError:
        raise check.UsageError("--tflite", args.tflite, "runs through LiteRT; drop --engine keras") from None
    names = ARKIT_52 if args.arkit else config.output_names
    udp = _udp(args, names)
    audio, rate = common.check_audio(args.audio, f"{PROG} predict", feats.SAMPLE_RATE)
    audio16k = Predictor.audio16k(audio, rate)
    frames = expected_frames(len(audio16k), feats.SAMPLE_RATE, feats.FPS)
    if frames == 0:
        raise check.UsageError("--audio", args.audio, f"{len(audio16k) / feats.SAMPLE_RATE:.3f} s is shorter than "
                                                      f"one {feats.FPS} fps frame")
    common.check_smoothing(args, frames)
    return {"audio16k": audio16k, "emotion": _emotion(args, found, config, frames), "udp": udp}


def _check_train(args) -> dict:
    from dataclasses import fields

    from .config import Config, preset

    data = check.input_folder(args.data, "--data")
    check.output_folder(args.workdir, "--workdir")
    if args.names_file:
        _names_file(args.names_file, "--names-file")
    known = _clip_names(data)
    val = _clip_list(args.val_clips, "--val-clips", known)
    test = _clip_list(args.test_clips, "--test-clips", known)
    both = sorted(set(val) & set(test))
    if both:
        raise check.UsageError("--test-clips", args.test_clips, f"{both[0]!r} is also a validation clip")
    overrides = common.config_overrides(args, {"feature": "feature", "time_shift": "time_shift_frames"},
                                        config_fields=[f.name for f in fields(Config)])
    if args.feature_noise:
        overrides["feature_noise"] = True
    if args.channels == "data":
        overrides["output_names"] = ()
    try:
        config = preset(args.preset, **overrides)
    except (TypeError, ValueError) as exc:
        raise check.UsageError("--set", None, str(exc)) from None
    labels = read_emotion_labels(args.emotions) if args.emotions else None
    if labels is not None:
        if not config.has_emotion_input:
            raise check.UsageError("--emotions", args.emotions, f"preset {config.preset!r} has no emotion database")
        unlabelled = sorted(known - set(test) - set(labels))
        if unlabelled:
            raise check.UsageError("--emotions", args.emotions, f"no label for clip {unlabelled[0]!r} "
                                                                f"({len(unlabelled)} unlabelled)")
    return {"config": config, "val": val or None, "test": test, "emotions": labels}


def _check_evaluate(args) -> dict:
    common.check_outputs(args)
    found, _ = _model(args.model)
    data = check.input_folder(args.data, "--data")
    if args.names_file:
        _names_file(args.names_file, "--names-file")
    clips = (_clip_list(args.clips, "--clips", _clip_names(data)) if args.clips
             else found.metadata.get("test_clips") or found.metadata.get("val_clips"))
    if not clips:
        raise check.UsageError("--clips", None, f"{args.model} records no test or validation clips; name the clips")
    return {"clips": list(clips)}


def _check_export(args) -> dict:
    return common.check_export(args, _model)


def validate(args: argparse.Namespace) -> dict:
    """Every argument of ``args.action`` checked (module docstring); what was read on the way."""
    checks = {"predict": _check_predict, "train": _check_train, "evaluate": _check_evaluate,
              "export": _check_export, "info": lambda a: {"model": _model(a.model) if a.model else None}}
    return checks[args.action](args)


# -- work -------------------------------------------------------------------------------------------------------
def _send(anim, args, udp) -> None:
    from .udp import UdpSender

    try:
        with UdpSender(udp["host"], udp["port"], names=udp["names"]) as sender:
            stats = sender.play(anim.values, anim.names)
    except OSError as exc:
        raise ValueError(f"--udp {args.udp}: sending failed ({exc.strerror or exc}); the curves are in "
                         f"{args.out}") from None
    print(f"sent {stats.frames_sent} frames to {udp['host']}:{udp['port']} "
          f"(max lateness {stats.max_lateness_s * 1000:.1f} ms)")


def describe(found, config) -> dict:
    """What ``info`` prints about a model directory."""
    meta = found.metadata
    emotions = meta.get("emotions") or {}
    rows = (found.check_array("emotion_database", (None, config.emotion_dim), "the emotion database")[0]
            if config.has_emotion_input else None)
    tflite = meta.get("tflite") or {}
    return {
        "model": "audio2face", "folder": str(found.path), "preset": config.preset, "feature": config.feature,
        "sample_rate": meta["sample_rate"], "fps": meta["fps"], "window_seconds": meta["window_seconds"],
        "lookahead_seconds": meta["lookahead_seconds"], "outputs": list(meta["output_names"]),
        "emotion": ("database" if rows is not None else config.emotion),
        "emotion_dim": config.emotion_dim if rows is not None else 0,
        "emotion_entries": rows or 0,
        "emotions": sorted(emotions),
        "engines": ["keras"] + (["litert"] if found.tflite is not None else []),
        "tflite_max_abs_diff": tflite.get("max_abs_diff"),
        "data": meta.get("data"), "test_clips": meta.get("test_clips"),
    }


def _info_text(d: dict) -> str:
    """What `info --model` prints of ``describe``'s dict."""
    emotion = "none: computed from the audio" if d["emotion"] != "database" else (
        f"a database of {d['emotion_entries']} vectors of {d['emotion_dim']} values; by name: "
        f"{', '.join(d['emotions']) or 'none (trained without labels)'}")
    return (f"{d['folder']}: audio2face, preset {d['preset']} ({d['feature']})\n"
            f"input:      audio at {d['sample_rate']} Hz (other rates resampled), {d['window_seconds']:g} s window, "
            f"lookahead {d['lookahead_seconds']:g} s\n"
            f"outputs:    {len(d['outputs'])} channels at {d['fps']:g} fps: {', '.join(d['outputs'][:6])}"
            f"{', …' if len(d['outputs']) > 6 else ''}\n"
            f"emotion:    {emotion}\n"
            f"engines:    {', '.join(d['engines'])}"
            + (f" (TFLite max |Δ| {d['tflite_max_abs_diff']:.3g} vs Keras)" if d["tflite_max_abs_diff"] is not None
               else "")
            + (f"\ntrained on: {d['data']}" if d["data"] else ""))


def _info(args, checked) -> int:
    return common.run_info("audio2face", PRESETS, args, checked, describe, _info_text)


def _uses_tensorflow(args) -> bool:
    from .predict import resolve_engine

    if args.action == "info":
        return False
    return args.action != "predict" or resolve_engine(args.model, args.engine, args.tflite) == "keras"


def run(args, checked: dict) -> int:
    common.start_run(args, _uses_tensorflow(args))
    if args.action == "info":
        return _info(args, checked)
    if args.action == "train":
        from .train import train

        summary = train(checked["config"], args.data, args.workdir, val_clips=checked["val"],
                        test_clips=checked["test"], names_file=args.names_file, emotions=checked["emotions"],
                        **common.train_options(args))
        common.print_trained(summary, args.workdir)
        return 0
    if args.action == "predict":
        from . import features as feats
        from .predict import Predictor
        from .rig import arkit_animation

        predictor = Predictor.load(args.model, tflite=args.tflite, engine=args.engine)
        anim = predictor.predict(checked["audio16k"], feats.SAMPLE_RATE, emotion=checked["emotion"], clip=args.clip,
                                 smooth=args.smooth)
        anim = arkit_animation(anim) if args.arkit else anim
        common.write_animation(anim, args, title=Path(args.audio).name)
        if checked["udp"]:
            _send(anim, args, checked["udp"])
        return 0
    if args.action == "evaluate":
        from .predict import evaluate

        clips = checked["clips"]
        evaluation, _ = evaluate(args.model, args.data, clip_ids=clips, names_file=args.names_file)
        return common.report_evaluation({"clips": clips, **evaluation.to_dict()}, args.out,
                                        shown={"clips": clips, **evaluation.summary()})
    if args.action == "export":
        from .export import export_model

        return common.run_export(args, export_model)
    sys.stderr.write(f"{PROG}: choose an action: train, predict, evaluate, export, info\n")
    return 2
