import subprocess
import sys
import types
import warnings

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from zoo.landmark_dcgan import metrics


def _minmax(points, mode="minmax"):
    """Per-frame, per-axis min-max of (K, 68, 2) points → (K, 136) interleaved (the faithful normalisation)."""
    assert mode == "minmax"
    p = np.asarray(points, np.float64)
    lo, hi = p.min(axis=1, keepdims=True), p.max(axis=1, keepdims=True)
    return ((p - lo) / (hi - lo)).reshape(p.shape[0], 136)


def _face(opening: float, seed: int = 0) -> np.ndarray:
    """(68, 2) pixel points inside the box [0, 100]²: points 0 and 1 pin the corners (0, 0) and (100, 100), the
    rest random in [20, 80]; the inner lips 61-63 at y = 50 and 65-67 at y = 50 + ``opening``."""
    p = np.random.default_rng(seed).uniform(20.0, 80.0, (68, 2))
    p[0], p[1] = (0.0, 0.0), (100.0, 100.0)
    p[[61, 62, 63], 1] = 50.0
    p[[67, 66, 65], 1] = 50.0 + opening
    return p


class TableLandmarker:
    """Fake landmarker: image i carries i in pixel (0, 0, 0); it returns ``table[i]`` (or None) and records the
    images it was called with."""

    def __init__(self, table):
        self.table = table
        self.calls = []

    def __call__(self, image):
        self.calls.append(image)
        return self.table[int(image[0, 0, 0])]


def _id_images(n: int, size: int = 16) -> np.ndarray:
    images = np.full((n, size, size, 3), 128, np.uint8)
    images[:, 0, 0, 0] = np.arange(n)
    return images


# ----------------------------------------------------------------------------------------------------------------
# Landmarks
# ----------------------------------------------------------------------------------------------------------------
def test_constants_and_as_points_interleaving():
    assert list(metrics.MOUTH) == list(range(48, 68)) and len(metrics.MOUTH) == 20
    assert metrics.INNER_LIP_PAIRS == ((61, 67), (62, 66), (63, 65))
    v = np.arange(2 * 3 * 136, dtype=np.float32).reshape(2, 3, 136)
    p = metrics.as_points(v)
    assert p.shape == (2, 3, 68, 2)
    np.testing.assert_array_equal(p[1, 2, 5], [v[1, 2, 10], v[1, 2, 11]])  # x5 = v[10], y5 = v[11]
    assert metrics.as_points(p) is p
    with pytest.raises(ValueError, match=r"\(\.\.\., 136\) or \(\.\.\., 68, 2\), got \(4, 135\)"):
        metrics.as_points(np.zeros((4, 135)))


def test_landmark_mse_hand_computed():
    true = np.zeros((2, 136))
    pred = true.copy()
    pred[0, 0], pred[1, 7] = 0.3, -0.4
    assert metrics.landmark_mse(pred, true) == pytest.approx((0.09 + 0.16) / 272)
    assert metrics.landmark_mse(metrics.as_points(pred), metrics.as_points(true)) == pytest.approx(0.25 / 272)
    with pytest.raises(ValueError, match="one shape"):
        metrics.landmark_mse(pred[:1], true)
    pred[1, 3] = np.nan
    with pytest.raises(ValueError, match="pred contains NaN"):
        metrics.landmark_mse(pred, true)


def test_lmd_shift_3_4_is_5_and_only_mouth_counts():
    rng = np.random.default_rng(1)
    true = rng.uniform(0, 100, (4, 68, 2))
    pred = true.copy()
    pred[:, 48:68] += (3.0, 4.0)
    pred[:, :48] += 50.0  # outside the mouth: not in the default point set
    assert metrics.lmd(pred, true) == pytest.approx(5.0)
    assert metrics.lmd(pred.reshape(4, 136), true.reshape(4, 136)) == pytest.approx(5.0)
    # all 68 points: (48·50√2 + 20·5) / 68
    assert metrics.lmd(pred, true, points=range(68)) == pytest.approx((48 * 50 * np.sqrt(2) + 20 * 5) / 68)
    # frames average: two frames at 5, two at 0
    pred[2:] = true[2:]
    assert metrics.lmd(pred, true) == pytest.approx(2.5)


def test_lmd_face_size_scales_normalised_units_to_pixels():
    true = np.full((3, 136), 0.5)
    pred = metrics.as_points(true.copy()) + (0.03, 0.04)
    assert metrics.lmd(pred, true) == pytest.approx(0.05)
    assert metrics.lmd(pred, true, face_size=100) == pytest.approx(5.0)
    assert metrics.lmd(pred, true, face_size=256.0) == pytest.approx(12.8)
    for bad in (0, -1.0, float("nan"), "100"):
        with pytest.raises(ValueError, match="face_size must be a positive number"):
            metrics.lmd(pred, true, face_size=bad)
    with pytest.raises(ValueError, match=r"indices in \[0, 68\)"):
        metrics.lmd(pred, true, points=[67, 68])


def test_mouth_opening_of_a_known_mouth():
    p = np.zeros((68, 2))
    p[[61, 62, 63], 1] = (10.0, 11.0, 12.0)
    p[[67, 66, 65], 1] = (14.0, 16.0, 18.0)  # gaps 4, 5, 6
    p[[48, 54, 60, 64], 1] = 100.0  # corners and other mouth points do not enter
    assert metrics.mouth_opening(p) == pytest.approx(5.0)
    assert isinstance(metrics.mouth_opening(p), float)
    assert metrics.mouth_opening(p.reshape(136)) == pytest.approx(5.0)
    flipped = p.copy()
    flipped[:, 1] *= -1  # upper below lower: |·| gives the same opening
    assert metrics.mouth_opening(flipped) == pytest.approx(5.0)
    batch = np.stack([p, p * 2, p * 0]).reshape(1, 3, 136)
    np.testing.assert_allclose(metrics.mouth_opening(batch), [[5.0, 10.0, 0.0]])


def test_mean_landmark_baseline():
    train = np.array([np.full(136, 0.2), np.full(136, 0.4)])
    train[1, 5] = 1.0
    out = metrics.mean_landmark_baseline(train, 3)
    assert out.shape == (3, 136) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0], 0.3)
    np.testing.assert_allclose(out[:, 5], 0.6)
    with pytest.raises(ValueError, match="train is empty"):
        metrics.mean_landmark_baseline(np.zeros((0, 136)), 3)


# ----------------------------------------------------------------------------------------------------------------
# Pearson
# ----------------------------------------------------------------------------------------------------------------
def test_pearson_matches_corrcoef_and_bounds():
    rng = np.random.default_rng(2)
    a = rng.normal(size=50)
    b = 0.5 * a + rng.normal(size=50)
    assert metrics.pearson(a, b) == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-12)
    assert metrics.pearson(a, 3 * a + 2) == pytest.approx(1.0)
    assert metrics.pearson(a, -a) == pytest.approx(-1.0)
    assert metrics.pearson([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)  # hand: Σxy = 1, Σx² = Σy² = 2


def test_pearson_constant_is_nan_without_warnings_and_bad_input_raises():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(metrics.pearson(np.full(10, 0.3), np.arange(10)))
        assert np.isnan(metrics.pearson(np.arange(10), np.ones(10)))
    with pytest.raises(ValueError, match="1-D series of one length >= 2"):
        metrics.pearson([1.0], [2.0])
    with pytest.raises(ValueError, match="1-D series"):
        metrics.pearson(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="b contains NaN or inf"):
        metrics.pearson([1.0, 2.0, 3.0], [1.0, np.inf, 2.0])


# ----------------------------------------------------------------------------------------------------------------
# PSNR and SSIM
# ----------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def image_pair():
    """Two batches (3, 24, 24, 3) in [−1, 1]: smooth random images and a noisy, shifted version of them."""
    rng = np.random.default_rng(3)
    from scipy import ndimage

    a = np.tanh(ndimage.gaussian_filter(rng.normal(size=(3, 24, 24, 3)), (0, 2, 2, 0)) * 4)
    b = np.clip(0.8 * a + 0.1 + rng.normal(0, 0.1, a.shape), -1, 1)
    return a, b


def test_psnr_hand_computed_and_against_skimage(image_pair):
    zeros = np.zeros((8, 8, 3))
    score = metrics.psnr(zeros, zeros + 0.1)
    assert score.mean == pytest.approx(10 * np.log10(4 / 0.01))  # 26.0206 dB
    assert score.per_image.shape == (1,)
    a, b = image_pair
    score = metrics.psnr(a, b)
    expected = [peak_signal_noise_ratio(a[i], b[i], data_range=2) for i in range(3)]
    np.testing.assert_allclose(score.per_image, expected, rtol=0, atol=1e-6)
    assert score.mean == pytest.approx(np.mean(expected), abs=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.psnr(a, a).mean == np.inf


def test_psnr_accepts_uint8_and_rejects_out_of_range():
    u = np.random.default_rng(4).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    v = u.copy()
    v[:, 0, 0, 0] ^= 1
    np.testing.assert_allclose(metrics.psnr(u, v).per_image,
                               metrics.psnr(u / 127.5 - 1, v / 127.5 - 1).per_image, rtol=1e-12)
    with pytest.raises(ValueError, match=r"b must be in \[-1, 1\].*\[0, 255\]"):
        metrics.psnr(u / 127.5 - 1, u.astype(np.float32))
    with pytest.raises(ValueError, match="one shape"):
        metrics.psnr(u[:1], u)


def test_ssim_against_skimage(image_pair):
    a, b = image_pair
    score = metrics.ssim(a, b)
    expected = [structural_similarity(a[i], b[i], gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                      data_range=2, channel_axis=-1) for i in range(3)]
    np.testing.assert_allclose(score.per_image, expected, rtol=0, atol=1e-6)
    assert score.mean == pytest.approx(np.mean(expected), abs=1e-6)
    assert 0.2 < score.mean < 0.99  # a real, non-trivial comparison
    np.testing.assert_allclose(metrics.ssim(a, a).per_image, 1.0, atol=1e-12)


def test_ssim_of_constant_images_hand_computed():
    # σ = 0 everywhere: SSIM = (2·μx·μy + C1) / (μx² + μy² + C1) with C1 = (0.01·2)²
    c1 = (0.01 * 2) ** 2
    score = metrics.ssim(np.full((16, 16, 3), 0.5), np.full((16, 16, 3), -0.5))
    assert score.mean == pytest.approx((-0.5 + c1) / (0.5 + c1), abs=1e-12)
    with pytest.raises(ValueError, match="at least 11 x 11 px"):
        metrics.ssim(np.zeros((10, 16, 3)), np.zeros((10, 16, 3)))


def test_to_uint8_conversion():
    k = np.arange(256)
    x = (k / 127.5 - 1.0).reshape(1, 16, 16, 1)
    np.testing.assert_array_equal(metrics.to_uint8(x).ravel(), k)
    assert metrics.to_uint8(np.float32([[[-1.0, 1.0, 0.0]]])).tolist() == [[[0, 255, 128]]]  # 127.5 → 128 (even)
    with pytest.raises(ValueError, match=r"must be in \[-1, 1\]"):
        metrics.to_uint8(np.full((2, 2, 3), 2.0))


def test_from_uint8_is_the_inverse_of_to_uint8():
    k = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    x = metrics.from_uint8(k)
    assert x.dtype == np.float32 and x.min() == -1.0 and x.max() == 1.0
    np.testing.assert_array_equal(metrics.to_uint8(x), k)
    assert metrics.from_uint8(k, np.float64)[0, 8, 0, 0] == 128 / 127.5 - 1.0


# ----------------------------------------------------------------------------------------------------------------
# Landmark consistency (fake landmarker)
# ----------------------------------------------------------------------------------------------------------------
def test_consistency_exact_points_all_found():
    table = [_face(opening, seed=i) for i, opening in enumerate([2.0, 8.0, 5.0, 12.0, 3.0])]
    cond = _minmax(np.stack(table))
    fake = TableLandmarker(table)
    out = metrics.landmark_consistency(_id_images(5), cond, fake, normalise=_minmax)
    assert out["detection_rate"] == 1.0
    assert out["lmd_normalised"] == pytest.approx(0.0, abs=1e-6)
    assert out["mouth_opening_r"] == pytest.approx(1.0)
    assert out["found"].all() and out["points"].dtype == np.float32
    np.testing.assert_allclose(out["points"], np.stack(table), atol=1e-4)
    np.testing.assert_allclose(out["normalised"], cond, atol=1e-6)
    assert len(fake.calls) == 5 and all(c.dtype == np.uint8 and c.shape == (16, 16, 3) for c in fake.calls)


def test_consistency_some_faces_missing_and_mouth_shift():
    openings = [2.0, 8.0, 5.0, 12.0, 3.0]
    true = [_face(o, seed=i) for i, o in enumerate(openings)]
    cond = _minmax(np.stack(true))
    table = []
    for p in true:
        q = p.copy()
        q[48:68] += (3.0, 4.0)  # inside the fixed [0, 100]² box: normalised shift (0.03, 0.04), LMD 0.05
        table.append(q)
    table[1] = table[3] = None
    out = metrics.landmark_consistency(_id_images(5), cond, TableLandmarker(table), normalise=_minmax)
    assert out["detection_rate"] == pytest.approx(0.6)
    np.testing.assert_array_equal(out["found"], [True, False, True, False, True])
    assert np.isnan(out["points"][[1, 3]]).all() and np.isfinite(out["points"][[0, 2, 4]]).all()
    assert np.isnan(out["normalised"][[1, 3]]).all()
    assert out["lmd_normalised"] == pytest.approx(0.05, abs=1e-6)
    assert out["mouth_opening_r"] == pytest.approx(1.0)  # a shift keeps the openings


def test_consistency_float_images_and_no_face_at_all():
    images = _id_images(3).astype(np.float64) / 127.5 - 1.0
    fake = TableLandmarker([None, None, None])
    out = metrics.landmark_consistency(images, np.full((3, 136), 0.5), fake, normalise=_minmax)
    assert [int(c[0, 0, 0]) for c in fake.calls] == [0, 1, 2]  # (x + 1)·127.5 rounded back to the ids
    assert out["detection_rate"] == 0.0 and not out["found"].any()
    assert np.isnan(out["lmd_normalised"]) and np.isnan(out["mouth_opening_r"])


def test_consistency_default_normalise_is_imported_lazily(monkeypatch):
    seen = []

    def fake_normalise(points, mode):
        seen.append(mode)
        return _minmax(points)

    monkeypatch.setitem(sys.modules, "zoo.landmark_dcgan.landmarks",
                        types.SimpleNamespace(normalise=fake_normalise))
    table = [_face(o, seed=i) for i, o in enumerate([1.0, 4.0])]
    out = metrics.landmark_consistency(_id_images(2), _minmax(np.stack(table)), TableLandmarker(table))
    assert seen == ["minmax"] and out["lmd_normalised"] == pytest.approx(0.0, abs=1e-6)


def test_consistency_bad_inputs():
    cond = np.full((2, 136), 0.5)
    with pytest.raises(ValueError, match="one \\(136,\\) vector per image: 2 images"):
        metrics.landmark_consistency(_id_images(2), cond[:1], TableLandmarker([None, None]), normalise=_minmax)
    with pytest.raises(ValueError, match=r"landmarker returned shape \(5, 2\) for image 0"):
        metrics.landmark_consistency(_id_images(2), cond, TableLandmarker([np.zeros((5, 2))] * 2), normalise=_minmax)


# ----------------------------------------------------------------------------------------------------------------
# Nearest-training-frame baseline
# ----------------------------------------------------------------------------------------------------------------
def test_nearest_frame_baseline_picks_the_right_rows():
    rng = np.random.default_rng(5)
    train = rng.uniform(0, 1, (50, 136))
    images = np.zeros((50, 4, 4, 3), np.uint8)
    images[:, 0, 0, 0] = np.arange(50)
    rows = rng.permutation(50)[:20]
    query = train[rows] + rng.normal(0, 1e-3, (20, 136))
    out = metrics.nearest_frame_baseline(train, images, query)
    assert out.shape == (20, 4, 4, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[:, 0, 0, 0], rows)
    # far queries against brute force, in chunks smaller than the query count
    query = rng.uniform(-1, 2, (23, 136))
    brute = np.argmin(((query[:, None, :] - train[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(metrics.nearest_frame_indices(train, query, chunk=7), brute)
    with pytest.raises(ValueError, match="one image per landmark row: 50 landmark rows"):
        metrics.nearest_frame_baseline(train, images[:49], query)


def test_metrics_module_does_not_import_tensorflow():
    code = ("import sys, zoo.landmark_dcgan.metrics; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
