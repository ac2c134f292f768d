"""Training of VOCA: VOCASET-layout sequences → a model directory, on ``zoo.core``'s trainer.

What is VOCA's lives here (spec §3–4): the split by subject and sentence, the feature windows (cached under
``workdir/features``), the PCA initialisation of the decoder, the train step on runs of K true neighbours
(``zoo.datasets.run_dataset``) and the validation on held-out sequences. Checkpoints, resume, strategies,
budget, TensorBoard and history are the trainer's. The result is ``workdir/model/``: config.json,
model.weights.h5, metadata.json, templates.npy (the training subjects' (S, V, 3)) [+ faces.npy].

``init_from`` (fine-tuning): start from another VOCA model directory's weights (``model.transfer_weights``): its
subjects' conditioning rows are matched by name (or ``subject_map``: {new subject: source subject}); a new subject
starts from the mean style.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from zoo.core.modeldir import write_model_dir
from zoo.core.trainer import Trainer, global_batch_loss
from zoo.datasets import Clip, FeatureCache, read_vocaset, read_vocaset_templates

from . import features as feats
from .config import VOCASET_TEST, VOCASET_VAL, Config
from .predict import (
    Predictor,
    _corpus_vertices,
    feature_windows,
    measures,
    metadata_of,
    sequence_name,
    validation_numbers,
)

FEATURE_VERSION = 1  # bump when the feature code changes its output


def clip_windows(clip: Clip, kind: str, cache_dir=None) -> np.ndarray:
    """(frames, 16, F) float32 windows of a Clip, one per target frame (the first ``clip.num_frames`` of the
    round(s × 60) windows); cached under ``cache_dir`` keyed by the feature kind and ``FEATURE_VERSION``."""
    def compute(c: Clip) -> np.ndarray:
        windows = feature_windows(c.audio, c.sample_rate, kind)
        if len(windows) < c.num_frames:
            raise ValueError(f"{c.source}: {len(windows)} feature windows for {c.num_frames} mesh frames")
        return windows[: c.num_frames].astype(np.float32)

    if cache_dir is None:
        return compute(clip)
    key = {"model": "voca_emotion", "feature": kind, "version": FEATURE_VERSION, "fps": feats.FPS,
           "sample_rate": feats.SAMPLE_RATE}
    return FeatureCache(cache_dir, key).get_or_compute(clip, compute)


def read_meshes(folder) -> tuple[list[Clip], dict[str, np.ndarray]]:
    """(Clips, templates) of a VOCASET-layout folder, or of a RAVDESS-derived one (``data_verts_RAVDESS.npy``…:
    ``zoo.datasets.read_emoca``, meshes resampled to 60 fps)."""
    from zoo.datasets import read_emoca, read_emoca_templates
    from zoo.datasets.emoca import VERTS_FILE

    if (Path(folder) / VERTS_FILE).is_file():
        return read_emoca(folder), read_emoca_templates(folder)
    return read_vocaset(folder), read_vocaset_templates(folder)


def split_sequences(clips: Sequence[Clip], *, val_subjects: Sequence[str] = (), test_subjects: Sequence[str] = (),
                    val_sentences: Sequence[str] = (), test_sentences: Sequence[str] = ()):
    """(train, validation, test) clips, spec §4.1: unseen subjects validate and test; ``val_sentences`` and
    ``test_sentences`` hold those sentences of the training subjects out too (never trained on)."""
    val_subjects, test_subjects = set(val_subjects), set(test_subjects)
    if val_subjects & test_subjects:
        raise ValueError(f"subjects both validate and test: {sorted(val_subjects & test_subjects)}")
    if set(val_sentences) & set(test_sentences):
        raise ValueError(f"sentences both validate and test: {sorted(set(val_sentences) & set(test_sentences))}")
    known = {c.subject for c in clips}
    missing = (val_subjects | test_subjects) - known
    if missing:
        raise ValueError(f"subjects {sorted(missing)} are not in the data (it has {sorted(known)})")
    train, val, test = [], [], []
    for clip in clips:
        sentence = sequence_name(clip).split("/")[-1]
        if clip.subject in test_subjects or sentence in test_sentences:
            test.append(clip)
        elif clip.subject in val_subjects or sentence in val_sentences:
            val.append(clip)
        else:
            train.append(clip)
    if not train:
        raise ValueError("no training sequences are left after the split")
    return train, val, test


def training_offsets(clips: Sequence[Clip], templates: Mapping[str, np.ndarray]) -> np.ndarray:
    """(frames, 3V) float32 offsets frame − subject template of every training frame (the PCA's rows)."""
    return np.concatenate([c.targets - templates[c.subject].reshape(1, -1) for c in clips]).astype(np.float32)


def default_split(clips: Sequence[Clip], val_subjects, test_subjects):
    """The spec's VOCASET split where the data holds its subjects and none is given."""
    subjects = {c.subject for c in clips}
    if not val_subjects and set(VOCASET_VAL) <= subjects:
        val_subjects = VOCASET_VAL
    if not test_subjects and set(VOCASET_TEST) <= subjects:
        test_subjects = VOCASET_TEST
    return tuple(val_subjects or ()), tuple(test_subjects or ())


def train(config: Config, data: str | os.PathLike | Sequence[Clip], workdir: str | os.PathLike, *,
          templates: Mapping[str, np.ndarray] | None = None, val_subjects: Sequence[str] = (),
          test_subjects: Sequence[str] = (), val_sentences: Sequence[str] = (), test_sentences: Sequence[str] = (),
          faces: np.ndarray | None = None, init_from: str | os.PathLike | None = None,
          subject_map: Mapping[str, str] | None = None,
          max_minutes: float | None = None, progress: bool = True, strategy=None, cpu_devices: int | None = None,
          ) -> dict:
    """Train ``config`` on a VOCASET-layout or RAVDESS-derived folder (``read_meshes``; or Clips + ``templates``),
    split by subject and sentence
    (``split_sequences``; VOCASET's own split by default where the data holds its subjects). Test sequences are
    never read (their names are recorded). Validation after every epoch: the held-out sequences (unseen subjects
    under every training condition, averaged); the epoch of lowest validation LVE is kept (``patience`` stops
    early). The training subjects become ``config.subjects`` (kept in the config's order where they are the same
    set, else sorted). Returns the run summary (also the model's metadata)."""
    import keras
    import tensorflow as tf

    from zoo.datasets import FrameTable, run_dataset

    from .losses import loss_terms, total_loss
    from .model import build_model, init_decoder, pca_basis, transfer_weights

    trainer = Trainer(workdir, seed=config.seed, strategy=strategy, cpu_devices=cpu_devices, progress=progress,
                      max_minutes=max_minutes)
    if isinstance(data, (str, os.PathLike)):
        clips, templates = read_meshes(data)
    else:
        clips = list(data)
        if templates is None:
            raise ValueError("Clips need their subjects' templates")
    val_subjects, test_subjects = default_split(clips, val_subjects, test_subjects)
    train_clips, val_clips, test_clips = split_sequences(clips, val_subjects=val_subjects, test_subjects=test_subjects,
                                                         val_sentences=val_sentences, test_sentences=test_sentences)
    subjects = sorted({c.subject for c in train_clips})
    if set(subjects) != set(config.subjects):
        config = config.replace(subjects=tuple(subjects))
    num_vertices = train_clips[0].targets.shape[1] // 3
    if num_vertices != config.num_vertices:
        config = config.replace(num_vertices=num_vertices)
    missing = {c.subject for c in train_clips + val_clips} - set(templates)
    if missing:
        raise ValueError(f"no template for subjects {sorted(missing)}")
    if config.patience and not val_clips:
        raise ValueError("patience (early stopping) needs validation sequences")
    cache = trainer.workdir / "features" if trainer.is_chief else None
    train_windows = [clip_windows(c, config.audio_feature, cache) for c in train_clips]
    val_windows = [clip_windows(c, config.audio_feature, cache) for c in val_clips]
    k = config.num_consecutive_frames
    table = FrameTable(train_clips, None, features=train_windows, audio=False)
    steps_per_epoch = len(table.run_starts(k)) // config.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"{len(table.run_starts(k))} runs of {k} frames: fewer than one batch of {config.batch_size}")
    subject_templates = np.stack([np.asarray(templates[s], np.float32) for s in config.subjects])
    basis, origin = None, None
    resuming = tf.train.latest_checkpoint(str(trainer.workdir / "checkpoints")) is not None  # weights restored anyway
    if config.decoder_init != "random" and init_from is None and not resuming:
        basis = pca_basis(training_offsets(train_clips, templates), config.expression_dim, config.decoder_init,
                          seed=config.seed)

    with trainer.scope():
        model = build_model(config)
        if basis is not None:
            init_decoder(model, basis)
        if init_from is not None and not resuming:
            source = Predictor.load(init_from)
            origin = transfer_weights(model, config, source.model, source.config.subjects, subject_map)
        lr = config.learning_rate
        if config.decay_rate < 1:
            lr = keras.optimizers.schedules.ExponentialDecay(lr, steps_per_epoch, config.decay_rate, staircase=True)
        optimizer = keras.optimizers.Adam(lr, beta_1=config.adam_beta1, beta_2=0.999, epsilon=1e-8)
        optimizer.build(model.trainable_variables)
    clip_subject = tf.constant([config.subjects.index(c.subject) for c in train_clips], tf.int32)
    tpl_table = tf.constant(subject_templates)
    s, v, f = config.num_subjects, config.num_vertices, config.num_audio_features

    def step(batch):
        subject = tf.gather(clip_subject, batch["clip"][:, 0])  # (B,)
        template = tf.gather(tpl_table, subject)  # (B, V, 3)
        condition = tf.repeat(tf.one_hot(subject, s), k, axis=0)
        inputs = [tf.reshape(batch["features"], [-1, config.audio_window, f]), condition,
                  tf.repeat(template, k, axis=0)]
        true = tf.reshape(batch["targets"], [-1, k, v, 3])
        with tf.GradientTape() as tape:
            pred = tf.reshape(model(inputs, training=True), [-1, k, v, 3])
            terms = loss_terms(config, pred, true, template)
            loss = tf.reduce_mean(total_loss(config, terms))
            share = global_batch_loss(loss)
        grads = tape.gradient(share, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return {"loss": loss, **{name: tf.reduce_mean(value) for name, value in terms.items()}}

    validator = Predictor(model, config, subject_templates, faces)

    def validate(epoch: int) -> dict:
        if not val_clips:
            return {}
        preds, gts, tpls = [], [], []
        for clip, windows in zip(val_clips, val_windows):
            tpl = np.asarray(templates[clip.subject], np.float32)
            conditions = ([config.subjects.index(clip.subject)] if clip.subject in config.subjects
                          else range(config.num_subjects))
            for c in conditions:
                preds.append(validator.run(windows, c, tpl))
                gts.append(clip.targets.reshape(clip.num_frames, v, 3))
                tpls.append(tpl)
        return validation_numbers(measures(preds, gts, tpls))

    def dataset(epoch: int):
        return run_dataset(table, length=k, batch_size=config.batch_size, shuffle=True, seed=config.seed + epoch)

    monitor = "lve" if config.num_vertices == _corpus_vertices() else "mve"  # LVE needs the corpus mesh's lip mask
    result = trainer.fit({"model_variables": list(model.variables), "optimizer": optimizer}, epochs=config.epochs,
                         steps_per_epoch=steps_per_epoch, dataset=dataset, step=step, validate=validate,
                         rows_per_step=config.batch_size, monitor=monitor if val_clips else None,
                         patience=config.patience)
    summary = {
        **metadata_of(config), "epochs_trained": result.epochs_trained, "epochs_planned": config.epochs,
        "stopped_by_budget": result.stopped_by_budget, "stopped_early": result.stopped_early,
        "best_epoch": result.best_epoch, "strategy": str(strategy or "default"), "replicas": trainer.replicas,
        "chief": trainer.is_chief,
        "train_sequences": [sequence_name(c) for c in train_clips],
        "val_sequences": [sequence_name(c) for c in val_clips],
        "test_sequences": [sequence_name(c) for c in test_clips],
        "val_subjects": list(val_subjects), "test_subjects": list(test_subjects), "train_frames": table.num_frames,
        "history": result.history, "monitor": monitor,
        "val": result.history[(result.best_epoch or result.epochs_trained) - 1] if result.history else None,
        "params": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "decoder_init": config.decoder_init if init_from is None else None,
        "init_from": str(init_from) if init_from else None, "subjects_from": origin,
        "state_sha256": result.state_sha256,
    }
    if faces is None and config.num_vertices == _corpus_vertices():  # the synthetic corpus's mesh: its own faces
        from zoo.datasets.synthetic.geometry import FACES as faces
    if trainer.is_chief:
        arrays = {"templates": subject_templates, **({"faces": np.asarray(faces, np.int32)} if faces is not None
                                                     else {})}
        write_model_dir(trainer.workdir / "model", config=config.to_dict(), model=model, metadata=summary,
                        arrays=arrays)
    return summary


__all__ = ["train", "read_meshes", "split_sequences", "clip_windows", "training_offsets", "FEATURE_VERSION"]
