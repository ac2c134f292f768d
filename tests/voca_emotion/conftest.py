"""Fixtures for the VOCA tests: a small VOCASET-layout folder of real synthetic speech and a tiny trained model.

The folder has three subjects (two train, one unseen) saying four sentences each (espeak-ng voices). The "mesh" has
64 vertices: a random template per subject, and a jaw that opens with the speech's smoothed RMS envelope (16 lower
vertices move down by up to 12 mm, scaled per subject), so the motion is learnable from the audio and needs it.
"""
from __future__ import annotations

import numpy as np
import pytest

SENTENCES = ("Kids are talking by the door.", "Dogs are sitting by the door.",
             "She sells sea shells by the sea shore.", "Pack my box with five dozen liquor jugs.")
VOICES = {"subj_a": ("male_deep", 1.0), "subj_b": ("female_warm", 1.2), "subj_c": ("male_bright", 0.9)}
VERTICES = 64
JAW = np.arange(16)  # the moving vertices


def envelope_60fps(audio: np.ndarray, rate: int, frames: int) -> np.ndarray:
    """Smoothed RMS of 1/60 s hops, scaled to [0, 1] by the utterance's 95th percentile."""
    hop = rate / 60.0
    rms = np.array([np.sqrt(np.mean(np.square(audio[int(i * hop): int((i + 1) * hop)]) + 1e-12))
                    for i in range(frames)])
    rms = np.convolve(rms, np.ones(5) / 5, mode="same")
    return np.clip(rms / (np.percentile(rms, 95) + 1e-9), 0, 1)


def make_vocaset(folder, sentences=SENTENCES, voices=VOICES, seed=0):
    from zoo.datasets import expected_frames, write_vocaset
    from zoo.datasets.synthetic import speech

    rng = np.random.default_rng(seed)
    sequences, templates = {}, {}
    for subject, (voice, gain) in voices.items():
        tpl = rng.normal(0, 0.05, (VERTICES, 3)).astype(np.float32)
        templates[subject] = tpl
        sequences[subject] = {}
        for i, text in enumerate(sentences, start=1):
            utt = speech.synthesize(text, voice)
            frames = expected_frames(utt.audio.size, utt.sample_rate, 60)
            env = envelope_60fps(utt.audio, utt.sample_rate, frames)
            verts = np.repeat(tpl[None], frames, axis=0)
            verts[:, JAW, 1] -= 0.012 * gain * env[:, None]
            pcm = np.round(np.clip(utt.audio, -1, 1) * 32767).astype(np.int16)
            sequences[subject][f"sentence{i:02d}"] = (verts, pcm, utt.sample_rate)
    write_vocaset(folder, sequences, templates)
    return folder


@pytest.fixture(scope="session")
def vocaset_dir(tmp_path_factory):
    return make_vocaset(tmp_path_factory.mktemp("vocaset"))


@pytest.fixture(scope="session")
def trained(tmp_path_factory, vocaset_dir):
    """(model dir, summary) of the tiny preset trained for 15 epochs (~15 s; subj_c validates, sentence04 is test)."""
    from zoo.voca_emotion import preset, train

    workdir = tmp_path_factory.mktemp("voca_run")
    config = preset("tiny", epochs=15, batch_size=16, learning_rate=3e-3, decoder_init="pca_unit")
    summary = train(config, vocaset_dir, workdir, val_subjects=["subj_c"], test_sentences=["sentence04"],
                    progress=False)
    return workdir / "model", summary


@pytest.fixture(scope="session")
def jaw():
    """The moving vertices of the test folder's mesh."""
    return JAW
