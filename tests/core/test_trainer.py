"""The shared trainer on a toy regression: it learns, resumes bit-identically, honours the budget, logs."""
from __future__ import annotations

import json

import numpy as np


def _fit(workdir, epochs: int, max_minutes=None, monitor=None, patience=0, noise_after=None, stop_when=None,
         strategy=None):
    import keras
    import tensorflow as tf

    from zoo.core.trainer import Trainer, global_batch_loss

    trainer = Trainer(workdir, seed=5, progress=False, max_minutes=max_minutes, strategy=strategy)
    with trainer.scope():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dropout(0.3), keras.layers.Dense(1)])
        optimizer = keras.optimizers.Adam(1e-2)
        optimizer.build(model.trainable_variables)
    x = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    y = np.tanh(x @ np.array([[1.0], [-2.0], [0.5], [0.0]], np.float32))

    def dataset(epoch):
        return tf.data.Dataset.from_tensor_slices({"x": x, "y": y}).shuffle(256, seed=epoch).batch(32, True)

    def step(batch):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(batch["x"], training=True) - batch["y"]))
            share = global_batch_loss(loss)
        grads = tape.gradient(share, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return {"loss": loss}

    def validate(epoch):  # ``noise_after``: validation gets worse after that epoch (an overfitting stand-in)
        worse = 0.0 if noise_after is None or epoch < noise_after else float(epoch - noise_after + 1)
        return {"mse": float(np.mean((model(x).numpy() - y) ** 2)) + worse, "mse_mean_pose": float(np.var(y))}

    result = trainer.fit({"model_variables": list(model.variables), "optimizer": optimizer}, epochs=epochs,
                         steps_per_epoch=8, dataset=dataset, step=step, validate=validate, rows_per_step=32,
                         monitor=monitor, patience=patience, stop_when=stop_when)
    result.weights = [w.copy() for w in model.get_weights()]
    return result


def test_learns_logs_and_resumes_bit_identically(tmp_path):
    straight = _fit(tmp_path / "straight", epochs=4)
    history = straight.history
    assert [r["epoch"] for r in history] == [1, 2, 3, 4] and straight.epochs_trained == 4
    assert history[-1]["val_mse"] < 0.5 * history[-1]["val_mse_mean_pose"]  # beats the mean by 2×
    assert history[-1]["train_loss"] < history[0]["train_loss"] / 2
    assert json.loads((tmp_path / "straight" / "history.json").read_text()) == history
    assert any((tmp_path / "straight" / "tensorboard").iterdir())
    stopped = _fit(tmp_path / "resumed", epochs=4, max_minutes=0)  # the budget stops it after one epoch
    assert stopped.epochs_trained == 1 and stopped.stopped_by_budget
    resumed = _fit(tmp_path / "resumed", epochs=4)  # dropout masks, Adam and the data order continue exactly
    assert resumed.epochs_trained == 4 and len(resumed.history) == 4
    assert resumed.state_sha256 == straight.state_sha256


def test_early_stopping_keeps_the_best_epoch_and_a_rerun_stops_again(tmp_path):
    """Validation worsens from epoch 3 on: patience 2 stops after epoch 4 with epoch 2's weights restored,
    equal to a plain 2-epoch run's; rerunning the stopped run trains nothing more."""
    plain = _fit(tmp_path / "plain", epochs=2)
    early = _fit(tmp_path / "early", epochs=8, monitor="mse", patience=2, noise_after=2)
    assert early.stopped_early and early.best_epoch == 2 and early.epochs_trained == 4
    assert [r["best_epoch"] for r in early.history] == [1, 2, 2, 2]
    assert all(np.array_equal(a, b) for a, b in zip(early.weights, plain.weights))
    again = _fit(tmp_path / "early", epochs=8, monitor="mse", patience=2, noise_after=2)
    assert again.stopped_early and again.best_epoch == 2 and len(again.history) == 4
    assert all(np.array_equal(a, b) for a, b in zip(again.weights, plain.weights))
    kept = _fit(tmp_path / "no-patience", epochs=4, monitor="mse", noise_after=2)  # no stop, best restored
    assert not kept.stopped_early and kept.epochs_trained == 4 and kept.best_epoch == 2


def test_a_models_own_stopping_rule_stops_after_the_epoch_where_it_holds(tmp_path):
    """``stop_when(history)``: validation worsens by 1 a epoch from epoch 3 on (≈ 0.01 → 1.01), so a rule "rose by
    more than half over the best" holds after epoch 3; training stops there, the best epoch (2) is restored, and
    a rerun stops again at once. The rule sees every record so far, in order."""
    seen = []

    def rose_by_half(history):
        seen.append([r["epoch"] for r in history])
        losses = [r["val_mse"] for r in history]
        return len(losses) > 1 and (losses[-1] - min(losses[:-1])) / min(losses[:-1]) > 0.5

    plain = _fit(tmp_path / "plain", epochs=2)
    ruled = _fit(tmp_path / "ruled", epochs=8, monitor="mse", noise_after=2, stop_when=rose_by_half)
    assert seen == [[1], [1, 2], [1, 2, 3]]
    assert ruled.stopped_early and ruled.epochs_trained == 3 and ruled.best_epoch == 2
    assert all(np.array_equal(a, b) for a, b in zip(ruled.weights, plain.weights))
    again = _fit(tmp_path / "ruled", epochs=8, monitor="mse", noise_after=2, stop_when=rose_by_half)
    assert again.stopped_early and len(again.history) == 3
    never = _fit(tmp_path / "never", epochs=3, noise_after=2, stop_when=lambda history: False)
    assert not never.stopped_early and never.epochs_trained == 3


def test_a_constant_learning_rate_is_logged_under_a_mirrored_strategy(tmp_path):
    """Under ``mirrored`` (here over the one CPU) the optimizer's constant learning rate is a MirroredVariable, which
    has no float(): the history still records it."""
    mirrored = _fit(tmp_path / "mirrored", epochs=1, strategy="mirrored")
    assert mirrored.history[0]["learning_rate"] == np.float32(1e-2)
