"""The generated parts of EveNet's model card (``zoo/evenet/README.md``): the presets table (receptive fields and
parameter counts computed by ``config``) and the faithful-vs-changed table (``DEVIATIONS``, one row per item of
spec §8 and per choice of ours).

    python -m zoo.evenet.card      # rewrite the blocks
"""
from __future__ import annotations

from pathlib import Path

from zoo.core.cards import epochs_done, files_mb, published_presets

from .config import GOLDEN_PARAMS, PRESETS, count_from_table, golden_config

CARD = Path(__file__).resolve().parent / "README.md"

#: (original, here, why); rows 1–9 are the items of spec §8 in order
DEVIATIONS: tuple[tuple[str, str, str], ...] = (
    ("§8.1 no audio anywhere; frame rate (48 or 120 fps), shape-key names, order and count (21/57/75/77) and the "
     "phoneme aligner undocumented",
     "48 fps (the original's interactive demo); the key names travel with the data (`reader_config.json` "
     "`data_names`) and the model (`output_names`); the phoneme timeline comes from espeak-ng for text "
     "(`timeline.text_timeline`) or from aligning a transcript to a recording (`timeline.align_transcript`: DTW of "
     "mel cepstra against espeak-ng's reading)", "new design where the original had none"),
    ("§8.2 master's convolutions pad left then TF \"SAME\" (lags ⌊(fw−1)/2⌋·d…) and the loss has no shift: the "
     "output at t is trained on x[t] (an identity leak at fw 2, a 6-frame gap at fw 8, a real context of 5,111 "
     "frames against RF 3,578); generation appends that output as frame t + 1",
     "causal convolutions (Keras `padding=\"causal\"`) predicting x[t + 1] from x[≤ t] with frame t + 1's labels; "
     "`legacy_same_padding=True` (`train --legacy-same-padding`) reproduces master's padding, loss and one-frame-"
     "late labels in generation", "the spec's recommendation; the leak makes a model that cannot generate"),
    ("§8.3 GC/LC reshapes work for batch 1 only; master's \"global\" emotion is per frame; `lc_channels / 1` is a "
     "float on Python 3; generate.py imports Python 2's `thread`",
     "any batch size; emotion and phoneme are both per-frame ids (one-hot, −1 = none) as master meant; the live "
     "controller runs on `threading`/`socketserver` (`zoo.evenet.live`)", "bugs"),
    ("§8.4 the reader's three unsynchronised queues (frames and labels can drift apart), nearest-neighbour "
     "stretching of file tails, non-overlapping blocks",
     "one set of aligned arrays per take, chunks of `sample_size` targets with the RF − 1 frames before them "
     "(ibab's overlap), short takes are short chunks, batches padded at the end with a loss mask",
     "alignment by construction; no duplicated frames"),
    ("§8.5 the 11-class encoding indexes class 11 at x = 1.0, invalid classes outside [0, 1], and puts the upper "
     "mass on f + 2 when the fraction is within 1e-6 of 1; cross entropy computed and unused",
     "x clamped to [0, 1] and the two-hot label built with explicit clamping (`features.encode`, round trip exact "
     "on [0, 1]); `loss` = `rmse` (the original's, default), `ce` or `ce_rmse`", "bugs; CE as the option asked"),
    ("§8.6 B/C: pandas drops the first row of every .dat and seed; the emotion id comes from the file name "
     "(confident/confused, 2 hard-coded); .emo unused; C's generate.py hard-codes 75 keys and drops the first "
     "generated frame; \"sampling\" is the expectation; fast generation dead",
     "headerless CSVs read whole; per-frame emotion from .emo in the data's categories; D from the data; every "
     "generated frame kept; generation outputs the expectation (faithful, no sampling); fast generation for every "
     "lineage, key by key for C", "bugs"),
    ("§8.7 `type=bool` turns any string into True; `--dilations type=list` cannot be set; requirements files "
     "missing", "every Config field settable with `--set FIELD=JSON` (e.g. `--set dilations=[1,2,4]`), typed and "
     "checked; the package installs its own requirements", "bugs"),
    ("§8.8 data-collection server: `record` never reset, discard keeps the buffer, 35 surprise scripts labelled "
     "Happy, `eval()` on network data, ad hoc framing",
     "no capture server here; takes come from the synthetic corpus or the user's files; the live controller "
     "parses two-word lines against the category lists and never evaluates input", "not ported; the lesson kept"),
    ("§8.9 datasets, design documents, checkpoints and alignment tooling missing",
     "the synthetic corpus writes EveNet takes (52 ARKit keys at 48 fps, per-frame phonemes and emotions, the "
     "WAV beside each take); alignment in `timeline.py`", "something to train and test on"),
    ("B and C condition on a per-file emotion only",
     "presets `softmax` and `keysampling` also take master's per-frame phoneme (one-hot 64); `phoneme_channels=0` "
     "gives the branches' conditioning (golden counts `softmax_branch`, `keysampling_branch`)",
     "the method is driven by what is said"),
    ("batch 1; sample_size 1,000 (A, B) or 1 (C); L2 over every weight (master's biases were auto-named into it)",
     "batch 8 of chunks (any size works); sample_size as the original; L2 (off by default, as the original) "
     "excludes biases as intended", "a batch a user would pick on a CPU"),
    ("generation starts from RF zero frames labelled Neutral/SIL (or a seed read through pandas)",
     "generation starts from nothing (zero layer states: the full pass's zero padding) with one zero \"go\" input "
     "step, as training sees the start of a take; a seed take primes the states with teacher forcing",
     "train and generate see the same start"),
    ("teacher forcing on clean past frames; a sigmoid output predicting absolute values",
     "both kept by default; options `input_noise` σ (N(0, σ²) on the input frames in training only) and "
     "`residual_output` (x̂[t + 1] = x[t] + Δ, clipped to [0, 1] outside training); `make reproduce-evenet` "
     "trains `master` with the options in `pipelines/evenet.py` `RECIPE_OPTIONS`, chosen on validation takes",
     "at 48 fps the next frame is nearly the last: clean teacher forcing rewards copying it, and free-running "
     "generation then barely follows the phonemes (exposure bias)"),
)


def dilation_text(dilations) -> str:
    """(1, 2, 4, 1, 2, 4, 2, 8) → "[1…4]×2 + [2, 8]": runs of doublings from 1, repeated, then the rest."""
    runs, current = [], []
    for d in dilations:
        if current and d == 2 * current[-1]:
            current.append(d)
        else:
            if current:
                runs.append(tuple(current))
            current = [d]
    runs.append(tuple(current))
    head = [r for r in runs if r[0] == 1 and len(r) > 2]
    if not head or any(r != head[0] for r in head) or runs[: len(head)] != head:
        return ", ".join(map(str, dilations))
    rest = [d for r in runs[len(head):] for d in r]
    return f"[1…{head[0][-1]}]×{len(head)}" + (f" + [{', '.join(map(str, rest))}]" if rest else "")


def presets_table() -> str:
    """One row a preset: lineage, layout, dilations, receptive field, parameters (``count_from_table``)."""
    rows = ["| preset | lineage | steps | dilations | RF (steps) | parameters (D of the preset) |",
            "|---|---|---|---|---|---|"]
    for name, c in PRESETS.items():
        pattern = dilation_text(c.dilations)
        golden = f"**{GOLDEN_PARAMS[name]:,}** (golden)" if name in GOLDEN_PARAMS else f"{count_from_table(c):,}"
        rows.append(f"| `{name}` | {c.lineage} | {c.step_channels} channels × {c.steps_per_frame} a frame "
                    f"(D = {c.data_dim}) | {pattern} | {c.receptive_field:,} | {golden} |")
    for name in ("softmax_branch", "keysampling_branch"):
        rows.append(f"| `{name.split('_')[0]}` with the branch's conditioning (2 emotions, no phonemes) | "
                    f"{golden_config(name).lineage} | as above | as above | as above | **{GOLDEN_PARAMS[name]:,}** "
                    "(golden) |")
    return "\n".join(rows)


def deviations_table() -> str:
    rows = [f"| {k} | {o} | {h} | {w} |" for k, (o, h, w) in enumerate(DEVIATIONS, 1)]
    return "\n".join(["| # | original | here | why |", "|---|---|---|---|", *rows])


def _met(ev: dict, *keys: str) -> str:
    return "yes" if all(ev["bar"]["checks"][k]["met"] for k in keys) else "**no**"


def result_rows(ev: dict) -> list[str]:
    """The held-out table of an evaluation (``pipelines/evenet.py`` evaluate stage) beside its declared bar."""
    tf_, free, shuf, checks = ev["teacher_forced"], ev["free_running"], ev["shuffled"], ev["bar"]["checks"]
    ratio = free["mouth_mse"] / free["mouth_mse_mean_pose"]
    return [
        "| measure | model | baseline | bar | met |", "|---|---|---|---|---|",
        f"| teacher-forced next-frame RMSE | {tf_['rmse']:.4f} | repeat last frame {tf_['rmse_repeat_last']:.4f}, "
        f"mean pose {tf_['rmse_mean_pose']:.4f} | below both | "
        f"{_met(ev, 'teacher_forced_rmse_vs_repeat_last', 'teacher_forced_rmse_vs_mean_pose')} |",
        f"| free running, jaw/mouth keys: Pearson r | {free['mouth_r']:.3f} | | {checks['mouth_r']['bar']} | "
        f"{_met(ev, 'mouth_r')} |",
        f"| free running, jaw/mouth keys: MSE | {free['mouth_mse']:.5f} ({ratio:.3f} × mean pose) | mean pose "
        f"{free['mouth_mse_mean_pose']:.5f} | ratio {checks['mouth_mse_ratio']['bar']} | "
        f"{_met(ev, 'mouth_mse_ratio')} |",
        f"| control: shuffled phoneme timeline, jaw/mouth r | {shuf['mouth_r']:.3f} | | "
        f"{checks['shuffled_mouth_r']['bar']} | {_met(ev, 'shuffled_mouth_r')} |",
        *_within_rows(ev),
        f"| free running, all keys: MSE ratio / mean r | {free['mse_ratio']:.3f} / {free['mean_r']:.3f} | | | |",
    ]


def _within_rows(ev: dict) -> list[str]:
    """The within-take rows (bars declared for the seed-1 run) and the pooled control's floor."""
    free, shuf, checks = ev["free_running"], ev["shuffled"], ev["bar"]["checks"]
    return [f"| free running, jaw/mouth r within each take (mean over takes) | {free['mouth_r_within']:.3f} | | "
            f"{checks['mouth_r_within']['bar']} | {_met(ev, 'mouth_r_within')} |",
            f"| control: shuffled phoneme timeline, jaw/mouth r within each take | {shuf['mouth_r_within']:.3f} | | "
            f"{checks['shuffled_mouth_r_within']['bar']} | {_met(ev, 'shuffled_mouth_r_within')} |",
            f"| the pooled control's floor: share of the jaw/mouth variance between takes (no model; what an exact "
            f"model would score on the shuffled timeline, pooled) | {shuf['between_take_share']:.3f} | | (not a bar) "
            "| |"]


def _preset_line(meta: dict, run: dict) -> str:
    tr = run["train"]
    config = tr.get("config", {})
    options = ([f"input noise σ {config['input_noise']:g}"] if config.get("input_noise") else []) + (
        ["residual output"] if config.get("residual_output") else [])
    return (f"Preset `{meta['preset']}` ({meta['params']:,} parameters, {len(meta['output_names'])} shape keys at "
            f"{meta['fps']:g} fps" + (f"; with {' and '.join(options)}" if options else "") + f"), trained on "
            f"{meta['data']}: {epochs_done(tr['epochs_trained'], tr['epochs_planned'], tr['stopped_by_budget'])} in "
            f"{tr['minutes']} min "
            f"(best epoch {tr['best_epoch']}).")


def preset_card(meta: dict, folder: Path, run: dict, name: str) -> str:
    """README.md of the published preset ``name``, from its sealed metadata and recorded run (``folder`` holds its
    files)."""
    m = meta["metrics"]
    size = files_mb(folder, meta["sha256"])
    lines = [f"# evenet / {name}", "",
             _preset_line(meta, run) + f" {size:.1f} MB.", "",
             f"Train: {len(meta['train_takes'])} takes ({meta['train_frames']:,} frames); validation: "
             f"{len(meta['val_takes'])} takes; {m['split']}: {len(m['takes'])} takes ({m['frames']:,} frames), "
             f"read once.", "", *result_rows(m), "",
             f"Bar (declared before measuring): {'passed' if m['bar']['passed'] else 'missed'}.", "",
             f"Load: `zoo.load(\"evenet/{name}\")` (a `Predictor`), or `zoo evenet predict --model <this folder> "
             "--text \"…\" --out take.csv`. The recorded run is `run.json`; the model card is `zoo/evenet/README.md`."]
    return "\n".join(lines) + "\n"


def results_synthetic(folder: Path) -> str:
    """The model card's results block: the committed synthetic preset's recorded evaluation."""
    import json

    if not (folder / "metadata.json").is_file():
        return "No preset is committed yet: `make pretrained-evenet` trains and publishes it."
    meta, run = (json.loads((folder / n).read_text()) for n in ("metadata.json", "run.json"))
    m = meta["metrics"]
    return "\n".join([_preset_line(meta, run), "",
                      f"Held-out {m['split']} takes: {len(m['takes'])} ({m['frames']:,} frames).", "",
                      *result_rows(m), "",
                      f"Jaw/mouth keys r: {', '.join(f'{k} {v:.2f}' for k, v in m['mouth_key_r'].items())}."])


def pretrained_rows(root: Path) -> str:
    """The rows of pretrained/README.md for the committed EveNet presets."""
    rows = []
    for folder, meta, size in published_presets(root):
        m = meta["metrics"]
        rows.append(f"| `evenet/{folder.name}` | {meta['data']}; preset `{meta['preset']}`, {meta['epochs_trained']} "
                    f"epochs (best {meta['best_epoch']}), {meta['training_minutes']} min | {m['split']} "
                    f"({len(m['takes'])} takes), free running: jaw/mouth r {m['free_running']['mouth_r']:.3f} "
                    f"(shuffled {m['shuffled']['mouth_r']:.3f}) | {size:.1f} MB |")
    return "\n".join(rows)


def blocks() -> dict[tuple[Path, str], str]:
    """Every generated block: (file, marker) → text."""
    import zoo

    root = Path(zoo.PRETRAINED) / "evenet"
    return {(CARD, "card:presets"): presets_table(), (CARD, "card:deviations"): deviations_table(),
            (CARD, "card:results-synthetic"): results_synthetic(root / "synthetic"),
            (Path(zoo.PRETRAINED) / "README.md", "card:evenet"): pretrained_rows(root)}


def write_card() -> list[Path]:
    """Rewrite every generated block; returns the files written."""
    from zoo.core.cards import write_blocks

    return write_blocks(blocks())


if __name__ == "__main__":
    write_card()
