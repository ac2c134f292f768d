"""Reproduce EveNet end to end: prepare → train → evaluate → export → preview → report.

    python -m zoo.pipelines.evenet --out runs/evenet                    # synthetic corpus (make reproduce-evenet)
    python -m zoo.pipelines.evenet --out runs/evenet-mine --data my_takes/ --val-clips a,b --test-clips c

Splits are by whole take: training, validation (after every epoch; the epoch of lowest validation RMSE is
kept) and test (read once, by the evaluate stage). On the synthetic corpus the split is declared here
(``synthetic_split``): the speaker ``TEST_SPEAKER`` is test only, and of the other speakers' takes
``HELD_OUT`` are drawn with the seed for validation. Stages write into ``--out`` and are resumable (the corpus
is reused when its manifest matches, training resumes from its last checkpoint, a finished stage is kept).

The evaluate stage measures, on the test takes and declared before any result (``BAR``, channel set
``zoo.evenet.metrics.MOUTH_KEYS``): teacher-forced next-frame RMSE against the repeat-last-frame and mean-pose
baselines; free-running generation from each take's own phoneme/emotion timeline (jaw and mouth keys: Pearson
r and MSE against the mean pose); and the control, generation from the take's phoneme runs shuffled in order
(same labels and durations, another order; seed ``zoo.evenet.metrics.SHUFFLE_SEED``), which must not follow
the take.
"""
from __future__ import annotations

import json
import logging
import platform
import sys
from pathlib import Path

import numpy as np

from zoo.pipelines import stages
from zoo.pipelines.stages import prepare_data, recorded_run

log = logging.getLogger("zoo.pipelines.evenet")

PRESET = "master"
EPOCHS = 400
BUDGET_MINUTES = 11.0
TEST_SPEAKER, HELD_OUT = "female_high", 0.15
# the corpus seed: seed 0's test takes were read once, by the first published model (stop 20); the choices made
# since (input noise, residual output) were made on validation takes, and the test takes of seed 1 are unread
CORPUS_SEED = 1
# declared before measuring (issue 13, item 9): on the test takes, teacher-forced RMSE below both baselines;
# free running, the mouth keys' r ≥ 0.5 and MSE ≤ 0.6 × the mean pose's; the shuffled timeline's r ≤ 0.1.
# Declared before the seed-1 run: the same r bars within each take (``metrics.within_take_r``), which between-take
# mean poses cannot reach (the pooled control keeps them: ``metrics.between_take_share``)
BAR = {"mouth_r": 0.5, "mouth_mse_ratio": 0.6, "shuffled_mouth_r": 0.1, "mouth_r_within": 0.5,
       "shuffled_mouth_r_within": 0.1}
PREVIEW_SECONDS = 8.0
# options of ``PRESET`` for this recipe, chosen on validation takes of the seed-0 corpus (5-minute runs, the lowest
# free-running jaw/mouth MSE ratio; candidates: input noise σ 0, 0.02, 0.05, 0.1, 0.2, 0.3, and the residual output
# with σ 0, 0.05, 0.1, 0.2 (σ 0.2 also with the clean frame as its base); the test takes were never read)
RECIPE_OPTIONS = {"input_noise": 0.3}


def synthetic_split(takes, seed: int) -> tuple[list[str], list[str]]:
    """(validation takes, test takes) of the synthetic corpus: ``TEST_SPEAKER`` is test only; ``HELD_OUT`` of the
    other takes, drawn with ``seed``, validate."""
    seen = sorted(t for t in takes if f"_{TEST_SPEAKER}_" not in t)
    order = np.random.default_rng(seed).permutation(len(seen))
    val = sorted(seen[k] for k in order[: int(round(HELD_OUT * len(seen)))])
    return val, sorted(t for t in takes if f"_{TEST_SPEAKER}_" in t)


def prepare(args, out: Path, *_) -> dict:
    """The EveNet folder to train on: the given one, or the synthetic corpus's ``evenet/``."""
    return prepare_data(args, out, "evenet", "EveNet", "reproduce-evenet")


def _names(text: str | None) -> list[str]:
    return [n for n in (text or "").split(",") if n]


def run_training(args, out: Path, prepared: dict, *_) -> dict:
    from zoo.evenet import preset, train

    data = Path(prepared["data"])
    val, test = _names(args.val_clips), _names(args.test_clips)
    if prepared["synthetic"] and not val:
        val, test = synthetic_split([p.stem for p in data.glob("*.dat")], args.seed)
    config = preset(args.preset, epochs=args.epochs or EPOCHS, seed=123 if args.seed is None else 123 + args.seed,
                    **(RECIPE_OPTIONS if args.preset == PRESET else {}))
    summary = train(config, data, out / "train", val_takes=val, test_takes=test, max_minutes=args.budget_minutes,
                    progress=not args.quiet)
    history = summary["history"]
    return {"preset": args.preset, "config": config.to_dict(), "model_dir": str(out / "train" / "model"),
            "minutes": round(sum(h["seconds"] + h.get("val_seconds", 0.0) for h in history) / 60, 2),
            "val": summary["val"],
            **{k: summary[k] for k in ("epochs_trained", "epochs_planned", "best_epoch", "stopped_by_budget",
                                       "train_takes", "val_takes", "test_takes", "train_frames", "params")}}


def run_evaluation(args, out: Path, prepared: dict, trained: dict, *_) -> dict:
    """The only reading of the test takes (or the validation takes when there are none): teacher forced, free
    running and the shuffled-timeline control (``zoo.evenet.evaluate``), with the declared bar."""
    from zoo.evenet import evaluate

    names = trained["test_takes"] or trained["val_takes"]
    ev, generated = evaluate(trained["model_dir"], prepared["data"], takes=names)
    for name, anim in generated.items():
        anim.write(out / "predictions" / f"{name}.csv")
    tf_, s, control = ev["teacher_forced"], ev["free_running"], ev["shuffled"]
    figures = {"mouth_r": (s["mouth_r"], ">=", BAR["mouth_r"]),
               "mouth_mse_ratio": (s["mouth_mse"] / s["mouth_mse_mean_pose"], "<=", BAR["mouth_mse_ratio"]),
               "shuffled_mouth_r": (control["mouth_r"], "<=", BAR["shuffled_mouth_r"]),
               "mouth_r_within": (s["mouth_r_within"], ">=", BAR["mouth_r_within"]),
               "shuffled_mouth_r_within": (control["mouth_r_within"], "<=", BAR["shuffled_mouth_r_within"]),
               "teacher_forced_rmse_vs_repeat_last": (tf_["rmse"] / tf_["rmse_repeat_last"], "<", 1.0),
               "teacher_forced_rmse_vs_mean_pose": (tf_["rmse"] / tf_["rmse_mean_pose"], "<", 1.0)}
    checks = {k: {"value": round(float(v), 4), "bar": f"{op} {bar}",
                  "met": bool(v >= bar if op == ">=" else v <= bar if op == "<=" else v < bar)}
              for k, (v, op, bar) in figures.items()}
    return {"split": "test" if trained["test_takes"] else "validation", **ev,
            "bar": {"checks": checks, "passed": all(c["met"] for c in checks.values())}}


def run_export(args, out: Path, prepared: dict, trained: dict, *_) -> dict:
    from zoo.evenet import export_model

    result = export_model(trained["model_dir"], out / "export", overwrite=True)
    return {"saved_model": str(result.saved_model), "tflite": str(result.tflite),
            "tflite_kb": round(result.tflite.stat().st_size / 1024, 1),
            "parity": [{"backend": c.backend, "signature": c.signature, "max_abs_diff": c.max_abs_diff}
                       for c in result.checks]}


def run_preview(args, out: Path, prepared: dict, trained: dict, evaluated: dict, *_) -> dict:
    """A held-out take generated from its timeline beside the take itself, on the synthetic face, with its audio;
    and the curves of the jaw and mouth keys."""
    from zoo.core.animation import Animation
    from zoo.datasets import ARKIT_52, load_audio
    from zoo.evenet.train import read_takes
    from zoo.render import plot_curves, render_face_video

    take_name = evaluated["takes"][0]
    anim = Animation.read(out / "predictions" / f"{take_name}.csv", fps=48.0)
    take = next(t for t in read_takes(prepared["data"])[0] if t.clip.name == take_name)
    reference = take.clip.with_channels(anim.names).targets
    frames = min(len(anim.values), int(PREVIEW_SECONDS * anim.fps))
    keys = [n for n in evaluated["mouth_keys"][:4]]
    idx = [anim.names.index(k) for k in keys]
    png = plot_curves(anim.values[:frames, idx], keys, anim.fps, out / "preview" / "curves.png",
                      reference=reference[:frames, idx], title=f"{take_name}: generated from its phonemes vs the take")
    result = {"take": take_name, "seconds": round(frames / anim.fps, 2), "curves_png": str(png)}
    wav = Path(prepared["data"]) / f"{take_name}.wav"
    if set(anim.names) >= set(ARKIT_52) and wav.is_file():
        import soundfile as sf

        audio, rate = load_audio(wav)
        excerpt = out / "preview" / "excerpt.wav"
        sf.write(excerpt, audio[: int(frames / anim.fps * rate)], rate, subtype="PCM_16")
        order = [anim.names.index(n) for n in ARKIT_52]
        result["video"] = str(render_face_video(anim.values[:frames, order], anim.fps, out / "preview" / "face.mp4",
                                                audio_path=excerpt, reference=reference[:frames, order]))
    return result


def write_report(out: Path, state: dict) -> None:
    """report.json (the whole state) and report.md (the figures beside the declared bar)."""
    from zoo.datasets import atomic_write_bytes
    from zoo.evenet.card import result_rows

    ev, tr, preview = state["evaluate"], state["train"], state["preview"]
    report = {"machine": {"python": platform.python_version(), "platform": platform.platform()}, **state}
    atomic_write_bytes(out / "report.json", json.dumps(report, indent=1).encode())
    budget = "training stopped by the time budget after " if tr["stopped_by_budget"] else "training ran all "
    lines = [
        f"# EveNet reproduction: {state['prepare']['source']}", "",
        f"{budget}{tr['epochs_trained']} of {tr['epochs_planned']} epochs ({tr['minutes']} min; best epoch "
        f"{tr['best_epoch']}); preset `{tr['preset']}`, {tr['params']:,} parameters, {tr['train_frames']:,} training "
        f"frames in {len(tr['train_takes'])} takes; {len(tr['val_takes'])} validation takes.", "",
        f"## Held-out {ev['split']} takes ({len(ev['takes'])}, {ev['frames']:,} frames)", "",
        *result_rows(ev), "",
        f"Bar (declared before measuring) {'passed' if ev['bar']['passed'] else 'MISSED'}. Jaw/mouth keys "
        f"(`zoo.evenet.metrics.MOUTH_KEYS`): {', '.join(f'{k} {v:.2f}' for k, v in ev['mouth_key_r'].items())}.", "",
        "## Export", "",
        *[f"- {p['backend']} `{p['signature']}`: max |Δ| {p['max_abs_diff']:.2g}" for p in state["export"]["parity"]],
        "", "## Preview", "",
        f"Take `{preview['take']}` ({preview['seconds']} s): curves `{preview['curves_png']}`"
        + (f", face video (generated left, the take right, its audio) `{preview['video']}`."
           if "video" in preview else "."), "",
        "Stage seconds: " + ", ".join(f"{k} {v['stage_seconds']}" for k, v in state.items()
                                      if isinstance(v, dict) and "stage_seconds" in v) + ".",
    ]
    atomic_write_bytes(out / "report.md", ("\n".join(lines) + "\n").encode())


# the committed preset (``--pretrained``, ``make pretrained-evenet``): folder → the recipe's arguments
PRETRAINED = {"synthetic": ["--out", "runs/pretrained-evenet-synthetic", "--quiet"]}


def publish(state: dict, dest: Path, command: str) -> Path:
    """The trained model as a pretrained preset folder (``zoo.core.modeldir.publish``): metadata.json with the final
    evaluation as ``metrics``, run.json (the recorded run) and README.md (``zoo.evenet.card.preset_card``)."""
    from zoo.core.modeldir import publish as publish_dir
    from zoo.evenet.card import preset_card

    tr = state["train"]
    run = recorded_run(state, command)
    metrics = {k: v for k, v in state["evaluate"].items() if k != "stage_seconds"}
    return publish_dir(
        tr["model_dir"], dest, data=state["prepare"]["source"], command=command, metrics=metrics,
        card=lambda meta, folder: preset_card(meta, folder, run, dest.name), run=run,
        data_path=state["prepare"]["data"], training_minutes=tr["minutes"],
        corpus_seed=state["request"]["seed"] if state["prepare"]["synthetic"] else None,
        license="MIT (code); synthetic corpus: generated by this project",
        paper="hansonrobotics/EveNet (2017-2018), after van den Oord et al. 2016, WaveNet")


def republish(folder: Path, dest: Path) -> Path:
    """Publish a committed preset again from its recorded run (``stages.republish``)."""
    return stages.republish(folder, dest, publish)


def retrain_presets() -> int:
    """Run the recipe of every committed preset (``PRETRAINED``) with ``--publish`` into its folder."""
    from zoo.evenet.card import write_card

    return stages.retrain_presets("evenet", PRETRAINED, main, write_card)


STAGES = (("prepare", prepare), ("train", run_training), ("evaluate", run_evaluation), ("export", run_export),
          ("preview", run_preview))


def main(argv=None) -> int:
    parser = stages.recipe_parser("evenet", __doc__, data_help="an EveNet folder", preset=PRESET, seed=CORPUS_SEED,
                                  seed_help="corpus seed; the training seed is 123 + this", clips_help="takes",
                                  budget_minutes=BUDGET_MINUTES, pretrained=PRETRAINED)
    args = parser.parse_args(argv)
    if args.pretrained:
        return retrain_presets()
    out = Path(args.out)
    state = stages.run_recipe("evenet", args, argv, STAGES, write_report=write_report, publish=publish)
    ev = state["evaluate"]
    log.info(f"{out}/report.md: teacher-forced RMSE {ev['teacher_forced']['rmse']:.4f} (repeat-last "
             f"{ev['teacher_forced']['rmse_repeat_last']:.4f}); free-running mouth r "
             f"{ev['free_running']['mouth_r']:.3f} (shuffled {ev['shuffled']['mouth_r']:.3f}); bar "
             f"{'passed' if ev['bar']['passed'] else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
