"""Training examples from RAVDESS-layout folders: pairing by name, equal counts per trial, the cache, the actor split
and one clear error per broken trial."""
from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from zoo.datasets import DataError
from zoo.landmark_dcgan import data
from zoo.landmark_dcgan.config import preset

CONFIG = preset("tiny", gan_frame_step=4)


@pytest.fixture(scope="module")
def trials(ravdess_dir, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return data.load_trials(ravdess_dir, CONFIG, cache=cache, workers=2), cache


def test_trials_are_paired_by_name_in_sorted_order(trials, ravdess_dir):
    loaded, _ = trials
    stems = [t.stem for t in loaded]
    assert stems == data.speech_stems(ravdess_dir) and [t.actor for t in loaded] == sorted(t.actor for t in loaded)
    for t in loaded:
        assert t.video_path.endswith(f"01{t.stem[2:]}.mp4") and t.audio_path.endswith(f"{t.stem}.wav")
        assert t.actor == f"Actor_{t.stem[-2:]}"


def test_features_landmarks_and_images_line_up(trials):
    for t in trials[0]:
        audio, rate = sf.read(t.audio_path)
        grid = -(-len(audio) * CONFIG.sample_rate // rate // CONFIG.frame_samples)
        assert t.frames == len(t.features) == len(t.points) == len(t.times_s) and t.dropped == 0
        assert abs(t.frames - grid) <= data.MAX_GRID_MISMATCH
        assert t.features.shape[1:] == (128, 23, 1) and t.landmarks.shape == (t.frames, 136)
        assert 0 <= t.landmarks.min() and t.landmarks.max() <= 1
        np.testing.assert_allclose(t.times_s, 0.03 * np.arange(t.frames), atol=1e-6)
        # GAN images: every 4th grid frame, a 64² crop
        np.testing.assert_array_equal(t.image_rows, np.arange(0, t.frames, 4))
        assert t.images.shape == (len(t.image_rows), 64, 64, 3) and t.images.dtype == np.uint8
        # the crop is the face: skin in the middle, darker background in the corners
        assert t.images[:, 28:36, 28:36].mean() > t.images[:, :4, :4].mean() + 15


def test_speed_perturbed_trial_keeps_its_landmarks_and_hears_the_faster_speech(trials, tmp_path):
    from zoo.datasets import load_audio
    from zoo.landmark_dcgan.features import speed_perturbed_features
    from zoo.landmark_dcgan.train import train_cnn

    t = trials[0][0]
    (fast,) = data.speed_perturbed(t, CONFIG, (1.2,))
    audio, _ = load_audio(t.audio_path, CONFIG.sample_rate)
    features, kept = speed_perturbed_features(audio, CONFIG, t.times_s, 1.2)
    np.testing.assert_array_equal(fast.features, features)
    np.testing.assert_array_equal(fast.landmarks, t.landmarks[kept])
    assert fast.frames >= t.frames - 1 and len(fast.points) == len(fast.times_s) == fast.frames
    assert len(fast.images) == 0 and fast.stem == t.stem
    assert np.abs(fast.features - t.features[kept]).mean() > 0.1 * np.abs(t.features).mean()  # other audio
    # the CNN trains on the originals and one perturbed copy of each per factor
    config = CONFIG.replace(speed_perturbation=(0.9, 1.2), cnn_epochs=1)
    _, summary = train_cnn(config, trials[0][:2], [], tmp_path, progress=False)
    frames = sum(u.frames for u in trials[0][:2])
    assert 3 * frames - 4 <= summary["train_rows"] <= 3 * frames
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF and nothing else")
    with pytest.raises(DataError, match="broken.wav"):
        data.speed_perturbed(replace(t, audio_path=str(broken)), CONFIG, (1.2,))


def test_cache_is_used_and_keyed_by_the_config(trials, ravdess_dir, monkeypatch):
    loaded, cache = trials

    def refuse(*args, **kwargs):
        raise AssertionError("extracted again although cached")

    monkeypatch.setattr(data, "extract_trial", refuse)
    again = data.load_trials(ravdess_dir, CONFIG, cache=cache, workers=1)
    for a, b in zip(loaded, again):
        np.testing.assert_array_equal(a.features, b.features)
        np.testing.assert_array_equal(a.images, b.images)
    with pytest.raises(AssertionError, match="extracted again"):
        data.load_trials(ravdess_dir, CONFIG.replace(crop_scale=1.8), cache=cache, workers=1,
                         stems=[loaded[0].stem])


def test_split_by_actor():
    stems = [f"03-01-0{e}-01-0{s}-01-{a:02d}" for a in range(1, 13) for e in (1, 3) for s in (1, 2)]
    train, val, test = data.split_actors(stems)
    assert {data.actor_of(s) for s in test} == {"Actor_11", "Actor_12"}  # the last sixth of 12 actors
    assert not {data.actor_of(s) for s in val + train} & {"Actor_11", "Actor_12"}
    assert len(val) == round(0.15 * 40) and not set(val) & set(train)
    assert data.split_actors(stems) == (train, val, test)  # seeded
    train, val, test = data.split_actors(stems, test_actors=["Actor_01"], val_actors=["Actor_02"])
    assert {data.actor_of(s) for s in val} == {"Actor_02"} and {data.actor_of(s) for s in test} == {"Actor_01"}
    with pytest.raises(ValueError, match="also test actors"):
        data.split_actors(stems, test_actors=["Actor_01"], val_actors=["Actor_01"])
    with pytest.raises(ValueError, match=r"Actor_13"):
        data.split_actors(stems, test_actors=["Actor_13"])


def test_broken_trials_give_one_error_naming_the_file(ravdess_dir, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(ravdess_dir / "Actor_01", folder / "Actor_01")
    wav = sorted(folder.glob("Actor_01/03-*.wav"))[0]
    audio, rate = sf.read(wav, dtype="float32")
    sf.write(wav, audio[: len(audio) // 2], rate)  # half the take: not the video's length
    stem = wav.stem
    with pytest.raises(DataError, match=rf"{stem}\.wav: \d+ grid frames of audio but \d+ of video"):
        data.load_trials(folder, CONFIG, stems=[stem], workers=1)
    for video in folder.glob(f"Actor_01/0[12]{stem[2:]}.mp4"):
        video.unlink()
    with pytest.raises(DataError, match=rf"{stem}\.wav: no video 01{stem[2:]}\.mp4 or 02{stem[2:]}\.mp4"):
        data.load_trials(folder, CONFIG, stems=[stem], workers=1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no RAVDESS audio-only speech files"):
        data.speech_stems(tmp_path / "empty")
