"""The generated parts of the landmark_dcgan model card (``zoo/landmark_dcgan/README.md``): the presets table
(parameter counts of the built networks), the faithful-vs-changed table (``DEVIATIONS``: one row per item of spec §9
and per choice of ours) and the results of the committed preset (from its recorded run).

    python -m zoo.landmark_dcgan.card      # rewrite the blocks
"""
from __future__ import annotations

from pathlib import Path

from zoo.core.cards import epochs_done, files_mb, published_presets

from .config import GOLDEN_PARAMS, PRESETS

CARD = Path(__file__).resolve().parent / "README.md"

#: (original, here, why); rows 1–23 are the items of spec §9 in order
DEVIATIONS: tuple[tuple[str, str, str], ...] = (
    ("§9.1 the \"GRU\" is built with a tensor as its size and never applied",
     "no recurrence in `original` (276,104 parameters, golden); the `report` preset adds GRU(136) over a trial's "
     "frame embeddings (387,896)", "faithful; the report's model offered"),
    ("§9.2 int16 read as unsigned: x = s/32768 − 1 (DC −1, bin 0 dominates)",
     "x = s/32768 by default; `legacy_scaling=True` reproduces the original; log-magnitude with per-bin "
     "standardisation as `log_magnitude=True`", "bug; legacy flag"),
    ("§9.3 two-sided 128-bin spectrum, rectangular window, 2.67 ms chunks, last chunk half empty",
     "kept exactly (the features are checked against a step-by-step reimplementation of spec §1)", "fidelity"),
    ("§9.4 48 kHz mono assumed (44.1 kHz breaks the reshape; stereo interleaves)",
     "any rate resampled to 48 kHz (soxr), any channel count averaged (`zoo.datasets.load_audio`)", "bug"),
    ("§9.5 30 ms seeks on 29.97 fps video; predict.py floor(dur/30) frames vs ceil in preprocessing",
     "the 30 ms grid kept (`grid=\"30ms\"`; some video frames sampled twice, stated); every frame at the video's "
     "rate as `grid=\"video\"`; ceil(duration/30 ms) frames everywhere", "consistency"),
    ("§9.6 no face → crash; several faces → the last detection",
     "`no_face=\"skip\"` drops the frame from features and landmarks alike (`\"interpolate\"` fills it); "
     "`multi_face=\"largest\"` (`\"last\"`: the original)", "bug"),
    ("§9.7 an empty audio window is skipped while its landmark is kept: the arrays desynchronise",
     "one grid for both; counts asserted equal per trial; audio and video more than 2 frames apart is an error "
     "naming the files", "bug"),
    ("§9.8 min–max normalisation per frame (anisotropic; the chin sets max y)",
     "kept as `landmark_norm=\"minmax\"`; `\"similarity\"`: centred, eye line levelled, scaled by the inter-ocular "
     "distance (0.5 + u/4d)", "faithful; flagged option"),
    ("§9.9 unsorted `os.listdir`; the split is manual folder placement",
     "sorted pairing by name (03 WAV ↔ 01/02 video); split by actor from the names (`data.split_actors`: test = "
     "the last sixth of the actors, never read in training)", "bug"),
    ("§9.10 5 epochs in code, 100 in the report",
     "`cnn_epochs=5` in the presets; the recipe stops on the validation loss (`cnn_patience`)", "stated"),
    ("§9.11 predict.py: `ft_cnt` typo, `except Error`, the checkpoint reloaded per frame, a 24 fps GIF of 30 ms "
     "frames, per-frame autoscale, leaked figures",
     "`Predictor`: one load, all frames in one batch; the landmark video at exactly 100/3 fps with fixed axes and "
     "the audio muxed (`zoo.render.render_landmark_video`); landmarks also as csv/npy/json", "bugs"),
    ("§9.12 the DCGAN code does not parse (tabs/spaces); removed APIs (scipy.misc, tf.contrib, moviepy.editor)",
     "written anew for Keras 3 from the spec's tables", "does not run"),
    ("§9.13 images listed unsorted but indexed like the sorted landmarks",
     "each image travels with its own frame's landmarks (`Trial.images`, `image_rows`)", "bug"),
    ("§9.14 D ends in 100 logits (z_dim) averaged in the BCE",
     "kept: D has 100 logits and the losses average over them", "faithful"),
    ("§9.15 sampling encodes z as D's logits of a reference image (never trained for it)",
     "both: `z=\"reference\"` (the default, the original's) and `z=\"random\"` (U(−1, 1), one z a clip); the "
     "reference code is tanh(logits) (`reference_z=\"tanh\"`, D's other output, in G's training range: the recipe "
     "model's logits lie in −6…−3 and give broken faces); `\"logits\"` is the original's",
     "faithful; range fix"),
    ("§9.16 BatchNorm always in training mode, also when sampling",
     "inference mode by default; `legacy_bn=True` samples with batch statistics", "bug; legacy flag"),
    ("§9.17 no GAN train/test split; the \"test\" MSE is on training images in [−1, 1]",
     "the GAN is scored on the held-out actor: PSNR/SSIM beside the nearest training frame by landmarks, dlib's "
     "detection rate and mouth opening on the generated faces", "honest numbers"),
    ("§9.18 full 1280×720 frames squashed to 256² (not face crops)",
     "face crops by default (a square of `crop_scale` = 1.5 × the landmarks' box, centred on it); the squashed "
     "frame as `legacy_frames=True`", "bug; legacy flag"),
    ("§9.19 a per-image contrast stretch hidden in scipy's imresize",
     "only with `legacy_frames=True` (reproduced: min–max over RGB to 0…255)", "legacy flag"),
    ("§9.20 the report's tables disagree with the code (168 outputs, BN in D's first layer, ReLU+BN last in G)",
     "the code's networks (136 outputs; no BN in D h0; tanh in G h6); golden counts D 9,660,388 and G 9,250,779 at "
     "256², computed from the tables", "the code is the method"),
    ("§9.21 the two stages are never chained",
     "`zoo landmark_dcgan predict --audio a.wav --reference face.png --out talk.mp4`: speech → landmarks → faces, "
     "a video with the audio", "the method's purpose"),
    ("§9.22 zero-insertion unpooling (checkerboard-prone)",
     "kept as `unpool=\"zeros\"`; `\"nearest\"` flagged", "faithful; option"),
    ("§9.23 a 256² GAN with ~19 M parameters is GPU work",
     "`gan128`, `gan64` (G starts at S/64, D flattens (S/64)² maps) and `tiny`", "CPU sizes"),
    ("G's landmarks enter after its last ReLU (tiled, unpooled, one linear deconv, tanh)",
     "kept; `g_input_landmarks=True` also feeds [z, landmarks] to G's first layer (as carpedm20's conditional "
     "DCGAN): a test shows the original's landmarks only shift tanh⁻¹(G) uniformly over each 4×4 pixel phase, so "
     "its G cannot draw the mouth they describe; `g_landmark_maps=True` also concatenates Gaussian maps of the six "
     "face parts (jaw, brows, nose, eyes, outer and inner lip) at S/8 and S/2, where G's next transposed convolutions "
     "can draw the lips where the landmarks put them", "faithful; flagged options"),
    ("the pure adversarial loss: one learning rate, real target 1",
     "kept; `gan_l1_weight` λ adds λ·mean(abs(G(z, y) − x)) to G's loss (pix2pix's λ 100; its rows in the lower "
     "half of the face × `l1_lower_weight`), `d_lr_ratio` scales D's learning rate, `real_label` < 1 smooths D's "
     "real target; `gan_opening_weight` λ_o adds λ_o·mean((R(G(z, y)) − ô(y))²), R a small CNN trained first on the "
     "training crops' lower halves to read their standardised inner-lip opening ô, then frozen; `gan_cross_motion` "
     "also scores G's faces for each trial's face moved by another frame's motion (no real image: R's term only); "
     "`gan_average` β keeps an exponential moving average of G's weights instead of the last step's, its BatchNorm "
     "statistics recomputed on the training landmarks", "faithful; flagged options"),
    ("the CNN's output bias starts at 0 (every point at 0.5)",
     "`output_bias=\"mean\"` starts it at logit(the training mean face); `\"zeros\"` is the original's",
     "a start that trains"),
    ("the CNN trains on each recording as spoken",
     "kept; `speed_perturbation` (α, …) adds every training trial played α× faster (pitch, formants and rate × α, "
     "the landmarks at the same moments of speech; `data.speed_perturbed`)", "faithful; flagged option (the recipe's "
     "0.9, 1.1, 1.2: unseen voices)"),
    ("the CNN's MSE weighs the 136 coordinates alike",
     "kept; `mouth_weight` w weighs the 20 mouth points' 40 coordinates w× the others (Σ_k w_k e_k² / Σ_k w_k, "
     "`losses.landmark_loss`); validation still monitors the plain MSE",
     "faithful; flagged option (the recipe's 30: the lip-sync figures, LMD and the mouth opening, are the mouth's)"),
    ("each frame's landmarks as the CNN predicts them (one 60 ms window each)",
     "kept; `smooth_frames` N averages a clip's predicted landmarks over N centred frames (`predict.smooth_landmarks`, "
     "in `Predictor` and the export's `audio` signature; `serving_default` serves single frames unsmoothed)",
     "faithful; flagged option (the recipe's 3: chosen on actors held out of the training actors)"),
    ("RAVDESS, not downloadable",
     "the synthetic corpus's RAVDESS layout (4 actors, 128² renders at 29.97 fps, 48 kHz WAVs); landmarks "
     "extracted with dlib from its videos, the rendered landmarks only to report the detector's error",
     "no RAVDESS offline"),
)


def presets_table() -> str:
    """Presets with their networks' trainable parameter counts (built here: TensorFlow is loaded)."""
    import numpy as np

    from .model import build_cnn, build_discriminator, build_generator

    def count(model) -> int:
        return int(sum(np.prod(v.shape) for v in model.trainable_variables))

    rows = ["| preset | CNN | image | D widths | G widths | CNN parameters | D parameters | G parameters |",
            "|---|---|---|---|---|---|---|---|"]
    for name, c in PRESETS.items():
        counts = [count(build_cnn(c)), count(build_discriminator(c)), count(build_generator(c))]
        golden = (GOLDEN_PARAMS["cnn_report" if c.gru else "cnn"], GOLDEN_PARAMS["discriminator"],
                  GOLDEN_PARAMS["generator"]) if c.image_size == 256 and c.d_filters == PRESETS["original"].d_filters \
            else (None, None, None)
        cells = [f"**{n:,}** (golden)" if g == n else f"{n:,}" for n, g in zip(counts, golden)]
        rows.append(f"| `{name}` | {'+ GRU' if c.gru else 'frame by frame'} | {c.image_size}² | "
                    f"{', '.join(map(str, c.d_filters))} | {', '.join(map(str, c.g_filters))} | {' | '.join(cells)} |")
    return "\n".join(rows)


def deviations_table() -> str:
    rows = [f"| {k} | {o} | {h} | {w} |" for k, (o, h, w) in enumerate(DEVIATIONS, 1)]
    return "\n".join(["| # | original | here | why |", "|---|---|---|---|", *rows])


def _f(x, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def result_rows(ev: dict) -> list[str]:
    """The held-out tables of an evaluation (``pipelines/landmark_dcgan.py`` evaluate stage) beside the bar."""
    checks = ev["bar"]["checks"]

    def met(key: str) -> str:
        return f"{checks[key]['bar']}: {'yes' if checks[key]['met'] else '**no**'}"

    cnn, mean, shuffled = ev["cnn"], ev["mean_landmarks"], ev["shuffled_audio"]
    rows = ["| landmarks (test actor, read once) | CNN | mean landmarks | shuffled audio | bar |",
            "|---|---|---|---|---|",
            f"| mouth LMD (normalised) | {_f(cnn['lmd'], 4)} | {_f(mean['lmd'], 4)} | {_f(shuffled['lmd'], 4)} | "
            f"ratio {_f(ev['lmd_ratio_to_mean'])} {met('lmd_ratio')} |",
            f"| mouth LMD (px of a {ev['face_pixels']} px face) | {_f(cnn['lmd_pixels'], 2)} | "
            f"{_f(mean['lmd_pixels'], 2)} | {_f(shuffled['lmd_pixels'], 2)} | |",
            f"| landmark MSE (normalised) | {_f(cnn['mse'], 6)} | {_f(mean['mse'], 6)} | {_f(shuffled['mse'], 6)} | |",
            f"| mouth-opening Pearson r | {_f(cnn['mouth_opening_r'])} | – | {_f(shuffled['mouth_opening_r'])} | "
            f"CNN {met('mouth_r')}; shuffled {met('shuffled_mouth_r')} |", ""]
    faces, chain, nearest = ev["faces"], ev["chain"], ev["nearest_training_frame"]
    rows += ["| faces (test actor) | G(z, extracted landmarks) | G(z, CNN landmarks) | nearest training frame | bar |",
             "|---|---|---|---|---|",
             f"| dlib finds a face | {_f(faces['face_detection_rate'])} | {_f(chain['face_detection_rate'])} | – | "
             f"{met('face_rate')} |",
             f"| mouth opening on the faces vs their conditioning, r | {_f(faces['mouth_opening_r'])} | "
             f"{_f(chain['mouth_opening_r'])} | – | {met('gan_mouth_r')} |",
             f"| PSNR against the real crops (dB) | {_f(faces['psnr'], 2)} | {_f(chain['psnr'], 2)} | "
             f"{_f(nearest['psnr'], 2)} | (reported) |",
             f"| SSIM against the real crops | {_f(faces['ssim'])} | {_f(chain['ssim'])} | {_f(nearest['ssim'])} | "
             "(reported) |"]
    return rows


def training_lines(state: dict) -> list[str]:
    """The two training stages, from a recorded run's train stage (and landmarks stage when present)."""
    train = state["train"]
    cnn, gan = train["cnn"], train["gan"]
    lines = []
    if "landmarks" in state and "detector_error_px" in state["landmarks"]:
        lm = state["landmarks"]
        lines.append(f"Targets: dlib on {lm['trials']} training and validation videos ({lm['frames']:,} grid frames, "
                     f"{lm['dropped_frames']} without a face); its error against the corpus's rendered landmarks "
                     f"{lm['detector_error_px']:.2f} px (mouth {lm['detector_mouth_error_px']:.2f} px) on 128² "
                     "frames.")
    best = cnn["history"][(cnn["best_epoch"] or cnn["epochs_trained"]) - 1] if cnn["history"] else {}
    config = train["config"]

    def epochs(stage: dict, planned: str) -> str:
        return epochs_done(stage["epochs_trained"], config[planned], bool(stage.get("stopped_by_budget")))

    lines.append(f"CNN: {epochs(cnn, 'cnn_epochs')} in {cnn['minutes']} min (best {cnn['best_epoch']}: validation "
                 f"loss {best.get('val_loss', float('nan')):.3g}, mouth LMD {best.get('val_lmd', float('nan')):.4f}, "
                 f"mouth-opening r {best.get('val_mouth_r', float('nan')):.3f}) on {cnn['train_rows']:,} frames, "
                 f"batch {cnn['batch_size_used']}.")
    last = gan["history"][-1] if gan["history"] else {}
    beta = config.get("gan_average")
    average = f"; kept and validated: G's weight average, β {beta}" if beta else ""
    lines.append(f"GAN ({train['preset']}{average}): {epochs(gan, 'gan_epochs')} in {gan['minutes']} min on "
                 f"{gan['train_images']:,} images, batch {gan['batch_size_used']}; last validation epoch: face found "
                 f"{_f(last.get('val_face_rate'))}, mouth-opening r {_f(last.get('val_mouth_r'))}, PSNR "
                 f"{_f(last.get('val_psnr'), 2)} dB.")
    if gan.get("opening_regressor"):
        r = gan["opening_regressor"]
        lines.append(f"Opening regressor (the GAN's mouth-opening loss): r {_f(r['train_r'])} on the training crops, "
                     f"{_f(r.get('val_r'))} on the validation crops.")
    return lines


def result_lines(state: dict) -> list[str]:
    """The body of report.md: training, the held-out tables, export parity and the preview."""
    ev = state["evaluate"]
    lines = [*training_lines(state), "", f"## Held-out actor {', '.join(state['prepare']['test_actors'])} "
             f"(read once): {len(ev['trials'])} trials, {ev['frames']:,} frames", "", *result_rows(ev), "",
             f"Units: {ev['units']}.", "", f"Bar (declared before measuring): "
             f"{'passed' if ev['bar']['passed'] else 'MISSED'}."]
    if "export" in state:
        lines += ["", "## Export", "", *[f"- {p['backend']} `{p['signature']}`: max |Δ| {p['max_abs_diff']:.2g}"
                                         for p in state["export"]["parity"]]]
    if "preview" in state:
        p = state["preview"]
        lines += ["", "## Preview", "", f"- `{p['video']}`: trial {p['trial']} ({p['seconds']} s), its landmarks "
                  f"beside the generated faces, the reference face the actor's first frame (`{p['reference']}`), "
                  f"with the speech", f"- `{p['landmarks_video']}`: the predicted landmarks over the extracted ones"]
    return lines


def preset_card(meta: dict, folder: Path, run: dict, name: str) -> str:
    """README.md of the published preset ``name``, from its sealed metadata and recorded run."""
    size = files_mb(folder, meta["sha256"])
    m = meta["metrics"]
    lines = [f"# landmark_dcgan / {name}", "",
             f"Preset `{meta['preset']}` (landmarks at {meta['fps']:.4g} fps from {meta['sample_rate']} Hz audio; "
             f"{meta['image_size']}² faces), trained on {meta['data']}. {size:.1f} MB.", "", *training_lines(run), "",
             *result_rows(m), "", f"Bar (declared before measuring): {'passed' if m['bar']['passed'] else 'missed'}.",
             "", f"Load: `zoo.load(\"landmark_dcgan/{name}\")` (a `Predictor`), or `zoo landmark_dcgan predict --model "
             "<this folder> --audio a.wav --out talk.mp4`. The recorded run is `run.json`; the model card is "
             "`zoo/landmark_dcgan/README.md`."]
    return "\n".join(lines) + "\n"


def results_synthetic(folder: Path) -> str:
    """The model card's results block: the committed synthetic preset's recorded evaluation."""
    import json

    if not (folder / "metadata.json").is_file():
        return "No preset is committed yet: `make pretrained-landmark_dcgan` trains and publishes it."
    meta, run = (json.loads((folder / n).read_text()) for n in ("metadata.json", "run.json"))
    m = meta["metrics"]
    return "\n".join([f"Trained on {meta['data']} (`{run['command']}`).", "", *training_lines(run), "",
                      *result_rows(m), "", f"Bar (declared before measuring): "
                      f"{'passed' if m['bar']['passed'] else 'missed'}."])


def pretrained_rows(root: Path) -> str:
    """The rows of pretrained/README.md for the committed landmark_dcgan presets."""
    rows = []
    for folder, meta, size in published_presets(root):
        m = meta["metrics"]
        rows.append(f"| `landmark_dcgan/{folder.name}` | {meta['data']}; preset `{meta['preset']}`, "
                    f"{meta['training_minutes']} min | test actor: mouth LMD {m['lmd_ratio_to_mean']:.3f} × mean face, "
                    f"mouth r {m['cnn']['mouth_opening_r']:.3f} (shuffled "
                    f"{m['shuffled_audio']['mouth_opening_r']:.3f}); faces found "
                    f"{m['faces']['face_detection_rate']:.2f} | {size:.1f} MB |")
    return "\n".join(rows)


def blocks() -> dict[tuple[Path, str], str]:
    """Every generated block: (file, marker) → text."""
    import zoo

    root = Path(zoo.PRETRAINED) / "landmark_dcgan"
    return {(CARD, "card:presets"): presets_table(), (CARD, "card:deviations"): deviations_table(),
            (CARD, "card:results-synthetic"): results_synthetic(root / "synthetic"),
            (Path(zoo.PRETRAINED) / "README.md", "card:landmark_dcgan"): pretrained_rows(root)}


def write_card() -> list[Path]:
    """Rewrite every generated block; returns the files written."""
    from zoo.core.cards import write_blocks

    return write_blocks(blocks())


if __name__ == "__main__":
    write_card()
