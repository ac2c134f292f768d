"""Training of the landmark CNN and the conditional DCGAN on a RAVDESS-layout folder, on ``zoo.core``'s trainer
(spec §3, §5.7).

What is this model's lives here: the split by actor, the examples (``data.load_trials``: landmarks from the videos,
features from the WAVs, cached under ``workdir/trials``), the two stages and their validation. Checkpoints, resume,
the budget, TensorBoard and history are the trainer's.

* **Split** (``data.split_actors``, from the file names): the test actors' files are never read; validation by
  actor or by a seeded fraction of the training actors' trials.
* **Stage 1, the CNN** (``workdir/cnn``): MSE over the 136 values, Adam(``cnn_learning_rate``), batches of
  ``cnn_batch_size`` frames (capped at the training frames), ``cnn_epochs`` epochs, the frames shuffled every epoch
  (seeded; the original did not shuffle: a model-card row); with ``output_bias="mean"`` the sigmoid output layer's bias
  starts at logit(the training frames' mean landmarks), so the network starts at the mean face (the original's zero
  bias starts every point at 0.5 and, on these small variations, settled on the mean). ``log_magnitude``: the
  per-bin mean and standard deviation of the training features are set into the model first. The ``report``
  variant (``gru``) trains on sequences of ``sequence_length`` consecutive frames of one trial (hop half a
  sequence), batches of cnn_batch_size // sequence_length sequences. ``speed_perturbation`` (flagged): every
  training trial also enters once per factor α with its speech played α× faster (``data.speed_perturbed``: pitch,
  formants and rate × α, the landmarks unchanged), the feature statistics and the mean face taken over them all.
  ``mouth_weight`` (flagged) weights the MSE's mouth coordinates (``losses.landmark_loss``).
  Validation after every epoch on the validation trials (each trial whole): ``loss`` (MSE, monitored: the best
  epoch is kept), ``lmd`` (mouth, normalised units), ``mouth_r``, all of the CNN's frames as predicted (before the
  ``smooth_frames`` average, which the trained model's ``Predictor`` applies).
* **Stage 2, the GAN** (``workdir/gan``): the training trials' images (``data``: face crops, or the legacy frames)
  with their frames' landmarks, shuffled every epoch, batches of ``gan_batch_size`` (incomplete last batches
  dropped, as the original); per batch z ~ U(−1, 1)^z_dim (a ``tf.random.Generator`` checkpointed with the run), one
  D step then ``g_steps`` G steps with the same z and landmarks (spec §5.7), two Adam(``gan_learning_rate``,
  β1 ``gan_beta1``; D's rate × ``d_lr_ratio``). Flagged (off in the original): D's real target ``real_label`` < 1, and
  ``gan_l1_weight`` λ adding λ·mean|G(z, y) − x| to G's loss (rows of the lower half × ``l1_lower_weight``;
  ``losses``); ``gan_opening_weight`` λ_o adding λ_o·mean (R(G(z, y)) − (o(y) − μ)/σ)² (``losses.opening_loss``):
  before the GAN, R (``model.build_opening_regressor``) learns the standardised inner-lip opening of the training
  crops from their lower halves (``train_opening_regressor``; its r on the training and validation crops goes into
  the summary), then stays frozen; with ``gan_cross_motion`` G also draws, for every image, its trial's mean face
  moved by another image's motion (``move_motion``), which has no real image: only R's term scores it (unseen
  pairings of face and motion, as a held-out speaker's landmarks are). Validation after every epoch on up to
  ``GAN_VALIDATION_FRAMES`` validation images with a fixed z: PSNR and SSIM against the real crops, and dlib on the
  generated faces (``metrics.landmark_consistency``): detection rate and the mouth-opening r against the
  conditioning landmarks. The last epoch is kept (GAN losses do not rank epochs): its G, or with ``gan_average``
  β (flagged) the exponential moving average a ← β·a + (1 − β)·w of G's weights after every step (from the initial
  weights; checkpointed with the run) with its BatchNorm statistics recomputed (``population_statistics``); the kept
  G is also the one validation scores.

Result: ``workdir/model/`` (``zoo.core.modeldir``): config.json, model.weights.h5 (CNN + G + D), metadata.json
(schema + the split, both stages' histories), ``mean_landmarks.npy`` (the mean-landmark baseline), and a default
reference face (the first training image in [−1, 1] and its landmarks).
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zoo.core.modeldir import write_model_dir
from zoo.core.trainer import Trainer, global_batch_loss, make_strategy

from . import metrics
from .config import Config
from .data import Trial, actor_of, load_trials, speech_stems, speed_perturbed, split_actors
from .predict import MEAN_LANDMARKS, REFERENCE_IMAGE, REFERENCE_LANDMARKS, build_network, metadata_of

log = logging.getLogger(__name__)

GAN_VALIDATION_FRAMES = 128  # validation images the GAN is scored on after every epoch
OPENING_REGRESSOR_EPOCHS = 8  # R's training (``train_opening_regressor``): epochs, batch, Adam learning rate
OPENING_REGRESSOR_BATCH = 64
OPENING_REGRESSOR_LR = 1e-3
OUTPUT_LAYER = "landmarks"  # the CNN's sigmoid output layer
POPULATION_BATCHES = 64  # BatchNorm statistics of the averaged G (``population_statistics``): training batches read


def sequences(trials: Sequence[Trial], length: int) -> tuple[np.ndarray, np.ndarray]:
    """(features (S, length, 128, 23, 1), landmarks (S, length, 136)): runs of ``length`` consecutive frames of one
    trial, hop length // 2 (trials shorter than ``length`` give none)."""
    xs, ys = [], []
    hop = max(1, length // 2)
    for t in trials:
        for start in range(0, t.frames - length + 1, hop):
            xs.append(t.features[start:start + length])
            ys.append(t.landmarks[start:start + length])
    if not xs:
        raise ValueError(f"no training trial has {length} frames (sequence_length)")
    return np.stack(xs), np.stack(ys)


def predict_trials(cnn, trials: Sequence[Trial], gru: bool, batch_size: int = 1024) -> list[np.ndarray]:
    """The CNN's (N, 136) landmarks of each trial (the GRU variant: each trial as one sequence)."""
    out = []
    for t in trials:
        if gru:
            out.append(np.asarray(cnn(t.features[None], training=False))[0])
        else:
            out.append(np.concatenate([np.asarray(cnn(t.features[i:i + batch_size], training=False))
                                       for i in range(0, t.frames, batch_size)]))
    return out


def landmark_scores(predicted: Sequence[np.ndarray], trials: Sequence[Trial]) -> dict:
    """MSE (normalised units), mouth LMD (normalised units) and the mouth-opening Pearson r over the frames."""
    pred, true = np.concatenate(predicted), np.concatenate([t.landmarks for t in trials])
    return {"loss": metrics.landmark_mse(pred, true), "lmd": metrics.lmd(pred, true),
            "mouth_r": metrics.pearson(metrics.mouth_opening(pred), metrics.mouth_opening(true))}


def train_cnn(config: Config, train: Sequence[Trial], val: Sequence[Trial], workdir: Path, *, strategy=None,
              progress: bool = True, max_minutes: float | None = None):
    """Stage 1 (module docstring) in ``workdir``; returns (cnn, summary)."""
    import keras
    import tensorflow as tf

    from .losses import landmark_loss
    from .model import build_cnn, feature_statistics, set_feature_statistics

    if config.speed_perturbation:
        copies = [speed_perturbed(t, config, config.speed_perturbation) for t in train]  # each WAV read once
        train = list(train) + [c[k] for k in range(len(config.speed_perturbation)) for c in copies]  # factor-major
    if config.gru:
        x, y = sequences(train, config.sequence_length)
        batch = max(1, min(config.cnn_batch_size // config.sequence_length, len(x)))
    else:
        x = np.concatenate([t.features for t in train])
        y = np.concatenate([t.landmarks for t in train])
        batch = min(config.cnn_batch_size, len(x))
    trainer = Trainer(workdir, seed=config.seed, strategy=strategy, progress=progress, max_minutes=max_minutes)
    with trainer.scope():
        cnn = build_cnn(config)
        if config.log_magnitude:
            set_feature_statistics(cnn, *feature_statistics(np.concatenate([t.features for t in train])))
        if config.output_bias == "mean":  # start at the mean face: the landmarks vary ~0.03 around it
            mean = np.clip(np.concatenate([t.landmarks for t in train]).mean(axis=0), 1e-3, 1 - 1e-3)
            cnn.get_layer(OUTPUT_LAYER).bias.assign(np.log(mean / (1 - mean)).astype(np.float32))
        optimizer = keras.optimizers.Adam(config.cnn_learning_rate)
        optimizer.build(cnn.trainable_variables)

    def dataset(epoch: int):
        ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=config.seed + epoch)
        return ds.batch(batch, drop_remainder=True).map(lambda a, b: {"features": a, "landmarks": b}).prefetch(2)

    def step(batch_):
        with tf.GradientTape() as tape:
            loss = landmark_loss(batch_["landmarks"], cnn(batch_["features"], training=True), config.mouth_weight)
            share = global_batch_loss(loss)
        grads = tape.gradient(share, cnn.trainable_variables)
        optimizer.apply_gradients(zip(grads, cnn.trainable_variables))
        return {"loss": loss}

    def validate(epoch: int) -> dict:
        return landmark_scores(predict_trials(cnn, val, config.gru), val) if val else {}

    result = trainer.fit({"model_variables": list(cnn.variables), "optimizer": optimizer}, epochs=config.cnn_epochs,
                         steps_per_epoch=len(x) // batch, dataset=dataset, step=step, validate=validate,
                         rows_per_step=batch, monitor="loss" if val else None, patience=config.cnn_patience)
    summary = {"epochs_trained": result.epochs_trained, "epochs_planned": config.cnn_epochs,
               "best_epoch": result.best_epoch, "stopped_by_budget": result.stopped_by_budget,
               "stopped_early": result.stopped_early, "batch_size_used": batch, "train_rows": int(len(x)),
               "history": result.history, "params": int(cnn.count_params()), "state_sha256": result.state_sha256,
               "val": result.history[(result.best_epoch or result.epochs_trained) - 1] if result.history else None}
    return cnn, summary


def gan_examples(trials: Sequence[Trial]) -> tuple[np.ndarray, np.ndarray]:
    """(images (K, S, S, 3) uint8, their frames' landmarks (K, 136))."""
    images = np.concatenate([t.images for t in trials])
    landmarks = np.concatenate([t.landmarks[t.image_rows] for t in trials])
    return images, landmarks.astype(np.float32)


def trial_means(trials: Sequence[Trial]) -> np.ndarray:
    """(K, 136) float32: for each of ``gan_examples``' images, the mean landmarks of its trial's images (the
    trial's face, which ``gan_cross_motion`` moves with another frame's motion)."""
    return np.concatenate([np.repeat(t.landmarks[t.image_rows].mean(axis=0, keepdims=True), len(t.image_rows), 0)
                           for t in trials]).astype(np.float32)


def move_motion(landmarks, faces, order):
    """y'_i = (y_{order_i} − f_{order_i}) + f_i: image i's trial face f_i (``trial_means``) moved by image order_i's
    motion (its landmarks minus its trial's face); (B, 136) each, ``order`` (B,) indices (TF ops)."""
    import tensorflow as tf

    return tf.gather(landmarks - faces, order) + faces


def lower_halves(images) -> np.ndarray:
    """uint8 images (K, S, S, 3) → float32 (K, S/2, S, 3) in [−1, 1]: the rows ≥ S/2 (mouth and jaw in a crop)."""
    images = np.asarray(images)
    return metrics.from_uint8(images[:, images.shape[1] // 2:])


def train_opening_regressor(config: Config, images, landmarks, val_images=None, val_landmarks=None):
    """R (``model.build_opening_regressor``) fitted on the training images: MSE between R(lower half) and the
    standardised opening (o − μ)/σ of their landmarks (``losses.mouth_opening``; μ, σ over these images),
    ``OPENING_REGRESSOR_EPOCHS`` epochs of seeded shuffled batches, Adam(``OPENING_REGRESSOR_LR``). Returns (R, with
    its weights frozen, {"mean": μ, "std": σ, "train_r", "val_r"}): Pearson r of R's openings against the
    landmarks' on the training and (if given) validation images."""
    import keras
    import tensorflow as tf

    from .losses import opening_loss
    from .model import build_opening_regressor

    opening = metrics.mouth_opening(landmarks)
    mean, std = float(opening.mean()), float(max(opening.std(), 1e-6))
    regressor = build_opening_regressor(config)
    optimizer = keras.optimizers.Adam(OPENING_REGRESSOR_LR)
    x, y = lower_halves(images), np.asarray(landmarks, np.float32)

    @tf.function
    def fit_step(xb, yb):
        with tf.GradientTape() as tape:
            loss = opening_loss(regressor(xb, training=True), yb, mean, std)
        optimizer.apply_gradients(zip(tape.gradient(loss, regressor.trainable_variables),
                                      regressor.trainable_variables))

    rng = np.random.default_rng(config.seed)
    batch = min(OPENING_REGRESSOR_BATCH, len(x))
    for _ in range(OPENING_REGRESSOR_EPOCHS):
        order = rng.permutation(len(x))
        for i in range(0, len(x) - batch + 1, batch):
            fit_step(x[order[i:i + batch]], y[order[i:i + batch]])
    regressor.trainable = False

    def r_on(imgs, lms):
        predicted = np.concatenate([np.asarray(regressor(lower_halves(imgs[i:i + 256]), training=False))[:, 0]
                                    for i in range(0, len(imgs), 256)])
        value = metrics.pearson(predicted, metrics.mouth_opening(lms))
        return None if value != value else round(value, 4)  # NaN (no variance) → null in JSON

    scores = {"mean": mean, "std": std, "train_r": r_on(images, landmarks)}
    if val_images is not None and len(val_images) > 1:
        scores["val_r"] = r_on(val_images, val_landmarks)
    return regressor, scores


def population_statistics(generator, landmarks: np.ndarray, config: Config) -> None:
    """Precise BatchNorm: set every BatchNormalization layer of ``generator`` to the mean, over up to
    ``POPULATION_BATCHES`` seeded batches of ``gan_batch_size`` rows of ``landmarks`` with z ~ U(−1, 1), of its
    input's batch mean and (biased) batch variance, the layers before it in training mode as in a G step. An averaged
    G's weights never ran under the moving statistics the live weights' steps left, which speckle its faces."""
    import keras

    norms = [layer for layer in generator.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return
    probe = keras.Model(generator.inputs, [layer.input for layer in norms])
    rng = np.random.default_rng(config.seed + 400)
    batch = min(config.gan_batch_size, len(landmarks))
    order = rng.permutation(len(landmarks))
    count = min(len(landmarks) // batch, POPULATION_BATCHES)
    means, variances = [0.0] * len(norms), [0.0] * len(norms)
    for k in range(count):
        z = rng.uniform(-1.0, 1.0, (batch, config.z_dim)).astype(np.float32)
        for i, x in enumerate(probe([z, landmarks[order[k * batch:(k + 1) * batch]]], training=True)):
            x = np.asarray(x, np.float64)
            axes = tuple(range(x.ndim - 1))
            means[i] = means[i] + x.mean(axis=axes) / count
            variances[i] = variances[i] + x.var(axis=axes) / count
    for layer, mean, variance in zip(norms, means, variances):
        layer.moving_mean.assign(mean.astype(np.float32))
        layer.moving_variance.assign(variance.astype(np.float32))


def train_gan(config: Config, train: Sequence[Trial], val: Sequence[Trial], workdir: Path, *, strategy=None,
              progress: bool = True, max_minutes: float | None = None, landmarker=None):
    """Stage 2 (module docstring) in ``workdir``; returns (generator, discriminator, summary)."""
    import keras
    import tensorflow as tf

    from .losses import discriminator_loss, generator_loss, opening_loss, reconstruction_loss
    from .model import build_discriminator, build_generator

    images, y = gan_examples(train)
    if len(images) < 1:
        raise ValueError("no training images for the GAN (no frame with a face at the gan_frame_step samples)")
    faces = trial_means(train)
    val_images, val_y = gan_examples(val) if val else (np.zeros((0,)), np.zeros((0,)))
    half = config.image_size // 2
    batch = min(config.gan_batch_size, len(images))
    trainer = Trainer(workdir, seed=config.seed, strategy=strategy, progress=progress, max_minutes=max_minutes)
    regressor, opening = None, None
    if config.gan_opening_weight:  # trained first (seeded, deterministic) and frozen, outside the strategy's scope
        regressor, opening = train_opening_regressor(config, images, y, val_images, val_y)
        log.info("opening regressor: r %s on the training images, %s on the validation images", opening["train_r"],
                 opening.get("val_r"))
    with trainer.scope():
        generator, discriminator = build_generator(config), build_discriminator(config)
        d_opt = keras.optimizers.Adam(config.gan_learning_rate * config.d_lr_ratio, beta_1=config.gan_beta1)
        g_opt = keras.optimizers.Adam(config.gan_learning_rate, beta_1=config.gan_beta1)
        d_opt.build(discriminator.trainable_variables)
        g_opt.build(generator.trainable_variables)
        noise = tf.random.Generator.from_seed(config.seed)
        # G's weight average a ← β·a + (1 − β)·w after every step's G updates, from the initial weights; the first
        # replica's value under a distribution strategy (the replicas' weights are equal)
        averaged = [tf.Variable(tf.convert_to_tensor(w), trainable=False,
                                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
                    for w in generator.trainable_variables] if config.gan_average else []
        average = build_generator(config) if averaged else None

    def dataset(epoch: int):
        ds = tf.data.Dataset.from_tensor_slices((images, y, faces)).shuffle(len(images), seed=config.seed + epoch)
        ds = ds.batch(batch, drop_remainder=True)
        return ds.map(lambda a, b, c: {"images": tf.cast(a, tf.float32) / 127.5 - 1.0, "landmarks": b,
                                       "faces": c}).prefetch(2)

    def step(batch_):
        real, cond = batch_["images"], batch_["landmarks"]
        z = noise.uniform((tf.shape(real)[0], config.z_dim), -1.0, 1.0)
        if config.gan_cross_motion:  # each image's trial face moved by another image's motion (its frame − its face)
            moved = move_motion(cond, batch_["faces"], tf.argsort(noise.uniform((tf.shape(real)[0],))))
        with tf.GradientTape() as tape:
            fake = generator([z, cond], training=True)
            d_loss = discriminator_loss(discriminator([real, cond], training=True),
                                        discriminator([fake, cond], training=True), config.real_label)
            share = global_batch_loss(d_loss)
        grads = tape.gradient(share, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))
        g_loss = l1 = opened = tf.constant(0.0)
        for _ in range(config.g_steps):  # the original's two G steps per D step, same z and landmarks
            with tf.GradientTape() as tape:
                fake = generator([z, cond], training=True)
                g_loss = generator_loss(discriminator([fake, cond], training=True))
                total = g_loss
                if config.gan_l1_weight:
                    l1 = reconstruction_loss(real, fake, config.l1_lower_weight)
                    total = g_loss + config.gan_l1_weight * l1
                if regressor is not None:
                    opened = opening_loss(regressor(fake[:, half:], training=False), cond, opening["mean"],
                                          opening["std"])
                    if config.gan_cross_motion:
                        fake_moved = generator([z, moved], training=True)
                        opened += opening_loss(regressor(fake_moved[:, half:], training=False), moved,
                                               opening["mean"], opening["std"])
                    total += config.gan_opening_weight * opened
                share = global_batch_loss(total)
            grads = tape.gradient(share, generator.trainable_variables)
            g_opt.apply_gradients(zip(grads, generator.trainable_variables))
        for a, w in zip(averaged, generator.trainable_variables):
            a.assign(config.gan_average * a + (1.0 - config.gan_average) * w)
        return ({"d_loss": d_loss, "g_loss": g_loss} | ({"l1": l1} if config.gan_l1_weight else {})
                | ({"opening": opened} if regressor is not None else {}))

    pick = np.linspace(0, len(val_images) - 1, min(GAN_VALIDATION_FRAMES, len(val_images))).astype(int)
    val_images, val_y = val_images[pick], val_y[pick]
    val_z = np.random.default_rng(config.seed).uniform(-1, 1, (len(val_y), config.z_dim)).astype(np.float32)

    made_at = [None]  # G's optimizer step when ``average`` last received the average and its statistics

    def kept():
        """The G the run keeps and validation scores: the last step's, or the weight average with its BatchNorm
        statistics recomputed on the training landmarks (once per optimizer step: the last epoch's validation has
        already made the G ``train_gan`` returns)."""
        if average is None:
            return generator
        step = int(np.asarray(g_opt.iterations.value))
        if made_at[0] != step:
            for a, w in zip(averaged, average.trainable_variables):
                w.assign(a)
            population_statistics(average, y, config)
            made_at[0] = step
        return average

    def validate(epoch: int) -> dict:
        if not len(val_y):
            return {}
        shown = kept()
        fake = np.concatenate([np.asarray(shown([val_z[i:i + 64], val_y[i:i + 64]], training=config.legacy_bn))
                               for i in range(0, len(val_y), 64)])
        real = metrics.from_uint8(val_images)
        scores = {"psnr": metrics.psnr(fake, real).mean, "ssim": metrics.ssim(fake, real).mean}
        if landmarker is not None:
            found = metrics.landmark_consistency(metrics.to_uint8(fake), val_y, landmarker, config.landmark_norm)
            scores.update(face_rate=found["detection_rate"], mouth_r=found["mouth_opening_r"])
        return {k: (None if v != v else v) for k, v in scores.items()}  # NaN (no face found) → null in JSON

    state = {"generator_variables": list(generator.variables), "discriminator_variables": list(discriminator.variables),
             "d_optimizer": d_opt, "g_optimizer": g_opt, "noise_state": noise.state}
    if averaged:
        state["generator_average"] = averaged
    result = trainer.fit(state, epochs=config.gan_epochs, steps_per_epoch=len(images) // batch, dataset=dataset,
                         step=step, validate=validate, rows_per_step=batch)
    summary = {"epochs_trained": result.epochs_trained, "epochs_planned": config.gan_epochs,
               "stopped_by_budget": result.stopped_by_budget, "batch_size_used": batch,
               "train_images": int(len(images)), "val_images": int(len(val_y)), "history": result.history,
               "params_generator": int(sum(np.prod(v.shape) for v in generator.trainable_variables)),
               "params_discriminator": int(sum(np.prod(v.shape) for v in discriminator.trainable_variables)),
               "opening_regressor": opening,
               "state_sha256": result.state_sha256,
               "val": result.history[-1] if result.history else None}
    return kept(), discriminator, summary


def train(config: Config, data_dir: str | os.PathLike, workdir: str | os.PathLike, *,
          test_actors: Sequence[str] | None = None, val_actors: Sequence[str] | None = None,
          cnn_minutes: float | None = None, gan_minutes: float | None = None, strategy=None,
          cnn_epochs: int | None = None, gan_epochs: int | None = None, seed: int | None = None,
          progress: bool = True, workers: int | None = None, cpu_devices: int | None = None,
          landmarker=None) -> dict:
    """Train ``config`` on the RAVDESS-layout folder ``data_dir`` into ``workdir`` (module docstring); rerun with the
    same ``workdir`` to resume. ``cnn_epochs``/``gan_epochs``/``seed`` override the config's; ``cnn_minutes`` and
    ``gan_minutes`` are wall-clock budgets of the two stages. Returns the run summary (also the model directory's
    metadata)."""
    started = time.perf_counter()
    overrides = {k: v for k, v in (("cnn_epochs", cnn_epochs), ("gan_epochs", gan_epochs), ("seed", seed))
                 if v is not None}
    config = config.replace(**overrides) if overrides else config
    workdir = Path(workdir)
    train_stems, val_stems, test_stems = split_actors(speech_stems(data_dir), test_actors=test_actors,
                                                      val_actors=val_actors,
                                                      validation_fraction=config.validation_fraction, seed=config.seed)
    log.info("split by actor: %d train, %d validation, %d test (never read) trials", len(train_stems),
             len(val_stems), len(test_stems))
    trials = load_trials(data_dir, config, stems=train_stems + val_stems, cache=workdir / "trials", workers=workers)
    train_trials = [t for t in trials if t.stem in set(train_stems)]
    val_trials = [t for t in trials if t.stem in set(val_stems)]
    strategy_object = make_strategy(strategy, cpu_devices)
    cnn, cnn_summary = train_cnn(config, train_trials, val_trials, workdir / "cnn", strategy=strategy_object,
                                 progress=progress, max_minutes=cnn_minutes)
    if landmarker is None and val_trials:
        from .landmarks import Landmarker

        landmarker = Landmarker(clahe=config.clahe, upsample=config.upsample, upscale=config.upscale,
                                multi_face=config.multi_face)
    generator, discriminator, gan_summary = train_gan(config, train_trials, val_trials, workdir / "gan",
                                                      strategy=strategy_object, progress=progress,
                                                      max_minutes=gan_minutes, landmarker=landmarker)
    first = next(t for t in train_trials if len(t.images))
    summary = {
        **metadata_of(config), "cnn": cnn_summary, "gan": gan_summary, "strategy": str(strategy or "default"),
        "train_trials": train_stems, "val_trials": val_stems, "test_trials": test_stems,
        "test_actors": sorted({actor_of(s) for s in test_stems}),
        "train_frames": int(sum(t.frames for t in train_trials)),
        "dropped_frames": int(sum(t.dropped for t in trials)),
        "reference": {"trial": first.stem, "row": int(first.image_rows[0])},
        "seconds": round(time.perf_counter() - started, 1),
    }
    arrays = {MEAN_LANDMARKS: np.concatenate([t.landmarks for t in train_trials]).mean(axis=0, dtype=np.float64)
              .astype(np.float32),
              REFERENCE_IMAGE: metrics.from_uint8(first.images[0]),
              REFERENCE_LANDMARKS: first.landmarks[first.image_rows[0]]}
    if strategy_object.extended.should_checkpoint:
        write_model_dir(workdir / "model", config=config.to_dict(),
                        model=build_network(config, cnn, generator, discriminator), metadata=summary, arrays=arrays)
    return summary


__all__ = ["train", "train_cnn", "train_gan", "train_opening_regressor", "sequences", "predict_trials",
           "landmark_scores", "gan_examples", "trial_means", "move_motion", "lower_halves", "population_statistics",
           "GAN_VALIDATION_FRAMES"]
