"""Aud2Repr2Pose speed and memory, side by side with the original's structure in the same run (issue 15, item 10).

Data: 20 s of speech, the shipped parity sentence (``zoo.core.parity_speech()``, espeak-ng) repeated, resampled to
44.1 kHz and written as a PCM_16 WAV, so the pipeline reads and featurises a real file. Model: the ``proposed``
preset at full size (SpeechE 620,101 parameters + the DAE 384 → 325 → 384) with seeded random weights (the cost does
not depend on them), built once.

1. WAV → motion file on disk, in × real time (seconds of audio per second of work; goal ≥ 100×): ours is
   ``Predictor.predict`` (MFCC of the whole clip; SpeechE over every 61-frame window with the per-frame layers and
   the GRU's input projection computed once per frame, ``model.SlidingSpeechE``; the DAE decoder) +
   ``write_motion(.bvh)`` (inverse kinematics on the skeleton, BVH text); the reference is the original's structure:
   the windows materialised as a float64 (T, 61, 26) matrix grown with ``np.append`` frame by frame
   (``create_vector.py``), SpeechE alone, ``np.savetxt`` of the codes, the decoder in fixed batches of 8 read back
   from that text (``decode.py``), velocities removed and the (T, 192) positions written with ``np.savetxt`` (the
   original could not write BVH).
2. Peak memory of the feature windows of 10 minutes of audio (35 takes of ~17 s, the dataset's mean): ours keeps each
   take's (T, 26) features once with 30 silence rows on each side in one float32 buffer
   (``FrameTable(context=(30, 30))``) and cuts a batch of windows at a time; the original grew float64 (T, 61, 26)
   windows with ``np.append`` per take and appended every take to X. Peaks by ``tracemalloc`` (NumPy's allocations).

Run by ``make bench`` / ``zoo bench gesture_ae`` (benchmarks/run.py).
"""
from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from harness import measured_line

SECONDS = 20  # the clip of (1)
RT_GOAL = 100  # × real time of WAV → BVH
MEMORY_MINUTES, TAKE_SECONDS = 10, 17  # (2): 10 minutes in takes of the dataset's mean length
BATCH = 256  # windows a training batch cuts at a time (ours)
DECODE_BATCH = 8  # decode.py's fixed batch


def speech_wav(path: Path, seconds: float) -> Path:
    """``seconds`` of the parity sentence repeated, resampled to 44.1 kHz, as PCM_16."""
    import soundfile as sf

    from zoo.core import parity_speech
    from zoo.datasets import resample

    audio, rate = parity_speech()
    audio = resample(np.asarray(audio, np.float32), rate, 44100)
    n = int(round(seconds * 44100))
    sf.write(path, np.tile(audio, -(-n // len(audio)))[:n], 44100, subtype="PCM_16")
    return path


def setup():
    """A Predictor of the full-size ``proposed`` preset with seeded random weights and DAE statistics of poses around
    the skeleton's rest pose."""
    import keras

    from zoo.datasets import gesture_skeleton
    from zoo.gesture_ae import preset
    from zoo.gesture_ae.model import build_dae, build_speech_encoder, dae_statistics
    from zoo.gesture_ae.predict import Predictor, build_network

    keras.utils.set_random_seed(0)
    config = preset("proposed")
    skeleton = gesture_skeleton()
    rng = np.random.default_rng(0)
    poses = rng.normal(size=(512, config.output_dim)).astype(np.float32) * 5 + 30
    dae = build_dae(config, dae_statistics(poses))
    network = build_network(config, build_speech_encoder(config), dae)
    return Predictor(network, config, skeleton, poses.reshape(512, -1, 6)[..., :3].reshape(512, -1).mean(0))


def ours_pipeline(predictor, wav: Path, out: Path) -> int:
    """What ``zoo gesture_ae predict --out motion.bvh`` does after loading; returns the frames."""
    animation = predictor.predict(wav)
    predictor.write_motion(animation, out)
    return len(animation.values)


def original_pipeline(predictor, wav: Path, out: Path) -> int:
    """The original's structure (module docstring, (1)); returns the frames written (T rounded down to 8)."""
    from zoo.datasets import load_audio
    from zoo.gesture_ae import features as feats
    from zoo.gesture_ae.motion import remove_velocity

    audio, rate = load_audio(wav)
    x = np.asarray(feats.mfcc(audio, rate), np.float64)
    padded = feats.pad_context(x).astype(np.float64)
    windows = np.empty((0, feats.WINDOW_FRAMES, x.shape[1]))
    for i in range(len(x)):  # create_vector.py: np.append a window at a time
        windows = np.append(windows, padded[None, i:i + feats.WINDOW_FRAMES], axis=0)
    speech, dae = predictor.network.speech_encoder, predictor.network.dae
    codes = speech.predict(windows.astype(np.float32), batch_size=256, verbose=0)
    np.savetxt(out.with_suffix(".codes.txt"), codes, fmt="%.18e")  # predict.py's output
    codes = np.loadtxt(out.with_suffix(".codes.txt"))  # decode.py reads it back
    usable = DECODE_BATCH * (len(codes) // DECODE_BATCH)
    poses = np.concatenate([np.asarray(dae.decode(codes[i:i + DECODE_BATCH].astype(np.float32)))
                            for i in range(0, usable, DECODE_BATCH)])
    np.savetxt(out, remove_velocity(poses), fmt="%.18e")  # remove_velocity.py → (T', 192)
    return usable


def bench_pipeline(bench, workdir: Path, predictor) -> None:
    from harness import Case

    wav = speech_wav(workdir / "speech.wav", SECONDS)
    frames = ours_pipeline(predictor, wav, workdir / "ours.bvh")
    written = original_pipeline(predictor, wav, workdir / "original.txt")
    record = bench.compare(
        "wav_to_bvh", f"(1) WAV → motion file, {SECONDS} s of speech ({frames} frames at 20 fps)", "× real time",
        Case("the original's structure: float64 windows grown with `np.append`, SpeechE, codes through `np.savetxt`/"
             "`np.loadtxt`, the decoder in batches of 8, (T, 192) positions with `np.savetxt` (no BVH)",
             lambda: original_pipeline(predictor, wav, workdir / "original.txt"), SECONDS),
        [Case("`Predictor.predict(wav)` (SpeechE over every window with the per-frame work done once, then the DAE "
              "decoder) + `write_motion(.bvh)` (inverse kinematics, BVH text)",
              lambda: ours_pipeline(predictor, wav, workdir / "ours.bvh"), SECONDS)],
        reps=bench.reps(6), warmup=1,
        detail="Each call starts from the WAV on disk (44.1 kHz PCM_16) and ends with the motion file written; the "
               "networks are built once, outside the timing. The reference keeps the original's steps and file "
               f"formats; its decoder drops the last frames that do not fill a batch of 8 ({frames - written} of "
               f"{frames} here), ours decodes every frame. Ours writes more (a BVH through inverse kinematics).")
    bench.goal(record, "WAV → BVH, × real time at 20 fps", record["ours"][0]["rate"], RT_GOAL, unit="×")


def _takes(minutes: float, seconds: float, dims: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    frames = int(seconds * 20)
    return [rng.normal(size=(frames, dims)).astype(np.float32) for _ in range(int(minutes * 60 / seconds))]


def _peak(fn) -> float:
    """Peak MiB of NumPy allocations while ``fn`` runs (tracemalloc)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def bench_memory(bench) -> None:
    from zoo.gesture_ae import features as feats

    takes = _takes(MEMORY_MINUTES, TAKE_SECONDS, 26)
    frames = sum(len(t) for t in takes)

    def ours():
        buffer = np.concatenate([feats.pad_context(t) for t in takes])  # FrameTable's feature buffer
        idx = np.arange(BATCH)[:, None] + np.arange(feats.WINDOW_FRAMES)[None, :]
        return buffer[idx]  # one batch of windows

    def original():
        x = np.empty((0, feats.WINDOW_FRAMES, 26))
        for t in takes:
            padded = feats.pad_context(t).astype(np.float64)
            windows = np.empty((0, feats.WINDOW_FRAMES, 26))
            for i in range(len(t)):
                windows = np.append(windows, padded[None, i:i + feats.WINDOW_FRAMES], axis=0)
            x = np.append(x, windows, axis=0)
        return x

    started = time.perf_counter()
    ours_mb = _peak(ours)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    original_mb = _peak(original)
    original_s = time.perf_counter() - started
    record = bench.record(
        "window_memory", f"(2) feature windows of {MEMORY_MINUTES} min of audio ({len(takes)} takes, {frames:,} "
                         "frames, 26 MFCCs)",
        {"ours: peak MiB (float32 buffer + one batch of 256 windows)": ours_mb,
         "original: peak MiB (float64 windows grown with np.append)": original_mb,
         "ratio (original / ours)": original_mb / ours_mb, "ours: seconds to build": ours_s,
         "original: seconds to build": original_s},
        detail="tracemalloc peaks of NumPy's allocations while each builds what training reads. The final "
               f"original matrix alone is {frames * feats.WINDOW_FRAMES * 26 * 8 / 2**20:.0f} MiB; np.append copies "
               "the whole array each time, so its peak is about twice that and its time grows with the square of a "
               "take's length. Ours: the padded float32 features once, then one batch at a time (in training the "
               "buffer is a tf.constant and the batch a tf.gather).")
    bench.goal(record, "window memory, original / ours", original_mb / ours_mb, 10, unit="×")


def run(bench) -> None:
    predictor = setup()
    with tempfile.TemporaryDirectory(prefix="bench-gesture-") as tmp:
        bench_pipeline(bench, Path(tmp), predictor)
    bench_memory(bench)


def _rows(data: dict) -> dict:
    return {r["name"]: r for r in data["records"]}


def card(data: dict) -> str:
    """The model card's speed table, from this suite's results."""
    r = _rows(data)
    wav, mem = r["wav_to_bvh"], r["window_memory"]["values"]
    ours = wav["ours"][0]
    lines = ["| what | how | figure | goal |", "|---|---|---|---|",
             f"| WAV → BVH on disk, {SECONDS} s of speech, full-size `proposed` | `Predictor.predict` + "
             f"`write_motion(.bvh)` | **{ours['rate']:.0f}× real time** at 20 fps; {ours['ratio']:.1f}× the "
             f"original's structure ({wav['reference']['rate']:.1f}× real time, txt only) | ≥ {RT_GOAL}× real time |",
             f"| feature windows of {MEMORY_MINUTES} min of audio | float32 buffer, windows cut per batch | "
             f"{mem['ours: peak MiB (float32 buffer + one batch of 256 windows)']:.1f} MiB vs "
             f"{mem['original: peak MiB (float64 windows grown with np.append)']:.0f} MiB "
             f"({mem['ratio (original / ours)']:.0f}× less; built in {mem['ours: seconds to build']:.2f} s vs "
             f"{mem['original: seconds to build']:.1f} s) | |"]
    lines += ["", measured_line(data, "every figure beside its reference in the same run")]
    return "\n".join(lines)
