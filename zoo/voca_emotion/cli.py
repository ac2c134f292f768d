"""``zoo voca_emotion {train,predict,evaluate,export,info}``: VOCA's own flags on ``zoo.core.cli``'s.

train reads a VOCASET-layout folder (``data_verts.npy``, ``subj_seq_to_idx.pkl``, ``raw_audio_fixed.pkl``,
``templates.pkl``) and holds out whole subjects (and optionally sentences). predict writes ``--out DIR``:
``vertices.npy`` (T, V, 3) in metres at 60 fps and ``meshes/00000.ply`` … (or ``.obj``) [+ ``video.mp4`` with the
audio]; the subject is 0-based (``info`` lists them) and ``--subject 0:0.5,2:0.5`` blends speaking styles;
``--emotion happy --intensity 0.7`` adds the emotion's offset with an ease-in/out ramp.

``validate(args)`` checks every argument without TensorFlow and before anything is written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zoo.core import cli as common
from zoo.core import validate as check

from .config import PRESETS

PROG = "zoo voca_emotion"
DATA_HELP = ("VOCASET-layout folder (data_verts.npy, subj_seq_to_idx.pkl, raw_audio_fixed.pkl, templates.pkl), or a "
             "RAVDESS-derived one (the same files with _RAVDESS; meshes at 29.97 fps, resampled to 60)")


def add_commands(parser) -> None:
    actions = common.add_actions(
        parser, "voca_emotion", presets=PRESETS, default_preset="voca", data_help=DATA_HELP,
        train_description="Train VOCA on a VOCASET-layout folder (the synthetic corpus's vocaset/, or VOCASET). "
                          "Whole subjects are held out (VOCASET's own split where the data has its subjects); a "
                          "checkpoint is written every epoch and a rerun with the same --workdir resumes. The model "
                          "lands in WORKDIR/model.",
        predict_help="speech → per-frame face meshes at 60 fps (vertices.npy and meshes/ in --out DIR)",
        engines=False)
    t = actions["train"]
    t.add_argument("--val-subjects", help="comma-separated subjects that validate (unseen in training)")
    t.add_argument("--test-subjects", help="comma-separated subjects that are test only (never read by training)")
    t.add_argument("--val-sentences", help="comma-separated sentences of the training subjects held out to validate")
    t.add_argument("--test-sentences", help="comma-separated sentences of the training subjects held out as test")
    t.add_argument("--init-from", metavar="MODEL_DIR", help="start from this VOCA model's weights and config "
                                                            "(fine-tuning; --preset is not used)")
    t.add_argument("--mesh", metavar="PLY_OR_OBJ", help="a mesh in the data's topology whose faces predict writes "
                                                        "(default: the synthetic corpus's faces where the vertex "
                                                        "count is its own)")
    p = actions["predict"]
    p.add_argument("--template", help="the neutral face to animate (.ply or .obj, the model's topology; default: "
                                      "the --subject's own training template, of a blend the first subject's)")
    p.add_argument("--subject", default="0", help="speaking style: a 0-based training subject index or name, or "
                                                  "weights 'i:w,j:w' (default 0)")
    p.add_argument("--format", default="ply", choices=["ply", "obj", "none"],
                   help="per-frame mesh files in DIR/meshes (default ply; none: only vertices.npy)")
    p.add_argument("--emotion", help="add an emotion to the speech: a RAVDESS name (happy, sad, angry, fearful, "
                                     "disgust, surprised, calm, neutral), a FLAME table row (spec §6.2), or auto: "
                                     "the one --emotion-model hears in --audio")
    p.add_argument("--emotion-model", metavar="DIR", help="an audio emotion classifier (a folder written by "
                                                          "zoo.voca_emotion.emotion_classifier) for --emotion auto")
    p.add_argument("--intensity", type=float, default=1.0, help="peak strength of --emotion, in [0, 1] (default 1)")
    p.add_argument("--ease-frames", type=check.non_negative_int, default=12,
                   help="frames of the emotion's ease-in and ease-out (default 12 = 0.2 s at 60 fps)")
    p.add_argument("--upper-face-only", action="store_true", help="apply --emotion to the upper face only "
                                                                   "(the synthetic corpus's mesh)")
    p.add_argument("--flame", metavar="PKL", help="a FLAME model (generic_model.pkl) whose expression basis gives "
                                                  "--emotion on FLAME meshes (read without chumpy, restricted loader)")
    p.add_argument("--video", action="store_true", help="also render DIR/video.mp4 (the meshes at 60 fps with the "
                                                       "audio muxed in; NumPy rasteriser in a subprocess, headless)")
    p.add_argument("--image-size", type=check.positive_int, default=256, help="video height in pixels (even; "
                                                                              "default 256)")
    e = actions["evaluate"]
    e.add_argument("--shuffle-seed", type=int, help="permute each sequence's audio windows in time with this seed "
                                                    "(the shuffled-audio control)")


# -- validation (no TensorFlow) --------------------------------------------------------------------------------
def verify(path):
    """(ModelDir, Config) of a VOCA model folder, checked without TensorFlow (sha256, config, metadata)."""
    from zoo.core.modeldir import read_model_dir

    from .predict import read_config

    found = read_model_dir(path, model="voca_emotion")
    config = read_config(found)
    found.check_array("templates", (config.num_subjects, config.num_vertices, 3), "the training subjects' templates")
    return found, config


def _model(path):
    return common.check_model_dir(path, verify)


def _vocaset_names(data: Path) -> tuple[set[str], set[str]]:
    """(subjects, sentences) of a VOCASET or RAVDESS-derived folder's index (restricted unpickler)."""
    from zoo.datasets import DataError, load_pickle
    from zoo.datasets.emoca import INDEX_FILE

    path = data / INDEX_FILE if (data / INDEX_FILE).is_file() else data / "subj_seq_to_idx.pkl"
    if not path.is_file():
        raise check.UsageError("--data", str(data), "holds no subj_seq_to_idx.pkl (not a VOCASET-layout folder)")
    try:
        index = load_pickle(path)
    except DataError as exc:
        raise check.UsageError("--data", str(data), str(exc)) from None
    if not isinstance(index, dict):
        raise check.UsageError("--data", str(data), f"{path.name} is not a dict of subjects")
    return set(map(str, index)), {str(s) for seqs in index.values() if isinstance(seqs, dict) for s in seqs}


def _check_train(args) -> dict:
    from dataclasses import fields

    from .config import Config, preset

    data = check.input_folder(args.data, "--data")
    check.output_folder(args.workdir, "--workdir")
    subjects, sentences = _vocaset_names(data)
    lists = {}
    for flag, text, known, what in (("--val-subjects", args.val_subjects, subjects, "subject {} in the data"),
                                    ("--test-subjects", args.test_subjects, subjects, "subject {} in the data"),
                                    ("--val-sentences", args.val_sentences, sentences, "sentence {} in the data"),
                                    ("--test-sentences", args.test_sentences, sentences, "sentence {} in the data")):
        lists[flag] = common.name_list(text, flag, known, what)
    for a, b in (("--val-subjects", "--test-subjects"), ("--val-sentences", "--test-sentences")):
        both = sorted(set(lists[a]) & set(lists[b]))
        if both:
            raise check.UsageError(b, getattr(args, b[2:].replace("-", "_")), f"{both[0]!r} is also in {a}")
    source = _model(args.init_from)[1] if args.init_from else None
    faces = None
    if args.mesh:
        from zoo.datasets import DataError

        from .meshes import load_template

        check.input_file(args.mesh, "--mesh", (".ply", ".obj"))
        try:
            _, faces = load_template(args.mesh)
        except DataError as exc:
            raise check.UsageError("--mesh", args.mesh, str(exc)) from None
    overrides = common.config_overrides(args, {}, config_fields=[f.name for f in fields(Config)])
    try:  # fine-tuning keeps the source model's network (its config), with the overrides
        config = source.replace(**overrides) if source is not None else preset(args.preset, **overrides)
    except (TypeError, ValueError) as exc:
        raise check.UsageError("--set", None, str(exc)) from None
    return {"config": config, "faces": faces, **{k[2:].replace("-", "_"): v for k, v in lists.items()}}


def _check_predict(args) -> dict:
    from zoo.datasets import DataError

    from .meshes import load_template
    from .predict import subject_weights

    check.output_folder(args.out, "--out")
    if args.clip:
        raise check.UsageError("--clip", None, "clips blendshape weights to [0, 1]; VOCA outputs vertices in metres")
    if args.plot:
        raise check.UsageError("--plot", args.plot, "plots named curves; VOCA outputs meshes (see vertices.npy)")
    found, config = _model(args.model)
    try:
        weights = subject_weights(config, args.subject)
    except ValueError as exc:
        raise check.UsageError("--subject", args.subject, str(exc)) from None
    template = faces = None
    if args.template:
        check.input_file(args.template, "--template", (".ply", ".obj"))
        try:
            template, faces = load_template(args.template, config.num_vertices)
        except DataError as exc:
            raise check.UsageError("--template", args.template, str(exc)) from None
    emotion = None
    if args.emotion is not None or args.flame or args.upper_face_only:
        emotion = _check_emotion(args, config)
    if args.video and faces is None and found.array("faces") is None:
        raise check.UsageError("--video", None, "needs the mesh's faces: give --template (a .ply/.obj with faces)")
    if args.video and args.image_size % 2:
        raise check.UsageError("--image-size", args.image_size, "must be even (H.264)")
    audio, rate = check.audio_input(args.audio, "--audio")
    from . import features as feats

    frames = feats.num_frames(len(audio), rate)
    if frames < 1:
        raise check.UsageError("--audio", args.audio, "is shorter than one frame at 60 fps")
    common.check_smoothing(args, frames)
    return {"weights": weights, "template": template, "faces": faces, "audio": audio, "rate": rate,
            "config": config, "emotion": emotion}


def _check_emotion(args, config) -> dict:
    """--emotion/--intensity/--flame/--upper-face-only checked (the basis built, without TensorFlow)."""
    from zoo.datasets import DataError

    from .emotion import EmotionBasis
    from .predict import _corpus_vertices

    if args.emotion is None:
        raise check.UsageError("--flame" if args.flame else "--upper-face-only", None, "goes with --emotion")
    classifier = None
    if (args.emotion == "auto") != bool(args.emotion_model):
        raise check.UsageError("--emotion-model" if args.emotion_model else "--emotion", None,
                               "--emotion auto and --emotion-model DIR go together")
    if args.emotion_model:
        from .emotion_classifier import EmotionClassifier

        check.input_folder(args.emotion_model, "--emotion-model")
        try:
            classifier = EmotionClassifier.load(args.emotion_model)
        except (DataError, ValueError) as exc:
            raise check.UsageError("--emotion-model", args.emotion_model, str(exc)) from None
    if not 0.0 <= args.intensity <= 1.0:
        raise check.UsageError("--intensity", args.intensity, "must lie in [0, 1]")
    if args.flame:
        check.input_file(args.flame, "--flame", (".pkl",))
        try:
            basis = EmotionBasis.from_flame(args.flame)
        except (DataError, ValueError) as exc:
            raise check.UsageError("--flame", args.flame, str(exc)) from None
    elif config.num_vertices == _corpus_vertices():
        basis = EmotionBasis.from_corpus()
    else:
        raise check.UsageError("--emotion", args.emotion, f"needs --flame (a FLAME model) for this "
                                                          f"{config.num_vertices}-vertex mesh")
    if basis.num_vertices != config.num_vertices:
        raise check.UsageError("--flame", args.flame, f"has {basis.num_vertices} vertices, the model "
                                                      f"{config.num_vertices}")
    if args.upper_face_only and config.num_vertices != _corpus_vertices():
        raise check.UsageError("--upper-face-only", None, "the upper-face mask is declared for the synthetic "
                                                          "corpus's mesh only")
    for label in (classifier.labels if classifier is not None else [args.emotion]):
        try:
            basis.resolve(label)
        except ValueError as exc:
            flag = "--emotion-model" if classifier else "--emotion"
            raise check.UsageError(flag, args.emotion_model or args.emotion, str(exc)) from None
    return {"emotion": args.emotion, "classifier": classifier, "intensity": args.intensity,
            "ease_frames": args.ease_frames, "upper_face_only": args.upper_face_only, "flame": args.flame}


def _check_evaluate(args) -> dict:
    if args.out:
        check.output_file(args.out, "--out", (".json",))
    found, _ = _model(args.model)
    data = check.input_folder(args.data, "--data")
    subjects, sentences = _vocaset_names(data)
    known = {f"{s}/{t}" for s in subjects for t in sentences}
    names = (common.name_list(args.clips, "--clips", known, "sequence {} (subject/sentence) in the data")
             if args.clips else found.metadata.get("test_sequences") or found.metadata.get("val_sequences"))
    if not names:
        raise check.UsageError("--clips", None, f"{args.model} records no test or validation sequences; name them")
    return {"sequences": list(names)}


def validate(args: argparse.Namespace) -> dict:
    """Every argument of ``args.action`` checked (module docstring); what was read on the way."""
    checks = {"predict": _check_predict, "train": _check_train, "evaluate": _check_evaluate,
              "export": lambda a: common.check_export(a, _model),
              "info": lambda a: {"model": _model(a.model) if a.model else None}}
    return checks[args.action](args)


# -- work -------------------------------------------------------------------------------------------------------
def describe(found, config) -> dict:
    meta = found.metadata
    return {"model": "voca_emotion", "folder": str(found.path), "preset": config.preset, "fps": meta["fps"],
            "sample_rate": meta["sample_rate"], "audio_feature": config.audio_feature,
            "num_vertices": config.num_vertices, "subjects": list(config.subjects),
            "window_seconds": meta["window_seconds"], "lookahead_seconds": meta["lookahead_seconds"],
            "data": meta.get("data"), "test_sequences": meta.get("test_sequences")}


def _info_text(d: dict) -> str:
    """What `info --model` prints of ``describe``'s dict."""
    return (f"{d['folder']}: voca_emotion, preset {d['preset']}\n"
            f"input:      speech ({d['audio_feature']} windows of {d['window_seconds']:g} s at {d['fps']:g} fps, "
            f"{d['lookahead_seconds']:g} s lookahead) + a subject + a template of {d['num_vertices']} vertices\n"
            f"outputs:    {d['num_vertices']} vertices (metres) at {d['fps']:g} fps\n"
            "subjects:   " + ", ".join(f"{i}: {s}" for i, s in enumerate(d["subjects"])) + " (0-based)")


def _info(args, checked) -> int:
    return common.run_info("voca_emotion", PRESETS, args, checked, describe, _info_text)


def _predict(args, checked) -> int:
    from .meshes import write_sequence
    from .predict import Predictor

    predictor = Predictor.load(args.model)
    emotion = dict(checked["emotion"] or {})
    classifier = emotion.pop("classifier", None)
    if classifier is not None:
        label, probabilities = classifier.predict(checked["audio"], checked["rate"], source=args.audio)
        emotion["emotion"] = label
        print(f"{args.audio}: heard {label} (p = {probabilities[label]:.2f})")
    anim = predictor.predict(checked["audio"], checked["rate"], subject=checked["weights"],
                             template=checked["template"], **emotion)
    if args.smooth > 1:
        anim = anim.smoothed(args.smooth)
    verts = anim.values.reshape(len(anim.values), -1, 3)
    faces = checked["faces"] if checked["faces"] is not None else predictor.faces
    fmt = None if args.format == "none" else args.format
    if fmt is not None and faces is None:
        common.warn(PROG, "the model records no faces and --template gave none: the meshes are point clouds")
    write_sequence(verts, args.out, faces=faces, fmt=fmt)
    print(f"{args.out}: {len(verts)} frames × {verts.shape[1]} vertices at {anim.fps:g} fps (vertices.npy"
          + (f", meshes/*.{fmt})" if fmt else ")"))
    if args.video:
        from zoo.render import render_mesh_video

        video = render_mesh_video(verts, faces, anim.fps, Path(args.out) / "video.mp4", audio_path=args.audio,
                                  image_size=args.image_size)
        print(f"{video}: the meshes with the speech")
    return 0


def run(args, checked: dict) -> int:
    common.start_run(args)
    if args.action == "info":
        return _info(args, checked)
    if args.action == "train":
        from .train import train

        faces = checked["faces"]
        summary = train(checked["config"], args.data, args.workdir, val_subjects=checked["val_subjects"],
                        test_subjects=checked["test_subjects"], val_sentences=checked["val_sentences"],
                        test_sentences=checked["test_sentences"], faces=faces, init_from=args.init_from,
                        **common.train_options(args))
        common.print_trained(summary, args.workdir)
        return 0
    if args.action == "predict":
        return _predict(args, checked)
    if args.action == "evaluate":
        from .predict import evaluate

        result, _ = evaluate(args.model, args.data, sentences=checked["sequences"], shuffle_seed=args.shuffle_seed)
        return common.report_evaluation(result, args.out)
    if args.action == "export":
        from .export import export_model

        return common.run_export(args, export_model)
    sys.stderr.write(f"{PROG}: choose an action: train, predict, evaluate, export, info\n")
    return 2
