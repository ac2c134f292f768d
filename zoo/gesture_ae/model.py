"""The networks of Aud2Repr2Pose (spec §2–§3): SpeechE and the motion DAE.

SpeechE (``build_speech_encoder``; functional): input (B, 2·context + 1, F) float32 audio features → 3 ×
[Dense(H) on every frame (the original's TimeDistributed Dense, as one op), BatchNorm, ReLU, Dropout] → GRU(H; tanh,
recurrent sigmoid, last state only) → BatchNorm, ReLU, Dropout → Dense(O), linear. O is the pose (384 positions or
the rotation subset) for the baseline and the DAE code for the proposed model. BatchNorm uses Keras 2.3.1's defaults
(momentum 0.99, ε 1e-3); the GRU is Keras 2.3.1's (reset_after=False, one bias row) when ``config.legacy_gru``,
else TF2's default (reset_after=True). Both forms run on CPU and convert to TFLite with a static batch of 1
(``with_static_batch``) or ``unroll=True``.

DAE (``GestureDAE``): with the training targets' statistics mean_d, m_d = max_t |Y_td| (uncentred) and the scalar
std s of the normalised targets (all saved with the model as non-trainable weights):

    Ŷ = (Y − mean)/(m + 1e-8)                               normalisation
    x̃ = Ŷ + N(0, (noise·s)²)                                 training only
    code = tanh(W1·drop(x̃) + b1),  x̂ = tanh(W2·drop(code) + b2)  drop: keep 0.9, inverted scaling, training only
    pose = x̂·(m + 1e-15) + mean                              decode (the original's decode.py)

W ~ U(−a, a) with a = init_scale·√(6/(fan_in + fan_out)), biases 0, seeded. ``encode``/``decode`` work frame by
frame on any leading shape, so T_out = T_in.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from .config import Config

NORMALIZE_EPSILON = 1e-8  # (Y − mean)/(max + 1e-8): the original's prepare_motion_data
DENORMALIZE_EPSILON = 1e-15  # x̂·(max + 1e-15) + mean: the original's decode.py


def build_speech_encoder(config: Config, batch_size: int | None = None, unroll: bool = False) -> keras.Model:
    """SpeechE of ``config``: (B, window, num_features) → (B, speech_output_dim). ``batch_size`` fixes the batch
    (1 for the TFLite recipe); ``unroll`` unrolls the GRU over the window (the other TFLite recipe)."""
    inputs = keras.Input((config.window, config.num_features), batch_size=batch_size, name="speech")
    x = inputs
    for i in range(1, 4):
        x = layers.Dense(config.hidden, name=f"dense{i}")(x)  # on every frame: TimeDistributed(Dense) as one op
        x = layers.BatchNormalization(momentum=config.bn_momentum, epsilon=config.bn_epsilon, name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
        x = layers.Dropout(config.dropout, seed=config.seed + i, name=f"dropout{i}")(x)
    x = layers.GRU(config.hidden, activation="tanh", recurrent_activation="sigmoid", reset_after=not config.legacy_gru,
                   return_sequences=False, unroll=unroll, name="gru")(x)
    x = layers.BatchNormalization(momentum=config.bn_momentum, epsilon=config.bn_epsilon, name="bn4")(x)
    x = layers.ReLU(name="relu4")(x)
    x = layers.Dropout(config.dropout, seed=config.seed + 4, name="dropout4")(x)
    outputs = layers.Dense(config.speech_output_dim, name=config.target)(x)
    return keras.Model(inputs, outputs, name="speech_encoder")


def build_model(config: Config) -> keras.Model:
    """The zoo contract's model: SpeechE of ``config`` (dynamic batch)."""
    return build_speech_encoder(config)


def with_static_batch(model: keras.Model, config: Config, unroll: bool = False) -> keras.Model:
    """A batch-1 copy of SpeechE ``model`` with its weights (TFLite's RNN recipe: ``from_keras_model``)."""
    copy = build_speech_encoder(config, batch_size=1, unroll=unroll)
    copy.set_weights(model.get_weights())
    return copy


@keras.saving.register_keras_serializable(package="zoo.gesture_ae")
class PoseNormalization(layers.Layer):
    """Per-dimension normalisation of poses with fixed training statistics (non-trainable, saved with the model):
    ``mean`` (D,), ``max_abs`` (D,) = max |Y| of the uncentred targets, ``std`` () = one std of the normalised
    targets. ``call(y)`` = (y − mean)/(max_abs + 1e-8); ``call(x, inverse=True)`` = x·(max_abs + 1e-15) + mean."""

    def __init__(self, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.mean = self.add_weight(shape=(self.dim,), initializer="zeros", trainable=False, name="mean")
        self.max_abs = self.add_weight(shape=(self.dim,), initializer="ones", trainable=False, name="max_abs")
        self.std = self.add_weight(shape=(), initializer="ones", trainable=False, name="std")

    def set_statistics(self, mean, max_abs, std) -> None:
        mean, max_abs = np.asarray(mean, np.float32), np.asarray(max_abs, np.float32)
        if mean.shape != (self.dim,) or max_abs.shape != (self.dim,):
            raise ValueError(f"statistics of shapes {mean.shape}, {max_abs.shape}; the poses have {self.dim} values")
        if not (np.isfinite(mean).all() and np.isfinite(max_abs).all() and np.isfinite(std)) or (max_abs < 0).any():
            raise ValueError("pose statistics must be finite with max_abs ≥ 0")
        self.mean.assign(mean)
        self.max_abs.assign(max_abs)
        self.std.assign(np.float32(std))

    def call(self, x, inverse=False):
        if inverse:
            return x * (self.max_abs + DENORMALIZE_EPSILON) + self.mean
        return (x - self.mean) / (self.max_abs + NORMALIZE_EPSILON)

    def compute_output_shape(self, shape):
        return shape

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}


@keras.saving.register_keras_serializable(package="zoo.gesture_ae")
class GestureDAE(keras.Model):
    """The denoising autoencoder pose → code → pose (module docstring). ``call(y, training)`` returns the
    normalised reconstruction x̂ (what the loss compares with Ŷ); ``encode``/``decode`` map poses in original
    units to codes and back without dropout or noise."""

    def __init__(self, pose_dim: int, code_dim: int, keep_prob: float = 0.9, noise: float = 0.05,
                 weight_decay: float = 0.5, init_scale: float = 2.0, seed: int = 123456, **kwargs):
        super().__init__(**kwargs)
        self.pose_dim, self.code_dim = int(pose_dim), int(code_dim)
        self.keep_prob, self.noise, self.weight_decay = float(keep_prob), float(noise), float(weight_decay)
        self.init_scale, self.seed = float(init_scale), int(seed)
        limit = self.init_scale * float(np.sqrt(6.0 / (self.pose_dim + self.code_dim)))
        self.normalization = PoseNormalization(self.pose_dim, name="normalization")
        self.encoder_dropout = layers.Dropout(1.0 - self.keep_prob, seed=self.seed + 2, name="encoder_dropout")
        self.encoder = layers.Dense(self.code_dim, activation="tanh", name="encoder",
                                    kernel_initializer=keras.initializers.RandomUniform(-limit, limit, seed=self.seed))
        self.decoder_dropout = layers.Dropout(1.0 - self.keep_prob, seed=self.seed + 3, name="decoder_dropout")
        self.decoder = layers.Dense(self.pose_dim, activation="tanh", name="decoder",
                                    kernel_initializer=keras.initializers.RandomUniform(-limit, limit,
                                                                                        seed=self.seed + 1))
        self.noise_generator = keras.random.SeedGenerator(self.seed + 4)
        self.build((None, self.pose_dim))

    def build(self, input_shape):
        self.encoder.build((None, self.pose_dim))
        self.decoder.build((None, self.code_dim))
        self.built = True

    @property
    def kernels(self) -> list:
        """[W1, W2]: the weights the decay term regularises (biases are not)."""
        return [self.encoder.kernel, self.decoder.kernel]

    def set_statistics(self, mean, max_abs, std) -> None:
        """Fix the normalisation statistics (``dae_statistics`` of the training targets)."""
        self.normalization.set_statistics(mean, max_abs, std)

    def call(self, y, training=False):
        x = self.normalization(y)
        if training and self.noise > 0:
            sigma = self.noise * self.normalization.std
            x = x + sigma * keras.random.normal(ops.shape(x), seed=self.noise_generator)
        code = self.encoder(self.encoder_dropout(x, training=training))
        return self.decoder(self.decoder_dropout(code, training=training))

    def encode(self, y):
        """Poses (..., P) in original units → codes (..., C) in (−1, 1); frame by frame."""
        return self.encoder(self.normalization(y))

    def decode(self, code):
        """Codes (..., C) → poses (..., P) in original units: x̂·(max + 1e-15) + mean; frame by frame."""
        return self.normalization(self.decoder(code), inverse=True)

    def get_config(self):
        return {**super().get_config(), "pose_dim": self.pose_dim, "code_dim": self.code_dim,
                "keep_prob": self.keep_prob, "noise": self.noise, "weight_decay": self.weight_decay,
                "init_scale": self.init_scale, "seed": self.seed}


def dae_statistics(y_train) -> tuple[np.ndarray, np.ndarray, float]:
    """(mean, max_abs, std) of training targets (frames, P) in NumPy (float64 sums, float32 results):
    mean_d, max_abs_d = max_t |Y_td| of the *uncentred* data (the original), std = one scalar std (ddof 0) of all
    values of Ŷ = (Y − mean)/(max_abs + 1e-8)."""
    y = np.asarray(y_train, np.float64)
    if y.ndim != 2 or not len(y):
        raise ValueError(f"training targets must be (frames, dims) with frames ≥ 1, got shape {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError("training targets hold NaN or Inf")
    mean = y.mean(axis=0)
    max_abs = np.abs(y).max(axis=0)
    std = float(((y - mean) / (max_abs + NORMALIZE_EPSILON)).std())
    return mean.astype(np.float32), max_abs.astype(np.float32), std


def build_dae(config: Config, statistics: tuple | None = None) -> GestureDAE:
    """The DAE of ``config`` (output_dim → code_dim → output_dim); ``statistics`` = ``dae_statistics(Y_train)``
    sets the normalisation (without it: mean 0, max_abs 1, std 1)."""
    dae = GestureDAE(config.output_dim, config.code_dim, keep_prob=config.dae_keep_prob, noise=config.dae_noise,
                     weight_decay=config.dae_weight_decay, init_scale=config.dae_init_scale, seed=config.dae_seed,
                     name="dae")
    if statistics is not None:
        dae.set_statistics(*statistics)
    return dae


def dae_encoder(dae: GestureDAE) -> keras.Model:
    """A functional view (shared weights) of ``dae.encode``: poses (N, P) → codes (N, C); N frames, any N."""
    poses = keras.Input((dae.pose_dim,), name="pose")
    return keras.Model(poses, dae.encoder(dae.normalization(poses)), name="dae_encoder")


def dae_decoder(dae: GestureDAE) -> keras.Model:
    """A functional view (shared weights) of ``dae.decode``: codes (N, C) → poses (N, P); N frames, any N."""
    codes = keras.Input((dae.code_dim,), name="code")
    return keras.Model(codes, dae.normalization(dae.decoder(codes), inverse=True), name="dae_decoder")


def build_pose_generator(speech_encoder: keras.Model, dae: GestureDAE | None = None) -> keras.Model:
    """Speech windows → poses in original units in one graph: SpeechE, then (proposed) the DAE decoder. Without
    ``dae`` (baseline) SpeechE already outputs poses and is returned as is. Weights are shared, not copied."""
    if dae is None:
        return speech_encoder
    if speech_encoder.output_shape[-1] != dae.code_dim:
        raise ValueError(f"SpeechE outputs {speech_encoder.output_shape[-1]} values, the DAE code has {dae.code_dim}")
    shape = speech_encoder.input_shape
    windows = keras.Input(shape[1:], batch_size=shape[0], name="speech")
    pose = dae.normalization(dae.decoder(speech_encoder(windows)), inverse=True)
    return keras.Model(windows, pose, name="pose_generator")


__all__ = ["build_speech_encoder", "build_model", "with_static_batch", "PoseNormalization", "GestureDAE",
           "dae_statistics", "build_dae", "dae_encoder", "dae_decoder", "build_pose_generator",
           "NORMALIZE_EPSILON", "DENORMALIZE_EPSILON"]


class SlidingSpeechE:
    """SpeechE over every 61-frame window of one sequence with the per-frame work done once (inference only).

    Windows of consecutive frames overlap in 60 of 61 frames, and in inference everything before the GRU's recurrence
    acts on one frame at a time: the three dense blocks (BatchNorm with its moving statistics, no dropout) and the
    GRU's input projection x·W + b. ``__call__(padded)`` computes those once per row of the (N, D) silence-padded
    features, then for each window only the recurrence h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃ (Keras' gates: z, r, h̃ from
    x_t·W plus h_{t−1}·U, with r applied before U for ``reset_after=False`` and after it otherwise) and the head
    (BatchNorm, ReLU, dense). The same function as ``speech(windows, training=False)`` to float32 rounding, with
    ~2.7× fewer operations a window at the paper's size (the recurrence is ~24 of its ~65 MFLOP). (XLA would run the
    recurrence ~1.3× faster but compiles for ~3.5 s per batch shape: not worth it for a file at a time.)
    """

    def __init__(self, speech: keras.Model):
        import tensorflow as tf

        names = [layer.name for layer in speech.layers]
        gru = speech.get_layer("gru")
        self.window = int(speech.input_shape[1])
        self.frame_layers = speech.layers[1:names.index("gru")]
        self.head_layers = speech.layers[names.index("gru") + 1:]
        self.cell = gru.cell
        self._frames = tf.function(self._frame_pass, reduce_retracing=True)
        self._windows = tf.function(self._window_pass, reduce_retracing=True)

    def _frame_pass(self, x):
        import tensorflow as tf

        x = x[None]  # the layers were built on (batch, frames, features)
        for layer in self.frame_layers:
            x = layer(x, training=False)
        bias = self.cell.bias[0] if self.cell.reset_after else self.cell.bias
        return tf.matmul(x[0], self.cell.kernel) + bias

    def _window_pass(self, projected):
        import tensorflow as tf

        units, cell = self.cell.units, self.cell
        h = tf.zeros((tf.shape(projected)[0], units), projected.dtype)
        for t in range(self.window):
            x = projected[:, t]
            if cell.reset_after:
                rec = tf.matmul(h, cell.recurrent_kernel) + cell.bias[1]
                z = tf.sigmoid(x[:, :units] + rec[:, :units])
                r = tf.sigmoid(x[:, units:2 * units] + rec[:, units:2 * units])
                candidate = tf.tanh(x[:, 2 * units:] + r * rec[:, 2 * units:])
            else:
                gates = tf.matmul(h, cell.recurrent_kernel[:, :2 * units])
                z = tf.sigmoid(x[:, :units] + gates[:, :units])
                r = tf.sigmoid(x[:, units:2 * units] + gates[:, units:])
                candidate = tf.tanh(x[:, 2 * units:] + tf.matmul(r * h, cell.recurrent_kernel[:, 2 * units:]))
            h = z * h + (1.0 - z) * candidate
        for layer in self.head_layers:
            h = layer(h, training=False)
        return h

    def __call__(self, padded: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """(N − window + 1, out) float32 SpeechE outputs of every window of the (N, D) padded feature rows."""
        import tensorflow as tf

        projected = self._frames(tf.constant(np.asarray(padded, np.float32)))
        count = int(projected.shape[0]) - self.window + 1
        outputs = []
        for start in range(0, max(count, 0), batch_size):
            rows = np.arange(start, min(start + batch_size, count))[:, None] + np.arange(self.window)[None, :]
            outputs.append(self._windows(tf.gather(projected, rows)).numpy())
        return np.concatenate(outputs) if outputs else np.zeros((0, self.head_layers[-1].units), np.float32)
