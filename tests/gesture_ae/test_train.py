"""Training of Aud2Repr2Pose: the split by file, features and windows cut on the fly, the DAE stage with the
original's stopping rule, a small overfit, resume, and what the model directory records."""
from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import check_small_overfit

from zoo.gesture_ae import features as feats
from zoo.gesture_ae import motion as mo
from zoo.gesture_ae.config import preset
from zoo.gesture_ae.losses import dae_should_stop
from zoo.gesture_ae.train import load_takes, split_ids

TRAIN_IDS, VAL_IDS, TEST_IDS = [20, 35], [65], [50]  # the split of conftest's trained models


# -- the split (no TensorFlow) ---------------------------------------------------------------------------------
def test_the_original_ids_split_into_its_train_dev_and_test_files():
    ids = [20, 21, 500, 1091, 1092, 1093, 1094, 1181, 1182]
    train, val, test = split_ids(ids)
    assert (train, val, test) == ([20, 21, 500, 1091], [1093, 1181], [1092, 1094, 1182])


def test_without_dev_ids_a_seeded_fraction_of_the_training_files_validates():
    ids = list(range(20, 60))
    train, val, test = split_ids(ids, validation_fraction=0.1, seed=3)
    assert test == [] and len(val) == 4 and sorted(train + val) == ids and not set(train) & set(val)
    assert split_ids(ids, validation_fraction=0.1, seed=3) == (train, val, test)  # seeded
    assert split_ids(ids, validation_fraction=0.1, seed=4)[1] != val
    # at least one file validates when any can be spared; none with a fraction of 0
    assert len(split_ids([20, 21], validation_fraction=0.1)[1]) == 1
    assert split_ids([20, 21], validation_fraction=0.0)[1] == []
    assert split_ids([20], validation_fraction=0.1) == ([20], [], [])


def test_given_ids_win_and_bad_ones_are_refused():
    ids = [20, 35, 50, 65, 1093]
    assert split_ids(ids, val_ids=[35], test_ids=[50, 65]) == ([20, 1093], [35], [50, 65])
    with pytest.raises(ValueError, match=r"validation ids \[36\] are not in the data"):
        split_ids(ids, val_ids=[36])
    with pytest.raises(ValueError, match=r"ids \[35\] are both validation and test"):
        split_ids(ids, val_ids=[35], test_ids=[35])
    with pytest.raises(ValueError, match="no training files are left"):
        split_ids(ids, val_ids=[20, 35], test_ids=[50, 65, 1093])


# -- takes and windows -----------------------------------------------------------------------------------------
def test_takes_cut_features_and_motion_to_their_common_length(gesture_dir, tmp_path):
    from zoo.datasets import gesture_skeleton, read_gesture_clip

    config = preset("tiny")
    takes = load_takes(gesture_dir, [20, 50], config, gesture_skeleton(), cache_dir=tmp_path)
    for take in takes:
        clip = read_gesture_clip(gesture_dir, take.id, sample_rate=44100, max_missing_frames=None)
        features = feats.features(clip.audio, 44100, "MFCC")
        frames = min(len(features), clip.num_frames)
        assert len(take.features) == len(take.positions) == len(take.targets) == frames > 150
        np.testing.assert_array_equal(take.features, features[:frames])
        np.testing.assert_array_equal(take.positions, clip.targets[:frames])
        np.testing.assert_array_equal(take.targets, mo.with_velocity(clip.targets[:frames]))
    assert len(list(tmp_path.rglob("*.npy"))) == 2  # one cached feature array per take
    again = load_takes(gesture_dir, [20], config, gesture_skeleton(), cache_dir=tmp_path)
    np.testing.assert_array_equal(again[0].features, takes[0].features)


def test_windows_cut_on_the_fly_equal_the_materialised_context_windows(gesture_dir):
    from zoo.datasets import Clip, gesture_skeleton
    from zoo.datasets.tfdata import FrameTable, window_dataset

    takes = load_takes(gesture_dir, [35, 65], preset("tiny"), gesture_skeleton())
    clips = [Clip(None, None, t.targets, 20, "joints3d", [f"y{k}" for k in range(384)]) for t in takes]
    table = FrameTable(clips, None, audio=False, features=[t.features for t in takes], context=(30, 30),
                       pad=feats.silence_vector("MFCC"))
    got = np.concatenate([b["features"].numpy() for b in window_dataset(table, batch_size=97)])
    expected = np.concatenate([feats.context_windows(t.features) for t in takes])
    assert got.shape == expected.shape == (sum(len(t.features) for t in takes), 61, 26)
    np.testing.assert_array_equal(got, expected)
    assert got[0, 0, 0] == pytest.approx(-36.0437, abs=1e-4)  # the silence row before the first frame


# -- the trained tiny model ------------------------------------------------------------------------------------
def test_the_model_directory_records_the_split_skeleton_and_mean_pose(trained, gesture_dir):
    from zoo.datasets import gesture_skeleton

    model_dir, summary = trained
    assert (summary["train_ids"], summary["val_ids"], summary["test_ids"]) == (TRAIN_IDS, VAL_IDS, TEST_IDS)
    meta = json.loads((model_dir / "metadata.json").read_text())
    assert meta["train_ids"] == TRAIN_IDS and meta["test_ids"] == TEST_IDS and meta["representation"] == "positions"
    assert mo.skeleton_from_json(meta["skeleton"]) == gesture_skeleton()
    assert meta["output_names"][:4] == ["Hips.x", "Hips.y", "Hips.z", "Spine.x"] and len(meta["output_names"]) == 192
    assert meta["window_seconds"] == 61 / 20 and meta["lookahead_seconds"] == 1.5 and meta["sample_rate"] == 44100
    takes = load_takes(gesture_dir, TRAIN_IDS, preset("tiny"), gesture_skeleton())
    assert summary["train_frames"] == sum(len(t.positions) for t in takes)
    expected = np.concatenate([t.positions for t in takes]).mean(axis=0, dtype=np.float64)
    np.testing.assert_allclose(np.load(model_dir / "mean_pose.npy"), expected, atol=1e-4)
    assert sorted(p.name for p in model_dir.iterdir()) == ["config.json", "mean_pose.npy", "metadata.json",
                                                           "model.weights.h5"]
    # both stages logged; the DAE ran in WORKDIR/dae and SpeechE validated on the held-out file
    assert [r["epoch"] for r in summary["history"]] == [1, 2] and summary["dae"]["epochs_trained"] == 2
    assert {"val_loss", "val_pose_mse", "val_ape_cm", "train_loss", "rows_per_second"} <= set(summary["history"][0])
    assert (model_dir.parent / "dae" / "dae.weights.h5").is_file()
    assert json.loads((model_dir.parent / "history.json").read_text()) == summary["history"]


def test_the_dae_is_reused_from_another_run(trained, poisoned_dir, tmp_path):
    from zoo.gesture_ae.predict import Predictor
    from zoo.gesture_ae.train import train

    model_dir, _ = trained
    summary = train(preset("tiny", epochs=0), poisoned_dir, tmp_path, val_ids=VAL_IDS, test_ids=TEST_IDS,
                    dae_dir=model_dir.parent / "dae", progress=False)
    assert summary["dae"] == {"from": str(model_dir.parent / "dae")} and not (tmp_path / "dae").exists()
    source, reused = Predictor.load(model_dir), Predictor.load(tmp_path / "model")
    for a, b in zip(source.network.dae.get_weights(), reused.network.dae.get_weights()):
        np.testing.assert_array_equal(a, b)


# -- stage 1: the DAE and its stopping rule ---------------------------------------------------------------------
def _poses(frames: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(frames, 3)) @ rng.normal(size=(3, 24)) * 4 + 20).astype(np.float32)


def test_the_dae_stops_at_the_first_epoch_whose_validation_loss_rose_past_the_threshold(tmp_path):
    """An Adam step of 0.3 makes the validation loss jump about; a threshold of 5 % stops at the first jump past
    it. The best epoch's DAE is the one returned."""
    from zoo.gesture_ae.losses import dae_reconstruction_loss
    from zoo.gesture_ae.train import train_dae

    config = preset("tiny", output_dim=24, code_dim=4, dae_learning_rate=0.3, dae_epochs=30, dae_stop_threshold=0.05)
    val = _poses(200, 1)
    dae, summary = train_dae(config, _poses(512, 0), val, tmp_path / "dae", strategy=None, progress=False)
    losses = [r["val_loss"] for r in summary["history"]]
    assert summary["stopped_early"] and 2 <= len(losses) < 30
    assert dae_should_stop(losses, 0.05) and not any(dae_should_stop(losses[:k], 0.05) for k in range(1, len(losses)))
    assert summary["best_epoch"] == int(np.argmin(losses)) + 1
    assert float(dae_reconstruction_loss(dae, val, training=False)) == pytest.approx(min(losses), rel=1e-5)
    # without the rule every epoch runs
    free, summary = train_dae(config.replace(dae_early_stopping=False, dae_epochs=len(losses) + 2), _poses(512, 0),
                              val, tmp_path / "free", strategy=None, progress=False)
    assert not summary["stopped_early"] and summary["epochs_trained"] == len(losses) + 2


# -- stage 2: learning, resume -------------------------------------------------------------------------------------
FACTOR = 20  # declared before measuring: the training loss on one take falls at least 20-fold


def test_small_overfit_on_one_take(poisoned_dir, tmp_path):
    """The baseline (pose targets), 32 wide, no dropout, Adam 0.03, 15 epochs of 7 batches on take 20 alone: the
    loss falls ≥ FACTOR-fold and ends below the spread of the take's poses around their mean (it learned more
    than the mean pose)."""
    from zoo.datasets import gesture_skeleton
    from zoo.gesture_ae.train import train

    config = preset("tiny", target="pose", hidden=32, dropout=0.0, learning_rate=0.03, epochs=15,
                    output_bias="zeros")  # the original's start: the loss begins at the poses' full size
    summary = train(config, poisoned_dir, tmp_path, val_ids=[], test_ids=[35, 50, 65], progress=False)
    assert summary["train_ids"] == [20] and summary["batch_size_used"] == 32
    check_small_overfit(summary["history"], FACTOR)
    targets = load_takes(poisoned_dir, [20], config, gesture_skeleton())[0].targets
    assert summary["history"][-1]["train_loss"] < float(np.mean(np.var(targets, axis=0)))


def test_standardised_targets_are_folded_into_the_output_layer(poisoned_dir, tmp_path):
    """With ``standardize_targets`` the saved network predicts raw targets: the validation loss the trainer recorded
    (standardised outputs scaled back) equals the MSE of the loaded model directory's outputs on the same take."""
    from zoo.datasets import gesture_skeleton
    from zoo.gesture_ae import Predictor
    from zoo.gesture_ae.train import train

    config = preset("tiny", target="pose", standardize_targets=True, epochs=1)
    summary = train(config, poisoned_dir, tmp_path, val_ids=[65], test_ids=[50], progress=False)
    take = load_takes(poisoned_dir, [65], config, gesture_skeleton())[0]
    predicted = Predictor.load(tmp_path / "model").run(take.features)
    mse = float(np.mean((predicted - take.targets) ** 2))
    assert mse == pytest.approx(summary["val"]["val_loss"], rel=1e-4)


@pytest.mark.slow  # three tiny runs, ~22 s
def test_a_rerun_resumes_the_interrupted_run_bit_identically(poisoned_dir, tmp_path):
    from zoo.gesture_ae.train import train

    config = preset("tiny", epochs=1, dae_epochs=2)
    options = {"val_ids": VAL_IDS, "test_ids": TEST_IDS, "progress": False}
    first = train(config, poisoned_dir, tmp_path / "a", **options)
    resumed = train(config.replace(epochs=2), poisoned_dir, tmp_path / "a", **options)
    straight = train(config.replace(epochs=2), poisoned_dir, tmp_path / "b", **options)
    assert resumed["history"][0] == first["history"][0]  # epoch 1 was not redone
    assert resumed["dae"]["history"] == first["dae"]["history"]  # nor the DAE
    assert resumed["state_sha256"] == straight["state_sha256"]
    assert resumed["epochs_trained"] == straight["epochs_trained"] == 2


def test_the_rotation_representation_trains_on_13_joints(trained_rotations):
    model_dir, summary = trained_rotations
    config = json.loads((model_dir / "config.json").read_text())
    assert config["output_dim"] == 39 and config["representation"] == "rotations"  # 13 joints × 3, not GENEA's 45
    assert summary["rotation_joints"] == list(mo.ROTATION_JOINTS)
    assert summary["output_names"][:3] == ["Hips.ex", "Hips.ey", "Hips.ez"] and len(summary["output_names"]) == 39 + 192
    assert np.load(model_dir / "base_values.npy").shape == (306,)
    assert "val_ape_cm" not in summary["history"][0] and summary["history"][0]["val_pose_mse"] > 0
