"""zoo.voca_emotion.emotion: V′ₜ = Vₜ + α(t)·mᵥ·Δₑ with Δₑ from the corpus's basis or a FLAME model's E·ψₑ.

Hand numbers: s(u) = 3u² − 2u³ gives s(¼) = 0.15625, s(½) = 0.5, s(¾) = 0.84375, s(⅕) = 0.104, s(⅖) = 0.352,
s(⅗) = 0.648, s(⅘) = 0.896. The fake FLAME model moves vertex k by 1 mm·(k + 1) in y along expression direction k,
so Δₑ[k] = (0, 0.001·(k + 1)·ψₑ[k], 0) m.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from helpers import fake_chumpy

from zoo.datasets import ARKIT_INDEX, EMOTIONS, DataError, UnsafePickleError
from zoo.voca_emotion import emotion as em

# ------------------------------------------------------------------------------------------------------------ ramp


def test_ramp_hand_values_hold_and_symmetry():
    a = em.ramp(30, ease_in=4, ease_out=4)
    assert a.dtype == np.float32 and a.shape == (30,)
    np.testing.assert_allclose(a[:5], [0.0, 0.15625, 0.5, 0.84375, 1.0], atol=1e-7)
    np.testing.assert_array_equal(a[4:26], 1.0)  # the hold is exactly the intensity
    np.testing.assert_allclose(a[25:], [1.0, 0.84375, 0.5, 0.15625, 0.0], atol=1e-7)
    d = em.ramp(60)  # defaults: 12 frames = 0.2 s at 60 fps each way
    assert d[0] == 0.0 and d[6] == pytest.approx(0.5) and d[12] == 1.0 and d[47] == 1.0
    assert d[53] == pytest.approx(0.5) and d[59] == 0.0 and d[11] < 1.0


def test_ramp_monotone_bounded_and_scaled_by_intensity():
    full = em.ramp(100, ease_in=20, ease_out=30, start=10, end=90)
    peak = int(np.argmax(full))
    assert np.all(np.diff(full[: peak + 1]) >= 0) and np.all(np.diff(full[peak:]) <= 0)
    assert full.min() == 0.0 and full.max() == 1.0
    np.testing.assert_array_equal(full[:11], 0.0)
    np.testing.assert_array_equal(full[89:], 0.0)
    part = em.ramp(100, intensity=0.4, ease_in=20, ease_out=30, start=10, end=90)
    np.testing.assert_allclose(part, 0.4 * full, atol=1e-7)
    assert part.max() == pytest.approx(0.4)


def test_ramp_segment_and_short_sequences():
    a = em.ramp(20, ease_in=2, ease_out=2, start=5, end=15)
    np.testing.assert_allclose(a[4:16], [0, 0, 0.5, 1, 1, 1, 1, 1, 1, 0.5, 0, 0], atol=1e-7)
    np.testing.assert_array_equal(np.r_[a[:5], a[15:]], 0.0)
    # 10 frames < 12 + 12: ramps scaled to a′ = ⌊12·9/24 + ½⌋ = 5, b′ = 9 − 5 = 4; the peak still reaches 1
    np.testing.assert_allclose(em.ramp(10), [0, 0.104, 0.352, 0.648, 0.896, 1, 0.84375, 0.5, 0.15625, 0], atol=1e-6)
    np.testing.assert_allclose(em.ramp(5, intensity=0.7, start=2, end=3), [0, 0, 0.7, 0, 0], atol=1e-7)
    np.testing.assert_allclose(em.ramp(4, intensity=0.3, ease_in=0, ease_out=0), [0.3] * 4, atol=1e-7)
    assert em.ramp(0).shape == (0,) and not em.ramp(6, start=3, end=3).any()


@pytest.mark.parametrize("kwargs, words", [
    ({"intensity": 1.5}, "intensity must be in [0, 1]"), ({"ease_in": -1}, "ease_in"), ({"ease_out": 2.5}, "ease_out"),
    ({"end": 40}, "start <= end <= frames"), ({"start": 20, "end": 10}, "start <= end <= frames"),
])
def test_ramp_refusals(kwargs, words):
    with pytest.raises(ValueError) as e:
        em.ramp(30, **kwargs)
    assert words in str(e.value)


# ----------------------------------------------------------------------------------------------------------- merge


def test_merge_arithmetic_per_frame():
    vertices = np.zeros((3, 2, 3), np.float32)
    delta = np.array([[0.002, 0.0, -0.001], [0.0, 0.004, 0.0]], np.float32)
    out = em.merge(vertices, delta, np.array([0.0, 0.5, 1.0]))
    assert out.dtype == np.float32 and out.shape == (3, 2, 3)
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_allclose(out[1], [[0.001, 0.0, -0.0005], [0.0, 0.002, 0.0]], atol=1e-9)
    np.testing.assert_allclose(out[2], delta, atol=1e-9)
    np.testing.assert_allclose(em.merge(vertices + 1.0, delta, 0.25)[2], 1.0 + 0.25 * delta, atol=1e-7)


def test_merge_masks_leave_other_vertices_bit_identical():
    rng = np.random.default_rng(0)
    vertices = rng.normal(0, 0.1, (4, 5, 3)).astype(np.float32)
    delta = rng.normal(0, 0.003, (5, 3)).astype(np.float32)
    alpha = em.ramp(4, ease_in=1, ease_out=0)  # 0, 1, 1, 1
    for mask in (np.array([1, 3]), np.array([False, True, False, True, False])):
        out = em.merge(vertices, delta, alpha, mask)
        np.testing.assert_array_equal(out[:, [0, 2, 4]], vertices[:, [0, 2, 4]])
        np.testing.assert_allclose(out[:, [1, 3]], vertices[:, [1, 3]] + alpha[:, None, None] * delta[[1, 3]],
                                   atol=1e-7)
    soft = np.array([0.0, 0.5, 1.0, 0.25, 0.0])
    out = em.merge(vertices, delta, 1.0, soft)
    np.testing.assert_array_equal(out[:, [0, 4]], vertices[:, [0, 4]])
    np.testing.assert_allclose(out - vertices, np.broadcast_to(soft[:, None] * delta, (4, 5, 3)), atol=1e-7)


@pytest.mark.parametrize("args, words", [
    ((np.zeros((2, 5, 3)), np.zeros((4, 3))), "delta must be a numeric (5, 3)"),
    ((np.zeros((5, 3)), np.zeros((5, 3))), "vertices must be a numeric (frames, vertices, 3)"),
    ((np.zeros((2, 5, 3)), np.zeros((5, 3)), np.zeros(3)), "alpha must be a number or have shape (2,)"),
    ((np.zeros((2, 5, 3)), np.zeros((5, 3)), 1.2), "alpha must be in [0, 1]"),
    ((np.zeros((2, 5, 3)), np.zeros((5, 3)), np.array([0.5, -0.1])), "alpha must hold finite values in [0, 1]"),
    ((np.zeros((2, 5, 3)), np.zeros((5, 3)), 1.0, np.array([0, 5])), "outside [0, 5)"),
    ((np.zeros((2, 5, 3)), np.zeros((5, 3)), 1.0, np.full(5, 1.5)), "weight mask must hold finite values in [0, 1]"),
    ((np.zeros((2, 5, 3)), np.zeros((5, 3)), 1.0, np.ones(4, bool)), "boolean mask must have shape (5,)"),
])
def test_merge_refusals(args, words):
    with pytest.raises(ValueError) as e:
        em.merge(*args)
    assert words in str(e.value)


# ---------------------------------------------------------------------------------------------- corpus offsets


def test_corpus_happy_is_the_overlay_through_the_basis():
    from zoo.datasets.synthetic import face, geometry

    weights = np.zeros(52, np.float32)
    for name, value in face.EMOTION_OVERLAYS["happy"].items():
        weights[ARKIT_INDEX[name]] = value
    assert weights[ARKIT_INDEX["mouthSmileLeft"]] > 0  # the overlay is not empty
    # an independent path: the corpus's own deformation of m1 minus its template
    expected = geometry.deform("m1", weights).astype(np.float64) - geometry.template("m1")
    offsets = em.corpus_emotion_offsets("m1")
    assert set(offsets) == set(EMOTIONS) and offsets["happy"].dtype == np.float32
    np.testing.assert_allclose(offsets["happy"], expected, atol=1e-6)  # metres; float32 rounding of ~0.1 m values
    assert np.abs(offsets["happy"]).max() > 1e-4  # bar: a visible offset (> 0.1 mm)
    strong = em.corpus_emotion_offsets("m1", "strong")
    np.testing.assert_allclose(strong["happy"], face.STRONG_SCALE * offsets["happy"], atol=1e-7)


def test_corpus_neutral_is_exactly_zero_and_mean_identity_is_the_mean():
    from zoo.datasets.synthetic import geometry

    per = [em.corpus_emotion_offsets(i) for i in geometry.IDENTITIES]
    mean = em.corpus_emotion_offsets()
    for emotion in EMOTIONS:
        np.testing.assert_allclose(mean[emotion], np.mean([p[emotion] for p in per], axis=0), atol=1e-7)
    for offsets in (*per, mean, em.corpus_emotion_offsets(intensity="strong")):
        assert not offsets["neutral"].any()
    with pytest.raises(ValueError, match="intensity"):
        em.corpus_emotion_offsets(intensity="loud")


def test_upper_face_mask_keeps_the_lips():
    from zoo.datasets.synthetic import geometry

    weights = np.zeros((6, 52), np.float32)
    weights[:, ARKIT_INDEX["jawOpen"]] = np.linspace(0, 0.6, 6)  # talking: the lips move
    vertices = geometry.deform("f1", weights)
    basis = em.EmotionBasis.from_corpus("f1")
    lips, upper_ids = geometry.LIP_VERTICES, geometry.UPPER_FACE_VERTICES
    assert np.intersect1d(lips, upper_ids).size == 0
    outside = np.setdiff1d(np.arange(geometry.NUM_VERTICES), upper_ids)
    alpha = em.ramp(6, ease_in=2, ease_out=0)
    for emotion in ("happy", "sad", "surprised"):
        full = basis.apply(vertices, emotion, alpha)
        upper = basis.apply(vertices, emotion, alpha, mask=upper_ids)
        np.testing.assert_array_equal(upper[:, lips], vertices[:, lips])
        np.testing.assert_array_equal(upper[:, outside], vertices[:, outside])
        np.testing.assert_array_equal(upper[:, upper_ids], full[:, upper_ids])
    # the mask matters: unmasked, a smile moves the lips; masked, sad still moves the brows
    assert np.abs(basis.apply(vertices, "happy")[:, lips] - vertices[:, lips]).max() > 1e-4
    masked = basis.apply(vertices, "sad", mask=upper_ids)
    assert np.abs(masked - vertices).max() > 1e-4


# ----------------------------------------------------------------------------------------------- FLAME offsets


def _write_flame(path, directions=400, vertices=10, drop=()):
    """A FLAME-structured pickle: expression direction k moves vertex k by 1 mm·(k + 1) in y; others are noise."""
    import scipy.sparse

    rng = np.random.default_rng(3)
    shapedirs = rng.normal(0, 0.5, (vertices, 3, directions))  # shape and later expression directions: large noise
    if directions >= 310:
        shapedirs[:, :, 300:310] = 0.0
        for k in range(10):
            shapedirs[k, 1, 300 + k] = 0.001 * (k + 1)
    with fake_chumpy() as Ch:
        model = {"v_template": Ch(rng.normal(0, 0.05, (vertices, 3))), "shapedirs": Ch(shapedirs),
                 "posedirs": Ch(np.zeros((vertices, 3, 36))), "J": Ch(np.zeros((5, 3))),
                 "weights": Ch(np.full((vertices, 5), 0.2)),
                 "J_regressor": scipy.sparse.csc_matrix(np.full((5, vertices), 1.0 / vertices)),
                 "f": np.array([[0, 1, 2]], np.uint32), "kintree_table": np.array([[-1, 0, 1, 1, 1], [0, 1, 2, 3, 4]]),
                 "bs_style": "lbs", "bs_type": "lrotmin"}
        for key in drop:
            del model[key]
        path.write_bytes(pickle.dumps(model, protocol=2))
    assert "chumpy" not in sys.modules
    return shapedirs


def test_psi_table_is_spec_6_2():
    assert tuple(em.PSI_TABLE) == ("happy", "sad", "surprised", "angry", "excited", "fear", "disappointed",
                                   "frustrated", "neutral")
    assert all(len(row) == 10 for row in em.PSI_TABLE.values()) and not any(em.PSI_TABLE["neutral"])
    assert em.PSI_TABLE["fear"][5] == 1.93 and em.PSI_TABLE["surprised"][3] == 1.80  # spot checks against the spec
    assert all(row in em.PSI_TABLE for row in em.LABELS.values())
    assert set(em.LABELS) | set(em.UNMAPPED) >= set(EMOTIONS) | {"neu", "ang", "hap", "sad"}


@pytest.mark.parametrize("directions", [400, 350])
def test_flame_delta_is_E_psi(tmp_path, directions):
    path = tmp_path / "generic_model.pkl"
    shapedirs = _write_flame(path, directions)
    offsets = em.flame_emotion_offsets(path)
    assert set(offsets) == set(em.PSI_TABLE) and offsets["happy"].shape == (10, 3)
    # hand values (metres): Δ_happy[0] = 0.001·1·1.62, Δ_happy[3] = 0.004·1.57, Δ_happy[9] = 0.010·2.0, ψ₃ = 0
    happy = offsets["happy"]
    np.testing.assert_allclose(happy[[0, 3, 9, 2], 1], [0.00162, 0.00628, 0.02, 0.0], atol=1e-9)
    np.testing.assert_array_equal(happy[:, [0, 2]], 0.0)
    assert offsets["fear"][8, 1] == pytest.approx(0.018) and offsets["sad"][9, 1] == pytest.approx(-0.02)
    assert not offsets["neutral"].any()
    for row, psi in em.PSI_TABLE.items():  # the general formula, by an explicit sum over the 10 directions
        expected = sum(shapedirs[:, :, 300 + k] * psi[k] for k in range(10))
        np.testing.assert_allclose(offsets[row], expected, atol=1e-8)


def test_emotion_basis_labels_save_load(tmp_path):
    path = tmp_path / "generic_model.pkl"
    _write_flame(path)
    basis = em.EmotionBasis.from_flame(path)
    assert basis.names == tuple(em.PSI_TABLE) and basis.num_vertices == 10 and "generic_model.pkl" in basis.source
    np.testing.assert_array_equal(basis.delta("fearful"), basis.delta("fear"))
    np.testing.assert_array_equal(basis.delta("hap"), basis.delta("happy"))
    assert not basis.delta("calm").any()
    with pytest.raises(ValueError, match="no disgust row"):
        basis.delta("disgust")
    with pytest.raises(ValueError) as e:
        basis.delta("bored")
    assert "'bored'" in str(e.value) and "frustrated" in str(e.value) and "fearful" in str(e.value)
    saved = basis.save(tmp_path / "model" / "emotions.npz")
    loaded = em.EmotionBasis.load(saved)
    assert loaded.names == basis.names and loaded.source == basis.source
    for name in basis.names:
        np.testing.assert_array_equal(loaded.delta(name), basis.delta(name))
    with np.load(saved, allow_pickle=False) as npz:  # arrays only: loads without pickle
        assert npz["offsets"].shape == (9, 10, 3) and npz["names"].dtype.kind == "U"
    corpus = em.EmotionBasis.from_corpus("m2")  # RAVDESS names, disgust included; classifier labels map onto them
    assert "disgust" in corpus.names and corpus.delta("ang") is corpus.delta("angry")


def test_flame_refusals_name_file_and_cause(tmp_path):
    cases = {"few.pkl": ({"directions": 305}, "the ψ table needs the first 10"),
             "noshape.pkl": ({"drop": ("shapedirs",)}, "no 'shapedirs'")}
    for name, (kwargs, words) in cases.items():
        path = tmp_path / name
        _write_flame(path, **kwargs)
        with pytest.raises(DataError) as e:
            em.flame_emotion_offsets(path)
        assert os.fspath(path) in str(e.value) and words in str(e.value), str(e.value)
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(b"cos\nsystem\n(V" + f"touch {marker}".encode() + b"\ntR.")  # protocol 0: os.system("touch …")
    with pytest.raises(UnsafePickleError) as e:
        em.EmotionBasis.from_flame(evil)
    assert os.fspath(evil) in str(e.value) and "os.system" in str(e.value) and not marker.exists()
    lst = tmp_path / "list.pkl"
    lst.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(DataError, match="not a dict"):
        em.flame_emotion_offsets(lst)


def test_basis_file_and_shape_refusals(tmp_path):
    bad = {"garbage.npz": b"not a zip file", "empty.npz": b""}
    for name, raw in bad.items():
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(DataError) as e:
            em.EmotionBasis.load(path)
        assert os.fspath(path) in str(e.value) and "not a readable emotion basis" in str(e.value)
    other = tmp_path / "other.npz"
    np.savez(other, offsets=np.zeros((1, 4, 3)))
    with pytest.raises(DataError, match="not an emotion basis file"):
        em.EmotionBasis.load(other)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, format=np.array("voca_emotion.EmotionBasis/1"), names=np.array(["a"], object),
             offsets=np.zeros((1, 4, 3)))
    with pytest.raises(DataError) as e:  # an object array would need pickle: refused
        em.EmotionBasis.load(pickled)
    assert "pickle" in str(e.value).lower()
    with pytest.raises(ValueError, match="has 5 vertices, the others 4"):
        em.EmotionBasis({"a": np.zeros((4, 3)), "b": np.zeros((5, 3))})
    with pytest.raises(ValueError, match=r"\(vertices, 3\)"):
        em.EmotionBasis({"a": np.zeros((4, 2))})


def test_module_does_not_import_tensorflow():
    code = ("import sys, zoo.voca_emotion.emotion as e; e.ramp(5); "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules, 'chumpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False"]
