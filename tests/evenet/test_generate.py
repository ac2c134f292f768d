"""Fast generation (cached states) equals the original's naive loop; the streaming form equals both."""
import numpy as np
import pytest

from zoo.evenet.config import preset


def _generator(config, seed=0):
    import keras

    from zoo.evenet.generate import Generator
    from zoo.evenet.model import build_model

    keras.utils.set_random_seed(seed)
    return Generator(build_model(config))


def _schedule(config, frames, seed=0):
    rng = np.random.default_rng(seed)
    emotion = np.repeat(rng.integers(0, len(config.emotion_categories), frames // 10 + 1), 10)[:frames]
    phoneme = np.repeat(rng.integers(0, 56, frames // 4 + 1), 4)[:frames]
    return emotion.astype(np.int32), phoneme.astype(np.int32)


TINY = {
    "A": preset("tiny"),
    "A-fw3-legacy": preset("tiny", filter_width=3, legacy_same_padding=True),
    "A-fw8": preset("tiny", filter_width=8, dilations=(1, 2, 4)),
    "A-residual": preset("tiny", residual_output=True),
    "B": preset("tiny", lineage="frames_softmax", emotion_kind="embedding", filter_width=3),
    "C": preset("tiny", lineage="key_sampling", emotion_kind="embedding"),
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_fast_equals_naive_over_500_steps(name):
    """Every lineage, filter widths 2/3/8 and legacy padding: 500 sequence steps (lineage C: 125 frames of 4
    keys, generated key by key), max |Δ| ≤ 1e-5."""
    config = TINY[name]
    g = _generator(config)
    frames = 500 // config.steps_per_frame
    emotion, phoneme = _schedule(config, frames)
    fast = g.fast(emotion, phoneme)
    naive = g.naive(emotion, phoneme)
    assert fast.shape == (frames, config.data_dim)
    assert np.abs(fast - naive).max() <= 1e-5
    assert np.ptp(fast, axis=0).max() > 1e-3  # it moves: the equality is not between two constants


def test_seed_batch_and_stream():
    config = TINY["A-fw3-legacy"]
    g = _generator(config, seed=1)
    rng = np.random.default_rng(4)
    seed = (rng.random((20, 4)).astype(np.float32), rng.integers(0, 11, 20), rng.integers(0, 56, 20))
    emotion, phoneme = _schedule(config, 60, seed=5)
    fast = g.fast(emotion, phoneme, seed)
    np.testing.assert_allclose(fast, g.naive(emotion, phoneme, seed), atol=1e-5)
    batch = g.fast(np.stack([emotion, emotion[::-1]]), np.stack([phoneme, phoneme[::-1]]), seed)
    np.testing.assert_allclose(batch[0], fast, atol=1e-6)
    np.testing.assert_allclose(batch[1], g.fast(emotion[::-1], phoneme[::-1], seed), atol=1e-6)
    stream = g.stream(seed)
    streamed = np.stack([stream.next(int(e), int(p)) for e, p in zip(emotion, phoneme)])
    np.testing.assert_allclose(streamed, fast, atol=1e-6)


def test_stream_of_lineage_c_makes_a_frame_key_by_key():
    config = TINY["C"]
    g = _generator(config)
    emotion, phoneme = _schedule(config, 12)
    stream = g.stream()
    frames = [stream.next(int(e), int(p)) for e, p in zip(emotion, phoneme)]
    assert all(f.shape == (4,) for f in frames)
    np.testing.assert_allclose(np.stack(frames), g.fast(emotion, phoneme), atol=1e-6)


@pytest.mark.parametrize("name, steps", [("master", 12), ("softmax", 4), ("keysampling", 3)])
def test_presets_fast_equals_naive_first_steps(name, steps):
    """The full-size presets (fw 8, RF 3578 / 7162 / 14400): the first steps in the default tier; 500 steps
    are the slow tier's (test_presets_fast_equals_naive_500)."""
    config = preset(name, data_dim=21 if name == "master" else 8)
    g = _generator(config)
    emotion, phoneme = _schedule(config, steps)
    assert np.abs(g.fast(emotion, phoneme) - g.naive(emotion, phoneme)).max() <= 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("name", ["master", "softmax", "keysampling"])
def test_presets_fast_equals_naive_past_the_receptive_field(name):
    """150 sequence steps of every full-size preset past a seed longer than its receptive field, so that the
    naive loop's window slides from the first step (lineage C: D = 8 keys, 62 frames). (500 steps until stop 25:
    ~25 minutes of the slow tier for the same property.)"""
    config = preset(name, data_dim=21 if name == "master" else 8)
    g = _generator(config)
    k = config.steps_per_frame
    seed_frames = config.receptive_field // k + 5
    rng = np.random.default_rng(0)
    seed = (rng.random((seed_frames, config.data_dim)).astype(np.float32),
            rng.integers(0, 11, seed_frames), rng.integers(0, 56, seed_frames))
    emotion, phoneme = _schedule(config, 150 // k)
    assert np.abs(g.fast(emotion, phoneme, seed) - g.naive(emotion, phoneme, seed)).max() <= 1e-5
