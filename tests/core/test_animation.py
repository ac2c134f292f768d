"""Animation: writers and readers round-trip, smoothing and clipping, selection, plots."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.core.animation import Animation


@pytest.fixture
def anim():
    t = np.arange(40) / 25.0
    return Animation(np.stack([np.sin(t), np.cos(t), t / 2], axis=1), ("jawOpen", "mouthClose", "browUp"), 25.0)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".npy"])
def test_write_read_round_trip(anim, tmp_path, suffix):
    path = anim.write(tmp_path / f"a{suffix}")
    back = Animation.read(path, fps=25.0 if suffix == ".npy" else None)
    assert back.names == anim.names and back.fps == 25.0
    np.testing.assert_allclose(back.values, anim.values, atol=1e-5)


def test_npy_without_fps_and_unknown_suffix_are_errors(anim, tmp_path):
    anim.write(tmp_path / "a.npy")
    with pytest.raises(ValueError, match="holds no frame rate; pass fps"):
        Animation.read(tmp_path / "a.npy")
    with pytest.raises(ValueError, match="unknown output format '.txt'"):
        anim.write(tmp_path / "a.txt")
    assert not (tmp_path / "a.txt").exists()


def test_smoothing_clipping_selection(anim):
    smooth = anim.smoothed(5)
    inner = anim.values[:5].mean(axis=0)
    np.testing.assert_allclose(smooth.values[2], inner, rtol=1e-6)
    np.testing.assert_allclose(smooth.values[0], anim.values[:3].mean(axis=0), rtol=1e-6)  # edge: frames present
    with pytest.raises(ValueError, match="odd"):
        anim.smoothed(4)
    assert anim.clipped().values.min() >= 0 and anim.clipped().values.max() <= 1
    picked = anim.selected(["browUp", "jawOpen"])
    np.testing.assert_array_equal(picked.values, anim.values[:, [2, 0]])
    with pytest.raises(KeyError, match="no channel 'tongueOut'"):
        anim.selected(["tongueOut"])


def test_shape_and_fps_are_checked():
    with pytest.raises(ValueError, match="do not match 2 names"):
        Animation(np.zeros((3, 3)), ("a", "b"), 30)
    with pytest.raises(ValueError, match="fps must be positive"):
        Animation(np.zeros((3, 2)), ("a", "b"), 0)


def test_plot_writes_a_png(anim, tmp_path):
    path = anim.plot(tmp_path / "curves.png", title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
