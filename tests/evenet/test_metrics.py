import numpy as np
import pytest

from zoo.datasets import ARKIT_52
from zoo.evenet.metrics import MOUTH_KEYS, free_running, teacher_forced


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
