"""Blendshape curves over time as a PNG (matplotlib's Agg canvas; the global pyplot backend is never touched)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["plot_curves", "pick_channels"]


def _as_2d(name: str, values) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (T, K), got {np.shape(values)}")
    return arr


def pick_channels(values: np.ndarray, names: Sequence[str], channels=None, reference=None,
                  max_channels: int = 8) -> list[int]:
    """Column indices to plot: ``channels`` by name (or index) in the given order, else the
    ``max_channels`` columns of largest variance (prediction plus reference), largest first."""
    k = values.shape[1]
    if channels is not None:
        index = {str(n): i for i, n in enumerate(names)}
        picked, missing = [], []
        for c in channels:
            if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
                if not -k <= int(c) < k:
                    missing.append(c)
                else:
                    picked.append(int(c) % k)
            elif str(c) in index:
                picked.append(index[str(c)])
            else:
                missing.append(c)
        if missing:
            raise KeyError(f"channels not present: {missing[:10]}")
        if not picked:
            raise ValueError("channels is empty")
        return picked
    if max_channels < 1:
        raise ValueError(f"max_channels must be >= 1, got {max_channels}")
    var = np.nan_to_num(np.nanvar(values, axis=0)) if values.shape[0] > 1 else np.zeros(k)
    if reference is not None and reference.shape[0] > 1:
        var = var + np.nan_to_num(np.nanvar(reference, axis=0))
    order = np.argsort(-var, kind="stable")
    return [int(i) for i in order[:max_channels]]


def plot_curves(values, names: Sequence[str], fps: float, out_png, *, channels=None, reference=None,
                title: str | None = None, max_channels: int = 8) -> Path:
    """Plot channels of ``values`` (T, K) against time in seconds, one subplot each; returns the PNG path.

    ``channels`` picks columns by name (default: the ``max_channels`` of largest variance). ``reference``
    (T, K) is drawn dashed, with a "prediction" / "reference" legend. Written atomically.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    vals = _as_2d("values", values)
    names = [str(n) for n in names]
    if len(names) != vals.shape[1]:
        raise ValueError(f"values have {vals.shape[1]} channels but {len(names)} names were given")
    ref = None
    if reference is not None:
        ref = _as_2d("reference", reference)
        if ref.shape != vals.shape:
            raise ValueError(f"reference has shape {ref.shape}, values {vals.shape}")
    fps = float(fps)
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    cols = pick_channels(vals, names, channels, ref, max_channels)
    t = np.arange(vals.shape[0]) / fps

    fig = Figure(figsize=(9.0, 0.4 + 1.5 * len(cols)), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(cols), 1, sharex=True, squeeze=False)[:, 0]
    for ax, c in zip(axes, cols):
        ax.plot(t, vals[:, c], color="tab:blue", linewidth=1.2, label="prediction")
        if ref is not None:
            ax.plot(t, ref[:, c], color="tab:orange", linewidth=1.2, linestyle="--", label="reference")
        ax.set_ylabel(names[c], rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(t[0], max(t[-1], t[0] + 1.0 / fps))
    if ref is not None:
        axes[0].legend(loc="upper right", fontsize=7)
    if title:
        fig.suptitle(title)

    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.png")
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
