"""Training of Aud2Repr2Pose on a gesture-layout folder (speech/audio{id}.wav + motion/gesture{id}.bvh), on
``zoo.core``'s trainer (spec §1–§3).

What is this model's lives here: the split by file, the speech features per take (cached under
``workdir/features``), the two stages and their validation. Checkpoints, resume, strategies, the budget,
TensorBoard and history are the trainer's.

* **Split by file** (``split_ids``): test ids are never read (their ids are recorded). Default test ids: the
  original split's (even ids 1092…1182) present in the folder. Validation: ``val_ids``; else the original's dev ids
  (odd 1093…1181) present; else a seeded ``validation_fraction`` of the training files. The original validated
  SpeechE on a random 10 % of overlapping windows of the training takes, which leaks (spec §10.5): fixed.
* **Takes** (``load_takes``): audio resampled to ``config.sample_rate``, features ``features.features(kind,
  nfft=config.mfcc_nfft)`` at 20 fps; motion at 20 fps by the original's frame dropping, its positions by FK with the
  root fixed at its offset; features and motion cut to their common length from the start (the original's rule).
  Targets: ``motion.with_velocity`` of the positions (384 values), or the exp-maps of ``motion.ROTATION_JOINTS``
  (39 values; ``config.output_dim`` is set to the representation's width).
* **Stage 1, the DAE** (target "code" only; its own trainer run in ``workdir/dae``, or the weights of ``dae_dir`` =
  such a folder): normalisation statistics of the training frames (``model.dae_statistics``), Adam
  (``dae_learning_rate``), batches of ``dae_batch_size`` frames, ``dae_epochs`` epochs; after every epoch the
  validation reconstruction loss mean((x̂ − Ŷ)·max)² (no noise, no dropout), and the original's rule: stop when
  (new − best)/best > ``dae_stop_threshold`` (``losses.dae_should_stop``); the best epoch is kept. Then every take's
  frames are encoded one by one (T codes for T frames).
* **Stage 2, SpeechE** (the output layer's bias starts at the training targets' mean, ``output_bias="mean"``; the
  original's zeros with ``"zeros"``; with ``standardize_targets`` SpeechE learns per-dimension standardised targets
  and the scaling is folded into its output layer at the end): 61-frame windows (``FrameTable(context=(30, 30),
  pad=silence_vector)``, cut per batch, never materialised) → the pose (baseline) or the code (proposed), MSE,
  Adam(lr, β1, β2, ε), global batch ``config.batch_size`` capped at the number of training windows (incomplete last
  batches are dropped: a constant batch shape), ``epochs`` epochs. Validation after every epoch on the validation
  files: ``loss`` (MSE in the target space, monitored: the best epoch is restored), ``pose_mse`` (in the 384/39-value
  pose space, decoded) and, for positions, ``ape_cm`` (mean node position error). The budget covers both stages.

Result: ``workdir/model/`` (``zoo.core.modeldir``): config.json, one model.weights.h5 (SpeechE + the DAE),
metadata.json (schema + the skeleton, representation, split ids, histories), ``mean_pose.npy`` (the training
frames' mean positions, cm: the mean-pose baseline) [+ ``base_values.npy``: the training mean of every BVH channel,
for the rotation representation].
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.core.modeldir import write_model_dir
from zoo.core.trainer import Trainer, global_batch_loss, make_strategy
from zoo.datasets import Clip, DataError, FeatureCache, read_bvh, to_fps
from zoo.datasets.gesture import gesture_ids, gesture_paths, original_split, read_gesture_clip

from . import features as feats
from . import motion as mo
from .config import Config
from .predict import BASE_VALUES, MEAN_POSE, build_network, in_batches, metadata_of

log = logging.getLogger(__name__)

FEATURE_VERSION = 1  # bump when the feature code changes its output
DAE_WEIGHTS = "dae.weights.h5"  # the trained DAE in WORKDIR/dae (what ``dae_dir`` reuses)
_PREDICT_BATCH = 1024


@dataclass
class Take:
    """One file pair at 20 fps, cut to the common length T of features and motion."""

    id: int
    source: str
    features: np.ndarray  # (T, D) float32
    positions: np.ndarray  # (T, 3N) float32, cm, root fixed
    targets: np.ndarray  # (T, output_dim) float32 in the model's representation
    values: np.ndarray | None = None  # (T, C) BVH channel values (rotation representation only)


def split_ids(ids: Sequence[int], *, val_ids: Sequence[int] | None = None, test_ids: Sequence[int] | None = None,
              validation_fraction: float = 0.1, seed: int = 0) -> tuple[list[int], list[int], list[int]]:
    """(train, validation, test) ids by file (module docstring). A ValueError names an id that is not in ``ids``,
    one in both validation and test, or a split that leaves no training file."""
    ids = sorted({int(i) for i in ids})
    known = set(ids)
    for name, given in (("validation", val_ids), ("test", test_ids)):
        missing = sorted({int(i) for i in given or ()} - known)
        if missing:
            raise ValueError(f"{name} ids {missing} are not in the data (it has {len(ids)} takes: {ids[:8]}…)")
    _, dev, original_test = original_split(ids)
    test = sorted({int(i) for i in test_ids}) if test_ids is not None else original_test
    if val_ids is not None:
        val = sorted({int(i) for i in val_ids})
    elif [i for i in dev if i not in test]:
        val = [i for i in dev if i not in test]
    else:
        pool = [i for i in ids if i not in test]
        count = int(round(validation_fraction * len(pool)))
        if validation_fraction > 0 and len(pool) >= 2:
            count = min(max(count, 1), len(pool) - 1)
        rng = np.random.default_rng(seed)
        val = sorted(int(i) for i in rng.choice(pool, size=count, replace=False)) if count else []
    both = sorted(set(val) & set(test))
    if both:
        raise ValueError(f"ids {both} are both validation and test files")
    train = [i for i in ids if i not in set(val) | set(test)]
    if not train:
        raise ValueError(f"no training files are left after the split (validation {val}, test {test})")
    return train, val, test


def clip_features(clip: Clip, config: Config, cache_dir=None) -> np.ndarray:
    """(T, D) float32 features of a Clip's audio (``features.features`` of ``config``), cached under ``cache_dir``
    keyed by the feature configuration and ``FEATURE_VERSION``."""
    def compute(c: Clip) -> np.ndarray:
        return feats.features(c.audio, c.sample_rate, config.features, nfft=config.mfcc_nfft)

    if cache_dir is None:
        return compute(clip)
    key = {"model": "gesture_ae", "features": config.features, "nfft": config.mfcc_nfft, "fps": config.fps,
           "sample_rate": config.sample_rate, "version": FEATURE_VERSION}
    return FeatureCache(cache_dir, key).get_or_compute(clip, compute)


def load_takes(data_dir, ids: Sequence[int], config: Config, skeleton, cache_dir=None) -> list[Take]:
    """The takes ``ids`` of a gesture-layout folder (module docstring); every BVH must have ``skeleton``'s nodes."""
    takes = []
    names = mo.position_names(skeleton)
    for clip_id in ids:
        clip = read_gesture_clip(data_dir, clip_id, fps=config.fps, sample_rate=config.sample_rate,
                                 max_missing_frames=None)
        if clip.channel_names != names:
            raise DataError(clip.source, f"{len(clip.channel_names) // 3} nodes that differ from the skeleton of the "
                                         f"first training file ({skeleton.num_nodes} nodes)")
        features = clip_features(clip, config, cache_dir)
        frames = min(len(features), clip.num_frames)
        if frames < 1:
            raise DataError(clip.source, "no frame in common between the speech features and the motion")
        positions = np.asarray(clip.targets[:frames], np.float32)
        values = None
        if config.representation == "rotations":
            motion = to_fps(read_bvh(gesture_paths(data_dir, clip_id)[1]), config.fps, method="drop")
            values = motion.values[:frames]
            targets = mo.rotation_features(skeleton, values)
        else:
            targets = mo.with_velocity(positions)
        takes.append(Take(int(clip_id), clip.source, np.asarray(features[:frames], np.float32), positions, targets,
                          values))
        log.info("%s: %d frames (%d feature, %d motion)", clip.source, frames, len(features), clip.num_frames)
    return takes


def _clip(take: Take, targets: np.ndarray, fps: float) -> Clip:
    """A Clip without audio holding ``targets`` (what ``FrameTable`` reads), named after the take's BVH."""
    return Clip(None, None, targets, fps, "joints3d", tuple(f"y{k}" for k in range(targets.shape[1])),
                source=take.source)


def _predict(call, table, dim: int) -> np.ndarray:
    """(frames, dim) outputs of ``call`` (a model's inference function) on every window of ``table``, in order."""
    from zoo.datasets.tfdata import window_dataset

    out = [call(b["features"]).numpy() for b in window_dataset(table, batch_size=_PREDICT_BATCH)]
    return np.concatenate(out) if out else np.zeros((0, dim), np.float32)


def _save_weights_atomically(model, path: Path) -> None:
    staging = path.with_name(f".{path.name[: -len('.weights.h5')]}-{os.getpid()}.weights.h5")
    model.save_weights(str(staging))
    os.replace(staging, path)


def train_dae(config: Config, train_poses: np.ndarray, val_poses: np.ndarray | None, workdir, *, strategy,
              progress: bool = True, max_minutes: float | None = None):
    """Stage 1 (module docstring) in ``workdir`` (checkpoints, history, ``dae.weights.h5``); returns (dae, summary)."""
    import keras
    import tensorflow as tf

    from .losses import dae_reconstruction_loss, dae_should_stop, dae_weight_decay
    from .model import build_dae, dae_statistics

    trainer = Trainer(workdir, seed=config.seed, strategy=strategy, progress=progress, max_minutes=max_minutes)
    with trainer.scope():
        dae = build_dae(config, dae_statistics(train_poses))
        optimizer = keras.optimizers.Adam(config.dae_learning_rate)
        optimizer.build(dae.trainable_variables)
    batch = min(config.dae_batch_size, len(train_poses))
    poses = tf.constant(train_poses)

    def dataset(epoch: int):
        order = tf.data.Dataset.range(len(train_poses)).shuffle(len(train_poses), seed=config.seed + epoch)
        return order.batch(batch, drop_remainder=True).map(lambda i: tf.gather(poses, i)).prefetch(2)

    def step(y):
        with tf.GradientTape() as tape:
            reconstruction = dae_reconstruction_loss(dae, y, training=True)
            loss = reconstruction + dae_weight_decay(dae)
            share = global_batch_loss(loss)
        grads = tape.gradient(share, dae.trainable_variables)
        optimizer.apply_gradients(zip(grads, dae.trainable_variables))
        return {"loss": loss, "reconstruction": reconstruction}

    evaluate = tf.function(lambda y: dae_reconstruction_loss(dae, y, training=False) * tf.cast(tf.shape(y)[0],
                                                                                                 tf.float32))

    def validate(epoch: int) -> dict:
        if val_poses is None:
            return {}
        total = sum(float(evaluate(val_poses[i:i + 4096])) for i in range(0, len(val_poses), 4096))
        return {"loss": total / len(val_poses)}

    def rule(history) -> bool:
        return dae_should_stop([r["val_loss"] for r in history], config.dae_stop_threshold)

    watched = val_poses is not None and len(val_poses) > 0
    result = trainer.fit({"dae_variables": list(dae.variables), "optimizer": optimizer}, epochs=config.dae_epochs,
                         steps_per_epoch=len(train_poses) // batch, dataset=dataset, step=step, validate=validate,
                         rows_per_step=batch, monitor="loss" if watched else None,
                         stop_when=rule if watched and config.dae_early_stopping else None)
    if trainer.is_chief:
        _save_weights_atomically(dae, Path(workdir) / DAE_WEIGHTS)
    summary = {"epochs_trained": result.epochs_trained, "best_epoch": result.best_epoch,
               "stopped_early": result.stopped_early, "stopped_by_budget": result.stopped_by_budget,
               "batch_size_used": batch, "history": result.history, "from": None}
    return dae, summary


def load_dae(config: Config, dae_dir) -> object:
    """The DAE of ``config`` with the weights (statistics included) of ``dae_dir/dae.weights.h5``."""
    from zoo.core.modeldir import ModelDirError

    from .model import build_dae

    path = Path(dae_dir) / DAE_WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no trained DAE (dae_dir is the WORKDIR/dae folder of a proposed run)")
    dae = build_dae(config)
    try:
        dae.load_weights(str(path))
    except ValueError as exc:
        raise ModelDirError(f"{path}: the DAE does not fit output_dim={config.output_dim}, "
                            f"code_dim={config.code_dim} ({str(exc).splitlines()[0][:200]})") from None
    return dae


def train(config: Config, data_dir: str | os.PathLike, workdir: str | os.PathLike, *,
          val_ids: Sequence[int] | None = None, test_ids: Sequence[int] | None = None,
          budget_minutes: float | None = None, strategy=None, epochs: int | None = None, seed: int | None = None,
          dae_dir: str | os.PathLike | None = None, progress: bool = True, cpu_devices: int | None = None) -> dict:
    """Train ``config`` on the gesture-layout folder ``data_dir`` into ``workdir`` (module docstring); rerun with the
    same ``workdir`` to resume. ``epochs``/``seed`` override the config's. Returns the run summary (also the model
    directory's metadata)."""
    import keras
    import tensorflow as tf

    from zoo.datasets.tfdata import FrameTable, window_dataset

    from .losses import speech_loss
    from .model import build_speech_encoder

    started = time.perf_counter()
    strategy_object = make_strategy(strategy, cpu_devices)  # once: both stages' trainers share it
    overrides = {k: v for k, v in (("epochs", epochs), ("seed", seed)) if v is not None}
    config = config.replace(**overrides) if overrides else config
    workdir = Path(workdir)
    train_list, val_list, test_list = split_ids(gesture_ids(data_dir), val_ids=val_ids, test_ids=test_ids,
                                                validation_fraction=config.validation_fraction, seed=config.seed)
    log.info("split by file: %d train, %d validation, %d test (never read) takes", len(train_list), len(val_list),
             len(test_list))
    skeleton = read_bvh(gesture_paths(data_dir, train_list[0])[1]).skeleton
    width = (3 * len(mo.ROTATION_JOINTS) if config.representation == "rotations"
             else mo.VALUES_PER_NODE * skeleton.num_nodes)
    if width != config.output_dim:
        log.info("output_dim %d → %d: the %s representation of this skeleton", config.output_dim, width,
                 config.representation)
        config = config.replace(output_dim=width)
    chief = strategy_object.extended.should_checkpoint
    cache = workdir / "features" if chief else None
    train_takes = load_takes(data_dir, train_list, config, skeleton, cache)
    val_takes = load_takes(data_dir, val_list, config, skeleton, cache)
    train_poses = np.concatenate([t.targets for t in train_takes])
    val_poses = np.concatenate([t.targets for t in val_takes]) if val_takes else None

    dae, dae_summary = None, None
    if config.target == "code":
        if dae_dir is not None:
            dae, dae_summary = load_dae(config, dae_dir), {"from": str(dae_dir)}
        else:
            dae, dae_summary = train_dae(config, train_poses, val_poses, workdir / "dae", strategy=strategy_object,
                                         progress=progress, max_minutes=budget_minutes)
        encode = dae.encode
        speech_targets = [in_batches(encode, t.targets) for t in train_takes]
        val_targets = [in_batches(encode, t.targets) for t in val_takes]
    else:
        speech_targets, val_targets = [t.targets for t in train_takes], [t.targets for t in val_takes]

    scale = None  # (mean, std) of standardised targets (config.standardize_targets)
    if config.standardize_targets:
        stacked = np.concatenate(speech_targets)
        mean, std = stacked.mean(axis=0), stacked.std(axis=0)
        scale = (mean, np.where(std > 1e-6, std, 1.0).astype(np.float32))
        speech_targets = [(y - scale[0]) / scale[1] for y in speech_targets]

    remaining = None if budget_minutes is None else max(budget_minutes - (time.perf_counter() - started) / 60, 0.0)
    trainer = Trainer(workdir, seed=config.seed, strategy=strategy_object, progress=progress, max_minutes=remaining)
    with trainer.scope():
        speech = build_speech_encoder(config)
        optimizer = keras.optimizers.Adam(config.learning_rate, beta_1=config.adam_beta1, beta_2=config.adam_beta2,
                                          epsilon=config.adam_epsilon)
        optimizer.build(speech.trainable_variables)
        if config.output_bias == "mean" and scale is None:  # raw positions sit ~60 cm from zero (spec §10.4)
            speech.get_layer(config.target).bias.assign(np.concatenate(speech_targets).mean(axis=0))
    context, pad = (config.context, config.context), feats.silence_vector(config.features)
    table = FrameTable([_clip(t, y, config.fps) for t, y in zip(train_takes, speech_targets)], None, audio=False,
                       features=[t.features for t in train_takes], context=context, pad=pad)
    val_table = (FrameTable([_clip(t, y, config.fps) for t, y in zip(val_takes, val_targets)], None, audio=False,
                            features=[t.features for t in val_takes], context=context, pad=pad)
                 if val_takes else None)
    batch = min(config.batch_size, table.num_frames)

    def dataset(epoch: int):
        return window_dataset(table, batch_size=batch, shuffle=True, seed=config.seed + epoch, drop_remainder=True)

    def step(batch_):
        with tf.GradientTape() as tape:
            loss = speech_loss(batch_["targets"], speech(batch_["features"], training=True))
            share = global_batch_loss(loss)
        grads = tape.gradient(share, speech.trainable_variables)
        optimizer.apply_gradients(zip(grads, speech.trainable_variables))
        return {"loss": loss}

    val_y = np.concatenate(val_targets) if val_takes else None
    infer = tf.function(lambda x: speech(x, training=False), reduce_retracing=True)
    val_positions = np.concatenate([t.positions for t in val_takes]) if val_takes else None

    def validate(epoch: int) -> dict:
        if val_table is None:
            return {}
        out = _predict(infer, val_table, config.speech_output_dim)
        if scale is not None:
            out = out * scale[1] + scale[0]
        numbers = {"loss": float(np.mean((out - val_y) ** 2))}
        poses = in_batches(dae.decode, out) if dae is not None else out
        numbers["pose_mse"] = float(np.mean((poses - val_poses) ** 2))
        if config.representation == "positions":
            error = (mo.remove_velocity(poses) - val_positions).reshape(len(poses), -1, 3)
            numbers["ape_cm"] = float(np.linalg.norm(error, axis=-1).mean())
        return numbers

    result = trainer.fit({"model_variables": list(speech.variables), "optimizer": optimizer}, epochs=config.epochs,
                         steps_per_epoch=table.num_frames // batch, dataset=dataset, step=step, validate=validate,
                         rows_per_step=batch, monitor="loss" if val_takes else None)
    summary = {
        **metadata_of(config, skeleton), "epochs_trained": result.epochs_trained, "epochs_planned": config.epochs,
        "best_epoch": result.best_epoch, "stopped_by_budget": result.stopped_by_budget,
        "stopped_early": result.stopped_early, "strategy": str(strategy or "default"), "replicas": trainer.replicas,
        "chief": trainer.is_chief, "train_ids": train_list, "val_ids": val_list, "test_ids": test_list,
        "train_frames": int(table.num_frames), "val_frames": int(val_table.num_frames) if val_table else 0,
        "batch_size_used": batch, "feature_version": FEATURE_VERSION, "history": result.history,
        "val": result.history[(result.best_epoch or result.epochs_trained) - 1] if result.history else None,
        "dae": dae_summary, "params": int(speech.count_params()), "state_sha256": result.state_sha256,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if scale is not None:  # fold the standardisation into the output layer: the network predicts raw targets
        layer = speech.get_layer(config.target)
        layer.kernel.assign(layer.kernel.numpy() * scale[1][None, :])
        layer.bias.assign(layer.bias.numpy() * scale[1] + scale[0])
    if trainer.is_chief:
        positions = np.concatenate([t.positions for t in train_takes])
        arrays = {MEAN_POSE: positions.mean(axis=0, dtype=np.float64).astype(np.float32)}
        if config.representation == "rotations":
            arrays[BASE_VALUES] = np.concatenate([t.values for t in train_takes]).mean(axis=0)
        write_model_dir(workdir / "model", config=config.to_dict(), model=build_network(config, speech, dae),
                        metadata=summary, arrays=arrays)
    return summary


__all__ = ["train", "train_dae", "load_dae", "split_ids", "load_takes", "clip_features", "Take", "FEATURE_VERSION",
           "DAE_WEIGHTS"]
