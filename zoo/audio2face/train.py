"""Training: FACEGOOD-layout clips → a trained Audio2Face model directory.

``train(config, data_dir, workdir)`` reads the clips, holds out whole clips for validation,
computes the features once (cached under ``workdir/features``, keyed by the feature config),
and runs ``config.epochs`` epochs of true consecutive-frame pairs (``zoo.datasets.pair_dataset``).
Each epoch ends with a checkpoint (``workdir/checkpoints``) and a validation pass; a killed run
resumes from the last checkpoint and, with the same seed, ends with the same weights as an
uninterrupted one. TensorBoard logs go to ``workdir/tensorboard``. The result is
``workdir/model/``: config.json, model.weights.h5, metadata.json (+ emotion_database.npy).
"""
from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.datasets import Clip, FeatureCache, atomic_write_bytes, read_facegood, split_by_clip

from . import features as feats
from .config import Config
from .metrics import evaluate_predictions
from .rig import varying_channels

log = logging.getLogger(__name__)

FEATURE_VERSION = 1  # bump when the feature code changes its numbers


def feature_cache_config(config: Config) -> dict:
    return {"model": "audio2face", "feature": config.feature, "version": FEATURE_VERSION,
            "sample_rate": feats.SAMPLE_RATE, "fps": feats.FPS, "window": feats.WINDOW}


def clip_features(clip: Clip, config: Config, cache_dir: str | os.PathLike | None = None) -> np.ndarray:
    """(frames, 32, 64, 1) float32 features of ``clip`` (one row per target frame)."""

    def compute(c: Clip) -> np.ndarray:
        audio = feats.prepare_audio(c.audio, c.sample_rate)
        return feats.frame_features(audio, c.num_frames, config.feature).astype(np.float32)

    if cache_dir is None:
        return compute(clip)
    return FeatureCache(cache_dir, feature_cache_config(config)).get_or_compute(clip, compute)


def resolve_channels(config: Config, clips: Sequence[Clip]) -> Config:
    """``config`` with ``output_names`` set: the preset's, or every channel that varies in ``clips``."""
    names = clips[0].channel_names
    if config.output_names:
        missing = [n for n in config.output_names if n not in names]
        if missing:
            raise ValueError(f"{clips[0].source}: the data has no channels {missing[:5]} "
                             f"(of {len(missing)}) that preset {config.preset!r} predicts; "
                             "pass output_names=() to use the data's varying channels")
        return config
    stacked = np.concatenate([c.targets for c in clips])
    chosen = varying_channels(stacked, names)
    if not chosen:
        raise ValueError(f"{clips[0].source}: no target channel varies in the training clips")
    return config.replace(output_names=tuple(chosen))


def select_targets(clips: Sequence[Clip], names: Sequence[str]) -> list[Clip]:
    """Clips whose targets hold only ``names``, in that order."""
    out = []
    for clip in clips:
        index = [clip.channel_names.index(n) for n in names]
        out.append(clip.replace(targets=clip.targets[:, index], channel_names=tuple(names)))
    return out


def thin_silent_frames(clip: Clip) -> np.ndarray:
    """FACEGOOD's ``drop_half_silent_frames``: every other all-zero target frame removed.

    Returns kept frame indices; pairs are still (t, t+1) of the kept sequence, as the original.
    """
    silent = np.flatnonzero(np.all(clip.targets == 0, axis=1))
    keep = np.ones(clip.num_frames, bool)
    keep[silent[1::2]] = False
    return np.flatnonzero(keep)


def learning_rate_schedule(config: Config, steps_per_epoch: int):
    import keras
    import tensorflow as tf

    @keras.saving.register_keras_serializable(package="zoo.audio2face")
    class Schedule(keras.optimizers.schedules.LearningRateSchedule):
        """``paper``: geometric ramp-up over epoch 1 (peak/1000 → peak), then peak/√epoch, and a
        half-cosine ramp-down to 0 over the last ``rampdown_epochs`` (at most 30 % of the run).
        ``staircase``: peak · decay_rate^floor(step / (decay_epochs · steps_per_epoch)).
        """

        def __call__(self, step):
            step = tf.cast(step, tf.float32)
            epoch = step / float(steps_per_epoch)
            peak = config.learning_rate
            if config.schedule == "constant":
                return tf.fill([], peak)
            if config.schedule == "staircase":
                return peak * tf.pow(config.decay_rate, tf.floor(epoch / float(config.decay_epochs)))
            ramp_up = tf.pow(1000.0, tf.minimum(epoch, 1.0) - 1.0)
            decay = tf.math.rsqrt(tf.maximum(epoch, 1.0))
            down_epochs = max(min(float(config.rampdown_epochs), 0.3 * config.epochs), 1e-6)
            down = tf.clip_by_value((config.epochs - epoch) / down_epochs, 0.0, 1.0)
            ramp_down = 0.5 - 0.5 * tf.cos(math.pi * down)
            return peak * ramp_up * decay * ramp_down

        def get_config(self):
            return {}

    return Schedule()


def _write_model_dir(dest: Path, model, config: Config, metadata: dict, database: np.ndarray | None) -> None:
    """Write the model directory atomically (staging folder, then rename)."""
    staging = dest.parent / f".{dest.name}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        (staging / "config.json").write_text(config.to_json())
        model.save_weights(str(staging / "model.weights.h5"))
        if database is not None:
            np.save(staging / "emotion_database.npy", database.astype(np.float32), allow_pickle=False)
        (staging / "metadata.json").write_text(json.dumps(metadata, indent=1))
        old = None
        if dest.exists():
            old = dest.parent / f".{dest.name}-old-{uuid.uuid4().hex[:8]}"
            os.replace(dest, old)
        os.replace(staging, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@dataclass
class TrainingState:
    """The trained objects of one run: model, Adam, the loss normalizer, the emotion database (paper preset)."""

    config: Config
    model: object
    optimizer: object
    normalizer: object
    database: object = None

    @classmethod
    def create(cls, config: Config, num_frames: int, steps_per_epoch: int,
               train_features: Sequence[np.ndarray]) -> TrainingState:
        """Fresh objects for ``config`` (call inside a ``tf.distribute`` strategy scope): the database has one
        N(0, σ²) vector per training frame; ``input_norm`` statistics come from ``train_features``."""
        import keras
        import tensorflow as tf

        from .losses import LossNormalizer
        from .model import Audio2Face

        model = Audio2Face(config)
        optimizer = keras.optimizers.Adam(
            learning_rate_schedule(config, steps_per_epoch), beta_1=config.adam_beta1,
            beta_2=config.adam_beta2, epsilon=config.adam_epsilon)
        database = None
        if config.has_emotion_input:
            init = np.random.default_rng(config.seed).normal(0, config.emotion_init_std,
                                                              (num_frames, config.emotion_dim))
            database = tf.Variable(init.astype(np.float32), name="emotion_database")
        normalizer = LossNormalizer(beta=config.norm_beta, epsilon=config.norm_epsilon,
                                    enabled=config.normalization == "running")
        if config.input_norm:
            stacked = np.concatenate(train_features)[..., 0]  # (frames, 32, 64)
            model.get_layer("input_norm").set_statistics(stacked.mean(axis=(0, 2)), stacked.std(axis=(0, 2)))
        state = cls(config, model, optimizer, normalizer, database)
        optimizer.build(state.variables)
        return state

    @property
    def variables(self) -> list:
        """What the optimiser updates: the model's trainable weights and the database."""
        return list(self.model.trainable_variables) + ([self.database] if self.database is not None else [])

    def step(self, feature_tf=None, mode: str = "function"):
        """One optimisation step, ``step(batch) → (loss, {position, motion, emotion} batch means)``.

        ``batch`` holds ``features`` (or ``audio`` windows when ``feature_tf`` computes the features in the
        step), ``targets`` and ``index`` (database rows). ``mode``: ``"function"`` (a ``tf.function`` graph,
        what ``train`` uses), ``"eager"`` (op by op) or ``"xla"`` (``tf.function(jit_compile=True)``);
        ``benchmarks/bench_audio2face.py`` times the three.
        """
        import tensorflow as tf

        from .losses import EMOTION_TERMS, motion_terms, position_terms, total_loss

        if mode not in ("function", "eager", "xla"):
            raise ValueError(f"mode must be 'function', 'eager' or 'xla'; got {mode!r}")
        config, model, database, variables = self.config, self.model, self.database, self.variables
        emotion_terms = EMOTION_TERMS[config.emotion]
        train_model = None if database is not None else model.training_model()

        def step(batch):
            x = feature_tf(batch["audio"]) if feature_tf is not None else batch["features"]
            y = batch["targets"]
            with tf.GradientTape() as tape:
                if database is not None:
                    e = tf.gather(database, batch["index"])
                    pred = model([x, e], training=True)
                    r = emotion_terms(e)
                else:
                    pred, emap = train_model(x, training=True)
                    r = emotion_terms(emap)
                per_example = {"position": position_terms(y, pred), "motion": motion_terms(y, pred), "emotion": r}
                terms = self.normalizer(per_example)
                loss = total_loss(config, terms)
            grads = tape.gradient(loss, variables)
            self.optimizer.apply_gradients(zip(grads, variables))
            return loss, {k: tf.reduce_mean(v) for k, v in per_example.items()}

        if mode == "eager":
            return step
        return tf.function(step, reduce_retracing=True, jit_compile=mode == "xla")


def train(
    config: Config,
    data: str | os.PathLike | Sequence[Clip],
    workdir: str | os.PathLike,
    *,
    val_clips: Sequence[str] | None = None,
    val_fraction: float = 0.2,
    names_file: str | os.PathLike | None = None,
    max_minutes: float | None = None,
    progress: bool = True,
    strategy=None,
) -> dict:
    """Train ``config`` on a FACEGOOD-layout folder (or Clips); returns the run summary.

    Args:
        config: hyperparameters (``PRESETS[...]``); ``output_names=()`` takes the varying channels.
        data: a FACEGOOD-layout folder (``wav/``, ``bs_value/``, a name file) or Clips.
        workdir: checkpoints, TensorBoard logs, the feature cache and the final ``model/``.
        val_clips: clip names held out for validation (default: ``val_fraction`` of the clips,
            at least one, chosen with the seed).
        max_minutes: wall-clock budget: training stops when the next epoch, if it took as long as
            the last one, would end past it (the model is written as trained so far).
        strategy: a ``tf.distribute`` strategy (default: the default strategy).
    """
    import keras
    import tensorflow as tf

    from zoo.datasets import FrameTable, pair_dataset

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    strategy = strategy or tf.distribute.get_strategy()

    clips = list(data) if not isinstance(data, (str, os.PathLike)) else read_facegood(data, names_file=names_file)
    if len(clips) < 2:
        raise ValueError(f"{len(clips)} clip(s): at least 2 are needed (one is held out for validation)")
    if val_clips:
        unknown = sorted(set(val_clips) - {c.name for c in clips})
        if unknown:
            raise ValueError(f"validation clips {unknown} are not in the data ({len(clips)} clips)")
        train_clips = [c for c in clips if c.name not in set(val_clips)]
        held_out = [c for c in clips if c.name in set(val_clips)]
    else:
        train_clips, held_out, _ = split_by_clip(clips, val=val_fraction, test=0.0, seed=config.seed)
    config = resolve_channels(config, train_clips)
    train_clips = select_targets(train_clips, config.output_names)
    held_out = select_targets(held_out, config.output_names)

    cache = workdir / "features"
    train_features = [clip_features(c, config, cache) for c in train_clips]
    val_features = [clip_features(c, config, cache) for c in held_out]
    if config.drop_half_silent_frames:
        kept = [thin_silent_frames(c) for c in train_clips]
        train_clips = [c.replace(targets=c.targets[k], audio=None, sample_rate=None) for c, k in zip(train_clips, kept)]
        train_features = [f[k] for f, k in zip(train_features, kept)]
    shift = int(round(config.time_shift_frames * feats.SAMPLE_RATE / feats.FPS))
    if shift and config.drop_half_silent_frames:
        raise ValueError("time_shift_frames needs contiguous audio; it cannot be combined with drop_half_silent_frames")
    if shift:
        table = FrameTable(train_clips, max_shift=shift)
    else:
        table = FrameTable(train_clips, features=train_features, audio=False)
    pairs_per_batch = config.batch_size // 2
    steps_per_epoch = len(table.pair_starts) // pairs_per_batch
    if steps_per_epoch == 0:
        raise ValueError(f"{len(table.pair_starts)} frame pairs: fewer than one batch of {pairs_per_batch}")
    mean_pose = np.concatenate([c.targets for c in train_clips]).mean(axis=0)

    with strategy.scope():
        state = TrainingState.create(config, table.num_frames, steps_per_epoch, train_features)
    model, optimizer, normalizer, database = state.model, state.optimizer, state.normalizer, state.database
    epoch_done = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
    # model.variables include the dropout/noise seed states, so a resumed run draws the same masks
    checkpoint = tf.train.Checkpoint(model_variables=list(model.variables), optimizer=optimizer,
                                     normalizer=normalizer, epoch=epoch_done,
                                     **({"database": database} if database is not None else {}))
    manager = tf.train.CheckpointManager(checkpoint, str(workdir / "checkpoints"), max_to_keep=2)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        log.info("resumed from %s (epoch %d)", manager.latest_checkpoint, int(epoch_done.numpy()))
    train_step = state.step(feature_tf=feats.FEATURES_TF[config.feature] if shift else None)

    from .predict import Predictor

    validator = Predictor(model, config)  # batched inference; emotion vectors are passed in explicitly
    writer = tf.summary.create_file_writer(str(workdir / "tensorboard"))
    history_path = workdir / "history.json"
    history = json.loads(history_path.read_text()) if history_path.is_file() and int(epoch_done.numpy()) else []
    history = history[: int(epoch_done.numpy())]
    started = time.perf_counter()
    stopped_early = False
    for epoch in range(int(epoch_done.numpy()), config.epochs):
        # a fresh, epoch-seeded order: a resumed run sees the same batches as an uninterrupted one
        ds = pair_dataset(table, batch_size=config.batch_size, shuffle=True, seed=config.seed + epoch,
                          random_shift=bool(shift))
        bar = keras.utils.Progbar(steps_per_epoch, verbose=1 if progress else 0,
                                  stateful_metrics=["loss", "P", "M", "R"])
        t0 = time.perf_counter()
        sums = {"loss": 0.0, "position": 0.0, "motion": 0.0, "emotion": 0.0}
        for step, batch in enumerate(ds.take(steps_per_epoch)):
            loss, raw = train_step(batch)
            sums["loss"] += float(loss)
            for k in raw:
                sums[k] += float(raw[k])
            bar.update(step + 1, [("loss", float(loss)), ("P", float(raw["position"])),
                                  ("M", float(raw["motion"])), ("R", float(raw["emotion"]))])
        seconds = time.perf_counter() - t0
        epoch_done.assign(epoch + 1)
        t_val = time.perf_counter()
        emotion_val = None if database is None else database.numpy().mean(axis=0)  # the inference default
        val = evaluate_predictions(
            [validator.run(f, _emotion_rows(emotion_val, len(f), config)) for f in val_features],
            [c.targets for c in held_out],
            config.output_names, mean_pose)
        record = {"epoch": epoch + 1, "seconds": round(seconds, 2),
                  "val_seconds": round(time.perf_counter() - t_val, 2),
                  "rows_per_second": round(steps_per_epoch * config.batch_size / seconds, 1),
                  "learning_rate": float(optimizer.learning_rate),
                  **{f"train_{k}": v / steps_per_epoch for k, v in sums.items()},
                  **{f"val_{k}": v for k, v in val.summary().items()}}
        history.append(record)
        with writer.as_default(step=epoch + 1):
            for key, value in record.items():
                if key != "epoch" and isinstance(value, float):
                    tf.summary.scalar(key, value)
        manager.save(checkpoint_number=epoch + 1)
        atomic_write_bytes(history_path, json.dumps(history, indent=1).encode())
        log.info("epoch %d/%d: loss %.4g, val MSE %.4g (mean pose %.4g), mouth r %.3f, %.0f rows/s", epoch + 1,
                 config.epochs, record["train_loss"], record["val_mse"], record["val_mse_mean_pose"],
                 record["val_mouth_r"], record["rows_per_second"])
        # stop when the next epoch (as long as this one) would end past the budget
        elapsed = time.perf_counter() - started
        if max_minutes is not None and elapsed + (time.perf_counter() - t0) > 60 * max_minutes:
            stopped_early = epoch + 1 < config.epochs
            break
    writer.flush()

    db = None if database is None else database.numpy()
    summary = {
        "model": "audio2face", "preset": config.preset, "epochs_trained": int(epoch_done.numpy()),
        "epochs_planned": config.epochs,
        "stopped_by_budget": stopped_early,
        "train_clips": [c.name for c in train_clips], "val_clips": [c.name for c in held_out],
        "train_frames": table.num_frames, "output_names": list(config.output_names),
        "mean_pose": mean_pose.tolist(), "history": history,
        "val": history[-1] if history else None,
        "sample_rate": feats.SAMPLE_RATE, "fps": feats.FPS, "window_seconds": feats.WINDOW / feats.SAMPLE_RATE,
        "lookahead_seconds": feats.LOOKAHEAD / feats.SAMPLE_RATE,
        "feature": config.feature, "params": int(model.count_params()),
    }
    _write_model_dir(workdir / "model", model, config, summary, db)
    return summary


def _emotion_rows(emotion: np.ndarray | None, rows: int, config: Config) -> np.ndarray:
    """(rows, E) copies of ``emotion``, or (rows, 0) for presets without an emotion input."""
    if emotion is None:
        return np.zeros((rows, 0), np.float32)
    return np.broadcast_to(emotion, (rows, config.emotion_dim)).astype(np.float32)
