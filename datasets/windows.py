"""Audio windows around animation frames (NumPy; the tf.data versions are in ``tfdata``).

Frame ``i`` of a clip at ``fps`` is anchored at sample ``c_i = floor(i · sample_rate / fps)``.
A window of ``W`` samples with ``L`` samples of lookahead covers ``[c_i − (W − L), c_i + L)``;
samples outside the clip are zeros. There is no default window: each model passes its own
``WindowSpec``.

* centred (``lookahead_seconds=None`` → ``L = W // 2``); for example FACEGOOD/Karras' 520 ms
  window, ``WindowSpec(0.52, None)``: 260 ms of past and 260 ms of future audio (8320 samples
  at 16 kHz, 4160 zeros padded on each side);
* causal (``lookahead_seconds=0``): only audio before the frame's anchor.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np


@dataclass(frozen=True)
class WindowSpec:
    """A window of ``window_seconds`` with ``lookahead_seconds`` after the frame anchor (both required).

    ``lookahead_seconds=None`` centres the window (lookahead = half the window).
    """

    window_seconds: float
    lookahead_seconds: float | None

    def sizes(self, sample_rate: int) -> tuple[int, int]:
        """(window, lookahead) in samples at ``sample_rate``."""
        window = int(round(self.window_seconds * sample_rate))
        if window <= 0:
            raise ValueError(f"window of {self.window_seconds} s is empty at {sample_rate} Hz")
        if self.lookahead_seconds is None:
            return window, window // 2
        lookahead = int(round(self.lookahead_seconds * sample_rate))
        if not 0 <= lookahead <= window:
            raise ValueError(f"lookahead {self.lookahead_seconds} s must lie in [0, window]")
        return window, lookahead



def frame_anchors(num_frames: int, sample_rate: int, fps: float, first: int = 0) -> np.ndarray:
    """Sample index of the anchors of frames ``first … first + num_frames − 1``, ``floor(i · sample_rate / fps)``
    (int64)."""
    i = np.arange(first, first + num_frames, dtype=np.int64)
    f = Fraction(repr(float(fps)))  # exact for decimal fps: i·sr·q // p with fps = p/q
    return (i * int(sample_rate) * f.denominator) // f.numerator


def pad_for_windows(audio: np.ndarray, window: int, lookahead: int) -> np.ndarray:
    """Zero-pad ``audio`` by ``window − lookahead`` before and ``lookahead`` after."""
    return np.pad(np.asarray(audio, dtype=np.float32), (window - lookahead, lookahead))


def frame_windows(audio: np.ndarray, sample_rate: int, fps: float, num_frames: int,
                  spec: WindowSpec) -> np.ndarray:
    """All windows of a clip as a (num_frames, W) float32 array (a strided copy), W and L from ``spec``."""
    window, lookahead = spec.sizes(sample_rate)
    padded = pad_for_windows(audio, window, lookahead)
    starts = frame_anchors(num_frames, sample_rate, fps)
    need = int(starts[-1]) + window if num_frames else 0
    if need > padded.size:
        padded = np.pad(padded, (0, need - padded.size))
    view = np.lib.stride_tricks.sliding_window_view(padded, window)
    return np.ascontiguousarray(view[starts])
