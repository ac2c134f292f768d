"""Audio2Face NumPy features: FACEGOOD LPC bit-compatibility, the autocorrelation, framing (TF: test_features_tf)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from zoo.audio2face import features as F
from zoo.datasets import expected_frames, resample

HANN = [float(v) for v in np.hanning(256)]


# ------------------------------------------------------------------------------------------------ references


def ref_lpc_subframe(x) -> list[float]:
    """LPC.dll in plain Python floats: Hann, sequential autocorrelation, R0·(1+1e-9), Levinson order 31."""
    s = [float(x[n]) * HANN[n] for n in range(256)]
    r = []
    for j in range(32):
        acc = 0.0
        for n in range(256 - j):
            acc += s[n] * s[n + j]
        r.append(acc)
    return ref_levinson(r)


def ref_levinson(r) -> list[float]:
    """Levinson–Durbin with FACEGOOD's rules, one subframe, plain loops."""
    r = [float(v) for v in r]
    r[0] *= 1 + 1e-9
    a = [1.0] + [0.0] * 31
    if r[0] <= 0:
        return a
    err = r[0]
    for m in range(1, 32):
        acc = 0.0
        for j in range(1, m):
            acc += a[j] * r[m - j]
        k = -(r[m] + acc) / err
        if abs(k) >= 1:
            break  # a_m … a_31 are still 0
        new = list(a)
        for j in range(1, m):
            new[j] = a[j] + k * a[m - j]
        new[m] = k
        a = new
        err = err * (1 - k * k)
    return a


def ref_lpc_window(window) -> np.ndarray:
    """(8320,) → (32, 64) with the reference, subframe k = samples [128k, 128k + 256)."""
    return np.array([ref_lpc_subframe(window[128 * k:128 * k + 256]) for k in range(64)]).T


@pytest.mark.realdata
def test_lpc_matches_the_golden_file_for_int16_and_float_input(facegood_dir):
    golden = np.load(facegood_dir / "golden" / "lpc_1114_2_01_first300.npy")
    raw, rate = sf.read(str(facegood_dir / "wav" / "1114_2_01.wav"), dtype="int16")
    assert rate == 16000 and golden.shape == (300, 32, 64, 1)
    as_int16 = F.lpc_facegood(F.clip_windows(raw.astype(np.float32), 300))
    as_float = F.lpc_facegood(F.clip_windows(F.prepare_audio(raw, rate), 300))  # int16 / 32768
    assert as_int16.dtype == np.float64 and as_int16.shape == golden.shape
    assert np.abs(as_int16 - golden).max() <= 1e-9
    assert np.abs(as_float - golden).max() <= 1e-9
    assert np.array_equal(as_int16, as_float)  # LPC is scale invariant; a power-of-two scale is exact
    assert (as_int16[:, 0] == 1.0).all()


def test_frame_count_rule():
    assert expected_frames(1757712, 16000, 30) == 3295
    assert expected_frames(533, F.SAMPLE_RATE, F.FPS) == 0
    assert expected_frames(534, F.SAMPLE_RATE, F.FPS) == 1  # 534·30 = 16020 ≥ 16000
    assert expected_frames(16000, F.SAMPLE_RATE, F.FPS) == 30 and expected_frames(0, F.SAMPLE_RATE, F.FPS) == 0
    assert expected_frames(44100, 44100, 29.97) == 29


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore:Reading `.npy`")
def test_frame_count_equals_label_rows(facegood_dir):
    samples = sf.info(str(facegood_dir / "wav" / "1114_2_01.wav")).frames
    labels = np.load(facegood_dir / "bs_value" / "bs_value_1114_2_01.npy")
    assert samples == 1757712
    assert expected_frames(samples, F.SAMPLE_RATE, F.FPS) == labels.shape[0] == 3295


def test_windows_are_centred_on_the_frame_anchor():
    audio = np.arange(1, 16001, dtype=np.float32)  # sample value = index + 1
    w = F.clip_windows(audio)
    assert w.shape == (30, F.WINDOW) and w.dtype == np.float32
    anchors = (np.arange(30) * 16000) // 30
    assert np.array_equal(w[:, F.LOOKAHEAD], audio[anchors])
    assert (w[0, :F.LOOKAHEAD] == 0).all() and w[0, F.LOOKAHEAD] == 1
    assert F.clip_windows(audio, 2).shape == (2, F.WINDOW)


def test_silent_window_gives_unit_polynomial_exactly():
    w = np.zeros((2, F.WINDOW), np.float32)
    w[1, 5000:5100] = 0.1  # only subframes 38 and 39 see it
    out = F.lpc_facegood(w)[..., 0]
    unit = np.zeros(32)
    unit[0] = 1.0
    assert (out[0] == unit[:, None]).all()
    silent = [k for k in range(64) if not (w[1, 128 * k:128 * k + 256] != 0).any()]
    assert len(silent) > 50 and (out[1][:, silent] == unit[:, None]).all()


def test_reflection_coefficient_of_one_truncates():
    # R0 = 1, R1 = 0.9 → k1 ≈ −0.9, E1 ≈ 0.19; R2 = 0 → k2 ≈ 4.3: |k2| ≥ 1, a_2 … a_31 = 0
    r = np.zeros(32)
    r[:3] = [1.0, 0.9, 0.0]
    r[3:] = np.linspace(0.1, -0.1, 29)
    expected = ref_levinson(r)
    assert expected[1] != 0 and expected[2:] == [0.0] * 30
    got = F._levinson(r[:, None].copy())[:, 0]
    assert np.array_equal(got, expected)


def test_real_window_that_triggers_truncation():
    # float64 audio so quiet that s² is subnormal: rounding breaks positive-definiteness and |k| ≥ 1 occurs
    n = np.arange(F.WINDOW)
    window = 1e-160 * np.sin(2 * np.pi * 1000 * n / 16000)
    got = F.lpc_facegood(window[None])[0, :, :, 0]
    ref = ref_lpc_window(window)
    assert np.array_equal(got, ref)
    truncated = [k for k in range(64) if ref[1, k] != 0 and ref[31, k] == 0]
    assert len(truncated) > 10
    for k in truncated:
        m = int(np.argmax(ref[1:, k] == 0)) + 1  # the first zero coefficient: the step where |k_m| ≥ 1
        assert 1 < m < 32 and (ref[m:, k] == 0).all() and (got[m:, k] == 0).all()


@pytest.mark.parametrize("kind", ["random", "speech_like"])
def test_lpc_equals_plain_python_reference(kind, speech_like):
    rng = np.random.default_rng(3)
    if kind == "random":
        window = rng.uniform(-1, 1, F.WINDOW).astype(np.float32)
    else:
        window = speech_like(2, seed=5)[1]
    got = F.lpc_facegood(window[None])[0, :, :, 0]
    subframes = range(0, 64, 3)
    ref = np.array([ref_lpc_subframe(window[128 * k:128 * k + 256]) for k in subframes]).T
    assert np.abs(got[:, list(subframes)] - ref).max() <= 1e-12
    assert np.array_equal(got[:, list(subframes)], ref)


def test_lpc_block_processing_is_seamless(monkeypatch, speech_like):
    w = speech_like(5, seed=1)
    whole = F.lpc_facegood(w)
    monkeypatch.setattr(F, "BLOCK", 2)
    assert np.array_equal(F.lpc_facegood(w), whole)


def test_lpc_rejects_bad_windows():
    with pytest.raises(ValueError, match=r"\(N, 8320\)"):
        F.lpc_facegood(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="non-finite"):
        F.lpc_facegood(np.full((1, F.WINDOW), np.nan))


def test_autocorr_paper_matches_a_direct_reference(speech_like):
    w = speech_like(2, seed=2)
    got = F.autocorr_paper(w)
    assert got.shape == (2, 32, 64, 1) and got.dtype == np.float64
    hann = np.hanning(256)
    for i, k in ((0, 0), (0, 17), (1, 40), (1, 63)):
        x = w[i, 128 * k:128 * k + 256].astype(np.float64)
        s = (x - x.mean()) * hann
        ref = np.array([np.dot(s[:256 - j], s[j:]) for j in range(32)]) / 256
        np.testing.assert_allclose(got[i, :, k, 0], ref, rtol=1e-12, atol=1e-15 * ref[0])
        assert got[i, 0, k, 0] == pytest.approx(np.mean(s * s), rel=1e-12)


def test_autocorr_paper_is_dc_invariant(speech_like):
    w = speech_like(2, seed=4).astype(np.float64)
    base = F.autocorr_paper(w)
    shifted = F.autocorr_paper(w + 0.25)
    scale = np.abs(base[:, :1]).max()
    assert np.abs(shifted - base).max() <= 1e-12 * scale


def test_prepare_audio_averages_stereo_and_resamples(tone):
    stereo = tone(0.5, rate=44100, freq=300, channels=2)  # channel c has amplitude 0.5·(c+1)/2
    out = F.prepare_audio(stereo, 44100)
    assert out.dtype == np.float32 and out.ndim == 1
    assert abs(out.shape[0] - stereo.shape[0] * 16000 / 44100) <= 2
    np.testing.assert_allclose(out, resample(stereo.mean(axis=1), 44100, 16000), atol=1e-6)
    assert np.abs(out).max() == pytest.approx(0.375, abs=0.01)


def test_prepare_audio_scales_int16_and_keeps_16k():
    pcm = np.array([0, 16384, -32768, 32767, -1], np.int16)
    out = F.prepare_audio(pcm, 16000)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, pcm.astype(np.float64) / 32768)
    stereo = np.stack([pcm, np.zeros_like(pcm)], axis=1)
    np.testing.assert_array_equal(F.prepare_audio(stereo, 16000), pcm.astype(np.float64) / 65536)


def test_prepare_audio_does_not_clip_int16_valued_float_when_resampling(tone):
    x = 20000 * tone(0.2, rate=22050, freq=200, amp=1.0)
    out = F.prepare_audio(x, 22050)
    assert np.abs(out).max() == pytest.approx(20000, rel=0.01)


@pytest.mark.parametrize(
    "audio, match",
    [
        (np.zeros(0, np.float32), "empty"),
        (np.array([0.0, np.nan, 0.1]), "non-finite.*sample 1"),
        (np.zeros((4, 2, 2)), r"\(samples,\) or \(samples, channels\)"),
        (np.zeros((2, 1000)), "looks like \\(channels, samples\\)"),
        (np.array(["a", "b"]), "integer PCM or float"),
    ],
)
def test_prepare_audio_rejects_bad_input(audio, match):
    with pytest.raises(ValueError, match=match):
        F.prepare_audio(audio, 16000)


def test_audio_features_shapes_and_short_audio(tone):
    out = F.audio_features((tone(1.0) * 32767).astype(np.int16), 16000)
    assert out.shape == (30, 32, 64, 1) and out.dtype == np.float64
    assert F.audio_features(tone(0.1, rate=8000), 8000, "autocorr_paper").shape == (3, 32, 64, 1)
    with pytest.raises(ValueError, match=r"audio of 0\.02 s is shorter than one 30 fps frame"):
        F.audio_features(tone(0.02), 16000)
    with pytest.raises(ValueError, match="unknown feature 'mfcc'"):
        F.audio_features(tone(1.0), 16000, "mfcc")


def test_numpy_features_do_not_import_tensorflow():
    script = ("import sys\nimport numpy as np\nfrom zoo.audio2face import features as F\n"
              "assert F.audio_features(np.ones(16000, np.float32), 16000).shape == (30, 32, 64, 1)\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("frames", [1, 5, 6, 7, 13, 40])
def test_frame_features_equal_the_per_window_features_bit_for_bit(frames, speech_like):
    audio = speech_like(3, seed=6).reshape(-1)[:frames * 16000 // 30 + 77]
    n = expected_frames(len(audio), F.SAMPLE_RATE, F.FPS)
    assert n == frames
    assert np.array_equal(F.frame_features(audio), F.lpc_facegood(F.clip_windows(audio)))
    # more frames than the audio holds: windows past the end are zero-padded on both paths
    past_end = F.autocorr_paper(F.clip_windows(audio, n + 8))
    assert np.array_equal(F.frame_features(audio, n + 8, "autocorr_paper"), past_end)


def test_frame_features_computes_each_distinct_subframe_once(monkeypatch, speech_like):
    calls = []
    original = F._PER_SUBFRAME["lpc_facegood"]
    monkeypatch.setitem(F._PER_SUBFRAME, "lpc_facegood", lambda sub: calls.append(len(sub)) or original(sub))
    audio = speech_like(3, seed=7).reshape(-1)
    n = expected_frames(len(audio), F.SAMPLE_RATE, F.FPS)
    F.frame_features(audio)
    # 6 phases, each 25 subframes per period of 6 frames plus the 39 that finish the last window
    periods = [len(range(p, n, F.PERIOD_FRAMES)) for p in range(F.PERIOD_FRAMES)]
    assert sum(calls) == sum(F.PERIOD_HOPS * (q - 1) + F.SUBFRAMES for q in periods)
    assert sum(calls) < n * F.SUBFRAMES / 2  # 2.1× fewer here; 384 / 150 = 2.56× for long clips


def test_frame_features_rejects_bad_audio():
    with pytest.raises(ValueError, match="mono"):
        F.frame_features(np.zeros((100, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        F.frame_features(np.full(16000, np.nan))
    with pytest.raises(ValueError, match="unknown feature"):
        F.frame_features(np.zeros(16000), feature="mfcc")


def test_frame_features_from_any_first_frame_equal_the_slice(speech_like):
    audio = speech_like(3, seed=9).reshape(-1)
    whole = F.frame_features(audio)
    n = len(whole)
    for first, count in ((0, 5), (1, 7), (5, 13), (12, n - 12), (n - 3, 3), (n - 1, 4)):
        got = F.frame_features(audio, count, first_frame=first)
        expected = F.lpc_facegood(F.clip_windows(audio, first + count)[first:])
        assert np.array_equal(got, expected), (first, count)
    assert np.array_equal(F.frame_features(audio, first_frame=7), whole[7:])
    assert F.frame_features(audio, first_frame=n + 5).shape == (0, 32, 64, 1)
