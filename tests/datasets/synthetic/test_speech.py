"""espeak-ng speech: determinism, phoneme/word timings, voices and emotions that differ measurably, bad input."""
from __future__ import annotations

import functools
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import librosa
import numpy as np
import pytest

from zoo.datasets.synthetic import speech

SENTENCE = "The quick brown fox jumps over the lazy dog."
PROJECT = Path(__file__).resolve().parents[3]


@functools.cache
def _say(text: str = SENTENCE, voice: str = "male_bright", emotion: str = "neutral", intensity: str = "normal"):
    return speech.synthesize(text, voice, emotion, intensity)


def _median_f0(u: speech.Utterance) -> float:
    """Median YIN f0 (Hz) over frames with RMS above 10 % of the loudest frame."""
    f0 = librosa.yin(u.audio, fmin=50, fmax=500, sr=u.sample_rate, frame_length=1024, hop_length=256)
    rms = librosa.feature.rms(y=u.audio, frame_length=1024, hop_length=256)[0]
    n = min(len(f0), len(rms))
    return float(np.median(f0[:n][rms[:n] > 0.1 * rms.max()]))


def _rms(u: speech.Utterance) -> float:
    """RMS over the speech phonemes' samples (pauses excluded), full scale = 1."""
    parts = [u.audio[int(s * u.sample_rate):int(e * u.sample_rate)] for s, e, _ in u.speech_phonemes]
    return float(np.sqrt(np.mean(np.concatenate(parts).astype(np.float64) ** 2)))


def _semitones(a: float, b: float) -> float:
    return 12 * np.log2(a / b)


# ---------------------------------------------------------------- determinism and speed


def test_same_call_gives_identical_bytes_and_events():
    a = speech.synthesize(SENTENCE, "female_high", "happy", "strong")
    speech.synthesize("Something else entirely, to disturb any engine state.", "male_deep", "sad")
    b = speech.synthesize(SENTENCE, "female_high", "happy", "strong")
    assert a.audio.tobytes() == b.audio.tobytes()
    assert a.phonemes == b.phonemes and a.words == b.words


def test_fresh_process_gives_identical_bytes():
    code = (
        "import hashlib, json; from zoo.datasets.synthetic import speech as s; "
        f"u = s.synthesize({SENTENCE!r}, 'female_warm', 'angry', 'strong'); "
        "print(json.dumps([hashlib.sha256(u.audio.tobytes()).hexdigest(), u.phonemes]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    digest, phonemes = json.loads(out.stdout)
    here = speech.synthesize(SENTENCE, "female_warm", "angry", "strong")
    assert hashlib.sha256(here.audio.tobytes()).hexdigest() == digest
    assert [list(p) for p in here.phonemes] == phonemes


# ---------------------------------------------------------------- audio and timeline


def test_audio_format():
    u = _say()
    assert u.sample_rate == speech.SAMPLE_RATE == 22050
    assert u.audio.dtype == np.float32 and u.audio.ndim == 1
    assert np.all(np.abs(u.audio) <= 1.0) and np.abs(u.audio).max() > 0.2
    assert not u.audio.flags.writeable
    assert 1.5 < u.duration < 4.5
    assert (u.text, u.voice, u.emotion, u.intensity) == (SENTENCE, speech.VOICES["male_bright"], "neutral", "normal")


def test_phonemes_tile_the_audio_in_order():
    u = _say()
    starts = np.array([p[0] for p in u.phonemes])
    ends = np.array([p[1] for p in u.phonemes])
    assert starts[0] == 0.0 and ends[-1] == pytest.approx(u.duration, abs=1e-9)
    assert np.all(ends > starts), "zero-length or reversed phoneme"
    np.testing.assert_array_equal(ends[:-1], starts[1:])
    labels = [p[2] for p in u.phonemes]
    assert all(labels) and all(a != speech.PAUSE or b != speech.PAUSE for a, b in zip(labels, labels[1:]))


def test_phoneme_count_and_labels_are_plausible():
    labels = [p[2] for p in _say().speech_phonemes]
    # 9 words, ~33 phonemes in a US-English transcription of the pangram
    assert 28 <= len(labels) <= 40, labels
    assert labels[:2] == ["ð", "ə"]
    assert labels[-1] in ("ɡ", "g")
    assert {"k", "w", "b", "f", "s", "z", "d", "l", "v"} <= set(labels)


def test_silence_is_labelled_pause_and_speech_is_not_silent():
    u = _say("Hello, world. How are you?")
    sr = u.sample_rate
    pauses = [p for p in u.phonemes if p[2] == speech.PAUSE]
    assert len(pauses) >= 3  # lead-in, comma, sentence break (+ tail)
    long_pause = max(pauses, key=lambda p: p[1] - p[0])
    assert long_pause[1] - long_pause[0] > 0.1
    assert np.abs(u.audio[int(long_pause[0] * sr):int(long_pause[1] * sr)]).max() < 0.01
    for s, e, label in u.speech_phonemes:
        if e - s > 0.04 and label.strip("ˈˌ")[0] in "aeiouɑæɛɪʊʌəɜɔ":
            assert np.abs(u.audio[int(s * sr):int(e * sr)]).max() > 0.05, (s, e, label)


def test_words_match_the_text_and_contain_their_phonemes():
    u = _say()
    assert [w[2] for w in u.words] == re.findall(r"\w+", SENTENCE)
    starts = [w[0] for w in u.words]
    assert starts == sorted(starts)
    for (s0, e0, _), (s1, _, _) in zip(u.words, u.words[1:]):
        assert s0 < e0 <= s1
    phoneme_starts = {p[0] for p in u.phonemes}
    phoneme_ends = {p[1] for p in u.phonemes}
    assert all(s in phoneme_starts and e in phoneme_ends for s, e, _ in u.words)
    assert all(0 <= s < e <= u.duration for s, e, _ in u.words)


def test_words_of_numbers_and_punctuated_text():
    u = _say("Hello, Mr. Smith: I have 42 well-known cats!")
    assert [w[2] for w in u.words] == ["Hello", "Mr", "Smith", "I", "have", "42", "well-known", "cats"]
    span_42 = next(w for w in u.words if w[2] == "42")
    inside = [p[2] for p in u.speech_phonemes if span_42[0] <= p[0] < span_42[1]]
    assert len(inside) >= 6, inside  # "forty-two"


def test_plosive_closure_belongs_to_the_plosive():
    """The silent stretch before the burst of 'b' in "brown" is part of 'b', not of the preceding 'k'."""
    u = _say()
    sr = u.sample_rate
    index = next(i for i, p in enumerate(u.phonemes) if p[2] == "b")
    s, e, _ = u.phonemes[index]
    assert e - s > 0.015
    head = u.audio[int(s * sr):int((s + 0.01) * sr)]
    assert np.abs(head).max() < 0.05 * np.abs(u.audio).max()


# ---------------------------------------------------------------- voices


def test_voices_are_frozen_and_distinct():
    assert len(speech.VOICES) >= 4
    assert {v.gender for v in speech.VOICES.values()} == {"male", "female"}
    assert len({v.espeak_voice for v in speech.VOICES.values()}) == len(speech.VOICES)
    voice = speech.VOICES["male_deep"]
    with pytest.raises(AttributeError):
        voice.pitch = 99


def test_low_male_and_high_female_pitch_differ_by_over_an_octave():
    low, high = _median_f0(_say(voice="male_deep")), _median_f0(_say(voice="female_high"))
    assert 60 < low < 110 and 180 < high < 320
    assert _semitones(high, low) > 12


def test_voices_median_f0_orders_as_designed():
    f0 = [_median_f0(_say(voice=name)) for name in ("male_deep", "male_bright", "female_warm", "female_high")]
    assert all(_semitones(b, a) > 2 for a, b in zip(f0, f0[1:])), f0


def test_speaking_rate_differs_between_voices():
    slow, fast = _say(voice="male_deep"), _say(voice="female_high")
    assert fast.duration < 0.88 * slow.duration, (fast.duration, slow.duration)


def test_timbre_differs_between_voices():
    """Spectral centroid and MFCC means (c1..c12, c0 dropped for loudness) separate the voices."""

    def features(u):
        centroid = float(np.mean(librosa.feature.spectral_centroid(y=u.audio, sr=u.sample_rate)))
        mfcc = librosa.feature.mfcc(y=u.audio, sr=u.sample_rate, n_mfcc=13)[1:].mean(axis=1)
        return centroid, mfcc

    c_deep, m_deep = features(_say(voice="male_deep"))
    c_high, m_high = features(_say(voice="female_high"))
    c_bright, m_bright = features(_say(voice="male_bright"))
    assert c_high - c_deep > 400, (c_high, c_deep)
    same = np.linalg.norm(m_deep - features(_say("Hello there, this is me again.", voice="male_deep"))[1])
    assert np.linalg.norm(m_deep - m_high) > 10
    assert np.linalg.norm(m_deep - m_bright) > 5
    assert same < np.linalg.norm(m_deep - m_high)


# ---------------------------------------------------------------- emotions


def test_emotions_are_in_ravdess_order():
    assert speech.EMOTIONS == ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
    assert speech.INTENSITIES == ("normal", "strong")
    assert [speech.ravdess_code(e) for e in speech.EMOTIONS] == list(range(1, 9))


def test_sad_is_slower_lower_and_quieter_than_neutral():
    neutral, sad = _say(voice="female_warm"), _say(voice="female_warm", emotion="sad")
    assert sad.duration > 1.15 * neutral.duration
    assert _semitones(_median_f0(sad), _median_f0(neutral)) < -1.0
    assert _rms(sad) < 0.85 * _rms(neutral)


def test_angry_is_louder_and_faster_than_neutral():
    neutral, angry = _say(voice="male_deep"), _say(voice="male_deep", emotion="angry")
    assert _rms(angry) > 1.1 * _rms(neutral)
    assert angry.duration < 0.95 * neutral.duration


def test_happy_and_surprised_are_higher_than_neutral():
    neutral = _median_f0(_say())
    assert _semitones(_median_f0(_say(emotion="happy")), neutral) > 1.0
    assert _semitones(_median_f0(_say(emotion="surprised")), neutral) > 1.5


@pytest.mark.parametrize(("emotion", "pitch_sign", "duration_sign"), [("sad", -1, 1), ("fearful", 1, -1)])
def test_strong_moves_further_from_neutral_than_normal(emotion, pitch_sign, duration_sign):
    neutral, normal, strong = (_say(voice="male_bright", emotion=e, intensity=i)
                               for e, i in (("neutral", "normal"), (emotion, "normal"), (emotion, "strong")))
    f_neutral, f_normal, f_strong = (_median_f0(u) for u in (neutral, normal, strong))
    assert pitch_sign * _semitones(f_normal, f_neutral) > 0.5
    assert pitch_sign * _semitones(f_strong, f_normal) > 0.5
    assert duration_sign * (normal.duration - neutral.duration) > 0.1
    assert duration_sign * (strong.duration - normal.duration) > 0.1


def test_strong_doubles_the_prosody_deviation():
    normal, strong = speech.emotion_prosody("happy"), speech.emotion_prosody("happy", "strong")
    assert strong.pitch == pytest.approx(2 * normal.pitch)
    assert strong.rate == pytest.approx(normal.rate**2)
    assert speech.espeak_parameters("male_deep") == {"rate": 155, "volume": 100, "pitch": 35, "range": 40}


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"voice": "robot"}, ["unknown voice", "'robot'", "male_deep", "female_high"]),
        ({"text": ""}, ["text is empty"]),
        ({"text": "   \n\t "}, ["nothing speakable"]),
        ({"text": "... !!! ---"}, ["nothing speakable"]),
        ({"text": b"bytes"}, ["must be a str"]),
        ({"emotion": "bored"}, ["unknown emotion", "'bored'", "surprised"]),
        ({"intensity": "extreme"}, ["unknown intensity", "'extreme'", "strong"]),
        ({"emotion": "neutral", "intensity": "strong"}, ["'strong'", "'neutral'", "not defined"]),
    ],
)
def test_bad_input_raises_one_clear_error(kwargs, words):
    args = {"text": SENTENCE, "voice": "male_deep", "emotion": "happy", "intensity": "normal"} | kwargs
    with pytest.raises(speech.SynthesisError) as e:
        speech.synthesize(**args)
    assert isinstance(e.value, ValueError)
    for word in words:
        assert word in str(e.value), str(e.value)
