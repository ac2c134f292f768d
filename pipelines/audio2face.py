"""Reproduce Audio2Face end to end: prepare → train → evaluate → export → render → report.

    python -m zoo.pipelines.audio2face --out runs/audio2face                  # synthetic corpus
    python -m zoo.pipelines.audio2face --out runs/a2f-real --data ../shared/data/facegood \\
        --names-file ../shared/data/facegood/shirley_1015_bs_name.npy --val-clips 1114_2_05

Stages write into ``--out`` and are resumable: the corpus is reused when its manifest matches,
training resumes from its last checkpoint, and a finished stage is not rerun (its outputs are
kept in ``state.json``). Training stops before an epoch that would end past ``--budget-minutes``.
The report (``report.md``, ``report.json``) compares the model with the mean pose of the
training clips on held-out clips: MSE, per-channel Pearson r, mouth-channel metrics.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from zoo.pipelines.stages import run_stages

log = logging.getLogger("zoo.pipelines.audio2face")

SYNTHETIC_PRESET = "paper"
REAL_PRESET = "facegood_tf2"
# epochs when --epochs is not given: the paper preset's schedule (ramps) completes within the budget on
# 2 cores; on the real clips held-out error is lowest after ~5 epochs (then it overfits: see the model card)
SYNTHETIC_EPOCHS, REAL_EPOCHS = 12, 5
FACEGOOD = Path(os.environ.get("ZOO_SHARED_DATA", "../shared/data")) / "facegood"  # paths from the project root
# the committed presets (``--pretrained``, ``make pretrained-audio2face``): folder → the recipe's arguments
PRETRAINED = {
    "synthetic": ["--out", "runs/pretrained-a2f-synthetic", "--quiet"],
    "facegood_real": ["--out", "runs/pretrained-a2f-real", "--quiet", "--data", str(FACEGOOD), "--names-file",
                      str(FACEGOOD / "shirley_1015_bs_name.npy"), "--val-clips", "1114_2_05", "--budget-minutes", "25"],
}
PREVIEW_SECONDS = 8.0


def prepare(args, out: Path, *_) -> dict:
    """The FACEGOOD-layout folder to train on: the given one, or the synthetic corpus."""
    if args.data:
        data = Path(args.data)
        if not data.is_dir():
            raise SystemExit(f"reproduce-audio2face: --data {data} is not a folder")
        return {"data": str(data), "source": f"the FACEGOOD-layout folder {data}", "synthetic": False}
    from zoo.datasets.synthetic import corpus

    started = time.perf_counter()
    manifest = corpus.generate(out / "corpus", args.corpus_preset, args.seed)
    return {"data": str(out / "corpus" / "facegood"), "source": f"synthetic corpus ({args.corpus_preset}, "
            f"seed {args.seed})", "synthetic": True, "speech_minutes": round(manifest["speech_seconds"] / 60, 2),
            "seconds": round(time.perf_counter() - started, 1)}


def run_training(args, out: Path, prepared: dict, *_) -> dict:
    from zoo.audio2face import preset, train

    name = args.preset or (SYNTHETIC_PRESET if prepared["synthetic"] else REAL_PRESET)
    overrides = {"seed": args.seed if args.seed is not None else 123}
    overrides["epochs"] = args.epochs or (SYNTHETIC_EPOCHS if prepared["synthetic"] else REAL_EPOCHS)
    if prepared["synthetic"] and name != "paper":
        overrides["output_names"] = ()  # ARKit channels of the synthetic rig, not FACEGOOD's 37
    if args.time_shift:
        overrides["time_shift_frames"] = args.time_shift
    config = preset(name, **overrides)
    started = time.perf_counter()
    summary = train(config, prepared["data"], out / "train", names_file=args.names_file,
                    val_clips=args.val_clips.split(",") if args.val_clips else None,
                    max_minutes=args.budget_minutes, progress=not args.quiet)
    return {"preset": name, "config": config.to_dict(), "minutes": round((time.perf_counter() - started) / 60, 2),
            "model_dir": str(out / "train" / "model"),
            **{k: summary[k] for k in ("epochs_trained", "epochs_planned", "stopped_by_budget", "train_clips",
                                       "val_clips", "train_frames", "params", "output_names")}}


def run_evaluation(args, out: Path, prepared: dict, trained: dict, *_) -> dict:
    from zoo.audio2face import evaluate

    evaluation, animations = evaluate(trained["model_dir"], prepared["data"], clip_ids=trained["val_clips"],
                                      names_file=args.names_file)
    for name, anim in animations.items():
        anim.write(out / "predictions" / f"{name}.csv")
    result = evaluation.to_dict()
    mouth = [n for n in evaluation.subsets["mouth"].channels if np.isfinite(evaluation.per_channel_r[n])]
    result["key_channels"] = _key_channels(evaluation)
    result["mouth_channels_scored"] = len(mouth)
    return result


def _key_channels(evaluation) -> dict:
    """jawOpen (ARKit) / mouth_stretch_c (FACEGOOD's jawOpen) and the best-moving mouth channels."""
    keys = [n for n in ("jawOpen", "mouth_stretch_c", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLowerDownLeft",
                        "mouthUpperUpLeft", "mouth_oh_c", "mouth_lowerLipDepress_l", "mouth_upperLipRaise_l")
            if n in evaluation.per_channel_r]
    return {n: round(evaluation.per_channel_r[n], 4) for n in keys}


def run_export(args, out: Path, prepared: dict, trained: dict, *_) -> dict:
    from zoo.audio2face import export_model

    wav = Path(prepared["data"]) / "wav" / f"{trained['val_clips'][0]}.wav"
    result = export_model(trained["model_dir"], out / "export", audio=wav, overwrite=True)
    return {"saved_model": str(result.saved_model), "tflite": str(result.tflite),
            "tflite_kb": round(result.tflite.stat().st_size / 1024, 1),
            "parity": [{"backend": c.backend, "signature": c.signature, "max_abs_diff": c.max_abs_diff}
                       for c in result.checks]}


def run_preview(args, out: Path, prepared: dict, trained: dict, *_) -> dict:
    """Curves plot and a side-by-side face video (prediction | reference) with the clip's audio."""
    from zoo.audio2face.rig import to_arkit
    from zoo.core.animation import Animation
    from zoo.datasets import read_facegood
    from zoo.datasets.audio import load_audio
    from zoo.render import plot_curves, render_face_video

    clip_id = trained["val_clips"][0]
    anim = Animation.read(out / "predictions" / f"{clip_id}.csv")
    clip = read_facegood(prepared["data"], names_file=args.names_file, clip_ids=[clip_id])[0]
    reference = clip.targets[:, [clip.channel_names.index(n) for n in anim.names]]
    frames = min(len(anim.values), int(PREVIEW_SECONDS * anim.fps))
    png = plot_curves(anim.values[:frames], anim.names, anim.fps, out / "preview" / "curves.png",
                      reference=reference[:frames], title=f"{clip_id}: prediction vs reference (held out)")
    audio, rate = load_audio(Path(prepared["data"]) / "wav" / f"{clip_id}.wav")
    import soundfile as sf

    (out / "preview").mkdir(parents=True, exist_ok=True)
    excerpt = out / "preview" / "excerpt.wav"
    sf.write(excerpt, audio[: int(frames / anim.fps * rate)], rate, subtype="PCM_16")
    valid_only = not prepared["synthetic"]
    video = render_face_video(
        np.clip(to_arkit(anim.values[:frames], anim.names, valid_only=valid_only), 0, 1), anim.fps,
        out / "preview" / "face.mp4", audio_path=excerpt,
        reference=np.clip(to_arkit(reference[:frames], anim.names, valid_only=valid_only), 0, 1))
    return {"clip": clip_id, "seconds": round(frames / anim.fps, 2), "curves_png": str(png), "video": str(video)}


def write_report(out: Path, state: dict) -> None:
    from zoo.datasets import atomic_write_bytes

    ev, tr = state["evaluate"], state["train"]
    report = {"machine": {"python": platform.python_version(), "platform": platform.platform()}, **state}
    atomic_write_bytes(out / "report.json", json.dumps(report, indent=1).encode())
    ratio = ev["mse"] / ev["mse_mean_pose"]
    mouth_ratio = ev["mouth_mse"] / ev["mouth_mse_mean_pose"]
    lines = [
        "# Audio2Face reproduction report", "",
        f"Data: {state['prepare']['source']} — `{state['prepare']['data']}`.  ",
        f"Preset `{tr['preset']}` ({tr['params']:,} parameters), {tr['epochs_trained']} of {tr['epochs_planned']} "
        f"epochs in {tr['minutes']} min{' (stopped by the time budget)' if tr['stopped_by_budget'] else ''}; "
        f"{tr['train_frames']:,} training frames from {len(tr['train_clips'])} clips; "
        f"{len(tr['val_clips'])} held-out clips ({ev['frames']:,} frames).", "",
        "## Held-out clips vs the mean pose of the training clips", "",
        "| metric | model | mean pose | model / mean pose |", "|---|---|---|---|",
        f"| MSE, all {len(ev['names'])} channels | {ev['mse']:.5f} | {ev['mse_mean_pose']:.5f} | {ratio:.3f} |",
        f"| MSE, {len(ev['mouth_channels'])} mouth/jaw channels | {ev['mouth_mse']:.5f} | "
        f"{ev['mouth_mse_mean_pose']:.5f} | {mouth_ratio:.3f} |",
        f"| MSE, {len(ev['speech_channels'])} speech-driven mouth/jaw channels¹ | {ev['speech_mse']:.5f} | "
        f"{ev['speech_mse_mean_pose']:.5f} | {ev['speech_mse'] / ev['speech_mse_mean_pose']:.3f} |",
        f"| mean Pearson r, speech-driven mouth/jaw channels¹ | {ev['speech_r']:.3f} | 0 | |",
        f"| motion MSE (frame-to-frame change) | {ev['motion_mse']:.6f} | {ev['motion_mse_mean_pose']:.6f} | "
        f"{ev['motion_mse'] / ev['motion_mse_mean_pose']:.3f} |",
        f"| mean Pearson r, mouth/jaw channels | {ev['mouth_r']:.3f} | 0 | |",
        f"| mean Pearson r, all channels | {ev['mean_r']:.3f} | 0 | |", "",
        "¹ mouth/jaw channels whose variance in the held-out references is mostly within clips (what is said), "
        "not a per-clip offset (an emotion): " + ", ".join(ev["speech_channels"]) + ".", "",
        "Key channels (Pearson r on held-out clips): "
        + ", ".join(f"{k} {v:.3f}" for k, v in ev["key_channels"].items()) + ".", "",
        "## Export", "",
        f"SavedModel (TF-Serving layout) `{state['export']['saved_model']}`, TFLite `{state['export']['tflite']}` "
        f"({state['export']['tflite_kb']} KB).", "",
        "| backend | signature | max abs diff vs Keras |", "|---|---|---|",
        *(f"| {p['backend']} | {p['signature']} | {p['max_abs_diff']:.2e} |" for p in state["export"]["parity"]), "",
        "## Preview", "",
        f"Held-out clip `{state['preview']['clip']}`, first {state['preview']['seconds']} s: curves "
        f"`{state['preview']['curves_png']}`, face video with the audio muxed in (prediction left, reference "
        f"right) `{state['preview']['video']}`.", "",
        "Per-channel r and everything above are in `report.json`.",
    ]
    atomic_write_bytes(out / "report.md", ("\n".join(lines) + "\n").encode())


def publish(state: dict, dest: Path, command: str) -> Path:
    """The trained model as a pretrained preset folder (``zoo.core.modeldir.publish``) with its card."""
    from zoo.core.modeldir import publish as publish_dir

    ev, tr = state["evaluate"], state["train"]
    metrics = {**{k: ev[k] for k in ("mse", "mse_mean_pose", "mouth_mse", "mouth_mse_mean_pose", "mouth_r",
                                     "speech_mse", "speech_mse_mean_pose", "speech_r", "speech_channels",
                                     "mean_r", "motion_mse", "motion_mse_mean_pose", "frames")},
               "key_channels_r": ev["key_channels"]}

    def card(meta: dict, folder: Path) -> str:
        size = f", {sum((folder / n).stat().st_size for n in meta['sha256']) / 2**20:.1f} MB"
        lines = [
            f"# audio2face / {dest.name}", "",
            f"Preset `{meta['preset']}` ({meta['params']:,} parameters, {len(meta['output_names'])} outputs{size}), "
            f"trained on {meta['data']} for {meta['epochs_trained']} epochs ({tr['minutes']} min on this machine's "
            "2 CPU cores).", "",
            f"Made by: `{command}`", "",
            f"Training clips: {', '.join(meta['train_clips'][:6])}{' …' if len(meta['train_clips']) > 6 else ''} "
            f"({meta['train_frames']:,} frames). Held out: {', '.join(meta['val_clips'][:6])}"
            f"{' …' if len(meta['val_clips']) > 6 else ''} ({ev['frames']:,} frames).", "",
            "| held-out metric | model | mean pose |", "|---|---|---|",
            f"| MSE, all channels | {ev['mse']:.5f} | {ev['mse_mean_pose']:.5f} |",
            f"| MSE, mouth/jaw channels | {ev['mouth_mse']:.5f} | {ev['mouth_mse_mean_pose']:.5f} |",
            f"| mean r, mouth/jaw channels | {ev['mouth_r']:.3f} | 0 |",
            f"| MSE, speech-driven mouth/jaw channels | {ev['speech_mse']:.5f} | {ev['speech_mse_mean_pose']:.5f} |",
            f"| mean r, speech-driven mouth/jaw channels | {ev['speech_r']:.3f} | 0 |", "",
            "Key channels (r): " + ", ".join(f"{k} {v:.3f}" for k, v in ev["key_channels"].items()) + ".", "",
            "Load: `zoo.load(\"audio2face/" + dest.name + "\")` (a `Predictor`), or "
            f"`zoo audio2face predict --model {dest} --audio a.wav --out a.csv`. "
            "The model card is `zoo/audio2face/README.md`.",
        ]
        return "\n".join(lines) + "\n"

    return publish_dir(
        tr["model_dir"], dest, data=state["prepare"]["source"], command=command, metrics=metrics, card=card,
        data_path=state["prepare"]["data"], training_minutes=tr["minutes"],
        corpus_seed=state["request"]["seed"] if state["prepare"]["synthetic"] else None,
        license="MIT (code); real FACEGOOD data: MIT (FACEGOOD/FACEGOOD-Audio2Face)",
        paper="Karras et al. 2017, Audio-Driven Facial Animation by Joint End-to-End Learning of Pose and Emotion")


def retrain_presets() -> int:
    """Run the recipe of every committed preset (``PRETRAINED``) with ``--publish`` into its folder."""
    missing = []
    for name, argv in PRETRAINED.items():
        if "--data" in argv and not Path(argv[argv.index("--data") + 1]).is_dir():
            missing.append(f"{name}: data {argv[argv.index('--data') + 1]} not found (set ZOO_SHARED_DATA)")
            continue
        main([*argv, "--publish", f"pretrained/audio2face/{name}"])  # relative: from the project root (make)
    for line in missing:
        log.error("not retrained: %s", line)
    return 2 if missing else 0


STAGES = (("prepare", prepare), ("train", run_training), ("evaluate", run_evaluation), ("export", run_export),
          ("preview", run_preview))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo.pipelines.audio2face", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/audio2face", help="run folder (resumable)")
    parser.add_argument("--data", help="a FACEGOOD-layout folder (default: generate the synthetic corpus)")
    parser.add_argument("--names-file", help="label-column name file of --data (FACEGOOD: shirley_1015_bs_name.npy)")
    parser.add_argument("--val-clips", help="comma-separated held-out clips (default: 20%% of the clips)")
    parser.add_argument("--preset", help=f"default {SYNTHETIC_PRESET} (synthetic) / {REAL_PRESET} (--data)")
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument("--budget-minutes", type=float, default=14.0, help="training time budget (default 14)")
    parser.add_argument("--time-shift", type=float, help="±frames time-shift augmentation (paper: 0.5)")
    parser.add_argument("--corpus-preset", default="small", choices=["small", "medium"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--publish", help="also copy the model to this pretrained preset folder")
    parser.add_argument("--pretrained", action="store_true",
                        help=f"retrain every committed preset pretrained/audio2face/{{{','.join(PRETRAINED)}}}")
    args = parser.parse_args(argv)
    if args.pretrained:
        return retrain_presets()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("tensorflow", "absl", "h5py"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    out = Path(args.out)
    request = {k: v for k, v in vars(args).items() if k not in ("out", "quiet", "publish", "pretrained")}
    state = run_stages(out, request, STAGES, args)
    write_report(out, state)
    if args.publish:
        command = "python -m zoo.pipelines.audio2face " + " ".join(argv if argv is not None else sys.argv[1:])
        log.info("published to %s", publish(state, Path(args.publish), command))
    ev = state["evaluate"]
    log.info(f"{out}/report.md: held-out MSE {ev['mse']:.5f} vs mean pose {ev['mse_mean_pose']:.5f} "
          f"(ratio {ev['mse'] / ev['mse_mean_pose']:.3f}); mouth r {ev['mouth_r']:.3f}; "
          f"key channels {ev['key_channels']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
