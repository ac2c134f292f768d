"""Training of Audio2Face: FACEGOOD-layout clips → a model directory, on ``zoo.core``'s trainer.

This module holds what is Karras/FACEGOOD's: the features (cached under ``workdir/features``,
keyed by the feature config), the learning-rate schedules, the train step on true consecutive-frame
pairs (P + M + R, optionally normalised) and the validation on held-out clips. Checkpoints, resume,
strategies, budget, TensorBoard and history are the trainer's (``zoo.core.trainer``). The result is
``workdir/model/``: config.json, model.weights.h5, metadata.json (+ emotion_database.npy).
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from zoo.core.modeldir import write_model_dir
from zoo.core.trainer import Trainer, global_batch_loss
from zoo.datasets import Clip, read_facegood, split_by_clip, split_by_name

from . import features as feats
from .config import Config
from .metrics import evaluate_predictions
from .predict import Predictor, metadata_of
from .rig import output_channels


def thin_silent_frames(clip: Clip) -> np.ndarray:
    """FACEGOOD's ``drop_half_silent_frames``: kept frame indices, every other all-zero target frame removed
    (pairs are still (t, t+1) of the kept sequence, as the original)."""
    silent = np.flatnonzero(np.all(clip.targets == 0, axis=1))
    keep = np.ones(clip.num_frames, bool)
    keep[silent[1::2]] = False
    return np.flatnonzero(keep)


def learning_rate_schedule(config: Config, steps_per_epoch: int):
    import keras
    import tensorflow as tf

    @keras.saving.register_keras_serializable(package="zoo.audio2face")
    class Schedule(keras.optimizers.schedules.LearningRateSchedule):
        """``paper``: geometric ramp-up over epoch 1 (peak/1000 → peak), then peak/√epoch, and a half-cosine
        ramp-down to 0 over the last ``rampdown_epochs`` (≤ 30 % of the run); ``staircase``: peak ·
        decay_rate^floor(epoch / decay_epochs); ``constant``: peak."""

        def __call__(self, step):
            epoch = tf.cast(step, tf.float32) / float(steps_per_epoch)
            peak = config.learning_rate
            if config.schedule == "constant":
                return tf.fill([], peak)
            if config.schedule == "staircase":
                return peak * tf.pow(config.decay_rate, tf.floor(epoch / float(config.decay_epochs)))
            down_epochs = max(min(float(config.rampdown_epochs), 0.3 * config.epochs), 1e-6)
            down = tf.clip_by_value((config.epochs - epoch) / down_epochs, 0.0, 1.0)
            return (peak * tf.pow(1000.0, tf.minimum(epoch, 1.0) - 1.0) * tf.math.rsqrt(tf.maximum(epoch, 1.0))
                    * (0.5 - 0.5 * tf.cos(math.pi * down)))

        def get_config(self):
            return {}

    return Schedule()


def perturb_audio(config: Config, windows, rng):
    """The paper's audio augmentation on (P, 2, S) pair windows, one draw per pair (both frames alike):
    resampling about the centre c = (S − 1)/2 by ρ = 2^(u/12), u ~ U(−p, p) semitones (x'[i] = x(c + ρ(i − c)),
    linear interpolation, clamped at the ends), gain 10^(U(−g, g)/20), then white noise at U(s, s + 20) dB
    below the window's RMS. ``rng``: a checkpointed ``tf.random.Generator`` (exact resume)."""
    import tensorflow as tf

    pairs, length = tf.shape(windows)[0], windows.shape[-1]
    draw = lambda low, high: rng.uniform([pairs, 1, 1], low, high)  # noqa: E731
    if config.pitch_semitones:
        centre = (length - 1) / 2.0
        rho = tf.pow(2.0, draw(-config.pitch_semitones, config.pitch_semitones) / 12.0)
        where = tf.clip_by_value(centre + rho * (tf.range(length, dtype=tf.float32) - centre), 0.0, length - 1.0)
        left = tf.broadcast_to(tf.minimum(tf.cast(tf.floor(where), tf.int32), length - 2), tf.shape(windows))
        frac = where - tf.cast(left, tf.float32)
        lo = tf.gather(windows, left, batch_dims=2)
        hi = tf.gather(windows, left + 1, batch_dims=2)
        windows = lo + frac * (hi - lo)
    if config.gain_db:
        windows = windows * tf.pow(10.0, draw(-config.gain_db, config.gain_db) / 20.0)
    if config.noise_snr_db:
        rms = tf.sqrt(tf.reduce_mean(tf.square(windows), axis=-1, keepdims=True) + 1e-12)
        snr = draw(config.noise_snr_db, config.noise_snr_db + 20.0)
        windows = windows + rms * tf.pow(10.0, -snr / 20.0) * rng.normal(tf.shape(windows))
    return windows


@dataclass
class TrainingState:
    """The trained objects of one run: model, Adam, the loss normalizer, the emotion database (paper preset)."""

    config: Config
    model: object
    optimizer: object
    normalizer: object
    database: object = None
    feature_tf: object = None  # windows → features in TF when batches carry audio (time-shift augmentation)
    with_emotion_map: object = None  # the model with its emotion map as a second output (FACEGOOD presets)
    rng: object = None  # the audio augmentation's random generator

    @classmethod
    def create(cls, config: Config, num_frames: int, steps_per_epoch: int, train_features: Sequence[np.ndarray],
               feature_tf=None) -> TrainingState:
        """Fresh objects for ``config`` (call inside the trainer's scope): the database has one N(0, σ²) vector
        per training frame; ``input_norm`` statistics come from ``train_features``."""
        import keras
        import tensorflow as tf

        from .losses import LossNormalizer
        from .model import Audio2Face

        model = Audio2Face(config)
        optimizer = keras.optimizers.Adam(learning_rate_schedule(config, steps_per_epoch), beta_1=config.adam_beta1,
                                          beta_2=config.adam_beta2, epsilon=config.adam_epsilon)
        database = None
        if config.has_emotion_input:
            rng = np.random.default_rng(config.seed)
            init = rng.normal(0, config.emotion_init_std, (num_frames, config.emotion_dim))
            database = tf.Variable(init.astype(np.float32), name="emotion_database")
        normalizer = LossNormalizer(beta=config.norm_beta, epsilon=config.norm_epsilon,
                                    enabled=config.normalization == "running")
        if config.input_norm:
            stacked = np.concatenate(train_features)[..., 0]  # (frames, 32, 64)
            model.get_layer("input_norm").set_statistics(stacked.mean(axis=(0, 2)), stacked.std(axis=(0, 2)))
        state = cls(config, model, optimizer, normalizer, database, feature_tf,
                    None if config.has_emotion_input else model.training_model(),
                    tf.random.Generator.from_seed(config.seed) if feature_tf is not None else None)
        optimizer.build(state.variables)
        return state

    @property
    def variables(self) -> list:
        """What the optimiser updates: the model's trainable weights and the database."""
        return list(self.model.trainable_variables) + ([self.database] if self.database is not None else [])

    def checkpointed(self) -> dict:
        """The trainer's checkpoint: model.variables include the dropout/noise seed states (exact resume)."""
        return {"model_variables": list(self.model.variables), "optimizer": self.optimizer,
                "normalizer": self.normalizer, **({"database": self.database} if self.database is not None else {}),
                **({"augmentation_rng": self.rng.state} if self.rng is not None else {})}

    def train_step(self, batch: dict) -> dict:
        """One optimisation step on a batch of pairs stacked on axis 1 ((P, 2, ...): frames t and t+1); returns
        the batch means of the loss and of the raw P, M, R terms."""
        import tensorflow as tf

        from .losses import EMOTION_TERMS, motion_terms, position_terms, total_loss

        if self.feature_tf is not None:
            batch = {**batch, "audio": perturb_audio(self.config, batch["audio"], self.rng)}
        batch = {k: tf.concat(tf.unstack(v, axis=1), axis=0) for k, v in batch.items()}  # rows t…, then t+1…
        x = self.feature_tf(batch["audio"]) if self.feature_tf is not None else batch["features"]
        y = batch["targets"]
        with tf.GradientTape() as tape:
            if self.database is not None:
                e = tf.gather(self.database, batch["index"])
                pred = self.model([x, e], training=True)
            else:
                pred, e = self.with_emotion_map(x, training=True)
            per_example = {"position": position_terms(y, pred), "motion": motion_terms(y, pred),
                           "emotion": EMOTION_TERMS[self.config.emotion](e)}
            loss = total_loss(self.config, self.normalizer(per_example))
            share = global_batch_loss(loss)  # inside the tape: the division is part of what is differentiated
        grads = tape.gradient(share, self.variables)
        self.optimizer.apply_gradients(zip(grads, self.variables))
        return {"loss": loss, **{k: tf.reduce_mean(v) for k, v in per_example.items()}}


def emotion_ranges(clips: Sequence[tuple[str, int]], labels: Mapping[str, str]) -> dict[str, list[list[int]]]:
    """{emotion: [[first, end), …]} of the emotion-database rows, one row per training frame with the clips
    ``[(name, frames), …]`` in training order; every clip needs a label (a ValueError names the first without)."""
    out: dict[str, list[list[int]]] = {}
    start = 0
    for name, frames in clips:
        if not labels.get(name):
            raise ValueError(f"no emotion label for training clip {name!r}")
        spans = out.setdefault(str(labels[name]), [])
        if spans and spans[-1][1] == start:
            spans[-1][1] = start + frames
        else:
            spans.append([start, start + frames])
        start += frames
    return dict(sorted(out.items()))


def train(config: Config, data: str | os.PathLike | Sequence[Clip], workdir: str | os.PathLike, *,
          val_clips: Sequence[str] | None = None, test_clips: Sequence[str] = (), val_fraction: float = 0.2,
          names_file: str | os.PathLike | None = None, max_minutes: float | None = None, progress: bool = True,
          strategy=None, cpu_devices: int | None = None, emotions: Mapping[str, str] | None = None) -> dict:
    """Train ``config`` on a FACEGOOD-layout folder (or Clips) holding out whole clips: ``test_clips`` are
    never read (only their names are recorded), validation is on ``val_clips`` (or ``val_fraction`` of the
    rest, chosen with the seed; ``val_fraction=0``: none, for a final run on train + validation) after every
    epoch, and the epoch of lowest validation MSE is kept (``config.patience`` stops early). Returns the run
    summary (also the model's metadata).
    ``strategy``/``cpu_devices``/``max_minutes``/``progress``: ``zoo.core.trainer.Trainer``.
    ``emotions``: {clip: label} (default: the clips' own ``emotion``, where every training clip has one); the
    paper preset then records which database rows hold which emotion (``emotion_ranges``), so that
    ``predict(emotion="happy")`` works."""
    from zoo.datasets import FrameTable, pair_dataset

    from .features_tf import FEATURES_TF

    trainer = Trainer(workdir, seed=config.seed, strategy=strategy, cpu_devices=cpu_devices, progress=progress,
                      max_minutes=max_minutes)
    clips = list(data) if not isinstance(data, (str, os.PathLike)) else read_facegood(data, names_file=names_file)
    test_clips = list(test_clips)
    if val_clips:
        train_clips, held_out, tested = split_by_name(clips, val_names=val_clips, test_names=test_clips)
    else:
        _, _, tested = split_by_name(clips, test_names=test_clips)
        rest = [c for c in clips if c.name not in set(test_clips)]
        if len(rest) < 2 and val_fraction > 0:
            raise ValueError(f"{len(rest)} clip(s) besides the test clips: at least 2 are needed (one validates)")
        train_clips, held_out, _ = split_by_clip(rest, val=val_fraction, test=0.0, seed=config.seed)
    if config.patience and not held_out:
        raise ValueError("patience (early stopping) needs validation clips")
    config = config.replace(output_names=output_channels(config.output_names, train_clips, config.preset))
    train_clips = [c.with_channels(config.output_names) for c in train_clips]
    held_out = [c.with_channels(config.output_names) for c in held_out]
    cache = trainer.workdir / "features" if trainer.is_chief else None  # other workers write nothing
    train_features = [feats.clip_features(c, config.feature, cache) for c in train_clips]
    val_features = [feats.clip_features(c, config.feature, cache) for c in held_out]
    if config.drop_half_silent_frames:
        kept = [thin_silent_frames(c) for c in train_clips]
        train_clips = [c.replace(targets=c.targets[k], audio=None, sample_rate=None) for c, k in zip(train_clips, kept)]
        train_features = [f[k] for f, k in zip(train_features, kept)]
    shift = int(round(config.time_shift_frames * feats.SAMPLE_RATE / feats.FPS))
    if config.audio_augmentation and config.drop_half_silent_frames:
        raise ValueError("audio augmentation needs contiguous audio: it cannot be combined with "
                         "drop_half_silent_frames")
    table = (FrameTable(train_clips, feats.WINDOW_SPEC, max_shift=shift) if config.audio_augmentation
             else FrameTable(train_clips, None, features=train_features, audio=False))
    steps_per_epoch = len(table.pair_starts) // (config.batch_size // 2)
    if steps_per_epoch == 0:
        raise ValueError(f"{len(table.pair_starts)} frame pairs: fewer than one batch of {config.batch_size // 2}")
    mean_pose = np.concatenate([c.targets for c in train_clips]).mean(axis=0)
    labels = dict(emotions) if emotions is not None else (
        {c.name: c.emotion for c in train_clips} if all(c.emotion for c in train_clips) else None)
    rows_of_emotion = (emotion_ranges([(c.name, len(c.targets)) for c in train_clips], labels)
                       if labels is not None and config.has_emotion_input else None)
    with trainer.scope():
        state = TrainingState.create(config, table.num_frames, steps_per_epoch, train_features,
                                     FEATURES_TF[config.feature] if config.audio_augmentation else None)
    validator = Predictor(state.model, config)

    def dataset(epoch: int):  # a fresh, epoch-seeded order: a resumed run sees the batches of an uninterrupted one
        return pair_dataset(table, batch_size=config.batch_size, shuffle=True, seed=config.seed + epoch,
                            random_shift=bool(shift), stacked=True)

    def validate(epoch: int) -> dict:  # with the inference default: the database's mean emotion
        if not held_out:
            return {}
        validator.database = None if state.database is None else state.database.numpy()
        return evaluate_predictions([validator.run(f, validator.emotion_vectors(None, len(f))) for f in val_features],
                                    [c.targets for c in held_out], config.output_names, mean_pose).summary()

    result = trainer.fit(state.checkpointed(), epochs=config.epochs, steps_per_epoch=steps_per_epoch,
                         dataset=dataset, step=state.train_step, validate=validate, rows_per_step=config.batch_size,
                         monitor="mse" if held_out else None, patience=config.patience)
    summary = {
        **metadata_of(config), "epochs_trained": result.epochs_trained, "epochs_planned": config.epochs,
        "stopped_by_budget": result.stopped_by_budget, "stopped_early": result.stopped_early,
        "best_epoch": result.best_epoch, "strategy": str(strategy or "default"),
        "replicas": trainer.replicas, "chief": trainer.is_chief, "train_clips": [c.name for c in train_clips],
        "val_clips": [c.name for c in held_out], "test_clips": [c.name for c in tested],
        "train_frames": table.num_frames, "mean_pose": mean_pose.tolist(),
        "history": result.history,
        "val": result.history[(result.best_epoch or result.epochs_trained) - 1] if result.history else None,
        "params": int(state.model.count_params()), "state_sha256": result.state_sha256,
        **({"emotions": rows_of_emotion} if rows_of_emotion is not None else {}),
    }
    if trainer.is_chief:
        arrays = {} if state.database is None else {"emotion_database": state.database.numpy()}
        write_model_dir(trainer.workdir / "model", config=config.to_dict(), model=state.model, metadata=summary,
                        arrays=arrays)
    return summary
