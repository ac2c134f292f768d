"""zoo.voca_emotion.phones: pocketsphinx all-phone decoding → one-hot phones at 60 fps.

Bars were fixed before any measurement; the reference is espeak-ng's own phoneme timeline of synthetic speech.
Measures:

* silence/speech agreement: share of 60-fps frames where "decoded SIL" equals "espeak pause", on a sentence with
  0.5 s of digital silence added before and after (so both classes are well represented); also the recall of
  each class (share of espeak's silent / speaking frames that are decoded as such);
* broad-class agreement: the same share over three classes, silence / vowel / consonant (espeak's IPA label
  classed by its first letter after stress marks; CMU vowels = AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW);
* rate/format agreement: share of frames with the same phone when the same speech arrives at another rate or
  as int16 instead of float;
* sequence similarity: ``1 − Levenshtein(a, b) / max(|a|, |b|)`` of the decoded phone strings with ``SIL``
  removed and repeats collapsed.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from zoo.datasets.audio import resample, to_pcm16
from zoo.datasets.synthetic import speech
from zoo.voca_emotion import phones

SILENCE_AGREEMENT_BAR = 0.85
SILENCE_RECALL_BAR = 0.80
SPEECH_RECALL_BAR = 0.80
BROAD_CLASS_BAR = 0.65
RATE_AGREEMENT_BAR = 0.85
FORMAT_AGREEMENT_BAR = 0.85
SPEAKER_MARGIN = 0.10  # same-sentence similarity across voices ≥ every different-sentence similarity + this

SENTENCE = "The quick brown fox jumps over the lazy dog."
OTHER_SENTENCE = "Fresh coffee is served every morning at eight."
PAD_S = 0.5
CMU_VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
IPA_VOWELS = frozenset("aeiouæɐɑɒɔəɚɛɜɪʊʌᵻ")
STRESS = "ˈˌ"


def _needs_pocketsphinx():
    pytest.importorskip(
        "pocketsphinx", reason=f"phone decoding needs pocketsphinx ({phones.POCKETSPHINX_REQUIREMENT})"
    )


@pytest.fixture(scope="module")
def utts():
    """Synthetic utterances keyed (sentence, voice)."""
    _needs_pocketsphinx()
    pairs = [(SENTENCE, "male_deep"), (SENTENCE, "female_high"), (OTHER_SENTENCE, "male_deep"),
             (OTHER_SENTENCE, "female_high")]
    return {(t, v): speech.synthesize(t, v, "neutral", "normal") for t, v in pairs}


@pytest.fixture(scope="module")
def padded(utts):
    """The male sentence with PAD_S of zeros on both sides, its rate, and espeak's timeline shifted to match."""
    u = utts[(SENTENCE, "male_deep")]
    pad = np.zeros(int(round(PAD_S * u.sample_rate)), np.float32)
    shift = pad.size / u.sample_rate
    timeline = [(s + shift, e + shift, lab) for s, e, lab in u.phonemes]
    return np.concatenate([pad, u.audio, pad]), u.sample_rate, timeline


def _espeak_at(timeline, n: int) -> list[str]:
    """espeak label active at time j/60 for j < n (the pause label outside the timeline)."""
    out = []
    for j in range(n):
        t = j / phones.FPS
        out.append(next((lab for s, e, lab in timeline if s <= t < e), speech.PAUSE))
    return out


def _ipa_class(label: str) -> str:
    if label == speech.PAUSE:
        return "sil"
    return "vowel" if label.lstrip(STRESS)[:1] in IPA_VOWELS else "cons"


def _cmu_class(phone: str) -> str:
    if phone == phones.SIL:
        return "sil"
    return "vowel" if phone in CMU_VOWELS else "cons"


def _sequence(ids: np.ndarray) -> list[str]:
    seq = [phones.PHONES[i] for i in ids if i != 0]
    return [p for k, p in enumerate(seq) if k == 0 or p != seq[k - 1]]


def _similarity(a: list[str], b: list[str]) -> float:
    """1 − Levenshtein(a, b) / max(|a|, |b|)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return 1.0 - prev[-1] / max(len(a), len(b), 1)


# ---------------------------------------------------------------- constants and the frame count rule


def test_inventory_is_the_models_ci_phone_set():
    assert len(phones.PHONES) == phones.NUM_PHONES == 40
    assert phones.PHONES[0] == phones.SIL and len(set(phones.PHONES)) == 40
    assert phones.FPS == 60
    _needs_pocketsphinx()
    mdef = open(phones.model_paths()["hmm"] + "/mdef", "rb").read()
    model = []
    for name in mdef[mdef.index(b"+NSN+\x00"):].split(b"\x00"):  # the binary mdef's null-terminated CI phones
        if not name:
            break
        model.append(name.decode())
    assert len(model) == 42
    assert set(model) - {"+NSN+", "+SPN+"} == set(phones.PHONES)
    assert [p for p in model if p in phones.PHONES and p != phones.SIL] == list(phones.PHONES[1:])


def test_num_frames_rule():
    assert phones.num_frames(16000, 16000) == 60
    assert phones.num_frames(3 * 22050, 22050) == 180
    assert phones.num_frames(1200, 16000) == 4  # 4.5 → 4 (ties to even)
    assert phones.num_frames(16400, 16000) == 62  # 61.5 → 62
    assert phones.num_frames(0, 16000) == 0
    from zoo.voca_emotion import features  # the MFCC front end: both must give the same N

    for rate in (16000, 22050, 44100, 48000):
        for s in range(0, 5000, 7):
            assert phones.num_frames(s, rate) == features.num_frames(s, rate)


# ---------------------------------------------------------------- output structure


def test_one_hot_shape_and_segments(utts):
    u = utts[(SENTENCE, "male_deep")]
    x = phones.phone_frames(u.audio, u.sample_rate)
    n = phones.num_frames(u.audio.size, u.sample_rate)
    assert x.shape == (n, 40) and x.dtype == np.float32
    assert set(np.unique(x).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(x.sum(axis=1), np.ones(n, np.float32))
    assert len(set(x.argmax(axis=1).tolist())) >= 10  # a sentence uses many phones, not one

    segs = phones.phone_segments(u.audio, u.sample_rate)
    assert segs[0][0] == 0.0
    assert all(a[1] == b[0] and a[2] != b[2] for a, b in zip(segs, segs[1:]))  # gapless, merged
    assert all(s < e and p in phones.PHONE_INDEX for s, e, p in segs)
    assert abs(segs[-1][1] - u.duration) < 0.03
    ids = phones.phone_ids(u.audio, u.sample_rate)
    for j in range(n):  # frame j carries the segment active at j/60 s
        t = j / phones.FPS
        label = next((p for s, e, p in segs if s <= t < e), phones.SIL)
        assert phones.PHONES[ids[j]] == label


def test_deterministic_and_history_free(utts):
    a = utts[(SENTENCE, "male_deep")]
    b = utts[(OTHER_SENTENCE, "female_high")]
    first = phones.phone_frames(a.audio, a.sample_rate)
    phones.phone_frames(b.audio, b.sample_rate)  # decoding something else must leave no trace
    np.testing.assert_array_equal(phones.phone_frames(a.audio, a.sample_rate), first)


def test_silence_and_empty_input():
    _needs_pocketsphinx()
    ids = phones.phone_ids(np.zeros(16000, np.float32), 16000)
    assert ids.shape == (60,) and np.all(ids == 0)
    assert phones.phone_frames(np.zeros(0, np.float32), 16000).shape == (0, 40)
    assert phones.phone_segments(np.zeros(0, np.float32), 16000) == []
    for n in (1, 100, 400):  # shorter than a decoder window: no hypothesis at all, still a well-formed answer
        x = np.random.default_rng(n).normal(0.0, 0.1, n).astype(np.float32)
        assert phones.phone_frames(x, 16000).shape == (phones.num_frames(n, 16000), 40)
        assert all(p == phones.SIL for _, _, p in phones.phone_segments(x, 16000))


# ---------------------------------------------------------------- agreement with espeak's timeline


def test_silence_vs_speech_agreement(padded):
    audio, rate, timeline = padded
    ids = phones.phone_ids(audio, rate)
    ref_sil = np.array([lab == speech.PAUSE for lab in _espeak_at(timeline, ids.size)])
    got_sil = ids == 0
    agreement = float(np.mean(ref_sil == got_sil))
    sil_recall = float(np.mean(got_sil[ref_sil]))
    speech_recall = float(np.mean(~got_sil[~ref_sil]))
    print(f"silence/speech agreement {agreement:.3f}, silence recall {sil_recall:.3f}, "
          f"speech recall {speech_recall:.3f}")
    assert agreement >= SILENCE_AGREEMENT_BAR
    assert sil_recall >= SILENCE_RECALL_BAR
    assert speech_recall >= SPEECH_RECALL_BAR


def test_broad_class_agreement(padded):
    audio, rate, timeline = padded
    ids = phones.phone_ids(audio, rate)
    ref = [_ipa_class(lab) for lab in _espeak_at(timeline, ids.size)]
    got = [_cmu_class(phones.PHONES[i]) for i in ids]
    agreement = float(np.mean([r == g for r, g in zip(ref, got)]))
    print(f"silence/vowel/consonant agreement {agreement:.3f}")
    assert agreement >= BROAD_CLASS_BAR


# ---------------------------------------------------------------- invariance


def test_independent_of_input_rate_and_format(utts):
    u = utts[(SENTENCE, "male_deep")]
    base = phones.phone_ids(u.audio, u.sample_rate)  # 22.05 kHz float32
    at48 = phones.phone_ids(resample(u.audio, u.sample_rate, 48000), 48000)
    at16 = resample(u.audio, u.sample_rate, 16000)
    as_float = phones.phone_ids(at16.astype(np.float64), 16000)
    as_int16 = phones.phone_ids(to_pcm16(at16) // 2, 16000)  # int16 at half scale: different samples, same speech
    assert base.shape == at48.shape == as_float.shape == as_int16.shape
    rate_agreement = float(np.mean(base == at48))
    format_agreement = float(np.mean(as_float == as_int16))
    print(f"22.05 vs 48 kHz agreement {rate_agreement:.3f}; float vs int16 (half scale) {format_agreement:.3f}")
    assert rate_agreement >= RATE_AGREEMENT_BAR
    assert format_agreement >= FORMAT_AGREEMENT_BAR


def test_speaker_independence(utts):
    seqs = {key: _sequence(phones.phone_ids(u.audio, u.sample_rate)) for key, u in utts.items()}
    voices = ("male_deep", "female_high")
    same = [_similarity(seqs[(t, voices[0])], seqs[(t, voices[1])]) for t in (SENTENCE, OTHER_SENTENCE)]
    different = [_similarity(seqs[(SENTENCE, v)], seqs[(OTHER_SENTENCE, w)]) for v in voices for w in voices]
    print(f"same sentence, two voices: {[round(s, 3) for s in same]}; "
          f"different sentences: {[round(d, 3) for d in different]}")
    assert min(same) >= max(different) + SPEAKER_MARGIN


# ---------------------------------------------------------------- errors


def test_bad_input_raises():
    with pytest.raises(ValueError, match="mono"):
        phones.phone_frames(np.zeros((100, 2), np.float32), 16000)
    with pytest.raises(ValueError, match="NaN"):
        phones.phone_frames(np.full(1600, np.nan, np.float32), 16000)
    with pytest.raises(ValueError, match="sample_rate"):
        phones.phone_frames(np.zeros(1600, np.float32), 0)
    with pytest.raises(TypeError, match="int16"):
        phones.phone_frames(np.zeros(1600, np.int32), 16000)


def test_missing_pocketsphinx_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)  # makes `import pocketsphinx` raise ImportError
    with pytest.raises(ImportError, match=r"pip install pocketsphinx==\d+\.\d+\.\d+"):
        phones.phone_frames(np.zeros(1600, np.float32), 16000)


def test_decoding_never_imports_tensorflow():
    _needs_pocketsphinx()
    script = ("import sys, numpy as np\nfrom zoo.voca_emotion import phones\n"
              "phones.phone_frames(np.zeros(8000, np.float32), 16000)\n"
              "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\nassert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
