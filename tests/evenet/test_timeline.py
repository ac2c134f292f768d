"""EveNet timelines: espeak text → 48-fps categories, transcript alignment by DTW, its error measure, bad input."""
from __future__ import annotations

import functools
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from zoo.core.validate import UsageError
from zoo.datasets import expected_frames, resample
from zoo.datasets.evenet import PHONEME_CATEGORIES
from zoo.datasets.synthetic.speech import PAUSE, synthesize
from zoo.evenet.timeline import Timeline, align_transcript, boundary_error_ms, text_timeline

FPS = 48.0
FRAME_S = 1.0 / FPS
SENTENCE = "The quick brown fox jumps over the lazy dog."
REFERENCE_VOICE = "female_warm"  # align_transcript's default

# The bar, fixed before any alignment of these sentences was measured: mean interior-boundary error of the
# speech phonemes ≤ 25 ms (one 48-fps frame, 20.8 ms, plus a little). Each target voice/emotion differs from
# the reference (female_warm, neutral, 165 wpm) in timbre, pitch and rate: 124, 211 and 148 wpm.
BAR_MS = 25.0
TARGETS = (
    ("Please pass me the blue mug.", "male_deep", "sad"),
    ("Well, I think we should leave before the rain starts.", "female_high", "happy"),
    ("Calm palms sway on the far side of the harbour.", "male_bright", "sad"),
)


@functools.cache
def _say(text: str, voice: str = REFERENCE_VOICE, emotion: str = "neutral"):
    return synthesize(text, voice, emotion)


@functools.cache
def _aligned(text: str, voice: str, emotion: str):
    target = _say(text, voice, emotion)
    return align_transcript(target.audio, target.sample_rate, text)


def _speech(phonemes):
    """Speech phonemes only: align_transcript drops pauses the recording lacks, so pauses are not compared."""
    return [p for p in phonemes if p[2] != PAUSE]


def _stretched(phonemes, seconds: float):
    """The naive baseline: the reference timeline scaled linearly to the recording's duration."""
    k = seconds / phonemes[-1][1]
    return [(s * k, e * k, label) for s, e, label in phonemes]


# ---------------------------------------------------------------- text → timeline


def test_text_timeline_frames_follow_the_floor_rule_and_start_and_end_silent():
    tl = text_timeline(SENTENCE)
    assert isinstance(tl, Timeline) and tl.fps == FPS and tl.text == SENTENCE
    assert tl.sample_rate == 22050 and tl.audio.dtype == np.float32 and tl.audio.ndim == 1
    assert tl.num_frames == len(tl.labels) == math.floor(len(tl.audio) * FPS / tl.sample_rate)
    assert tl.num_frames == expected_frames(len(tl.audio), tl.sample_rate, FPS)
    assert tl.seconds == pytest.approx(len(tl.audio) / tl.sample_rate)
    # 0.1 s edge pauses: 4 SIL frames at both ends, speech in between
    assert tl.labels[:4] == ("SIL",) * 4 and tl.labels[-4:] == ("SIL",) * 4
    assert {"K", "W", "F", "D", "G"} <= set(tl.labels)
    # the phonemes tile [0, seconds]
    starts, ends = np.array([p[0] for p in tl.phonemes]), np.array([p[1] for p in tl.phonemes])
    assert starts[0] == 0.0 and ends[-1] == pytest.approx(tl.seconds) and np.allclose(starts[1:], ends[:-1])


def test_text_timeline_without_edge_pause_keeps_espeak_audio_and_timing():
    u = _say(SENTENCE, "male_bright", "angry")
    tl = text_timeline(SENTENCE, voice="male_bright", emotion="angry", edge_pause=0)
    assert np.array_equal(tl.audio, u.audio) and tl.phonemes == u.phonemes
    assert tl.num_frames == math.floor(len(u.audio) * FPS / u.sample_rate)
    # frame i takes the phoneme holding t = i / fps
    start, end, label = u.phonemes[5]
    i = math.ceil(start * FPS)
    assert i / FPS < end and tl.labels[i] != "SIL"


def test_mama_has_m_and_aa_and_ids_index_the_categories():
    tl = text_timeline("mama")
    assert {"M", "AA"} <= set(tl.labels)
    ids = tl.phoneme_ids()
    assert ids.dtype == np.int32 and ids.shape == (tl.num_frames,)
    assert ids.min() >= 0 and ids.max() < len(PHONEME_CATEGORIES) == 56
    assert ids[0] == 47 and PHONEME_CATEGORIES[47] == "SIL"
    assert [PHONEME_CATEGORIES[i] for i in ids] == list(tl.labels)
    assert set(ids[np.array(tl.labels) == "M"]) == {PHONEME_CATEGORIES.index("M")}


def test_emotion_changes_the_frame_count():
    slow, fast = text_timeline(SENTENCE, emotion="sad"), text_timeline(SENTENCE, emotion="happy")
    assert slow.num_frames > 1.2 * fast.num_frames


# ---------------------------------------------------------------- alignment


@pytest.mark.parametrize("text,voice,emotion", TARGETS)
def test_alignment_beats_linear_stretch_on_each_sentence(text, voice, emotion):
    target, reference = _say(text, voice, emotion), _say(text)
    tl = _aligned(text, voice, emotion)
    truth = _speech(target.phonemes)
    dtw = boundary_error_ms(_speech(tl.phonemes), truth)
    baseline = boundary_error_ms(_speech(_stretched(reference.phonemes, target.duration)), truth)
    assert dtw < baseline, f"DTW {dtw:.1f} ms vs linear stretch {baseline:.1f} ms"


def test_alignment_mean_boundary_error_meets_the_bar():
    errors = [boundary_error_ms(_speech(_aligned(*t).phonemes), _speech(_say(*t).phonemes)) for t in TARGETS]
    assert np.mean(errors) <= BAR_MS, f"per sentence {np.round(errors, 1)} ms"


def test_aligned_timeline_tiles_the_recording_and_keeps_every_phoneme_visible():
    text, voice, emotion = TARGETS[1]
    target, tl = _say(text, voice, emotion), _aligned(text, voice, emotion)
    assert tl.sample_rate == target.sample_rate and np.array_equal(tl.audio, target.audio)
    assert tl.num_frames == expected_frames(len(target.audio), target.sample_rate, FPS)
    assert [p[2] for p in _speech(tl.phonemes)] == [p[2] for p in _speech(_say(text).phonemes)]
    starts, ends = np.array([p[0] for p in tl.phonemes]), np.array([p[1] for p in tl.phonemes])
    assert starts[0] == 0.0 and ends[-1] == pytest.approx(target.duration) and np.array_equal(starts[1:], ends[:-1])
    frame_times = np.arange(tl.num_frames) / FPS
    for start, end, label in _speech(tl.phonemes):
        assert end - start >= FRAME_S - 1e-9, label
        assert np.any((frame_times >= start) & (frame_times < end)), f"{label} [{start:.4f}, {end:.4f}) has no frame"


def test_leading_and_trailing_silence_with_noise_become_pauses():
    # the same bar, on a recording with 0.4 s before and 0.6 s after the speech and −60 dBFS noise throughout
    text, voice, emotion = TARGETS[0]
    target = _say(text, voice, emotion)
    rate, lead = target.sample_rate, 0.4
    noise = 1e-3 * np.random.default_rng(0).standard_normal(len(target.audio) + int(1.0 * rate))
    audio = (np.r_[np.zeros(int(lead * rate)), target.audio, np.zeros(int(0.6 * rate))] + noise).astype(np.float32)
    shift = int(lead * rate) / rate
    truth = [(s + shift, e + shift, label) for s, e, label in _speech(target.phonemes)]
    tl = align_transcript(audio, rate, text)
    speech = _speech(tl.phonemes)
    assert boundary_error_ms(speech, truth) <= BAR_MS
    assert abs(speech[0][0] - truth[0][0]) <= BAR_MS / 1000  # speech onset
    assert abs(speech[-1][1] - truth[-1][1]) <= BAR_MS / 1000  # speech offset
    assert tl.phonemes[0][2] == PAUSE and tl.phonemes[-1][2] == PAUSE
    assert set(tl.labels[:15]) == {"SIL"} and set(tl.labels[-25:]) == {"SIL"}


def test_other_sample_rates_align_to_the_same_boundaries_within_a_frame():
    text, voice, emotion = TARGETS[0]
    target = _say(text, voice, emotion)
    boundaries = {}
    for rate in (16000, 44100):
        audio = resample(target.audio, target.sample_rate, rate)
        tl = align_transcript(audio, rate, text)
        assert tl.sample_rate == rate and len(tl.audio) == len(audio)
        assert tl.num_frames == expected_frames(len(audio), rate, FPS)
        boundaries[rate] = np.array([s for s, _, _ in _speech(tl.phonemes)] + [_speech(tl.phonemes)[-1][1]])
    native = _speech(_aligned(text, voice, emotion).phonemes)
    boundaries[22050] = np.array([s for s, _, _ in native] + [native[-1][1]])
    assert len({len(b) for b in boundaries.values()}) == 1
    assert np.abs(boundaries[16000] - boundaries[44100]).max() <= FRAME_S
    assert np.abs(boundaries[16000] - boundaries[22050]).max() <= FRAME_S


def test_integer_pcm_is_scaled_like_float():
    text, voice, emotion = TARGETS[2]
    target = _say(text, voice, emotion)
    pcm = np.round(target.audio * 32768).astype(np.int16)
    assert _speech(align_transcript(pcm, target.sample_rate, text).phonemes) == _speech(
        align_transcript(pcm.astype(np.float32) / 32768, target.sample_rate, text).phonemes)


def test_aligning_three_seconds_is_fast():
    text, voice, emotion = TARGETS[2]
    target = _say(text, voice, emotion)
    assert 2.5 < target.duration < 4.0
    align_transcript(target.audio, target.sample_rate, text)  # warm (espeak library copy, scipy.fft plans)
    t0 = time.perf_counter()
    align_transcript(target.audio, target.sample_rate, text)
    assert time.perf_counter() - t0 < 1.0


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("transcript", ["", "   \n\t"])
def test_empty_transcript_is_one_clear_error(transcript):
    audio = _say(SENTENCE).audio
    with pytest.raises(UsageError, match=r"^transcript: is empty \(nothing to speak\)$"):
        align_transcript(audio, 22050, transcript)


def test_transcript_without_anything_speakable():
    with pytest.raises(UsageError, match=r"^transcript '\?! \.\.\.': has nothing speakable"):
        align_transcript(_say(SENTENCE).audio, 22050, "?! ...")


def test_silent_audio_is_one_clear_error():
    with pytest.raises(UsageError, match=r"^audio: is silent \(every sample is zero\); nothing to align$"):
        align_transcript(np.zeros(22050, np.float32), 22050, SENTENCE)
    with pytest.raises(UsageError, match=r"^audio: is silent \(peak -100 dBFS\)"):
        align_transcript(np.full(16000, 1e-5, np.float32), 16000, SENTENCE)


def test_short_stereo_and_non_finite_audio_are_refused():
    with pytest.raises(UsageError, match=r"^audio: too short: 0\.050 s \(at least 0\.1 s needed\)$"):
        align_transcript(np.ones(800, np.float32) * 0.1, 16000, SENTENCE)
    with pytest.raises(UsageError, match=r"^audio: must be mono"):
        align_transcript(np.zeros((16000, 2), np.float32), 16000, SENTENCE)
    bad = np.full(16000, 0.1, np.float32)
    bad[123] = np.nan
    with pytest.raises(UsageError, match=r"^audio: non-finite samples \(NaN or Inf\), first at sample 123$"):
        align_transcript(bad, 16000, SENTENCE)
    with pytest.raises(UsageError, match=r"^sample_rate 0: must be a positive integer"):
        align_transcript(bad, 0, SENTENCE)


def test_text_timeline_refuses_empty_text_and_bad_fps():
    with pytest.raises(UsageError, match=r"^text: is empty"):
        text_timeline(" ")
    with pytest.raises(UsageError, match=r"^fps -1\.0: must be a positive number$"):
        text_timeline(SENTENCE, fps=-1.0)


# ---------------------------------------------------------------- the error measure


def test_boundary_error_formula():
    truth = [(0.0, 0.1, "_"), (0.1, 0.25, "m"), (0.25, 0.4, "a"), (0.4, 0.5, "_")]
    assert boundary_error_ms(truth, truth) == 0.0
    moved = [(0.0, 0.13, "_"), (0.13, 0.25, "m"), (0.25, 0.37, "a"), (0.37, 0.5, "_")]
    assert boundary_error_ms(moved, truth) == pytest.approx((30 + 0 + 30) / 3)
    # the outer edges do not count; with gaps both edges of each interior boundary do
    assert boundary_error_ms([(0.05, 0.25, "m"), (0.25, 0.45, "a")], [(0.0, 0.25, "m"), (0.25, 0.4, "a")]) == 0.0
    assert boundary_error_ms([(0.0, 0.2, "m"), (0.3, 0.4, "a")], [(0.0, 0.25, "m"), (0.25, 0.4, "a")]) == \
        pytest.approx((50 + 50) / 2)


def test_boundary_error_needs_the_same_sequence():
    with pytest.raises(ValueError, match=r"phoneme sequences differ .* first difference at index 1"):
        boundary_error_ms([(0, 1, "m"), (1, 2, "a")], [(0, 1, "m"), (1, 2, "o")])
    with pytest.raises(ValueError, match="at least 2 phonemes"):
        boundary_error_ms([(0, 1, "m")], [(0, 1, "m")])


def test_module_imports_neither_tensorflow_nor_librosa():
    path = Path(__file__).resolve().parents[2] / "zoo" / "evenet" / "timeline.py"
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('timeline_alone', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec); sys.modules['timeline_alone'] = module\n"
        "spec.loader.exec_module(module)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'librosa', 'numba')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
