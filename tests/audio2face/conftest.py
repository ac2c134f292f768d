"""Fixtures for the Audio2Face tests: a small synthetic FACEGOOD folder and a tiny trained model."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture(scope="session")
def synthetic_facegood(tmp_path_factory):
    """A FACEGOOD-layout folder of 12 synthetic utterances (4 speakers, ARKit-52 labels)."""
    from zoo.datasets.synthetic.corpus import write_facegood_subset

    root = tmp_path_factory.mktemp("a2f_facegood")
    write_facegood_subset(root, 12, seed=0)
    return root


@pytest.fixture(scope="session")
def tiny_model(synthetic_facegood, tmp_path_factory):
    """(model_dir, summary) of the ``tiny`` preset trained 2 epochs on ``synthetic_facegood``."""
    from zoo.audio2face import preset, train

    workdir = tmp_path_factory.mktemp("a2f_tiny")
    summary = train(preset("tiny", epochs=2), synthetic_facegood, workdir, val_fraction=0.25, progress=False)
    return workdir / "model", summary


def _speech_like(n_windows: int, seed: int = 0) -> np.ndarray:
    """int16-quantised (as float in [-1, 1]) 'speech': a 110–160 Hz pulse train and noise through three formant
    resonators, in bursts with digital silence between them; returns (n_windows, 8320) float32 windows."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = 8320 * n_windows
    src = 0.02 * rng.standard_normal(n)
    period = int(16000 / rng.uniform(110, 160))
    src[::period] += 1.0
    y = src
    for freq, bw in ((rng.uniform(500, 800), 80), (rng.uniform(1000, 1600), 100), (rng.uniform(2300, 2900), 150)):
        pole = np.exp(-np.pi * bw / 16000) * np.exp(2j * np.pi * freq / 16000)
        y = lfilter([1.0], np.poly([pole, pole.conjugate()]).real, y)
    envelope = np.zeros(n)
    for start in range(0, n, 6000):
        length = int(rng.integers(1500, 4500))
        envelope[start:start + length] = np.hanning(length)[: max(0, min(length, n - start))]
    y = 0.6 * y * envelope / np.abs(y).max()
    y = np.round(y * 32768) / 32768
    return y.reshape(n_windows, 8320).astype(np.float32)


@pytest.fixture(scope="session")
def speech_like():
    """speech_like(n_windows, seed=0) -> (n_windows, 8320) float32 windows of formant-filtered pulse 'speech'."""
    return _speech_like


@pytest.fixture
def facegood_wav(facegood_dir):
    """(int16 samples, 16 kHz) of 1114_2_01.wav, skipping where the real data is absent."""
    data, rate = sf.read(str(facegood_dir / "wav" / "1114_2_01.wav"), dtype="int16")
    return data, rate
