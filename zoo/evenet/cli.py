"""``zoo evenet {train,predict,evaluate,export,info,live}``: EveNet's own flags on ``zoo.core.cli``'s.

predict drives the model from text (``--text``: espeak-ng speaks it and gives the phoneme timeline) or from a
recording with its transcript (``--audio`` + ``--transcript``: the words are aligned to it). ``--out`` ``.csv``
is the original's format (``np.savetxt``: comma-separated ``%.10e``, one frame a row, no header); ``.json`` and
``.npy`` are named (``zoo.core.animation``). The speech is written beside it as ``<out>.wav`` (``--text``), and
``--video FILE.mp4`` renders the synthetic face with the speech muxed in (ARKit-named keys only).

live generates frames paced at the model's fps while the original's text protocol (``EMO <label>``,
``PHO <label>`` lines on TCP, 127.0.0.1:9999 by default) changes the labels.

``validate(args)`` checks every argument without TensorFlow and before anything is written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from zoo.core import cli as common
from zoo.core import validate as check
from zoo.datasets.synthetic.speech import VOICES

from .config import PRESETS

PROG = "zoo evenet"


def add_commands(parser) -> None:
    actions = common.add_actions(
        parser, "evenet", presets=PRESETS, default_preset="master",
        data_help="EveNet folder (<take>.dat/.emo/.pho, reader_config.json)",
        train_description="Train EveNet on an EveNet-layout folder (the synthetic corpus's evenet/, or your own "
                          "takes). Whole takes are held out for validation; a checkpoint is written every epoch and a "
                          "rerun with the same --workdir resumes. The model lands in WORKDIR/model.",
        predict_help="text, or speech with its transcript → shape-key frames at 48 fps, generated autoregressively",
        audio_help="a recording of --transcript: wav, flac, ogg or mp3, any rate (its words are aligned to it)",
        audio_required=False, engines=False,
        extra={"live": "generate frames live while EMO <label> / PHO <label> lines on TCP change the labels"})
    t = actions["train"]
    t.add_argument("--val-takes", help="comma-separated validation takes (default: 20%% of the other takes)")
    t.add_argument("--test-takes", help="comma-separated test takes: never read by training (evaluate them after)")
    t.add_argument("--speakers", metavar="FILE", help="the speaker of each take (JSON {take: speaker} or CSV "
                                                        "take,speaker), for --val-speakers/--test-speakers")
    t.add_argument("--val-speakers", help="comma-separated speakers whose takes validate (needs --speakers)")
    t.add_argument("--test-speakers", help="comma-separated speakers whose takes are test only (needs --speakers)")
    t.add_argument("--legacy-same-padding", action="store_true",
                   help="master's SAME-padded convolutions and unshifted loss (leaks the current frame; for "
                        "reproducing the original only)")

    p = actions["predict"]
    p.add_argument("--text", help="the sentence to speak and animate (espeak-ng gives the phoneme timeline)")
    p.add_argument("--transcript", help="the words spoken in --audio")
    p.add_argument("--emotion", default="neutral", help="emotion label of the model (info lists them) or a RAVDESS "
                                                        "name (default neutral)")
    p.add_argument("--voice", default="female_warm", choices=sorted(VOICES),
                   help="espeak-ng voice speaking --text, and the reference voice aligning --audio")
    p.add_argument("--video", metavar="MP4", help="also render the synthetic face with the speech muxed in")
    p.add_argument("--naive", action="store_true", help="the original's generation loop (the full network every "
                                                        "frame; slow) instead of cached states")

    actions["evaluate"].add_argument("--takes", help="comma-separated takes (default: the model's test takes, else "
                                                     "its validation takes)")

    live = actions["live"]
    live.add_argument("--model", required=True, help="a model directory")
    live.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    live.add_argument("--port", type=check.non_negative_int, default=9999, help="TCP port (default 9999; 0: any)")
    live.add_argument("--allow-remote", action="store_true", help="allow listening beyond loopback")
    live.add_argument("--frames", type=check.positive_int, help="stop after N frames (default: until Ctrl-C)")
    live.add_argument("--emotion", default="neutral", help="the emotion to start with")
    live.add_argument("--out", help="write the generated frames here when done (.csv/.json/.npy)")


# -- validation (no TensorFlow) --------------------------------------------------------------------------------
def verify(path):
    """(ModelDir, Config) of an EveNet model folder, checked without TensorFlow (sha256, config, metadata)."""
    from zoo.core.modeldir import read_model_dir

    from .predict import read_config

    found = read_model_dir(path, model="evenet")
    return found, read_config(found)


def _model(path):
    return common.check_model_dir(path, verify)


def _take_names(data: Path) -> set[str]:
    return {p.stem for p in data.glob("*.dat")}


def _take_list(text: str | None, argument: str, known: set[str]) -> list[str]:
    return common.name_list(text, argument, known, "take {} (<take>.dat) in the data folder")


def _emotion(text: str, config, argument: str = "--emotion") -> int:
    try:
        return config.emotion_index(text)
    except ValueError:
        raise check.UsageError(argument, text, f"not an emotion of this model "
                                               f"({', '.join(config.emotion_categories)})") from None


def _flag_error(exc: check.UsageError) -> check.UsageError:
    """A timeline error about ``text``/``transcript``/``audio`` as the CLI flag's error."""
    if exc.argument not in ("text", "transcript", "audio"):
        return exc
    return check.UsageError(f"--{exc.argument}", None, str(exc)[len(exc.argument):].lstrip(": "))


def _check_predict(args) -> dict:
    try:
        return _check_predict_inputs(args)
    except check.UsageError as exc:
        raise _flag_error(exc) from None


def _check_predict_inputs(args) -> dict:
    from zoo.datasets.evenet import FROM_RAVDESS

    from .timeline import align_transcript, text_timeline

    common.check_outputs(args)
    if args.video:
        check.output_file(args.video, "--video", (".mp4",))
    found, config = _model(args.model)
    emotion = _emotion(args.emotion, config)
    if (args.text is None) == (args.audio is None):
        raise check.UsageError("--text", args.text, "give either --text or --audio with --transcript")
    if args.text is not None:
        if args.transcript:
            raise check.UsageError("--transcript", args.transcript, "goes with --audio (the words of a recording)")
        spoken = args.emotion if args.emotion in FROM_RAVDESS else "neutral"  # the voice's prosody
        timeline = text_timeline(args.text, voice=args.voice, emotion=spoken, fps=config.fps)
        check.output_file(str(Path(args.out).with_suffix(".wav")), "--out", (".wav",))
    else:
        if not args.transcript:
            raise check.UsageError("--audio", args.audio, "needs --transcript (the words spoken) to be aligned")
        audio, rate = check.audio_input(args.audio, "--audio")
        timeline = align_transcript(audio, rate, args.transcript, voice=args.voice, fps=config.fps)
    if args.video and not set(config.names) & set(_arkit()):
        raise check.UsageError("--video", args.video, "renders ARKit-named shape keys; this model's keys "
                                                      f"({', '.join(config.names[:3])}, …) are not")
    return {"timeline": timeline, "emotion": emotion}



def _arkit():
    from zoo.datasets import ARKIT_52

    return ARKIT_52


def _check_train(args) -> dict:
    from dataclasses import fields

    from .config import Config, preset

    data = check.input_folder(args.data, "--data")
    check.output_folder(args.workdir, "--workdir")
    known = _take_names(data)
    if not known:
        raise check.UsageError("--data", args.data, "holds no takes (<take>.dat with .emo and .pho)")
    val = _take_list(args.val_takes, "--val-takes", known)
    test = _take_list(args.test_takes, "--test-takes", known)
    both = sorted(set(val) & set(test))
    if both:
        raise check.UsageError("--test-takes", args.test_takes, f"{both[0]!r} is also a validation take")
    speakers = check.name_map(args.speakers, "--speakers") if args.speakers else None
    by_speaker = {}
    for flag, text in (("--val-speakers", args.val_speakers), ("--test-speakers", args.test_speakers)):
        if text and speakers is None:
            raise check.UsageError(flag, text, "needs --speakers (which take is whose)")
        by_speaker[flag] = common.name_list(text, flag, set((speakers or {}).values()), "speaker {} in --speakers")
    if by_speaker["--val-speakers"] or by_speaker["--test-speakers"]:
        if val or test:
            raise check.UsageError("--val-speakers", args.val_speakers, "split by takes or by speakers, not both")
        both = sorted(set(by_speaker["--val-speakers"]) & set(by_speaker["--test-speakers"]))
        if both:
            raise check.UsageError("--test-speakers", args.test_speakers, f"{both[0]!r} is also a validation speaker")
    overrides = common.config_overrides(args, {}, config_fields=[f.name for f in fields(Config)])
    if args.legacy_same_padding:
        overrides["legacy_same_padding"] = True
    try:
        config = preset(args.preset, **overrides)
    except (TypeError, ValueError) as exc:
        raise check.UsageError("--set", None, str(exc)) from None
    return {"config": config, "val": val, "test": test, "speakers": speakers,
            "val_speakers": by_speaker["--val-speakers"], "test_speakers": by_speaker["--test-speakers"]}


def _check_evaluate(args) -> dict:
    common.check_outputs(args)
    found, _ = _model(args.model)
    data = check.input_folder(args.data, "--data")
    takes = (_take_list(args.takes, "--takes", _take_names(data)) if args.takes
             else found.metadata.get("test_takes") or found.metadata.get("val_takes"))
    if not takes:
        raise check.UsageError("--takes", None, f"{args.model} records no test or validation takes; name the takes")
    return {"takes": list(takes)}


def _check_export(args) -> dict:
    return common.check_export(args, _model)


def _check_live(args) -> dict:
    from .live import is_loopback

    found, config = _model(args.model)
    if args.out:
        check.output_file(args.out, "--out", (".csv", ".json", ".npy"))
    if not args.allow_remote and not is_loopback(args.host):
        raise check.UsageError("--host", args.host, "is not a loopback address; add --allow-remote to listen there")
    return {"emotion": _emotion(args.emotion, config), "config": config}


def validate(args: argparse.Namespace) -> dict:
    """Every argument of ``args.action`` checked (module docstring); what was read on the way."""
    checks = {"predict": _check_predict, "train": _check_train, "evaluate": _check_evaluate,
              "export": _check_export, "live": _check_live,
              "info": lambda a: {"model": _model(a.model) if a.model else None}}
    return checks[args.action](args)


# -- work -------------------------------------------------------------------------------------------------------
def write_frames(anim, path) -> None:
    """``.csv``: the original's text (``%.10e``, comma-separated, one frame a row, no header); else named."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        import io

        from zoo.datasets.cache import atomic_write_bytes

        text = io.StringIO()
        np.savetxt(text, np.asarray(anim.values, np.float64), fmt="%.10e", delimiter=",")
        atomic_write_bytes(path, text.getvalue().encode())
    else:
        anim.write(path)


def describe(found, config) -> dict:
    meta = found.metadata
    return {"model": "evenet", "folder": str(found.path), "preset": config.preset, "lineage": config.lineage,
            "fps": config.fps, "receptive_field_steps": config.receptive_field,
            "context_seconds": meta["window_seconds"], "outputs": list(config.names),
            "emotions": list(config.emotion_categories), "phoneme_conditioning": bool(config.phoneme_channels),
            "legacy_same_padding": config.legacy_same_padding, "data": meta.get("data"),
            "test_takes": meta.get("test_takes")}


def _info_text(d: dict) -> str:
    """What `info --model` prints of ``describe``'s dict."""
    return (f"{d['folder']}: evenet, preset {d['preset']} ({d['lineage']})\n"
            f"input:      phoneme and emotion labels per frame (from --text or --audio + --transcript); "
            f"context {d['receptive_field_steps']} steps ({d['context_seconds']:g} s)\n"
            f"outputs:    {len(d['outputs'])} shape keys at {d['fps']:g} fps: {', '.join(d['outputs'][:6])}"
            f"{', …' if len(d['outputs']) > 6 else ''}\n"
            f"emotions:   {', '.join(d['emotions'])}")


def _info(args, checked) -> int:
    return common.run_info("evenet", PRESETS, args, checked, describe, _info_text)


def _predict(args, checked) -> int:
    import soundfile as sf

    from .predict import Predictor

    predictor = Predictor.load(args.model)
    timeline = checked["timeline"]
    anim = predictor.generate(checked["emotion"], timeline.phoneme_ids(), fast=not args.naive)
    write_frames(anim, args.out)
    print(f"{args.out}: {len(anim.values)} frames × {len(anim.names)} shape keys at {anim.fps:g} fps")
    wav = Path(args.out).with_suffix(".wav")
    if args.text is not None:
        sf.write(wav, timeline.audio, timeline.sample_rate, subtype="PCM_16")
        print(f"{wav}: the speech ({timeline.seconds:.2f} s)")
    if args.plot:
        anim.plot(args.plot, title=args.text or Path(args.audio).name)
        print(f"{args.plot}: curves")
    if args.video:
        from zoo.render import render_face_video

        weights = np.zeros((len(anim.values), len(_arkit())), np.float32)  # keys the model lacks stay at rest
        for i, name in enumerate(_arkit()):
            if name in anim.names:
                weights[:, i] = anim.values[:, anim.names.index(name)]
        speech = wav if args.text is not None else args.audio
        video = render_face_video(weights, anim.fps, args.video, audio_path=speech, labels=False)
        print(f"{video}: the synthetic face with the speech")
    return 0


def _live(args, checked) -> int:
    from zoo.core.animation import Animation

    from .live import LiveController, run_live
    from .predict import Predictor

    predictor = Predictor.load(args.model)
    config = checked["config"]
    stream = predictor.streamer()
    with LiveController(config.emotion_categories, emotion=config.emotion_categories[checked["emotion"]],
                        host=args.host, port=args.port, allow_remote=args.allow_remote) as live:
        host, port = live.address
        print(f"listening on {host}:{port}: send EMO <label> / PHO <label> lines; Ctrl-C stops", flush=True)
        run = run_live(stream.next, live, frames=args.frames, fps=config.fps)
    print(f"{len(run)} frames ({run.late_frames} late)")
    if args.out and len(run):
        write_frames(Animation(run.frames, config.names, config.fps), args.out)
        print(f"{args.out}: {len(run)} frames")
    return 0


def run(args, checked: dict) -> int:
    common.start_run(args)
    if args.action == "info":
        return _info(args, checked)
    if args.action == "train":
        from .train import train

        summary = train(checked["config"], args.data, args.workdir, val_takes=checked["val"],
                        test_takes=checked["test"], speakers=checked["speakers"],
                        val_speakers=checked["val_speakers"], test_speakers=checked["test_speakers"],
                        **common.train_options(args))
        common.print_json({k: summary.get(k) for k in ("epochs_trained", "best_epoch", "val", "state_sha256")})
        print(f"model written to {Path(args.workdir) / 'model'}")
        return 0
    if args.action == "predict":
        return _predict(args, checked)
    if args.action == "live":
        return _live(args, checked)
    if args.action == "evaluate":
        from .predict import evaluate

        return common.report_evaluation(evaluate(args.model, args.data, takes=checked["takes"])[0], args.out)
    if args.action == "export":
        from .export import export_model

        return common.run_export(args, export_model)
    sys.stderr.write(f"{PROG}: choose an action: train, predict, evaluate, export, info, live\n")
    return 2
