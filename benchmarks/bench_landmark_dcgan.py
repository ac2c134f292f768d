"""landmark_dcgan speed, side by side with the original's structure in the same run (issue 16, item 9).

Data: 8 s of speech, the shipped parity sentence (``zoo.core.parity_speech()``, espeak-ng) repeated, resampled to
48 kHz and written as a PCM_16 WAV, so the pipeline reads and featurises a real file (267 frames on the 30 ms grid).
Networks: seeded random weights (the cost does not depend on them), built once outside the timing.

1. Landmark CNN (``build_cnn(preset("original"))``, 276,104 parameters) in frames/s and × real time (a frame is
   30 ms: × real time = frames/s × 0.03), at batch 1 (one frame a call) and batch 256, through
   ``model.fast_landmarks`` (batch inference: conv1 + ReLU + pool1 fused by XLA), beside a ``tf.function`` of the
   Keras model and its eager call (what ``Predictor.landmark_values`` runs for one clip: no compilation). The
   reference is the original predict.py's structure: one frame a call, each call with the model built anew and its
   weights read from the checkpoint file (``Estimator.predict`` restores the checkpoint on every call, spec §4):
   ``build_cnn`` + ``load_weights(.weights.h5)`` + the call, on a few frames. Goal: ≥ 500× real time at batch 256.
   ``fast_landmarks(precision="bfloat16")`` (flagged) beside it, with how far it moves the landmarks: on these
   weights, and on the committed preset's trained CNN (``PRESET_DIR``, where present) over the speech's frames.
   FLOP per frame (TF profiler) against the measured matmul peak.
2. Generator images/s at 64², 128², 256² (``gan64``, ``gan128``, ``original``): batch 32 and batch 1 in inference
   mode (BatchNorm on its moving statistics, this project's default) beside the original's sampler (batch 32,
   BatchNorm on the batch's statistics, ``legacy_bn``); FLOP per image and the fraction of the matmul peak.
3. WAV → talking-face video (``gan64``): ``Predictor.talking_face(wav, out.mp4)`` (the landmarks beside the generated
   faces, the speech muxed in) and its ``landmarks_only`` video, in × real time, beside the original predict.py's
   WAV → landmark GIF (restore per frame, a matplotlib figure per frame saved as PNG and appended to a 24 fps GIF;
   the original never generated faces from speech) on the first second; then where ours spends its time (features,
   CNN, generator, video rendering).

Run by ``make bench`` / ``zoo bench landmark_dcgan`` (benchmarks/run.py). ``run(bench, SMOKE)`` runs every
measurement at toy sizes (tests/landmark_dcgan/test_bench.py).
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from harness import Case, count_flops, measured_line

ROOT = Path(__file__).resolve().parent.parent
PRESET_DIR = ROOT / "pretrained" / "landmark_dcgan" / "synthetic"  # the committed trained CNN (bfloat16's deviation)
FRAME_SECONDS = 0.03  # the 30 ms grid: × real time = frames/s × FRAME_SECONDS
RT_GOAL = 500  # × real time of the landmark CNN at the large batch
#: cnn_cost's bfloat16 entries (the card reads them back)
BF16_RANDOM = "bfloat16 vs float32, random weights: max |Δ| (normalised units)"
BF16_PRESET = "bfloat16 vs float32, the committed preset: max |Δ| (normalised units)"
BF16_PRESET_LMD = "bfloat16 vs float32, the committed preset: mouth LMD (px of a 256-px face)"
ORIGINAL_GIF_FPS = 24  # predict.py's landmarks.gif
ORIGINAL_FIGURE = (6.4, 4.8, 100)  # matplotlib's default figure: inches and dpi (640 × 480 pixels)


@dataclass(frozen=True)
class Sizes:
    """What ``run`` measures. ``reps`` None: each measurement's own repetitions (``bench.reps``)."""

    cnn_preset: str = "original"
    cnn_batch: int = 256
    restore_frames: int = 6  # frames a reference call predicts (each restoring the checkpoint)
    single_frames: int = 16  # batch-1 calls a timed call of ours makes
    generator_presets: tuple[str, ...] = ("gan64", "gan128", "original")
    generator_batch: int = 32
    generator_singles: int = 4  # batch-1 generator calls a timed call makes
    video_preset: str = "gan64"
    seconds: float = 8.0  # the speech of (1) and (3)
    reference_seconds: float = 1.0  # the original's GIF pipeline runs on the first second
    reps: int | None = None


FULL = Sizes()
SMOKE = Sizes(cnn_batch=8, restore_frames=2, single_frames=2, generator_presets=("tiny",), generator_batch=2,
              generator_singles=1, video_preset="tiny", seconds=0.5, reference_seconds=0.1, reps=1)


def _reps(bench, sizes: Sizes, n: int) -> int:
    return sizes.reps if sizes.reps is not None else bench.reps(n)


# --------------------------------------------------------------------------------------------- data
def speech_wav(path: Path, seconds: float) -> Path:
    """``seconds`` of the parity sentence (2.9 s) repeated, resampled to 48 kHz, cut, as PCM_16."""
    import soundfile as sf

    from zoo.core import parity_speech
    from zoo.datasets import resample

    audio, rate = parity_speech()
    audio = resample(np.asarray(audio, np.float32), rate, 48000)
    n = int(round(seconds * 48000))
    sf.write(path, np.tile(audio, -(-n // len(audio)))[:n], 48000, subtype="PCM_16")
    return path


def _batch_of(features: np.ndarray, batch: int) -> np.ndarray:
    """The first ``batch`` frames of ``features``, repeated from the start where the clip is shorter."""
    return np.ascontiguousarray(features[np.arange(batch) % len(features)])


# --------------------------------------------------------------------------------------------- (1) landmark CNN
def restore_and_predict(config, weights: Path, features: np.ndarray) -> np.ndarray:
    """The original predict.py's structure: for every frame a new CNN, its weights read from the checkpoint file
    ``weights``, one frame predicted; (N, 136)."""
    from zoo.landmark_dcgan.model import build_cnn

    out = []
    for frame in features:
        model = build_cnn(config)
        model.load_weights(weights)
        out.append(np.asarray(model(frame[None], training=False)))
    return np.concatenate(out)


def trained_bfloat16_deviation(wav: Path) -> dict | None:
    """How far ``fast_landmarks(precision="bfloat16")`` moves the committed preset's landmarks from float32 on the
    frames of ``wav``: max and mean |Δ| (normalised units) and the mouth LMD between the two (pixels of a
    ``FACE_PIXELS``-px face); None without the preset."""
    from zoo.landmark_dcgan import metrics
    from zoo.landmark_dcgan.model import fast_landmarks
    from zoo.landmark_dcgan.predict import FACE_PIXELS, Predictor

    if not (PRESET_DIR / "config.json").is_file():
        return None
    predictor = Predictor.load(PRESET_DIR)
    features, _ = predictor.features(wav)
    exact = fast_landmarks(predictor.network.cnn)(features)
    rounded = fast_landmarks(predictor.network.cnn, precision="bfloat16")(features)
    return {"max": float(np.abs(rounded - exact).max()), "mean": float(np.abs(rounded - exact).mean()),
            "mouth_lmd_pixels": metrics.lmd(rounded, exact, face_size=FACE_PIXELS), "face_pixels": FACE_PIXELS}


def bench_cnn(bench, workdir: Path, wav: Path, sizes: Sizes) -> None:
    import keras
    import tensorflow as tf

    from zoo.landmark_dcgan import features as feats
    from zoo.landmark_dcgan.config import preset
    from zoo.landmark_dcgan.model import build_cnn, fast_landmarks

    config = preset(sizes.cnn_preset)
    keras.utils.set_random_seed(0)
    model = build_cnn(config)
    weights = workdir / "cnn.weights.h5"
    model.save_weights(weights)
    features, _ = feats.load_features(wav, config)
    compiled = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    fast = fast_landmarks(model)
    fast_bf16 = fast_landmarks(model, precision="bfloat16")
    batch_np = _batch_of(features, sizes.cnn_batch)
    batch = tf.constant(batch_np)
    singles = [features[i:i + 1] for i in range(sizes.single_frames)]
    restored = features[:sizes.restore_frames]
    expected = restore_and_predict(config, weights, restored)
    deviation = float(max(np.abs(expected - np.asarray(compiled(tf.constant(restored)))).max(),
                          np.abs(expected - fast(restored)).max(), np.abs(compiled(batch) - fast(batch_np)).max()))
    reference = Case(f"the original's structure (predict.py): one frame a call, the model built anew and its weights "
                     f"read from the checkpoint file every call (`build_cnn` + `load_weights` + the call; "
                     f"{sizes.restore_frames} frames a timed call)",
                     lambda: restore_and_predict(config, weights, restored), sizes.restore_frames)
    detail = (f"{len(features)} frames of the speech's (128, 23, 1) features (48 kHz); the reference re-reads a "
              f"{weights.stat().st_size / 1e6:.1f} MB weights file (the CNN's 276,104 float32 parameters) each frame; "
              "the Estimator also rebuilt its graph and session and read a checkpoint three times larger (Adam's "
              "moments), so the reference understates the original's cost. Same landmarks: max |Δ| "
              f"{deviation:.2g} (normalised units).")
    rounding = float(np.abs(fast_bf16(batch_np) - fast(batch_np)).max())
    trained = trained_bfloat16_deviation(wav)
    bf16_detail = (f" bfloat16 (flagged) moves these random weights' landmarks by max |Δ| {rounding:.2g}" + (
        f"; the committed preset's trained CNN's, over the speech's {len(features)} frames, by max {trained['max']:.2g}"
        f", mean {trained['mean']:.2g} (mouth LMD {trained['mouth_lmd_pixels']:.2f} px of a "
        f"{trained['face_pixels']}-px face)." if trained else "."))

    def one_frame_calls(run):
        for x in singles:
            np.asarray(run(x))

    record1 = bench.compare(
        "cnn_batch1", "(1) landmark CNN, batch 1 (one frame a call)", "frames/s", reference,
        [Case(f"`fast_landmarks`, batch 1 ({sizes.single_frames} calls a timed call)", lambda: one_frame_calls(fast),
              sizes.single_frames),
         Case(f"Keras model in a `tf.function`, batch 1 ({sizes.single_frames} calls a timed call)",
              lambda: one_frame_calls(compiled), sizes.single_frames)],
        reps=_reps(bench, sizes, 9), warmup=1, detail=detail)
    record = bench.compare(
        "cnn_batch", f"(1) landmark CNN, batch {sizes.cnn_batch}", "frames/s", reference,
        [Case("`fast_landmarks` (batch inference): conv1 + ReLU + pool1 as one XLA kernel, the other layers as TF "
              "ops", lambda: fast(batch_np), sizes.cnn_batch),
         Case("Keras model in a `tf.function`", lambda: compiled(batch).numpy(), sizes.cnn_batch),
         Case("eager Keras call (what `Predictor.landmark_values` runs)",
              lambda: np.asarray(model(batch, training=False)), sizes.cnn_batch),
         Case("`fast_landmarks(precision=\"bfloat16\")` (flagged): the layers after pool1 in bfloat16",
              lambda: fast_bf16(batch_np), sizes.cnn_batch)],
        reps=_reps(bench, sizes, 9), warmup=1, detail=detail + bf16_detail)
    met = bench.goal(record, f"landmark CNN at batch {sizes.cnn_batch}, × real time (30 ms frames)",
                     record["ours"][0]["rate"] * FRAME_SECONDS, RT_GOAL, unit="×")
    bench.goal(record, f"landmark CNN at batch {sizes.cnn_batch} in bfloat16 (flagged), × real time",
               record["ours"][3]["rate"] * FRAME_SECONDS, RT_GOAL, unit="×")

    flops = count_flops(lambda x: model(x, training=False), [tf.TensorSpec([1, *features.shape[1:]], tf.float32)])
    roofline = bench.roofline_gflops
    rate = record["ours"][0]["rate"]
    if not met:
        needed = RT_GOAL / FRAME_SECONDS
        bench.note(f"**Landmark CNN below {RT_GOAL}× real time.** At batch {sizes.cnn_batch} `fast_landmarks` runs "
                   f"{rate:,.0f} frames/s = {rate * flops / 1e9 / roofline:.0%} of the measured matmul peak "
                   f"({flops / 1e6:.2f} MFLOP a frame); {RT_GOAL}× needs {needed:,.0f} frames/s = "
                   f"{needed * flops / 1e9 / roofline:.0%} of it (the roofline allows "
                   f"{roofline * 1e9 / flops * FRAME_SECONDS:,.0f}×). Its convolutions are thin (1–136 channels, "
                   "kernels of 2–4 taps along one axis of a 128 × 23 map), which oneDNN runs far below matmul speed; "
                   "the first (1 input channel, a 64 × 23 × 32 output) is memory-bound: half the Keras model's time, "
                   "which `fast_landmarks` removes by fusing it with its ReLU and pool. In trials during development "
                   "(2 cores of a Xeon with AMX and of an EPYC) XLA for the whole model, TFLite with XNNPACK, oneDNN "
                   "off, the frequency and time axes swapped (time chunks as the batch), im2col + matmul for the "
                   "other layers, and smaller batches were all slower; dropping the last time chunk (pool5 never "
                   "reads it) gained nothing measurable. In this run bfloat16 (`precision=\"bfloat16\"`, flagged: "
                   "fast where the CPU has AMX or AVX512-BF16) ran "
                   f"{record['ours'][3]['rate'] * FRAME_SECONDS:,.0f}× real time; its cost in accuracy is in the "
                   "table's note.")
    bench.record(
        "cnn_cost", "(1) landmark CNN: FLOP per frame and the roofline",
        {"FLOP per frame (TF profiler, multiply-add = 2)": flops, "matmul roofline, GFLOP/s": roofline,
         "roofline-bound frames/s (float32)": roofline * 1e9 / flops,
         f"`fast_landmarks` at batch {sizes.cnn_batch}: GFLOP/s": rate * flops / 1e9,
         f"`fast_landmarks` at batch {sizes.cnn_batch}: fraction of the roofline": rate * flops / 1e9 / roofline,
         f"`fast_landmarks` at batch {sizes.cnn_batch}: × real time": rate * FRAME_SECONDS,
         f"`fast_landmarks` in bfloat16 at batch {sizes.cnn_batch}: × real time":
             record["ours"][3]["rate"] * FRAME_SECONDS,
         BF16_RANDOM: rounding,
         **({BF16_PRESET: trained["max"], BF16_PRESET_LMD: trained["mouth_lmd_pixels"]} if trained else {}),
         f"Keras model in a `tf.function` at batch {sizes.cnn_batch}: × real time":
             record["ours"][1]["rate"] * FRAME_SECONDS,
         "`fast_landmarks` at batch 1: × real time": record1["ours"][0]["rate"] * FRAME_SECONDS,
         "the original's structure: × real time": record["reference"]["rate"] * FRAME_SECONDS},
        detail="× real time = frames/s × 0.03 (a frame is 30 ms of audio). Small convolutions over (128, 23) inputs "
               "with 1–136 channels are far from matmul-bound.")


# --------------------------------------------------------------------------------------------- (2) generator
def bench_one_generator(bench, name: str, sizes: Sizes, rng) -> dict:
    """(2) for the preset ``name``: the comparison, then {quantity: value} of its cost."""
    import keras
    import tensorflow as tf

    from zoo.landmark_dcgan.config import LANDMARK_DIM, preset
    from zoo.landmark_dcgan.model import build_generator

    config = preset(name)
    keras.utils.set_random_seed(0)
    generator = build_generator(config)
    size, n = config.image_size, sizes.generator_batch
    z = tf.constant(rng.uniform(-1, 1, (n, config.z_dim)).astype(np.float32))
    y = tf.constant(rng.uniform(0.2, 0.8, (n, LANDMARK_DIM)).astype(np.float32))
    inference = tf.function(lambda z, y: generator([z, y], training=False), reduce_retracing=True)
    legacy = tf.function(lambda z, y: generator([z, y], training=True), reduce_retracing=True)
    singles = [(z[i:i + 1], y[i:i + 1]) for i in range(sizes.generator_singles)]

    def one_image_calls():
        for zi, yi in singles:
            inference(zi, yi).numpy()

    record = bench.compare(
        f"generator_{size}", f"(2) generator G(z, landmarks), {size}² (`{name}`)", "images/s",
        Case(f"the original's sampler: batch {n}, BatchNorm on the batch's statistics (`legacy_bn`: training mode, "
             "moving averages updated)", lambda: legacy(z, y).numpy(), n),
        [Case(f"batch {n}, inference mode (`tf.function`)", lambda: inference(z, y).numpy(), n),
         Case(f"batch 1, inference mode (`tf.function`; {sizes.generator_singles} calls a timed call)",
              one_image_calls, sizes.generator_singles)],
        reps=_reps(bench, sizes, 8 if size < 256 else 4), warmup=1,
        detail=f"{generator.count_params():,} parameters (BatchNorm statistics included); z ~ U(−1, 1)^"
               f"{config.z_dim}, seeded random weights; each call ends with the images in NumPy.")
    flops = count_flops(lambda z, y: generator([z, y], training=False),
                        [tf.TensorSpec([1, config.z_dim], tf.float32), tf.TensorSpec([1, LANDMARK_DIM], tf.float32)])
    rate = record["ours"][0]["rate"]
    roofline = bench.roofline_gflops
    return {f"{size}²: FLOP per image (TF profiler)": flops, f"{size}²: images/s at batch {n}": rate,
            f"{size}²: GFLOP/s at batch {n}": rate * flops / 1e9,
            f"{size}²: fraction of the roofline": rate * flops / 1e9 / roofline,
            f"{size}²: images/s at batch 1": record["ours"][1]["rate"]}


def bench_generator(bench, sizes: Sizes) -> None:
    rng = np.random.default_rng(0)
    costs = {}
    for name in sizes.generator_presets:
        costs.update(bench_one_generator(bench, name, sizes, rng))
    costs["matmul roofline, GFLOP/s"] = bench.roofline_gflops
    bench.record("generator_cost", "(2) generator: FLOP per image and the fraction of the matmul peak", costs,
                 detail="Inference mode (BatchNorm on its moving statistics). The transposed convolutions dominate; "
                        "after zero-insertion unpooling three quarters of a map are zeros, and the FLOP count "
                        "includes the products with them.")


# --------------------------------------------------------------------------------------------- (3) the chain
def video_predictor(preset_name: str):
    """A Predictor of ``preset_name`` with seeded random weights and no model directory: a seeded random reference
    face (uint8, S × S) and mean/reference landmarks drawn in [0.2, 0.8]."""
    import keras

    from zoo.landmark_dcgan.config import LANDMARK_DIM, preset
    from zoo.landmark_dcgan.predict import Predictor, build_network

    config = preset(preset_name)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    mean = rng.uniform(0.2, 0.8, LANDMARK_DIM).astype(np.float32)
    face = rng.integers(0, 256, (config.image_size, config.image_size, 3), dtype=np.uint8)
    return Predictor(build_network(config), config, None, mean_landmarks=mean, reference_image=face,
                     reference_landmarks=mean)


def original_landmark_gif(config, weights: Path, wav: Path, out: Path) -> int:
    """The original predict.py on ``wav``: floor(duration / 30 ms) frames of features, then per frame the CNN
    restored from ``weights`` and one frame predicted, a 640 × 480 matplotlib figure of the 68 points (y flipped,
    autoscaled, axes hidden) saved as ``out/predict<k>.png`` and appended to ``out/landmarks.gif`` at 24 fps;
    returns the frames."""
    import imageio.v2 as imageio
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from zoo.datasets import load_audio
    from zoo.landmark_dcgan import features as feats

    audio, _ = load_audio(wav, config.sample_rate)
    frames = audio.size // config.frame_samples  # predict.py's floor
    features = feats.fft_features(audio, config, frames=frames)
    out.mkdir(parents=True, exist_ok=True)
    width, height, dpi = ORIGINAL_FIGURE
    writer = imageio.get_writer(out / "landmarks.gif", mode="I", duration=1000 / ORIGINAL_GIF_FPS)
    try:
        for k, frame in enumerate(features, start=1):
            points = restore_and_predict(config, weights, frame[None])[0].reshape(-1, 2)
            figure = Figure(figsize=(width, height), dpi=dpi)
            canvas = FigureCanvasAgg(figure)
            axes = figure.add_subplot()
            axes.plot(points[:, 0], -points[:, 1], "o")
            axes.axis("off")
            figure.savefig(out / f"predict{k}.png")
            canvas.draw()
            writer.append_data(np.asarray(canvas.buffer_rgba())[..., :3])
    finally:
        writer.close()
    return frames


def bench_video(bench, workdir: Path, wav: Path, sizes: Sizes) -> None:
    import soundfile as sf

    from zoo.landmark_dcgan.config import preset
    from zoo.landmark_dcgan.model import build_cnn
    from zoo.landmark_dcgan.predict import GRID_FPS
    from zoo.render import render_landmark_video

    predictor = video_predictor(sizes.video_preset)
    config = predictor.config
    short = speech_wav(workdir / "speech_short.wav", sizes.reference_seconds)
    weights = workdir / "video_cnn.weights.h5"
    build_cnn(preset("original")).save_weights(weights)
    seconds = sizes.seconds
    done = predictor.talking_face(wav, workdir / "talk.mp4")
    gif_frames = original_landmark_gif(config, weights, short, workdir / "original")
    panel = max(256, config.image_size)
    bench.compare(
        "wav_to_video", f"(3) WAV → talking-face video, {seconds:g} s of speech ({done['frames']} frames at 100/3 fps, "
                        f"`{sizes.video_preset}`: {config.image_size}² faces)", "× real time",
        Case(f"the original's predict.py: restore-and-predict per frame, a matplotlib figure per frame (PNG + a frame "
             f"of a 24 fps GIF), landmarks only (the first {sizes.reference_seconds:g} s, {gif_frames} frames)",
             lambda: original_landmark_gif(config, weights, short, workdir / "original"), sizes.reference_seconds),
        [Case("`Predictor.talking_face(wav, out.mp4)`: landmarks beside the generated faces, speech muxed",
              lambda: predictor.talking_face(wav, workdir / "talk.mp4"), seconds),
         Case("`Predictor.talking_face(wav, out.mp4, landmarks_only=True)`: the landmark animation, speech muxed",
              lambda: predictor.talking_face(wav, workdir / "landmarks.mp4", landmarks_only=True), seconds)],
        reps=_reps(bench, sizes, 5), warmup=1,
        detail=f"Each call starts from the 48 kHz WAV on disk and ends with the file written: ours an H.264 MP4 of "
               f"{panel}² panels at exactly 100/3 fps with the speech as AAC (`zoo.render`, in a child process), "
               "z = D's logits of a seeded random reference face (the original's sampler, one z for the clip); the "
               "original's landmark GIF (its figures closed each frame: the original never closed them) on the "
               "first part of the same speech, rates per second of audio. The original could not make a face video "
               "from speech at all (its two stages were never chained).")

    features, samples = predictor.features(wav)
    values = predictor.landmark_values(features)
    faces = predictor.faces(values)

    def render():
        audio = workdir / "stage_audio.wav"
        sf.write(str(audio), samples, config.sample_rate, subtype="PCM_16")
        render_landmark_video(values, GRID_FPS, workdir / "stage.mp4", audio_path=audio, images=faces,
                              image_size=panel)

    stages = {"features: the WAV read, FFT windows": lambda: predictor.features(wav),
              "landmark CNN: `Predictor.landmark_values`": lambda: predictor.landmark_values(features),
              "generator: `Predictor.faces` (z from the reference face, G in batches of 64)":
                  lambda: predictor.faces(values),
              "video: the WAV written, `render_landmark_video` (child process, H.264 + AAC)": render}
    times = {name: [] for name in stages}
    for _ in range(_reps(bench, sizes, 5)):
        for name, fn in stages.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    values_ms = {f"{name}, ms": float(np.median(t)) * 1e3 for name, t in times.items()}
    total = sum(v for k, v in values_ms.items() if k.endswith(", ms"))
    values_ms["sum of the stages, ms"] = total
    values_ms["× real time of the sum"] = seconds / (total / 1e3)
    record = bench.record("video_stages", f"(3) where the talking-face video spends its time ({seconds:g} s of "
                                          f"speech, {len(values)} frames, {config.image_size}² faces)", values_ms,
                          detail=f"Medians of {_reps(bench, sizes, 5)} calls of each stage alone, back to back.")
    record["setup"] = {"preset": sizes.video_preset, "image_size": config.image_size, "frames": len(values),
                       "seconds": seconds}


def run(bench, sizes: Sizes = FULL) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-landmark-") as tmp:
        workdir = Path(tmp)
        wav = speech_wav(workdir / "speech.wav", sizes.seconds)
        bench_cnn(bench, workdir, wav, sizes)
        bench_generator(bench, sizes)
        bench_video(bench, workdir, wav, sizes)


# --------------------------------------------------------------------------------------------- the model card
def _rows(data: dict) -> dict:
    return {r["name"]: r for r in data["records"]}


def card(data: dict) -> str:
    """The model card's speed table, from this suite's results."""
    r = _rows(data)
    one, big, cost = r["cnn_batch1"], r["cnn_batch"], r["cnn_cost"]["values"]
    batch = int(big["ours"][0]["work"])
    ref = big["reference"]
    single, (fast, keras_fn, eager, bf16) = one["ours"][0], big["ours"]
    lines = ["| what | how | figure | goal |", "|---|---|---|---|",
             f"| landmark CNN, batch {batch} | `model.fast_landmarks` (batch inference) | "
             f"**{fast['rate'] * FRAME_SECONDS:,.0f}× real time** ({fast['rate']:,.0f} frames/s); "
             f"{fast['ratio']:,.0f}× the original's structure; the Keras model in a `tf.function` "
             f"{keras_fn['rate'] * FRAME_SECONDS:,.0f}×, its eager call (`Predictor`, one clip) "
             f"{eager['rate'] * FRAME_SECONDS:,.0f}× | ≥ {RT_GOAL}× real time |",
             f"| landmark CNN, batch {batch}, bfloat16 (flagged) | `fast_landmarks(precision=\"bfloat16\")` | "
             f"**{bf16['rate'] * FRAME_SECONDS:,.0f}× real time** ({bf16['rate']:,.0f} frames/s); "
             + (f"the committed preset's landmarks move by max {cost[BF16_PRESET]:.2g} (mouth LMD "
                f"{cost[BF16_PRESET_LMD]:.2f} px of a 256-px face)" if BF16_PRESET in cost
                else f"random weights' landmarks move by max {cost[BF16_RANDOM]:.2g}")
             + f" | ≥ {RT_GOAL}× real time |",
             f"| landmark CNN, batch 1 | one frame a `fast_landmarks` call | "
             f"{single['rate'] * FRAME_SECONDS:.0f}× real time ({single['median_s'] / single['work'] * 1e3:.2f} ms "
             f"a frame); {single['ratio']:.0f}× the original's structure | |",
             f"| the original's predict.py | model rebuilt + checkpoint restored per frame | "
             f"{ref['rate'] * FRAME_SECONDS:.2f}× real time ({ref['median_s'] / ref['work'] * 1e3:.0f} ms a frame) | |",
             f"| landmark CNN cost | TF profiler | {cost['FLOP per frame (TF profiler, multiply-add = 2)'] / 1e6:.1f} "
             f"MFLOP/frame; {cost[f'`fast_landmarks` at batch {batch}: fraction of the roofline']:.1%} of the matmul "
             "peak | |"]
    gen = r["generator_cost"]["values"]
    for name in sorted((n for n in r if n.startswith("generator_") and n != "generator_cost"),
                       key=lambda n: int(n.split("_")[1])):
        rec, size = r[name], int(name.split("_")[1])
        n = int(rec["ours"][0]["work"])
        flop, fraction = gen[f"{size}²: FLOP per image (TF profiler)"], gen[f"{size}²: fraction of the roofline"]
        lines.append(f"| generator {size}², inference mode | batch {n} / batch 1 | {rec['ours'][0]['rate']:,.1f} / "
                     f"{rec['ours'][1]['rate']:,.1f} images/s; {flop / 1e9:.2f} GFLOP/image, {fraction:.0%} of the "
                     "matmul peak "
                     f"(the original's batch-statistics sampler: {rec['reference']['rate']:,.1f} images/s) | |")
    video, stages = r["wav_to_video"], r["video_stages"]["values"]
    full, alone = video["ours"]
    parts = ", ".join(f"{key.split(':')[0]} {value / 1e3:.2f} s" for key, value in stages.items()
                      if key.endswith(", ms") and not key.startswith("sum"))
    size = r["video_stages"]["setup"]["image_size"]
    lines += [f"| WAV → talking-face video, {size}² faces | `Predictor.talking_face` | **{full['rate']:.1f}× real "
              f"time** (stages: {parts}); landmarks only {alone['rate']:.1f}×; the original's landmark GIF (no "
              f"faces) {video['reference']['rate']:.2f}× | |"]
    lines += ["", measured_line(data, "every figure beside the original's structure in the same run, interleaved "
                                      "call by call")]
    return "\n".join(lines)
