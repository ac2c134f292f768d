import logging
import math
from pathlib import Path

import numpy as np
import pytest

from zoo.datasets import ARKIT_52, ARKIT_INDEX
from zoo.datasets.synthetic import face

MOUTH = [i for name, i in ARKIT_INDEX.items() if name.startswith(("mouth", "jaw", "tongue"))]
BLINK_L, BLINK_R = ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]

# "the quick brown fox jumps over the lazy dog" as espeak-ng en-us IPA (TextToPhonemes)
FOX = "ð ə k w ˈɪ k b ɹ ˈaʊ n f ˈɑː k s dʒ ˈʌ m p s ˌoʊ v ɚ ð ə l ˈeɪ z i d ˈɑː ɡ".split()


def timeline(labels, start=0.3):
    """Phonemes with plausible durations: consonants 70 ms, vowels 130 ms, diphthongs 180 ms, pauses 250 ms."""
    out, t = [], start
    for label in labels:
        visemes = face.phoneme_visemes(label)
        if label == "_":
            d = 0.25
        elif visemes[0] in {"AA", "AE", "AH", "EH", "IH", "EE", "ER", "OH", "UH", "OO"}:
            d = 0.18 if len(visemes) > 1 else 0.13
        else:
            d = 0.07
        out.append((t, t + d, label))
        t += d
    return out, t


def value_at(motion, name, t):
    """The channel at the frame nearest ``t`` seconds."""
    return float(motion.channel(name)[int(round(t * motion.fps))])


def centre(item):
    return 0.5 * (item[0] + item[1])


@pytest.mark.parametrize("fps", [30, 48, 60, 29.97])
def test_shape_range_dtype(fps):
    phonemes, end = timeline(FOX)
    duration = end + 0.4
    motion = face.animate(phonemes, duration, fps, emotion="surprised", intensity="strong", seed=3)
    frames = math.floor(round(duration * fps, 9))
    assert motion.frames == frames == motion.weights.shape[0]
    assert motion.weights.shape == (frames, 52) and motion.weights.dtype == np.float32
    assert motion.head.shape == (frames, 3) and motion.head.dtype == np.float32
    assert motion.names == ARKIT_52 and motion.fps == fps
    assert np.isfinite(motion.weights).all() and np.isfinite(motion.head).all()
    assert motion.weights.min() >= 0.0 and motion.weights.max() <= 1.0
    assert np.abs(motion.head).max() < 20.0
    assert not motion.weights.flags.writeable


def test_frame_count_uses_decimal_fps():
    assert face.frame_count(10.0, 29.97) == 299
    assert face.frame_count(10.0, 30) == 300
    assert face.frame_count(0.7, 30) == 21
    assert face.animate([], 0.0, 60).weights.shape == (0, 52)


def test_curves_do_not_depend_on_frame_rate():
    phonemes, end = timeline(FOX)
    at30 = face.animate(phonemes, end, 30, emotion="happy", seed=5)
    at60 = face.animate(phonemes, end, 60, emotion="happy", seed=5)
    np.testing.assert_allclose(at30.weights, at60.weights[::2][: at30.frames], atol=1e-6)
    np.testing.assert_allclose(at30.head, at60.head[::2][: at30.frames], atol=1e-4)


def test_viseme_targets_during_phonemes():
    labels = ["_", "m", "ˈɑː", "p", "ɑː", "b", "ˈuː", "w", "ˈoʊ", "_"]
    phonemes, end = timeline(labels)
    motion = face.animate(phonemes, end + 0.3, 60)
    by = {i: p for i, p in enumerate(phonemes)}
    for i in (2, 4):  # ɑː
        assert value_at(motion, "jawOpen", centre(by[i])) > 0.55
        assert value_at(motion, "mouthClose", centre(by[i])) < 0.1
        assert value_at(motion, "mouthFunnel", centre(by[i])) + value_at(motion, "mouthPucker", centre(by[i])) < 0.2
    for i in (1, 3, 5):  # m p b
        t = centre(by[i])
        assert value_at(motion, "jawOpen", t) < 0.2
        assert value_at(motion, "mouthClose", t) > 0.5
        assert value_at(motion, "mouthPressLeft", t) > 0.4 and value_at(motion, "mouthPressRight", t) > 0.4
    for i, least in ((6, 0.9), (7, 0.9), (8, 0.6)):  # uː w oʊ
        t = centre(by[i])
        assert value_at(motion, "mouthFunnel", t) + value_at(motion, "mouthPucker", t) > least
        assert value_at(motion, "jawOpen", t) < 0.45


def test_anticipation_before_bilabial_and_smoothness():
    phonemes = [(0.0, 0.5, "_"), (0.5, 0.75, "ˈɑː"), (0.75, 0.85, "m"), (0.85, 1.3, "_")]
    motion = face.animate(phonemes, 1.3, 60)
    close = motion.channel("mouthClose")
    vowel_mid = value_at(motion, "mouthClose", 0.625)
    before_onset = value_at(motion, "mouthClose", 0.73)  # 20 ms before m starts
    assert vowel_mid < 0.05
    assert before_onset > vowel_mid + 0.15
    k0, k1 = int(round(0.69 * 60)), int(round(0.75 * 60))
    assert np.all(np.diff(close[k0:k1 + 1]) > 0.01)  # rising over the 60 ms up to the onset
    jaw = motion.channel("jawOpen")
    assert value_at(motion, "jawOpen", 0.73) < jaw[int(round(0.625 * 60))] - 0.1  # jaw already closing

    long_phonemes, end = timeline(FOX * 3)
    mouth = face.animate(long_phonemes, end, 60).weights[:, MOUTH]
    assert np.abs(np.diff(mouth, axis=0)).max() < 0.3


def count_blinks(curve, level=0.8):
    above = curve > level
    return int(np.count_nonzero(above[1:] & ~above[:-1]) + above[0])


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_blinks_in_twenty_seconds(seed):
    motion = face.animate([], 20.0, 60, seed=seed)
    left, right = motion.weights[:, BLINK_L], motion.weights[:, BLINK_R]
    np.testing.assert_array_equal(left, right)
    assert 3 <= count_blinks(left) <= 12
    assert left.max() > 0.9
    # each blink lasts roughly 150–250 ms: time above 0.5 per blink is between 50 and 200 ms
    per_blink = np.count_nonzero(left > 0.5) / 60.0 / count_blinks(left, 0.5)
    assert 0.05 < per_blink < 0.2
    assert np.abs(np.diff(left)).max() < 0.5


def mean_pair(motion, stem):
    return float(motion.channel(stem + "Left").mean() + motion.channel(stem + "Right").mean())


def test_emotion_overlays():
    phonemes, end = timeline(FOX * 2)
    runs = {(e, i): face.animate(phonemes, end, 30, emotion=e, intensity=i, seed=1)
            for e in ("neutral", "happy", "sad", "angry") for i in ("normal", "strong")}
    neutral = runs["neutral", "normal"]
    smile = {k: mean_pair(m, "mouthSmile") for k, m in runs.items()}
    assert smile["happy", "normal"] > smile["neutral", "normal"] + 0.4
    assert smile["happy", "strong"] > smile["happy", "normal"] + 0.2
    assert mean_pair(runs["happy", "normal"], "cheekSquint") > mean_pair(neutral, "cheekSquint") + 0.3
    brow_up = {k: float(m.channel("browInnerUp").mean()) for k, m in runs.items()}
    assert brow_up["sad", "normal"] > brow_up["neutral", "normal"] + 0.3
    assert brow_up["sad", "strong"] > brow_up["sad", "normal"] + 0.2
    assert mean_pair(runs["sad", "normal"], "mouthFrown") > mean_pair(neutral, "mouthFrown") + 0.4
    assert mean_pair(runs["angry", "normal"], "browDown") > mean_pair(neutral, "browDown") + 0.6
    assert mean_pair(runs["angry", "normal"], "noseSneer") > mean_pair(neutral, "noseSneer") + 0.4
    # neutral adds nothing to the brows; sad talks with a smaller jaw, angry with a bigger one
    assert brow_up["neutral", "normal"] == 0.0
    jaw = {k: float(m.channel("jawOpen").mean()) for k, m in runs.items()}
    assert jaw["sad", "normal"] < jaw["neutral", "normal"] < jaw["angry", "normal"]
    assert runs["sad", "normal"].head[:, 1].mean() > neutral.head[:, 1].mean() + 3.0  # head down


@pytest.mark.parametrize("emotion", ["calm", "fearful", "disgust", "surprised"])
def test_other_emotions_change_their_channels(emotion):
    phonemes, end = timeline(FOX)
    neutral = face.animate(phonemes, end, 30)
    motion = face.animate(phonemes, end, 30, emotion=emotion, intensity="strong")
    for name, value in face.EMOTION_OVERLAYS[emotion].items():
        if name.startswith("eyeBlink"):
            continue
        assert motion.channel(name).mean() > neutral.channel(name).mean() + 0.5 * value, name


def test_overlay_varies_slowly_over_time():
    motion = face.animate([], 10.0, 60, emotion="happy")
    smile = motion.channel("mouthSmileLeft")
    assert smile.std() > 0.005
    assert np.abs(np.diff(smile)).max() < 0.01


def test_determinism_and_seed_effects():
    phonemes, end = timeline(FOX * 2)
    a = face.animate(phonemes, end, 60, seed=7)
    b = face.animate(phonemes, end, 60, seed=7)
    c = face.animate(phonemes, end, 60, seed=8)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.head, b.head)
    assert not np.array_equal(a.weights[:, BLINK_L], c.weights[:, BLINK_L])
    assert np.abs(a.head - c.head).max() > 0.1
    np.testing.assert_array_equal(a.weights[:, MOUTH], c.weights[:, MOUTH])


@pytest.mark.parametrize(("kwargs", "valid"), [
    ({"emotion": "joyful"}, "surprised"),
    ({"emotion": ""}, "neutral"),
    ({"intensity": "extreme"}, "strong"),
])
def test_bad_emotion_or_intensity(kwargs, valid):
    with pytest.raises(ValueError, match=valid):
        face.animate([], 1.0, 30, **kwargs)


def test_bad_timeline_and_fps():
    with pytest.raises(ValueError):
        face.animate([(0.5, 0.2, "m")], 1.0, 30)
    with pytest.raises(ValueError):
        face.animate([(0.0, 0.2)], 1.0, 30)
    with pytest.raises(ValueError):
        face.animate([], 1.0, 0)
    with pytest.raises(ValueError):
        face.animate([], -1.0, 30)


def test_unknown_labels_do_not_crash(caplog):
    phonemes = [(0.0, 0.2, "_"), (0.2, 0.3, "Q"), (0.3, 0.45, "ˈɑː"), (0.45, 0.5, "#?"), (0.5, 0.7, "")]
    with caplog.at_level(logging.DEBUG, logger=face.__name__):
        motion = face.animate(phonemes, 1.0, 30)
    assert motion.weights.shape == (30, 52) and np.isfinite(motion.weights).all()
    assert "'Q'" in caplog.text and "'#?'" in caplog.text
    assert face.phoneme_viseme("Q") == "rest"


@pytest.mark.parametrize(("label", "viseme"), [
    ("ˈɑː", "AA"), ("ɑːɹ", "AA"), ("ˌoʊ", "OH"), ("uː", "OO"), ("n̩", "TDNSZ"), ("t͡ʃ", "SH"), ("dʒ", "SH"),
    ("g", "KG"), ("ɡ", "KG"), ("ŋ", "KG"), ("ð", "TH"), ("θ", "TH"), ("v", "FV"), ("ˈaɪ", "AA"), ("ɚ", "ER"),
    ("ᵻ", "IH"), ("ɐ", "AH"), ("w", "W"), ("ɹ", "R"), ("l", "L"), ("_", "sil"), ("ʔ", "H"), ("ɾ", "TDNSZ"),
])
def test_phoneme_viseme(label, viseme):
    assert face.phoneme_viseme(label) == viseme


def test_espeak_inventory_is_covered_and_labels_normalise():
    inventory = ("ə ɪ i iː ɛ æ ɑː ɑːɹ ɔː ɔːɹ oːɹ ɪɹ ɛɹ ʊɹ oʊ ʊ u uː ʌ ɜː aɪ aʊ eɪ ɔɪ ɚ ᵻ ɐ aɪɚ əl "
                 "p b m f v θ ð t d n s z ʃ ʒ tʃ dʒ k ɡ ŋ h l ɹ w j ʔ ɾ n̩ _").split()
    for label in inventory:
        for marked in (label, "ˈ" + label, "ˌ" + label):
            assert face.phoneme_viseme(marked) != "rest", marked
    assert face.phoneme_visemes("ˈaɪ") == ("AA", "IH")
    assert face.normalise_label("ˈɑːɹ") == "ɑɹ"
    assert face.label_stress("ˈaɪ") == 2 and face.label_stress("ˌoʊ") == 1 and face.label_stress("ə") == 0


def test_visemes_table_is_valid():
    required = {"rest", "sil", "AA", "AH", "EE", "OO", "OH", "PBM", "FV", "TH", "TDNSZ", "SH", "KG", "R", "L", "W"}
    assert required <= set(face.VISEMES)
    assert set(face.DOMINANCE) == set(face.VISEMES)
    for name, targets in face.VISEMES.items():
        assert set(targets) <= set(ARKIT_52), name
        assert all(0.0 <= v <= 1.0 for v in targets.values()), name
    for visemes in face.PHONEME_VISEMES.values():
        assert set(visemes) <= set(face.VISEMES)
    assert face.VISEMES["AA"]["jawOpen"] > face.VISEMES["EE"]["jawOpen"]
    assert face.VISEMES["EE"]["mouthStretchLeft"] > face.VISEMES["OO"].get("mouthStretchLeft", 0.0)


def test_sentences_file():
    path = Path(face.__file__).with_name("sentences.txt")
    lines = path.read_text(encoding="ascii").splitlines()
    sentences = [line.strip() for line in lines if line.strip()]
    assert len(sentences) == len(lines)
    assert len(set(sentences)) == len(sentences) >= 220
    words = [len(s.split()) for s in sentences]
    assert min(words) >= 3 and max(words) <= 20
    assert any(s.endswith("?") for s in sentences) and any(s.endswith("!") for s in sentences)
    assert not any(ch.isdigit() for s in sentences for ch in s)  # numbers are spelled out
