"""Named animation curves, the output every model of the zoo hands to users.

``Animation(values, names, fps)``: ``values`` (frames, channels) float32, frame i at t = i / fps s.
Writers by suffix (atomic): ``.csv`` (header ``time,<names>``, time in seconds), ``.npy`` (a
structured array with one float32 field per name: readable without pickle, but it holds no fps)
and ``.json`` ({fps, names, frames}). ``clipped``, ``smoothed`` (``moving_average``) and ``selected`` return
new Animations; ``plot`` draws the main curves to a PNG through ``zoo.render`` (no TensorFlow).
"""
from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.datasets.arkit import select_channels
from zoo.datasets.cache import atomic_write_bytes, npy_bytes

OUTPUT_SUFFIXES = (".csv", ".npy", ".json")


def moving_average(values, width: int) -> np.ndarray:
    """Centred moving average of frames (N, ...) over ``width`` frames (odd ≥ 1): frame i is the mean of frames
    max(0, i − h) … min(N − 1, i + h), h = width // 2 (at the edges, of the frames present; any N, also N < width).
    float32 (sums in float64); width 1 or no frame returns the values as float32 unchanged."""
    if width < 1 or width % 2 == 0:
        raise ValueError(f"smoothing width must be an odd number ≥ 1, got {width}")
    values = np.asarray(values, np.float32)
    if width == 1 or len(values) == 0:
        return values
    h, n = width // 2, len(values)
    sums = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0, dtype=np.float64)])
    lo, hi = np.maximum(np.arange(n) - h, 0), np.minimum(np.arange(n) + h + 1, n)
    counts = (hi - lo).reshape(-1, *[1] * (values.ndim - 1))
    return ((sums[hi] - sums[lo]) / counts).astype(np.float32)


@dataclass
class Animation:
    """Named curves: ``values`` (frames, channels) float32 at ``fps`` frames per second."""

    values: np.ndarray
    names: tuple[str, ...]
    fps: float

    def __post_init__(self):
        self.values = np.asarray(self.values, np.float32)
        self.names = tuple(self.names)
        if self.values.ndim != 2 or self.values.shape[1] != len(self.names):
            raise ValueError(f"values {self.values.shape} do not match {len(self.names)} names")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")

    @property
    def seconds(self) -> float:
        return len(self.values) / self.fps

    def clipped(self, low: float = 0.0, high: float = 1.0) -> Animation:
        return Animation(np.clip(self.values, low, high), self.names, self.fps)

    def smoothed(self, frames: int) -> Animation:
        """``moving_average`` over ``frames`` (odd, 1 ≤ frames ≤ the clip's frames) frames; edges average the
        frames present. The frame count never changes."""
        out = moving_average(self.values, frames)  # refuses an even width first
        if frames > len(self.values):
            raise ValueError(f"smoothing width {frames} exceeds the clip's {len(self.values)} frames")
        return Animation(out, self.names, self.fps)

    def selected(self, names: Sequence[str]) -> Animation:
        """The channels ``names``, in that order (a KeyError names the first one missing)."""
        missing = [n for n in names if n not in self.names]
        if missing:
            raise KeyError(f"no channel {missing[0]!r} (of {len(missing)} missing); channels: {list(self.names)[:8]} …")
        return Animation(select_channels(self.values, self.names, names), names, self.fps)

    def plot(self, path: str | os.PathLike, *, reference: np.ndarray | None = None, title: str = "") -> Path:
        """A PNG of the main curves (``zoo.render.plot_curves``)."""
        from zoo.render import plot_curves

        return plot_curves(self.values, self.names, self.fps, path, reference=reference, title=title)

    def write(self, path: str | os.PathLike) -> Path:
        """Write by suffix (module docstring); atomic."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(["time", *self.names])
            for i, row in enumerate(self.values):
                writer.writerow([f"{i / self.fps:.6f}", *(f"{v:.6g}" for v in row)])
            data = buf.getvalue().encode()
        elif suffix == ".npy":
            table = np.zeros(len(self.values), dtype=[(n, "<f4") for n in self.names])
            for k, name in enumerate(self.names):
                table[name] = self.values[:, k]
            data = npy_bytes(table)
        elif suffix == ".json":
            data = json.dumps({"fps": self.fps, "names": list(self.names),
                               "frames": np.round(self.values, 6).tolist()}).encode()
        else:
            raise ValueError(f"{path}: unknown output format {suffix!r}; use one of {OUTPUT_SUFFIXES}")
        atomic_write_bytes(path, data)
        return path

    @classmethod
    def read(cls, path: str | os.PathLike, fps: float | None = None) -> Animation:
        """Read a file written by ``write``. ``fps`` is needed for .npy (which holds none) and for a
        one-frame .csv; for .json and longer .csv files it is read from the file."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".npy":
            if fps is None:
                raise ValueError(f"{path}: a .npy animation holds no frame rate; pass fps")
            table = np.load(path, allow_pickle=False)
            names = table.dtype.names
            return cls(np.stack([table[n] for n in names], axis=1), names, fps)
        if suffix == ".json":
            doc = json.loads(path.read_text())
            return cls(np.asarray(doc["frames"], np.float32).reshape(-1, len(doc["names"])), doc["names"], doc["fps"])
        if suffix == ".csv":
            rows = list(csv.reader(path.read_text().splitlines()))
            times = np.array([float(r[0]) for r in rows[1:]])
            if len(times) > 1:
                fps = round((len(times) - 1) / (times[-1] - times[0]), 3)
            elif fps is None:
                raise ValueError(f"{path}: one frame gives no frame rate; pass fps")
            values = np.array([[float(v) for v in r[1:]] for r in rows[1:]], np.float32)
            return cls(values.reshape(-1, len(rows[0]) - 1), rows[0][1:], fps)
        raise ValueError(f"{path}: unknown format {suffix!r}; use one of {OUTPUT_SUFFIXES}")


__all__ = ["Animation", "moving_average", "OUTPUT_SUFFIXES"]
