"""Training of EveNet: EveNet takes → a model directory, on ``zoo.core``'s trainer.

Sequences. A take of n frames becomes one sequence of steps (n, or n·D for lineage C) in which position i
holds the input step, its labels and its target, aligned by construction (slices of one set of arrays):
by default the input is the previous step (a zero "go" step first), the labels and the target are step
i's, so the model learns x[i] from x[< i] and i's labels; with ``legacy_same_padding`` the input is step i
itself (master's unshifted loss).

Chunks (ibab's scheme, not the original's non-overlapping blocks with a nearest-neighbour stretch of file
tails): the targets of a sequence are cut into runs of ``sample_size`` steps; a chunk holds its run plus
the RF − 1 steps before it (fewer at the start of a take: nothing comes before, as in generation), so
consecutive chunks overlap by RF − 1 and every target is trained once an epoch with its full context.
Chunks of any length are batched (any batch size) padded at the end, and a mask keeps the loss on the
targets. Splits are by take (seeded) or by speaker, never by frame.

Input noise (``Config.input_noise`` σ > 0, not in the original): the input steps of a training batch get
N(0, σ²) noise (stateless, seeded by the config's seed and the optimiser step, so a resumed run draws the same).
At 48 fps the next frame is nearly the last one, so clean teacher forcing rewards copying the past; noisy
inputs make the labels the reliable cue, which is what free-running generation needs (exposure bias).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from zoo.core.modeldir import write_model_dir
from zoo.core.trainer import Trainer, global_batch_loss
from zoo.datasets import split_by_clip, split_by_name, split_by_subject
from zoo.datasets.evenet import EvenetTake, read_evenet_takes, reader_config

from . import features
from .config import Config
from .features import schedule_ids
from .metrics import teacher_forced

PAD_MULTIPLE = 64  # batches are padded to a multiple of this many steps (few distinct shapes to trace)


@dataclass(frozen=True)
class TakeSequence:
    """One take as aligned training arrays: ``inputs`` (L, C), ``targets`` (L, D) or (L,) for C, ``emotion`` and
    ``phoneme`` ids (L,); ``name``; ``frames`` (n, D) the take itself."""

    name: str
    inputs: np.ndarray
    targets: np.ndarray
    emotion: np.ndarray
    phoneme: np.ndarray
    frames: np.ndarray

    def __len__(self) -> int:
        return len(self.inputs)


def take_sequence(config: Config, name: str, frames: np.ndarray, emotion_ids: np.ndarray,
                  phoneme_ids: np.ndarray) -> TakeSequence:
    """The aligned arrays of one take (module docstring)."""
    frames = np.asarray(frames, np.float32)
    steps = features.step_inputs(frames, config)
    targets = frames if config.lineage != "key_sampling" else features.flatten_keys(frames)
    inputs = steps if config.legacy_same_padding else np.concatenate([np.zeros_like(steps[:1]), steps[:-1]])
    return TakeSequence(name, inputs, targets.astype(np.float32), features.step_labels(emotion_ids, config),
                        features.step_labels(phoneme_ids, config), frames)


@dataclass(frozen=True)
class Chunk:
    """Steps [start, end) of sequence ``take``; the targets are [first_target, end)."""

    take: int
    start: int
    first_target: int
    end: int


def make_chunks(lengths: Sequence[int], receptive_field: int, sample_size: int) -> list[Chunk]:
    """Runs of ``sample_size`` targets with the RF − 1 steps before each (module docstring)."""
    out = []
    for take, length in enumerate(lengths):
        for first in range(0, length, sample_size):
            out.append(Chunk(take, max(0, first - (receptive_field - 1)), first, min(first + sample_size, length)))
    return out


def batch_arrays(sequences: Sequence[TakeSequence], chunks: Sequence[Chunk], multiple: int = PAD_MULTIPLE) -> dict:
    """One padded batch: inputs (B, T, C), targets, emotion/phoneme (B, T) (−1 in padding), mask (B, T)."""
    length = max(c.end - c.start for c in chunks)
    length = -(-length // multiple) * multiple
    first = sequences[chunks[0].take]
    batch = len(chunks)
    out = {"inputs": np.zeros((batch, length, first.inputs.shape[1]), np.float32),
           "targets": np.zeros((batch, length, *first.targets.shape[1:]), np.float32),
           "emotion": np.full((batch, length), -1, np.int32), "phoneme": np.full((batch, length), -1, np.int32),
           "mask": np.zeros((batch, length), np.float32)}
    for row, c in enumerate(chunks):
        seq, n = sequences[c.take], c.end - c.start
        for key, values in (("inputs", seq.inputs), ("targets", seq.targets), ("emotion", seq.emotion),
                            ("phoneme", seq.phoneme)):
            out[key][row, :n] = values[c.start:c.end]
        out["mask"][row, c.first_target - c.start:n] = 1.0
    return out


def epoch_batches(sequences: Sequence[TakeSequence], chunks: Sequence[Chunk], batch_size: int, seed: int):
    """The batches of one epoch: chunks shuffled by ``seed``, sorted by length within windows of 8 batches (less
    padding), every chunk once; the last batch may be smaller."""
    order = np.random.default_rng(seed).permutation(len(chunks))
    window = batch_size * 8
    batches = []
    for i in range(0, len(order), window):
        part = sorted(order[i:i + window], key=lambda k: chunks[k].end - chunks[k].start)
        batches += [part[j:j + batch_size] for j in range(0, len(part), batch_size)]
    np.random.default_rng(seed + 1).shuffle(batches)
    return [batch_arrays(sequences, [chunks[k] for k in b]) for b in batches]


def label_ids(config: Config, take: EvenetTake) -> tuple[np.ndarray, np.ndarray]:
    """The take's per-frame (emotion, phoneme) ids in the model's categories (−1: unknown)."""
    from zoo.datasets.evenet import PHONEME_CATEGORIES

    return schedule_ids(take.emotions, config.emotion_categories), schedule_ids(take.phonemes, PHONEME_CATEGORIES)


@dataclass
class TrainingState:
    config: Config
    model: object
    optimizer: object

    @classmethod
    def create(cls, config: Config) -> TrainingState:
        import keras

        from .model import build_model

        model = build_model(config)
        optimizer = keras.optimizers.Adam(config.learning_rate, epsilon=config.adam_epsilon)
        optimizer.build(model.trainable_variables)
        return cls(config, model, optimizer)

    def checkpointed(self) -> dict:
        return {"model_variables": list(self.model.variables), "optimizer": self.optimizer}

    def train_step(self, batch: dict) -> dict:
        import tensorflow as tf

        from .losses import l2_penalty, loss_terms

        variables = self.model.trainable_variables
        inputs = batch["inputs"]
        if self.config.input_noise:
            seed = tf.stack([tf.constant(self.config.seed, tf.int64), tf.cast(self.optimizer.iterations, tf.int64)])
            inputs = inputs + self.config.input_noise * tf.random.stateless_normal(tf.shape(inputs), seed)
        with tf.GradientTape() as tape:
            outputs = self.model({"steps": inputs, "emotion": batch["emotion"], "phoneme": batch["phoneme"]},
                                 training=True)
            terms = loss_terms(self.config, outputs, batch["targets"], batch["mask"])
            share = global_batch_loss(terms["loss"] + l2_penalty(self.config, variables))
        grads = tape.gradient(share, variables)
        # the last layer's residual feeds nothing (kept for the original's parameter count): no gradient
        self.optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
        return terms


def predict_teacher_forced(model, config: Config, sequences: TakeSequence | Sequence[TakeSequence],
                           batch_steps: int = 1 << 16) -> np.ndarray | list[np.ndarray]:
    """The model's prediction of every frame of each take from its true past ((n, D) a take), full passes over
    batches of takes padded at the end (at most ``batch_steps`` padded steps a call; padding comes after a take,
    so it never reaches its frames)."""
    from .features import step_values

    single = isinstance(sequences, TakeSequence)
    sequences = [sequences] if single else list(sequences)
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    out: list = [None] * len(sequences)
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and (end + 1 - start) * len(sequences[order[end]]) <= batch_steps:
            end += 1
        group = [sequences[i] for i in order[start:end]]
        batch = batch_arrays(group, [Chunk(k, 0, 0, len(s)) for k, s in enumerate(group)], multiple=PAD_MULTIPLE)
        y = np.asarray(model({"steps": batch["inputs"], "emotion": batch["emotion"], "phoneme": batch["phoneme"]},
                             training=False))
        for row, i in enumerate(order[start:end]):
            seq = sequences[i]
            out[i] = step_values(y[row, :len(seq)], config).reshape(len(seq.frames), config.data_dim)
        start = end
    return out[0] if single else out


def read_takes(data: str | os.PathLike | Sequence[EvenetTake], speakers: Mapping[str, str] | None = None):
    """Takes from a folder (``read_evenet_takes``) or as given, with ``speakers`` {take: speaker} as subjects;
    and the folder's emotion categories (None for given takes)."""
    if isinstance(data, (str, os.PathLike)):
        takes, categories = read_evenet_takes(data), reader_config(data).get("emotion_categories")
    else:
        takes, categories = list(data), None
    if speakers:
        takes = [EvenetTake(t.clip.replace(subject=speakers.get(t.clip.name, t.clip.subject)), t.emotions, t.phonemes)
                 for t in takes]
    return takes, categories


def split_takes(takes: Sequence[EvenetTake], *, val_takes=(), test_takes=(), val_speakers=(), test_speakers=(),
                val_fraction: float = 0.2, seed: int = 0):
    """(train, validation, test) takes: by names, by speakers (``Clip.subject``), or ``val_fraction`` of the takes
    left after the test ones, chosen with ``seed``."""
    by_name = {t.clip.name: t for t in takes}
    clips = [t.clip for t in takes]
    if val_speakers or test_speakers:
        parts = split_by_subject(clips, val_subjects=val_speakers, test_subjects=test_speakers)
    elif val_takes:
        parts = split_by_name(clips, val_names=val_takes, test_names=test_takes)
    else:
        _, _, tested = split_by_name(clips, test_names=test_takes)
        rest = [c for c in clips if c.name not in set(test_takes)]
        train, val, _ = split_by_clip(rest, val=val_fraction, test=0.0, seed=seed)
        parts = (train, val, tested)
    return tuple([by_name[c.name] for c in part] for part in parts)


def train(config: Config, data, workdir: str | os.PathLike, *, val_takes: Sequence[str] = (),
          test_takes: Sequence[str] = (), val_speakers: Sequence[str] = (), test_speakers: Sequence[str] = (),
          speakers: Mapping[str, str] | None = None, val_fraction: float = 0.2, max_minutes: float | None = None,
          progress: bool = True, strategy=None, cpu_devices: int | None = None) -> dict:
    """Train ``config`` on an EveNet folder (or ``EvenetTake``s): test takes are never read into training,
    validation (teacher-forced RMSE beside the repeat-last and mean-pose baselines) runs after every epoch and
    the epoch of lowest validation RMSE is kept. ``data_dim``, the key names and the emotion categories come
    from the data. Returns the run summary (also the model's metadata); the model is ``workdir/model``."""
    from .predict import metadata_of

    trainer = Trainer(workdir, seed=config.seed, strategy=strategy, cpu_devices=cpu_devices, progress=progress,
                      max_minutes=max_minutes)
    takes, categories = read_takes(data, speakers)
    train_takes, held_out, tested = split_takes(takes, val_takes=val_takes, test_takes=test_takes,
                                                val_speakers=val_speakers, test_speakers=test_speakers,
                                                val_fraction=val_fraction, seed=config.seed)
    if not train_takes:
        raise ValueError("no training takes are left after the validation and test splits")
    if config.patience and not held_out:
        raise ValueError("patience (early stopping) needs validation takes")
    names = train_takes[0].clip.channel_names
    config = config.replace(data_dim=len(names), output_names=tuple(names),
                            **({"emotion_categories": tuple(categories)} if categories else {}))
    for take in (*train_takes, *held_out):
        if take.clip.channel_names != names:
            raise ValueError(f"{take.clip.source}: shape keys {take.clip.channel_names[:3]}… differ from the first "
                             f"take's {names[:3]}…")

    def sequences(part):
        return [take_sequence(config, t.clip.name, t.clip.targets, *label_ids(config, t)) for t in part]

    train_seqs, val_seqs = sequences(train_takes), sequences(held_out)
    chunks = make_chunks([len(s) for s in train_seqs], config.receptive_field, config.sample_size)
    steps_per_epoch = -(-len(chunks) // config.batch_size)
    mean_pose = np.concatenate([s.frames for s in train_seqs]).mean(axis=0)
    with trainer.scope():
        state = TrainingState.create(config)

    def dataset(epoch: int):
        import tensorflow as tf

        batches = epoch_batches(train_seqs, chunks, config.batch_size, config.seed + epoch)
        signature = {k: tf.TensorSpec([None, None, *v.shape[2:]], tf.as_dtype(v.dtype)) for k, v in batches[0].items()}
        return tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=signature)

    def validate(epoch: int) -> dict:
        if not val_seqs:
            return {}
        return teacher_forced(predict_teacher_forced(state.model, config, val_seqs), [s.frames for s in val_seqs],
                              mean_pose)

    result = trainer.fit(state.checkpointed(), epochs=config.epochs, steps_per_epoch=steps_per_epoch,
                         dataset=dataset, step=state.train_step, validate=validate, rows_per_step=config.batch_size,
                         monitor="rmse" if val_seqs else None, patience=config.patience)
    summary = {
        **metadata_of(config), "epochs_trained": result.epochs_trained, "epochs_planned": config.epochs,
        "stopped_by_budget": result.stopped_by_budget, "stopped_early": result.stopped_early,
        "best_epoch": result.best_epoch, "strategy": str(strategy or "default"), "replicas": trainer.replicas,
        "train_takes": [s.name for s in train_seqs], "val_takes": [s.name for s in val_seqs],
        "test_takes": [t.clip.name for t in tested], "train_frames": int(sum(len(s.frames) for s in train_seqs)),
        "chunks": len(chunks), "mean_pose": mean_pose.tolist(), "history": result.history,
        "val": result.history[(result.best_epoch or result.epochs_trained) - 1] if result.history else None,
        "params": int(state.model.count_params()), "state_sha256": result.state_sha256,
    }
    if trainer.is_chief:
        write_model_dir(trainer.workdir / "model", config=config.to_dict(), model=state.model, metadata=summary)
    return summary
