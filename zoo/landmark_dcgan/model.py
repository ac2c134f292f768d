"""The networks of the speech → landmarks → face method (spec §3, §5): the landmark CNN and the conditional DCGAN.

Landmark CNN (``build_cnn``; functional): one frame's features (chunk=128 frequency bins, chunks=23 time chunks, 1)
→ 8 ReLU convolutions ("same" padding, Glorot-uniform kernels, zero biases) and 3 max-pools ("valid"), the first
five on frequency only, the rest on time only (spec §3 table) → flatten 136 → Dense 136 tanh → Dense 136 tanh →
Dense 136 sigmoid = 68 (x, y) points in [0, 1]: 276,104 parameters. The original builds a GRU it never applies
(spec §9.1); ``config.gru`` ("report") applies one: input (T, 128, 23, 1) with T frames of one video (any T), the
convolutions and the first dense layer per frame (frames folded into the batch), GRU(gru_units, Keras 3 default:
reset_after, tanh/sigmoid) over the frames, the other two dense layers per frame → (T, 136): +111,792 parameters
at gru_units = 136. ``config.log_magnitude`` puts a non-trainable per-bin standardisation (x − mean_f)/std_f in
front (``FeatureStandardization``; ``set_feature_statistics`` fixes mean and std, (128,) each, broadcast over the
23 chunks).

Conditional DCGAN at S = ``config.image_size`` (spec §5.4–5.6, s = S/64), inputs named as the signatures use them:

    D(image (S, S, 3), landmarks (136,)): conv d0 + lrelu → maxpool → concat tiled landmarks → conv d1 + BN + lrelu →
        maxpool → conv d2 + BN + lrelu → conv d3 + BN + lrelu → flatten s²·d3 → linear z_dim logits
    G(z (z_dim,), landmarks (136,)): linear s²·g0 (of [z, landmarks] with g_input_landmarks) → reshape (s, s, g0) →
        BN + ReLU → deconv g1 + BN + ReLU → deconv g2 + BN + ReLU → unpool ×2 → deconv g3 + BN + ReLU →
        concat tiled landmarks → unpool ×2 → deconv 3 → tanh

In G the landmarks enter after the last nonlinearity but the tanh, tiled: one linear transposed convolution of
constant maps adds the same offset to every pixel of a 2×2 phase, so the original's G cannot place a mouth by them
(only D, whose later convolutions see them beside image features, ties faces to landmarks).
``config.g_input_landmarks`` (flagged) also feeds them to G's first layer: linear([z, landmarks]) (+136·s²·g0
weights), as the conditional DCGAN the original's code derives from (carpedm20) does.
``config.g_landmark_maps`` (flagged) also gives G the landmarks as images: ``LandmarkMaps`` (one Gaussian map per
face part, the points at (x, y) · n of an n × n map) concatenated after the unpooling at S/8 and at S/2, where
G's next transposed convolutions can place the lips where the landmarks put them (+6·25·(g3 + 3) weights). The
maps read the landmarks as positions in the image; the ``"similarity"`` normalisation puts them within a few
pixels and ~7 % of scale of the face crop's (measured on the synthetic corpus's mouths).

conv: 5×5 stride 2 "same", W ~ truncated normal σ 0.02 (cut at 2σ); deconv: 5×5 stride 2 "same" transposed
convolution, W ~ normal σ 0.02; linear: W ~ normal σ 0.02; biases 0; lrelu slope 0.2; BatchNorm momentum
``bn_momentum`` (0.9), ε ``bn_epsilon`` (1e-5), scale and centre. At 256² D has 9,660,388 and G 9,250,779
trainable parameters. Unpooling is zero insertion (``Unpool2D``: each value at the top-left of its 2×2 block, the
other three 0; ``config.unpool = "nearest"`` copies it to all four). Layer names carry the original's ``d_``/``g_``
prefixes. Every initializer is seeded from ``config.seed``, so a config builds the same weights every time.

Only reshape, pad, concatenation, tile and the usual conv/dense/BN ops are used (``LandmarkMaps`` adds exp,
squared difference and max): the networks convert to TFLite with builtin ops and a dynamic batch.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from .config import LANDMARK_DIM, Config

LRELU_SLOPE = 0.2
INIT_STDDEV = 0.02
MIN_FEATURE_STD = 1e-6  # floor of the per-bin std ``feature_statistics`` returns
STANDARDIZATION = "feature_standardization"  # the layer ``set_feature_statistics`` fills
FAST_BATCH = 1024  # ``fast_landmarks``' largest batch (frames)
FAST_PRECISIONS = ("float32", "bfloat16")  # ``fast_landmarks``' arithmetic after pool1
#: dlib's 68 points by face part: jaw, brows, nose, eyes, outer lip, inner lip ((first, end) index pairs): the iBUG
#: contours of ``zoo.render.landmarks.CONTOURS`` with both brows, the nose's two and both eyes each one part (a
#: literal: importing zoo.render here would cost every import of this module ~0.2 s)
FACE_PARTS = ((0, 17), (17, 27), (27, 36), (36, 48), (48, 60), (60, 68))
LANDMARK_MAP_SIGMA = 0.75  # ``LandmarkMaps``' Gaussian width, pixels of the map

#: the CNN of spec §3: (name, filters or None for a max-pool, kernel (f, t), stride (f, t))
CNN_LAYERS = (
    ("conv1", 32, (3, 1), (2, 1)), ("pool1", None, (2, 1), (2, 1)),
    ("conv2", 32, (3, 1), (2, 1)), ("pool2", None, (2, 1), (2, 1)),
    ("conv3", 64, (2, 1), (2, 1)),
    ("conv4", 64, (3, 1), (2, 1)),
    ("conv5", 128, (3, 1), (2, 1)), ("pool5", None, (1, 2), (1, 2)),
    ("conv6", 128, (1, 3), (1, 2)),
    ("conv7", 136, (1, 3), (1, 2)),
    ("conv8", 136, (1, 4), (1, 4)),
)


def _static_or_dynamic(x) -> list:
    """x's dimensions: the static ones as ints, the others as scalar tensors."""
    dynamic = ops.shape(x)
    return [d if d is not None else dynamic[i] for i, d in enumerate(x.shape)]


@keras.saving.register_keras_serializable(package="landmark_dcgan")
class Unpool2D(layers.Layer):
    """2× spatial unpooling of (B, H, W, C) → (B, 2H, 2W, C). ``mode="zeros"`` (the original's): out[2i, 2j] =
    x[i, j] and the other three positions of each 2×2 block are 0; ``mode="nearest"``: all four are x[i, j].
    Built from expand/pad (or concatenate)/reshape only (no scatter), so TFLite runs it with builtin ops."""

    MODES = ("zeros", "nearest")

    def __init__(self, mode: str = "zeros", **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"Unpool2D mode must be one of {self.MODES}, got {mode!r}")
        self.mode = mode

    def _double(self, x, axis):
        """Insert after every entry along ``axis`` a zero (or a copy), in a new axis ``axis + 1`` of size 2."""
        x = ops.expand_dims(x, axis + 1)
        if self.mode == "nearest":
            return ops.concatenate([x, x], axis=axis + 1)
        pad = [[0, 0]] * len(x.shape)
        pad[axis + 1] = [0, 1]
        return ops.pad(x, pad)

    def call(self, x):
        _, h, w, c = _static_or_dynamic(x)
        x = ops.reshape(self._double(x, 2), (-1, h, 2 * w, c))  # columns: x0 0 x1 0 …
        return ops.reshape(self._double(x, 1), (-1, 2 * h, 2 * w, c))  # rows: r0 zeros r1 zeros …

    def compute_output_shape(self, shape):
        b, h, w, c = shape
        return (b, None if h is None else 2 * h, None if w is None else 2 * w, c)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="landmark_dcgan")
class TiledConcat(layers.Layer):
    """The original's conv_cond_concat: [x (B, H, W, C), y (B, K)] → (B, H, W, C + K), channels C … C + K − 1 of
    every pixel holding y (y tiled over H × W, concatenated after x's channels)."""

    def call(self, inputs):
        x, y = inputs
        _, h, w, _ = _static_or_dynamic(x)
        tiled = ops.tile(ops.cast(y, x.dtype)[:, None, None, :], (1, h, w, 1))
        return ops.concatenate([x, tiled], axis=-1)

    def compute_output_shape(self, shapes):
        (b, h, w, c), (_, k) = shapes
        return (b, h, w, c + k)


@keras.saving.register_keras_serializable(package="landmark_dcgan")
class LandmarkMaps(layers.Layer):
    """(B, 136) landmarks (x, y in [0, 1] of the image) → (B, n, n, 6) maps, one per face part of ``FACE_PARTS``
    (jaw, brows, nose, eyes, outer lip, inner lip): channel c at pixel (i, j) = max over the part's points k of
    exp(−((j + ½ − n·x_k)² + (i + ½ − n·y_k)²) / (2σ²)), σ = ``sigma`` pixels of the n × n map."""

    def __init__(self, size: int, sigma: float = LANDMARK_MAP_SIGMA, **kwargs):
        super().__init__(**kwargs)
        self.size, self.sigma = int(size), float(sigma)

    def call(self, landmarks):
        points = ops.reshape(ops.cast(landmarks, "float32"), (-1, LANDMARK_DIM // 2, 2)) * self.size
        centres = ops.arange(self.size, dtype="float32") + 0.5
        scale = -0.5 / self.sigma ** 2
        along_x = ops.exp(scale * ops.square(centres[None, None, :] - points[:, :, 0:1]))  # (B, 68, n)
        along_y = ops.exp(scale * ops.square(centres[None, None, :] - points[:, :, 1:2]))
        maps = along_y[:, :, :, None] * along_x[:, :, None, :]  # (B, 68, n, n): separable Gaussians
        return ops.stack([ops.max(maps[:, a:b], axis=1) for a, b in FACE_PARTS], axis=-1)

    def compute_output_shape(self, shape):
        return (shape[0], self.size, self.size, len(FACE_PARTS))

    def get_config(self):
        return {**super().get_config(), "size": self.size, "sigma": self.sigma}


@keras.saving.register_keras_serializable(package="landmark_dcgan")
class FeatureStandardization(layers.Layer):
    """Per-bin standardisation of features (..., bins, chunks, 1): (x − mean_f)/std_f with fixed (non-trainable)
    ``mean`` and ``std`` of shape (bins,), broadcast over the chunks (``set_feature_statistics``). Initially
    mean 0, std 1 (the identity)."""

    def __init__(self, bins: int, **kwargs):
        super().__init__(**kwargs)
        self.bins = int(bins)
        self.mean = self.add_weight(shape=(self.bins,), initializer="zeros", trainable=False, name="mean")
        self.std = self.add_weight(shape=(self.bins,), initializer="ones", trainable=False, name="std")

    def call(self, x):
        mean = ops.reshape(ops.cast(self.mean, x.dtype), (self.bins, 1, 1))
        std = ops.reshape(ops.cast(self.std, x.dtype), (self.bins, 1, 1))
        return (x - mean) / std

    def compute_output_shape(self, shape):
        return shape

    def get_config(self):
        return {**super().get_config(), "bins": self.bins}


@keras.saving.register_keras_serializable(package="landmark_dcgan")
class FoldFrames(layers.Layer):
    """(B, T, *frame) → (B·T, *frame): the frames of a sequence batch as one batch of frames."""

    def call(self, x):
        return ops.reshape(x, (-1, *_static_or_dynamic(x)[2:]))

    def compute_output_shape(self, shape):
        return (None, *shape[2:])


@keras.saving.register_keras_serializable(package="landmark_dcgan")
class UnfoldFrames(layers.Layer):
    """[values (B·T, D), sequences (B, T, …)] → (B, T, D): undoes ``FoldFrames`` of ``sequences``."""

    def call(self, inputs):
        values, sequences = inputs
        frames = _static_or_dynamic(sequences)[1]
        return ops.reshape(values, (-1, frames, values.shape[-1]))

    def compute_output_shape(self, shapes):
        values, sequences = shapes
        return (sequences[0], sequences[1], values[-1])


# -- landmark CNN ---------------------------------------------------------------------------------------------------
def build_cnn(config: Config) -> keras.Model:
    """The landmark CNN of ``config`` (module docstring): (B, chunk, chunks, 1) → (B, 136) in [0, 1], or with
    ``config.gru`` (B, T, chunk, chunks, 1) → (B, T, 136). Layer names: conv1 … conv8, pool1/2/5, flatten, dense9,
    [gru], dense10, landmarks (the sigmoid output), [feature_standardization, fold_frames, unfold_frames]."""
    frame = (config.chunk, config.chunks, 1)
    inputs = keras.Input((None, *frame) if config.gru else frame, name="features")
    x = inputs
    if config.log_magnitude:
        x = FeatureStandardization(config.chunk, name=STANDARDIZATION)(x)
    if config.gru:
        x = FoldFrames(name="fold_frames")(x)
    for k, (name, filters, kernel, stride) in enumerate(CNN_LAYERS):
        if filters is None:
            x = layers.MaxPooling2D(kernel, stride, padding="valid", name=name)(x)
        else:
            x = layers.Conv2D(filters, kernel, stride, padding="same", activation="relu", name=name,
                              kernel_initializer=keras.initializers.GlorotUniform(seed=config.seed + k))(x)
    x = layers.Flatten(name="flatten")(x)
    seed = config.seed + len(CNN_LAYERS)
    x = layers.Dense(LANDMARK_DIM, activation="tanh", name="dense9",
                     kernel_initializer=keras.initializers.GlorotUniform(seed=seed))(x)
    if config.gru:
        x = UnfoldFrames(name="unfold_frames")([x, inputs])
        x = layers.GRU(config.gru_units, return_sequences=True, name="gru",
                       kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
                       recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 2))(x)
    x = layers.Dense(LANDMARK_DIM, activation="tanh", name="dense10",
                     kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 3))(x)
    outputs = layers.Dense(LANDMARK_DIM, activation="sigmoid", name="landmarks",
                           kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 4))(x)
    return keras.Model(inputs, outputs, name="landmark_cnn_gru" if config.gru else "landmark_cnn")


def _frame_layer_op(layer, dtype):
    """One of the frame CNN's layers after pool1 as a function of x in ``dtype`` (its weights cast on every call, so
    the function follows later training): Conv2D and Dense as act(x ⊛ W + b), MaxPooling2D, Flatten."""
    import tensorflow as tf

    if isinstance(layer, layers.Conv2D):
        return lambda x: layer.activation(tf.nn.conv2d(x, tf.cast(layer.kernel, dtype), layer.strides,
                                                       layer.padding.upper()) + tf.cast(layer.bias, dtype))
    if isinstance(layer, layers.MaxPooling2D):
        return lambda x: tf.nn.max_pool2d(x, layer.pool_size, layer.strides, layer.padding.upper())
    if isinstance(layer, layers.Flatten):
        return lambda x: tf.reshape(x, (-1, int(np.prod(x.shape[1:]))))
    if isinstance(layer, layers.Dense):
        return lambda x: layer.activation(tf.matmul(x, tf.cast(layer.kernel, dtype)) + tf.cast(layer.bias, dtype))
    raise ValueError(f"fast_landmarks cannot run layer {layer.name!r} ({type(layer).__name__})")


def fast_landmarks(cnn: keras.Model, precision: str = "float32"):
    """A function features (N, 128, 23, 1) → landmarks (N, 136) float32 NumPy, equal to ``cnn(x, training=False)``
    for the frame CNN (not ``gru``; within float32 rounding) and faster on CPU: conv1 + ReLU + pool1 (with the
    standardisation in front, if any) run as one XLA-compiled elementwise kernel, the other layers as TF ops.

    With conv1's kernel w_t (t < k, stride s along frequency, "same" padding: ``top`` zeros in front) and pool1's
    size and stride p: pooled[j] = ReLU(max_{r<p} Σ_t w_t · x[s·(p·j + r) + t − top] + b), so each output reads
    strided slices of the input, and the (B, 64, 23, 32) conv1 map (half the CNN's time at batch 256, memory-bound)
    is never written. Frames go in batches of ``FAST_BATCH``, each zero-padded to a power of two frames:
    XLA compiles one kernel per batch size (~0.1 s each, once).

    ``precision="bfloat16"`` (flagged; ``FAST_PRECISIONS``): the layers after pool1 run in bfloat16 (pool1's output,
    the weights and every layer's output rounded to bfloat16's 8-bit mantissa), the landmarks returned as float32:
    faster where the CPU computes bfloat16 natively (AMX, AVX512-BF16), and the landmarks move by a few 1e-3
    normalised units (``make bench`` records the deviation on the committed preset)."""
    import tensorflow as tf

    if precision not in FAST_PRECISIONS:
        raise ValueError(f"precision must be one of {FAST_PRECISIONS}, got {precision!r}")
    if any(layer.name in ("gru", "fold_frames") for layer in cnn.layers):
        raise ValueError(f"fast_landmarks takes the frame CNN, not {cnn.name!r} (its GRU runs over a sequence)")
    dtype = tf.as_dtype(precision)
    names = [layer.name for layer in cnn.layers]
    conv, pool = cnn.get_layer("conv1"), cnn.get_layer("pool1")
    (k, kt), (s, st), (p, pt) = conv.kernel_size, conv.strides, pool.pool_size
    if (kt, st, pt) != (1, 1, 1) or tuple(pool.strides) != (p, 1):
        raise ValueError("fast_landmarks needs conv1 and pool1 acting on frequency only, pool stride = pool size")
    standardize = cnn.get_layer(STANDARDIZATION) if STANDARDIZATION in names else None
    rest = [_frame_layer_op(layer, dtype) for layer in cnn.layers[names.index("pool1") + 1:]]
    frame = tuple(cnn.input.shape[1:])

    @tf.function(jit_compile=True)
    def head(x):
        if standardize is not None:
            x = standardize(x)
        n = x.shape[1]
        m = -(-n // s)  # conv1 outputs: ceil(n / s)
        q = m // p  # pool1 outputs
        top = max((m - 1) * s + k - n, 0) // 2
        bottom = max(s * p * (q - 1) + s * (p - 1) + k - top - n, 0)
        x = tf.pad(x[..., 0], [[0, 0], [top, bottom], [0, 0]])[..., None]  # (B, top + n + bottom, T, 1)
        w, b = conv.kernel[:, 0, 0, :], conv.bias  # (k, C), (C,)
        pooled = None
        for r in range(p):
            c = sum(x[:, s * r + t::s * p][:, :q] * w[t] for t in range(k))
            pooled = c if pooled is None else tf.maximum(pooled, c)
        return tf.cast(tf.nn.relu(pooled + b), dtype)

    @tf.function(input_signature=[tf.TensorSpec((None, *frame), tf.float32)])
    def batch(features):
        x = head(features)
        for op in rest:
            x = op(x)
        return tf.cast(x, tf.float32)

    def landmarks(features) -> np.ndarray:
        x = np.asarray(features, np.float32)
        if x.shape[1:] != frame:
            raise ValueError(f"features must be (N, {', '.join(map(str, frame))}), got shape {x.shape}")
        out = []
        for i in range(0, len(x), FAST_BATCH):
            part = x[i:i + FAST_BATCH]
            n, size = len(part), 1 << (len(part) - 1).bit_length()  # a power of two: few XLA compilations
            if size > n:
                part = np.concatenate([part, np.zeros((size - n, *frame), np.float32)])
            out.append(batch(part).numpy()[:n])
        if not out:
            return np.zeros((0, LANDMARK_DIM), np.float32)
        return out[0] if len(out) == 1 else np.concatenate(out)

    return landmarks


def build_model(config: Config) -> keras.Model:
    """The zoo contract's model: the landmark CNN of ``config`` (``build_cnn``)."""
    return build_cnn(config)


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) per frequency bin of training features (..., bins, chunks, 1), over every frame and chunk
    (float64 sums, float32 results; std with ddof 0, floored at ``MIN_FEATURE_STD``)."""
    x = np.asarray(features, np.float64)
    if x.ndim < 3 or x.shape[-1] != 1 or not x.size:
        raise ValueError(f"features must be (..., bins, chunks, 1) and non-empty, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("features hold NaN or Inf")
    per_bin = np.moveaxis(x[..., 0], -2, 0).reshape(x.shape[-3], -1)
    return (per_bin.mean(axis=1).astype(np.float32),
            np.maximum(per_bin.std(axis=1), MIN_FEATURE_STD).astype(np.float32))


def set_feature_statistics(model: keras.Model, mean, std) -> None:
    """Fix the per-bin standardisation of a CNN built with ``log_magnitude=True``: x' = (x − mean_f)/std_f,
    ``mean`` and ``std`` of shape (bins,) (``feature_statistics`` of the training frames), std > 0."""
    try:
        layer = model.get_layer(STANDARDIZATION)
    except ValueError:
        raise ValueError(f"model {model.name!r} has no {STANDARDIZATION} layer (build it with log_magnitude=True)"
                         ) from None
    mean, std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
    if mean.shape != (layer.bins,) or std.shape != (layer.bins,):
        raise ValueError(f"feature statistics of shapes {mean.shape}, {std.shape}; the model has {layer.bins} bins")
    if not (np.isfinite(mean).all() and np.isfinite(std).all()) or (std <= 0).any():
        raise ValueError("feature statistics must be finite with std > 0")
    layer.mean.assign(mean)
    layer.std.assign(std)


# -- conditional DCGAN ----------------------------------------------------------------------------------------------
def _conv(filters: int, name: str, seed: int) -> layers.Conv2D:
    return layers.Conv2D(filters, 5, 2, padding="same", name=name,
                         kernel_initializer=keras.initializers.TruncatedNormal(0.0, INIT_STDDEV, seed=seed))


def _deconv(filters: int, name: str, seed: int) -> layers.Conv2DTranspose:
    return layers.Conv2DTranspose(filters, 5, 2, padding="same", name=name,
                                  kernel_initializer=keras.initializers.RandomNormal(0.0, INIT_STDDEV, seed=seed))


def _linear(units: int, name: str, seed: int) -> layers.Dense:
    return layers.Dense(units, name=name, kernel_initializer=keras.initializers.RandomNormal(0.0, INIT_STDDEV,
                                                                                             seed=seed))


def _batch_norm(config: Config, name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(momentum=config.bn_momentum, epsilon=config.bn_epsilon, name=name)


def _start_size(config: Config) -> int:
    """s = S/64: G's first maps and D's last maps are s × s."""
    if config.image_size % 64:
        raise ValueError(f"image_size must be a multiple of 64, got {config.image_size}")
    return config.image_size // 64


def build_discriminator(config: Config) -> keras.Model:
    """D of spec §5.5 at S = ``config.image_size``: [image (B, S, S, 3) in [−1, 1], landmarks (B, 136)] → logits
    (B, z_dim) (the original's tanh "probability" is not an output)."""
    _start_size(config)
    d0, d1, d2, d3 = config.d_filters
    seed = config.seed + 100
    image = keras.Input((config.image_size, config.image_size, 3), name="image")
    landmarks = keras.Input((LANDMARK_DIM,), name="landmarks")
    x = _conv(d0, "d_h0_conv", seed)(image)
    x = layers.LeakyReLU(LRELU_SLOPE, name="d_h0_lrelu")(x)
    x = layers.MaxPooling2D(2, 2, padding="same", name="d_h1_pool")(x)
    x = TiledConcat(name="d_h1_concat")([x, landmarks])
    for k, (filters, name, bn) in enumerate(((d1, "d_h2", "d_bn1"), (None, "d_h3", None), (d2, "d_h4", "d_bn2"),
                                             (d3, "d_h5", "d_bn3"))):
        if filters is None:
            x = layers.MaxPooling2D(2, 2, padding="same", name=f"{name}_pool")(x)
            continue
        x = _conv(filters, f"{name}_conv", seed + 1 + k)(x)
        x = _batch_norm(config, bn)(x)
        x = layers.LeakyReLU(LRELU_SLOPE, name=f"{name}_lrelu")(x)
    x = layers.Flatten(name="d_h5_flatten")(x)  # s²·d3 values
    logits = _linear(config.z_dim, "d_h6_lin", seed + 10)(x)
    return keras.Model([image, landmarks], logits, name="discriminator")


def _with_maps(x, landmarks, size: int, name: str):
    """[x (B, size, size, C), ``LandmarkMaps`` of the landmarks at size²] → (B, size, size, C + 6)."""
    return layers.Concatenate(name=f"{name}_concat")([x, LandmarkMaps(size, name=name)(landmarks)])


def build_generator(config: Config) -> keras.Model:
    """G of spec §5.6 at S = ``config.image_size``: [z (B, z_dim), landmarks (B, 136)] → image (B, S, S, 3) in
    (−1, 1) (tanh)."""
    s, (g0, g1, g2, g3) = _start_size(config), config.g_filters
    seed = config.seed + 200
    z = keras.Input((config.z_dim,), name="z")
    landmarks = keras.Input((LANDMARK_DIM,), name="landmarks")
    x = layers.Concatenate(name="g_h0_concat")([z, landmarks]) if config.g_input_landmarks else z
    x = _linear(s * s * g0, "g_h0_lin", seed)(x)
    x = layers.Reshape((s, s, g0), name="g_h0_reshape")(x)
    x = _batch_norm(config, "g_bn0")(x)
    x = layers.ReLU(name="g_h0_relu")(x)
    for k, (filters, name, bn) in enumerate(((g1, "g_h1", "g_bn1"), (g2, "g_h2", "g_bn2"), (None, "g_h3", None),
                                             (g3, "g_h4", "g_bn3"))):
        if filters is None:
            x = Unpool2D(config.unpool, name=f"{name}_unpool")(x)
            if config.g_landmark_maps:
                x = _with_maps(x, landmarks, config.image_size // 8, f"{name}_maps")
            continue
        x = _deconv(filters, f"{name}_deconv", seed + 1 + k)(x)
        x = _batch_norm(config, bn)(x)
        x = layers.ReLU(name=f"{name}_relu")(x)
    x = TiledConcat(name="g_h4_concat")([x, landmarks])
    x = Unpool2D(config.unpool, name="g_h5_unpool")(x)
    if config.g_landmark_maps:
        x = _with_maps(x, landmarks, config.image_size // 2, "g_h5_maps")
    x = _deconv(3, "g_h6_deconv", seed + 10)(x)
    image = layers.Activation("tanh", name="g_h6_tanh")(x)
    return keras.Model([z, landmarks], image, name="generator")


def build_opening_regressor(config: Config) -> keras.Model:
    """R, a training-only network (``gan_opening_weight``): the lower half of a face image (B, S/2, S, 3) in [−1, 1]
    → its standardised mouth opening (B, 1): log2(S) − 3 ReLU convolutions 3×3 stride 2 "same" (16, 32, then 64
    filters) down to a 4 × 8 map → flatten → Dense 64 ReLU → Dense 1 (linear); Glorot-uniform kernels seeded from
    ``config.seed``, zero biases. At S = 64: 154,785 parameters."""
    size = config.image_size
    seed = config.seed + 300
    image = keras.Input((size // 2, size, 3), name="lower_half")
    x = image
    for k in range(size.bit_length() - 1 - 3):
        x = layers.Conv2D(min(16 << k, 64), 3, 2, padding="same", activation="relu", name=f"r_conv{k + 1}",
                          kernel_initializer=keras.initializers.GlorotUniform(seed=seed + k))(x)
    x = layers.Flatten(name="r_flatten")(x)
    x = layers.Dense(64, activation="relu", name="r_dense",
                     kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 20))(x)
    opening = layers.Dense(1, name="r_opening", kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 21))(x)
    return keras.Model(image, opening, name="opening_regressor")


def encode_reference(discriminator: keras.Model, image, landmarks, training: bool = False,
                     squash: bool = False) -> np.ndarray:
    """The original's reference-encoded z (spec §5.8): D's logits (N, z_dim) for a reference ``image`` ((S, S, 3)
    or (N, S, S, 3), float in [−1, 1]) under ``landmarks`` ((136,) or (N, 136)); a single image or landmark vector
    is repeated to the other's N. ``training=True`` uses batch statistics in D's BatchNorm (the original's).
    ``squash=True``: tanh of the logits (the original D's other output), inside the (−1, 1) G was trained on."""
    image, landmarks = np.asarray(image, np.float32), np.asarray(landmarks, np.float32)
    image = image[None] if image.ndim == 3 else image
    landmarks = landmarks[None] if landmarks.ndim == 1 else landmarks
    if image.ndim != 4 or landmarks.ndim != 2 or landmarks.shape[1] != LANDMARK_DIM:
        raise ValueError(f"reference image must be (S, S, 3) or (N, S, S, 3) and landmarks (136,) or (N, 136); got "
                         f"{image.shape} and {landmarks.shape}")
    n = max(len(image), len(landmarks))
    if {len(image), len(landmarks)} - {1, n}:
        raise ValueError(f"{len(image)} reference images and {len(landmarks)} landmark vectors: give one or N of each")
    image = np.broadcast_to(image, (n, *image.shape[1:]))
    landmarks = np.broadcast_to(landmarks, (n, LANDMARK_DIM))
    logits = np.asarray(discriminator([image, landmarks], training=training), np.float32)
    return np.tanh(logits) if squash else logits


__all__ = ["build_cnn", "build_model", "build_discriminator", "build_generator", "build_opening_regressor",
           "encode_reference", "feature_statistics", "set_feature_statistics", "fast_landmarks", "FAST_PRECISIONS",
           "Unpool2D", "TiledConcat", "LandmarkMaps",
           "FeatureStandardization", "FoldFrames", "UnfoldFrames", "CNN_LAYERS", "FACE_PARTS", "LRELU_SLOPE",
           "INIT_STDDEV", "MIN_FEATURE_STD"]
