"""EveNet's inputs in NumPy: the 11-class encoding of shape-key values and the step layouts of the lineages.

The 11-class encoding (spec §3): class k stands for the value k/10. A value x is clamped to [0, 1], then
10x = f + r (f = ⌊10x⌋, r ∈ [0, 1)); class f gets 1 − r and class min(f + 1, 10) gets r. The label's mean
Σ p_k·k/10 is x, so ``decode(encode(x)) == x`` on [0, 1]. The original wrote the upper class as
⌈10x + 1e-6⌉ with no clamping: x = 1.0 indexed class 11, x outside [0, 1] gave invalid indices, and a
fractional part within 1e-6 of 1 put the mass of class f + 1 on f + 2. Here the clamp is explicit.

Step layouts (``Config.lineage``): ``regression`` feeds frames (T, D) as they are; ``frames_softmax``
feeds each frame's D two-hot labels flattened key-major (T, D·11); ``key_sampling`` flattens the frames
key-minor into one sequence, step n = D·frame + key, each step one two-hot label (T·D, 11).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .config import CLASSES, Config

CLASS_VALUES = np.arange(CLASSES, dtype=np.float64) / (CLASSES - 1)  # 0, 0.1, …, 1.0


def encode(values: np.ndarray) -> np.ndarray:
    """Two-hot labels (..., 11) of ``values`` (...), clamped to [0, 1] (module docstring)."""
    x = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0) * (CLASSES - 1)
    low = np.minimum(np.floor(x), CLASSES - 1)
    frac = x - low
    high = np.minimum(low + 1, CLASSES - 1)
    k = np.arange(CLASSES)
    out = (k == low[..., None]) * (1.0 - frac[..., None]) + (k == high[..., None]) * frac[..., None]
    return out.astype(np.float32)


def decode(probabilities: np.ndarray) -> np.ndarray:
    """The expectation Σ_k p_k·k/10 over the last axis (11 classes)."""
    return np.asarray(probabilities, dtype=np.float64) @ CLASS_VALUES


def flatten_keys(frames: np.ndarray) -> np.ndarray:
    """(T, D) frames → the (T·D,) key-minor sequence of lineage C (step n = D·frame + key)."""
    return np.asarray(frames).reshape(-1)


def unflatten_keys(steps: np.ndarray, data_dim: int) -> np.ndarray:
    """The inverse of ``flatten_keys``: (T·D,) → (T, D)."""
    return np.asarray(steps).reshape(-1, data_dim)


def step_inputs(frames: np.ndarray, config: Config) -> np.ndarray:
    """(T, D) frames → the network's (steps, step_channels) float32 inputs (module docstring)."""
    frames = np.asarray(frames, dtype=np.float32)
    if config.lineage == "regression":
        return frames
    if config.lineage == "frames_softmax":
        return encode(frames).reshape(len(frames), -1)
    return encode(flatten_keys(frames))


def step_values(outputs: np.ndarray, config: Config) -> np.ndarray:
    """The network's outputs → shape-key values: as they are (A), decoded per key (B: (..., D), C: (...))."""
    if config.lineage == "regression":
        return np.asarray(outputs, dtype=np.float64)
    return decode(outputs)


def step_labels(labels: np.ndarray, config: Config) -> np.ndarray:
    """Per-frame label ids (T,) → per-step ids: repeated for each key in lineage C."""
    return np.repeat(np.asarray(labels), config.steps_per_frame, axis=-1)


def schedule_ids(labels: Sequence[str], categories: Sequence[str]) -> np.ndarray:
    """Label strings → ids into ``categories`` (−1 for an unknown label: the zero vector, as the original)."""
    index = {name: i for i, name in enumerate(categories)}
    return np.array([index.get(label, -1) for label in labels], np.int32)
