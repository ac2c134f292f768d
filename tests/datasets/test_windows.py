import numpy as np
import pytest
import soundfile as sf

from zoo.datasets import (
    Clip,
    FrameTable,
    WindowSpec,
    frame_anchors,
    frame_windows,
    pair_dataset,
    read_facegood,
    run_dataset,
    window_dataset,
)

FACEGOOD_SPEC = WindowSpec(0.52, None)  # a centred 520 ms window (FACEGOOD/Karras), passed explicitly


def _ramp_clip(seconds=1.0, name="r", offset=0.0, dims=2, fps=30, rate=16000):
    n = int(seconds * rate)
    audio = (np.arange(1, n + 1) / n * 0.9 + offset).astype(np.float32) / 2  # distinct, non-zero samples
    frames = int(np.floor(n * fps / rate))
    targets = np.arange(frames * dims, dtype=np.float32).reshape(frames, dims) + 1000 * offset
    return Clip(audio=audio, sample_rate=rate, targets=targets, fps=fps, target_kind="blendshapes",
                channel_names=tuple(f"c{i}" for i in range(dims)), source=f"{name}.wav")


def test_anchors_are_exact_floor():
    assert frame_anchors(4, 16000, 30).tolist() == [0, 533, 1066, 1600]
    assert frame_anchors(301, 16000, 30)[150] == 80000  # FACEGOOD golden LPC agrees with this, not i·33.333·16
    assert frame_anchors(3, 48000, 29.97).tolist() == [0, 1601, 3203]


def test_centred_520ms_window_is_facegood_window():
    assert FACEGOOD_SPEC.sizes(16000) == (8320, 4160)
    clip = _ramp_clip()
    w = frame_windows(clip.audio, 16000, 30, clip.num_frames, FACEGOOD_SPEC)
    assert w.shape == (30, 8320)
    padded = np.pad(clip.audio, (4160, 4160))
    for i in (0, 1, 15, 29):
        start = int(np.floor(i * 16000 / 30))
        np.testing.assert_array_equal(w[i], padded[start:start + 8320])
    assert w[0, 4160] == clip.audio[0] and not w[0, :4160].any()  # zeros before the clip starts
    assert w[10, 4160] == clip.audio[frame_anchors(11, 16000, 30)[10]]  # centre sample = the frame's anchor


def test_causal_window_has_no_lookahead():
    clip = _ramp_clip()
    spec = WindowSpec(0.1, lookahead_seconds=0.0)
    w = frame_windows(clip.audio, 16000, 30, clip.num_frames, spec)
    anchors = frame_anchors(clip.num_frames, 16000, 30)
    for i in (1, 10, 29):
        assert w[i, -1] == clip.audio[anchors[i] - 1]
        np.testing.assert_array_equal(w[i], np.pad(clip.audio, (1600, 0))[anchors[i]:anchors[i] + 1600])
    with pytest.raises(ValueError):
        WindowSpec(0.1, lookahead_seconds=0.2).sizes(16000)


def test_window_dataset_matches_numpy_windows():
    clips = [_ramp_clip(1.0, "a"), _ramp_clip(0.7, "b", offset=0.05)]
    batches = list(window_dataset(clips, batch_size=16, spec=FACEGOOD_SPEC))
    audio = np.concatenate([b["audio"].numpy() for b in batches])
    targets = np.concatenate([b["targets"].numpy() for b in batches])
    ids = np.concatenate([b["clip"].numpy() for b in batches])
    expected = np.concatenate([frame_windows(c.audio, 16000, 30, c.num_frames, FACEGOOD_SPEC) for c in clips])
    np.testing.assert_array_equal(audio, expected)
    np.testing.assert_array_equal(targets, np.concatenate([c.targets for c in clips]))
    assert ids.tolist() == [0] * 30 + [1] * 21


def test_pair_batches_are_true_neighbours():
    clips = [_ramp_clip(1.0, "a"), _ramp_clip(0.5, "b", offset=0.05), _ramp_clip(0.4, "c", offset=0.1)]
    table = FrameTable(clips, FACEGOOD_SPEC)
    seen = set()
    for batch in pair_dataset(table, batch_size=8, seed=3):
        clip0, clip1 = np.split(batch["clip"].numpy(), 2)
        frame0, frame1 = np.split(batch["frame"].numpy(), 2)
        assert (clip0 == clip1).all(), "a pair crosses a clip boundary"
        assert (frame1 == frame0 + 1).all(), "second half is not the next frame"
        audio1 = np.split(batch["audio"].numpy(), 2)[1]
        for j in range(4):
            clip = clips[clip1[j]]
            windows = frame_windows(clip.audio, 16000, 30, clip.num_frames, FACEGOOD_SPEC)
            np.testing.assert_array_equal(audio1[j], windows[frame1[j]])
        seen.update(zip(clip0.tolist(), frame0.tolist()))
    pairs = (30 - 1) + (15 - 1) + (12 - 1)
    assert len(seen) == pairs // 4 * 4  # every batch full, none repeated within an epoch


def test_stacked_pairs_hold_the_same_rows_with_each_pair_on_axis_1():
    table = FrameTable([_ramp_clip(1.0, "a"), _ramp_clip(0.5, "b", offset=0.05)], FACEGOOD_SPEC)
    flat = list(pair_dataset(table, batch_size=8, seed=3))
    stacked = list(pair_dataset(table, batch_size=8, seed=3, stacked=True))
    assert len(flat) == len(stacked)
    for f, s in zip(flat, stacked):
        assert s["audio"].shape == (4, 2, f["audio"].shape[1]) and s["frame"].shape == (4, 2)
        for key in f:
            np.testing.assert_array_equal(np.concatenate([s[key].numpy()[:, 0], s[key].numpy()[:, 1]]), f[key].numpy())
        assert (s["frame"].numpy()[:, 1] == s["frame"].numpy()[:, 0] + 1).all()


def test_runs_are_k_true_neighbours_and_cover_every_start_once():
    clips = [_ramp_clip(1.0, "a"), _ramp_clip(0.2, "b", offset=0.05), _ramp_clip(0.4, "c", offset=0.1)]  # 30, 6, 12
    table = FrameTable(clips, None, audio=False, features=[c.targets * 2 for c in clips])
    k = 6
    starts = table.run_starts(k)
    assert len(starts) == (30 - k + 1) + (6 - k + 1) + (12 - k + 1)  # a 6-frame clip gives one run, never a padded one
    seen = []
    for batch in run_dataset(table, length=k, batch_size=5, seed=1):
        clip, frame = batch["clip"].numpy(), batch["frame"].numpy()
        assert clip.shape == (5, k) and batch["targets"].shape == (5, k, 2) and batch["features"].shape == (5, k, 2)
        assert (clip == clip[:, :1]).all(), "a run crosses a clip boundary"
        assert (np.diff(frame, axis=1) == 1).all(), "a run's frames are not consecutive"
        for r in range(5):
            np.testing.assert_array_equal(batch["targets"].numpy()[r], clips[clip[r, 0]].targets[frame[r]])
        seen += list(zip(clip[:, 0].tolist(), frame[:, 0].tolist()))
    assert len(seen) == len(set(seen)) == len(starts) // 5 * 5
    valid = {(c, f) for c, clip in enumerate(clips) for f in range(clip.num_frames - k + 1)}
    assert set(seen) <= valid
    with pytest.raises(ValueError, match="fewer than one batch"):
        run_dataset(table, length=31, batch_size=1)


def test_pair_dataset_rejects_odd_batches():
    with pytest.raises(ValueError, match="even"):
        pair_dataset([_ramp_clip()], batch_size=7, spec=FACEGOOD_SPEC)


def test_mixed_rates_are_refused():
    with pytest.raises(ValueError, match="resample"):
        FrameTable([_ramp_clip(), _ramp_clip(rate=8000, name="low")], FACEGOOD_SPEC)


@pytest.mark.realdata
def test_real_facegood_windows(facegood_dir):
    (clip,) = read_facegood(facegood_dir, names_file=facegood_dir / "shirley_1015_bs_name.npy",
                            clip_ids=["1114_2_01"])
    raw, _ = sf.read(str(facegood_dir / "wav" / "1114_2_01.wav"), dtype="int16")
    padded = np.pad(raw.astype(np.float32) / 32768, (4160, 4160))
    batch = next(iter(window_dataset([clip], batch_size=400, spec=FACEGOOD_SPEC)))
    for i in (0, 150, 399):
        start = int(np.floor(i * 16000 / 30))
        np.testing.assert_array_equal(batch["audio"].numpy()[i], padded[start:start + 8320])
    np.testing.assert_array_equal(batch["targets"].numpy(), clip.targets[:400])


def test_the_data_layer_has_no_default_window():
    with pytest.raises(TypeError):
        WindowSpec()  # both fields are required
    with pytest.raises(TypeError):
        WindowSpec(0.52)
    clip = _ramp_clip()
    with pytest.raises(TypeError):
        frame_windows(clip.audio, 16000, 30, clip.num_frames)
    with pytest.raises(TypeError):
        FrameTable([clip])
    with pytest.raises(ValueError, match="window spec is needed"):
        FrameTable([clip], None)
    for make in (window_dataset, pair_dataset):
        with pytest.raises(ValueError, match="window spec is needed"):
            make([clip], batch_size=8)


def test_a_table_without_audio_needs_no_spec():
    clips = [_ramp_clip(1.0, "a"), _ramp_clip(0.5, "b", offset=0.05)]
    features = [np.full((c.num_frames, 3), k, np.float32) for k, c in enumerate(clips)]
    table = FrameTable(clips, None, features=features, audio=False)
    assert table.audio is None and table.window is None and table.num_frames == 45
    batch = next(iter(pair_dataset(table, batch_size=8, seed=0)))
    assert "audio" not in batch and batch["features"].shape == (8, 3)
    first, second = np.split(batch["features"].numpy()[:, 0], 2)
    assert (first == second).all() and set(first.tolist()) <= {0.0, 1.0}
    assert len(list(window_dataset(table, batch_size=16))) == 3
