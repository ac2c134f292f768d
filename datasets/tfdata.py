"""tf.data pipelines over Clips: frame windows and consecutive-frame pairs.

All clips' zero-padded audio is concatenated once into one tensor; a batch of frames is
gathered from it with one ``tf.gather`` of ``starts[:, None] + range(W)``, so the input
side costs a gather per batch and the pipeline stays model-bound. Windows follow
``windows.WindowSpec`` (frame anchor ``floor(i·sr/fps)``, zeros outside the clip).

Elements are dicts: ``audio`` (B, W) float32, ``targets`` (B, D) float32, ``clip`` (B,)
int32 (index into the clip list) and ``frame`` (B,) int32.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from .clip import Clip
from .windows import CENTRED_520MS, WindowSpec, frame_anchors, pad_for_windows


class FrameTable:
    """Every frame of ``clips`` with the start of its window in one padded audio buffer."""

    def __init__(self, clips: Sequence[Clip], spec: WindowSpec = CENTRED_520MS):
        if not clips:
            raise ValueError("no clips given")
        first = clips[0]
        for clip in clips:
            if not clip.has_audio:
                raise ValueError(f"{clip.source}: clip has no audio to cut windows from")
            if clip.sample_rate != first.sample_rate or clip.fps != first.fps:
                raise ValueError(
                    f"{clip.source}: {clip.sample_rate} Hz / {clip.fps} fps differs from "
                    f"{first.source}: {first.sample_rate} Hz / {first.fps} fps; resample first"
                )
            if clip.channel_names != first.channel_names:
                raise ValueError(f"{clip.source}: channel names differ from {first.source}'s")
        self.window, self.lookahead = spec.sizes(first.sample_rate)
        buffers, starts, clip_ids, frame_ids = [], [], [], []
        offset = 0
        for k, clip in enumerate(clips):
            padded = pad_for_windows(clip.audio, self.window, self.lookahead)
            anchors = frame_anchors(clip.num_frames, clip.sample_rate, clip.fps)
            tail = int(anchors[-1]) + self.window - padded.size if clip.num_frames else 0
            if tail > 0:  # frames whose window runs past the padded end (tolerant clips)
                padded = np.pad(padded, (0, tail))
            buffers.append(padded)
            starts.append(anchors + offset)
            clip_ids.append(np.full(clip.num_frames, k, np.int32))
            frame_ids.append(np.arange(clip.num_frames, dtype=np.int32))
            offset += padded.size
        self.clips = list(clips)
        self.audio = tf.constant(np.concatenate(buffers))
        self.starts = tf.constant(np.concatenate(starts))
        self.clip_ids = tf.constant(np.concatenate(clip_ids))
        self.frame_ids = tf.constant(np.concatenate(frame_ids))
        self.targets = tf.constant(np.concatenate([c.targets for c in clips]))
        self.num_frames = int(self.starts.shape[0])
        ends = np.cumsum([c.num_frames for c in clips])
        # a frame g has a successor in its own clip unless it is a clip's last frame
        has_next = np.ones(self.num_frames, bool)
        has_next[ends - 1] = False
        self.pair_starts = np.flatnonzero(has_next).astype(np.int64)

    def gather(self, frames: tf.Tensor) -> dict[str, tf.Tensor]:
        """Windows, targets and ids of global frame indices ``frames`` (B,)."""
        idx = tf.gather(self.starts, frames)[:, None] + tf.range(self.window, dtype=tf.int64)[None, :]
        return {
            "audio": tf.gather(self.audio, idx),
            "targets": tf.gather(self.targets, frames),
            "clip": tf.gather(self.clip_ids, frames),
            "frame": tf.gather(self.frame_ids, frames),
        }


def _indices(indices: np.ndarray, batch_size: int, shuffle: bool, seed: int | None,
             drop_remainder: bool) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(indices, tf.int64))
    if shuffle:
        ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder)


def window_dataset(clips: Sequence[Clip] | FrameTable, *, batch_size: int,
                   spec: WindowSpec = CENTRED_520MS, shuffle: bool = False, seed: int | None = None,
                   drop_remainder: bool = False) -> tf.data.Dataset:
    """Batches of single frames with their audio windows (in clip order unless ``shuffle``)."""
    table = clips if isinstance(clips, FrameTable) else FrameTable(clips, spec)
    ds = _indices(np.arange(table.num_frames), batch_size, shuffle, seed, drop_remainder)
    return ds.map(table.gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def pair_dataset(clips: Sequence[Clip] | FrameTable, *, batch_size: int,
                 spec: WindowSpec = CENTRED_520MS, shuffle: bool = True,
                 seed: int | None = None) -> tf.data.Dataset:
    """Batches of consecutive-frame pairs for motion losses (Karras 2017 §4).

    A batch of ``batch_size`` (even) rows holds ``batch_size/2`` pairs: row ``j`` is frame
    ``t_j`` and row ``j + batch_size/2`` is frame ``t_j + 1`` of the same clip, so
    ``tf.split(x, 2)`` yields the two halves of every pair. Incomplete batches are dropped.
    """
    if batch_size < 2 or batch_size % 2:
        raise ValueError(f"batch_size must be even and ≥ 2 for frame pairs, got {batch_size}")
    table = clips if isinstance(clips, FrameTable) else FrameTable(clips, spec)
    if len(table.pair_starts) < batch_size // 2:
        raise ValueError(f"only {len(table.pair_starts)} frame pairs, fewer than one batch of {batch_size // 2}")
    ds = _indices(table.pair_starts, batch_size // 2, shuffle, seed, drop_remainder=True)

    def gather_pairs(first):
        return table.gather(tf.concat([first, first + 1], axis=0))

    return ds.map(gather_pairs, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
