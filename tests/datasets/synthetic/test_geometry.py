import numpy as np
import pytest

from zoo.datasets.arkit import ARKIT_52, ARKIT_INDEX
from zoo.datasets.synthetic import geometry

ID = "m1"


def _weights(**named) -> np.ndarray:
    w = np.zeros(len(ARKIT_52), np.float32)
    for name, value in named.items():
        w[ARKIT_INDEX[name]] = value
    return w


def _landmarks(identity=ID, **named) -> np.ndarray:
    return geometry.landmarks3d(geometry.deform(identity, _weights(**named))).astype(np.float64)


def test_mesh_counts_and_faces_valid():
    v = geometry.template(ID)
    assert v.shape == (geometry.NUM_VERTICES, 3) and v.dtype == np.float32
    assert 2000 <= geometry.NUM_VERTICES <= 6000
    f = geometry.FACES
    assert f.ndim == 2 and f.shape[1] == 3 and 4000 <= f.shape[0] <= 12000
    assert f.min() == 0 and f.max() == geometry.NUM_VERTICES - 1
    assert np.all((f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2]))
    assert np.unique(np.sort(f, axis=1), axis=0).shape[0] == f.shape[0]      # no duplicated triangles
    area = np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]), axis=1)
    assert np.all(area > 0)
    height = v[:, 1].max() - v[:, 1].min()
    assert 0.17 < height < 0.26                                               # a head in metres


def test_deterministic_and_identities_share_topology():
    np.testing.assert_array_equal(geometry.template(ID), geometry.template(ID))
    np.testing.assert_array_equal(geometry.basis(ID), geometry.basis(ID))
    assert len(geometry.IDENTITIES) >= 4
    templates = {k: geometry.template(k) for k in geometry.IDENTITIES}
    for i, a in enumerate(geometry.IDENTITIES):
        assert templates[a].shape == (geometry.NUM_VERTICES, 3)
        for b in geometry.IDENTITIES[i + 1:]:
            assert np.linalg.norm(templates[a] - templates[b], axis=1).mean() > 0.002, (a, b)


def test_unknown_identity_lists_valid_ones():
    with pytest.raises(ValueError, match="f1"):
        geometry.template("nobody")
    with pytest.raises(ValueError):
        geometry.deform(ID, np.zeros(51))


def test_deform_zero_is_template_and_linear():
    tpl = geometry.template(ID)
    np.testing.assert_allclose(geometry.deform(ID, np.zeros((3, 52))), np.broadcast_to(tpl, (3, *tpl.shape)))
    rng = np.random.default_rng(0)
    w1, w2 = rng.uniform(0, 0.6, (2, 4, 52))
    d = geometry.deform(ID, np.concatenate([w1, w2, w1 + w2]))
    out = d.astype(np.float64) - tpl
    np.testing.assert_allclose(out[8:], out[:4] + out[4:8], atol=2e-6)
    assert geometry.deform(ID, w1[0]).shape == tpl.shape


def test_every_delta_nonzero_and_localised():
    for identity in geometry.IDENTITIES:
        mag = np.linalg.norm(geometry.basis(identity), axis=-1)
        assert mag.shape == (52, geometry.NUM_VERTICES)
        for k, name in enumerate(ARKIT_52):
            assert mag[k].max() > 1e-3, name                     # at least 1 mm somewhere
            assert mag[k].max() < 0.035, name                    # no wild jumps
            assert (mag[k] > 1e-3).mean() < 0.35, name           # most vertices barely move


def test_jaw_open_and_mouth_close():
    base, jaw = _landmarks(), _landmarks(jawOpen=1.0)
    sealed = _landmarks(jawOpen=1.0, mouthClose=1.0)

    def gap(lm):
        return np.linalg.norm(lm[66] - lm[62])

    assert gap(base) < 0.002
    assert gap(jaw) - gap(base) > 0.01
    assert 0.004 < base[8, 1] - jaw[8, 1] < 0.03                  # chin drops 0.4–3 cm
    assert gap(sealed) < 0.5 * gap(jaw)
    half = _landmarks(jawOpen=0.5)
    assert gap(base) < gap(half) < gap(jaw)


def test_blink_left_closes_only_subjects_left_eye():
    base, blink = _landmarks(), _landmarks(eyeBlinkLeft=1.0)
    assert base[42:48, 0].mean() > 0 > base[36:42, 0].mean()     # subject's left eye on +x

    def opening(lm, pairs):
        return np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in pairs])

    left, right = [(43, 47), (44, 46)], [(37, 41), (38, 40)]
    assert opening(base, left) > 0.004 and opening(base, right) > 0.004
    assert opening(blink, left) < 0.25 * opening(base, left)
    assert opening(blink, right) == pytest.approx(opening(base, right), abs=1e-6)
    blink_r = _landmarks(eyeBlinkRight=1.0)
    assert opening(blink_r, right) < 0.25 * opening(base, right)
    assert opening(blink_r, left) == pytest.approx(opening(base, left), abs=1e-6)


def test_smile_left_raises_landmark_54_and_lip_pushes_forward():
    base, smile = _landmarks(), _landmarks(mouthSmileLeft=1.0)
    assert smile[54, 1] - base[54, 1] > 0.003                    # subject's left corner (+x, image right)
    assert abs(smile[48, 1] - base[48, 1]) < 0.0005
    frown = _landmarks(mouthFrownRight=1.0)
    assert base[48, 1] - frown[48, 1] > 0.002
    for name in ("mouthPucker", "mouthFunnel"):
        moved = _landmarks(**{name: 1.0})
        assert (moved[48:68, 2] - base[48:68, 2]).mean() > 0.003, name
        assert abs(moved[54, 0] - moved[48, 0]) < abs(base[54, 0] - base[48, 0]), name   # rounder, narrower


def test_brows_and_cheeks_move_the_right_way():
    base = _landmarks()
    assert (_landmarks(browInnerUp=1.0)[[21, 22], 1] - base[[21, 22], 1]).min() > 0.003
    down = _landmarks(browDownLeft=1.0)
    assert (down[22:27, 1] - base[22:27, 1]).max() < -0.002
    np.testing.assert_allclose(down[17:22], base[17:22], atol=2e-4)
    tpl, puff = geometry.template(ID), geometry.deform(ID, _weights(cheekPuff=1.0))
    cheek = (np.abs(tpl[:, 0]) > 0.03) & (np.abs(tpl[:, 0]) < 0.06) & (tpl[:, 2] > 0.04)
    outward = np.einsum("vc,vc->v", (puff - tpl)[cheek], geometry.vertex_normals(tpl)[cheek])
    assert outward.min() > -1e-4 and outward.max() > 0.005


def test_landmarks_project_inside_and_ordered():
    for identity in geometry.IDENTITIES:
        assert geometry.LANDMARK_VERTICES.shape == (68,)
        assert len(set(geometry.LANDMARK_VERTICES.tolist())) == 68
        for w in (_weights(), _weights(jawOpen=1.0)):
            uv = geometry.project(geometry.landmarks3d(geometry.deform(identity, w)), 128)
            assert uv.shape == (68, 2)
            assert np.all((uv > 2) & (uv < 126)), identity
        y = uv[:, 1]                                           # image y grows downwards
        assert y[17:27].max() < y[36:48].min()                 # brows above the eyes
        assert y[36:48].max() < y[30] < y[51] < y[57] < y[8]   # eyes, nose tip, lips, chin
        assert uv[0, 0] < uv[8, 0] < uv[16, 0]
        assert uv[36, 0] < uv[39, 0] < uv[27, 0] < uv[42, 0] < uv[45, 0]
        assert uv[48, 0] < uv[51, 0] < uv[54, 0] and uv[31, 0] < uv[33, 0] < uv[35, 0]
        assert np.all(np.diff(uv[0:9, 1]) > 0) and np.all(np.diff(uv[8:17, 1]) < 0)
        assert np.all(np.diff(uv[0:17, 0]) > 0)


def test_project_pinhole_convention():
    cam = geometry.Camera(position=(0.0, 0.0, 1.0), fov_deg=90.0)
    uv = geometry.project(np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.5, 0.5]]), 100, cam)
    np.testing.assert_allclose(uv, [[50, 50], [75, 25], [100, 0]], atol=1e-9)


def _mouth_box(identity=ID, size=128):
    uv = geometry.project(geometry.landmarks3d(geometry.template(identity))[48:68], size)
    (u0, v0), (u1, v1) = uv.min(0), uv.max(0)
    return slice(int(v0) - 1, int(v1) + 8), slice(int(u0) + 2, int(u1) - 1)


def test_render_shape_content_and_determinism():
    tpl = geometry.template(ID)
    img = geometry.render(tpl, geometry.FACES, 128)
    assert img.shape == (128, 128, 3) and img.dtype == np.uint8
    assert img.std() > 20
    face = np.any(img != np.rint(np.array(geometry.BACKGROUND) * 255).astype(np.uint8), axis=-1)
    assert 0.4 < face.mean() < 0.95                               # the face fills most of the frame
    again = geometry.render(tpl.copy(), geometry.FACES.copy(), 128)
    assert img.tobytes() == again.tobytes()
    big = geometry.render(tpl, geometry.FACES, (160, 200))
    assert big.shape == (160, 200, 3)


def test_open_mouth_renders_darker_and_blink_hides_the_eye():
    rows, cols = _mouth_box()
    closed = geometry.render(geometry.template(ID), geometry.FACES, 128).astype(int)
    opened = geometry.render(geometry.deform(ID, _weights(jawOpen=1.0)), geometry.FACES, 128).astype(int)
    assert opened[rows, cols].mean() < closed[rows, cols].mean() - 25
    uv = geometry.project(geometry.landmarks3d(geometry.template(ID)), 128)
    blink = geometry.render(geometry.deform(ID, _weights(eyeBlinkLeft=1.0)), geometry.FACES, 128).astype(int)

    def sclera_pixels(img, eye):       # bright, unsaturated pixels between the eye corners
        (u0, v0), (u1, v1) = uv[eye].min(0), uv[eye].max(0)
        patch = img[int(v0) - 2:int(v1) + 3, int(u0):int(u1) + 1]
        return int(((np.ptp(patch, axis=-1) < 40) & (patch.mean(-1) > 110)).sum())

    left, right = slice(42, 48), slice(36, 42)
    assert sclera_pixels(closed, left) >= 6 and sclera_pixels(closed, right) >= 6
    assert sclera_pixels(blink, left) <= sclera_pixels(closed, left) // 4
    assert sclera_pixels(blink, right) == sclera_pixels(closed, right)


def test_render_png_roundtrip(tmp_path):
    from PIL import Image

    img = geometry.render(geometry.deform(ID, _weights(mouthSmileLeft=1.0, mouthSmileRight=1.0)), geometry.FACES)
    path = tmp_path / "smile.png"
    Image.fromarray(img).save(path)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), img)


_MIRROR = ([(k, 16 - k) for k in range(8)] + [(17 + k, 26 - k) for k in range(5)] + [(31, 35), (32, 34)]
           + [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
           + [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67)])


@pytest.mark.parametrize("left,right", [("mouthSmileLeft", "mouthSmileRight"), ("eyeBlinkLeft", "eyeBlinkRight"),
                                        ("browOuterUpLeft", "browOuterUpRight"), ("jawLeft", "jawRight"),
                                        ("eyeLookUpLeft", "eyeLookUpRight"), ("cheekSquintLeft", "cheekSquintRight")])
def test_left_right_shapes_mirror_each_other(left, right):
    a, b = _landmarks("f2", **{left: 1.0}), _landmarks("f2", **{right: 1.0})
    flip = np.array([-1.0, 1.0, 1.0])
    i, j = np.array(_MIRROR).T
    np.testing.assert_allclose(a[i], b[j] * flip, atol=2e-5)
    np.testing.assert_allclose(a[j], b[i] * flip, atol=2e-5)
    assert np.abs(a - _landmarks("f2")).max() > 5e-4


def test_eye_look_in_moves_left_iris_towards_the_nose():
    d = geometry.basis(ID)[ARKIT_INDEX["eyeLookInLeft"]].astype(np.float64)
    tpl = geometry.template(ID)
    moved = np.linalg.norm(d, axis=1) > 5e-4
    assert moved.sum() > 5
    assert np.all(tpl[moved, 0] > 0.01)                       # only the subject's left eye (+x)
    assert d[moved, 0].mean() < -1e-3                          # towards the nose (−x)


def test_pose_rotates_about_the_neck():
    v = geometry.template(ID)
    np.testing.assert_allclose(geometry.pose(v, [0.0, 0.0, 0.0]), v, atol=1e-7)
    nose = 30
    turned = geometry.landmarks3d(geometry.pose(v, [20.0, 0.0, 0.0]))[nose]
    nodded = geometry.landmarks3d(geometry.pose(v, [0.0, 15.0, 0.0]))[nose]
    rest = geometry.landmarks3d(v)[nose]
    assert turned[0] > rest[0] + 0.02  # yaw + turns the face to the subject's left (+x)
    assert nodded[1] < rest[1] - 0.01  # pitch + tips the chin (and nose) down
    # distances are preserved
    np.testing.assert_allclose(np.linalg.norm(turned - geometry.HEAD_PIVOT), np.linalg.norm(rest - geometry.HEAD_PIVOT),
                               rtol=1e-5)


def test_render_sequence_frames_and_landmarks():
    w = np.zeros((3, 52), np.float32)
    w[1, ARKIT_INDEX["jawOpen"]] = 1.0
    frames, lm = geometry.render_sequence(ID, w, np.zeros((3, 3)), 128)
    assert frames.shape == (3, 128, 128, 3) and frames.dtype == np.uint8 and lm.shape == (3, 68, 2)
    gap = lm[:, 66, 1] - lm[:, 62, 1]
    assert gap[1] > gap[0] + 3  # the open mouth shows as a larger inner-lip gap in pixels
    np.testing.assert_array_equal(frames[0], frames[2])


# ---- evaluation masks (LVE / FDD) and the lip-opening pair --------------------------------------------------------
def _mask(idx) -> np.ndarray:
    m = np.zeros(geometry.NUM_VERTICES, bool)
    m[idx] = True
    return m


def test_masks_are_sorted_disjoint_skin_blocks_of_the_sheet():
    lip, upper = geometry.LIP_VERTICES, geometry.UPPER_FACE_VERTICES
    for idx in (lip, upper):
        assert idx.ndim == 1 and idx.size > 0 and np.issubdtype(idx.dtype, np.integer)
        assert np.all(np.diff(idx) > 0) and idx.min() >= 0 and idx.max() < geometry.NUM_VERTICES
        assert np.all(geometry._TOPO["kind"][idx] == geometry.SKIN)          # no eyeball, mouth interior or tongue
        assert not idx.flags.writeable
    assert np.intersect1d(lip, upper).size == 0
    (r0, r1), (c0, c1) = geometry.LIP_ROWS, geometry.LIP_COLS
    slit = geometry.MOUTH_COLS[1] - geometry.MOUTH_COLS[0] - 1                # upper-lip copies in the mouth slit
    assert lip.size == (r1 - r0 + 1) * (c1 - c0 + 1) + slit == 185
    (r0, r1), (c0, c1) = geometry.UPPER_FACE_ROWS, geometry.UPPER_FACE_COLS
    lids = sum(e1 - e0 - 1 for e0, e1 in geometry.EYE_COLS.values())         # upper-lid copies in the eye slits
    assert upper.size == (r1 - r0 + 1) * (c1 - c0 + 1) + lids == 1237
    assert set(geometry.LANDMARK_VERTICES[48:68].tolist()) <= set(lip.tolist())          # iBUG mouth contour
    assert set(geometry.LANDMARK_VERTICES[17:27].tolist()) <= set(upper.tolist())        # brows
    assert set(geometry.LANDMARK_VERTICES[36:48].tolist()) <= set(upper.tolist())        # eyelids
    assert geometry.LIP_OPENING_PAIR == tuple(int(i) for i in geometry.LANDMARK_VERTICES[[62, 66]])


@pytest.mark.parametrize("identity", geometry.IDENTITIES)
def test_masks_lie_where_they_should(identity):
    tpl = geometry.template(identity).astype(np.float64)
    lm = geometry.landmarks3d(tpl)
    y_mouth = tpl[geometry.LIP_OPENING_PAIR[1], 1]
    lip, upper = tpl[geometry.LIP_VERTICES], tpl[geometry.UPPER_FACE_VERTICES]
    assert np.all(np.abs(lip[:, 1] - y_mouth) < 0.01)                              # within 1 cm of the mouth line
    assert np.all(np.abs(lip[:, 0]) < abs(lm[54, 0]) + 0.003)                      # corners ± 3 mm
    assert np.all(lip[:, 2] > lm[8, 2] - 0.01)                                     # on the front of the face
    assert upper[:, 1].min() > lm[30, 1] + 0.02                                    # well above the nose tip
    assert upper[:, 1].min() < lm[36:48, 1].min() - 0.005                          # but below the lower lids
    assert upper[:, 1].max() > lm[17:27, 1].max() + 0.04                           # up the forehead
    assert upper[:, 2].min() > 0.02                                                # front of the head
    assert np.abs(upper[:, 0]).max() > abs(lm[36, 0]) + 0.01                       # out to the temples


def test_masks_catch_their_motion():
    mag = np.linalg.norm(geometry.basis(ID).astype(np.float64), axis=-1)
    lip, upper = _mask(geometry.LIP_VERTICES), _mask(geometry.UPPER_FACE_VERTICES)
    skin = geometry._TOPO["kind"] == geometry.SKIN
    for name in ("eyeBlinkLeft", "eyeBlinkRight", "eyeWideLeft", "browInnerUp", "browDownLeft", "browOuterUpRight"):
        k = ARKIT_INDEX[name]
        assert mag[k][upper].max() > 0.002, name
        assert mag[k][skin & ~upper].max() < 0.2 * mag[k][upper].max(), name
        assert mag[k][lip].max() < 1e-6, name
    for name in ("jawOpen", "mouthFunnel", "mouthSmileLeft", "mouthPucker"):
        k = ARKIT_INDEX[name]
        assert mag[k][upper].max() < 1e-4, name
        assert mag[k][lip].max() > 0.9 * mag[k][skin].max() - 0.002, name


@pytest.mark.parametrize("identity", geometry.IDENTITIES)
def test_lip_opening_pair_grows_with_jaw_open(identity):
    i, j = geometry.LIP_OPENING_PAIR
    w = np.zeros((5, len(ARKIT_52)), np.float32)
    w[:, ARKIT_INDEX["jawOpen"]] = [0.0, 0.1, 0.25, 0.5, 1.0]
    v = geometry.deform(identity, w).astype(np.float64)
    gap = np.linalg.norm(v[:, i] - v[:, j], axis=-1)
    assert gap[0] < 1e-9                                            # the two lip edges coincide at rest
    assert np.all(np.diff(gap) > 0)
    assert 0.01 < gap[-1] < 0.04                                     # 1–4 cm at full jawOpen
    assert np.all(v[1:, i, 1] > v[1:, j, 1])                         # the upper-lip vertex stays above
    sealed = geometry.deform(identity, _weights(jawOpen=1.0, mouthClose=1.0)).astype(np.float64)
    assert np.linalg.norm(sealed[i] - sealed[j]) < 0.5 * gap[-1]
