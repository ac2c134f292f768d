"""tf.data pipelines over Clips: frame windows, consecutive-frame pairs and K-frame runs.

All clips' zero-padded audio is concatenated once into one tensor; a batch of frames is
gathered from it with one ``tf.gather`` of ``starts[:, None] + range(W)``, so the input
side costs a gather per batch and the pipeline stays model-bound. Windows follow the
``windows.WindowSpec`` the model passes (no default; e.g. FACEGOOD's centred 520 ms is
``WindowSpec(0.52, None)``): frame anchor ``floor(i·sr/fps)``, zeros outside the clip.

Elements are dicts: ``audio`` (B, W) float32, ``targets`` (B, D) float32, ``clip`` (B,)
int32 (index into the clip list), ``frame`` (B,) int32 (index in its clip) and ``index`` (B,)
int64 (index over all frames of the table). A table built with per-clip ``features`` (arrays
of (frames, ...) precomputed by a model, e.g. cached LPC) also yields ``features``; one built
with ``audio=False`` yields no ``audio``. With ``max_shift`` > 0 samples, ``gather`` can move
each window by a per-row shift in [−max_shift, max_shift] (time-shift augmentation).

Feature context windows (``context=(past, future)`` with 2-D ``features``, e.g. Aud2Repr2Pose's 61 MFCC frames):
each clip's rows (frames, D) are stored once, with ``past`` copies of ``pad`` (the row used outside the clip) before
and ``future`` after, in one float32 buffer for all clips; ``features`` of frame i is its clip's rows
i − past … i + future, (B, past + 1 + future, D), cut per batch by one ``tf.gather`` of ``starts[:, None] + range``.
Memory: (Σ T + (past + future) · clips) × D × 4 bytes, against (Σ T) × (past + 1 + future) × D × 8 bytes for a
materialised float64 window matrix (Aud2Repr2Pose's X: 230k frames × 61 × 26 × 8 B ≈ 2.9 GB; here
230k × 26 × 4 B ≈ 24 MB plus 60 pad rows per clip).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from .clip import Clip
from .windows import WindowSpec, frame_anchors, pad_for_windows


class FrameTable:
    """Every frame of ``clips`` with the start of its window in one padded audio buffer.

    ``spec`` is the model's window; a table with ``audio=False`` cuts no windows and takes ``spec=None``
    (its ``window`` and ``lookahead`` are then None). ``context=(past, future)`` makes ``features`` (each
    (frames, D)) come out as windows of ``past + 1 + future`` rows, with the row ``pad`` (D,) outside the clip
    (zeros when None; the model passes its own, e.g. a silence vector).
    """

    def __init__(self, clips: Sequence[Clip], spec: WindowSpec | None, *,
                 features: Sequence[np.ndarray] | None = None, audio: bool = True, max_shift: int = 0,
                 context: tuple[int, int] | None = None, pad: np.ndarray | None = None):
        if not clips:
            raise ValueError("no clips given")
        if audio and spec is None:
            raise ValueError("a window spec is needed to cut audio windows: pass the model's WindowSpec "
                             "(or audio=False)")
        if features is not None and len(features) != len(clips):
            raise ValueError(f"{len(features)} feature arrays for {len(clips)} clips")
        if max_shift < 0:
            raise ValueError(f"max_shift must be ≥ 0 samples, got {max_shift}")
        if context is None and pad is not None:
            raise ValueError("pad is the row outside a clip's context windows: it needs context=(past, future)")
        if context is not None:
            if features is None:
                raise ValueError("context windows are cut from per-frame features: pass features=[(frames, D), ...]")
            if len(context) != 2 or any(int(c) != c or c < 0 for c in context):
                raise ValueError(f"context must be (past, future) frames, two integers ≥ 0, got {context!r}")
        first = clips[0]
        for k, clip in enumerate(clips):
            if audio and not clip.has_audio:
                raise ValueError(f"{clip.source}: clip has no audio to cut windows from")
            if clip.sample_rate != first.sample_rate or clip.fps != first.fps:
                raise ValueError(
                    f"{clip.source}: {clip.sample_rate} Hz / {clip.fps} fps differs from "
                    f"{first.source}: {first.sample_rate} Hz / {first.fps} fps; resample first"
                )
            if clip.channel_names != first.channel_names:
                raise ValueError(f"{clip.source}: channel names differ from {first.source}'s")
            if features is not None and len(features[k]) != clip.num_frames:
                raise ValueError(f"{clip.source}: {len(features[k])} feature rows for {clip.num_frames} frames")
        self.window, self.lookahead = spec.sizes(first.sample_rate) if spec is not None else (None, None)
        self.max_shift = int(max_shift)
        buffers, starts, clip_ids, frame_ids = [], [], [], []
        offset = 0
        for k, clip in enumerate(clips):
            clip_ids.append(np.full(clip.num_frames, k, np.int32))
            frame_ids.append(np.arange(clip.num_frames, dtype=np.int32))
            if not audio:
                continue
            # max_shift zeros on both sides keep shifted windows inside this clip's buffer
            padded = np.pad(pad_for_windows(clip.audio, self.window, self.lookahead), self.max_shift)
            anchors = frame_anchors(clip.num_frames, clip.sample_rate, clip.fps) + self.max_shift
            tail = int(anchors[-1]) + self.window + self.max_shift - padded.size if clip.num_frames else 0
            if tail > 0:  # frames whose window runs past the padded end (tolerant clips)
                padded = np.pad(padded, (0, tail))
            buffers.append(padded)
            starts.append(anchors + offset)
            offset += padded.size
        self.clips = list(clips)
        self.audio = tf.constant(np.concatenate(buffers)) if audio else None
        self.starts = tf.constant(np.concatenate(starts)) if audio else None
        self.context = None if context is None else (int(context[0]), int(context[1]))
        self.feature_starts = None
        if context is not None:
            self.features, self.feature_starts = self._context_buffer(clips, features, pad)
        else:
            self.features = (tf.constant(np.concatenate([np.asarray(f, np.float32) for f in features]))
                             if features is not None else None)
        self.clip_ids = tf.constant(np.concatenate(clip_ids))
        self.frame_ids = tf.constant(np.concatenate(frame_ids))
        self.targets = tf.constant(np.concatenate([c.targets for c in clips]))
        self.num_frames = int(self.clip_ids.shape[0])
        self._ends = np.cumsum([c.num_frames for c in clips])
        self.pair_starts = self.run_starts(2)

    def _context_buffer(self, clips, features, pad) -> tuple[tf.Tensor, tf.Tensor]:
        """One float32 buffer [pad × past, rows of clip 0, pad × future, pad × past, rows of clip 1, ...] and the
        buffer row where each frame's window starts (int64): frame i of a clip at offset o starts at o + i."""
        past, future = self.context
        arrays = [np.asarray(f) for f in features]
        for clip, f in zip(clips, arrays):
            if f.ndim != 2:
                raise ValueError(f"{clip.source}: context windows need (frames, D) features, got shape {f.shape}")
            if f.shape[1] != arrays[0].shape[1]:
                raise ValueError(f"{clip.source}: {f.shape[1]} feature columns, {clips[0].source} has "
                                 f"{arrays[0].shape[1]}")
        dims = arrays[0].shape[1]
        row = np.zeros(dims, np.float32) if pad is None else np.asarray(pad, np.float32)
        if row.shape != (dims,):
            raise ValueError(f"pad must be one feature row of shape ({dims},), got {row.shape}")
        if not np.isfinite(row).all():
            raise ValueError("pad contains NaN or Inf")
        total = sum(len(f) for f in arrays) + (past + future) * len(arrays)
        buffer = np.empty((total, dims), np.float32)
        starts = []
        offset = 0
        for f in arrays:
            n = len(f)
            buffer[offset:offset + past] = row
            buffer[offset + past:offset + past + n] = f
            buffer[offset + past + n:offset + past + n + future] = row
            starts.append(offset + np.arange(n, dtype=np.int64))
            offset += past + n + future
        return tf.constant(buffer), tf.constant(np.concatenate(starts))

    def run_starts(self, length: int) -> np.ndarray:
        """Global indices g (int64) whose frames g … g + length − 1 all lie in g's clip: the first frames of every
        run of ``length`` true neighbours (no frame is paired with itself or with another clip's)."""
        if length < 1:
            raise ValueError(f"a run needs at least one frame, got {length}")
        starts = np.concatenate([np.arange(end - n, end - length + 1) for end, n in
                                 zip(self._ends, (c.num_frames for c in self.clips))])
        return starts.astype(np.int64)

    def gather(self, frames: tf.Tensor, shift: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        """Windows, targets and ids of global frame indices ``frames`` (B,); ``features`` (B, past + 1 + future, D)
        with ``context``, else (B, ...) per frame.

        ``shift`` (B,) int64 moves each window by that many samples (|shift| ≤ max_shift).
        """
        out = {
            "targets": tf.gather(self.targets, frames),
            "clip": tf.gather(self.clip_ids, frames),
            "frame": tf.gather(self.frame_ids, frames),
            "index": frames,
        }
        if self.audio is not None:
            starts = tf.gather(self.starts, frames)
            if shift is not None:
                starts += tf.clip_by_value(shift, -self.max_shift, self.max_shift)
            idx = starts[:, None] + tf.range(self.window, dtype=tf.int64)[None, :]
            out["audio"] = tf.gather(self.audio, idx)
        if self.feature_starts is not None:
            first = tf.gather(self.feature_starts, frames)
            rows = first[:, None] + tf.range(sum(self.context) + 1, dtype=tf.int64)[None, :]
            out["features"] = tf.gather(self.features, rows)
        elif self.features is not None:
            out["features"] = tf.gather(self.features, frames)
        return out


def _indices(indices: np.ndarray, batch_size: int, shuffle: bool, seed: int | None,
             drop_remainder: bool) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(indices, tf.int64))
    if shuffle:
        ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder)


def _table(clips: Sequence[Clip] | FrameTable, spec: WindowSpec | None) -> FrameTable:
    if isinstance(clips, FrameTable):
        return clips
    if spec is None:
        raise ValueError("a window spec is needed to cut windows from clips: pass spec=WindowSpec(...) "
                         "(the model's window) or a FrameTable")
    return FrameTable(clips, spec)


def window_dataset(clips: Sequence[Clip] | FrameTable, *, batch_size: int,
                   spec: WindowSpec | None = None, shuffle: bool = False, seed: int | None = None,
                   drop_remainder: bool = False) -> tf.data.Dataset:
    """Batches of single frames with their audio windows (in clip order unless ``shuffle``).

    ``spec`` (the model's window) is needed for Clips; a FrameTable brings its own.
    """
    table = _table(clips, spec)
    ds = _indices(np.arange(table.num_frames), batch_size, shuffle, seed, drop_remainder)
    return ds.map(table.gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def pair_dataset(clips: Sequence[Clip] | FrameTable, *, batch_size: int,
                 spec: WindowSpec | None = None, shuffle: bool = True,
                 seed: int | None = None, random_shift: bool = False, stacked: bool = False) -> tf.data.Dataset:
    """Batches of consecutive-frame pairs for motion losses (Karras 2017 §4).

    A batch of ``batch_size`` (even) rows holds ``batch_size/2`` pairs: row ``j`` is frame
    ``t_j`` and row ``j + batch_size/2`` is frame ``t_j + 1`` of the same clip, so
    ``tf.split(x, 2)`` yields the two halves of every pair. With ``stacked`` every element has the
    pairs on axis 1 instead, (batch_size/2, 2, ...), so that a ``tf.distribute`` strategy, which
    splits batches along axis 0 over its replicas, keeps every pair whole. Incomplete batches are dropped.
    ``random_shift`` moves both windows of a pair by one uniform shift in [−max_shift,
    max_shift] samples of the table (seeded by ``seed``). ``spec`` (the model's window) is needed
    for Clips; a FrameTable brings its own.
    """
    if batch_size < 2 or batch_size % 2:
        raise ValueError(f"batch_size must be even and ≥ 2 for frame pairs, got {batch_size}")
    table = _table(clips, spec)
    if len(table.pair_starts) < batch_size // 2:
        raise ValueError(f"only {len(table.pair_starts)} frame pairs, fewer than one batch of {batch_size // 2}")
    ds = _indices(table.pair_starts, batch_size // 2, shuffle, seed, drop_remainder=True)

    if random_shift and (table.audio is None or table.max_shift == 0):
        raise ValueError("random_shift needs a table with audio and max_shift > 0")

    def gather_pairs(first):
        return table.gather(tf.concat([first, first + 1], axis=0))

    def gather_shifted_pairs(batch, first):  # stateless per batch: deterministic under parallel map
        shift = tf.random.stateless_uniform(tf.shape(first), seed=tf.stack([tf.constant(seed or 0, tf.int64), batch]),
                                            minval=-table.max_shift, maxval=table.max_shift + 1, dtype=tf.int64)
        return table.gather(tf.concat([first, first + 1], axis=0), tf.concat([shift, shift], axis=0))

    def stack(batch):
        return {k: tf.stack(tf.split(v, 2, axis=0), axis=1) for k, v in batch.items()}

    if random_shift:
        ds = ds.enumerate().map(gather_shifted_pairs, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(gather_pairs, num_parallel_calls=tf.data.AUTOTUNE)
    if stacked:
        ds = ds.map(stack, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def run_dataset(clips: Sequence[Clip] | FrameTable, *, length: int, batch_size: int,
                spec: WindowSpec | None = None, shuffle: bool = True, seed: int | None = None) -> tf.data.Dataset:
    """Batches of runs of ``length`` consecutive frames of one clip (VOCA's K-frame windows, spec voca §3).

    Every element has the runs on axis 0 and the frames of a run on axis 1: (batch_size, length, ...), so a
    ``tf.distribute`` strategy keeps every run whole. Runs start at ``FrameTable.run_starts(length)``: frame t is
    only ever beside its true neighbours. Incomplete batches are dropped.
    """
    table = _table(clips, spec)
    starts = table.run_starts(length)
    if len(starts) < batch_size:
        raise ValueError(f"only {len(starts)} runs of {length} frames, fewer than one batch of {batch_size}")
    ds = _indices(starts, batch_size, shuffle, seed, drop_remainder=True)

    def gather_runs(first):
        frames = tf.reshape(first[:, None] + tf.range(length, dtype=tf.int64)[None, :], [-1])
        return {k: tf.reshape(v, tf.concat([[-1, length], tf.shape(v)[1:]], axis=0))
                for k, v in table.gather(frames).items()}

    return ds.map(gather_runs, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
