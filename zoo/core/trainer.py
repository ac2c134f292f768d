"""One training loop for every model: strategy, determinism, checkpoints, resume, budget, logs.

A model supplies three hooks and its trackable state; the trainer does the rest::

    trainer = Trainer(workdir, seed=123, strategy="default")   # first: the strategy comes before any TF op
    with trainer.scope():
        state = {"model": model, "optimizer": optimizer, ...}    # variables created under the strategy
    result = trainer.fit(state, epochs=E, steps_per_epoch=S, dataset=..., step=..., validate=...)

* ``dataset(epoch)`` → a ``tf.data.Dataset`` of GLOBAL batches for that epoch (seeded by the epoch, so a
  resumed run sees the batches an uninterrupted one would); the trainer distributes it with the
  strategy, each replica receiving an equal slice of every global batch along its first axis.
* ``step(batch)`` runs once per replica under ``strategy.run`` inside one ``tf.function``: it computes
  the loss on the replica's slice, its gradients and ``optimizer.apply_gradients`` (which sums the
  replicas' gradients), and returns a dict of scalar logs. A loss written as a mean over the slice is
  made a mean over the global batch by ``global_batch_loss``; batch statistics by ``global_mean``.
* ``validate(epoch)`` → a dict of held-out numbers (floats), run on the chief after every epoch.

Determinism: ``keras.utils.set_random_seed(seed)`` and TF op determinism; every trackable in
``state`` (give the model's ``variables``: they include its dropout/noise seed states) and the epoch
counter are checkpointed after every epoch (``workdir/checkpoints``, the last two kept, written
atomically by ``tf.train.CheckpointManager``), so a run killed at any point resumes from its last
finished epoch and ends with the same weights as an uninterrupted one. ``history.json`` (one record
per epoch: seconds, rows/s, the mean train logs as ``train_*``, the validation as ``val_*``) and
TensorBoard scalars (``workdir/tensorboard``) are written by the chief only.

Early stopping: with ``monitor`` (a key of ``validate``'s dict, lower is better) the state of the best
epoch so far is kept in ``workdir/best``; with ``patience`` > 0 training stops after that many epochs
without an improvement; either way the best epoch's state is restored at the end (every worker reads
the chief's folder, as for resuming). ``stop_when(history)``, a model's own rule on the records so far (e.g. a
validation loss that rose by a set fraction over its best), stops training after the epoch where it first holds
(evaluated on the chief; a rerun of a stopped run stops again at once). With a budget
(``max_minutes``), training stops before an epoch that, lasting as long as the last one, would end
past it; every worker takes the same decision.

Strategies (``STRATEGIES``): ``default`` (one device), ``mirrored`` (every local device; on a CPU-only
machine ``cpu_devices=N`` splits the CPU into N logical devices) and ``multi-worker``
(``MultiWorkerMirroredStrategy`` over the cluster in ``TF_CONFIG``; only the chief, worker 0, writes
into ``workdir``; the other workers checkpoint into a temporary folder that they remove).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo.datasets.cache import atomic_write_bytes

log = logging.getLogger(__name__)

STRATEGIES = ("default", "mirrored", "multi-worker")


def make_strategy(name: str | None = "default", cpu_devices: int | None = None):
    """A ``tf.distribute`` strategy by name (see the module docstring); an object is returned as is.

    Call it before any other TensorFlow op: ``multi-worker`` and ``cpu_devices`` configure the runtime,
    which TensorFlow allows only before it starts.
    """
    import tensorflow as tf

    if name is None or name == "default":
        return tf.distribute.get_strategy()
    if not isinstance(name, str):
        return name
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {STRATEGIES}")
    if cpu_devices:
        cpus = tf.config.list_physical_devices("CPU")
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(int(cpu_devices))])
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or \
                  [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if "TF_CONFIG" not in os.environ:
        raise ValueError("--strategy multi-worker reads the cluster from the TF_CONFIG environment variable, "
                         "which is not set (see the README: Training on several machines)")
    try:
        json.loads(os.environ["TF_CONFIG"])
    except json.JSONDecodeError as exc:
        raise ValueError(f"TF_CONFIG is not valid JSON ({exc})") from None
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def replicas_in_sync() -> int:
    """Replicas of the current ``tf.distribute`` context (1 outside any strategy)."""
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def global_batch_loss(replica_mean):
    """A loss that is a mean over this replica's slice, as its share of the mean over the global batch
    (÷ replicas; ``apply_gradients`` sums the replicas' gradients). Unchanged with one replica."""
    n = replicas_in_sync()
    return replica_mean if n == 1 else replica_mean / float(n)


def global_mean(replica_value):
    """The mean over replicas of a per-replica statistic (e.g. a batch mean), differentiable: the gradient
    reaching each replica's value is the mean over replicas of the gradients at the result (the adjoint
    of the mean, all-reduced explicitly). With one replica the value itself."""
    import tensorflow as tf

    if replicas_in_sync() == 1:
        return replica_value
    context = tf.distribute.get_replica_context()

    @tf.custom_gradient
    def mean(value):
        def gradient(upstream):
            return context.all_reduce(tf.distribute.ReduceOp.MEAN, upstream)

        return context.all_reduce(tf.distribute.ReduceOp.MEAN, tf.identity(value)), gradient

    return mean(replica_value)


@dataclass
class FitResult:
    history: list[dict] = field(default_factory=list)
    epochs_trained: int = 0
    stopped_by_budget: bool = False
    state_sha256: str = ""  # of every variable of the trained state, in order: equal runs ⇔ equal digests
    best_epoch: int | None = None  # with ``monitor``: the epoch whose state was restored
    stopped_early: bool = False  # ``patience`` epochs passed without an improvement of ``monitor``


def _variables(obj) -> list:
    """The variables of a trackable: a variable, a list of them, or anything with ``.variables``."""
    if isinstance(obj, (list, tuple)):
        return [v for item in obj for v in _variables(item)]
    if hasattr(obj, "variables") and not hasattr(obj, "numpy"):
        return list(obj.variables)
    return [obj]


def state_digest(state: Mapping[str, object]) -> str:
    """sha256 over the values of every variable of ``state`` (names sorted; this worker's copies)."""
    h = hashlib.sha256()
    for name in sorted(state):
        for variable in _variables(state[name]):
            h.update(np.ascontiguousarray(variable.numpy()).tobytes())
    return h.hexdigest()


class Trainer:
    """The training loop of the module docstring, bound to ``workdir`` and one strategy."""

    def __init__(self, workdir: str | os.PathLike, *, seed: int, strategy=None, cpu_devices: int | None = None,
                 progress: bool = True, max_minutes: float | None = None):
        self.strategy = make_strategy(strategy, cpu_devices)
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
        self.workdir = Path(workdir)
        self.is_chief = self.strategy.extended.should_checkpoint  # worker 0 under multi-worker; else True
        self.distributed = self.strategy is not tf.distribute.get_strategy()
        if self.is_chief:
            self.workdir.mkdir(parents=True, exist_ok=True)
        self.progress, self.max_minutes = progress, max_minutes

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync

    def scope(self):
        return self.strategy.scope()

    def fit(self, state: Mapping[str, object], *, epochs: int, steps_per_epoch: int,
            dataset: Callable[[int], object], step: Callable[[dict], Mapping], validate: Callable[[int], Mapping],
            rows_per_step: int, monitor: str | None = None, patience: int = 0,
            stop_when: Callable[[list[dict]], bool] | None = None) -> FitResult:
        """Train from the last checkpoint (if any) to ``epochs``; ``rows_per_step`` = the global batch;
        ``monitor``/``patience``: early stopping on a validation number; ``stop_when(history)``: a model's own
        stopping rule on the history records so far (module docstring)."""
        import keras
        import tensorflow as tf

        distributed = self.distributed
        with self.scope():
            epoch_done = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        checkpoint = tf.train.Checkpoint(epoch=epoch_done, **state)
        # every worker resumes from the chief's folder; only the chief saves there (the others save into a
        # temporary folder: saving is collective under multi-worker)
        scratch = None if self.is_chief else Path(tempfile.mkdtemp(prefix="zoo-worker-"))
        try:
            latest = tf.train.latest_checkpoint(str(self.workdir / "checkpoints"))
            if latest:
                checkpoint.restore(latest).assert_existing_objects_matched()
                log.info("resumed from %s (epoch %d)", latest, int(epoch_done.numpy()))
            manager = tf.train.CheckpointManager(checkpoint, str(scratch or self.workdir / "checkpoints"),
                                                 max_to_keep=2)
            best_manager = tf.train.CheckpointManager(checkpoint, str((scratch or self.workdir) / "best"),
                                                      max_to_keep=1)
            first = int(epoch_done.numpy())
            if self._sum(first, distributed) != first * self.replicas:
                raise ValueError(f"workers resumed from different epochs (this one from {first}): every worker "
                                   f"must see the chief's checkpoints in {self.workdir / 'checkpoints'} (a shared "
                                   "folder) to resume")
            if distributed:
                def replica_step(batch):
                    logs = self.strategy.run(step, args=(batch,))
                    return {k: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
                            for k, v in logs.items()}
            else:
                replica_step = step
            train_step = tf.function(replica_step, reduce_retracing=True)
            history_path = self.workdir / "history.json"
            history = json.loads(history_path.read_text()) if first and history_path.is_file() else []
            history = history[:first]
            best_epoch, best = None, float("inf")
            for record in history if monitor else ():  # a resumed run continues the count of the interrupted one
                if record[f"val_{monitor}"] < best:
                    best_epoch, best = record["epoch"], record[f"val_{monitor}"]
            # a rerun of a run that stopped early stops again at once
            stopped_early = bool(monitor and patience and best_epoch is not None and first - best_epoch >= patience)
            if stop_when is not None and 0 < first < epochs:
                stopped_early = stopped_early or self._sum(self.is_chief and bool(stop_when(history)), distributed) > 0
            writer = tf.summary.create_file_writer(str(self.workdir / "tensorboard")) if self.is_chief else None
            started = time.perf_counter()
            stopped = False
            for epoch in range(first, first if stopped_early else epochs):
                ds = dataset(epoch)
                if distributed:  # every global batch split in equal slices over the replicas of all workers
                    options = tf.data.Options()
                    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
                    ds = self.strategy.experimental_distribute_dataset(ds.with_options(options))
                bar = keras.utils.Progbar(steps_per_epoch, verbose=1 if self.progress and self.is_chief else 0,
                                          stateful_metrics=["loss"])
                t0 = time.perf_counter()
                sums: dict[str, float] = {}
                for k, batch in zip(range(steps_per_epoch), ds):
                    logs = train_step(batch)
                    values = {name: float(v) for name, v in logs.items()}
                    for name, v in values.items():
                        sums[name] = sums.get(name, 0.0) + v
                    bar.update(k + 1, list(values.items()))
                seconds = time.perf_counter() - t0
                epoch_done.assign(epoch + 1)
                record = {"epoch": epoch + 1, "seconds": round(seconds, 2)}
                if self.is_chief:
                    t_val = time.perf_counter()
                    val = dict(validate(epoch))
                    record["val_seconds"] = round(time.perf_counter() - t_val, 2)
                else:
                    val = {}
                record.update({"rows_per_second": round(steps_per_epoch * rows_per_step / seconds, 1),
                               "learning_rate": _learning_rate(state),
                               **{f"train_{k}": v / steps_per_epoch for k, v in sums.items()},
                               **{f"val_{k}": v for k, v in val.items()}})
                history.append(record)
                manager.save(checkpoint_number=epoch + 1)
                if monitor:
                    if self.is_chief and monitor not in val:
                        raise KeyError(f"monitor {monitor!r} is not a validation number: {sorted(val)}")
                    improved = self._sum(self.is_chief and val[monitor] < best, distributed) > 0
                    if improved:
                        best_epoch, best = epoch + 1, val.get(monitor, best)
                        best_manager.save(checkpoint_number=epoch + 1)
                    record["best_epoch"] = best_epoch
                if self.is_chief:
                    with writer.as_default(step=epoch + 1):
                        for key, value in record.items():
                            if key != "epoch" and isinstance(value, float):
                                tf.summary.scalar(key, value)
                    atomic_write_bytes(history_path, json.dumps(history, indent=1).encode())
                    log.info("epoch %d/%d: %s", epoch + 1, epochs, ", ".join(
                        f"{k} {v:.4g}" for k, v in record.items() if k.startswith(("train_loss", "val_"))
                        and isinstance(v, float)))
                elapsed = time.perf_counter() - started
                over = self.max_minutes is not None and elapsed + (time.perf_counter() - t0) > 60 * self.max_minutes
                if self._sum(over, distributed) > 0:
                    stopped = epoch + 1 < epochs
                    break
                if monitor and patience and epoch + 1 - best_epoch >= patience and epoch + 1 < epochs:
                    stopped_early = True
                    log.info("early stop after epoch %d: %s has not improved since epoch %d", epoch + 1, monitor,
                             best_epoch)
                    break
                if stop_when is not None and epoch + 1 < epochs and \
                        self._sum(self.is_chief and bool(stop_when(history)), distributed) > 0:
                    stopped_early = True
                    log.info("early stop after epoch %d: the model's stopping rule holds", epoch + 1)
                    break
            if monitor and best_epoch is not None:
                # this worker's own copy (a non-chief saves into its scratch folder), else the chief's
                restored = best_manager.latest_checkpoint or tf.train.latest_checkpoint(str(self.workdir / "best"))
                if restored is None:
                    raise FileNotFoundError(f"the best epoch's checkpoint is missing from {self.workdir / 'best'}")
                epoch_reached = int(epoch_done.numpy())
                checkpoint.restore(restored).assert_existing_objects_matched()
                epoch_done.assign(epoch_reached)
                log.info("restored epoch %d (best %s %.5g)", best_epoch, monitor, best)
            if writer is not None:
                writer.flush()
            return FitResult(history, int(epoch_done.numpy()), stopped, state_digest(state), best_epoch, stopped_early)
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    def _sum(self, value: float, distributed: bool) -> float:
        """The sum of ``value`` over every replica of every worker, so that all take the same decision and
        none is left waiting at a collective (``value`` itself without distribution)."""
        if not distributed:
            return value
        import tensorflow as tf

        per_replica = self.strategy.run(lambda: tf.constant(float(value)))
        return float(self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None))


def _learning_rate(state: Mapping[str, object]) -> float | None:
    """The optimizer's current learning rate: a constant's variable (a MirroredVariable under a mirrored strategy,
    which has no ``float()``), or a schedule's value, read as a tensor."""
    optimizer = state.get("optimizer")
    if optimizer is None:
        return None
    import tensorflow as tf

    return float(tf.convert_to_tensor(optimizer.learning_rate))


__all__ = ["Trainer", "FitResult", "state_digest", "STRATEGIES", "make_strategy", "global_batch_loss", "global_mean",
           "replicas_in_sync"]
