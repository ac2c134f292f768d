"""Data-layer throughput, side by side with a reference in the same run (ratios, not absolutes).

1. Frame windows into tf.data: ``zoo.datasets.window_dataset`` (one gather per batch) against
   the common reference, a Python generator yielding one 520 ms window per frame through
   ``tf.data.Dataset.from_generator``. Same clips, same batch size, same windows.
2. Audio decoding: ``zoo.datasets.load_audio`` against ``librosa.load`` (sr=None, mono) on the
   same WAV files.

Run by ``make bench`` / ``zoo bench data`` (benchmarks/run.py). Uses the real FACEGOOD clips when
../shared/data/facegood exists, otherwise 2 minutes of synthetic 16 kHz audio.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
FACEGOOD = HERE.parent.parent / "shared" / "data" / "facegood"
BATCH = 256


def _clips():
    import zoo.datasets as zd

    if (FACEGOOD / "bs_value").is_dir():
        clips = zd.read_facegood(FACEGOOD, names_file=FACEGOOD / "shirley_1015_bs_name.npy",
                                 clip_ids=["1114_2_01", "1114_2_02"])
        return clips, [Path(c.source) for c in clips], "real FACEGOOD 1114_2_01 + 1114_2_02"
    rng = np.random.default_rng(0)
    tmp = Path(tempfile.mkdtemp())
    paths, clips = [], []
    for k in range(2):
        audio = (0.3 * np.sin(np.arange(16000 * 60) * 0.05 * (k + 1)) + 0.01 * rng.standard_normal(16000 * 60))
        path = tmp / f"synthetic_{k}.wav"
        sf.write(path, audio, 16000, subtype="PCM_16")
        a, _ = zd.load_audio(path)
        clips.append(zd.Clip(audio=a, sample_rate=16000, targets=np.zeros((1800, 4)), fps=30,
                             target_kind="blendshapes", channel_names=("a", "b", "c", "d"), source=str(path)))
        paths.append(path)
    return clips, paths, "2 x 60 s synthetic audio"


def run(bench) -> None:
    import librosa
    import tensorflow as tf
    from harness import Case

    import zoo.datasets as zd

    clips, paths, data_name = _clips()
    frames = sum(c.num_frames for c in clips)
    seconds = sum(c.duration for c in clips)
    spec = zd.WindowSpec(0.52, None)  # FACEGOOD's centred 520 ms window (8320 samples at 16 kHz)
    table = zd.FrameTable(clips, spec)

    def ours():
        for batch in zd.window_dataset(table, batch_size=BATCH):
            batch["audio"].numpy()

    def reference():
        def gen():
            for clip in clips:
                windows = zd.frame_windows(clip.audio, clip.sample_rate, clip.fps, clip.num_frames, spec)
                for i in range(clip.num_frames):
                    yield windows[i], clip.targets[i]

        ds = tf.data.Dataset.from_generator(gen, output_signature=(
            tf.TensorSpec([8320], tf.float32), tf.TensorSpec([clips[0].targets.shape[1]], tf.float32)))
        for audio, _ in ds.batch(BATCH).prefetch(tf.data.AUTOTUNE):
            audio.numpy()

    bench.compare("windows", f"520 ms frame windows → tf.data batches of {BATCH}", "frames/s",
                  Case("`tf.data.Dataset.from_generator`, one window per frame", reference, frames),
                  [Case("`zoo.datasets.window_dataset` (one gather per batch)", ours, frames)],
                  reps=bench.reps(3), detail=f"Data: {data_name}, {frames} frames, {seconds:.0f} s of audio.")
    bench.compare("decode", "WAV decode to float32 mono", "× real time",
                  Case("`librosa.load(sr=None, mono=True)`",
                       lambda: [librosa.load(p, sr=None, mono=True) for p in paths], seconds),
                  [Case("`zoo.datasets.load_audio`", lambda: [zd.load_audio(p) for p in paths], seconds)],
                  reps=bench.reps(5))
