"""Aud2Repr2Pose's NumPy features against python_speech_features, librosa, Praat golden values and the spec."""
from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import speech_like
from scipy.io import wavfile

from zoo.datasets import load_audio, resample
from zoo.gesture_ae import features as F

EPS = float(np.finfo(np.float64).eps)
pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' function is deprecated:DeprecationWarning")  # psf's


def original_average(x: np.ndarray, n: int) -> np.ndarray:
    """The original's 'average': per column, the mean of each complete block of n values (tail dropped)."""
    x = np.asarray(x)
    columns = x[:, None] if x.ndim == 1 else x
    out = [np.mean(c[: n * (len(c) // n)].reshape(-1, n), 1) for c in columns.T]
    return np.transpose(out)[:, 0] if x.ndim == 1 else np.transpose(out)


# --------------------------------------------------------------------------------------------- MFCC
@pytest.mark.parametrize("rate,nfft", [(44100, 512), (44100, 1024), (16000, 512), (48000, 512)])
def test_mfcc_is_psf_bit_for_bit(rate, nfft):
    import python_speech_features as psf

    audio = speech_like(2.5, rate, seed=rate % 7)
    ref = psf.mfcc(audio.astype(np.float64) * 32768, samplerate=rate, winlen=0.02, winstep=0.01, numcep=26, nfft=nfft)
    got = F.mfcc_100fps(audio, rate, nfft=nfft)
    assert got.shape == ref.shape == (F.mfcc_framing(audio.size, rate)[2], 26) and got.dtype == np.float64
    # the same FFT (numpy.fft.rfft), the same sums and the same BLAS call on the same arrays: measured 0
    assert np.abs(got - ref).max() <= 1e-9
    got20 = F.mfcc(audio, rate, nfft=nfft)
    assert got20.shape == (len(ref) // 5, 26)
    assert np.abs(got20 - original_average(ref, 5)).max() <= 1e-9


def test_mfcc_of_a_44k_wav_read_as_the_original_read_it(write_wav):
    import python_speech_features as psf

    left, right = speech_like(2.0, 44100, seed=3), speech_like(2.0, 44100, seed=4)
    path = write_wav("audio1.wav", np.stack([left, right], axis=1), rate=44100)
    rate, pcm = wavfile.read(path)  # the original: int16, then (L + R) / 2 (no overflow at this level)
    assert rate == 44100 and pcm.dtype == np.int16
    ref = psf.mfcc((pcm[:, 0] + pcm[:, 1]) / 2, samplerate=rate, winlen=0.02, winstep=0.01, numcep=26)
    audio, sr = load_audio(path)  # float mono: (L + R) / 65536, exact in float32
    assert np.abs(F.mfcc_100fps(audio, sr) - ref).max() <= 1e-9
    assert np.abs(F.mfcc(audio, sr) - original_average(ref, 5)).max() <= 1e-9


def test_mfcc_blocks_of_the_fft_do_not_change_a_bit(monkeypatch):
    audio = speech_like(1.0, 44100, seed=5)
    whole = F.mfcc_100fps(audio, 44100)
    monkeypatch.setattr(F, "_BLOCK_ROWS", 7)
    np.testing.assert_array_equal(F.mfcc_100fps(audio, 44100), whole)


def test_psf_framing_rules():
    assert F.mfcc_framing(44100, 44100) == (882, 441, 99)  # 1 + ceil((44100 − 882) / 441)
    assert F.mfcc_framing(882, 44100) == (882, 441, 1)
    assert F.mfcc_framing(883, 44100) == (882, 441, 2)
    assert F.mfcc_framing(22050, 22050)[:2] == (441, 221)  # 0.01 · 22050 = 220.5 rounds half up
    assert F.round_half_up(2.5) == 3 and F.round_half_up(0.5) == 1 and F.round_half_up(1.4999) == 1


def test_mfcc_matrices_are_the_textbook_ones():
    from scipy.fft import dct

    logs = np.random.default_rng(0).standard_normal((3, 26))
    np.testing.assert_allclose(logs @ F.dct_matrix().T, dct(logs, type=2, axis=1, norm="ortho"), atol=1e-12)
    lift = F.lifter_weights()
    assert lift[0] == 1 and lift[11] == pytest.approx(12.0) and lift.shape == (26,)
    bank = F.mel_filterbank(44100)
    assert bank.shape == (26, 257) and bank.max() == 1.0 and (bank >= 0).all()


# --------------------------------------------------------------------------------------------- spectrogram
def test_spectrogram_matches_librosa_with_reflect_padding():
    import librosa

    audio = speech_like(3.0, 22050, seed=6)
    ref = librosa.feature.melspectrogram(y=audio.astype(np.float64), sr=22050, n_fft=2048, hop_length=1102,
                                         n_mels=64, fmin=100, fmax=7500, pad_mode="reflect")
    got = F.spectrogram(audio, 22050)
    assert got.shape == (1 + audio.size // 1102, 64)
    # librosa builds its mel basis in float32 (relative rounding 6e-8 per weight), ours in float64
    assert np.abs(got - np.log(ref + 1e-10).T).max() <= 1e-6
    zero_padded = librosa.feature.melspectrogram(y=audio.astype(np.float64), sr=22050, n_fft=2048, hop_length=1102,
                                                 n_mels=64, fmin=100, fmax=7500, pad_mode="constant")
    assert np.abs(got[0] - np.log(zero_padded[:, 0] + 1e-10)).max() > 1e-3  # the edge frames show the choice


def test_spectrogram_resamples_to_22050():
    audio = speech_like(2.0, 44100, seed=7)
    got = F.spectrogram(audio, 44100)
    np.testing.assert_array_equal(got, F.spectrogram(resample(audio, 44100, 22050), 22050))
    assert got.shape == (1 + 44100 // 1102, 64)


# --------------------------------------------------------------------------------------------- prosody
def test_prosody_of_silence_is_zero():
    pros = F.prosody(np.zeros(44100), 44100)
    n = len(np.arange(0, 1.0 - 0.005, 0.005))
    assert pros.shape == (n // 10, 4) and not pros.any()


def test_prosody_of_a_200_hz_tone():
    t = np.arange(2 * 44100) / 44100
    pros = F.prosody(0.5 * np.sin(2 * np.pi * 200 * t), 44100)
    middle = pros[2:-2]
    np.testing.assert_allclose(middle[:, 2], math.log(201) - 4, atol=1e-3)  # pitch' = ln(f0 + 1) − 4
    # Praat intensity of a sine of amplitude 0.5: 10·log10(0.125 / 4e-10) = 84.95 dB
    np.testing.assert_allclose(middle[:, 0], math.log(10 * math.log10(0.125 / 4e-10)) - 3, atol=1e-2)
    assert np.abs(middle[:, [1, 3]]).max() < 1e-4  # flat contours: derivatives ~ 0


def test_prosody_follows_the_original_recipe():
    import parselmouth

    audio = speech_like(3.0, 44100, seed=8)
    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=44100)
    pitch, intensity = sound.to_pitch(time_step=0.005), sound.to_intensity(time_step=0.005)
    times = np.arange(0, sound.get_total_duration() - 0.005, 0.005)
    f0 = np.nan_to_num([pitch.get_value_at_time(t) for t in times])
    level = np.clip(np.nan_to_num([intensity.get_value(t) for t in times]), EPS, None)
    p, e = np.clip(np.log(f0 + 1) - 4, 0, None), np.clip(np.log(level) - 3, 0, None)

    def derivative(f):
        d = np.convolve(f, [1, -1])[:-1] / 5.0
        d[0] = 0
        return d

    expected = np.stack([original_average(s, 10) for s in (e, derivative(e), p, derivative(p))], axis=1)
    got = F.prosody(audio, 44100)
    assert got.shape == (len(times) // 10, 4) and (got[:, 2] > 0).any() and (got[:, 0] > 0).any()
    np.testing.assert_array_equal(got, expected)


def test_prosody_refuses_audio_too_short_for_praat():
    with pytest.raises(ValueError, match="Praat cannot analyse"):
        F.prosody(np.zeros(100), 44100)


# --------------------------------------------------------------------------------------------- kinds, silence
def test_feature_kinds_concatenate_streams_cut_to_the_shortest():
    audio = speech_like(2.0, 44100, seed=9)
    streams = {"MFCC": F.mfcc(audio, 44100), "Spectro": F.spectrogram(audio, 44100), "Pros": F.prosody(audio, 44100)}
    assert len({len(s) for s in streams.values()}) > 1  # the streams' own frame rules differ
    for kind, dims in F.FEATURE_KINDS.items():
        got = F.features(audio, 44100, kind)
        parts = [streams[name] for name in kind.split("+")]
        length = min(len(p) for p in parts)
        assert got.shape == (length, dims) and got.dtype == np.float32
        np.testing.assert_array_equal(got, np.concatenate([p[:length] for p in parts], axis=1).astype(np.float32))
    with pytest.raises(ValueError, match="unknown feature kind"):
        F.features(audio, 44100, "Pros+MFCC")


def test_silence_vector_is_the_original_padding_row():
    import python_speech_features as psf

    mfcc = F.silence_vector("MFCC")
    assert mfcc.dtype == np.float32 and mfcc.shape == (26,)
    assert mfcc[0] == pytest.approx(-36.0437, abs=1e-4) and mfcc[0] == pytest.approx(math.log(EPS), abs=1e-5)
    assert np.abs(mfcc[1:]).max() <= 1e-6
    silence = np.zeros((44100, 2), np.int16)  # silence.wav: 44.1 kHz stereo zeros, read and averaged as the original
    ref = psf.mfcc((silence[:, 0] + silence[:, 1]) / 2, samplerate=44100, winlen=0.02, winstep=0.01, numcep=26)[0]
    np.testing.assert_allclose(mfcc, ref, atol=1e-5)
    np.testing.assert_allclose(F.silence_vector("Spectro"), math.log(1e-10), atol=1e-5)
    assert F.silence_vector("Pros").tolist() == [0.0] * 4
    for kind, dims in F.FEATURE_KINDS.items():
        expected = np.concatenate([F.silence_vector(name) for name in kind.split("+")])
        np.testing.assert_array_equal(F.silence_vector(kind), expected)
        assert expected.shape == (dims,)
    F.silence_vector("MFCC")[0] = 0  # a copy: the cache is not changed
    assert F.silence_vector("MFCC")[0] < -36


# --------------------------------------------------------------------------------------------- context windows
def test_context_windows_centre_on_their_frame_with_silence_outside():
    feats = np.arange(10 * 26, dtype=np.float32).reshape(10, 26)
    padded = F.pad_context(feats)
    assert padded.shape == (70, 26) and padded.dtype == np.float32
    windows = F.context_windows(feats)
    assert windows.shape == (10, 61, 26) and windows.dtype == np.float32
    silence = F.silence_vector("MFCC")
    for i in range(10):
        np.testing.assert_array_equal(windows[i], padded[i:i + 61])
        np.testing.assert_array_equal(windows[i, 30], feats[i])
        assert (windows[i, : 30 - i] == silence).all() and (windows[i, 40 - i:] == silence).all()
    with pytest.raises(ValueError, match=r"\(frames, 30\)"):
        F.context_windows(feats, "MFCC+Pros")


def test_frame_table_context_windows_equal_the_numpy_reference():
    from zoo.datasets import Clip, FrameTable, window_dataset

    audio = speech_like(2.0, 44100, seed=10)
    feats = F.features(audio, 44100, "MFCC+Pros")
    clip = Clip(audio=None, sample_rate=None, targets=np.zeros((len(feats), 2)), fps=20, target_kind="joints3d",
                channel_names=("a", "b"))
    table = FrameTable([clip], None, audio=False, features=[feats], context=(F.CONTEXT, F.CONTEXT),
                       pad=F.silence_vector("MFCC+Pros"))
    (batch,) = list(window_dataset(table, batch_size=len(feats)))
    np.testing.assert_array_equal(batch["features"].numpy(), F.context_windows(feats, "MFCC+Pros"))


def test_bad_audio_gets_one_clear_error():
    with pytest.raises(ValueError, match="mono"):
        F.mfcc(np.zeros((100, 2)), 44100)
    with pytest.raises(ValueError, match="float in"):
        F.mfcc(np.zeros(1000, np.int16), 44100)
    with pytest.raises(ValueError, match="non-finite.*sample 3"):
        F.mfcc(np.array([0, 0, 0, np.nan, 0]), 44100)
    with pytest.raises(ValueError, match="sample_rate"):
        F.spectrogram(np.zeros(1000), 0)
    with pytest.raises(ValueError, match="empty"):
        F.prosody(np.zeros(0), 44100)
