"""The audio emotion classifier (``zoo.voca_emotion.emotion_classifier``, issue item 6).

The corpus: RAVDESS-named wavs (48 kHz) written straight from the synthetic speech (no video): 4 actors (the corpus
voices, Actor_01–04 as in ``corpus.plan``) × 8 emotions × both intensities (neutral only normal) × 2 statements =
30 clips per actor, 120 in all. Split as in the VOCA recipe: λ chosen with train Actor_01–02 and validation
Actor_03, the reported model refitted on Actor_01–03 and tested once on Actor_04.

Bars (declared before the test actor was scored):
* held-out-actor accuracy ≥ 0.30 (chance 0.125; 30 test clips, so ≥ 9 right: P ≤ 0.011 by chance) and
  ≥ the majority-class baseline + 0.15;
* shuffled-label control (training labels permuted, 5 seeds): mean accuracy ≤ 0.25, and the real model
  ≥ that mean + 0.10.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from zoo.datasets import EMOTIONS, DataError, read_ravdess, resample
from zoo.voca_emotion import emotion_classifier as ec

ACTOR_VOICES = {1: "male_deep", 2: "female_warm", 3: "male_bright", 4: "female_high"}  # corpus.SPEAKERS
RATE = 16000

ACCURACY_BAR = 0.30
MARGIN_OVER_MAJORITY = 0.15
SHUFFLED_BAR = 0.25
MARGIN_OVER_SHUFFLED = 0.10
SHUFFLE_SEEDS = (0, 1, 2, 3, 4)


def write_corpus(root):
    """The 120 RAVDESS-named 48 kHz wavs under root/Actor_NN/."""
    from zoo.datasets.ravdess import STATEMENTS, RavdessName
    from zoo.datasets.synthetic import speech

    for actor, voice in ACTOR_VOICES.items():
        for emotion in EMOTIONS:
            for intensity in ("normal",) if emotion == "neutral" else ("normal", "strong"):
                for statement in (1, 2):
                    utt = speech.synthesize(STATEMENTS[statement - 1], voice, emotion, intensity)
                    name = RavdessName("audio", "speech", emotion, intensity, statement, 1, actor)
                    folder = root / name.subject
                    folder.mkdir(parents=True, exist_ok=True)
                    sf.write(folder / f"{name.stem}.wav", resample(utt.audio, utt.sample_rate, 48000), 48000,
                             subtype="PCM_16")
    return root


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    return read_ravdess(write_corpus(tmp_path_factory.mktemp("ravdess")))


@pytest.fixture(scope="session")
def table(clips):
    return ec.feature_table(clips)


@pytest.fixture(scope="session")
def result(table):
    return ec.evaluate_held_out(table, test_actors=[4], val_actors=[3])


def subset(table, keep):
    mask = np.isin(table.subjects, keep)
    return ec.FeatureTable(table.x[mask], table.y[mask], table.subjects[mask])


def harmonic(f0, seconds, amplitude=0.3, rate=RATE, phase=0.0):
    """Σ_{h=1..5} amplitude/h · sin(h·(2π f0 t + phase)): a periodic, voice-like tone."""
    t = np.arange(int(round(seconds * rate))) / rate
    return sum(amplitude / h * np.sin(h * (2 * np.pi * f0 * t + phase)) for h in range(1, 6))


# ---------------------------------------------------------------- held-out-actor evaluation


def test_corpus_and_split(clips, result):
    assert len(clips) == 120
    assert result["n_test"] == 30 and result["n_train"] == 90
    assert result["train_actors"] == ["Actor_01", "Actor_02"] and result["val_actors"] == ["Actor_03"]
    assert result["refit_actors"] == ["Actor_01", "Actor_02", "Actor_03"] and result["test_actors"] == ["Actor_04"]
    assert result["chance"] == 0.125
    assert result["l2"] in ec.L2_GRID and set(result["validation_accuracy"]) == set(ec.L2_GRID)


def test_majority_baseline_is_hand_computed(result):
    # training counts: neutral 2 × 3 actors = 6, every other emotion 4 × 3 = 12; the first of the tied is "calm",
    # which is 4 of the 30 test clips
    assert result["majority_class"] == "calm"
    assert result["majority_class_accuracy"] == pytest.approx(4 / 30, abs=1e-12)


def test_confusion_is_consistent(result):
    confusion = np.array(result["confusion"])
    assert confusion.shape == (8, 8) and confusion.sum() == 30
    assert confusion.sum(axis=1).tolist() == [2, 4, 4, 4, 4, 4, 4, 4]  # true labels of Actor_04
    assert np.trace(confusion) / 30 == pytest.approx(result["accuracy"], abs=1e-12)


def test_held_out_actor_beats_chance_and_majority(result):
    print(f"\nheld-out Actor_04: accuracy {result['accuracy']:.3f} (chance 0.125, majority "
          f"{result['majority_class_accuracy']:.3f}), λ {result['l2']}, validation {result['validation_accuracy']}")
    assert result["accuracy"] >= ACCURACY_BAR
    assert result["accuracy"] >= result["majority_class_accuracy"] + MARGIN_OVER_MAJORITY


def test_shuffled_labels_score_near_chance(table, result):
    scores = [ec.evaluate_held_out(table, [4], [3], seed=s, shuffle_labels=True)["accuracy"] for s in SHUFFLE_SEEDS]
    print(f"\nshuffled-label control: {scores}, mean {np.mean(scores):.3f}")
    assert np.mean(scores) <= SHUFFLED_BAR
    assert result["accuracy"] >= np.mean(scores) + MARGIN_OVER_SHUFFLED


def test_leave_one_actor_out_selection_never_sees_the_test_actor(table):
    out = ec.evaluate_held_out(table, ["Actor_04"])
    assert out["val_actors"] == ["Actor_01", "Actor_02", "Actor_03"] and out["n_test"] == 30
    # the selection's scores are those of select_l2 on the three other actors alone
    others = subset(table, ["Actor_01", "Actor_02", "Actor_03"])
    best, scores = ec.select_l2(others.x, others.y, others.subjects)
    assert out["validation_accuracy"] == scores and out["l2"] == best


def test_evaluate_refuses_bad_splits(table):
    with pytest.raises(ValueError, match="no clips of test actors"):
        ec.evaluate_held_out(table, [9])
    with pytest.raises(ValueError, match="overlap the test actors"):
        ec.evaluate_held_out(table, [4], [4])
    with pytest.raises(ValueError, match="nothing to train on"):
        ec.evaluate_held_out(table, [1, 2, 3, 4])


# ---------------------------------------------------------------- the classifier object


def test_training_is_deterministic(table):
    a = ec.train_classifier(subset(table, ["Actor_01", "Actor_02"]))
    b = ec.train_classifier(subset(table, ["Actor_01", "Actor_02"]))
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias)
    assert a.info["subjects"] == ["Actor_01", "Actor_02"] and a.info["num_clips"] == 60


def test_save_load_round_trip_and_predict(tmp_path, clips, table):
    model = ec.train_classifier(subset(table, ["Actor_01", "Actor_02", "Actor_03"]), l2=0.1)
    clip = next(c for c in clips if c.subject == "Actor_04" and c.emotion == "sad")
    label, probs = model.predict(clip.audio, clip.sample_rate)
    assert list(probs) == list(EMOTIONS) and math.isclose(sum(probs.values()), 1.0, abs_tol=1e-12)
    assert label == max(probs, key=probs.get)

    folder = model.save(tmp_path / "clf")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["classifier.json", "weights.npy", "bias.npy", "feature_mean.npy", "feature_std.npy"])
    loaded = ec.EmotionClassifier.load(folder)
    assert loaded.predict(clip.audio, clip.sample_rate) == (label, probs)  # identical probabilities
    assert loaded.predict_file(clip.source) == (label, probs)  # the wav the clip was read from
    assert loaded.l2 == 0.1 and loaded.info == model.info


def test_load_refuses_bad_folders(tmp_path, table):
    folder = ec.train_classifier(subset(table, ["Actor_01"])).save(tmp_path / "clf")
    (folder / "bias.npy").unlink()
    np.save(folder / "bias.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)  # a pickled object array
    with pytest.raises(DataError, match=r"bias\.npy: not a plain \.npy array"):
        ec.EmotionClassifier.load(folder)
    np.save(folder / "bias.npy", np.zeros(7))
    with pytest.raises(DataError, match=r"bias\.npy: expected finite float array of shape \(8,\)"):
        ec.EmotionClassifier.load(folder)
    (folder / "weights.npy").unlink()
    with pytest.raises(DataError, match=r"weights\.npy: classifier array not found"):
        ec.EmotionClassifier.load(folder)
    (folder / "classifier.json").write_text("{not json")
    with pytest.raises(DataError, match=r"classifier\.json: not valid JSON"):
        ec.EmotionClassifier.load(folder)
    meta = {"format_version": 1, "labels": list(EMOTIONS), "feature_names": ["x"], "l2": 0.1}
    (folder / "classifier.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="feature names differ"):
        ec.EmotionClassifier.load(folder)
    with pytest.raises(DataError, match="classifier config not found"):
        ec.EmotionClassifier.load(tmp_path / "nowhere")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("audio, rate, pattern", [
    (np.zeros(RATE, np.float32), RATE, r"audio is silent \(peak"),
    (np.r_[harmonic(150, 0.5), np.nan].astype(np.float32), RATE, r"non-finite samples .*first at sample 8000"),
    (harmonic(150, 0.1).astype(np.float32), RATE, r"audio too short: 0\.100 s"),
    (np.zeros((2, RATE), np.float32) + 0.1, RATE, r"audio must be mono"),
    ((harmonic(150, 0.5) * 32767).astype(np.int16), RATE, r"audio must be float"),
    (harmonic(150, 0.5).astype(np.float32), 0, r"sample_rate must be a positive integer"),
    (np.random.default_rng(0).normal(0, 0.1, RATE).astype(np.float32), RATE, r"no speech pitch: \d+ voiced"),
])
def test_bad_audio_gives_one_clear_error(audio, rate, pattern):
    with pytest.raises(ValueError, match=pattern):
        ec.utterance_features(audio, rate)


def test_errors_name_the_source(table, clips):
    model = ec.train_classifier(subset(table, ["Actor_01"]))
    with pytest.raises(DataError, match=r"^take\.wav: audio is silent"):
        model.predict(np.zeros(RATE, np.float32), RATE, source="take.wav")
    from dataclasses import replace

    unlabelled = replace(clips[0], emotion=None)
    with pytest.raises(DataError, match=r"03-01-.*\.wav: emotion label None is not one of"):
        ec.train_classifier([unlabelled])


# ---------------------------------------------------------------- features on signals with known answers


def test_frame_energy_of_a_sine():
    # Hann-weighted mean square of A·sin = A²/2 (25 periods of 1 kHz per frame): 10·log10(0.125) = −9.031 dB
    x = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(RATE) / RATE)
    e = ec.frame_energy_db(x)
    assert len(e) == 100
    assert np.allclose(e[2:-2], 10 * math.log10(0.125), atol=0.01)


def test_spectral_features_of_sines():
    # a sine's Hann-windowed spectrum is symmetric about its frequency: centroid = frequency; a 3 kHz sine has
    # all its energy above 2 kHz (hf_ratio ≈ 0 dB), a 1 kHz sine almost none; the tilt's sign follows the tone
    t = np.arange(RATE) / RATE
    v = {f: dict(zip(ec.FEATURE_NAMES, ec.utterance_features(0.5 * np.sin(2 * np.pi * f * t), RATE)))
         for f in (250.0, 1000.0, 3000.0)}
    for f in v:
        assert v[f]["centroid_mean_hz"] == pytest.approx(f, rel=0.01) and v[f]["centroid_std_hz"] < 0.01 * f
        assert v[f]["energy_p50_db"] == pytest.approx(10 * math.log10(0.125), abs=0.01)
    assert v[3000.0]["hf_ratio_db"] > -0.01 and v[1000.0]["hf_ratio_db"] < -40
    assert v[250.0]["tilt_db_per_octave"] < 0 < v[3000.0]["tilt_db_per_octave"]


@pytest.mark.parametrize("f0", [60.0, 150.0, 400.0])
def test_pitch_of_harmonic_tones(f0):
    f, strength = ec.pitch_track(harmonic(f0, 0.6))
    inner = slice(5, -5)  # frames whose 50 ms window lies inside the tone
    assert np.all(np.abs(f[inner] / f0 - 1) < 0.005)
    assert np.all(strength[inner] > 0.9)


def test_pitch_prefers_the_period_over_half_of_it():
    # fundamental 0.3, second harmonic 1.0: at half the period r = (−0.3² + 1²) / (0.3² + 1²) = 0.835 < 0.9 · r(T)
    t = np.arange(int(0.6 * RATE)) / RATE
    x = 0.3 * np.sin(2 * np.pi * 100 * t) + 1.0 * np.sin(2 * np.pi * 200 * t)
    f, _ = ec.pitch_track(0.3 * x)
    assert np.all(np.abs(f[5:-5] / 100 - 1) < 0.005)


def test_pitch_shape_features_of_three_steps():
    # equal thirds at 100, 141.42, 200 Hz = 0, 6, 12 semitones re 100 Hz (continuous phase), 0.25 s silence around
    silence = np.zeros(RATE // 4)
    phase, parts = 0.0, []
    for f0 in (100.0, 100.0 * 2**0.5, 200.0):
        parts.append(harmonic(f0, 0.5, phase=phase))
        phase += 2 * np.pi * f0 * 0.5
    x = np.concatenate([silence, *parts, silence])
    v = dict(zip(ec.FEATURE_NAMES, ec.utterance_features(x.astype(np.float32), RATE)))
    assert v["f0_range_st"] == pytest.approx(12.0, abs=0.2)
    assert v["f0_upper_st"] == pytest.approx(6.0, abs=0.2) and v["f0_lower_st"] == pytest.approx(6.0, abs=0.2)
    assert v["f0_std_st"] == pytest.approx(math.sqrt(2 / 3 * 36), abs=0.3)  # 4.899: population std of {0, 6, 12}
    assert v["span_s"] == pytest.approx(1.5, abs=0.03)  # ±1 frame of edge spread each side
    assert v["pause_fraction"] == pytest.approx(0.0, abs=1e-12) and v["voiced_fraction"] > 0.95


def test_rate_features_of_bursts():
    # 8 bursts of 0.15 s tone separated by 0.1 s of silence (0.2 s silence around): 8 voiced runs, 8 energy peaks
    burst, gap = harmonic(150, 0.15), np.zeros(int(0.1 * RATE))
    x = np.concatenate([np.zeros(int(0.2 * RATE))] + [np.r_[burst, gap] for _ in range(7)] + [burst,
                                                                                             np.zeros(int(0.2 * RATE))])
    v = dict(zip(ec.FEATURE_NAMES, ec.utterance_features(x.astype(np.float32), RATE)))
    assert v["span_s"] == pytest.approx(1.9, abs=0.03)  # 7 × 0.25 + 0.15 s
    assert v["voiced_runs_hz"] * v["span_s"] == pytest.approx(8.0, abs=1e-9)
    assert v["syllable_rate_hz"] * v["span_s"] == pytest.approx(8.0, abs=1e-9)
    # nominal 7 × 0.1 / 1.9 = 0.368; the 25 ms frames overlapping a burst edge by ≥ ~37 samples stay active
    # (within 35 dB), which takes ≤ 2 of each gap's 10 frames
    assert 0.368 - 7 * 2 / 190 - 0.01 <= v["pause_fraction"] <= 0.368 + 0.01


# ---------------------------------------------------------------- the fit


def test_fit_is_stationary():
    rng = np.random.default_rng(0)
    z, y, l2 = rng.normal(size=(60, 5)), rng.integers(0, 8, 60), 0.1
    w, b = ec.fit_logistic(z, y, l2)
    logits = z @ w + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(8)[y]
    assert np.abs(z.T @ (p - onehot) / 60 + l2 * w).max() < 1e-4  # ∂/∂W = 0
    assert np.abs((p - onehot).mean(axis=0)).max() < 1e-4  # ∂/∂b = 0


def test_uninformative_features_give_the_class_frequencies():
    # z = 0 everywhere: W stays 0 and softmax(b) = training frequencies, labels 0, 0, 1, 2 → 1/2, 1/4, 1/4, 0, …
    w, b = ec.fit_logistic(np.zeros((4, 3)), np.array([0, 0, 1, 2]), 0.1)
    p = np.exp(b - b.max())
    p /= p.sum()
    assert np.abs(w).max() < 1e-9
    assert np.allclose(p, [0.5, 0.25, 0.25, 0, 0, 0, 0, 0], atol=2e-3)


def test_actor_names():
    assert [ec._actor(a) for a in (4, "4", "04", "Actor_04")] == ["Actor_04"] * 4


def test_import_does_not_load_tensorflow():
    code = ("import sys, zoo.voca_emotion.emotion_classifier;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
