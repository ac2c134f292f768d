"""``zoo audio2face {train,predict,evaluate,export}``: Audio2Face's own flags on ``zoo.core.cli``'s."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from zoo.core import cli as common

from .config import PRESETS


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
    t.add_argument("--feature", choices=["lpc_facegood", "autocorr_paper"], help="override the input feature")
    t.add_argument("--time-shift", type=float, help="augmentation: random shift of ±S frames (paper: 0.5)")
    t.add_argument("--feature-noise", action="store_true", help="augmentation: 1.4^N(0,1) per feature map")

    p = actions["predict"]
    p.add_argument("--arkit", action="store_true", help="write ARKit-52 names (mapped by name)")
    emo = p.add_mutually_exclusive_group()
    emo.add_argument("--emotion-index", type=int, help="use this entry of the emotion database (paper preset)")
    emo.add_argument("--emotion-vector", help="comma-separated E values (paper preset)")
    emo.add_argument("--emotion-file", help=".npy of (E,) or (frames, E) emotion vectors (paper preset)")
    p.add_argument("--udp", nargs="?", const="127.0.0.1:43014", metavar="HOST:PORT",
                   help="also stream the frames to FACEGOOD's Unreal receiver, paced at 30 fps")
    p.add_argument("--udp-names", help="name file of the receiver's 116 slots (default: FACEGOOD's bsname order)")

    actions["evaluate"].add_argument("--names-file", help="channel names in label-column order")


def _emotion(args):
    import numpy as np

    if args.emotion_index is not None:
        return args.emotion_index
    if args.emotion_vector:
        return np.array([float(v) for v in args.emotion_vector.split(",")], np.float32)
    if args.emotion_file:
        return np.load(args.emotion_file, allow_pickle=False)
    return None


def _udp(anim, args) -> None:
    from .rig import FACEGOOD_116_UE
    from .udp import UdpSender

    if not args.udp_names and not set(anim.names) <= set(FACEGOOD_116_UE):
        raise ValueError("the model's channels are not FACEGOOD rig names (e.g. "
                         f"{sorted(set(anim.names) - set(FACEGOOD_116_UE))[:3]}); pass --udp-names with "
                         "the receiver's 116 names in slot order")
    host, _, port = args.udp.rpartition(":")
    with UdpSender(host or "127.0.0.1", int(port), **({"names": args.udp_names} if args.udp_names else {})) as sender:
        stats = sender.play(anim.values, anim.names)
    print(f"sent {stats.frames_sent} frames to {args.udp} (max lateness {stats.max_lateness_s * 1000:.1f} ms)")


def run(args) -> int:
    common.setup_logging()
    if args.action == "train":
        from dataclasses import fields

        from .config import Config, preset
        from .train import train

        overrides = common.config_overrides(args, {"feature": "feature", "time_shift": "time_shift_frames"},
                                            config_fields=[f.name for f in fields(Config)])
        if args.feature_noise:
            overrides["feature_noise"] = True
        if args.channels == "data":
            overrides["output_names"] = ()
        summary = train(preset(args.preset, **overrides), args.data, args.workdir,
                        val_clips=args.val_clips.split(",") if args.val_clips else None,
                        test_clips=args.test_clips.split(",") if args.test_clips else (),
                        names_file=args.names_file, **common.train_options(args))
        common.print_trained(summary, args.workdir)
        return 0
    if args.action == "predict":
        from .predict import Predictor
        from .rig import arkit_animation

        predictor = Predictor.load(args.model, tflite=args.tflite)
        anim = predictor.predict(args.audio, emotion=_emotion(args), clip=args.clip, smooth=args.smooth)
        anim = arkit_animation(anim) if args.arkit else anim
        common.write_animation(anim, args, title=Path(args.audio).name)
        if args.udp:
            _udp(anim, args)
        return 0
    if args.action == "evaluate":
        from .predict import Predictor, evaluate

        meta = Predictor.load(args.model).metadata
        clips = args.clips.split(",") if args.clips else meta.get("test_clips") or meta.get("val_clips")
        evaluation, _ = evaluate(args.model, args.data, clip_ids=clips, names_file=args.names_file)
        if args.out:
            Path(args.out).write_text(json.dumps({"clips": clips, **evaluation.to_dict()}, indent=1))
        common.print_json({"clips": clips, **evaluation.summary()})
        return 0
    if args.action == "export":
        from .export import export_model

        common.print_export(export_model(args.model, args.dest, **common.export_options(args)))
        return 0
    print("zoo audio2face: choose an action: train, predict, evaluate, export", file=sys.stderr)
    return 2
