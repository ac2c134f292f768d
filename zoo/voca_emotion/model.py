"""The VOCA network (spec §2.1, the released graph): speech windows + subject → vertex offsets + template.

Inputs, in this order: ``windows`` (B, 16, F) features of 16 frames at 60 fps; ``condition`` (B, S) the subject's
one-hot row (any weights are accepted; the original feeds one-hot rows); ``template`` (B, V, 3) the neutral face in
metres.

Layers: BatchNorm over one scalar (all 16 × F values share a mean and variance; per feature as an option) →
concat the condition tiled over the 16 steps → 4 × Conv1D(kernel 3, stride 2, "same", ReLU) with 32f, 32f, 64f,
64f filters (16 → 8 → 4 → 2 → 1 steps; the 3×1 Conv2D of the original) → flatten, concat the condition again →
Dense 128 tanh → Dense E linear (the expression code) → Dense 3V linear (``expression_offset``) → (V, 3) offsets
(vertex-major, xyz interleaved: column 3v + c) → + template.

Initialisation (spec §2.1): conv kernels and biases truncated normal σ 0.02, fc kernels σ 0.1 with zero biases;
the decoder from a PCA of training offsets (``pca_basis``, ``init_decoder``), zero bias.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers

from .config import Config


def _conv_init():
    return keras.initializers.TruncatedNormal(stddev=0.02)


def build_model(config: Config) -> keras.Model:
    """The Keras VOCA model of ``config`` (functional; ``get_config`` round-trips)."""
    w, f, s, v = config.audio_window, config.num_audio_features, config.num_subjects, config.num_vertices
    windows = keras.Input((w, f), name="windows")
    condition = keras.Input((s,), name="condition")
    template = keras.Input((v, 3), name="template")
    if config.per_feature_input_norm:
        x = layers.BatchNormalization(momentum=config.bn_momentum, epsilon=config.bn_epsilon,
                                      name="input_norm")(windows)
    else:  # one scalar mean/variance for every value of the window (the original's trailing channel of size 1)
        x = layers.Reshape((w, f, 1), name="as_one_channel")(windows)
        x = layers.BatchNormalization(momentum=config.bn_momentum, epsilon=config.bn_epsilon, name="input_norm")(x)
        x = layers.Reshape((w, f), name="input_normed")(x)
    tiled = layers.RepeatVector(w, name="condition_over_time")(condition)
    x = layers.Concatenate(name="condition_concat")([x, tiled])
    for i, filters in enumerate(config.filters, start=1):
        x = layers.Conv1D(filters, 3, strides=2, padding="same", activation="relu", kernel_initializer=_conv_init(),
                          bias_initializer=_conv_init(), name=f"conv{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Concatenate(name="condition_concat_fc")([x, condition])
    fc_init = keras.initializers.TruncatedNormal(stddev=0.1)
    x = layers.Dense(config.fc_units, activation="tanh", kernel_initializer=fc_init, name="fc1")(x)
    code = layers.Dense(config.expression_dim, kernel_initializer=fc_init, name="fc2")(x)
    offsets = layers.Dense(3 * v, name="expression_offset")(code)
    offsets = layers.Reshape((v, 3), name="offsets")(offsets)
    vertices = layers.Add(name="vertices")([offsets, template])
    return keras.Model([windows, condition, template], vertices, name="voca")


def pca_basis(offsets: np.ndarray, components: int, scaling: str = "pca_unit", max_rows: int = 20000,
              seed: int = 0) -> np.ndarray:
    """The first ``components`` principal directions of training offsets (rows: frame − subject template,
    flattened to 3V, metres), as a (components, 3V) float32 decoder kernel.

    PCA of the mean-centred rows (at most ``max_rows``, drawn with ``seed``): X = U Σ Wᵀ, eigenvalues
    λ_k = σ_k² / (n − 1). ``pca_unit``: rows w_k (unit norm); ``pca_sqrt_eigenvalue``: √λ_k · w_k (a unit code
    moves the face by one standard deviation along the component). Fewer rows than components: the missing
    directions are zero. A large X (both sides > 4 × components) is decomposed by a seeded randomised range finder
    (Halko et al. 2011: 2k + 20 probes, 4 power iterations, then an exact SVD of the k-dimensional projection),
    which for face offsets (low rank) gives the leading directions to float32 precision in seconds instead of
    minutes.
    """
    x = np.asarray(offsets, np.float64).reshape(len(offsets), -1)
    if not np.isfinite(x).all():
        raise ValueError("training offsets hold NaN or Inf")
    rng = np.random.default_rng(seed)
    if len(x) > max_rows:
        x = x[np.sort(rng.choice(len(x), max_rows, replace=False))]
    x = x - x.mean(axis=0)
    if min(x.shape) > 4 * components:
        probes = min(2 * components + 20, min(x.shape))
        q = np.linalg.qr(x @ rng.standard_normal((x.shape[1], probes)))[0]
        for _ in range(4):  # power iterations sharpen the spectrum
            q = np.linalg.qr(x @ (x.T @ q))[0]
        _, sigma, vt = np.linalg.svd(q.T @ x, full_matrices=False)
    else:
        _, sigma, vt = np.linalg.svd(x, full_matrices=False)
    k = min(components, len(sigma))
    basis = np.zeros((components, x.shape[1]), np.float64)
    basis[:k] = vt[:k]
    if scaling == "pca_sqrt_eigenvalue":
        basis[:k] *= (sigma[:k] / np.sqrt(max(len(x) - 1, 1)))[:, None]
    elif scaling != "pca_unit":
        raise ValueError(f"unknown PCA scaling {scaling!r}")
    return basis.astype(np.float32)


def init_decoder(model: keras.Model, basis: np.ndarray) -> None:
    """Set the decoder (``expression_offset``) kernel to ``basis`` (E, 3V) and its bias to 0."""
    layer = model.get_layer("expression_offset")
    kernel, bias = layer.get_weights()
    if basis.shape != kernel.shape:
        raise ValueError(f"decoder basis has shape {basis.shape}, the decoder needs {kernel.shape}")
    layer.set_weights([basis.astype(np.float32), np.zeros_like(bias)])


def transfer_weights(model: keras.Model, config: Config, source: keras.Model, source_subjects,
                     subject_map=None) -> dict[str, str]:
    """Copy a trained VOCA network ``source`` into ``model`` (fine-tuning from it).

    Every layer is copied as is, except the subject rows of conv1's kernel (3, F + S, f1) and fc1's (64f + S, 128):
    a subject of ``config.subjects`` takes the row of the source subject it is named after (its own name, or
    ``subject_map[name]``), and a subject the source does not know takes the mean of the source's subject rows (an
    average speaking style). Other shapes must agree (same features, vertices, expression size); a ValueError says
    which layer differs. Returns {subject: where its rows came from}.
    """
    source_subjects = list(source_subjects)
    subject_map = dict(subject_map or {})
    origin = {}
    for name in config.subjects:
        src = subject_map.get(name, name)
        origin[name] = src if src in source_subjects else "mean of the source subjects"
    f = config.num_audio_features
    for layer in model.layers:
        new = layer.get_weights()
        if not new:
            continue
        old = source.get_layer(layer.name).get_weights()
        if layer.name in ("conv1", "fc1"):
            kernel, bias = old
            lead = f if layer.name == "conv1" else kernel.shape[-2] - len(source_subjects)
            rows = kernel[..., :lead, :], kernel[..., lead:, :]
            mean = rows[1].mean(axis=-2, keepdims=True)
            picked = [rows[1][..., [source_subjects.index(origin[n])], :] if origin[n] in source_subjects else mean
                      for n in config.subjects]
            old = [np.concatenate([rows[0], *picked], axis=-2), bias]
        if [w.shape for w in old] != [w.shape for w in new]:
            raise ValueError(f"layer {layer.name}: the source has weights {[w.shape for w in old]}, this model "
                             f"{[w.shape for w in new]} (another feature set, mesh or expression size)")
        layer.set_weights(old)
    return origin


def one_hot(indices, depth: int) -> np.ndarray:
    """(B,) 0-based subject indices → (B, depth) float32 one-hot rows."""
    indices = np.asarray(indices, np.int64).reshape(-1)
    if indices.size and (indices.min() < 0 or indices.max() >= depth):
        raise ValueError(f"subject indices must lie in 0…{depth - 1} (0-based), got {sorted(set(indices.tolist()))}")
    return np.eye(depth, dtype=np.float32)[indices]


__all__ = ["build_model", "pca_basis", "init_decoder", "transfer_weights", "one_hot"]
