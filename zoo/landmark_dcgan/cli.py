"""``zoo landmark_dcgan {train,predict,evaluate,export,info}``: the landmark CNN + DCGAN's own flags on
``zoo.core.cli``'s.

train reads a RAVDESS-layout folder (03-01-*.wav + the 01/02 videos of the same names), extracts the landmarks from
the videos with dlib, and holds out whole actors (``--test-actors``, ``--val-actors``). predict is the chain:
``--out talk.mp4`` writes the landmarks beside the generated faces at 100/3 fps with the speech muxed in
(``--reference face.png``: the identity, as the original's reference-encoded z; ``--z random``: a random one);
``--landmarks-only`` draws the landmark animation alone; ``--out`` .csv/.npy/.json writes the landmarks as curves,
and ``--landmarks FILE`` writes them beside a video. evaluate prints the landmark and face metrics beside the
mean-landmark baseline and a shuffled-audio control. export is ``zoo.landmark_dcgan.export.export_model``.

``validate(args)`` checks every argument without TensorFlow and before anything is written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zoo.core import cli as common
from zoo.core import validate as check

from .config import PRESETS

PROG = "zoo landmark_dcgan"
DATA_HELP = ("RAVDESS-layout folder: 03-01-*.wav audio-only speech files and the 01 (or 02) videos of the same names "
             "(the synthetic corpus's ravdess/, or RAVDESS itself)")
VIDEO_SUFFIX = ".mp4"
CURVE_SUFFIXES = (".csv", ".npy", ".json")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def add_commands(parser) -> None:
    actions = common.add_actions(
        parser, "landmark_dcgan", presets=PRESETS, default_preset="original", data_help=DATA_HELP,
        train_description="Train the landmark CNN and then the conditional DCGAN on a RAVDESS-layout folder: the "
                          "landmarks come from the videos (dlib's HOG detector and 68-point predictor), the features "
                          "from the WAVs. Whole actors are held out: the test actors' files are never read. A "
                          "checkpoint is written every epoch and a rerun with the same --workdir resumes. The model "
                          "lands in WORKDIR/model.",
        predict_help="speech → 68 landmarks at 100/3 fps → generated faces, as a video with the speech "
                     "(or the landmarks as curves)",
        engines=False)
    t = actions["train"]
    t.add_argument("--gan-epochs", type=check.non_negative_int, help="override the preset's GAN epochs (--epochs "
                                                                     "sets the CNN's)")
    t.add_argument("--gan-minutes", type=check.positive_float, help="wall-clock budget of the GAN stage (--max-minutes "
                                                                    "is the CNN's)")
    t.add_argument("--test-actors", help="comma-separated actors held out as test, never read (Actor_21 or 21; "
                                         "default: the last sixth of the actors, at least one)")
    t.add_argument("--val-actors", help="comma-separated actors that validate (default: a seeded validation_fraction "
                                        "of the training actors' trials)")
    p = actions["predict"]
    p.add_argument("--reference", metavar="IMAGE", help="a face image whose identity the generated faces take "
                                                        "(default: the model's own reference face)")
    p.add_argument("--z", choices=["reference", "random"], default="reference",
                   help="the GAN's latent code: reference (the original's: the discriminator's logits of the "
                        "reference face, through tanh unless the model's reference_z is logits; default) or random "
                        "(U(-1, 1) from --seed)")
    p.add_argument("--seed", type=int, default=0, help="seed of --z random (default 0)")
    p.add_argument("--landmarks-only", action="store_true", help="draw the landmark animation alone (no faces)")
    p.add_argument("--landmarks", metavar="FILE", help="also write the landmarks as curves (.csv, .npy or .json)")
    next(a for a in p._actions if a.dest == "out").help = (
        "output file: .mp4 (the landmarks beside the generated faces, or with --landmarks-only the landmarks alone, "
        "at 100/3 fps with the speech) or .csv/.npy/.json (the landmarks as curves: x00, y00, ... y67 normalised to "
        "[0, 1])")
    e = actions["evaluate"]
    e.add_argument("--no-faces", action="store_true", help="landmark metrics only (skip generating faces)")


def _actors(text, argument: str, known: set[str]) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    names = [f"Actor_{int(n):02d}" if n.isdigit() else n for n in names]
    return common.name_list(",".join(names), argument, known, "actor {} in the data") or None


# -- validation (no TensorFlow) --------------------------------------------------------------------------------
def verify(path):
    """(ModelDir, Config) of a landmark_dcgan model folder, checked without TensorFlow."""
    from .predict import verify_model_dir

    return verify_model_dir(path)


def _model(path):
    return common.check_model_dir(path, verify)


def _stems(path, argument: str = "--data") -> list[str]:
    from zoo.datasets import DataError

    from .data import speech_stems

    folder = check.input_folder(path, argument)
    try:
        return speech_stems(folder)
    except DataError as exc:
        raise check.UsageError(argument, None, str(exc)) from None


def _check_train(args) -> dict:
    from dataclasses import fields

    from .config import Config, preset
    from .data import actor_of, split_actors

    stems = _stems(args.data)
    check.output_folder(args.workdir, "--workdir")
    known = {actor_of(s) for s in stems}
    test_actors = _actors(args.test_actors, "--test-actors", known)
    val_actors = _actors(args.val_actors, "--val-actors", known)
    overrides = common.config_overrides(args, {"epochs": "cnn_epochs", "batch_size": "cnn_batch_size",
                                               "gan_epochs": "gan_epochs"},
                                        config_fields=[f.name for f in fields(Config)])
    try:
        config = preset(args.preset, **overrides)
    except (TypeError, ValueError) as exc:
        raise check.UsageError("--set", None, str(exc)) from None
    try:
        split_actors(stems, test_actors=test_actors, val_actors=val_actors,
                     validation_fraction=config.validation_fraction, seed=config.seed)
    except ValueError as exc:
        raise check.UsageError("--val-actors" if val_actors else "--test-actors", None, str(exc)) from None
    return {"config": config, "test_actors": test_actors, "val_actors": val_actors}


def _check_predict(args) -> dict:
    suffix = Path(args.out).suffix.lower()
    check.output_file(args.out, "--out", (VIDEO_SUFFIX, *CURVE_SUFFIXES))
    if args.landmarks:
        check.output_file(args.landmarks, "--landmarks", CURVE_SUFFIXES)
        if Path(args.landmarks).resolve() == Path(args.out).resolve():
            raise check.UsageError("--landmarks", args.landmarks, "is the same file as --out")
    if args.clip:
        raise check.UsageError("--clip", None, "clips blendshape weights; this model outputs landmarks in [0, 1]")
    if args.smooth != 1:
        raise check.UsageError("--smooth", str(args.smooth), "this model's landmarks are not smoothed (the original's "
                                                             "frames are independent)")
    if suffix != VIDEO_SUFFIX and (args.landmarks_only or args.reference):
        flag = "--landmarks-only" if args.landmarks_only else "--reference"
        raise check.UsageError(flag, None, f"goes with a video --out ({VIDEO_SUFFIX}); {args.out} gets the curves")
    if args.reference and (args.landmarks_only or args.z == "random"):
        raise check.UsageError("--reference", args.reference, "is unused with --landmarks-only or --z random")
    if args.plot:
        check.output_file(args.plot, "--plot", (".png",))
    found, config = _model(args.model)
    reference = None
    if args.reference:
        from zoo.datasets import DataError

        from .landmarks import Landmarker
        from .predict import read_image

        check.input_file(args.reference, "--reference", IMAGE_SUFFIXES)
        try:
            image = read_image(args.reference)
        except DataError as exc:
            raise check.UsageError("--reference", None, str(exc)) from None
        if Landmarker(clahe=config.clahe, upsample=config.upsample, upscale=config.upscale,
                      multi_face=config.multi_face)(image) is None:
            raise check.UsageError("--reference", args.reference, "no face found (dlib's HOG detector)")
        reference = args.reference
    audio, rate = common.check_audio(args.audio, PROG, config.sample_rate)
    return {"config": config, "audio": audio, "rate": rate, "reference": reference}


def _check_evaluate(args) -> dict:
    if args.out:
        check.output_file(args.out, "--out", (".json",))
    found, _ = _model(args.model)
    stems = _stems(args.data)
    chosen = (common.name_list(args.clips, "--clips", set(stems), "trial {} in the data") if args.clips
              else found.metadata.get("test_trials") or found.metadata.get("val_trials"))
    if not chosen:
        raise check.UsageError("--clips", None, f"{args.model} records no test or validation trials; name them")
    missing = sorted(set(chosen) - set(stems))
    if missing:
        raise check.UsageError("--data", args.data, f"lacks the model's held-out trials {missing[:5]}; name others "
                                                    "with --clips")
    return {"stems": list(chosen)}


def validate(args: argparse.Namespace) -> dict:
    """Every argument of ``args.action`` checked (module docstring); what was read on the way."""
    checks = {"predict": _check_predict, "train": _check_train, "evaluate": _check_evaluate,
              "export": lambda a: common.check_export(a, _model),
              "info": lambda a: {"model": _model(a.model) if a.model else None}}
    return checks[args.action](args)


# -- work -------------------------------------------------------------------------------------------------------
def describe(found, config) -> dict:
    meta = found.metadata
    return {"model": "landmark_dcgan", "folder": str(found.path), "preset": config.preset, "fps": meta["fps"],
            "sample_rate": meta["sample_rate"], "window_seconds": meta["window_seconds"],
            "lookahead_seconds": meta["lookahead_seconds"], "landmark_norm": config.landmark_norm,
            "image_size": config.image_size, "gru": config.gru, "legacy_scaling": config.legacy_scaling,
            "train_trials": len(meta.get("train_trials") or ()), "val_trials": len(meta.get("val_trials") or ()),
            "test_actors": meta.get("test_actors")}


def _info_text(d: dict) -> str:
    """What `info --model` prints of ``describe``'s dict."""
    cnn = "CNN + GRU over the clip" if d["gru"] else "CNN, frame by frame"
    return (f"{d['folder']}: landmark_dcgan, preset {d['preset']}\n"
            f"input:      speech (60 ms windows of |FFT_128| chunks every 30 ms, {d['lookahead_seconds']:g} s "
            f"lookahead, audio resampled to {d['sample_rate']} Hz mono)\n"
            f"outputs:    68 landmarks ({d['landmark_norm']}-normalised, {cnn}) at {d['fps']:g} fps; "
            f"faces {d['image_size']}x{d['image_size']} from the conditional DCGAN\n"
            f"trained on: {d['train_trials']} trials ({d['val_trials']} validation); test actors {d['test_actors']}")


def _info(args, checked) -> int:
    return common.run_info("landmark_dcgan", PRESETS, args, checked, describe, _info_text)


def _predict(args, checked) -> int:
    from .predict import Predictor

    predictor = Predictor.load(args.model)
    audio, rate = checked["audio"], checked["rate"]
    if Path(args.out).suffix.lower() == VIDEO_SUFFIX:
        done = predictor.talking_face(audio, args.out, reference=checked["reference"], z=args.z, seed=args.seed,
                                      landmarks_only=args.landmarks_only, sample_rate=rate)
        what = "landmark animation" if args.landmarks_only else "landmarks and generated faces"
        print(f"{args.out}: {done['frames']} frames ({what}) at {done['fps']:.4g} fps with the speech "
              f"({done['seconds']:g} s)")
        anim = done["animation"]
    else:
        anim = predictor.landmarks(audio, rate)
        anim.write(args.out)
        print(f"{args.out}: {len(anim.values)} frames × 68 landmarks at {anim.fps:.4g} fps")
    if args.landmarks:
        anim.write(args.landmarks)
        print(f"{args.landmarks}: the landmarks as curves")
    if args.plot:
        anim.plot(args.plot, title=f"landmark_dcgan: {Path(args.audio).name}")
        print(f"{args.plot}: curves")
    return 0


def _train(args, checked) -> int:
    from .train import train

    summary = train(checked["config"], args.data, args.workdir, test_actors=checked["test_actors"],
                    val_actors=checked["val_actors"], cnn_minutes=args.max_minutes, gan_minutes=args.gan_minutes,
                    strategy=args.strategy, progress=not args.quiet, cpu_devices=args.cpu_devices)
    shown = {"cnn": {k: summary["cnn"][k] for k in ("epochs_trained", "best_epoch", "val")},
             "gan": {k: summary["gan"][k] for k in ("epochs_trained", "val")},
             **{k: summary[k] for k in ("test_actors", "train_frames", "dropped_frames", "seconds")}}
    common.print_json(shown)
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

        result = evaluate(args.model, args.data, checked["stems"], faces=not args.no_faces)
        return common.report_evaluation(result, args.out)
    if args.action == "export":
        from .export import export_model

        return common.run_export(args, export_model)
    sys.stderr.write(f"{PROG}: choose an action: train, predict, evaluate, export, info\n")
    return 2
