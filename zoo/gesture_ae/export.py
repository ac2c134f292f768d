"""The serving module of Aud2Repr2Pose (Kucherenko et al. 2019): signatures exported through ``zoo.export``.

* ``serving_default``: ``windows`` (B, 61, D) float32 feature windows (``features.context_windows``) → ``pose``
  (B, P): SpeechE, then (proposed, genea2020) the DAE decoder, in one graph; P = 384 [px, py, pz, vx, vy, vz] per
  node in dataset units (cm, cm/frame) for the position representation, the exp-maps (radians) for rotations.
  Batch-dynamic; the signature converted to TFLite (the RNN recipe: a batch-1 copy of the network,
  ``model.with_static_batch``, converted with ``from_keras_model``; the interpreter runs one window per invoke).

MFCC models only (the Spectro and Pros streams have no TensorFlow version: those exports have ``serving_default``
alone, and metadata says why):

* ``audio``: ``audio`` (B, S) float32 mono at the model's rate (44.1 kHz) in [-1, 1] → ``pose`` (B, T, P), T the
  number of 20 fps feature frames (``num_frames``: ⌊T₁₀₀ / 5⌋, T₁₀₀ = 1 + ⌈(S − 882) / 441⌉); MFCC in TF ops
  (``features_tf.mfcc_tf``), windows padded with 30 silence vectors at each end (``context_windows_tf``).
* ``stream_step``: ``state`` (B, ``StreamLayout.size``) and ``chunk`` (B, 2205) = the next 50 ms hop → ``pose``
  (B, P) of frame k − ``delay`` after call k (0-based), ``valid`` (B,) = k ≥ ``delay``, and the new ``state``.
  The first state is all zeros (``initial_state``). Lookahead: the 30 context frames (1.5 s) plus the MFCC
  ``reach``: the last 100 fps frame of a 20 fps frame starts 4·441 samples into its hop and the FFT reads
  min(882, nfft) samples of it, so a frame needs min(882, nfft) − 441 samples past its hop (71 = 1.6 ms with
  nfft 512, 441 = 10 ms with the GENEA nfft 1024). Chunks are whole hops, so a frame's features are complete one
  call later (``lag`` = 1) and pose k − 31 (``delay`` = 31 hops, 1.55 s) is emitted after chunk k.
* ``stream_flush``: ``state`` → the same outputs, appending the silence vector as the next feature frame (what the
  full pass pads with) instead of reading audio: the documented end of a stream (``flush_calls``). A flush does not
  touch the audio tail; start the next utterance from ``initial_state``.

State (``StreamLayout``, float32): [hops consumed, saturating at ``delay``; 1 column] + [the last ``lag``·2205 + 1 audio
samples (the extra one is the previous sample pre-emphasis needs)] + [the last 60 feature frames, row by row].
While hops = 0 the graph reads the feature rows as 60 silence vectors and the frames before 0 (computed
from the zero tail, which includes the first samples of chunk 0) as silence, so the all-zero state gives exactly
the full pass's start.

Stream = full pass. Feed the K = ⌈S / 2205⌉ chunks of ``pad_to_hops(audio)`` and ``flush_calls(S)`` = T + 31 − K
flushes: the stream emits the full pass's T frames (at 44.1 kHz T = K − 1 for every S, so 30 flushes), equal up to
float32 rounding. ``pad_to_hops`` continues the audio with x[S − 1]·0.97^j, whose pre-emphasis is zero: the full
pass zero-pads the pre-emphasised signal, so plain zeros would put −0.97·x[S − 1] into sample S of the last frame
when the audio's last partial hop holds fewer than ``reach`` samples (``complete_frames(S)`` < T), and change the
poses of the last 31 frames (by up to 14.5 cm for a full-size model on a clip ending 30 samples into a hop).

Every signature checks its inputs inside the graph (``zoo.export``, "Input checks"): rank and the static
dimensions (61 × D windows, 2205-sample chunks, the state size), one batch size for all inputs, ``audio`` at least
``min_audio_samples`` (2206: one frame) and a state whose hop count is an integer in 0 … ``delay``.
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import features as feats
from . import motion as mo
from .config import Config

TF_FEATURES = ("MFCC",)  # the feature kinds with a TensorFlow version: they get audio and streaming signatures
POSE_QUANTITIES = ("px", "py", "pz", "vx", "vy", "vz")  # the 6 values of a node in the position representation


@dataclass(frozen=True)
class StreamLayout:
    """The streaming geometry of a config (samples at ``sample_rate``; module docstring).

    ``hop`` = 5·441 samples a call; ``reach`` = samples a frame needs past its hop; ``lag`` = ⌈reach / hop⌉ calls
    until a frame's features are complete; ``delay`` = context + lag calls from a chunk to its pose; ``tail`` =
    lag·hop + 1 audio samples kept; ``rows`` = 2·context feature frames kept; ``size`` = 1 + tail + rows·dim.
    """

    sample_rate: int
    hop: int
    frame_step: int
    frame_used: int
    reach: int
    lag: int
    context: int
    delay: int
    tail: int
    rows: int
    dim: int

    @property
    def size(self) -> int:
        return 1 + self.tail + self.rows * self.dim

    @property
    def slices(self) -> dict[str, list[int]]:
        """[start, stop) columns of the state's parts."""
        return {"hops": [0, 1], "audio_tail": [1, 1 + self.tail], "features": [1 + self.tail, self.size]}

    @property
    def lookahead_seconds(self) -> float:
        """Audio a pose frame needs past its own hop: the context frames and the MFCC reach."""
        return (self.context * self.hop + max(self.reach, 0)) / self.sample_rate


def stream_layout(config: Config) -> StreamLayout:
    """The ``StreamLayout`` of an MFCC ``config``."""
    if config.features not in TF_FEATURES:
        raise ValueError(f"{config.features} features have no TensorFlow version: no streaming")
    rate = int(config.sample_rate)
    step = feats.round_half_up(feats.MFCC_WINSTEP * rate)
    used = min(feats.round_half_up(feats.MFCC_WINLEN * rate), config.mfcc_nfft)
    hop = feats.MFCC_BLOCK * step
    reach = (feats.MFCC_BLOCK - 1) * step + used - hop
    lag = max(0, math.ceil(reach / hop))
    return StreamLayout(rate, hop, step, used, reach, lag, config.context, config.context + lag, lag * hop + 1,
                        2 * config.context, config.num_features)


def initial_state(config: Config, batch: int = 1) -> np.ndarray:
    """The state a stream starts from: zeros, (batch, size) float32."""
    return np.zeros((batch, stream_layout(config).size), np.float32)


def num_frames(num_samples: int, config: Config) -> int:
    """T: the 20 fps feature frames (and poses) of ``num_samples`` samples, ⌊T₁₀₀ / 5⌋ (``features.mfcc_framing``)."""
    return feats.mfcc_framing(int(num_samples), int(config.sample_rate))[2] // feats.MFCC_BLOCK


def complete_frames(num_samples: int, config: Config) -> int:
    """Feature frames t whose samples all lie in the audio: hop·t + 4·441 + min(882, nfft) ≤ S (the others read
    the full pass's zero padding)."""
    lay = stream_layout(config)
    last = (feats.MFCC_BLOCK - 1) * lay.frame_step + lay.frame_used
    return min(num_frames(num_samples, config), max(0, (int(num_samples) - last) // lay.hop + 1))


def min_audio_samples(config: Config) -> int:
    """The shortest audio with one 20 fps frame: T₁₀₀ = 5, i.e. S = 882 + 3·441 + 1 (2206 at 44.1 kHz)."""
    frame_len = feats.round_half_up(feats.MFCC_WINLEN * config.sample_rate)
    step = feats.round_half_up(feats.MFCC_WINSTEP * config.sample_rate)
    return frame_len + (feats.MFCC_BLOCK - 2) * step + 1


def stream_chunks(num_samples: int, config: Config) -> int:
    """K = ⌈S / hop⌉: the ``stream_step`` calls of ``num_samples`` samples (the last chunk completed by
    ``pad_to_hops``)."""
    return -(-int(num_samples) // stream_layout(config).hop)


def pad_to_hops(audio: np.ndarray, config: Config) -> np.ndarray:
    """``audio`` (S,) continued to K·hop samples (the K stream chunks) by x[S − 1]·0.97^j, j = 1, 2, …: zero after
    the pre-emphasis y[n] = x[n] − 0.97·x[n − 1], as the full pass pads; float32."""
    audio = np.asarray(audio, np.float32)
    extra = stream_chunks(len(audio), config) * stream_layout(config).hop - len(audio)
    decay = float(audio[-1]) * feats.PREEMPH ** np.arange(1, extra + 1, dtype=np.float64)
    return np.concatenate([audio, decay.astype(np.float32)])


def flush_calls(num_samples: int, config: Config) -> int:
    """``stream_flush`` calls after the K chunks of ``num_samples`` samples until the stream has emitted the full
    pass's T frames: T + delay − K (call i, counting chunks and flushes from 0, emits frame i − delay)."""
    return num_frames(num_samples, config) + stream_layout(config).delay - stream_chunks(num_samples, config)


def state_after(audio: np.ndarray, hops: int, config: Config, features: np.ndarray | None = None) -> np.ndarray:
    """The state after ``hops`` ``stream_step`` calls on ``audio`` (chunks beyond it zero-padded), (size,) float32,
    built in NumPy with the float64 features (``features.features`` of the zero-padded audio; pass them as
    ``features`` if computed): what the TF stream holds up to its float32 MFCC rounding."""
    lay = stream_layout(config)
    audio = np.asarray(audio, np.float32)
    known = max(0, hops - lay.lag)  # feature frames 0 … known − 1 are in the state
    if features is None and known:
        padded = np.zeros(max(len(audio), lay.hop * (hops + 1)), np.float32)
        padded[: len(audio)] = audio
        features = feats.features(padded, lay.sample_rate, config.features, nfft=config.mfcc_nfft)
    rows = np.repeat(feats.silence_vector(config.features)[None], lay.rows, axis=0)
    if known:
        take = np.asarray(features, np.float32)[max(0, known - lay.rows):known]
        if len(take) < min(known, lay.rows):
            raise ValueError(f"{len(features)} feature frames given; the state after {hops} hops needs {known}")
        rows[lay.rows - len(take):] = take
    end = lay.hop * hops
    tail = np.zeros(lay.tail, np.float32)
    first = end - lay.tail
    piece = audio[max(first, 0):min(end, len(audio))]
    tail[max(-first, 0):max(-first, 0) + len(piece)] = piece
    return np.concatenate([[np.float32(min(hops, lay.delay))], tail, rows.ravel()]).astype(np.float32)


def output_names(config: Config, skeleton) -> list[str]:
    """Names of the P pose values: ``Hips.px, Hips.py, Hips.pz, Hips.vx, …`` (nodes in file order) for
    positions, ``Hips.ex, …`` (``motion.rotation_names``) for rotations."""
    if config.representation == "rotations":
        names = list(mo.rotation_names())
    else:
        names = [f"{node}.{q}" for node in skeleton.names for q in POSE_QUANTITIES]
    if len(names) != config.output_dim:
        raise ValueError(f"the {config.representation} of this skeleton have {len(names)} values; the model "
                         f"outputs output_dim={config.output_dim}")
    return names


# ------------------------------------------------------------------------------------------------ TF graphs
def _hop_features_tf(joined, layout: StreamLayout, nfft: int):
    """The 20 fps MFCC frame whose samples start at ``joined[:, 1]`` ((B, tail + hop) float32 audio; column 0 is
    the previous sample, for the pre-emphasis): ``features_tf.frame_cepstra_tf`` of its 5 frames, averaged, (B, 26)."""
    import tensorflow as tf

    from .features_tf import frame_cepstra_tf

    x = joined * feats.INT16_SCALE
    y = x[:, 1:] - feats.PREEMPH * x[:, :-1]
    index = (np.arange(feats.MFCC_BLOCK)[:, None] * layout.frame_step + np.arange(layout.frame_used)[None, :])
    framed = tf.gather(y, tf.constant(index, tf.int32), axis=1)  # (B, 5, used)
    return tf.reduce_mean(frame_cepstra_tf(framed, layout.sample_rate, nfft), axis=1)


def endpoints(predictor, audio: np.ndarray, batch: int = 48):
    """``zoo.export.Endpoint``s with parity inputs cut from ``audio`` (float32 at the model's rate). The
    ``audio``, ``stream_step`` and ``stream_flush`` references are the NumPy float64 features + the Keras network
    (``Predictor.run``), not their own TF graphs."""
    import tensorflow as tf

    from zoo.export import Endpoint

    from .features_tf import context_windows_tf, mfcc_tf
    from .model import build_pose_generator

    config, network = predictor.config, predictor.network
    generator = build_pose_generator(network.speech_encoder, network.dae)
    window, dim, out_dim = config.window, config.num_features, config.output_dim
    audio = np.asarray(audio, np.float32)
    features = predictor.features(audio, config.sample_rate)
    n = len(features)
    if n < 2:
        raise ValueError("parity audio must be at least two frames (0.1 s) long")
    take = np.linspace(0, n - 1, min(batch, n)).astype(int)
    windows = np.ascontiguousarray(feats.context_windows(features, config.features)[take])

    def net(x):
        return generator(x, training=False)

    def serve(windows):
        return {"pose": net(windows)}

    out = {"serving_default": Endpoint(
        serve, {"windows": tf.TensorSpec([None, window, dim], tf.float32, name="windows")}, {"windows": windows})}
    if config.features not in TF_FEATURES:
        return out

    rate, nfft = config.sample_rate, config.mfcc_nfft
    silence = feats.silence_vector(config.features)
    lay = stream_layout(config)
    shortest = min_audio_samples(config)

    def from_audio(audio):
        w = context_windows_tf(mfcc_tf(audio, rate, nfft=nfft), silence)  # (B, T, 61, D)
        shape = tf.shape(w)
        poses = net(tf.reshape(w, [-1, window, dim]))
        return {"pose": tf.reshape(poses, tf.stack([shape[0], shape[1], out_dim]))}

    def advance(hops, tail, rows, frame):
        """Append ``frame`` (B, D) to the feature rows → the window, its pose and the next state."""
        batch_size = tf.shape(hops)[0]
        pad_rows = tf.tile(tf.constant(silence[None, None]), tf.stack([batch_size, lay.rows, 1]))
        rows = tf.where(tf.equal(hops, 0.0)[:, :, None], pad_rows, rows)
        frame = tf.where(hops < lay.lag, tf.tile(tf.constant(silence[None]), tf.stack([batch_size, 1])), frame)
        joined = tf.concat([rows, frame[:, None, :]], axis=1)  # (B, 61, D)
        state = tf.concat([tf.minimum(hops + 1.0, float(lay.delay)), tail,
                           tf.reshape(joined[:, 1:], tf.stack([batch_size, lay.rows * dim]))], axis=1)
        return {"pose": net(joined), "valid": hops[:, 0] >= lay.delay, "state": state}

    def split(state):
        start, stop = lay.slices["features"]
        return state[:, :1], state[:, 1:start], tf.reshape(state[:, start:stop], [-1, lay.rows, dim])

    def stream_step(state, chunk):
        hops, tail, rows = split(state)
        joined = tf.concat([tail, chunk], axis=1)
        return advance(hops, joined[:, -lay.tail:], rows, _hop_features_tf(joined, lay, nfft))

    def stream_flush(state):
        hops, tail, rows = split(state)
        silence_rows = tf.tile(tf.constant(silence[None]), tf.stack([tf.shape(state)[0], 1]))
        return advance(hops, tail, rows, silence_rows)

    def hops_ok(state, **_):
        hops = state[:, 0]
        return tf.reduce_all((hops >= 0) & (hops <= lay.delay) & tf.equal(hops, tf.floor(hops)))

    # ASCII only: the Assert op prints its strings C-escaped
    hops_check = (f"state column 0 (hops) must be an integer from 0 to {lay.delay}; start a stream from zeros",
                  hops_ok)

    # parity inputs: two clips (start and end of the audio) for ``audio``; for the stream, the zero state with
    # chunk 0 and the state after chunk ``last`` − 1 (the last whole hop but one) with chunk ``last``
    seconds = min(len(audio), 2 * rate)
    if seconds < shortest:
        raise ValueError(f"parity audio must hold at least {shortest} samples at {rate} Hz")
    raw = np.stack([audio[:seconds], audio[-seconds:]])
    frames = num_frames(seconds, config)
    audio_expected = np.stack([predictor.run(predictor.features(row, rate))[:frames] for row in raw])
    padded = np.concatenate([audio, np.zeros(2 * lay.hop, np.float32)])
    full = feats.features(padded, rate, config.features, nfft=nfft)
    last = max(1, len(audio) // lay.hop - 1)
    calls = [0, last]
    states = np.stack([state_after(audio, k, config, full) for k in calls])
    chunks = np.stack([padded[k * lay.hop:(k + 1) * lay.hop] for k in calls])
    step_states = np.stack([state_after(audio, k + 1, config, full) for k in calls])
    step_windows = np.stack([stream_window(full, k, lay, silence) for k in calls])
    flush_windows = np.stack([np.concatenate([_state_rows(s, lay, silence), silence[None]]) for s in states])
    flushed = np.stack([np.concatenate([[min(k + 1, lay.delay)], s[1:lay.slices["features"][0]], w[1:].ravel()])
                        for k, s, w in zip(calls, states, flush_windows)]).astype(np.float32)
    valid = np.array([k >= lay.delay for k in calls])
    out["audio"] = Endpoint(
        from_audio, {"audio": tf.TensorSpec([None, None], tf.float32, name="audio")}, {"audio": raw},
        expected={"pose": audio_expected},
        checks=[(f"input audio must hold at least {shortest} samples (one {config.fps} fps frame at {rate} Hz)",
                 lambda audio: tf.shape(audio)[1] >= shortest)])
    out["stream_step"] = Endpoint(
        stream_step, {"state": tf.TensorSpec([None, lay.size], tf.float32, name="state"),
                      "chunk": tf.TensorSpec([None, lay.hop], tf.float32, name="chunk")},
        {"state": states, "chunk": chunks},
        expected={"pose": _keras(network, step_windows), "valid": valid, "state": step_states}, checks=[hops_check])
    out["stream_flush"] = Endpoint(
        stream_flush, {"state": tf.TensorSpec([None, lay.size], tf.float32, name="state")}, {"state": states},
        expected={"pose": _keras(network, flush_windows), "valid": valid, "state": flushed}, checks=[hops_check])
    return out


def stream_window(features: np.ndarray, call: int, layout: StreamLayout, silence: np.ndarray) -> np.ndarray:
    """The (61, D) window ``stream_step`` call ``call`` (0-based) runs: feature frames call − lag − 60 …
    call − lag of ``features`` (T, D), silence before frame 0; its centre is frame call − delay."""
    index = np.arange(call - layout.lag - layout.rows, call - layout.lag + 1)
    rows = np.asarray(features, np.float32)[np.clip(index, 0, None)]
    return np.where((index < 0)[:, None], silence[None], rows).astype(np.float32)


def _state_rows(state: np.ndarray, layout: StreamLayout, silence: np.ndarray) -> np.ndarray:
    """The 60 feature rows a state stands for (silence while hops = 0)."""
    if state[0] == 0:
        return np.repeat(silence[None], layout.rows, axis=0)
    return state[layout.slices["features"][0]:].reshape(layout.rows, -1)


def _keras(network, windows: np.ndarray) -> np.ndarray:
    """The Keras network's poses of (N, 61, D) windows, eagerly."""
    return np.asarray(network(windows.astype(np.float32), training=False))


def export_metadata(predictor) -> dict:
    """metadata.json facts of an export (``zoo.export`` adds names, signatures and versions)."""
    from .predict import metadata_of

    config = predictor.config
    meta = {**metadata_of(config, predictor.skeleton), "config": config.to_dict(),
            "pose_units": ("positions in dataset units (cm), velocities in cm per frame" if config.representation ==
                           "positions" else "exp-maps (axis × angle, radians)"),
            "position_columns": ([6 * k + i for k in range(config.output_dim // 6) for i in range(3)]
                                 if config.representation == "positions" else None),
            "position_names": list(predictor.position_names) if config.representation == "positions" else None,
            "silence_vector": feats.silence_vector(config.features).tolist(),
            "trained_on": {k: predictor.metadata.get(k) for k in ("train_ids", "val_ids", "epochs_trained")}}
    if config.features not in TF_FEATURES:
        meta.update(audio_signature=None, stream=None,
                    no_audio_signature=f"{config.features} features have no TensorFlow version (Spectro: librosa "
                                       "STFT at 22.05 kHz; Pros: Praat): feed serving_default with windows of "
                                       "features.features + context_windows")
        return meta
    lay = stream_layout(config)
    meta.update(
        lookahead_seconds=lay.lookahead_seconds, mfcc_reach_samples=lay.reach,
        min_audio_samples=min_audio_samples(config),
        stream={**asdict(lay), "state_layout": lay.slices, "initial_state": "zeros",
                "hop_samples": lay.hop, "state_size": lay.size, "delay_seconds": lay.delay * lay.hop / lay.sample_rate,
                "emits": "call k (0-based, chunks and flushes) emits pose frame k - delay; valid = k >= delay",
                "last_chunk": "continue the audio to a whole hop with x[S-1]*0.97^j, j = 1, 2, ... (zero after "
                              "pre-emphasis, as the full pass pads)",
                "flush": "after the last chunk call stream_flush T + delay - K times "
                         "(K chunks, T = full-pass frames): each appends the silence vector as the next feature "
                         "frame, as the full pass pads"})
    return meta


def export_model(model_dir: str | os.PathLike, dest: str | os.PathLike, *, audio=None, sample_rate: int | None = None,
                 name: str = "gesture_ae", version: int = 1, tflite: bool = True, overwrite: bool = False,
                 tolerance: float = 1e-2, int8: bool = False, int8_tolerance: float = 1.0):
    """Export a trained model directory to ``dest`` (SavedModel in TF-Serving layout + TFLite of
    ``serving_default``). ``audio`` (a path, or an array at ``sample_rate``; default ``zoo.core.parity_speech()``)
    gives the real parity inputs, resampled to the model's rate. ``tolerance`` (cm for positions, radians for
    rotations) bounds every parity check: ``serving_default`` (SavedModel and TFLite) against Keras on the same
    windows, ``audio``/``stream_step``/``stream_flush`` (float32 TF MFCC in the graph) against the float64 NumPy
    features + Keras (their state outputs too: the audio tail exactly, the feature rows within the MFCC rounding).
    ``int8``: also ``<name>-v<version>.int8.tflite`` (dynamic-range quantisation of ``serving_default``: int8
    weights, float32 between ops), held to ``int8_tolerance`` (cm / radians). Returns ``zoo.export.ExportResult``."""
    from zoo.core import parity_audio
    from zoo.export import export

    from .model import build_pose_generator, with_static_batch
    from .predict import Predictor

    predictor = Predictor.load(model_dir)
    config = predictor.config
    audio = parity_audio(audio, sample_rate, rate=config.sample_rate)
    network = predictor.network
    tflite_model = None
    if tflite:  # Keras 3 GRU → TFLite: a batch-1 copy (specs/environment.md §1), converted from_keras_model
        tflite_model = build_pose_generator(with_static_batch(network.speech_encoder, config), network.dae)
    return export(network, Path(dest), name=name, output_names=output_names(config, predictor.skeleton),
                  metadata=export_metadata(predictor), endpoints=endpoints(predictor, audio), version=version,
                  tflite=tflite, tflite_signature="serving_default", tflite_model=tflite_model, tolerance=tolerance,
                  overwrite=overwrite, tflite_int8=int8, int8_tolerance=int8_tolerance)


__all__ = ["export_model", "endpoints", "export_metadata", "StreamLayout", "stream_layout", "initial_state",
           "state_after", "stream_window", "num_frames", "complete_frames", "min_audio_samples", "stream_chunks",
           "flush_calls", "pad_to_hops", "output_names", "TF_FEATURES", "POSE_QUANTITIES"]
