"""The generated parts of the gesture model's card (``zoo/gesture_ae/README.md``): the presets table (parameter counts
by ``config.count_from_table``), the faithful-vs-changed table (``DEVIATIONS``: one row per item of spec §10 and per
choice of ours) and the results of the committed preset (from its recorded run).

    python -m zoo.gesture_ae.card      # rewrite the blocks
"""
from __future__ import annotations

from pathlib import Path

from zoo.core.cards import files_mb, published_presets

from .config import GOLDEN_PARAMS, PRESETS, count_from_table, dae_count_from_table

CARD = Path(__file__).resolve().parent / "README.md"

#: (original, here, why); rows 1–14 are the items of spec §10 in order
DEVIATIONS: tuple[tuple[str, str, str], ...] = (
    ("§10.1 paths built by string concatenation; the BVH read by line number (311 header lines, 306 values, an exact "
     "float match on the frame time); an unknown frame rate only warns",
     "`zoo.datasets.bvh`: a parser of HIERARCHY and MOTION (any joints, channel orders and frame times); a malformed "
     "file or an unsupported frame rate is one error naming the file and line", "bugs"),
    ("§10.2 24 → 20 fps by dropping every 6th frame (uneven steps); root translation discarded, root at (0, 60, 0)",
     "kept as the default (`to_fps(method=\"drop\")`, `root=\"fixed\"`); `method=\"interpolate\"` (slerp) and "
     "`root=\"keep\"` are options", "fidelity first"),
    ("§10.3 MFCC: nfft 512 < the 882-sample frame (truncated), rectangular window; stereo averaged in int16 "
     "(overflow)",
     "bit-exact with python_speech_features 0.6 (tested against the package, max |Δ| 0); `mfcc_nfft` (GENEA: 1024); "
     "channels averaged in float (`zoo.datasets.load_audio`)", "faithful; overflow fixed"),
    ("§10.4 silence padding c0 = ln(2.22e-16) = −36.04; features not normalised; the baseline regresses raw units",
     "kept: the padding row is computed from an all-zero signal as the original did (`features.silence_vector`); "
     "the output layer's bias starts at the training targets' mean (`output_bias=\"mean\"`; the original's zeros "
     "with `\"zeros\"`), so raw positions ~60 cm from zero need not be learnt at 1e-3 a step",
     "faithful loss; a start that trains"),
    ("§10.5 SpeechE validates on a random 10 % of overlapping windows (leaks); batch 2056 (sic); no seeds; X "
     "built with a quadratic `np.append` into a 2.9 GB float64 matrix",
     "validation by file (`train(val_ids=…)`, or a seeded fraction of files); seeds everywhere; windows cut per "
     "batch from (T, D) float32 features in tf.data (`FrameTable(context=…)`), never materialised; presets keep "
     "batch 2056, the recipe trains with 256", "bugs; the recipe's batch: ~10 min of takes"),
    ("§10.6 DAE: max|Y| of the uncentred data; the noise flag multiplies one scalar std; weight decay 0.5 "
     "(≈ 700 at init) dominates the loss",
     "kept and stated; the statistics (mean, max|Y|, the scalar std) are saved with the model (the original "
     "recomputed them from Y_train on every run)", "faithful; statistics saved"),
    ("§10.7 layer-wise pretraining broken (W1 not transposed, mismatched names, a loss tuple)", "not offered",
     "off by default in the original"),
    ("§10.8 encode/decode in fixed batches of 128/8: frames dropped or tiled (issue #4)",
     "frame by frame: T_out = T_in (`GestureDAE.encode`/`decode`, one graph with SpeechE in the export)", "bug"),
    ("§10.9 test ids ambiguous (even/odd, 1092 vs 1094); test inputs need the BVH",
     "audio-only inference (`Predictor.predict`, `zoo gesture_ae predict --audio`); the split is by file and "
     "declared (`zoo.datasets.gesture.original_split`, the recipe's `split`)", "bug"),
    ("§10.10 derivatives per frame but plots say cm/s; speeds above 1/frame (20 cm/s) discarded; APE over all 64 "
     "nodes",
     "units in every metric's name (AJ cm/s³, AA cm/s², speeds cm/frame); the discard rule kept with the "
     "discarded fraction reported (`clip=True` keeps them); the arm subset (`ARM_NODES`) beside all nodes",
     "stated"),
    ("§10.11 one-euro filter shares one state across all joints; `calculate_pitch` dead code; `create_bvh` needs a "
     "missing `hformat.txt`",
     "one-euro state per channel (`smoothing`); BVH written for every preset: positions through inverse kinematics "
     "on the model's skeleton, rotations directly", "bugs"),
    ("§10.12 Keras 2.3.1 GRU reset_after=False; librosa ≥ 0.10 keyword args and constant STFT padding",
     "`legacy_gru=True` in `baseline`/`proposed` (golden counts 635,264 / 620,101); TF2's form (+768) in "
     "`genea2020` and by flag; the spectrogram pads by reflection as the 2019 librosa did", "faithful counts"),
    ("§10.13 GENEA_2020: `-no_early_stopping` store_false (early stopping off); `pad_sequence` NameError for Spectro",
     "early stopping on in every preset; every feature kind pads with its own silence row", "bugs"),
    ("§10.14 `sox -m` halves the clean speech in the noisy copies (gain augmentation); every frame appears twice",
     "no noise augmentation: the synthetic takes are clean and the recipe trains on each frame once", "not needed "
     "on the corpus; say so"),
    ("the IVA'19 Japanese dataset (Takeuchi et al. 2017), not downloadable",
     "the synthetic corpus's gesture takes in the dataset's own layout (its skeleton, 306 values a frame, 1/24 s; "
     "every 10th take 1/100 s): beats on stressed syllables, amplitude with loudness, rest in pauses, per-speaker "
     "style", "no gesture data ships offline"),
    ("GENEA_2020: 45 exp-maps of 15 Trinity upper-body joints",
     "the `genea2020` preset: exp-maps of the 13 upper-body joints this skeleton has (`motion.ROTATION_JOINTS`)",
     "the skeletons differ"),
    ("SpeechE trained 100 epochs of ~230k windows (~10k steps) at batch 2056, BatchNorm momentum 0.99, on raw "
     "targets",
     "the recipe trains ~1.5 min a run (~200 steps): batch 256, BatchNorm momentum 0.9 and standardised targets "
     "(`standardize_targets`, folded back into the output layer, so the saved network is the original's), chosen "
     "on the validation takes (`pipelines/gesture_ae.py`); the presets keep the original's values",
     "a 15-minute recipe on 2 cores"),
    ("three runs a condition averaged in the plots",
     "the recipe trains both models with seeds 0, 1, 2 on one shared DAE and reports means (± std)",
     "the DAE is the same for every proposed run"),
)


def presets_table() -> str:
    rows = ["| preset | target | features | SpeechE width | GRU | code / DAE | parameters (SpeechE) | DAE |",
            "|---|---|---|---|---|---|---|---|"]
    for name, c in PRESETS.items():
        total, _ = count_from_table(c)
        count = f"**{GOLDEN_PARAMS[name]:,}** (golden)" if name in GOLDEN_PARAMS else f"{total:,}"
        dae = f"{dae_count_from_table(c):,}" if c.target == "code" else "–"
        code = f"{c.output_dim} → {c.code_dim} → {c.output_dim}" if c.target == "code" else "–"
        gru = "Keras 2 (reset_after=False)" if c.legacy_gru else "TF2 (reset_after=True)"
        rows.append(f"| `{name}` | {c.target} ({c.representation}, {c.output_dim}) | {c.features} ({c.num_features}) "
                    f"| {c.hidden} | {gru} | {code} | {count} | {dae} |")
    return "\n".join(rows)


def deviations_table() -> str:
    rows = [f"| {k} | {o} | {h} | {w} |" for k, (o, h, w) in enumerate(DEVIATIONS, 1)]
    return "\n".join(["| # | original | here | why |", "|---|---|---|---|", *rows])


def _f(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def result_rows(ev: dict) -> list[str]:
    """The held-out table of an evaluation (``pipelines/gesture_ae.py`` evaluate stage) beside its declared bar."""
    checks, mean, std, still = ev["bar"]["checks"], ev["mean"], ev["std"], ev["still"]

    def met(key: str) -> str:
        return "yes" if checks[key]["met"] else "**no**"

    rows = ["| measure (test takes, mean ± std over 3 seeds) | baseline | proposed | mean pose | rest pose | bar |",
            "|---|---|---|---|---|---|"]
    for key, label, fmt in (("ape_cm", "APE, all 64 nodes (cm)", 2), ("ape_arms_cm", "APE, arms (cm)", 2),
                            ("hellinger_hands", "Hellinger, hand speed histograms", 3), ("fgd", "FGD", 2)):
        cells = [f"{_f(mean[m][key], fmt)} ± {_f(std[m][key], fmt)}" for m in ("baseline", "proposed")]
        bars = []
        if key == "ape_cm":
            bars = [f"below the mean pose: baseline {met('baseline_ape_below_mean_pose')}, proposed "
                    f"{met('proposed_ape_below_mean_pose')}"]
        if key == "hellinger_hands":
            bars = [f"below both still poses: baseline {met('baseline_hellinger_below_mean_pose')}/"
                    f"{met('baseline_hellinger_below_rest_pose')}, proposed {met('proposed_hellinger_below_mean_pose')}"
                    f"/{met('proposed_hellinger_below_rest_pose')}"]
        rows.append(f"| {label} | {' | '.join(cells)} | {_f(still['mean_pose'][key], fmt)} | "
                    f"{_f(still['rest_pose'][key], fmt)} | {'; '.join(bars)} |")
    for key, label in (("hand_speed_r", "hand speed Pearson r"),
                       ("shuffled_hand_speed_r", "control: another take's audio, hand speed r")):
        cells = [f"{_f(mean[m][key])} ± {_f(std[m][key])}" for m in ("baseline", "proposed")]
        rows.append(f"| {label} | {' | '.join(cells)} | | | {checks[f'baseline_{key}']['bar']}: baseline "
                    f"{met(f'baseline_{key}')}, proposed {met(f'proposed_{key}')} |")
    for key, label in (("aj_cm_per_s3", "AJ, all nodes (cm/s³)"), ("aa_cm_per_s2", "AA, all nodes (cm/s²)")):
        cells = [f"{mean[m][key]:,.0f}" for m in ("baseline", "proposed")]
        rows.append(f"| {label} | {' | '.join(cells)} | 0 | 0 | (reported) |")
    return rows


def comparison_line(ev: dict) -> str:
    """The paper's comparison, proposed vs baseline, as it came out."""
    parts = [f"{k} {v['proposed']:.3f} vs {v['baseline']:.3f} ({v['better']} better)"
             for k, v in ev["comparison"].items()]
    return "Proposed vs baseline (the paper's comparison, means over the seeds): " + "; ".join(parts) + "."


def training_lines(state: dict) -> list[str]:
    """The DAE and the SpeechE runs, from a recorded run's dae and train stages."""
    dae, train = state["dae"], state["train"]
    runs = train["runs"]
    first = next(iter(runs.values()))
    lines = [f"DAE: {dae['epochs_trained']} epochs (best {dae['best_epoch']}, stopped early: {dae['stopped_early']}) "
             f"on {dae['train_frames']:,} training frames.",
             f"SpeechE: {len(runs)} runs of {train['minutes_each']:g} min each on {first['train_frames']:,} windows "
             f"of {len(first['train_ids'])} takes (validation {len(first['val_ids'])} takes, test "
             f"{len(first['test_ids'])} takes), batch {first['batch_size_used']}: "
             + "; ".join(f"{k} {r['epochs_trained']} epochs (best {r['best_epoch']}, validation loss "
                         f"{r['val']['val_loss']:.4g})" for k, r in runs.items()) + "."]
    return lines


def result_lines(state: dict) -> list[str]:
    """The body of report.md: training, the held-out table, export parity and the preview."""
    ev = state["evaluate"]
    lines = [*training_lines(state), "", f"## Held-out test takes (read once): {len(ev['test_ids'])} takes, "
             f"{ev['frames']:,} frames", "", *result_rows(ev), "", comparison_line(ev), "",
             f"Units: {ev['units']}.", "",
             f"Bar (declared before measuring): {'passed' if ev['bar']['passed'] else 'MISSED'}."]
    if "export" in state:
        lines += ["", "## Export", "", *[f"- {p['backend']} `{p['signature']}`: max |Δ| {p['max_abs_diff']:.2g} cm"
                                         for p in state["export"]["parity"]]]
    if "preview" in state:
        p = state["preview"]
        lines += ["", "## Preview", "", f"- `{p['video']}` (take {p['take']}, {p['seconds']} s, prediction left, "
                  f"ground truth right, with the audio); the predicted BVH: `{p['bvh']}`"]
    return lines


def preset_card(meta: dict, folder: Path, run: dict, name: str) -> str:
    """README.md of the published preset ``name``, from its sealed metadata and recorded run."""
    size = files_mb(folder, meta["sha256"])
    m = meta["metrics"]
    lines = [f"# gesture_ae / {name}", "",
             f"Preset `{meta['preset']}` ({meta['params']:,} SpeechE parameters + the DAE; {meta['fps']:g} fps, "
             f"{meta['sample_rate']} Hz audio), seed 0 of the recipe's runs, trained on {meta['data']}. "
             f"{size:.1f} MB.", "", *training_lines(run), "", *result_rows(m), "", comparison_line(m), "",
             f"Bar (declared before measuring): {'passed' if m['bar']['passed'] else 'missed'}.", "",
             f"Load: `zoo.load(\"gesture_ae/{name}\")` (a `Predictor`), or `zoo gesture_ae predict --model <this "
             "folder> --audio a.wav --out motion.bvh`. The recorded run is `run.json`; the model card is "
             "`zoo/gesture_ae/README.md`."]
    return "\n".join(lines) + "\n"


def results_synthetic(folder: Path) -> str:
    """The model card's results block: the committed synthetic preset's recorded evaluation."""
    import json

    if not (folder / "metadata.json").is_file():
        return "No preset is committed yet: `make pretrained-gesture_ae` trains and publishes it."
    meta, run = (json.loads((folder / n).read_text()) for n in ("metadata.json", "run.json"))
    m = meta["metrics"]
    return "\n".join([f"Trained on {meta['data']} (`{run['command']}`).", "", *training_lines(run), "",
                      *result_rows(m), "", comparison_line(m), "",
                      f"Bar (declared before measuring): {'passed' if m['bar']['passed'] else 'missed'}."])


def pretrained_rows(root: Path) -> str:
    """The rows of pretrained/README.md for the committed gesture presets."""
    rows = []
    for folder, meta, size in published_presets(root):
        m = meta["metrics"]["mean"]["proposed"]
        rows.append(f"| `gesture_ae/{folder.name}` | {meta['data']}; preset `{meta['preset']}`, "
                    f"{meta['epochs_trained']} epochs (best {meta['best_epoch']}), {meta['training_minutes']} min | "
                    f"test takes: APE {m['ape_cm']:.2f} cm, hand speed r {m['hand_speed_r']:.3f} (shuffled "
                    f"{m['shuffled_hand_speed_r']:.3f}), mean of 3 seeds | {size:.1f} MB |")
    return "\n".join(rows)


def blocks() -> dict[tuple[Path, str], str]:
    """Every generated block: (file, marker) → text."""
    import zoo

    root = Path(zoo.PRETRAINED) / "gesture_ae"
    return {(CARD, "card:presets"): presets_table(), (CARD, "card:deviations"): deviations_table(),
            (CARD, "card:results-synthetic"): results_synthetic(root / "synthetic"),
            (Path(zoo.PRETRAINED) / "README.md", "card:gesture_ae"): pretrained_rows(root)}


def write_card() -> list[Path]:
    """Rewrite every generated block; returns the files written."""
    from zoo.core.cards import write_blocks

    return write_blocks(blocks())


if __name__ == "__main__":
    write_card()
