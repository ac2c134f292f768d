"""The generated parts of the model card (``zoo/audio2face/README.md``), written from recorded runs.

Blocks (``zoo.core.cards``): ``card:deviations`` (the faithful-vs-changed table, ``DEVIATIONS``),
``card:results-real`` and ``card:results-synthetic`` (from each committed preset's ``metadata.json``
and ``run.json``, as ``make pretrained-audio2face`` published them), and the ``card:audio2face``
blocks of the project README and ``pretrained/README.md``. ``python -m zoo.audio2face.card`` rewrites
them; the recipe does so after publishing, and a test fails when a block differs from what this
module writes.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from zoo.core.cards import epochs_done, files_mb

CARD = Path(__file__).with_name("README.md")

# (original, here, why): every item of the spec's "broken or ambiguous" list (§9) and each choice of ours
DEVIATIONS: tuple[tuple[str, str, str], ...] = (
    ("TF2: emotion is a frozen random tensor (R ≡ 0); tfv1: a conv of the LPC input; neither is the paper's",
     "`paper` preset: trainable per-frame database (one vector per training frame, σ = 0.01 init), concatenated "
     "after every articulation ReLU; at inference a given vector, a database entry, the database mean (default) or "
     "keyframes interpolated over time. `facegood_tf2`/`facegood_tfv1` reproduce both FACEGOOD branches (the TF2 "
     "constant is regenerated from its seed with NumPy, so its values differ from TF's RNG)",
     "the paper's method, with the originals kept as presets"),
    ("motion and emotion terms on random pairs (shuffled batches split in halves)",
     "batches of true (t, t+1) pairs of one clip from the shared pair batcher (`zoo.datasets.pair_dataset`)",
     "the motion term is meaningless on random pairs"),
    ("validation = last 1000 frames of the training concatenation (a leak); no test set",
     "whole clips in train / validation / test (`--val-clips`, `--test-clips`). FACEGOOD: 2_01–2_03 train, 2_04 "
     "validation (the recording just before the test clip), 2_05 test; the chosen settings are then retrained on "
     "2_01–2_04. Synthetic corpus: by utterance (every "
     "utterance is its own sentence) and by speaker (`female_high` is test only). Epochs, early stopping and the "
     "search are chosen on validation; the test clips are read once, by the final evaluation",
     "honest figures: what a user sees on clips the model never saw"),
    ("LPC.dll only",
     "`lpc_facegood` (bit-exact to the C routine, asserted against the golden file) and `autocorr_paper` (DC "
     "removal, Hann, 32 lags / 256); TF ops for the SavedModel (float64) and TFLite (double-float pairs of float32, "
     "within `features_tf.TF_LPC_TOLERANCE` of float64, asserted in `tests/audio2face/test_features_tf.py`)",
     "no platform binary; the paper's feature as an option"),
    ("`rate_kHz = int(rate/1000)` breaks at 44.1/22.05 kHz",
     "any rate and channel count, averaged and resampled to 16 kHz (soxr) first", "correctness"),
    ("label rows never checked against floor(T·30)",
     "checked on read; a mismatch is an error naming the file and both counts", "silent misalignment otherwise"),
    ("37-of-116 shapes by hard-coded index in two different orders",
     "channels by name, saved with the model; `paper` derives them from the data (every channel with max > min, "
     "`rig.varying_channels`); the facegood presets keep the 37 names", "new data has other varying shapes"),
    ("every other all-zero frame dropped by a path-character heuristic",
     "`drop_half_silent_frames` option, off by default", "explicit"),
    ("no loss normalisation; tfv1 and TF2 differ in R",
     "weights and normalisation configurable; `paper` uses eqs. 5–6, facegood presets their raw sums and their own R",
     "faithful to each source"),
    ("no clamp; raw values sent to Unreal",
     "linear training outputs; `clip=True` / `--clip` at runtime; the UDP sender clips by default",
     "rigs expect [0, 1]"),
    ("`save_spec` batch fixed at 32, tuple output, ambiguous TFLite index",
     "explicit signatures: `serving_default` (None, 32, 64, 1) → `blendshapes` (None, N); raw `audio`; "
     "`stream_step`", "servable"),
    ("`Thread.terminate`, NUL-length parsing, batch-1 inference",
     "a stop event; control length accepted with or without the NUL; batched inference", "bugs"),
    ("`lpc_` prefix, dataSet names, 1015 vs 1119 lists",
     "one reader (`zoo.datasets.read_facegood`), names by name; the UDP order from a name file", "drift"),
    ("pretrained weights missing",
     "`pretrained/audio2face/facegood_real` and `pretrained/audio2face/synthetic`, each published with the run "
     "that made it (`run.json`)", "see Results"),
    ("(paper) the input is autocorrelation of volume-normalised audio",
     "autocorrelation, each of the 32 lag rows standardised with the training set's mean and deviation (a fixed, "
     "saved layer)", "per-clip volume normalisation cannot stream"),
    ("(paper) augmentation: time shift, noise, pitch",
     "`time_shift_frames`, `gain_db`, `noise_snr_db`, `pitch_semitones` on the audio windows (features computed in "
     "TF per batch) and `feature_noise`; off in the presets' defaults, one candidate of the real-data search",
     "available, and chosen only on validation"),
    ("(paper) β1 → 0.5 over the ramp-down",
     "the learning-rate ramps are implemented; β1 stays constant (Keras 3's Adam takes a constant β1)",
     "API limit"),
    ("fixed epoch counts", "`patience`: early stopping on validation MSE, the best epoch's weights kept "
     "(`zoo.core.trainer`)", "the real clips overfit within a few epochs"),
)


def deviations_table() -> str:
    rows = [f"| {k} | {o} | {h} | {w} |" for k, (o, h, w) in enumerate(DEVIATIONS, 1)]
    return "\n".join(["| # | original | here | why |", "|---|---|---|---|", *rows])


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b else "—"


def _read(folder: Path) -> tuple[dict, dict]:
    return (json.loads((folder / "metadata.json").read_text()), json.loads((folder / "run.json").read_text()))


def _clips(names: list[str], limit: int = 4) -> str:
    return ", ".join(names[:limit]) + (f" … ({len(names)} clips)" if len(names) > limit else "")


def metric_rows(m: dict) -> list[str]:
    return [
        f"| MSE, all {len(m['names'])} channels | {m['mse']:.5f} | {m['mse_mean_pose']:.5f} | "
        f"{_ratio(m['mse'], m['mse_mean_pose'])} |",
        f"| MSE, {len(m['mouth_channels'])} mouth/jaw channels | {m['mouth_mse']:.5f} | {m['mouth_mse_mean_pose']:.5f} "
        f"| {_ratio(m['mouth_mse'], m['mouth_mse_mean_pose'])} |",
        f"| MSE, {len(m['articulation_channels'])} articulation channels | {m['articulation_mse']:.5f} | "
        f"{m['articulation_mse_mean_pose']:.5f} | {_ratio(m['articulation_mse'], m['articulation_mse_mean_pose'])} |",
        f"| motion MSE (frame-to-frame change) | {m['motion_mse']:.6f} | {m['motion_mse_mean_pose']:.6f} | "
        f"{_ratio(m['motion_mse'], m['motion_mse_mean_pose'])} |",
        f"| mean r, the {_varying(m)} channels that vary | {m['mean_r']:.3f} | 0 | |",
        f"| mean r, mouth/jaw channels | {m['mouth_r']:.3f} | 0 | |",
        f"| mean r, articulation channels | {m['articulation_r']:.3f} | 0 | |",
    ]


def _varying(m: dict) -> int:
    return sum(1 for r in m["per_channel_r"].values() if r is not None and r == r)


def key_channels_line(metrics: dict) -> str:
    """"Key channels (r): name r, …." of a run's metrics."""
    return "Key channels (r): " + ", ".join(f"{k} {v:.3f}" for k, v in metrics["key_channels"].items()) + "."


def bar_line(bar: dict) -> str:
    checks = "; ".join(f"{k} {c['value']} ({c['bar']}: {'met' if c['met'] else '**not met**'})"
                       for k, c in bar["checks"].items())
    return f"{'All met' if bar['passed'] else '**Not all met**'}: {checks}."


def training_line(meta: dict, run: dict) -> str:
    tr = run["train"]
    best = f", weights of epoch {tr['best_epoch']} (lowest validation MSE)" if tr.get("best_epoch") else ""
    if tr.get("final"):
        best = " on training + validation clips (the chosen candidate's best epoch count on validation)"
    return (f"{epochs_done(tr['epochs_trained'], tr['epochs_planned'], tr['stopped_by_budget'])}{best}, "
            f"{tr['minutes']} min on this machine's 2 CPU cores. Command: `{run['command']}`.")


def tflite_line(meta: dict, folder: Path) -> str:
    """The preset's TFLite file and its parity against Keras, from ``metadata["tflite"]`` (what ``publish`` measured
    on the shipped parity sentence); a note where the preset has none."""
    report = meta.get("tflite")
    if not report:
        return "No TFLite file: `--engine litert` needs one (`publish` writes `model.tflite`)."
    size = (Path(folder) / report["file"]).stat().st_size / 2**20
    return (f"TFLite: `{report['file']}` (float32, {size:.1f} MB) runs the network in the LiteRT interpreter without "
            f"importing TensorFlow (`zoo audio2face predict --engine litert`, the default where the file exists); "
            f"against Keras on the shipped parity sentence ({report['examples']} frames) its outputs differ by max "
            f"|Δ| {report['max_abs_diff']:.1e}, mean {report['mean_abs_diff']:.1e} (tolerance "
            f"{report['tolerance']:g}).")


def results_real(folder: Path) -> str:
    meta, run = _read(folder)
    m, tr = meta["metrics"], run["train"]
    lines = [
        f"Preset `{meta['preset']}` ({meta['params']:,} parameters, {len(meta['output_names'])} FACEGOOD shapes), "
        f"trained on {_clips(meta['train_clips'])} ({meta['train_frames']:,} frames), chosen on the validation clip "
        f"{_clips(meta['val_clips'])}; the test clip {_clips(meta['test_clips'])} ({m['frames']:,} frames) is read "
        f"once, by the final evaluation. {training_line(meta, run)}", ""]
    if tr.get("search"):
        lines += ["The search (`--search`; candidates declared in `pipelines/audio2face.py`, `CANDIDATES`), each on "
                  "validation at its best epoch; the candidate of lowest validation MSE is chosen"
                  + (", then retrained on training + validation clips for its best epoch count (declared in the "
                     "recipe):" if tr.get("final") else " and is the model (the split's model):"), "",
                  "| candidate | changes | parameters | epochs run | best epoch | val MSE / mean pose | val mean r | "
                  "val mouth r | val articulation r | training minutes |", "|---|---|---|---|---|---|---|---|---|---|"]
        for c in tr["search"]:
            v = c["val"]
            changes = ", ".join(f"{k}={v2}" for k, v2 in c["changes"].items()) or "—"
            chosen = "**" if c["candidate"] == tr["candidate"] else ""
            lines.append(f"| {chosen}{c['candidate']}{chosen} | {changes} | {c['params']:,} | {c['epochs_trained']} | "
                         f"{c['best_epoch']} | {v['val_mse_ratio']:.3f} | {v['val_mean_r']:.3f} | "
                         f"{v['val_mouth_r']:.3f} | {v['val_articulation_r']:.3f} | {c['minutes']} |")
        lines.append("")
    lines += [f"| test: {', '.join(m['clips'])} | model | mean pose of the training clips | ratio |",
              "|---|---|---|---|",
              *metric_rows(m),
              f"| r, mouth_stretch_c (FACEGOOD's jawOpen) | {m['per_channel_r']['mouth_stretch_c']:.3f} | 0 | |", "",
              f"Goals of the issue (declared as `REAL_GOALS`): {bar_line(m['bar'])}", "",
              key_channels_line(m), "",
              tflite_line(meta, folder)]
    return "\n".join(lines)


def results_synthetic(folder: Path) -> str:
    meta, run = _read(folder)
    m = meta["metrics"]
    lines = [
        f"Preset `{meta['preset']}` ({meta['params']:,} parameters, {len(meta['output_names'])} ARKit channels), "
        f"trained on {meta['data']}: {len(meta['train_clips'])} utterances ({meta['train_frames']:,} frames) of the "
        f"speakers other than `{m['test_speaker']}`; validation: {len(meta['val_clips'])} other utterances of those "
        f"speakers; test, read once: {len(meta['test_clips'])} utterances (ids sha256 `{m['clips_sha256'][:12]}…`). "
        f"{training_line(meta, run)}", "",
        "| test, all clips pooled | model | mean pose | ratio |", "|---|---|---|---|", *metric_rows(m), "",
        "| test part | clips | MSE / mean pose | articulation MSE / mean pose | articulation r | mouth r |",
        "|---|---|---|---|---|---|"]
    for part, p in m["parts"].items():
        lines.append(f"| {part} | {p['clips']} | {p['mse_ratio']:.3f} | "
                     f"{_ratio(p['articulation_mse'], p['articulation_mse_mean_pose'])} | {p['articulation_r']:.3f} | "
                     f"{p['mouth_r']:.3f} |")
    lines += ["", f"Learning bar (declared as `SYNTHETIC_BAR`, on the pooled test clips): {bar_line(m['bar'])}", "",
              key_channels_line(m), "",
              tflite_line(meta, folder)]
    return "\n".join(lines)


def headline(root: Path) -> str:
    """The project README's audio2face table: each committed preset's test figures."""
    real, _ = _read(root / "facegood_real")
    synthetic, _ = _read(root / "synthetic")
    r, y = real["metrics"], synthetic["metrics"]
    return "\n".join([
        "| test split (never trained or chosen on) | model vs mean pose of the training clips |", "|---|---|",
        f"| real FACEGOOD clip {', '.join(r['clips'])} (`pretrained/audio2face/facegood_real`) | MSE "
        f"{r['mse_ratio']:.3f} × "
        f"mean pose; mean r {r['mean_r']:.3f} over the {_varying(r)} varying channels; jawOpen (mouth_stretch_c) r "
        f"{r['per_channel_r']['mouth_stretch_c']:.3f} |",
        f"| synthetic corpus, {len(y['clips'])} utterances of seen and unseen speakers "
        "(`pretrained/audio2face/synthetic`, "
        f"`make reproduce-audio2face`) | {len(y['articulation_channels'])} articulation channels: MSE "
        f"{_ratio(y['articulation_mse'], y['articulation_mse_mean_pose'])} × mean pose, mean r "
        f"{y['articulation_r']:.3f}"
        f"; jawOpen r {y['per_channel_r']['jawOpen']:.3f} |"])


def pretrained_rows(root: Path) -> str:
    """``pretrained/README.md``'s audio2face rows."""
    rows = []
    for name in ("facegood_real", "synthetic"):
        meta, run = _read(root / name)
        m = meta["metrics"]
        size = files_mb(root / name, meta["sha256"])
        rows.append(f"| `audio2face/{name}` | {meta['data']}; preset `{meta['preset']}`, {meta['epochs_trained']} "
                    f"epochs (best {run['train'].get('best_epoch') or meta['epochs_trained']}), "
                    f"{run['train']['minutes']} min | "
                    f"test ({len(m['clips'])} clip{'s' if len(m['clips']) > 1 else ''}): MSE {m['mse_ratio']:.3f} × "
                    "mean pose, articulation r "
                    f"{m['articulation_r']:.3f} | {size:.1f} MB |")
    return "\n".join(rows)


def blocks(pretrained: str | os.PathLike | None = None) -> dict[tuple[Path, str], str]:
    """Every generated block: (file, marker) → text."""
    import zoo

    root = Path(pretrained or zoo.PRETRAINED) / "audio2face"
    project = Path(zoo.PRETRAINED).parent
    return {(CARD, "card:deviations"): deviations_table(),
            (CARD, "card:results-real"): results_real(root / "facegood_real"),
            (CARD, "card:results-synthetic"): results_synthetic(root / "synthetic"),
            (project / "README.md", "card:audio2face"): headline(root),
            (Path(zoo.PRETRAINED) / "README.md", "card:audio2face"): pretrained_rows(root)}


def write_card() -> list[Path]:
    """Rewrite every generated block; returns the files written."""
    from zoo.core.cards import write_blocks

    return write_blocks(blocks())


if __name__ == "__main__":
    import sys

    sys.stdout.write("".join(f"{path}\n" for path in write_card()))
