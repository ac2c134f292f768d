import numpy as np
import pytest

from zoo.datasets import ARKIT_52
from zoo.evenet.metrics import MOUTH_KEYS, between_take_share, free_running, shuffle_runs, teacher_forced, within_take_r


def test_mouth_keys_are_arkit_jaw_and_mouth_keys():
    assert set(MOUTH_KEYS) <= set(ARKIT_52) and "jawOpen" in MOUTH_KEYS
    assert all(k.startswith(("jaw", "mouth")) for k in MOUTH_KEYS)
    assert not any("Smile" in k or "Frown" in k for k in MOUTH_KEYS)  # emotion, not speech


def test_teacher_forced_figures_by_hand():
    ref = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    pred = np.array([[9.0, 9.0], [1.0, 0.0], [0.0, 1.0]])  # frame 0 is never scored
    out = teacher_forced([pred], [ref], mean_pose=np.array([0.5, 0.5]))
    assert out["frames"] == 2
    assert out["rmse"] == pytest.approx(np.sqrt(1 / 4))  # one error of 1 over 4 values
    assert out["rmse_repeat_last"] == pytest.approx(np.sqrt(2 / 4))  # x1 − x0 = (1, 0), x2 − x1 = (0, 1)
    assert out["rmse_mean_pose"] == pytest.approx(0.5)


def test_free_running_scores_the_mouth_subset():
    rng = np.random.default_rng(0)
    ref = rng.random((50, 3))
    ev = free_running([ref * 0.5 + 0.1], [ref], ("jawOpen", "eyeBlinkLeft", "mouthClose"), ref.mean(0))
    summary = ev.summary()
    assert summary["mouth_r"] == pytest.approx(1.0) and ev.subsets["mouth"].channels == ("jawOpen", "mouthClose")


def test_within_take_r_ignores_offsets_between_takes():
    """Two takes whose mean poses differ: a prediction with the right offsets but no motion scores a high pooled r
    and a within-take r of 0."""
    t = np.linspace(0, 6, 60)
    refs = [np.stack([0.2 + 0.1 * np.sin(t), np.zeros(60)], 1), np.stack([0.7 + 0.1 * np.cos(t), np.zeros(60)], 1)]
    flat = [np.full((60, 2), r[:, 0].mean()) for r in refs]
    names = ("jawOpen", "eyeBlinkLeft")
    assert free_running(flat, refs, names, np.zeros(2)).summary()["mouth_r"] > 0.9
    assert within_take_r(flat, refs, names) == 0.0
    assert within_take_r(refs, refs, names) == pytest.approx(1.0)


def test_shuffled_runs_keep_labels_and_durations():
    ids = np.array([47] * 5 + [0] * 3 + [27] * 4 + [47] * 2)
    shuffled = shuffle_runs(ids, np.random.default_rng(1))
    assert len(shuffled) == len(ids) and sorted(shuffled) == sorted(ids)
    runs = lambda x: sorted(len(r) for r in np.split(x, np.flatnonzero(np.diff(x)) + 1))  # noqa: E731
    assert runs(shuffled) == runs(ids) or len(runs(shuffled)) < len(runs(ids))  # equal neighbours may merge


def test_between_take_share_is_what_an_exact_model_scores_on_a_shuffled_timeline():
    """Takes = their own offset + within-take motion made of runs. An exact model given the runs shuffled keeps
    each take's mean and moves independently within it: its pooled r is the between-take share of the variance
    (within 0.05 over 40 takes), and its within-take r is about 0."""
    rng = np.random.default_rng(3)
    refs, shuffled = [], []
    for _ in range(40):
        offset = rng.uniform(0.0, 0.6)
        runs = [np.full(int(rng.integers(3, 12)), rng.uniform(0.0, 0.4)) for _ in range(30)]
        order = rng.permutation(len(runs))
        refs.append(np.stack([offset + np.concatenate(runs), np.zeros(sum(map(len, runs)))], 1))
        shuffled.append(np.stack([offset + np.concatenate([runs[i] for i in order]), refs[-1][:, 1]], 1))
    names = ("jawOpen", "eyeBlinkLeft")
    share = between_take_share(refs, names)
    assert 0.4 < share < 0.8  # the case has a real share of both kinds of variance
    assert free_running(shuffled, refs, names, np.zeros(2)).summary()["mouth_r"] == pytest.approx(share, abs=0.05)
    assert abs(within_take_r(shuffled, refs, names)) < 0.1
    assert between_take_share([r - r.mean(0) for r in refs], names) == pytest.approx(0.0, abs=1e-12)
    assert between_take_share([np.full((5, 2), v) for v in (0.1, 0.3)], names) == pytest.approx(1.0)
