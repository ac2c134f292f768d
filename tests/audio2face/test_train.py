"""Training: overfitting, exact resume after a stop, held-out clips, bad data."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from helpers import check_small_overfit

from zoo.audio2face import preset, train
from zoo.datasets import FrameCountError, read_facegood


def _weights(model_dir):
    with h5py.File(model_dir / "model.weights.h5", "r") as f:
        arrays = []
        f.visititems(lambda name, obj: arrays.append((name, obj[()])) if isinstance(obj, h5py.Dataset) else None)
    return dict(arrays)


def test_tiny_model_trains_and_writes_a_model_dir(tiny_model):
    model_dir, summary = tiny_model
    assert {p.name for p in model_dir.iterdir()} >= {"config.json", "model.weights.h5", "metadata.json",
                                                      "emotion_database.npy"}
    meta = json.loads((model_dir / "metadata.json").read_text())
    assert meta["val_clips"] and not set(meta["val_clips"]) & set(meta["train_clips"])  # whole clips held out
    assert "jawOpen" in summary["output_names"]  # channels derived from the data (varying ones)
    assert len(meta["history"]) == 2 and np.load(model_dir / "emotion_database.npy").shape == (
        summary["train_frames"], 4)
    assert (model_dir.parent / "tensorboard").is_dir() and (model_dir.parent / "checkpoints" / "checkpoint").is_file()


def test_overfits_two_short_clips(synthetic_facegood, tmp_path):
    """Position loss on the training clip falls at least 10× in 90 epochs (constant LR, no dropout). (60 epochs until
    stop 25: 9.0× on a Sapphire Rapids Xeon, where numba's LPC and the kernels round differently.)"""
    clips = read_facegood(synthetic_facegood)[:2]
    config = preset("tiny", epochs=90, schedule="constant", learning_rate=3e-3, dropout=0.0, normalization="none",
                    hidden_units=64)
    summary = train(config, clips, tmp_path, val_fraction=0.5, progress=False)
    check_small_overfit(summary["history"], 10, key="train_position")


def test_resume_after_stop_gives_identical_weights(synthetic_facegood, tmp_path):
    clips = read_facegood(synthetic_facegood)[:4]
    config = preset("tiny", epochs=3)
    train(config, clips, tmp_path / "straight", val_fraction=0.25, progress=False)
    first = train(config, clips, tmp_path / "resumed", val_fraction=0.25, progress=False, max_minutes=0)
    assert first["epochs_trained"] == 1 and first["stopped_by_budget"]
    second = train(config, clips, tmp_path / "resumed", val_fraction=0.25, progress=False)
    assert second["epochs_trained"] == 3 and len(second["history"]) == 3
    a, b = _weights(tmp_path / "straight" / "model"), _weights(tmp_path / "resumed" / "model")
    assert a.keys() == b.keys() and len(a) > 10
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_label_rows_must_match_audio_frames(facegood_layout, tmp_path):
    root = facegood_layout(ids=("a", "b"), seconds=1.0, rows=31)  # 1 s at 30 fps has 30 frames
    with pytest.raises(FrameCountError, match="has 31 frames but the audio implies 30"):
        train(preset("tiny"), root, tmp_path, progress=False)


def test_facegood_preset_on_arkit_data_names_the_missing_channels(synthetic_facegood, tmp_path):
    with pytest.raises(ValueError, match="no channels.*tongue_u_u.*output_names=\\(\\)"):
        train(preset("facegood_tf2"), synthetic_facegood, tmp_path, progress=False)


def test_unknown_validation_clip_and_single_clip_are_refused(synthetic_facegood, tmp_path):
    clips = read_facegood(synthetic_facegood)
    with pytest.raises(ValueError, match="validation clips \\['nope'\\]"):
        train(preset("tiny"), clips, tmp_path, val_clips=["nope"], progress=False)
    with pytest.raises(ValueError, match="at least 2"):
        train(preset("tiny"), clips[:1], tmp_path, progress=False)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_paper_augmentation_trains_and_resumes_exactly(synthetic_facegood, tmp_path):
    """Time shift, gain, noise and pitch on the audio windows (features in TF per batch) and 1.4^N(0,1) feature
    noise: it trains, and a run stopped after one epoch resumes to the same weights (the generator's state is
    checkpointed)."""
    clips = read_facegood(synthetic_facegood)[:4]
    config = preset("tiny", epochs=2, time_shift_frames=0.5, gain_db=6, noise_snr_db=20, pitch_semitones=1,
                    feature_noise=True)
    summary = train(config, clips, tmp_path / "straight", val_fraction=0.25, progress=False)
    assert summary["epochs_trained"] == 2 and np.isfinite(summary["history"][-1]["train_loss"])
    train(config, clips, tmp_path / "resumed", val_fraction=0.25, progress=False, max_minutes=0)
    resumed = train(config, clips, tmp_path / "resumed", val_fraction=0.25, progress=False)
    assert resumed["state_sha256"] == summary["state_sha256"]


def test_audio_perturbation_draws_one_gain_pitch_and_noise_level_per_pair():
    import tensorflow as tf

    from zoo.audio2face.train import perturb_audio

    t = np.arange(8320) / 16000
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    windows = tf.constant(np.broadcast_to(tone, (64, 2, 8320)).copy())
    rng = tf.random.Generator.from_seed(1)
    gained = perturb_audio(preset("tiny", gain_db=6), windows, rng).numpy()
    factor = gained[:, :, 4160] / tone[4160]
    assert np.allclose(factor[:, 0], factor[:, 1]) and factor.min() >= 10 ** (-6 / 20) - 1e-6
    assert factor.max() <= 10 ** (6 / 20) + 1e-6 and factor.std() > 0.1  # spread over the ±6 dB range
    pitched = perturb_audio(preset("tiny", pitch_semitones=1), windows, rng).numpy()
    assert np.array_equal(pitched[:, 0], pitched[:, 1]) and np.allclose(pitched[:, 0, 4160], tone[4160], atol=0.05)
    peaks = np.argmax(np.abs(np.fft.rfft(pitched[:, 0, 2080:6240], axis=-1)), axis=-1) * 16000 / 4160
    assert peaks.min() >= 440 * 2 ** (-1 / 12) - 8 and peaks.max() <= 440 * 2 ** (1 / 12) + 8 and peaks.std() > 5
    noisy = perturb_audio(preset("tiny", noise_snr_db=20), windows, rng).numpy()
    snr = 10 * np.log10(np.mean(tone ** 2) / np.mean((noisy - tone) ** 2, axis=-1))
    assert snr.min() > 19 and snr.max() < 41 and not np.allclose(noisy[:, 0], noisy[:, 1])


def test_input_standardisation_uses_training_statistics(synthetic_facegood, tmp_path):
    from zoo.audio2face import Predictor
    from zoo.audio2face.features import clip_features

    clips = read_facegood(synthetic_facegood)[:4]
    config = preset("tiny", epochs=1, input_norm=True, feature="autocorr_paper")
    summary = train(config, clips, tmp_path, val_fraction=0.25, progress=False)
    layer = Predictor.load(tmp_path / "model").model.get_layer("input_norm")
    train_clips = [c for c in clips if c.name in summary["train_clips"]]
    stacked = np.concatenate([clip_features(c, config.feature) for c in train_clips])[..., 0]
    np.testing.assert_allclose(layer.mean.numpy(), stacked.mean(axis=(0, 2)), rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(layer.std.numpy(), stacked.std(axis=(0, 2)), rtol=1e-4, atol=1e-9)
