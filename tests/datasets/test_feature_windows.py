"""Feature context windows cut on the fly by ``FrameTable(context=(past, future), pad=...)``."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.datasets import Clip, FrameTable, WindowSpec, frame_windows, pair_dataset, run_dataset, window_dataset

DIMS = 3
PAD = np.array([-1.0, -2.0, -3.0], np.float32)


def _clip(frames: int, k: int, audio: bool = False) -> Clip:
    targets = np.arange(frames * 2, dtype=np.float32).reshape(frames, 2) + 1000 * k
    if not audio:
        return Clip(audio=None, sample_rate=None, targets=targets, fps=20, target_kind="joints3d",
                    channel_names=("x", "y"), source=f"clip{k}")
    samples = (np.arange(frames * 800) % 97 / 200 + 0.01 * k).astype(np.float32)  # 20 fps at 16 kHz
    return Clip(audio=samples, sample_rate=16000, targets=targets, fps=20, target_kind="joints3d",
                channel_names=("x", "y"), source=f"clip{k}.wav")


def _features(frames: int, k: int) -> np.ndarray:
    """Row i of clip k holds (100k + i, 100k + i + 0.25, 100k + i + 0.5): its clip and frame can be read back."""
    return (100 * k + np.arange(frames)[:, None] + np.array([0.0, 0.25, 0.5])).astype(np.float32)


def _reference(feats: np.ndarray, past: int, future: int, pad: np.ndarray) -> np.ndarray:
    """NumPy windows of one clip: rows i − past … i + future of the clip padded with ``pad``, (T, past+1+future, D)."""
    padded = np.concatenate([np.tile(pad, (past, 1)), feats, np.tile(pad, (future, 1))])
    return np.stack([padded[i:i + past + 1 + future] for i in range(len(feats))])


LENGTHS = (5, 40, 3)


@pytest.fixture
def clips():
    return [_clip(n, k) for k, n in enumerate(LENGTHS)]


@pytest.mark.parametrize("past,future", [(30, 30), (2, 3), (0, 4), (3, 0)])
def test_windows_equal_the_numpy_reference(clips, past, future):
    feats = [_features(n, k) for k, n in enumerate(LENGTHS)]
    table = FrameTable(clips, None, audio=False, features=feats, context=(past, future), pad=PAD)
    assert table.features.shape == (sum(LENGTHS) + (past + future) * len(LENGTHS), DIMS)  # rows stored once
    assert table.features.dtype.name == "float32" and table.context == (past, future)
    batches = list(window_dataset(table, batch_size=16))
    assert [b["features"].shape for b in batches] == [(16, past + 1 + future, DIMS)] * 3  # 48 frames
    got = np.concatenate([b["features"].numpy() for b in batches])
    assert got.dtype == np.float32
    expected = np.concatenate([_reference(f, past, future, PAD) for f in feats])
    np.testing.assert_array_equal(got, expected)
    # no leakage: every non-pad row of a window belongs to the window's own clip, at the right offset
    clip_ids = np.concatenate([b["clip"].numpy() for b in batches])
    frame_ids = np.concatenate([b["frame"].numpy() for b in batches])
    for window, k, i in zip(got, clip_ids, frame_ids):
        real = window[:, 0] >= 0
        assert (window[~real] == PAD).all()
        assert (window[real, 0] // 100 == k).all()
        assert window[past, 0] == 100 * k + i  # the centre (past-th) row is the frame itself
        offsets = np.flatnonzero(real) - past
        np.testing.assert_array_equal(window[real, 0] - 100 * k, i + offsets)


def test_pairs_and_runs_deliver_windows(clips):
    feats = [_features(n, k) for k, n in enumerate(LENGTHS)]
    table = FrameTable(clips, None, audio=False, features=feats, context=(4, 2), pad=PAD)
    refs = [_reference(f, 4, 2, PAD) for f in feats]
    for batch in pair_dataset(table, batch_size=8, seed=1):
        assert batch["features"].shape == (8, 7, DIMS)
        for window, k, i in zip(batch["features"].numpy(), batch["clip"].numpy(), batch["frame"].numpy()):
            np.testing.assert_array_equal(window, refs[k][i])
    stacked = next(iter(pair_dataset(table, batch_size=8, seed=1, stacked=True)))
    assert stacked["features"].shape == (4, 2, 7, DIMS)
    runs = list(run_dataset(table, length=3, batch_size=4, seed=2))
    assert runs and all(r["features"].shape == (4, 3, 7, DIMS) for r in runs)
    for run in runs:
        for windows, k, frames in zip(run["features"].numpy(), run["clip"].numpy(), run["frame"].numpy()):
            np.testing.assert_array_equal(windows, refs[k[0]][frames])


def test_audio_windows_and_feature_windows_together():
    clips = [_clip(6, 0, audio=True), _clip(4, 1, audio=True)]
    spec = WindowSpec(0.1, None)
    feats = [_features(6, 0), _features(4, 1)]
    table = FrameTable(clips, spec, features=feats, context=(1, 1))
    (batch,) = list(window_dataset(table, batch_size=10))
    expected = np.concatenate([frame_windows(c.audio, 16000, 20, c.num_frames, spec) for c in clips])
    np.testing.assert_array_equal(batch["audio"].numpy(), expected)
    zeros = np.zeros(DIMS, np.float32)  # the default pad row
    np.testing.assert_array_equal(batch["features"].numpy(),
                                  np.concatenate([_reference(f, 1, 1, zeros) for f in feats]))


def test_without_context_features_stay_per_frame(clips):
    feats = [_features(n, k) for k, n in enumerate(LENGTHS)]
    table = FrameTable(clips, None, audio=False, features=feats)
    assert table.context is None
    (batch,) = list(window_dataset(table, batch_size=48))
    np.testing.assert_array_equal(batch["features"].numpy(), np.concatenate(feats))


def test_bad_context_arguments_are_refused(clips):
    feats = [_features(n, k) for k, n in enumerate(LENGTHS)]
    with pytest.raises(ValueError, match="needs context"):
        FrameTable(clips, None, audio=False, features=feats, pad=PAD)
    with pytest.raises(ValueError, match="pass features"):
        FrameTable(clips, None, audio=False, context=(1, 1))
    with pytest.raises(ValueError, match="two integers"):
        FrameTable(clips, None, audio=False, features=feats, context=(-1, 2))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        FrameTable(clips, None, audio=False, features=feats, context=(1, 1), pad=np.zeros(4))
    with pytest.raises(ValueError, match="clip1: context windows need"):
        FrameTable(clips, None, audio=False, context=(1, 1),
                   features=[feats[0], feats[1][:, :, None], feats[2]])
    with pytest.raises(ValueError, match="clip2: 2 feature columns"):
        FrameTable(clips, None, audio=False, context=(1, 1), features=[feats[0], feats[1], feats[2][:, :2]])
