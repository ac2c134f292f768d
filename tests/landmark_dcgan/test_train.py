"""Training on zoo.core's trainer: the split by actor (test files never read), both stages' histories, the model
directory, the loss falls, a rerun resumes, and the GRU variant trains on sequences."""
from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import check_small_overfit

from zoo.landmark_dcgan.config import GOLDEN_PARAMS, preset
from zoo.landmark_dcgan.data import Trial
from zoo.landmark_dcgan.train import move_motion, predict_trials, sequences, train, train_cnn


def test_trained_model_directory(trained, split):
    model_dir, summary = trained
    assert summary["test_actors"] == split["test_actors"]
    assert all(s.endswith("-04") for s in summary["test_trials"]) and len(summary["test_trials"]) == 2
    assert all(s.endswith("-03") for s in summary["val_trials"]) and len(summary["train_trials"]) == 4
    assert summary["cnn"]["params"] == GOLDEN_PARAMS["cnn"]
    assert summary["cnn"]["epochs_trained"] == 4 and summary["gan"]["epochs_trained"] == 2
    for name in ("config.json", "model.weights.h5", "metadata.json", "mean_landmarks.npy", "reference_image.npy",
                 "reference_landmarks.npy"):
        assert (model_dir / name).is_file(), name
    meta = json.loads((model_dir / "metadata.json").read_text())
    assert meta["model"] == "landmark_dcgan" and len(meta["output_names"]) == 136
    assert meta["fps"] == pytest.approx(100 / 3) and meta["window_seconds"] == 0.06
    mean = np.load(model_dir / "mean_landmarks.npy")
    assert mean.shape == (136,) and 0.3 < mean.mean() < 0.7


def test_cnn_overfits_two_trials(ravdess_dir, tmp_path):
    """The small-overfit test: on two trials' frames the training loss falls 3× below the mean face's MSE (where the
    output bias starts it)."""
    from zoo.landmark_dcgan.data import load_trials, speech_stems

    config = preset("tiny", cnn_epochs=40, cnn_batch_size=16, log_magnitude=True)
    trials = load_trials(ravdess_dir, config, stems=speech_stems(ravdess_dir)[:2], workers=1)
    _, summary = train_cnn(config, trials, [], tmp_path, progress=False)
    targets = np.concatenate([t.landmarks for t in trials])
    variance = float(((targets - targets.mean(axis=0)) ** 2).mean())
    check_small_overfit([{"train_loss": variance}, summary["history"][-1]], factor=3.0)


def test_gan_steps_run(trained):
    _, summary = trained
    assert summary["cnn"]["history"][-1]["train_loss"] < summary["cnn"]["history"][0]["train_loss"]
    gan = summary["gan"]["history"]
    assert [set(r) >= {"train_d_loss", "train_g_loss", "val_psnr", "val_ssim", "val_face_rate"} for r in gan] == \
           [True, True]
    assert all(np.isfinite(r["train_d_loss"]) and np.isfinite(r["train_g_loss"]) for r in gan)
    # 2 actors × 2 trials, every 2nd frame an image, batches of 8 (the last partial one dropped)
    assert summary["gan"]["train_images"] >= 80 and summary["gan"]["batch_size_used"] == 8


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_gan_options_train_a_conditioned_reconstruction(ravdess_dir, tmp_path):
    """The recipe's GAN options (landmarks at G's input, L1 λ 100, D at a quarter of the rate, real target 0.9): the
    L1 term is recorded and falls by half within eight epochs on two trials' faces (four were declared first:
    0.60× the first epoch's)."""
    from zoo.landmark_dcgan.data import load_trials, speech_stems
    from zoo.landmark_dcgan.train import train_gan

    config = preset("tiny", gan_frame_step=1, gan_epochs=8, gan_l1_weight=100.0, g_input_landmarks=True,
                    d_lr_ratio=0.25, real_label=0.9)
    trials = load_trials(ravdess_dir, config, stems=speech_stems(ravdess_dir)[:2], workers=1)
    generator, _, summary = train_gan(config, trials, [], tmp_path, progress=False)
    l1 = [h["train_l1"] for h in summary["history"]]
    assert len(l1) == 8 and l1[-1] < 0.5 * l1[0]
    assert generator.get_layer("g_h0_lin").kernel.shape[0] == config.z_dim + 136


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_opening_regressor_reads_an_unseen_actors_mouth_and_the_opening_loss_trains(ravdess_dir, tmp_path):
    """R trained on two actors' face crops reads the mouth opening of a third actor's crops (declared first: Pearson
    r ≥ 0.9 on its training crops and ≥ 0.5 on the unseen actor's); the GAN trains with the opening loss on its
    faces and on moved motion, the regressor's scores in its summary."""
    from zoo.landmark_dcgan.data import load_trials, speech_stems
    from zoo.landmark_dcgan.train import gan_examples, train_gan, train_opening_regressor

    config = preset("tiny", gan_frame_step=1, gan_epochs=2, gan_l1_weight=100.0, gan_opening_weight=1.0,
                    gan_cross_motion=True)
    trials = load_trials(ravdess_dir, config, stems=[s for s in speech_stems(ravdess_dir) if s[-2:] != "04"],
                         workers=1)
    train_trials = [t for t in trials if t.actor != "Actor_03"]
    unseen = [t for t in trials if t.actor == "Actor_03"]
    regressor, scores = train_opening_regressor(config, *gan_examples(train_trials), *gan_examples(unseen))
    assert scores["train_r"] >= 0.9 and scores["val_r"] >= 0.5, scores
    assert not regressor.trainable_weights and regressor.input_shape == (None, 32, 64, 3)
    _, _, summary = train_gan(config, train_trials, [], tmp_path, progress=False)
    assert summary["opening_regressor"]["train_r"] == scores["train_r"]  # seeded: the same R
    assert all(np.isfinite(h["train_opening"]) for h in summary["history"]) and len(summary["history"]) == 2


def test_population_statistics_of_one_batch_make_inference_mode_equal_training_mode():
    """With as many landmarks as one batch, the statistics are that batch's: G in inference mode then draws what
    it draws in training mode on the same (seeded) z and rows."""
    from zoo.landmark_dcgan.model import build_generator
    from zoo.landmark_dcgan.train import population_statistics

    config = preset("tiny", gan_batch_size=8, g_input_landmarks=True)
    generator = build_generator(config)
    landmarks = np.random.default_rng(1).uniform(0.2, 0.8, (8, 136)).astype(np.float32)
    before = np.asarray(generator([np.zeros((8, config.z_dim), np.float32), landmarks], training=False))
    population_statistics(generator, landmarks, config)
    rng = np.random.default_rng(config.seed + 400)  # the function's draws: the row order, then z
    rows = landmarks[rng.permutation(8)]
    z = rng.uniform(-1.0, 1.0, (8, config.z_dim)).astype(np.float32)
    inference = np.asarray(generator([z, rows], training=False))
    np.testing.assert_allclose(inference, np.asarray(generator([z, rows], training=True)), atol=2e-5)
    assert np.abs(before - np.asarray(generator([np.zeros_like(z), landmarks], training=False))).max() > 1e-3


@pytest.mark.parametrize("strategy", [None, "mirrored"])
def test_gan_average_is_the_kept_generator(ravdess_dir, tmp_path, strategy):
    """With ``gan_average`` β the returned G holds the checkpointed weight average (not the last step's weights)
    with population BatchNorm statistics, also under a (one-CPU) mirrored strategy."""
    import tensorflow as tf

    from zoo.landmark_dcgan.data import load_trials, speech_stems
    from zoo.landmark_dcgan.model import build_generator
    from zoo.landmark_dcgan.train import gan_examples, population_statistics, train_gan

    config = preset("tiny", gan_epochs=1, gan_l1_weight=100.0, g_input_landmarks=True, gan_average=0.9)
    trials = load_trials(ravdess_dir, config, stems=speech_stems(ravdess_dir)[:2], workers=1)
    kept, _, summary = train_gan(config, trials, [], tmp_path, strategy=strategy, progress=False)
    live, average = build_generator(config), build_generator(config)
    averaged = [tf.Variable(w, trainable=False) for w in live.trainable_variables]
    tf.train.Checkpoint(generator_variables=list(live.variables), generator_average=averaged).restore(
        tf.train.latest_checkpoint(str(tmp_path / "checkpoints"))).expect_partial()
    for a, k in zip(averaged, kept.trainable_variables):
        np.testing.assert_array_equal(np.asarray(k), np.asarray(a))
    assert max(np.abs(np.asarray(w) - np.asarray(k)).max() for w, k in zip(live.weights, kept.weights)) > 1e-3
    for w, a in zip(average.trainable_variables, averaged):
        w.assign(a)
    population_statistics(average, gan_examples(trials)[1], config)
    for w, k in zip(average.weights, kept.weights):
        np.testing.assert_allclose(np.asarray(k), np.asarray(w), atol=1e-6, err_msg=w.path)


def test_moved_motion_puts_another_frames_motion_on_each_trials_face():
    faces = np.array([[0.1, 0.2], [0.5, 0.5], [0.9, 0.7]], np.float32)  # three trials' faces (2 values each)
    frames = faces + np.array([[0.01, 0.0], [0.0, 0.02], [-0.03, 0.0]], np.float32)  # their motions
    moved = np.asarray(move_motion(frames, faces, [2, 0, 1]))
    np.testing.assert_allclose(moved, faces + np.array([[-0.03, 0.0], [0.01, 0.0], [0.0, 0.02]]), atol=1e-7)
    np.testing.assert_allclose(np.asarray(move_motion(frames, faces, [0, 1, 2])), frames, atol=1e-7)


def test_rerun_resumes_without_training_again(trained, poisoned_dir, split):
    model_dir, summary = trained
    again = train(preset("tiny", **split["settings"]), poisoned_dir, model_dir.parent,
                           test_actors=split["test_actors"], val_actors=split["val_actors"], progress=False,
                           workers=1)
    assert again["cnn"]["state_sha256"] == summary["cnn"]["state_sha256"]
    assert again["gan"]["state_sha256"] == summary["gan"]["state_sha256"]
    assert len(again["cnn"]["history"]) == 4


def _trial(frames: int, seed: int) -> Trial:
    rng = np.random.default_rng(seed)
    return Trial(stem=f"03-01-01-01-01-01-{seed:02d}", actor=f"Actor_{seed:02d}", emotion="neutral", audio_path="",
                 video_path="", features=rng.random((frames, 128, 23, 1), np.float32),
                 landmarks=rng.random((frames, 136), np.float32), points=np.zeros((frames, 68, 2), np.float32),
                 times_s=np.arange(frames) * 0.03, images=np.zeros((0, 64, 64, 3), np.uint8),
                 image_rows=np.zeros(0, np.int64), dropped=0)


def test_sequences_are_runs_of_consecutive_frames():
    trials = [_trial(20, 1), _trial(5, 2)]
    x, y = sequences(trials, 8)
    assert x.shape == (4, 8, 128, 23, 1) and y.shape == (4, 8, 136)  # starts 0, 4, 8, 12 of the first trial
    np.testing.assert_array_equal(y[1], trials[0].landmarks[4:12])
    with pytest.raises(ValueError, match="no training trial has 30 frames"):
        sequences(trials, 30)


def test_gru_variant_trains_on_sequences(tmp_path):
    config = preset("tiny", gru=True, sequence_length=8, cnn_batch_size=16, cnn_epochs=2)
    cnn, summary = train_cnn(config, [_trial(24, 1), _trial(20, 2)], [_trial(12, 3)], tmp_path,
                                      progress=False)
    assert summary["params"] == GOLDEN_PARAMS["cnn_report"] and summary["batch_size_used"] == 2
    assert summary["train_rows"] == 5 + 4 and len(summary["history"]) == 2
    out = predict_trials(cnn, [_trial(12, 3)], gru=True)
    assert out[0].shape == (12, 136) and np.all((out[0] > 0) & (out[0] < 1))
