"""VOCA's NumPy audio front end (``zoo.voca_emotion.features``): definitional and golden properties."""
from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from zoo.voca_emotion import features as F


@pytest.fixture(scope="module")
def speech():
    """(audio float32, rate): the shipped parity sentence (female_warm, 22 050 Hz, 2.9 s)."""
    from zoo.core import parity_speech

    return parity_speech()


@pytest.fixture(scope="module")
def speech16k(speech):
    from zoo.datasets import resample

    return resample(speech[0], speech[1], F.SAMPLE_RATE)


def test_import_does_not_load_tensorflow():
    code = ("import sys, zoo.voca_emotion.features;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_constants():
    assert (F.SAMPLE_RATE, F.FEATURE_FPS, F.HOP, F.WIN, F.N_FFT) == (16000, 100, 160, 400, 512)
    assert (F.FPS, F.WINDOW_FRAMES, F.NUM_FEATURES, F.PAD_ROWS) == (60, 16, 29, 8)
    assert F.KINDS == ("mfcc", "logmel") and F.DEFAULT_KIND == "mfcc"
    n = np.arange(400)
    np.testing.assert_allclose(F.HANN, np.sin(np.pi * n / 400) ** 2, atol=1e-15)  # periodic Hann


@pytest.mark.parametrize("samples, rate, n", [
    (16000, 16000, 60), (22050, 22050, 60), (44100, 44100, 60), (48000, 48000, 60),
    (1000, 16000, 4),  # 3.75
    (400, 16000, 2),  # 1.5 → 2 (tie, even)
    (1200, 16000, 4),  # 4.5 → 4 (tie, even)
    (16400, 16000, 62),  # 61.5 → 62 (tie, even); the original's float expression gives 61
    (22051, 22050, 60), (63552, 22050, 173),  # 172.93
    (0, 16000, 0), (1, 8000, 0),
])
def test_num_frames_rule(samples, rate, n):
    assert F.num_frames(samples, rate) == n == round(Fraction(samples * 60, rate))


def test_num_frames_legacy_differs_only_on_float_ties():
    assert (F.num_frames(16400, 16000, legacy=True), F.num_frames(16400, 16000)) == (61, 62)
    for rate in (16000, 22050, 44100, 48000):
        samples = np.random.default_rng(rate).integers(1, 10**6, 500)
        for s in samples:  # non-ties: the original's int(round(len / sr * 60)) and the exact rule agree
            if Fraction(int(s) * 60, rate).denominator != 2:
                assert F.num_frames(int(s), rate, legacy=True) == F.num_frames(int(s), rate)


@pytest.mark.parametrize("samples", [1, 159, 160, 161, 1000, 16000])
def test_frame_signal_centres_frames_at_160k(samples):
    audio = np.arange(1, samples + 1, dtype=np.float64)  # sample s holds s + 1, zeros are padding
    frames = F.frame_signal(audio)
    k = -(-samples // 160)
    assert frames.shape == (k, 400) == (F.num_feature_frames(samples), 400)
    index = 160 * np.arange(k)[:, None] - 200 + np.arange(400)[None, :]
    want = np.where((index >= 0) & (index < samples), index + 1, 0)
    np.testing.assert_array_equal(frames, want)


def test_power_spectrum_is_the_windowed_512_point_dft(speech16k):
    frames = F.frame_signal(speech16k)
    power = F.power_spectrum(speech16k)
    assert power.shape == (len(frames), 257)
    n, f = np.arange(400)[:, None], np.arange(257)[None, :]
    basis = np.exp(-2j * np.pi * n * f / 512)
    for k in (0, 40, 120, len(frames) - 1):
        dft = (F.HANN * frames[k]) @ basis
        np.testing.assert_allclose(power[k], np.abs(dft) ** 2, rtol=1e-9, atol=1e-12)


def test_power_spectrum_matches_librosa_centred_stft(speech16k):
    librosa = pytest.importorskip("librosa")
    ref = np.abs(librosa.stft(speech16k.astype(np.float64), n_fft=512, hop_length=160, win_length=400,
                              window="hann", center=True, pad_mode="constant")) ** 2
    ours = F.power_spectrum(speech16k)
    k = min(len(ours), ref.shape[1])  # librosa has 1 + S // 160 frames, centred at 160·k too
    assert k >= len(ours) - 1
    np.testing.assert_allclose(ours[:k], ref.T[:k], rtol=1e-6, atol=1e-9 * ref.max())


@pytest.mark.parametrize("bands", [29, 40])
def test_mel_filterbank_edges_and_shape(bands):
    edges = F.band_edges(bands)
    assert edges[0] == 0.0 and edges[-1] == pytest.approx(8000.0, abs=1e-9)
    np.testing.assert_allclose(np.diff(F.hz_to_mel(edges)), F.hz_to_mel(8000.0) / (bands + 1), rtol=1e-12)
    assert F.hz_to_mel(1000.0) == pytest.approx(1000.0, abs=0.1)  # HTK: 1 kHz ≈ 1000 mel
    np.testing.assert_allclose(F.mel_to_hz(F.hz_to_mel([0.0, 440.0, 8000.0])), [0.0, 440.0, 8000.0], atol=1e-9)

    fb = F.mel_filterbank(bands)
    freqs = np.arange(257) * 31.25
    assert fb.shape == (257, bands) and fb.min() == 0.0 and fb.max() <= 1.0
    for b in range(bands):
        lo, centre, hi = edges[b], edges[b + 1], edges[b + 2]
        outside = (freqs <= lo) | (freqs >= hi)
        assert (fb[outside, b] == 0).all() and (fb[~outside, b] > 0).all()  # support = (lo, hi), never empty
        peak = np.argmax(fb[:, b])
        assert abs(freqs[peak] - centre) <= 31.25  # peak at a bin next to the centre
        np.testing.assert_allclose(fb[peak, b], 1 - abs(freqs[peak] - centre) / (
            (centre - lo) if freqs[peak] < centre else (hi - centre)), rtol=1e-12)
    # neighbouring triangles share edges: between the first and last centre the weights sum to 1
    inner = (freqs >= edges[1]) & (freqs <= edges[-2])
    np.testing.assert_allclose(fb[inner].sum(axis=1), 1.0, rtol=1e-12)
    assert (fb[freqs > edges[-2]].sum(axis=1) < 1).all()


def test_mel_filterbank_matches_librosa_htk():
    librosa = pytest.importorskip("librosa")
    for bands in (29, 40):
        ref = librosa.filters.mel(sr=16000, n_fft=512, n_mels=bands, fmin=0.0, fmax=8000.0, htk=True, norm=None)
        np.testing.assert_allclose(F.mel_filterbank(bands), ref.T, atol=1e-6)


def test_dct_is_orthonormal_dct_ii():
    from scipy.fft import dct

    full = F.dct_matrix(40, 40)
    np.testing.assert_allclose(full.T @ full, np.eye(40), atol=1e-12)
    x = np.random.default_rng(0).normal(size=(5, 40))
    np.testing.assert_allclose(x @ F.dct_matrix(40, 29), dct(x, type=2, norm="ortho", axis=1)[:, :29], atol=1e-12)
    mel, d = F.feature_matrices("mfcc")
    assert mel.shape == (257, 40) and d.shape == (40, 29)
    mel, d = F.feature_matrices("logmel")
    assert mel.shape == (257, 29) and d is None


@pytest.mark.parametrize("band", [3, 14, 27])
def test_pure_tone_energy_lands_in_its_band(band):
    centre = F.band_edges(29)[band + 1]
    t = np.arange(16000) / 16000
    tone = 0.5 * np.sin(2 * np.pi * centre * t)
    energies = F.log_mel(tone)[3:-3]  # frames wholly inside the tone
    assert (np.argmax(energies, axis=1) == band).all()
    others = np.delete(energies, [band - 1, band, band + 1], axis=1)
    assert (energies[:, band:band + 1] - others > np.log(1e3)).all()  # > 30 dB above non-neighbour bands


@pytest.mark.parametrize("kind", F.KINDS)
def test_standardisation_per_coefficient(speech16k, kind):
    x = F.frame_features(speech16k, kind)
    assert x.shape == (F.num_feature_frames(len(speech16k)), 29) and x.dtype == np.float32
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=0), 1, atol=1e-4)
    raw = F.mfcc(speech16k) if kind == "mfcc" else F.log_mel(speech16k)
    np.testing.assert_allclose(x, (raw - raw.mean(0)) / raw.std(0), atol=1e-5)


def test_gain_is_removed_where_no_band_hits_the_floor():
    noisy = np.random.default_rng(2).normal(scale=0.1, size=8000)  # white: every band far above 1e-10
    for kind in F.KINDS:  # gain g adds 2·ln g to every log energy: only c0 / the means move, then are removed
        np.testing.assert_allclose(F.frame_features(10 * noisy, kind), F.frame_features(noisy, kind), atol=1e-4)


def test_silence_gives_zeros_not_nans():
    for kind in F.KINDS:
        x = F.frame_features(np.zeros(4000), kind)
        assert x.shape == (25, 29) and np.isfinite(x).all() and np.abs(x).max() < 1e-6  # rounding / 1e-5
    assert np.exp(F.log_mel(np.zeros(800))).min() == pytest.approx(F.ENERGY_FLOOR)
    with pytest.raises(ValueError, match="unknown feature kind"):
        F.frame_features(np.zeros(800), "deepspeech")


def test_mfcc_is_dct_of_40_band_log_mel(speech16k):
    logmel40 = np.log(np.maximum(F.power_spectrum(speech16k) @ F.mel_filterbank(40), 1e-10))
    np.testing.assert_allclose(F.mfcc(speech16k), logmel40 @ F.dct_matrix(40, 29), rtol=1e-12)
    np.testing.assert_allclose(F.mfcc(speech16k)[:, 0], logmel40.sum(axis=1) / np.sqrt(40), rtol=1e-12)


def test_to_60fps_on_a_ramp_is_time_clamped():
    k = 101  # 1.00 s of frames
    x = np.stack([np.arange(k) / 100, 3 - 2 * np.arange(k) / 100], axis=1)  # columns = linear in time
    n = 70  # asks beyond the last frame: clamped
    t = np.minimum(np.arange(n) / 60, 1.0)
    y = F.to_60fps(x, n)
    assert y.shape == (n, 2)
    np.testing.assert_allclose(y, np.stack([t, 3 - 2 * t], axis=1), atol=1e-12)


def test_to_60fps_equals_np_interp_and_exact_lerp():
    x = np.random.default_rng(1).normal(size=(37, 5))
    n = 64
    y = F.to_60fps(x, n)
    for d in range(5):
        np.testing.assert_array_equal(y[:, d], np.interp(np.arange(n) / 60, np.arange(37) / 100, x[:, d]))
    pos = 5 * np.arange(n)  # output j sits at input frame 5j/3
    i0, frac = pos // 3, (pos % 3)[:, None] / 3
    lerp = (1 - frac) * x[np.minimum(i0, 36)] + frac * x[np.minimum(i0 + 1, 36)]
    np.testing.assert_allclose(y, lerp, atol=1e-12)
    assert F.to_60fps(x, 0).shape == (0, 5)


@pytest.mark.parametrize("n, f", [(0, 29), (1, 29), (5, 40), (30, 29)])
def test_stack_windows_are_frames_j_minus_8_to_j_plus_7(n, f):
    frames = np.arange(1, n * f + 1, dtype=np.float32).reshape(n, f)
    w = F.stack_windows(frames)
    assert w.shape == (n, 16, f) and w.dtype == np.float32
    for j in range(n):
        for t in range(16):
            src = j - 8 + t
            np.testing.assert_array_equal(w[j, t], frames[src] if 0 <= src < n else 0)
    if n:
        np.testing.assert_array_equal(w[:, 8], frames)  # the current frame sits at index 8


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100])
def test_clip_windows_any_rate(speech, rate):
    from zoo.datasets import resample

    audio = resample(speech[0], speech[1], rate)
    w = F.clip_windows(audio, rate)
    assert w.shape == (F.num_frames(len(audio), rate), 16, 29) and w.dtype == np.float32
    assert np.isfinite(w).all() and (w[:8, 0] == 0).all() and (w[-7:, -1] == 0).all() and (w[-8, -1] != 0).any()


def test_clip_windows_composes_the_steps(speech16k):
    for kind in F.KINDS:
        n = F.num_frames(len(speech16k), 16000)
        want = F.stack_windows(F.to_60fps(F.frame_features(speech16k, kind), n))
        np.testing.assert_array_equal(F.clip_windows(speech16k, 16000, kind), want)
    with pytest.raises(TypeError, match="float"):
        F.clip_windows((speech16k * 32767).astype(np.int16), 16000)
    with pytest.raises(ValueError, match="mono"):
        F.clip_windows(np.zeros((1000, 2), np.float32), 16000)
    assert F.clip_windows(np.zeros(0, np.float32), 16000).shape == (0, 16, 29)


def test_wav_sample_types_rates_and_channels_give_the_same_windows(speech, tmp_path):
    """One sentence as float32 mono 22.05 kHz, float32 mono 44.1 kHz, int16 stereo 44.1 kHz and int16 mono 16 kHz
    files, read by ``load_audio``: the same windows (the original cast float WAVs to int16, zeroing them).

    The float files agree to resampling precision. The int16 files after resampling carry quantisation noise
    (~−100 dBFS), which is far above the 1e-10 energy floor, so bands near digital silence (frames at speech
    onsets next to the synthetic voice's exact zeros) move by up to ~1.6; everything else agrees closely.
    """
    import soundfile as sf

    from zoo.datasets import load_audio, resample

    audio, rate = speech
    at44 = resample(audio, rate, 44100)
    sf.write(tmp_path / "float.wav", audio, rate, subtype="FLOAT")
    sf.write(tmp_path / "float44.wav", at44, 44100, subtype="FLOAT")
    sf.write(tmp_path / "stereo.wav", np.stack([0.8 * at44, 1.2 * at44], axis=1), 44100, subtype="PCM_16")
    sf.write(tmp_path / "mono16k.wav", resample(audio, rate, 16000), 16000, subtype="PCM_16")
    for kind in F.KINDS:
        ref = F.clip_windows(audio, rate, kind)
        assert np.abs(ref).max() > 1  # not zeroed
        np.testing.assert_array_equal(F.clip_windows(*load_audio(tmp_path / "float.wav"), kind), ref)
        got = F.clip_windows(*load_audio(tmp_path / "float44.wav"), kind)
        assert got.shape == ref.shape and np.abs(got - ref).max() < 5e-3
        for name in ("stereo.wav", "mono16k.wav"):
            got = F.clip_windows(*load_audio(tmp_path / name), kind)
            assert got.shape == ref.shape
            diff = np.abs(got - ref)
            stats = (kind, name, np.median(diff), diff.mean(), (diff[:, 8].max(axis=1) > 0.3).mean(), diff.max())
            assert stats[2] < 0.05 and stats[3] < 0.1 and stats[4] < 0.15 and stats[5] < 2.5, stats
            assert np.corrcoef(got.ravel(), ref.ravel())[0, 1] > 0.99
