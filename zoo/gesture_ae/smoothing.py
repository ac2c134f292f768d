"""Smoothing of predicted motion over time (spec §4 ``apply_filters.py``, §3 GENEA_2020), NumPy/SciPy.

Every filter takes values (T, D) at ``fps`` and returns (T, D) float32: the frame count never changes, and each
column (a value channel: one coordinate of one node, or one exp-map component) is filtered on its own.

* ``one_euro`` (Casiez et al. 2012), the original's settings freq 20 Hz, mincutoff 0.1 Hz, beta 0.08, dcutoff 1 Hz:
  with α(f_c) = 1 / (1 + τ/T_e), τ = 1/(2π f_c), T_e = 1/freq,
  dx̂_t = α(dcutoff)·(x_t − x̂_{t−1})·freq + (1 − α(dcutoff))·dx̂_{t−1},
  f_c = mincutoff + beta·|dx̂_t|,  x̂_t = α(f_c)·x_t + (1 − α(f_c))·x̂_{t−1};  x̂_0 = x_0, dx̂_0 = 0.
  The state (x̂, dx̂) is kept PER channel. The original's helper ran one filter object over all joints, so each
  joint's state leaked into the next (spec §10.11); that bug is fixed and not offered as a legacy option (the order
  in which the original fed the joints is not recorded, so it could not be reproduced faithfully).
* ``moving_average``: centred over ``window`` (odd, default 5) frames; near the ends the window shrinks to the
  frames present (the mean of those), as the original's.
* ``savgol``: Savitzky–Golay (window 9, order 3: the GENEA_2020 branch's), scipy's ``savgol_filter`` with
  mode "interp" (a polynomial of ``order`` fitted to the first/last window at the ends), so a polynomial of degree
  ≤ order passes unchanged. A clip shorter than the window uses the longest odd window > order that fits (none
  fits: returned unchanged).
"""
from __future__ import annotations

import math

import numpy as np

SMOOTHERS = ("one_euro", "moving_average", "savgol")
ONE_EURO = {"freq": 20.0, "mincutoff": 0.1, "beta": 0.08, "dcutoff": 1.0}  # the original's apply_filters.py
MOVING_AVERAGE_WINDOW = 5
SAVGOL_WINDOW, SAVGOL_ORDER = 9, 3


def _values(values) -> np.ndarray:
    v = np.asarray(values, np.float64)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2:
        raise ValueError(f"values must be (frames, channels), got shape {np.shape(values)}")
    if not np.isfinite(v).all():
        raise ValueError("values contain NaN or Inf")
    return v


def _alpha(cutoff, freq: float):
    """α = 1 / (1 + τ·freq), τ = 1/(2π·cutoff): the smoothing factor of a first-order low-pass at ``cutoff`` Hz."""
    tau = 1.0 / (2 * math.pi * np.asarray(cutoff, np.float64))
    return 1.0 / (1.0 + tau * freq)


def one_euro(values, *, freq: float = ONE_EURO["freq"], mincutoff: float = ONE_EURO["mincutoff"],
             beta: float = ONE_EURO["beta"], dcutoff: float = ONE_EURO["dcutoff"]) -> np.ndarray:
    """The one-euro filter of the module docstring over time, with its state per channel; (T, D) float32."""
    v = _values(values)
    if min(freq, mincutoff, dcutoff) <= 0 or beta < 0:
        raise ValueError("one-euro needs freq, mincutoff, dcutoff > 0 and beta ≥ 0")
    out = np.empty_like(v)
    if not len(v):
        return out.astype(np.float32)
    alpha_d = _alpha(dcutoff, freq)
    x_hat, dx_hat = v[0].copy(), np.zeros(v.shape[1])
    out[0] = x_hat
    for t in range(1, len(v)):
        dx = (v[t] - x_hat) * freq
        dx_hat = alpha_d * dx + (1 - alpha_d) * dx_hat
        a = _alpha(mincutoff + beta * np.abs(dx_hat), freq)
        x_hat = a * v[t] + (1 - a) * x_hat
        out[t] = x_hat
    return out.astype(np.float32)


def moving_average(values, window: int = MOVING_AVERAGE_WINDOW) -> np.ndarray:
    """Centred mean over ``window`` (odd ≥ 1) frames, shrinking to the frames present at the ends; (T, D) float32."""
    v = _values(values)
    if window < 1 or window % 2 == 0:
        raise ValueError(f"the moving-average window must be odd and ≥ 1, got {window}")
    half = window // 2
    sums = np.concatenate([np.zeros((1, v.shape[1])), np.cumsum(v, axis=0)])
    t = np.arange(len(v))
    lo, hi = np.clip(t - half, 0, len(v)), np.clip(t + half + 1, 0, len(v))
    return ((sums[hi] - sums[lo]) / (hi - lo)[:, None]).astype(np.float32)


def savgol(values, window: int = SAVGOL_WINDOW, order: int = SAVGOL_ORDER) -> np.ndarray:
    """Savitzky–Golay over time (module docstring); (T, D) float32."""
    from scipy.signal import savgol_filter

    v = _values(values)
    if window % 2 == 0 or window <= order or order < 0:
        raise ValueError(f"savgol needs an odd window > order ≥ 0, got window {window}, order {order}")
    fits = len(v) if len(v) % 2 else len(v) - 1
    window = min(window, fits)
    if window <= order:
        return v.astype(np.float32)
    return savgol_filter(v, window, order, axis=0, mode="interp").astype(np.float32)


def smooth(values, kind: str | None, *, savgol_window: int = SAVGOL_WINDOW, savgol_order: int = SAVGOL_ORDER,
           fps: float = ONE_EURO["freq"]) -> np.ndarray:
    """``values`` through the filter ``kind`` (``SMOOTHERS``; None or "none": unchanged), (T, D) float32; the
    one-euro filter runs at ``fps``."""
    if kind in (None, "none"):
        return _values(values).astype(np.float32)
    if kind == "one_euro":
        return one_euro(values, freq=fps)
    if kind == "moving_average":
        return moving_average(values)
    if kind == "savgol":
        return savgol(values, savgol_window, savgol_order)
    raise ValueError(f"unknown smoothing {kind!r}; choose one of {SMOOTHERS} or none")


__all__ = ["SMOOTHERS", "ONE_EURO", "MOVING_AVERAGE_WINDOW", "SAVGOL_WINDOW", "SAVGOL_ORDER", "one_euro",
           "moving_average", "savgol", "smooth"]
