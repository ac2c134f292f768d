import ast
from pathlib import Path

import numpy as np
import pytest

from zoo.datasets.arkit import ARKIT_52, ARKIT_INDEX
from zoo.datasets.synthetic import geometry
from zoo.voca_emotion import metrics

MM = 1e-3


def _two_frames() -> tuple[np.ndarray, np.ndarray]:
    """gt = 0; pred errors (frame 0) (1,0,0), (0,2,0), (0,0,3); (frame 1) (1,1,0), 0, (0,0,0.5)."""
    gt = np.zeros((2, 3, 3))
    pred = np.array([[[1, 0, 0], [0, 2, 0], [0, 0, 3]],
                     [[1, 1, 0], [0, 0, 0], [0, 0, 0.5]]], dtype=np.float64)
    return pred, gt


def _lip_sequence(opening, num_vertices=4) -> np.ndarray:
    """Vertex 0 fixed, vertex 1 at y = −opening_t (so the (0, 1) opening is |opening_t|), others fixed."""
    opening = np.asarray(opening, np.float64)
    v = np.zeros((opening.size, num_vertices, 3))
    v[:, 2:, 0] = np.arange(2, num_vertices)
    v[:, 1, 1] = -opening
    return v


# ---- LVE ----------------------------------------------------------------------------------------------------------
def test_lve_by_hand():
    pred, gt = _two_frames()
    # squared errors: frame 0 (1, 4, 9), frame 1 (2, 0, 0.25)
    assert metrics.lip_vertex_error(pred, gt, [0, 1]) == pytest.approx((4 + 2) / 2)
    assert metrics.lip_vertex_error(pred, gt, np.array([2])) == pytest.approx((9 + 0.25) / 2)
    assert metrics.lip_vertex_error(pred, gt, [0, 1, 2]) == pytest.approx((9 + 2) / 2)
    # metres in, m² out: the same errors in mm give LVE 3e-6 m² = 3 mm²
    lve = metrics.lip_vertex_error(pred * MM, gt, [0, 1])
    assert lve == pytest.approx(3e-6)
    assert metrics.in_millimetres({"lve_m2": lve})["lve_mm2"] == pytest.approx(3.0)
    assert metrics.lip_vertex_error(gt, gt, [0, 1]) == 0.0


# ---- MVE ----------------------------------------------------------------------------------------------------------
def test_mve_by_hand_and_units():
    pred, gt = _two_frames()
    assert metrics.mean_vertex_error(pred, gt) == pytest.approx((1 + 2 + 3 + np.sqrt(2) + 0 + 0.5) / 6)
    shifted = gt + np.array([0.0, 0.0, 1.0 * MM])           # 1 mm everywhere
    mve = metrics.mean_vertex_error(shifted, gt)
    assert mve == pytest.approx(1e-3)
    assert metrics.in_millimetres({"mve_m": mve, "lip_r_pooled": 0.5}) == pytest.approx(
        {"mve_mm": 1.0, "lip_r_pooled": 0.5})


# ---- FDD ----------------------------------------------------------------------------------------------------------
def test_fdd_by_hand_and_sign():
    tpl = np.zeros((2, 3))
    gt = np.zeros((4, 2, 3))
    gt[:, 0, 0] = [0, 1, 0, 1]              # ‖v − τ‖² = 0, 1, 0, 1 → std 0.5
    gt[:, 1, 0] = 5.0                       # a constant offset has no dynamics (std 0)
    still = np.broadcast_to(tpl, gt.shape)
    livelier = 2 * gt                       # ‖v − τ‖² = 0, 4, 0, 4 → std 2
    fdd = metrics.upper_face_dynamics_deviation
    assert fdd([still], [gt], [tpl], [0]) == pytest.approx(0.5)              # moves less than GT → positive
    assert fdd([livelier], [gt], [tpl], [0]) == pytest.approx(0.5 - 2.0)     # moves more → negative
    assert fdd([gt], [gt], [tpl], [0]) == 0.0
    assert fdd([still], [gt], [tpl], [0, 1]) == pytest.approx((0.5 + 0.0) / 2)   # mean over upper vertices
    # mean over sequences; templates as an (N, V, 3) array work too; the prediction is measured against τ
    assert fdd([still, livelier], [gt, gt], np.stack([tpl, tpl]), [0]) == pytest.approx((0.5 - 1.5) / 2)
    moved_tpl = tpl + 1.0                   # the same GT measured from τ = (1, 1, 1): ‖v − τ‖² = (x − 1)² + 2
    gt_d = np.array([3.0, 2.0, 3.0, 2.0])
    assert fdd([np.broadcast_to(moved_tpl, gt.shape)], [gt], [moved_tpl], [0]) == pytest.approx(gt_d.std())


def test_fdd_ignores_vertices_outside_the_mask():
    rng = np.random.default_rng(0)
    tpl = rng.normal(size=(5, 3))
    gt = tpl + rng.normal(scale=0.01, size=(6, 5, 3))
    pred = gt.copy()
    pred[:, 3:] += rng.normal(scale=0.5, size=(6, 2, 3))
    assert metrics.upper_face_dynamics_deviation([pred], [gt], [tpl], [0, 1, 2]) == pytest.approx(0.0, abs=1e-15)
    assert metrics.upper_face_dynamics_deviation([pred], [gt], [tpl], [3]) != 0.0


# ---- lip opening and r --------------------------------------------------------------------------------------------
def test_lip_opening_and_r():
    o = np.array([0.0, 0.004, 0.012, 0.006, 0.001, 0.009])
    gt = _lip_sequence(o)
    np.testing.assert_allclose(metrics.lip_opening(gt, (0, 1)), o, atol=1e-15)
    np.testing.assert_allclose(metrics.lip_opening(gt, (1, 0)), o, atol=1e-15)
    assert metrics.lip_opening_correlation(_lip_sequence(0.5 * o), gt, (0, 1)) == pytest.approx(1.0)
    assert metrics.lip_opening_correlation(_lip_sequence(0.5 * o + 0.002), gt, (0, 1)) == pytest.approx(1.0)
    assert metrics.lip_opening_correlation(_lip_sequence(0.02 - o), gt, (0, 1)) == pytest.approx(-1.0)
    assert np.isnan(metrics.lip_opening_correlation(_lip_sequence(np.full(6, 0.003)), gt, (0, 1)))
    assert metrics.pearson_r([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)


def test_at_30fps_keeps_even_frames():
    x = np.arange(7 * 2 * 3).reshape(7, 2, 3)
    np.testing.assert_array_equal(metrics.at_30fps(x), x[[0, 2, 4, 6]])
    np.testing.assert_array_equal(metrics.at_30fps(np.arange(6)), [0, 2, 4])
    assert metrics.at_30fps(x[:1]).shape == (1, 2, 3)


# ---- evaluate_sequences -------------------------------------------------------------------------------------------
def _split(rng, lengths=(9, 6), num_vertices=4):
    tpls = [rng.normal(scale=0.05, size=(num_vertices, 3)) for _ in lengths]
    gts = [t + rng.normal(scale=0.003, size=(n, num_vertices, 3)) for t, n in zip(tpls, lengths)]
    return tpls, gts


def test_evaluate_sequences_model_baseline_and_rates():
    rng = np.random.default_rng(1)
    tpls, gts = _split(rng)
    preds = [g + rng.normal(scale=0.001, size=g.shape) for g in gts]
    masks = {"lip": [1, 2], "upper": [3], "pair": (0, 1)}
    out = metrics.evaluate_sequences(preds, gts, tpls, **masks)
    assert set(out) == {"60fps", "30fps", "num_sequences", "num_frames"}
    assert out["num_sequences"] == 2 and out["num_frames"] == {"60fps": 15, "30fps": 5 + 3}
    for rate, pick in (("60fps", lambda s: s), ("30fps", metrics.at_30fps)):
        model, base = out[rate]["model"], out[rate]["baseline"]
        assert set(model) == set(base) == set(metrics.MEASURES)
        p, g = np.concatenate([pick(s) for s in preds]), np.concatenate([pick(s) for s in gts])
        still = np.concatenate([np.broadcast_to(t, pick(s).shape) for t, s in zip(tpls, gts)])
        # LVE and MVE pool the frames of all sequences
        assert model["lve_m2"] == pytest.approx(metrics.lip_vertex_error(p, g, [1, 2]))
        assert base["lve_m2"] == pytest.approx(metrics.lip_vertex_error(still, g, [1, 2]))
        assert model["mve_m"] == pytest.approx(metrics.mean_vertex_error(p, g))
        assert base["mve_m"] == pytest.approx(metrics.mean_vertex_error(still, g))
        ps, gs = [pick(s) for s in preds], [pick(s) for s in gts]
        assert model["fdd_m2"] == pytest.approx(metrics.upper_face_dynamics_deviation(ps, gs, tpls, [3]))
        # the baseline's upper face never moves: its FDD is the GT's own dynamics, > 0
        bases = [np.broadcast_to(t, s.shape) for t, s in zip(tpls, gs)]
        assert base["fdd_m2"] == pytest.approx(metrics.upper_face_dynamics_deviation(bases, gs, tpls, [3]))
        assert base["fdd_m2"] > 0
        assert model["lip_r_pooled"] == pytest.approx(metrics.lip_opening_correlation(p, g, (0, 1)))
        per_seq = [metrics.lip_opening_correlation(a, b, (0, 1)) for a, b in zip(ps, gs)]
        assert model["lip_r_mean"] == pytest.approx(np.mean(per_seq))
        assert np.isnan(base["lip_r_mean"])          # a constant opening has no correlation
        assert model["lve_m2"] < base["lve_m2"] and model["mve_m"] < base["mve_m"]
    # predicting the template is the baseline
    same = metrics.evaluate_sequences([np.repeat(t[None], len(g), 0) for t, g in zip(tpls, gts)], gts, tpls,
                                      **masks)
    for rate in ("60fps", "30fps"):
        assert same[rate]["model"] == pytest.approx(same[rate]["baseline"], nan_ok=True)


def test_evaluate_sequences_30fps_drops_the_odd_frames():
    rng = np.random.default_rng(2)
    tpls, gts = _split(rng, lengths=(8,))
    pred = gts[0].copy()
    pred[1::2] += 0.002                      # wrong only on odd frames
    out = metrics.evaluate_sequences([pred], gts, tpls, lip=[1], upper=[2], pair=(0, 1))
    assert out["30fps"]["model"]["lve_m2"] == 0.0 and out["30fps"]["model"]["mve_m"] == 0.0
    assert out["60fps"]["model"]["lve_m2"] == pytest.approx(3 * 0.002 ** 2 / 2)
    assert out["60fps"]["model"]["mve_m"] == pytest.approx(np.sqrt(3) * 0.002 / 2)
    at30 = metrics.evaluate_sequences([metrics.at_30fps(pred)], [metrics.at_30fps(gts[0])], tpls, lip=[1],
                                      upper=[2], pair=(0, 1), fps=30)
    assert set(at30) == {"30fps", "num_sequences", "num_frames"}
    for who in ("model", "baseline"):
        assert at30["30fps"][who] == pytest.approx(out["30fps"][who], nan_ok=True)


def test_evaluate_sequences_on_the_corpus_mesh():
    masks = metrics.corpus_masks()
    assert set(masks) == {"lip", "upper", "pair"}
    np.testing.assert_array_equal(masks["lip"], geometry.LIP_VERTICES)
    np.testing.assert_array_equal(masks["upper"], geometry.UPPER_FACE_VERTICES)
    assert masks["pair"] == geometry.LIP_OPENING_PAIR
    t = np.arange(24) / 60
    w = np.zeros((t.size, len(ARKIT_52)), np.float32)
    w[:, ARKIT_INDEX["jawOpen"]] = 0.4 * (1 - np.cos(2 * np.pi * 3 * t))
    w[:, ARKIT_INDEX["eyeBlinkLeft"]] = (t > 0.2) & (t < 0.3)
    gt = geometry.deform("f1", w).astype(np.float64)
    half = w.copy()
    half[:, ARKIT_INDEX["jawOpen"]] *= 0.5
    half[:, ARKIT_INDEX["eyeBlinkLeft"]] = 0.0
    pred = geometry.deform("f1", half).astype(np.float64)
    tpl = geometry.template("f1")
    out = metrics.evaluate_sequences([pred], [gt], [tpl], **masks)
    model, base = out["60fps"]["model"], out["60fps"]["baseline"]
    assert model["lip_r_pooled"] == pytest.approx(1.0, abs=1e-6)         # half the jaw: a scaled lip opening
    # linear blendshapes: half the jaw leaves half the lip displacement, a quarter of the squared error
    assert model["lve_m2"] == pytest.approx(0.25 * base["lve_m2"], rel=1e-4)
    # no blink in the prediction: its upper face is as still as the template's
    assert model["fdd_m2"] == pytest.approx(base["fdd_m2"], rel=1e-4) and model["fdd_m2"] > 1e-7
    assert 1e-4 < metrics.in_millimetres(base)["mve_mm"] < 5


# ---- bad input ----------------------------------------------------------------------------------------------------
def test_bad_input_is_named():
    pred, gt = _two_frames()
    with pytest.raises(ValueError, match=r"pred shape \(2, 3, 3\) differs from gt shape \(3, 3, 3\)"):
        metrics.lip_vertex_error(pred, np.zeros((3, 3, 3)), [0])
    with pytest.raises(ValueError, match="gt must have shape"):
        metrics.mean_vertex_error(pred, gt[..., :2])
    with pytest.raises(ValueError, match="pred must have shape"):
        metrics.mean_vertex_error(pred[0], gt[0])
    bad = pred.copy()
    bad[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"pred contains NaN .*\(1, 2, 0\)"):
        metrics.lip_vertex_error(bad, gt, [0])
    with pytest.raises(ValueError, match="lip indices"):
        metrics.lip_vertex_error(pred, gt, [0, 3])
    with pytest.raises(ValueError, match="lip must be a non-empty"):
        metrics.lip_vertex_error(pred, gt, [])
    with pytest.raises(ValueError, match="pair must be two distinct"):
        metrics.lip_opening(pred, (1, 1))
    with pytest.raises(ValueError, match="templates"):
        metrics.upper_face_dynamics_deviation([pred], [gt], [np.zeros(3)], [0])
    with pytest.raises(ValueError, match="1 predictions, 1 ground-truth sequences, 2 templates"):
        metrics.upper_face_dynamics_deviation([pred], [gt], [np.zeros((3, 3))] * 2, [0])
    with pytest.raises(ValueError, match=r"gts\[0\] contains NaN"):
        metrics.evaluate_sequences([pred], [bad], [np.zeros((3, 3))], lip=[0], upper=[1], pair=(0, 2))
    with pytest.raises(ValueError, match=r"gts\[1\] has 4 vertices"):
        metrics.evaluate_sequences([pred, np.zeros((2, 4, 3))], [gt, np.zeros((2, 4, 3))],
                                   [np.zeros((3, 3)), np.zeros((4, 3))], lip=[0], upper=[1], pair=(0, 2))
    with pytest.raises(ValueError, match="fps must be 60 or 30"):
        metrics.evaluate_sequences([pred], [gt], [np.zeros((3, 3))], lip=[0], upper=[1], pair=(0, 2), fps=25)
    with pytest.raises(ValueError, match="no sequences"):
        metrics.evaluate_sequences([], [], [], lip=[0], upper=[1], pair=(0, 2))
    with pytest.raises(ValueError, match="same length"):
        metrics.pearson_r([1.0, 2.0], [1.0, 2.0, 3.0])


def test_metrics_module_is_numpy_only():
    tree = ast.parse(Path(metrics.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"tensorflow", "keras", "tf_keras", "torch"}, imported
