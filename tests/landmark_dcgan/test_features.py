"""The landmark CNN's audio features (spec landmark_dcgan §1) against a slow reimplementation of the original's
procedure, frame by frame and chunk by chunk with ``scipy.fftpack.fft`` on int16 samples (pydub-free), and the
edge rules stated in ``features``' module doc."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from helpers import speech_like
from scipy import fftpack

from zoo.datasets.errors import AudioError
from zoo.landmark_dcgan import features as F
from zoo.landmark_dcgan.config import preset

RATE = 48000
STEP = 1440  # 30 ms at 48 kHz
N = 48000 + 737  # 1.015 s: not a whole number of frames (34 frames, the last window holds 2657 real samples)
DEFAULT, LEGACY = preset("original"), preset("original", legacy_scaling=True)
LOG = preset("original", log_magnitude=True)


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    return speech_like(1.1, RATE, seed=7)[:N]


def int16(audio: np.ndarray) -> np.ndarray:
    s = np.round(audio.astype(np.float64) * 32768)
    assert np.array_equal(s / 32768, audio)  # speech_like is int16-quantised
    return s.astype(np.int16)


def original_segments(s: np.ndarray, frames: int) -> list[np.ndarray]:
    """§1: frame i's audio is [30(i−1), 30(i+1)) ms; for i = 0, 30 ms of digital silence then audio [0, 30) ms."""
    segments = []
    for i in range(frames):
        if i == 0:
            segment = np.concatenate([np.zeros(STEP, np.int16), s[0:STEP]])
        else:
            segment = s[(i - 1) * STEP:(i + 1) * STEP]
        assert segment.size > 0
        segments.append(segment)
    return segments


def centred_segments(s: np.ndarray, times_s) -> list[np.ndarray]:
    """The window [c − 1440, c + 1440) around c = round(t · 48000), silence before sample 0, cut at the end."""
    segments = []
    for t in times_s:
        start = int(np.floor(t * RATE + 0.5)) - STEP
        silence = np.zeros(max(0, -start), np.int16)
        segments.append(np.concatenate([silence, s[max(start, 0):start + 2 * STEP]]))
    return segments


def chunk_magnitudes(segment: np.ndarray, legacy: bool) -> np.ndarray:
    """§1 steps 2–6 for one segment of int16 samples → (128, 23, 1) float64."""
    x = (segment / 65536) * 2 - 1 if legacy else segment / 32768
    rows = []
    for j in range(0, x.size, 128):  # consecutive non-overlapping chunks, the last one short
        if len(rows) == 23:
            break
        rows.append(np.abs(fftpack.fft(x[j:j + 128], n=128)))  # a short chunk is zero-padded by the FFT
    while len(rows) < 23:
        rows.append(np.zeros(128))
    return np.array(rows)[None].transpose(2, 1, 0)  # built as (1, 23, 128), transposed to (128, 23, 1)


def reference(segments, legacy: bool) -> np.ndarray:
    return np.stack([chunk_magnitudes(segment, legacy) for segment in segments])


def assert_close(got: np.ndarray, ref: np.ndarray):
    assert got.dtype == np.float32 and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


def test_frame_count_and_shape(audio):
    assert F.FEATURE_SHAPE(DEFAULT) == (128, 23, 1)
    assert [F.frame_count(n, DEFAULT) for n in (0, 1, 1439, 1440, 1441, 48000, N)] == [0, 1, 1, 1, 2, 34, 34]
    assert F.fft_features(audio[:48000], DEFAULT).shape == (34, 128, 23, 1)  # a 1-s clip: t_33 = 0.99 s < 1 s
    np.testing.assert_allclose(F.frame_times(3, DEFAULT), [0.0, 0.03, 0.06])
    with pytest.raises(ValueError, match="non-negative integer"):
        F.frame_count(-1, DEFAULT)


@pytest.mark.parametrize("config", [DEFAULT, LEGACY], ids=["default", "legacy"])
def test_matches_the_original_step_by_step(audio, config):
    got = F.fft_features(audio, config)
    assert got.shape == (34, 128, 23, 1)
    assert_close(got, reference(original_segments(int16(audio), 34), config.legacy_scaling))


def test_silence_bin0_is_128_under_legacy_and_0_by_default():
    silence = np.zeros(3 * STEP, np.float32)  # frames 0-2; frames 1 and 2 have full windows of real samples
    legacy = F.fft_features(silence, LEGACY)[..., 0]
    assert (legacy[:, 0, :22] == 128).all()  # 128 samples at −1
    assert (legacy[1:, 0, 22] == 64).all()  # chunk 23 of a full window: 64 samples at −1, 64 of FFT padding
    assert np.abs(legacy[:, 1:, :22]).max() < 1e-12  # a constant chunk has only DC
    half_box = np.abs(np.fft.fft(np.r_[-np.ones(64), np.zeros(64)]))  # odd bins of the half-filled chunk 23
    np.testing.assert_allclose(legacy[:, :, 22], np.repeat(half_box[None], 3, 0), atol=1e-5)
    # frame 0: 1440 silence + 1440 audio samples = a full window as well; frame 2's window ends at the audio's end
    assert legacy[0, 0, 22] == 64 and legacy[2, 0, 22] == 64
    assert (F.fft_features(silence, DEFAULT) == 0).all()


@pytest.mark.parametrize("config", [DEFAULT, LEGACY], ids=["default", "legacy"])
def test_two_sided_bins_mirror(audio, config):
    feats = F.fft_features(audio, config)[..., 0]
    np.testing.assert_array_equal(feats[:, 65:, :], feats[:, 63:0:-1, :])  # bin 128 − k = bin k
    assert not np.array_equal(feats[:, 64, :], feats[:, 63, :])  # 64 is the Nyquist bin, mirrored by none


@pytest.mark.parametrize("config", [DEFAULT, LEGACY], ids=["default", "legacy"])
def test_first_window_starts_30ms_before_zero(config):
    """11.25 chunks of silence: chunks 0–10 silent, chunk 11 = 32 silent samples + audio[0:96]."""
    audio = (0.1 * np.random.default_rng(3).standard_normal(5000)).astype(np.float32)  # loud from sample 0
    first = F.fft_features(audio, config)[0, :, :, 0].astype(np.float64)
    offset = -1.0 if config.legacy_scaling else 0.0
    x = audio.astype(np.float64) + offset
    silent = np.zeros(128)
    silent[0] = -128 * offset
    np.testing.assert_allclose(first[:, :11], np.repeat(silent[:, None], 11, 1), atol=1e-9)
    np.testing.assert_allclose(first[:, 11], np.abs(np.fft.fft(np.r_[np.full(32, offset), x[:96]])), atol=1e-5)
    np.testing.assert_allclose(first[:, 12], np.abs(np.fft.fft(x[96:224])), atol=1e-5)
    assert np.abs(first[1:, 11]).max() > 1e-3  # the audio does reach chunk 11


@pytest.mark.parametrize("config", [DEFAULT, LEGACY], ids=["default", "legacy"])
def test_partial_window_at_the_end(audio, config):
    """Frame 33: window [46080, 48960) cut at 48737 → 2657 real samples = 20 chunks + 97 samples; chunk 21 holds
    them zero-padded (zeros after scaling), chunks 22 and 23 are all-zero vectors."""
    last = F.fft_features(audio, config)[33, :, :, 0].astype(np.float64)
    offset = -1.0 if config.legacy_scaling else 0.0
    tail = audio[46080 + 20 * 128:].astype(np.float64) + offset
    assert tail.size == 97
    np.testing.assert_allclose(last[:, 20], np.abs(np.fft.fft(np.r_[tail, np.zeros(31)])), atol=1e-5)
    np.testing.assert_allclose(last[:, 19], np.abs(np.fft.fft(audio[46080 + 19 * 128:][:128] + offset)), atol=1e-5)
    assert (last[:, 21:] == 0).all()


def test_log_magnitude(audio):
    magnitude = F.fft_features(audio, DEFAULT).astype(np.float64)
    logged = F.fft_features(audio, LOG)
    np.testing.assert_allclose(logged, np.log(magnitude + 1e-3), rtol=1e-6, atol=1e-6)
    assert (logged[33, :, 21:] == np.float32(np.log(1e-3))).all()  # the padding chunks: magnitude 0
    assert_close(F.fft_features(audio, LOG.replace(legacy_scaling=True)),
                 np.log(reference(original_segments(int16(audio), 34), True) + 1e-3))


def test_times_s_replaces_the_grid(audio):
    grid = F.fft_features(audio, DEFAULT)
    np.testing.assert_array_equal(F.fft_features(audio, DEFAULT, times_s=F.frame_times(34, DEFAULT)), grid)
    np.testing.assert_array_equal(F.fft_features(audio, DEFAULT, frames=12), grid[:12])
    times = [0.0, 0.0125, 0.4171, 1.0, 0.2]  # 29.97 fps-like centres, any order; 1.0 s: 2177 real samples
    for config in (DEFAULT, LEGACY):
        got = F.fft_features(audio, config, times_s=times)
        assert_close(got, reference(centred_segments(int16(audio), times), config.legacy_scaling))
    with pytest.raises(ValueError, match="frames=4 disagrees with the 5 times_s"):
        F.fft_features(audio, DEFAULT, frames=4, times_s=times)
    with pytest.raises(ValueError, match="frame 1 has t = -0.01"):
        F.fft_features(audio, DEFAULT, times_s=[0.0, -0.01])


def test_errors_are_one_clear_error(audio, tmp_path):
    bad = audio.copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match="non-finite samples .* first at sample 5"):
        F.fft_features(bad, DEFAULT)
    with pytest.raises(ValueError, match="mono"):
        F.fft_features(np.stack([audio, audio], 1), DEFAULT)
    with pytest.raises(ValueError, match="float"):
        F.fft_features(int16(audio), DEFAULT)
    with pytest.raises(ValueError, match="empty"):
        F.fft_features(np.zeros(0, np.float32), DEFAULT)
    # frame 34 (window [47520, 50400)) still holds 1217 real samples; frame 35's starts at 48960 ≥ 48737
    assert F.fft_features(audio, DEFAULT, frames=35).shape == (35, 128, 23, 1)
    with pytest.raises(ValueError, match=r"^frame 35 \(centre 1.0500 s = sample 50400\): its window starts at sample "
                                         r"48960, at or after the end of the audio \(48737 samples"):
        F.fft_features(audio, DEFAULT, frames=36)
    path = tmp_path / "clip.wav"
    sf.write(path, audio, RATE, subtype="PCM_16")
    with pytest.raises(AudioError, match=rf"^{path}: frame 35 "):
        F.load_features(path, DEFAULT, frames=36)
    sf.write(tmp_path / "nan.wav", bad, RATE, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav: non-finite samples"):
        F.load_features(tmp_path / "nan.wav", DEFAULT)


def test_load_features_resamples_and_downmixes(tmp_path):
    """A band-limited 1-s signal written at 48 kHz mono and at 44.1 kHz stereo (L = s + d, R = s − d, so the channel
    mean is s) gives the same features after load_audio's soxr resampling and downmix: within 1e-6 of the largest
    magnitude for float WAVs (measured 7.6e-8), within 5e-4 when the stereo file is 16-bit (its quantisation noise;
    measured 1.0e-4)."""

    def signal(rate, partials):
        t = np.arange(rate) / rate
        envelope = np.sin(np.pi * t) ** 2  # 0 at both ends: no resampling transient at the edges
        return envelope * sum(a * np.sin(2 * np.pi * f * t + p) for f, a, p in partials)

    speech = [(180, 0.3, 0.0), (730, 0.2, 1.0), (1510, 0.1, 2.0), (2890, 0.05, 0.5), (9100, 0.02, 0.3)]
    other = [(440, 0.2, 0.0), (5000, 0.1, 0.0)]
    sf.write(tmp_path / "mono48.wav", signal(48000, speech), 48000, subtype="FLOAT")
    s, d = signal(44100, speech), signal(44100, other)
    for subtype, tolerance in (("FLOAT", 1e-6), ("PCM_16", 5e-4)):
        sf.write(tmp_path / "stereo44.wav", np.stack([s + d, s - d], axis=1), 44100, subtype=subtype)
        for config in (DEFAULT, LEGACY):
            mono, mono_audio = F.load_features(tmp_path / "mono48.wav", config)
            stereo, stereo_audio = F.load_features(tmp_path / "stereo44.wav", config)
            assert mono_audio.shape == stereo_audio.shape == (48000,) and stereo_audio.dtype == np.float32
            assert mono.shape == stereo.shape == (34, 128, 23, 1)
            np.testing.assert_array_equal(mono, F.fft_features(mono_audio, config))
            error = np.abs(stereo.astype(np.float64) - mono).max() / np.abs(mono).max()
            assert error <= tolerance, (subtype, config.legacy_scaling, error)


def _tone_burst(hz: float, start_s: float, stop_s: float, seconds: float = 1.2) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.5 * np.sin(2 * np.pi * hz * t) * ((t >= start_s) & (t < stop_s))).astype(np.float32)


@pytest.mark.parametrize("factor", [0.8, 1.2])
def test_speed_perturbation_scales_frequencies_at_the_same_moments(factor):
    """Played α× faster: a 7,500 Hz tone (bin 20 of 375 Hz) sits in bin 20α, and it is heard at the same frames (its
    burst [0.3, 0.6) s lands on the frames whose centres are in it); α = 1 would be the features themselves."""
    audio = _tone_burst(7500.0, 0.3, 0.6)
    times = F.frame_times(F.frame_count(audio.size, DEFAULT), DEFAULT)
    x, kept = F.speed_perturbed_features(audio, DEFAULT, times, factor)
    assert kept.dtype == bool and x.shape == (int(kept.sum()), 128, 23, 1)
    assert kept.sum() >= len(times) - 1  # a frame's centre t < duration gives t/α < duration/α: only rounding drops
    energy = x[..., 0].sum(axis=2)  # (frames, bins)
    inside = (times[kept] > 0.33) & (times[kept] < 0.57)
    assert inside.sum() >= 6 and set(np.argmax(energy[inside, :64], axis=1)) == {int(round(20 * factor))}
    outside = (times[kept] < 0.25) | (times[kept] > 0.65)
    assert energy[outside].max() < 0.01 * energy[inside].max()


def test_speed_perturbation_refuses_factors_outside_half_to_double(audio):
    times = F.frame_times(4, DEFAULT)
    for bad in (0.4, 2.5, float("nan")):
        with pytest.raises(ValueError, match="speed perturbation factor must be in"):
            F.speed_perturbed_features(audio, DEFAULT, times, bad)
