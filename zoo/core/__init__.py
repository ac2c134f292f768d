"""zoo.core: the model-agnostic kit every model of the zoo is built on (DESIGN §6).

* ``trainer``: ``Trainer`` (strategy, determinism, checkpoints and resume, budget, TensorBoard,
  history), ``global_batch_loss`` / ``global_mean`` for losses under several replicas;
* ``modeldir``: ``write_model_dir`` / ``read_model_dir`` (one metadata schema, sha256-checked),
  ``publish`` of a pretrained preset with its card;
* ``runners``: ``KerasRunner`` and ``TFLiteRunner`` (batched inference; the TFLite one is also
  ``zoo.export``'s parity runner);
* ``animation``: ``Animation``, named curves at an fps with csv/npy/json writers;
* ``evaluation``: ``evaluate_curves`` against the mean pose with per-channel Pearson r;
* ``cli``: the common flags of ``zoo <model> train|predict|evaluate|export`` and result printing.

No paper's features, layers, losses or metrics live here. Importing ``zoo.core`` does not import
TensorFlow; the functions that need it import it on use.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

PARITY_SPEECH = Path(__file__).resolve().parent / "data" / "parity_speech.wav"


def parity_speech() -> tuple[np.ndarray, int]:
    """(audio float32 mono, sample rate) of the shipped sentence used for export parity inputs by default:
    "The quick brown fox jumps over the lazy dog." spoken by the synthetic corpus' ``female_warm`` voice
    (espeak-ng, 22 050 Hz, 2.9 s; tests/core checks it against the synthesizer)."""
    from zoo.datasets import load_audio

    return load_audio(PARITY_SPEECH)


def parity_audio(audio=None, sample_rate: int | None = None, *, rate: int) -> np.ndarray:
    """The real speech of an export's parity inputs as float32 mono at ``rate`` Hz: ``audio`` (a path, or samples ×
    [channels] at ``sample_rate``: channels averaged in float) or, by default, ``parity_speech()``; resampled."""
    import os

    from zoo.datasets import load_audio, resample

    if audio is None:
        audio, sample_rate = parity_speech()
    elif isinstance(audio, (str, os.PathLike)):
        audio, sample_rate = load_audio(audio)
    elif sample_rate is None:
        raise ValueError("sample_rate is needed with an audio array")
    audio = np.asarray(audio, np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    return resample(audio, int(sample_rate), int(rate)).astype(np.float32)


__all__ = ["parity_speech", "parity_audio", "PARITY_SPEECH"]
