"""``zoo gesture_ae {train,predict,evaluate,export,info}``: Aud2Repr2Pose's own flags on ``zoo.core.cli``'s.

train reads a gesture-layout folder (``speech/audio{id}.wav`` + ``motion/gesture{id}.bvh``) and holds out whole
files (``--val-ids``, ``--test-ids``; ids are the numbers in the file names). predict turns speech alone into motion
at 20 fps: ``--out motion.bvh`` (on the model's skeleton), ``.txt`` (the original's (T, 192) positions, one frame a
line) or ``.npy`` (the same array); ``--smooth`` one_euro | savgol | moving_average | none (default: the model's own:
Savitzky–Golay for genea2020, none otherwise); ``--video out.mp4`` draws the stick figure (front view) with the
speech, beside ``--ground-truth gesture.bvh`` when given. evaluate prints the motion metrics against the mean pose.
export is ``zoo.gesture_ae.export.export_model`` (the shared export flags).

``validate(args)`` checks every argument without TensorFlow and before anything is written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zoo.core import cli as common
from zoo.core import validate as check

from .config import PRESETS
from .smoothing import SMOOTHERS

PROG = "zoo gesture_ae"
DATA_HELP = ("gesture-layout folder: speech/audio{id}.wav + motion/gesture{id}.bvh (the synthetic corpus's gesture/, "
             "or the dataset of Takeuchi et al. 2017)")
MOTION_HELP = ("output file: .bvh (the model's skeleton at 20 fps), .txt (the original's positions: one frame a line, "
               "64 nodes × x y z in cm, space-separated) or .npy (the same (T, 192) float32 array)")


def add_commands(parser) -> None:
    actions = common.add_actions(
        parser, "gesture_ae", presets=PRESETS, default_preset="proposed", data_help=DATA_HELP,
        train_description="Train Aud2Repr2Pose on a gesture-layout folder: for the proposed model (and genea2020) "
                          "the motion autoencoder first (WORKDIR/dae), then the speech encoder on 61-frame MFCC "
                          "windows. Whole files are held out: test files are never read; validation files choose "
                          "the best epoch. A checkpoint is written every epoch and a rerun with the same --workdir "
                          "resumes. The model lands in WORKDIR/model.",
        predict_help="speech → body motion at 20 fps (.bvh, or the original's (T, 192) positions as .txt/.npy)",
        engines=False)
    t = actions["train"]
    t.add_argument("--val-ids", help="comma-separated take ids that validate (default: the original's dev ids in the "
                                     "data, else a seeded validation_fraction of the training files)")
    t.add_argument("--test-ids", help="comma-separated take ids held out as test, never read (default: the original's "
                                      "test ids, even 1092-1182, present in the data)")
    t.add_argument("--dae-dir", metavar="DIR", help="reuse the motion autoencoder of another proposed run (its "
                                                    "WORKDIR/dae folder) instead of training one")
    p = actions["predict"]
    _redefine(p, "out", help=MOTION_HELP)
    _redefine(p, "smooth", type=None, choices=[*SMOOTHERS, "none"], default=None, metavar=None,
              help="smoothing over time: one_euro (freq 20, mincutoff 0.1, beta 0.08, dcutoff 1), savgol (window 9, "
                   "order 3), moving_average (5 frames) or none (default: the model's own, savgol for genea2020, "
                   "none otherwise)")
    p.add_argument("--video", metavar="MP4", help="also render the motion as a stick figure (front view) with the "
                                                  "speech")
    p.add_argument("--ground-truth", metavar="BVH", help="with --video: draw this motion (FK at 20 fps) beside the "
                                                         "prediction")
    e = actions["evaluate"]
    e.add_argument("--smooth", choices=[*SMOOTHERS, "none"], help="smoothing of the predictions (default: the "
                                                                   "model's own)")


def _redefine(parser: argparse.ArgumentParser, dest: str, **fields) -> None:
    """Give the shared flag ``dest`` of ``parser`` this model's meaning (``zoo.core.cli``'s --out writes curves and
    its --smooth takes a width; here they write motion and name a filter)."""
    action = next(a for a in parser._actions if a.dest == dest)
    for name, value in fields.items():
        setattr(action, name, value)


# -- validation (no TensorFlow) --------------------------------------------------------------------------------
def verify(path):
    """(ModelDir, Config, Skeleton) of a gesture_ae model folder, checked without TensorFlow."""
    from .predict import verify_model_dir

    return verify_model_dir(path)


def _model(path):
    return common.check_model_dir(path, verify)


def _data_ids(path, argument: str = "--data") -> list[int]:
    """The take ids of a gesture-layout folder (both files present); a UsageError when it is not one."""
    from zoo.datasets import DataError
    from zoo.datasets.gesture import gesture_ids

    folder = check.input_folder(path, argument)
    try:
        ids = gesture_ids(folder)
    except DataError as exc:
        raise check.UsageError(argument, None, str(exc)) from None
    if not ids:
        raise check.UsageError(argument, str(path), "holds no take with both speech/audio{id}.wav and "
                                                    "motion/gesture{id}.bvh")
    return ids


def _id_list(text, argument: str, ids: list[int]) -> list[int] | None:
    if text is None:
        return None
    names = common.name_list(text, argument, {str(i) for i in ids}, "take {} in the data")
    return [int(n) for n in names]


def _check_train(args) -> dict:
    from dataclasses import fields

    from zoo.datasets import DataError, read_bvh
    from zoo.datasets.gesture import gesture_paths

    from . import motion as mo
    from .config import Config, preset
    from .train import DAE_WEIGHTS, split_ids

    ids = _data_ids(args.data)
    check.output_folder(args.workdir, "--workdir")
    val_ids, test_ids = _id_list(args.val_ids, "--val-ids", ids), _id_list(args.test_ids, "--test-ids", ids)
    both = sorted(set(val_ids or ()) & set(test_ids or ()))
    if both:
        raise check.UsageError("--test-ids", args.test_ids, f"{both[0]} is also in --val-ids")
    overrides = common.config_overrides(args, {}, config_fields=[f.name for f in fields(Config)])
    try:
        config = preset(args.preset, **overrides)
    except (TypeError, ValueError) as exc:
        raise check.UsageError("--set", None, str(exc)) from None
    try:
        train_ids, _, _ = split_ids(ids, val_ids=val_ids, test_ids=test_ids,
                                    validation_fraction=config.validation_fraction, seed=config.seed)
    except ValueError as exc:
        raise check.UsageError("--val-ids" if val_ids else "--test-ids", None, str(exc)) from None
    if args.dae_dir:
        if config.target != "code":
            raise check.UsageError("--dae-dir", args.dae_dir, f"preset {args.preset} has no autoencoder "
                                                              "(its speech encoder regresses the pose)")
        check.input_file(Path(check.input_folder(args.dae_dir, "--dae-dir")) / DAE_WEIGHTS, "--dae-dir")
    bvh = gesture_paths(args.data, train_ids[0])[1]
    try:
        skeleton = read_bvh(bvh).skeleton
    except DataError as exc:
        raise check.UsageError("--data", None, str(exc)) from None
    if config.representation == "rotations":
        missing = [j for j in mo.ROTATION_JOINTS if j not in skeleton.names]
        if missing:
            raise check.UsageError("--preset", args.preset, f"the rotation representation needs the joints "
                                                            f"{missing} which {bvh} lacks")
    return {"config": config, "val_ids": val_ids, "test_ids": test_ids}


def _check_predict(args) -> dict:
    from zoo.datasets import DataError, forward_kinematics, read_bvh, to_fps

    from .predict import MOTION_SUFFIXES, audio_features

    check.output_file(args.out, "--out", MOTION_SUFFIXES)
    if args.clip:
        raise check.UsageError("--clip", None, "clips blendshape weights to [0, 1]; this model outputs body motion")
    for flag, value, suffix in (("--plot", args.plot, ".png"), ("--video", args.video, ".mp4")):
        if value:  # the suffixes differ, so no two outputs are the same file
            check.output_file(value, flag, (suffix,))
    found, config, skeleton = _model(args.model)
    truth = None
    if args.ground_truth:
        if not args.video:
            raise check.UsageError("--ground-truth", args.ground_truth, "goes with --video (it is drawn beside the "
                                                                       "prediction)")
        check.input_file(args.ground_truth, "--ground-truth", (".bvh",))
        try:
            motion = to_fps(read_bvh(args.ground_truth), config.fps)
        except DataError as exc:
            raise check.UsageError("--ground-truth", None, str(exc)) from None
        if motion.skeleton.num_nodes != skeleton.num_nodes:
            raise check.UsageError("--ground-truth", args.ground_truth, f"has {motion.skeleton.num_nodes} nodes, "
                                                                       f"the model's skeleton {skeleton.num_nodes}")
        truth = forward_kinematics(motion, root="fixed")
    if args.video:
        import zoo.render

        if not hasattr(zoo.render, "render_skeleton_video"):
            raise check.UsageError("--video", args.video, "the skeleton renderer (zoo.render.render_skeleton_video) "
                                                          "is not in this installation")
    audio, rate = common.check_audio(args.audio, PROG, config.sample_rate)
    try:
        features = audio_features(audio, rate, config)
    except ValueError as exc:
        raise check.UsageError("--audio", args.audio, str(exc)) from None
    return {"config": config, "skeleton": skeleton, "features": features, "truth": truth}


def _check_evaluate(args) -> dict:
    if args.out:
        check.output_file(args.out, "--out", (".json",))
    found, _, _ = _model(args.model)
    ids = _data_ids(args.data)
    chosen = (_id_list(args.clips, "--clips", ids) if args.clips
              else found.metadata.get("test_ids") or found.metadata.get("val_ids"))
    if not chosen:
        raise check.UsageError("--clips", None, f"{args.model} records no test or validation ids; name the takes")
    missing = sorted(set(chosen) - set(ids))
    if missing:
        raise check.UsageError("--data", args.data, f"lacks the model's held-out takes {missing[:5]}; name others "
                                                    "with --clips")
    return {"ids": list(chosen)}


def validate(args: argparse.Namespace) -> dict:
    """Every argument of ``args.action`` checked (module docstring); what was read on the way."""
    checks = {"predict": _check_predict, "train": _check_train, "evaluate": _check_evaluate,
              "export": lambda a: common.check_export(a, _model),
              "info": lambda a: {"model": _model(a.model) if a.model else None}}
    return checks[args.action](args)


# -- work -------------------------------------------------------------------------------------------------------
def describe(found, config, skeleton) -> dict:
    meta = found.metadata
    return {"model": "gesture_ae", "folder": str(found.path), "preset": config.preset, "fps": meta["fps"],
            "sample_rate": meta["sample_rate"], "features": config.features, "target": config.target,
            "representation": config.representation, "nodes": skeleton.num_nodes,
            "window_seconds": meta["window_seconds"], "lookahead_seconds": meta["lookahead_seconds"],
            "train_ids": meta.get("train_ids"), "val_ids": meta.get("val_ids"), "test_ids": meta.get("test_ids")}


def _info_text(d: dict) -> str:
    """What `info --model` prints of ``describe``'s dict."""
    output = "the code of a motion autoencoder, decoded" if d["target"] == "code" else "the pose"
    return (f"{d['folder']}: gesture_ae, preset {d['preset']}\n"
            f"input:      speech ({d['features']} windows of {d['window_seconds']:g} s at {d['fps']:g} fps, "
            f"{d['lookahead_seconds']:g} s lookahead, audio resampled to {d['sample_rate']} Hz)\n"
            f"outputs:    {d['representation']} of {d['nodes']} skeleton nodes at {d['fps']:g} fps ({output})\n"
            f"held out:   validation {d['val_ids']}, test {d['test_ids']}")


def _info(args, checked) -> int:
    return common.run_info("gesture_ae", PRESETS, args, checked, describe, _info_text)


def _predict(args, checked) -> int:
    from .predict import Predictor

    predictor = Predictor.load(args.model)
    anim = predictor.animation(predictor.run(checked["features"]), args.smooth)
    predictor.write_motion(anim, args.out)
    smoothing = predictor.smoothing(args.smooth) or "none"
    print(f"{args.out}: {len(anim.values)} frames × {predictor.skeleton.num_nodes} nodes at {anim.fps:g} fps "
          f"(smoothing: {smoothing})")
    if args.plot:
        anim.plot(args.plot, title=f"gesture_ae: {Path(args.audio).name}")
        print(f"{args.plot}: curves")
    if args.video:
        from zoo.render import render_skeleton_video

        positions = predictor.positions(anim).reshape(len(anim.values), -1, 3)
        sequences, labels = [positions], ["prediction"]
        if checked["truth"] is not None:
            sequences.append(checked["truth"])
            labels.append("ground truth")
        video = render_skeleton_video(sequences if len(sequences) > 1 else positions, predictor.skeleton.parents,
                                      anim.fps, args.video, labels=labels, audio_path=args.audio,
                                      names=predictor.skeleton.names)
        print(f"{video}: the motion with the speech")
    return 0


def _train(args, checked) -> int:
    from .train import train

    summary = train(checked["config"], args.data, args.workdir, val_ids=checked["val_ids"],
                    test_ids=checked["test_ids"], budget_minutes=args.max_minutes, strategy=args.strategy,
                    dae_dir=args.dae_dir, progress=not args.quiet, cpu_devices=args.cpu_devices)
    keys = ("epochs_trained", "best_epoch", "train_ids", "val_ids", "test_ids", "val", "strategy", "replicas",
            "chief", "state_sha256")
    shown = {k: summary[k] for k in keys if k in summary}
    if summary.get("dae") and "history" in summary["dae"]:
        shown["dae"] = {k: summary["dae"][k] for k in ("epochs_trained", "best_epoch", "stopped_early")}
    common.print_json(shown)
    if summary.get("chief", True):
        print(f"model written to {Path(args.workdir) / 'model'}")
    return 0


def run(args, checked: dict) -> int:
    common.start_run(args)
    if args.action == "info":
        return _info(args, checked)
    if args.action == "train":
        return _train(args, checked)
    if args.action == "predict":
        return _predict(args, checked)
    if args.action == "evaluate":
        from .predict import evaluate

        result = evaluate(args.model, args.data, checked["ids"], smooth=args.smooth)
        return common.report_evaluation(result, args.out)
    if args.action == "export":
        from .export import export_model  # the lead's (zoo/gesture_ae/export.py)

        return common.run_export(args, export_model)
    sys.stderr.write(f"{PROG}: choose an action: train, predict, evaluate, export, info\n")
    return 2
