"""``zoo audio2face {train,predict,evaluate,export}``."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .config import PRESETS


def add_commands(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")

    t = sub.add_parser("train", help="train on a FACEGOOD-layout folder (wav/, bs_value/, a name file)",
                       description="Train Audio2Face on a FACEGOOD-layout folder, synthetic or real. Whole clips "
                                   "are held out for validation; a checkpoint is written every epoch and a rerun "
                                   "with the same --workdir resumes. The model lands in WORKDIR/model.")
    t.add_argument("--data", required=True, help="FACEGOOD-layout folder")
    t.add_argument("--workdir", required=True, help="checkpoints, TensorBoard logs, feature cache, model/")
    t.add_argument("--preset", default="paper", choices=sorted(PRESETS), help="hyperparameters (default paper)")
    t.add_argument("--epochs", type=int, help="override the preset's epochs")
    t.add_argument("--batch-size", type=int, help="override the preset's batch (even: pairs of frames)")
    t.add_argument("--val-clips", help="comma-separated clip names to hold out (default: 20%% of the clips)")
    t.add_argument("--names-file", help="channel names in label-column order (default: the folder's *bs_name*.npy)")
    t.add_argument("--channels", default="preset", choices=["preset", "data"],
                   help="output channels: the preset's (facegood: the 37) or every channel that varies in the data")
    t.add_argument("--feature", choices=["lpc_facegood", "autocorr_paper"], help="override the input feature")
    t.add_argument("--time-shift", type=float, help="augmentation: random shift of ±S frames (paper: 0.5)")
    t.add_argument("--feature-noise", action="store_true", help="augmentation: 1.4^N(0,1) per feature map")
    t.add_argument("--max-minutes", type=float, help="stop after the epoch that crosses this budget")
    t.add_argument("--seed", type=int, help="random seed (default: the preset's, 123)")

    p = sub.add_parser("predict", help="audio file → named blendshape curves at 30 fps",
                       description="Predict blendshape curves for an audio file (any rate and channel count).")
    p.add_argument("--model", required=True, help="a model directory (WORKDIR/model or pretrained/audio2face/...)")
    p.add_argument("--audio", required=True, help="audio file (wav, flac, ogg)")
    p.add_argument("--out", required=True, help="output .csv, .npy (structured, one field per name) or .json")
    p.add_argument("--tflite", metavar="FILE", help="run the network through this .tflite file written by export "
                                                  "(float or --int8) instead of Keras")
    p.add_argument("--arkit", action="store_true", help="write ARKit-52 names (mapped by name)")
    p.add_argument("--clip", action="store_true", help="clip the weights to [0, 1]")
    p.add_argument("--smooth", type=int, default=1, help="centred moving average over N frames (odd; default 1)")
    emo = p.add_mutually_exclusive_group()
    emo.add_argument("--emotion-index", type=int, help="use this entry of the emotion database (paper preset)")
    emo.add_argument("--emotion-vector", help="comma-separated E values (paper preset)")
    emo.add_argument("--emotion-file", help=".npy of (E,) or (frames, E) emotion vectors (paper preset)")
    p.add_argument("--plot", help="also write a PNG of the main curves")
    p.add_argument("--udp", nargs="?", const="127.0.0.1:43014", metavar="HOST:PORT",
                   help="also stream the frames to FACEGOOD's Unreal receiver, paced at 30 fps")
    p.add_argument("--udp-names", help="name file of the receiver's 116 slots (default: FACEGOOD's bsname order)")

    e = sub.add_parser("evaluate", help="metrics on held-out clips vs the mean pose")
    e.add_argument("--model", required=True)
    e.add_argument("--data", required=True, help="FACEGOOD-layout folder")
    e.add_argument("--clips", help="comma-separated clip names (default: the model's validation clips)")
    e.add_argument("--names-file")
    e.add_argument("--out", help="write the metrics as JSON here")

    x = sub.add_parser("export", help="SavedModel (TF-Serving layout) + TFLite with parity report")
    x.add_argument("--model", required=True)
    x.add_argument("--dest", required=True)
    x.add_argument("--audio", help="audio for the parity inputs (default: a synthetic sentence)")
    x.add_argument("--name", default="audio2face")
    x.add_argument("--version", type=int, default=1)
    x.add_argument("--no-tflite", action="store_true")
    x.add_argument("--int8", action="store_true",
                   help="also write NAME-vVERSION.int8.tflite (dynamic-range quantisation: int8 weights)")
    x.add_argument("--int8-tolerance", type=float, default=0.02,
                   help="max |Δ| of the int8 TFLite vs Keras on the parity inputs (default 0.02)")
    x.add_argument("--overwrite", action="store_true")


def _emotion(args):
    import numpy as np

    if args.emotion_index is not None:
        return args.emotion_index
    if args.emotion_vector:
        return np.array([float(v) for v in args.emotion_vector.split(",")], np.float32)
    if args.emotion_file:
        return np.load(args.emotion_file, allow_pickle=False)
    return None


def run(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("tensorflow", "absl", "h5py"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.action == "train":
        from .config import preset
        from .train import train

        overrides = {k: v for k, v in {"epochs": args.epochs, "batch_size": args.batch_size, "feature": args.feature,
                                        "time_shift_frames": args.time_shift, "seed": args.seed}.items()
                     if v is not None}
        if args.feature_noise:
            overrides["feature_noise"] = True
        if args.channels == "data":
            overrides["output_names"] = ()
        summary = train(preset(args.preset, **overrides), args.data, args.workdir,
                        val_clips=args.val_clips.split(",") if args.val_clips else None,
                        names_file=args.names_file, max_minutes=args.max_minutes)
        print(json.dumps({k: summary[k] for k in ("epochs_trained", "train_clips", "val_clips", "val")}, indent=1))
        print(f"model written to {Path(args.workdir) / 'model'}")
        return 0
    if args.action == "predict":
        from .predict import Predictor

        predictor = Predictor.load(args.model, tflite=args.tflite)
        anim = predictor.predict(args.audio, emotion=_emotion(args), clip=args.clip, smooth=args.smooth)
        if args.arkit:
            anim = anim.to_arkit()
        anim.write(args.out)
        print(f"{args.out}: {len(anim.values)} frames × {len(anim.names)} channels at {anim.fps:g} fps")
        if args.plot:
            from zoo.render import plot_curves

            plot_curves(anim.values, anim.names, anim.fps, args.plot, title=Path(args.audio).name)
            print(f"{args.plot}: curves")
        if args.udp:
            from .rig import FACEGOOD_116_UE
            from .udp import UdpSender

            if not args.udp_names and not set(anim.names) <= set(FACEGOOD_116_UE):
                raise ValueError("the model's channels are not FACEGOOD rig names (e.g. "
                                 f"{sorted(set(anim.names) - set(FACEGOOD_116_UE))[:3]}); pass --udp-names with "
                                 "the receiver's 116 names in slot order")
            host, _, port = args.udp.rpartition(":")
            with UdpSender(host or "127.0.0.1", int(port), **({"names": args.udp_names} if args.udp_names else {})) \
                    as sender:
                stats = sender.play(anim.values, anim.names)
            print(f"sent {stats.frames_sent} frames to {args.udp} (max lateness {stats.max_lateness_s * 1000:.1f} ms)")
        return 0
    if args.action == "evaluate":
        from .predict import Predictor, evaluate

        clips = args.clips.split(",") if args.clips else Predictor.load(args.model).metadata.get("val_clips")
        evaluation, _ = evaluate(args.model, args.data, clip_ids=clips, names_file=args.names_file)
        result = {"clips": clips, **evaluation.to_dict()}
        text = json.dumps(result, indent=1)
        if args.out:
            Path(args.out).write_text(text)
        print(json.dumps({"clips": clips, **evaluation.summary()}, indent=1))
        return 0
    if args.action == "export":
        from .export import export_model

        result = export_model(args.model, args.dest, audio=args.audio, name=args.name, version=args.version,
                              tflite=not args.no_tflite, overwrite=args.overwrite, int8=args.int8,
                              int8_tolerance=args.int8_tolerance)
        for check in result.checks:
            print(f"{check.backend:12s} {check.signature:16s} max |Δ| {check.max_abs_diff:.3g} "
                  f"(tolerance {check.tolerance:g})")
        print(f"SavedModel: {result.saved_model}\nTFLite: {result.tflite}")
        if result.tflite_int8 is not None:
            print(f"TFLite int8: {result.tflite_int8}")
        print(f"parity: {result.parity_report}")
        return 0
    print("zoo audio2face: choose an action: train, predict, evaluate, export", file=sys.stderr)
    return 2
