"""Aud2Repr2Pose's TensorFlow MFCC (``features_tf``) against the NumPy one (``features``), eagerly, traced and in
TFLite (builtin ops only)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from helpers import speech_like

from zoo.gesture_ae import features as F
from zoo.gesture_ae import features_tf as FT

U = 2.0 ** -24


def error_bounds(audio: np.ndarray, rate: int, nfft: int = F.NFFT):
    """Per 20 fps frame, the a-priori float32 bounds of features_tf's module doc from the frame's own float64
    quantities, before the 5-frame mean: (bound (T, 26), depth_db (T,)), depth = the deepest band below the frame's
    mean bin power."""
    x = audio.astype(np.float64) * 32768
    y = np.append(x[0], x[1:] - 0.97 * x[:-1])
    frame_len, step, frames = F.mfcc_framing(y.size, rate)
    used = min(frame_len, nfft)

    def framed(s):
        padded = np.zeros((frames - 1) * step + frame_len)
        padded[: s.size] = s
        return np.lib.stride_tricks.sliding_window_view(padded, used)[::step][:frames]

    fy, fx = framed(y), framed(x)
    norm_y, norm_x = np.linalg.norm(fy, axis=1), np.linalg.norm(fx, axis=1)
    delta_x = U * (2 * math.sqrt(used) * norm_y + 2 * norm_x)  # |δX_k|
    bank = F.mel_filterbank(rate, nfft)
    band = (np.abs(np.fft.rfft(fy, nfft)) ** 2 / nfft) @ bank.T / bank.sum(1)  # mean bin power P_b
    silent = norm_y == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        amplitude = np.sqrt(band * nfft)  # |X| of the band
        relative = np.where(silent[:, None], 0.0, 2 * delta_x[:, None] / amplitude)
        depth = np.where(silent, 0.0, (10 * np.log10(norm_y[:, None] ** 2 / amplitude ** 2)).max(1))
        c0 = np.where(silent, 0.0, 2 * delta_x / norm_y)
    log_max = FT.TF_TOLERANCE["log_max"]
    per_band = relative + U * log_max
    lift = np.abs(F.lifter_weights())
    ceps = lift[None, :] * math.sqrt(2 / 26) * (per_band.sum(1)[:, None] + 27 * U * 26 * log_max)
    bound = np.concatenate([(c0 + U * log_max)[:, None], ceps[:, 1:]], axis=1)
    t20 = frames // 5
    bound20 = bound[: 5 * t20].reshape(t20, 5, 26).mean(1)
    return bound20, depth[: 5 * t20].reshape(t20, 5).max(1)


def check_within_bounds(got: np.ndarray, audio: np.ndarray, rate: int, nfft: int = F.NFFT) -> float:
    """Assert |got − features.mfcc| within the per-frame bound and, for frames within 60 dB, within TF_TOLERANCE;
    return the max |diff|."""
    ref = F.mfcc(audio, rate, nfft=nfft)
    assert got.shape == ref.shape and got.dtype == np.float32
    diff = np.abs(got.astype(np.float64) - ref)
    bound, depth = error_bounds(audio, rate, nfft)
    bound = bound + 5 * U * np.abs(ref)  # the float32 mean of 5 frames
    assert (diff <= bound).all(), f"over the per-frame bound by {np.max(diff / bound):.3g}×"
    shallow = depth <= FT.TF_TOLERANCE["depth_db"]
    assert shallow.mean() > 0.5
    assert diff[shallow, 0].max() <= FT.TF_TOLERANCE["c0"]
    assert diff[shallow, 1:].max() <= FT.TF_TOLERANCE["cepstra"]
    return float(diff.max())


@pytest.mark.parametrize("rate", [44100, 16000])
def test_tf_mfcc_matches_numpy_within_the_float32_bound(rate):
    audio = np.stack([speech_like(3.0, rate, seed=s) for s in (1, 2)])
    got = FT.mfcc_tf(audio, rate).numpy()
    assert got.shape == (2, F.mfcc_framing(audio.shape[1], rate)[2] // 5, 26)
    for b in range(2):
        check_within_bounds(got[b], audio[b], rate)


def test_tf_mfcc_with_nfft_1024():
    audio = speech_like(2.0, 44100, seed=3)
    check_within_bounds(FT.mfcc_tf(audio[None], 44100, nfft=1024).numpy()[0], audio, 44100, nfft=1024)


def test_tf_mfcc_traced_with_dynamic_batch_and_length():
    fn = tf.function(lambda a: FT.mfcc_tf(a, 44100), input_signature=[tf.TensorSpec([None, None], tf.float32)])
    for seconds, batch in ((1.0, 1), (1.7, 3)):
        audio = np.stack([speech_like(seconds, 44100, seed=10 + b) for b in range(batch)])
        got = fn(audio).numpy()
        for b in range(batch):
            check_within_bounds(got[b], audio[b], 44100)
    assert fn.experimental_get_tracing_count() == 1  # one trace serves every batch and length


def test_tf_mfcc_edge_lengths_and_silence():
    silence = FT.mfcc_tf(np.zeros((1, 44100), np.float32), 44100).numpy()[0]
    assert silence.shape == (19, 26)  # 99 frames at 100 fps → 19 blocks of 5
    np.testing.assert_allclose(silence, np.broadcast_to(F.silence_vector("MFCC"), silence.shape), atol=1e-4)
    for samples in (1, 882, 882 + 441 * 3):  # fewer than 5 frames at 100 fps: no 20 fps frame, as NumPy
        assert FT.mfcc_tf(np.full((2, samples), 0.1, np.float32), 44100).shape == (2, 0, 26)
        assert F.mfcc(np.full(samples, 0.1), 44100).shape == (0, 26)


def test_tflite_builtins_only_matches_tf():
    """The raw-audio front end (MFCC, then the 61-frame windows) converted with builtin ops only."""
    from ai_edge_litert.interpreter import Interpreter

    pad = F.silence_vector("MFCC")
    fn = tf.function(lambda a: FT.context_windows_tf(FT.mfcc_tf(a, 44100), pad),
                     input_signature=[tf.TensorSpec([None, None], tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # fails on any flex or custom op
    interpreter = Interpreter(model_content=converter.convert())
    audio = np.stack([speech_like(2.0, 44100, seed=s) for s in (4, 5)])
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert list(inp["shape_signature"]) == [-1, -1]
    interpreter.resize_tensor_input(inp["index"], audio.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], audio)
    interpreter.invoke()
    windows = interpreter.get_tensor(out["index"])
    assert windows.shape == (2, 39, 61, 26)
    assert (windows[:, 0, :30] == pad).all() and (windows[:, -1, 31:] == pad).all()
    lite, traced = windows[:, :, 30], fn(audio).numpy()[:, :, 30]  # the centre rows: the MFCC frames
    for b in range(2):  # the float32 bound holds for any float32 evaluation order, so TFLite meets it too
        check_within_bounds(lite[b], audio[b], 44100)
    bound = np.stack([error_bounds(a, 44100)[0] + 5 * U * np.abs(F.mfcc(a, 44100)) for a in audio])
    assert (np.abs(lite - traced) <= 2 * bound).all()


def test_context_windows_tf_equal_numpy():
    feats = np.random.default_rng(0).standard_normal((2, 12, 30)).astype(np.float32)
    pad = F.silence_vector("MFCC+Pros")
    got = FT.context_windows_tf(feats, pad).numpy()
    assert got.shape == (2, 12, 61, 30)
    for b in range(2):
        np.testing.assert_array_equal(got[b], F.context_windows(feats[b], "MFCC+Pros"))
