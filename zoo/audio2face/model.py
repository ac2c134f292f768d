"""The Audio2Face network (Karras 2017 Table 1, in FACEGOOD's NHWC layout).

Input: features (B, 32, 64, 1): H = 32 LPC/autocorrelation coefficients, W = 64 subframes of
the 520 ms window. Layers (ReLU after every conv, ``padding="same"``):

* formant analysis: Conv2D 72, 108, 162, 243 with kernel (3, 1), stride (2, 1), then 256 with
  (2, 1)/(2, 1): H 32 → 16 → 8 → 4 → 2 → 1, output (B, 1, 64, 256);
* articulation: Conv2D 256 with (1, 3)/(1, 2) four times, then (1, 4)/(1, 4): W 64 → 32 → 16
  → 8 → 4 → 1; after each ReLU the emotion map of the same width (E = 16 channels) is
  concatenated (the first conv sees none);
* output: Flatten (256 + E), Dense 150 linear, Dropout 0.5, Dense N linear (no clamp).

The emotion map comes from (``Config.emotion``): ``database`` — an input vector e ∈ R^E tiled
over time (the paper); ``facegood_tf2`` — a frozen N(0, 1) tensor (1, 1, 64, 16) convolved down
to each width by a ReLU Conv2D 16 with the layer's own kernel; ``facegood_tfv1`` — ReLU(Conv2D
16, (3, 1), stride (32, 1)) of the input, then a (1, 3) ReLU conv per layer.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from .config import Config
from .features import FEATURE_SHAPE

ARTICULATION_KERNELS = ((1, 3), (1, 3), (1, 3), (1, 3), (1, 4))
ARTICULATION_STRIDES = ((1, 2), (1, 2), (1, 2), (1, 2), (1, 4))
EMOTION_STRIDES = ((1, 2), (1, 4), (1, 8), (1, 16), (1, 64))  # 64-wide map → each layer's width


@keras.saving.register_keras_serializable(package="zoo.audio2face")
class FeatureMapNoise(layers.Layer):
    """Multiplicative noise ``x · base^N(0, 1)``, one draw per example and channel (training only)."""

    def __init__(self, base: float = 1.4, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.base, self.seed = float(base), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training:
            return x
        shape = (ops.shape(x)[0], *([1] * (len(x.shape) - 2)), x.shape[-1])
        noise = keras.random.normal(shape, seed=self.seed_generator)
        return x * ops.exp(noise * np.log(self.base))

    def get_config(self):
        return {**super().get_config(), "base": self.base, "seed": self.seed}


@keras.saving.register_keras_serializable(package="zoo.audio2face")
class TileOverTime(layers.Layer):
    """(B, E) → (B, 1, width, E): the emotion vector replicated over ``width`` time steps."""

    def __init__(self, width: int, **kwargs):
        super().__init__(**kwargs)
        self.width = int(width)

    def call(self, e):
        return ops.tile(e[:, None, None, :], [1, 1, self.width, 1])

    def compute_output_shape(self, shape):
        return (shape[0], 1, self.width, shape[-1])

    def get_config(self):
        return {**super().get_config(), "width": self.width}


@keras.saving.register_keras_serializable(package="zoo.audio2face")
class FrozenEmotionMap(layers.Layer):
    """FACEGOOD TF2's constant emotion input: N(0, 1) of shape (1, 1, 64, E) tiled over the batch.

    Not a weight (the original used a plain tensor, so it is not in the parameter count); it is
    regenerated from ``seed`` with NumPy, so a saved model rebuilds the same tensor.
    """

    def __init__(self, dim: int = 16, seed: int = 123, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.seed = int(dim), int(seed)
        self.value = np.random.default_rng(seed).standard_normal((1, 1, 64, dim)).astype("float32")

    def call(self, features):
        return ops.tile(ops.convert_to_tensor(self.value), [ops.shape(features)[0], 1, 1, 1])

    def compute_output_shape(self, shape):
        return (shape[0], 1, 64, self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "seed": self.seed}


@keras.saving.register_keras_serializable(package="zoo.audio2face")
class CoefficientStandardization(layers.Layer):
    """(x − μ_k) / σ_k per coefficient row k of the (B, 32, 64, 1) features; μ, σ fixed from the
    training features (``set_statistics``), saved with the model, never trained."""

    def build(self, input_shape):
        rows = input_shape[1]
        self.mean = self.add_weight(shape=(rows,), initializer="zeros", trainable=False, name="mean")
        self.std = self.add_weight(shape=(rows,), initializer="ones", trainable=False, name="std")

    def set_statistics(self, mean, std):
        self.mean.assign(np.asarray(mean, "float32"))
        self.std.assign(np.where(np.asarray(std) > 1e-12, std, 1.0).astype("float32"))

    def call(self, x):
        return (x - self.mean[None, :, None, None]) / self.std[None, :, None, None]


def _conv(x, filters, kernel, strides, name, noise: bool, seed: int):
    if noise:
        x = FeatureMapNoise(seed=seed, name=f"{name}_noise")(x)
    return layers.Conv2D(filters, kernel, strides=strides, padding="same", activation="relu", name=name)(x)


def _graph(config: Config):
    """Inputs, the blendshape output and the emotion maps (one per articulation layer)."""
    if not config.output_names:
        raise ValueError("config.output_names is empty: set the channels (train() derives them from data)")
    features = keras.Input(FEATURE_SHAPE, name="features")
    inputs = [features]
    noise, seed = config.feature_noise, config.seed
    x = CoefficientStandardization(name="input_norm")(features) if config.input_norm else features
    for i, filters in enumerate(config.formant_filters):
        kernel = (2, 1) if i == 4 else (3, 1)
        x = _conv(x, filters, kernel, (2, 1), f"formant{i + 1}", noise, seed + i)

    if config.emotion == "database":
        emotion = keras.Input((config.emotion_dim,), name="emotion")
        inputs.append(emotion)
        widths = (32, 16, 8, 4, 1)
        maps = [TileOverTime(w, name=f"emotion{i + 1}")(emotion) for i, w in enumerate(widths)]
        emotion_source = emotion
    else:
        if config.emotion == "facegood_tf2":
            emotion_source = FrozenEmotionMap(config.emotion_dim, config.seed, name="emotion_input")(features)
            kernels = ARTICULATION_KERNELS
        else:  # facegood_tfv1: derived from the audio features
            emotion_source = layers.Conv2D(config.emotion_dim, (3, 1), strides=(32, 1), padding="same",
                                           activation="relu", name="emotion_input")(features)
            kernels = ((1, 3),) * 5
        maps = [layers.Conv2D(config.emotion_dim, k, strides=s, padding="same", activation="relu",
                              name=f"emotion{i + 1}")(emotion_source)
                for i, (k, s) in enumerate(zip(kernels, EMOTION_STRIDES))]

    for i, filters in enumerate(config.articulation_filters):
        x = _conv(x, filters, ARTICULATION_KERNELS[i], ARTICULATION_STRIDES[i], f"articulation{i + 1}",
                  noise, seed + 5 + i)
        x = layers.Concatenate(axis=-1, name=f"articulation{i + 1}_emotion")([x, maps[i]])

    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(config.hidden_units, name="hidden")(x)
    x = layers.Dropout(config.dropout, seed=seed, name="dropout")(x)
    weights = layers.Dense(len(config.output_names), name="blendshapes")(x)
    return inputs, weights, emotion_source


@keras.saving.register_keras_serializable(package="zoo.audio2face")
class Audio2Face(keras.Model):
    """The network of ``config``; ``model.output_names_`` are the output channel names.

    Inputs: ``features`` (B, 32, 64, 1), plus ``emotion`` (B, E) when ``config.emotion`` is
    "database". Output: (B, N) linear blendshape weights. ``get_config`` round-trips.

    Example::

        model = Audio2Face(preset("facegood_tf2"))
        model.count_params()  # 1_473_204
    """

    def __init__(self, config: Config, **kwargs):
        if isinstance(config, dict):
            config = Config.from_dict(config)
        inputs, weights, emotion_source = _graph(config)
        super().__init__(inputs=inputs if len(inputs) > 1 else inputs[0], outputs=weights,
                         name=kwargs.pop("name", f"audio2face_{config.preset}"), **kwargs)
        self.config = config
        self.channel_names = tuple(config.output_names)
        # FACEGOOD's R term needs the emotion tensor the layers see
        self.emotion_source = emotion_source

    def get_config(self):
        return {"config": self.config.to_dict(), "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(Config.from_dict(config["config"]), name=config.get("name"))

    def training_model(self) -> keras.Model:
        """The same layers with outputs (weights, emotion tensor) for the losses."""
        inputs = self.inputs if len(self.inputs) > 1 else self.inputs[0]
        return keras.Model(inputs, [self.outputs[0], self.emotion_source], name=f"{self.name}_train")


def build_model(config: Config) -> Audio2Face:
    """``Audio2Face(config)``."""
    return Audio2Face(config)
