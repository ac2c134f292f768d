"""The gesture part of the synthetic corpus: the dataset's layout, determinism, and motion that follows the speech.

The learnability check (issue: gesture corpus) is declared before measuring: a ridge regression from windowed audio
features to the summed speed of both hands, fitted on training takes, with its ridge strength and context chosen on
validation takes, must reach Pearson r ≥ 0.5 on held-out takes; the same model fed the other test takes' audio (a
shuffled-audio control: every test take's motion paired with every other test take's audio, pooled) must stay at
r ≤ 0.1.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from zoo.datasets.bvh import gesture_skeleton, read_bvh
from zoo.datasets.gesture import GESTURE_FPS, read_gesture
from zoo.datasets.synthetic import corpus
from zoo.datasets.synthetic.gesture import STYLES

TAKES = 60  # every take of the small corpus, ≈ 10.6 min of speech: 48 training, 6 validation and 6 test takes
R_HELD_OUT, R_SHUFFLED = 0.5, 0.1


@pytest.fixture(scope="module")
def takes(tmp_path_factory):
    out = tmp_path_factory.mktemp("gesture")
    ids = corpus.write_gesture_subset(out, TAKES, seed=0)
    return out, ids


def _hand_speed(clip) -> np.ndarray:
    """Summed speed of LeftHand and RightHand in units per frame at 20 fps (first frame 0)."""
    skeleton = gesture_skeleton()
    joints = clip.targets.reshape(clip.num_frames, -1, 3)
    speed = np.zeros(clip.num_frames)
    for name in ("LeftHand", "RightHand"):
        speed[1:] += np.linalg.norm(np.diff(joints[:, skeleton.index(name)], axis=0), axis=1)
    return speed


def _audio_features(audio: np.ndarray, rate: int, frames: int) -> np.ndarray:
    """Per 20 fps frame (hop rate/20, Hann window of two hops centred on the frame): 16 log band energies
    (log-spaced bands), the log total energy, the positive spectral flux and the level relative to the take's
    loudest frame (max(E − E_max + 8, 0), in natural-log units)."""
    hop = rate // GESTURE_FPS
    win = 2 * hop
    padded = np.pad(audio.astype(np.float64), (win // 2, win))
    idx = np.arange(frames)[:, None] * hop + np.arange(win)[None, :]
    spec = np.abs(np.fft.rfft(padded[idx] * np.hanning(win), axis=1)) ** 2
    edges = np.geomspace(2, spec.shape[1] - 1, 17).astype(int)
    bands = np.log(np.stack([spec[:, a:b + 1].sum(1) for a, b in zip(edges[:-1], edges[1:])], axis=1) + 1e-8)
    energy = np.log(spec.sum(1) + 1e-8)[:, None]
    flux = np.maximum(np.diff(bands, axis=0, prepend=bands[:1]), 0).sum(1, keepdims=True)
    return np.hstack([bands, energy, flux, np.maximum(energy - energy.max() + 8, 0)])


def _windows(features: np.ndarray, context: int) -> np.ndarray:
    padded = np.pad(features, ((context, context), (0, 0)), mode="edge")
    idx = np.arange(len(features))[:, None] + np.arange(2 * context + 1)[None, :]
    return padded[idx].reshape(len(features), -1)


def test_gesture_layout_and_frame_times(takes):
    out, ids = takes
    assert len(set(ids)) == len(ids) == TAKES
    fast = [i for i in ids if (i - corpus.GESTURE_FIRST_ID) % corpus.GESTURE_FAST_EVERY == 9]
    for take in ids:
        lines = (out / "motion" / f"gesture{take}.bvh").read_text().splitlines()
        assert lines[308] == "MOTION" and lines[310].startswith("Frame Time:")
        assert all(len(line.split()) == 306 for line in lines[311:])
        motion = read_bvh(out / "motion" / f"gesture{take}.bvh")
        assert motion.frame_time == pytest.approx(0.01 if take in fast else 1 / 24, rel=1e-5)
        assert (out / "speech" / f"audio{take}.wav").read_bytes()[24:28] == (44100).to_bytes(4, "little")
    assert fast, "the subset should hold at least one 100 fps take"


def test_gesture_subset_is_deterministic(takes, tmp_path):
    out, ids = takes
    again = corpus.write_gesture_subset(tmp_path, ids=ids[:2], seed=0)
    assert again == ids[:2]
    for take in again:
        for rel in (f"speech/audio{take}.wav", f"motion/gesture{take}.bvh"):
            assert hashlib.sha256((tmp_path / rel).read_bytes()).digest() == \
                hashlib.sha256((out / rel).read_bytes()).digest()


def test_hands_rest_in_pauses_and_rise_to_speak(takes):
    out, ids = takes
    clips = read_gesture(out, ids=ids[:8])
    skeleton = gesture_skeleton()
    hand = skeleton.index("RightHand")
    for clip in clips:
        height = clip.targets.reshape(clip.num_frames, -1, 3)[:, hand, 1]
        speed = _hand_speed(clip)
        # the take starts with ≥ 0.3 s of silence: hands at rest (arm down, hand near hip height 60)
        assert height[0] < 62 and speed[1:3].max() < 0.5
        assert height.max() > height[0] + 5  # the hand rises into the gesture space while speaking


def test_motion_is_learnable_from_audio_and_needs_it(takes):
    out, ids = takes
    clips = read_gesture(out, ids=ids)
    feats = [_audio_features(c.audio, c.sample_rate, c.num_frames) for c in clips]
    speeds = [_hand_speed(c) for c in clips]
    test = [k for k in range(len(clips)) if k % 10 == 0]
    val = [k for k in range(len(clips)) if k % 10 == 5]
    train = [k for k in range(len(clips)) if k not in test and k not in val]

    def fit(context, lam):
        x = np.concatenate([_windows(feats[k], context) for k in train])
        y = np.concatenate([speeds[k] for k in train])
        mu, sd = x.mean(0), x.std(0) + 1e-6
        a = (x - mu) / sd
        w = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ (y - y.mean()))
        return lambda k_audio, frames: ((_windows(feats[k_audio], context)[:frames] - mu) / sd) @ w + y.mean()

    def r(model, pairs):
        truth, pred = [], []
        for k_motion, k_audio in pairs:
            n = min(len(speeds[k_motion]), len(feats[k_audio]))
            truth.append(speeds[k_motion][:n])
            pred.append(model(k_audio, n))
        return float(np.corrcoef(np.concatenate(truth), np.concatenate(pred))[0, 1])

    grid = [(c, lam) for c in (5, 10, 20) for lam in (1.0, 30.0, 1000.0)]
    scores = {g: r(fit(*g), [(k, k) for k in val]) for g in grid}
    model = fit(*max(scores, key=scores.get))
    held_out = r(model, [(k, k) for k in test])
    shuffled = r(model, [(k, other) for k in test for other in test if other != k])
    assert held_out >= R_HELD_OUT, (held_out, scores)
    assert shuffled <= R_SHUFFLED, shuffled


def test_speaker_styles_differ():
    # handedness is a speaker trait: the left-dominant speaker exists and the weights are in (0, 1]
    assert any(s.left > s.right for s in STYLES.values()) and any(s.right > s.left for s in STYLES.values())
    assert all(0 < min(s.left, s.right) <= max(s.left, s.right) <= 1 for s in STYLES.values())


def test_corpus_plan_takes_cover_every_sentence_once():
    items = corpus.plan(corpus.PRESETS["small"], 0)
    takes = corpus.gesture_takes(items)
    joined = [u for t in takes for u in t.utterances]
    sentences = [i.id for i in items if i.ravdess is None]
    assert joined == sentences
    assert [t.id for t in takes] == list(range(20, 20 + len(takes)))
    by_id = {i.id: i for i in items}
    for t in takes:
        conditions = {(by_id[u].voice, by_id[u].emotion, by_id[u].intensity) for u in t.utterances}
        assert len(conditions) == 1 and 1 <= len(t.utterances) <= corpus.GESTURE_TAKE
