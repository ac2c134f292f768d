"""A parametric 3-D face for the synthetic talking-face corpus: mesh, identities, ARKit-52 basis, landmarks, renderer.

Conventions: metres; right-handed; y up; z towards the viewer (the camera sits on +z and looks down −z).
The subject's left is +x, so it appears on the image right. ``...Left`` blendshapes act on +x,
``...Right`` on −x. iBUG landmark 0, the right eye (36–41) and mouth corner 48 are on −x (image left).

Mesh: one open sheet over a deformed ellipsoid, rows of constant elevation φ and columns of constant
azimuth θ (denser over the face), cut along three slits (two eye openings, one mouth line) whose upper
edges are duplicated vertices, plus four small patches behind the openings: two eyeballs (sclera, iris,
pupil), a dark mouth interior and a tongue. Every identity shares this topology.

Deformation: ``vertices = template + Σ_k w_k · delta_k`` with ``delta = basis(identity)`` (52, V, 3).
Eyelid shapes are exact re-evaluations of the surface with the lid edges slid along it; the jaw is a
linearised rotation ``δ = α · (x̂ × (p − pivot))`` weighted by a jaw mask; the rest are smooth,
localised Gaussian displacement fields.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.interpolate import PchipInterpolator

from ..arkit import ARKIT_52, ARKIT_INDEX

log = logging.getLogger(__name__)

__all__ = [
    "IDENTITIES", "FACES", "NUM_VERTICES", "LANDMARK_VERTICES", "Camera", "DEFAULT_CAMERA", "DEFAULT_LIGHT",
    "template", "basis", "deform", "vertex_colors", "landmarks3d", "project", "vertex_normals", "render",
    "LIP_VERTICES", "UPPER_FACE_VERTICES", "LIP_OPENING_PAIR",
]

# ----------------------------------------------------------------------------------------------------------------
# Topology (identity independent)
# ----------------------------------------------------------------------------------------------------------------
NU, NV = 69, 77                      # grid columns (azimuth θ) and rows (elevation φ)
_CENTRE = NU // 2                    # column at θ = 0
_THETA = np.radians(PchipInterpolator([0, 8, 34, 60, 68], [-120.0, -62.0, 0.0, 62.0, 120.0])(np.arange(NU)))
_PHI = np.radians(PchipInterpolator([0, 11, 29, 47, 59, 76],
                                    [-88.0, -50.0, -24.5, 1.0, 18.0, 86.0])(np.arange(NV)))
ROW_MOUTH, ROW_EYE, ROW_BROW, ROW_TIP, ROW_SUBNASAL, ROW_CHIN = 20, 48, 55, 32, 29, 6
MOUTH_COLS = (25, 43)                # slit ends (shared corner vertices)
EYE_COLS = {"right": (18, 28), "left": (40, 50)}   # right eye on −x, left eye on +x
_SLITS = ((ROW_MOUTH, *MOUTH_COLS), (ROW_EYE, *EYE_COLS["right"]), (ROW_EYE, *EYE_COLS["left"]))

SKIN, EYEBALL, MOUTH_INTERIOR, TONGUE = 0, 1, 2, 3


def _col_theta(c: float) -> float:
    return float(np.interp(c, np.arange(NU), _THETA))


def _row_phi(r: float) -> float:
    return float(np.interp(r, np.arange(NV), _PHI))


def _patch(theta_range, phi_range, nu, nv, start):
    """A small (θ, φ) grid with outward-wound faces; returns θ, φ, faces, frac_u, frac_v."""
    tu = np.linspace(*theta_range, nu)
    pv = np.linspace(*phi_range, nv)
    th, ph = np.meshgrid(tu, pv)
    ids = start + np.arange(nu * nv).reshape(nv, nu)
    a, b, c, d = ids[:-1, :-1], ids[:-1, 1:], ids[1:, 1:], ids[1:, :-1]
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
    fu, fv = np.meshgrid(np.linspace(0, 1, nu), np.linspace(0, 1, nv))
    return th.ravel(), ph.ravel(), faces, fu.ravel(), fv.ravel()


def _build_topology() -> dict:
    """Vertex parameters (θ, φ), kinds, slit sides and faces of the shared topology."""
    grid = np.arange(NV * NU).reshape(NV, NU)
    upper_ids = grid.copy()
    th = list(np.tile(_THETA, NV))
    ph = list(np.repeat(_PHI, NU))
    rows = list(np.repeat(np.arange(NV), NU))
    dup_of = []
    for row, c0, c1 in _SLITS:
        for c in range(c0 + 1, c1):
            upper_ids[row, c] = len(th)       # the lower lip / lower lid keeps the original; upper gets a copy
            th.append(_THETA[c])
            ph.append(_PHI[row])
            rows.append(row)
            dup_of.append(grid[row, c])
    n_sheet = len(th)
    # quads between rows r and r+1: row r uses the copies (upper edge of a slit), row r+1 the originals
    a, b = upper_ids[:-1, :-1], upper_ids[:-1, 1:]
    c, d = grid[1:, 1:], grid[1:, :-1]
    faces = [np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)]
    rows = np.asarray(rows)
    cols = np.concatenate([np.tile(np.arange(NU), NV), [i % NU for i in dup_of]])
    side_m = np.sign(rows - ROW_MOUTH).astype(np.int8)
    side_e = np.sign(rows - ROW_EYE).astype(np.int8)
    dup = np.zeros(n_sheet, bool)
    dup[NV * NU:] = True
    on_m = (rows == ROW_MOUTH)
    in_m = on_m & (cols > MOUTH_COLS[0]) & (cols < MOUTH_COLS[1])
    side_m[in_m] = np.where(dup[in_m], 1, -1)
    on_e = rows == ROW_EYE
    in_e = on_e & (((cols > EYE_COLS["right"][0]) & (cols < EYE_COLS["right"][1]))
                   | ((cols > EYE_COLS["left"][0]) & (cols < EYE_COLS["left"][1])))
    side_e[in_e] = np.where(dup[in_e], 1, -1)
    kind = [np.full(n_sheet, SKIN, np.int8)]
    fu_all, fv_all = [np.zeros(n_sheet)], [np.zeros(n_sheet)]
    th, ph = [np.asarray(th)], [np.asarray(ph)]
    start = n_sheet
    eye_of = [np.zeros(n_sheet, np.int8)]

    def add(theta_range, phi_range, nu, nv, k, eye=0):
        nonlocal start
        t, p, f, fu, fv = _patch(theta_range, phi_range, nu, nv, start)
        th.append(t), ph.append(p), faces.append(f), fu_all.append(fu), fv_all.append(fv)
        kind.append(np.full(t.size, k, np.int8))
        eye_of.append(np.full(t.size, eye, np.int8))
        start += t.size

    for eye, (c0, c1) in ((-1, EYE_COLS["right"]), (1, EYE_COLS["left"])):
        add((_col_theta(c0 - 0.7), _col_theta(c1 + 0.7)), (_PHI[ROW_EYE] - 0.075, _PHI[ROW_EYE] + 0.105),
            19, 11, EYEBALL, eye)
    add((_col_theta(MOUTH_COLS[0] - 2), _col_theta(MOUTH_COLS[1] + 2)),
        (_row_phi(ROW_MOUTH - 9), _row_phi(ROW_MOUTH + 3)), 13, 9, MOUTH_INTERIOR)
    add((_col_theta(MOUTH_COLS[0] + 3), _col_theta(MOUTH_COLS[1] - 3)),
        (_row_phi(ROW_MOUTH - 7), _row_phi(ROW_MOUTH - 1.5)), 9, 6, TONGUE)
    n = start
    pad = n - n_sheet
    return {
        "theta": np.concatenate(th), "phi": np.concatenate(ph), "kind": np.concatenate(kind),
        "fu": np.concatenate(fu_all), "fv": np.concatenate(fv_all), "eye_of": np.concatenate(eye_of),
        "side_m": np.concatenate([side_m, np.zeros(pad, np.int8)]),
        "side_e": np.concatenate([side_e, np.zeros(pad, np.int8)]),
        "faces": np.concatenate(faces).astype(np.int32), "grid": grid, "upper": upper_ids, "n": n,
    }


_TOPO = _build_topology()
FACES: np.ndarray = _TOPO["faces"]
FACES.setflags(write=False)
NUM_VERTICES: int = int(_TOPO["n"])


def _landmark_vertices() -> np.ndarray:
    """iBUG-68 vertex indices; (row, col, upper) picks the slit copy where ``upper`` is set."""
    g, up = _TOPO["grid"], _TOPO["upper"]
    pts: list[tuple[int, int, bool]] = []
    theta_side, phi_top, phi_chin = np.radians(78.0), np.radians(-8.0), np.radians(-68.0)
    for k in range(17):                                   # jaw: subject's right (−x) → chin → left
        a = np.pi * k / 16
        t = -theta_side * np.cos(a)
        p = phi_top - (phi_top - phi_chin) * np.sin(a)
        pts.append((int(np.argmin(abs(_PHI - p))), int(np.argmin(abs(_THETA - t))), False))
    brow = [(54, 15), (56, 18), (56, 21), (56, 25), (55, 29)]
    pts += [(r, c, False) for r, c in brow]                               # 17-21 right brow, outer → inner
    pts += [(r, 2 * _CENTRE - c, False) for r, c in reversed(brow)]       # 22-26 left brow, inner → outer
    pts += [(r, _CENTRE, False) for r in (50, 44, 38, ROW_TIP)]            # 27-30 bridge → tip
    pts += [(30, 29, False), (29, 31, False), (ROW_SUBNASAL, _CENTRE, False), (29, 37, False), (30, 39, False)]
    r0, r1 = EYE_COLS["right"]
    l0, l1 = EYE_COLS["left"]
    pts += [(ROW_EYE, r0, False), (ROW_EYE, r0 + 3, True), (ROW_EYE, r1 - 3, True),   # 36-41
            (ROW_EYE, r1, False), (ROW_EYE, r1 - 3, False), (ROW_EYE, r0 + 3, False)]
    pts += [(ROW_EYE, l0, False), (ROW_EYE, l0 + 3, True), (ROW_EYE, l1 - 3, True),   # 42-47
            (ROW_EYE, l1, False), (ROW_EYE, l1 - 3, False), (ROW_EYE, l0 + 3, False)]
    m0, m1, rm = MOUTH_COLS[0], MOUTH_COLS[1], ROW_MOUTH
    pts += [(rm, m0 - 1, False), (rm + 2, 27, False), (rm + 3, 30, False), (rm + 3, _CENTRE, False),  # 48-51
            (rm + 3, 38, False), (rm + 2, 41, False), (rm, m1 + 1, False),                          # 52-54
            (rm - 2, 41, False), (rm - 3, 38, False), (rm - 4, _CENTRE, False), (rm - 3, 30, False),  # 55-58
            (rm - 2, 27, False)]                                                                     # 59
    pts += [(rm, m0, False), (rm, 29, True), (rm, _CENTRE, True), (rm, 39, True),                   # 60-63
            (rm, m1, False), (rm, 39, False), (rm, _CENTRE, False), (rm, 29, False)]                # 64-67
    idx = np.array([up[r, c] if upper else g[r, c] for r, c, upper in pts], dtype=np.int64)
    return idx


LANDMARK_VERTICES: np.ndarray = _landmark_vertices()
LANDMARK_VERTICES.setflags(write=False)


# Evaluation masks (FLAME ``FLAME_masks.pkl`` analogues for LVE/FDD), declared from the topology alone: a block of
# rows × columns of the sheet, both inclusive, taking the slit copies too. Sheet vertices are all SKIN, so the
# eyeball, mouth-interior and tongue patches are never included.
LIP_ROWS = (ROW_MOUTH - 4, ROW_MOUTH + 3)            # 16..23: the iBUG outer-lip contour (57 on row −4, 51 on +3)
LIP_COLS = (MOUTH_COLS[0] - 1, MOUTH_COLS[1] + 1)    # 24..44: one column beyond each corner (landmarks 48, 54)
# Upper face: from just below the lower lids (row 44, y ≈ eye line − 1 cm; the nose tip is row 32, the cheekbones
# rows ≈ 40) to the top of the forehead (row 66, y ≈ brows + 5 cm), over |θ| ≤ 62° (temple to temple, the dense
# front columns).
UPPER_FACE_ROWS = (ROW_EYE - 4, ROW_BROW + 11)       # 44..66
UPPER_FACE_COLS = (8, NU - 1 - 8)                    # 8..60


def _sheet_block(rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    """Sorted vertex ids of sheet rows r0..r1 × columns c0..c1 (inclusive), originals and slit copies."""
    (r0, r1), (c0, c1) = rows, cols
    block = (slice(r0, r1 + 1), slice(c0, c1 + 1))
    ids = np.union1d(_TOPO["grid"][block].ravel(), _TOPO["upper"][block].ravel()).astype(np.int64)
    assert np.all(_TOPO["kind"][ids] == SKIN)
    return ids


# Lips: the skin of both lips around the mouth slit, both slit edges (upper-lip copies and lower-lip originals);
# not the mouth-interior or tongue patches (hidden behind the slit; FLAME has no such geometry).
LIP_VERTICES: np.ndarray = _sheet_block(LIP_ROWS, LIP_COLS)
LIP_VERTICES.setflags(write=False)
# Upper face (the analogue of FLAME's forehead + eye-region mask used for FDD): lower lids, eyelids (both edges of
# the eye slits), the nasal root between the eyes, brows and forehead over the face front; the eyeball patches are
# excluded (their motion is gaze, not the skin dynamics FDD measures).
UPPER_FACE_VERTICES: np.ndarray = _sheet_block(UPPER_FACE_ROWS, UPPER_FACE_COLS)
UPPER_FACE_VERTICES.setflags(write=False)
# (upper-lip, lower-lip) centre vertices: the slit copy and the original at (ROW_MOUTH, θ = 0), i.e. iBUG 62 and 66;
# they coincide on every neutral template (the same surface point), so their distance is the lip opening.
LIP_OPENING_PAIR: tuple[int, int] = (int(_TOPO["upper"][ROW_MOUTH, _CENTRE]), int(_TOPO["grid"][ROW_MOUTH, _CENTRE]))


# ----------------------------------------------------------------------------------------------------------------
# Identities and the surface
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Identity:
    width: float        # ellipsoid half width A (m)
    height_up: float    # semi-axis above the equator B↑ (m)
    height_low: float   # semi-axis below the equator B↓ (m)
    depth: float        # semi-axis front-back C (m)
    jaw: float          # lower-face taper: x ← x·(1 − jaw·s(−y/0.09))
    chin: float         # forward push of the lower face at the chin (m)
    nose: float         # nose-tip protrusion (m)
    nose_width: float   # alar half spacing (m)
    lip: float          # lip protrusion (m)
    brow: float         # brow offset from its row (m)
    socket: float       # eye-socket depth (m)
    eye_open: float     # upper-lid opening above the slit (m)
    skin: tuple[float, float, float]   # albedo RGB in [0, 1]


_IDENTITIES: dict[str, _Identity] = {
    "f1": _Identity(0.071, 0.118, 0.100, 0.092, 0.16, 0.036, 0.019, 0.0125, 0.0068, 0.002, 0.009, 0.0068,
                    (0.89, 0.71, 0.60)),
    "f2": _Identity(0.069, 0.121, 0.104, 0.090, 0.20, 0.034, 0.021, 0.0120, 0.0055, 0.004, 0.008, 0.0062,
                    (0.66, 0.47, 0.35)),
    "m1": _Identity(0.076, 0.122, 0.108, 0.096, 0.10, 0.042, 0.024, 0.0140, 0.0052, -0.001, 0.011, 0.0058,
                    (0.84, 0.64, 0.52)),
    "m2": _Identity(0.079, 0.119, 0.113, 0.098, 0.06, 0.046, 0.027, 0.0150, 0.0046, -0.003, 0.012, 0.0054,
                    (0.52, 0.36, 0.26)),
}
IDENTITIES: tuple[str, ...] = tuple(_IDENTITIES)


def _identity(name: str) -> _Identity:
    if name not in _IDENTITIES:
        raise ValueError(f"unknown identity {name!r}; valid identities: {', '.join(IDENTITIES)}")
    return _IDENTITIES[name]


def _smooth(x):
    """Smoothstep s(x) = 3x² − 2x³ on x clipped to [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _window(x, half, soft):
    """≈1 for |x| < half − soft/2, 0 beyond half + soft/2 (smooth)."""
    return _smooth((half - np.abs(x)) / soft + 0.5)


def _gauss(x, y, cx, cy, sx, sy):
    """exp(−((x−cx)/sx)² − ((y−cy)/sy)²)."""
    return np.exp(-(((x - cx) / sx) ** 2) - ((y - cy) / sy) ** 2)


def _base(theta, phi, p: _Identity):
    """Ellipsoid (A cosφ^κ sinθ, B sinφ, C cosφ cosθ), κ = 0.55 below the equator (a squarer jaw), lower face
    tapered in x and pushed forward at the front."""
    b = np.where(phi >= 0, p.height_up, p.height_low)
    x = p.width * np.cos(phi) ** np.where(phi < 0, 0.55, 1.0) * np.sin(theta)
    y = b * np.sin(phi)
    z = p.depth * np.cos(phi) * np.cos(theta)
    x = x * (1.0 - p.jaw * _smooth(-y / 0.09))
    z = z + p.chin * _smooth((-phi - 0.25) / 0.95) * np.clip(np.cos(theta), 0, 1) ** 1.5
    return x, y, z


@dataclass(frozen=True)
class _Anchors:
    ym: float     # mouth line y
    w2: float     # mouth half width
    xe: float     # eye centre |x|
    ye: float     # eye line y
    yb: float     # brow y
    yt: float     # nose tip y
    ysn: float    # subnasale y
    ych: float    # chin y


def _anchors(p: _Identity) -> _Anchors:
    def at(r, c):
        return _base(np.array(_col_theta(c)), np.array(_row_phi(r)), p)

    l0, l1 = EYE_COLS["left"]
    return _Anchors(ym=float(at(ROW_MOUTH, _CENTRE)[1]), w2=float(at(ROW_MOUTH, MOUTH_COLS[1])[0]),
                    xe=float(at(ROW_EYE, (l0 + l1) / 2)[0]), ye=float(at(ROW_EYE, (l0 + l1) / 2)[1]),
                    yb=float(at(ROW_BROW, 45)[1]) + p.brow, yt=float(at(ROW_TIP, _CENTRE)[1]),
                    ysn=float(at(ROW_SUBNASAL, _CENTRE)[1]), ych=float(at(ROW_CHIN, _CENTRE)[1]))


def _surface(theta, phi, p: _Identity, a: _Anchors) -> np.ndarray:
    """Face surface S(θ, φ) (…, 3): base ellipsoid plus z-relief (sockets, brows, nose, cheeks, lips, chin)."""
    x, y, z = _base(theta, phi, p)
    ax = np.abs(x)
    dz = -p.socket * _gauss(ax, y, a.xe, a.ye + 0.002, 0.017, 0.013)
    dz += 0.0045 * _gauss(ax, y, a.xe, a.ye, 0.012, 0.008)                         # eye globes
    dz += 0.0055 * np.exp(-(((y - a.yb + 0.003) / 0.009) ** 2)) * _window(x, 0.052, 0.03)   # brow ridge
    dz += 0.007 * _gauss(ax, y, 0.6 * p.width, a.ye - 0.03, 0.018, 0.02)            # cheekbones
    root = a.ye + 0.008
    t = np.clip((root - y) / (root - a.yt), 0, 1)
    bridge = _smooth((root + 0.008 - y) / 0.014) * _smooth((y - a.yt + 0.004) / 0.01)
    dz += p.nose * (0.3 + 0.35 * t) * bridge * np.exp(-((x / (0.0055 + 0.003 * t)) ** 2))
    dz += 0.62 * p.nose * _gauss(x, y, 0.0, a.yt, 0.0105, 0.0095)                  # nose tip
    dz += 0.28 * p.nose * _gauss(ax, y, p.nose_width, a.yt - 0.004, 0.0065, 0.0065)   # alae
    dz += 0.007 * _gauss(x, y, 0.0, a.ym, 0.032, 0.026)                           # muzzle
    lipx = _window(x, a.w2 + 0.001, 0.012) * (1.0 - 0.35 * (x / (a.w2 + 0.004)) ** 2)
    dz += p.lip * lipx * (np.exp(-(((y - a.ym - 0.0035) / 0.0042) ** 2))
                          + 1.1 * np.exp(-(((y - a.ym + 0.0048) / 0.0050) ** 2)))
    dz -= 0.003 * _gauss(x, y, 0.0, a.ym - 0.016, 0.02, 0.005)                    # mentolabial sulcus
    dz += 0.006 * _gauss(x, y, 0.0, a.ych, 0.017, 0.013)                          # chin
    front = _smooth((np.cos(theta) - 0.15) / 0.6)
    return np.stack([x, y, z + dz * front], axis=-1)


# ----------------------------------------------------------------------------------------------------------------
# Template, eyelids and patches
# ----------------------------------------------------------------------------------------------------------------
def _lid_profile(theta, eye: str):
    """Almond profile across an eye slit: sin(π·u)^0.8 for u ∈ [0, 1] between the slit ends, 0 outside."""
    c0, c1 = EYE_COLS[eye]
    t0, t1 = _col_theta(c0), _col_theta(c1)
    u = np.clip((theta - t0) / (t1 - t0), 0, 1)
    # the inner corner (near the nose) is blunter: skew the peak towards it
    u = u ** 0.85 if eye == "left" else 1 - (1 - u) ** 0.85
    return np.sin(np.pi * u) ** 0.8


_LID_SIGMA_UP, _LID_SIGMA_LOW = 0.09, 0.05      # rad of φ over which a lid displacement fades


def _lid_phi(theta, phi, side, eye: str, upper: float, lower: float):
    """φ after sliding the lid edges: upper edge by ``upper`` rad, lower by ``lower`` rad (signed, + is up)."""
    prof = _lid_profile(theta, eye)
    d = np.abs(phi - _PHI[ROW_EYE])
    shift = np.where(side > 0, upper * np.exp(-((d / _LID_SIGMA_UP) ** 2)),
                     np.where(side < 0, lower * np.exp(-((d / _LID_SIGMA_LOW) ** 2)), 0.0))
    return phi + prof * shift


def _lids(p: _Identity) -> dict[str, tuple[float, float]]:
    """Named lid states as (upper, lower) edge offsets in rad of φ."""
    u = p.eye_open / p.height_up
    lo = 0.45 * u
    meet = -0.35 * lo
    return {"open": (u, -lo), "blink": (meet, meet), "squint": (0.75 * u, -0.25 * lo), "wide": (1.45 * u, -1.1 * lo),
            "up": (1.25 * u, -0.85 * lo), "down": (0.5 * u, -0.85 * lo), "cheek": (u, -0.55 * lo)}


def _skin_positions(p, a, left=None, right=None) -> np.ndarray:
    """Surface positions of every vertex (patches use their own offsets); lid states default to "open"."""
    topo = _TOPO
    lids = _lids(p)
    left = lids["open"] if left is None else left
    right = lids["open"] if right is None else right
    th, ph, kind = topo["theta"], topo["phi"].copy(), topo["kind"]
    skin = kind == SKIN
    for eye, (up, lo), sign in (("left", left, 1), ("right", right, -1)):
        sel = skin & (np.sign(th) == sign)
        ph[sel] = _lid_phi(th[sel], ph[sel], topo["side_e"][sel], eye, up, lo)
    pos = _surface(th, ph, p, a)
    pos[kind == EYEBALL, 2] -= 0.0022
    pos[kind == MOUTH_INTERIOR, 2] -= 0.012
    tongue = kind == TONGUE
    fu, fv = topo["fu"][tongue], topo["fv"][tongue]
    # a rounded tongue: highest along its midline and towards its front edge
    pos[tongue, 2] -= 0.0085 - 0.002 * np.sin(np.pi * fu) * fv
    return pos


def _eyeball_look(p, a, eye_sign: int, dtheta: float, dphi: float) -> np.ndarray:
    """Eyeball positions with the iris/pupil slid by (dθ, dφ) rad along the eyeball surface (others fixed)."""
    topo = _TOPO
    sel = (topo["kind"] == EYEBALL) & (topo["eye_of"] == eye_sign)
    th, ph = topo["theta"][sel], topo["phi"][sel]
    tc, pc = _iris_centre(eye_sign, p)
    r = np.hypot((th - tc) * p.width, (ph - pc) * p.height_up)
    w = _smooth((0.0105 - r) / 0.004)
    pos = _surface(th + w * dtheta, ph + w * dphi, p, a)
    pos[:, 2] -= 0.0022
    return pos


def _iris_centre(eye_sign: int, p: _Identity) -> tuple[float, float]:
    c0, c1 = EYE_COLS["left" if eye_sign > 0 else "right"]
    u = p.eye_open / p.height_up
    return _col_theta((c0 + c1) / 2), float(_PHI[ROW_EYE] + 0.3 * u)


# ----------------------------------------------------------------------------------------------------------------
# Blendshape basis
# ----------------------------------------------------------------------------------------------------------------
def _normals_np(v: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit vertex normals: area-weighted sum of face normals n_f = (v1−v0)×(v2−v0)."""
    fn = np.cross(v[faces[:, 1]] - v[faces[:, 0]], v[faces[:, 2]] - v[faces[:, 0]])
    n = np.zeros(v.shape, np.float64)
    idx = faces.ravel()
    for k in range(3):
        n[:, k] = np.bincount(idx, weights=np.repeat(fn[:, k], 3), minlength=v.shape[0])
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


@cache
def _build(identity: str) -> tuple[np.ndarray, np.ndarray]:
    """(template (V, 3), basis (52, V, 3)) in float64 for one identity."""
    p = _identity(identity)
    a = _anchors(p)
    topo = _TOPO
    tpl = _skin_positions(p, a)
    x, y, z = tpl.T
    kind, side_m = topo["kind"], topo["side_m"]
    skin = (kind == SKIN).astype(float)
    sc = p.width / 0.075                                       # deltas scale with head size
    deltas = np.zeros((len(ARKIT_52), tpl.shape[0], 3))

    def put(name, d):
        deltas[ARKIT_INDEX[name]] = d

    def vec(w, dx, dy, dz):
        return np.stack([w * dx, w * dy, w * dz], axis=-1) * sc

    # --- eyelids: exact re-evaluation with the lid edges slid along the surface
    lids = _lids(p)
    for side, sign in (("Left", 1), ("Right", -1)):
        def lid_delta(state, _side=side):
            kw = {_side.lower(): lids[state]}
            return _skin_positions(p, a, **kw) - tpl
        put(f"eyeBlink{side}", lid_delta("blink"))
        put(f"eyeSquint{side}", lid_delta("squint"))
        put(f"eyeWide{side}", lid_delta("wide"))
        eyeball = (kind == EYEBALL) & (topo["eye_of"] == sign)
        iris_t, iris_p = 0.0036 / p.width, 0.0028 / p.height_up
        for look, lid, dth, dph in (("Up", "up", 0.0, iris_p), ("Down", "down", 0.0, -iris_p),
                                    ("In", None, -sign * iris_t, 0.0), ("Out", None, sign * iris_t, 0.0)):
            d = lid_delta(lid) if lid else np.zeros_like(tpl)
            d[eyeball] = _eyeball_look(p, a, sign, dth, dph) - tpl[eyeball]
            put(f"eyeLook{look}{side}", d)

    # --- jaw: linearised rotation about the x axis through the condyles, weighted by a jaw mask
    beyond = np.maximum(np.abs(x) - a.w2, 0.0)
    t = 0.004 + 0.6 * beyond
    inside = np.exp(-((beyond / 0.008) ** 2))
    h_eff = (y - a.ym) + side_m * 0.004 * inside
    front = _smooth((np.cos(topo["theta"]) - np.cos(np.radians(100))) / (np.cos(np.radians(70))
                                                                            - np.cos(np.radians(100))))
    jaw = _smooth(0.5 - h_eff / (2 * t)) * front
    jaw[kind == MOUTH_INTERIOR] = _smooth(0.5 - (y - a.ym)[kind == MOUTH_INTERIOR] / 0.016)
    jaw[kind == TONGUE] = 1.0
    jaw[kind == EYEBALL] = 0.0
    pivot_y, pivot_z, angle = a.ye - 0.022, 0.005, 0.2
    rot = np.stack([np.zeros_like(x), -(z - pivot_z), (y - pivot_y)], axis=-1) * angle
    jaw_open = rot * jaw[:, None]
    put("jawOpen", jaw_open)
    put("jawForward", vec(jaw, 0, 0, 0.007))
    put("jawLeft", vec(jaw, 0.008, 0, 0))
    put("jawRight", vec(jaw, -0.008, 0, 0))

    # --- mouth
    span = _window(x, a.w2, 0.008)
    lower_smooth = _smooth(0.5 - (y - a.ym) / 0.01)
    lower_sel = span * np.where(side_m < 0, 1.0, np.where(side_m == 0, 0.5, 0.0)) + (1 - span) * lower_smooth
    lower_sel = np.where(kind == SKIN, lower_sel, 0.0)
    upper_sel = np.where(kind == SKIN, 1.0 - lower_sel, 0.0)
    lipx = _window(x, a.w2 + 0.004, 0.012) * skin
    lips = np.exp(-(((y - a.ym) / 0.009) ** 2)) * lipx
    lower_lip = lips * lower_sel
    upper_lip = lips * upper_sel
    close_w = np.exp(-(((y - a.ym) / 0.011) ** 2)) * lower_sel * lipx
    put("mouthClose", -jaw_open * close_w[:, None] + vec(upper_lip, 0, -0.0015, 0))
    centre = np.exp(-((x / (0.75 * a.w2)) ** 2))
    wide_lips = np.exp(-(((y - a.ym) / 0.013) ** 2)) * _window(x, a.w2 + 0.008, 0.02) * skin
    squeeze = -x / (a.w2 + 0.004)
    put("mouthFunnel", vec(wide_lips, 0.006 * squeeze, 0, 0.007)
        + vec(upper_lip * centre, 0, 0.003, 0) + vec(lower_lip * centre, 0, -0.004, 0))
    put("mouthPucker", vec(wide_lips, 0.009 * squeeze, 0, 0.009) + vec(lips, 0, -0.12 * (y - a.ym) / sc, 0))
    region = _gauss(x, y, 0.0, a.ym, 0.034, 0.02) * skin
    put("mouthLeft", vec(region, 0.008, 0, 0))
    put("mouthRight", vec(region, -0.008, 0, 0))
    left = 1.0 / (1.0 + np.exp(-x / 0.007))
    for side, s in (("Left", 1.0), ("Right", -1.0)):
        corner = _gauss(x, y, s * a.w2, a.ym, 0.012, 0.012) * skin
        tight = _gauss(x, y, s * a.w2, a.ym, 0.009, 0.009) * skin
        half = left if s > 0 else 1.0 - left
        put(f"mouthSmile{side}", vec(corner, 0.004 * s, 0.007, -0.004))
        put(f"mouthFrown{side}", vec(corner, 0.001 * s, -0.006, -0.001))
        put(f"mouthDimple{side}", vec(tight, 0.003 * s, 0.0, -0.005))
        put(f"mouthStretch{side}", vec(_gauss(x, y, s * a.w2, a.ym, 0.014, 0.013) * skin, 0.007 * s, -0.002, -0.002))
        put(f"mouthPress{side}", vec(lips * half, 0, -0.3 * (y - a.ym) / sc, -0.0015))
        put(f"mouthLowerDown{side}", vec(lower_lip * half, 0, -0.005, 0.0005))
        put(f"mouthUpperUp{side}", vec(upper_lip * half, 0, 0.005, 0.001))
    roll_l = np.exp(-(((y - a.ym) / 0.006) ** 2)) * lipx * lower_sel
    roll_u = np.exp(-(((y - a.ym) / 0.006) ** 2)) * lipx * upper_sel
    put("mouthRollLower", vec(roll_l, 0, 0.002, -0.005))
    put("mouthRollUpper", vec(roll_u, 0, -0.002, -0.005))
    chin_w = _gauss(x, y, 0.0, a.ym - 0.014, 0.03, 0.016) * lower_sel
    put("mouthShrugLower", vec(chin_w, 0, 0.004, 0.002))
    put("mouthShrugUpper", vec(upper_lip, 0, 0.003, 0.001))

    # --- brows, cheeks, nose, tongue
    for side, s in (("Left", 1.0), ("Right", -1.0)):
        brow = _gauss(x, y, s * a.xe, a.yb, 0.022, 0.014) * skin
        put(f"browDown{side}", vec(brow, -0.002 * s, -0.005, -0.001))
        put(f"browOuterUp{side}", vec(_gauss(x, y, s * (a.xe + 0.014), a.yb, 0.014, 0.015) * skin, 0, 0.006, 0))
        cheek = _gauss(x, y, s * 0.55 * p.width, a.ye - 0.022, 0.016, 0.013) * skin
        put(f"cheekSquint{side}", vec(cheek, 0, 0.004, 0.001) + _skin_positions(p, a, **{side.lower(): lids["cheek"]})
            - tpl)
        sneer = _gauss(x, y, s * 0.011, a.yt + 0.006, 0.009, 0.012) * skin
        put(f"noseSneer{side}", vec(sneer, 0.001 * s, 0.004, 0.0))
    put("browInnerUp", vec(_gauss(x, y, 0.0, a.yb, 0.02, 0.015) * skin, 0, 0.007, 0))
    nrm = _normals_np(tpl, FACES)
    puff = (_gauss(np.abs(x), y, 0.46 * p.width, a.ym + 0.006, 0.018, 0.02) * skin * sc * 0.008)[:, None]
    put("cheekPuff", nrm * puff)
    tongue = np.where(kind == TONGUE, 0.35 + 0.65 * topo["fv"], 0.0)
    # the tongue slides out between slightly parted lips: 0.3·jawOpen + tongue forward + lower lip down
    put("tongueOut", 0.3 * jaw_open + vec(tongue, 0, 0.003, 0.026) + vec(lower_lip * centre, 0, -0.003, 0.001))
    log.debug("built identity %s: %d vertices, %d faces", identity, tpl.shape[0], FACES.shape[0])
    return tpl, deltas


def template(identity: str) -> np.ndarray:
    """Neutral vertices of ``identity`` (V, 3) float32, metres."""
    return _build(identity)[0].astype(np.float32)


def basis(identity: str) -> np.ndarray:
    """ARKit-52 blendshape deltas of ``identity`` (52, V, 3) float32, metres, in ``ARKIT_52`` order."""
    return _build(identity)[1].astype(np.float32)


def deform(identity: str, weights) -> np.ndarray:
    """Vertices for weights (…, 52): template + einsum('…k,kvc->…vc', w, basis); (…, V, 3) float32."""
    w = np.asarray(weights, dtype=np.float32)
    if w.shape[-1:] != (len(ARKIT_52),):
        raise ValueError(f"weights must have shape (..., {len(ARKIT_52)}), got {w.shape}")
    tpl, deltas = _build(identity)
    return (tpl.astype(np.float32) + np.einsum("...k,kvc->...vc", w, deltas.astype(np.float32))).astype(np.float32)


def landmarks3d(vertices) -> np.ndarray:
    """iBUG-68 landmarks (…, 68, 3): the vertices at ``LANDMARK_VERTICES``."""
    return np.asarray(vertices)[..., LANDMARK_VERTICES, :]


# ----------------------------------------------------------------------------------------------------------------
# Colours
# ----------------------------------------------------------------------------------------------------------------
_LIP = np.array([0.74, 0.44, 0.42])
_BROW = np.array([0.24, 0.16, 0.11])
_SCLERA = np.array([0.93, 0.92, 0.89])
_IRIS = np.array([0.30, 0.20, 0.12])
_PUPIL = np.array([0.03, 0.03, 0.03])
_INTERIOR = np.array([0.20, 0.05, 0.06])
_TONGUE = np.array([0.62, 0.27, 0.29])
_BACKFACE = np.array([0.12, 0.04, 0.04])
BACKGROUND = (0.16, 0.18, 0.22)


@cache
def _colors(identity: str) -> np.ndarray:
    p = _identity(identity)
    a = _anchors(p)
    topo = _TOPO
    tpl = _build(identity)[0]
    x, y = tpl[:, 0], tpl[:, 1]
    kind = topo["kind"]
    col = np.tile(np.asarray(p.skin, float), (tpl.shape[0], 1))
    lipx = _window(x, a.w2 + 0.002, 0.006)
    taper = np.sqrt(np.clip(1.0 - (x / (a.w2 + 0.003)) ** 2, 0.05, 1.0))
    up = np.exp(-(((y - a.ym - 0.002 * taper) / (0.0042 * taper)) ** 4))
    lo = np.exp(-(((y - a.ym + 0.0028 * taper) / (0.0050 * taper)) ** 4))
    lip_w = np.clip(up + lo, 0, 1) * lipx
    col = col * (1 - lip_w[:, None]) + (_LIP * np.asarray(p.skin) / 0.84)[None] * lip_w[:, None]
    arch = a.yb + 0.003 - 12.0 * (np.abs(x) - a.xe + 0.003) ** 2
    brow_w = np.exp(-(((y - arch) / 0.0032) ** 4)) * _window(np.abs(x) - a.xe + 0.002, 0.021, 0.008)
    col = col * (1 - 0.85 * brow_w[:, None]) + 0.85 * _BROW * brow_w[:, None]
    slit_m = (topo["theta"] > _col_theta(MOUTH_COLS[0])) & (topo["theta"] < _col_theta(MOUTH_COLS[1]))
    slit_m &= (kind == SKIN) & (np.abs(topo["phi"] - _PHI[ROW_MOUTH]) < 1e-9)
    col[slit_m] *= 0.6
    lash = (kind == SKIN) & (topo["side_e"] > 0) & (np.abs(topo["phi"] - _PHI[ROW_EYE]) < 1e-9)
    col[lash] = 0.12
    for sign in (-1, 1):
        sel = (kind == EYEBALL) & (topo["eye_of"] == sign)
        tc, pc = _iris_centre(sign, p)
        r = np.hypot((topo["theta"][sel] - tc) * p.width, (topo["phi"][sel] - pc) * p.height_up)
        iris = _smooth((0.0058 - r) / 0.0012)[:, None]
        pupil = _smooth((0.0024 - r) / 0.0010)[:, None]
        c = _SCLERA * (1 - iris) + _IRIS * iris
        col[sel] = c * (1 - pupil) + _PUPIL * pupil
    col[kind == MOUTH_INTERIOR] = _INTERIOR
    col[kind == TONGUE] = _TONGUE
    return col


def vertex_colors(identity: str = "m1") -> np.ndarray:
    """Per-vertex albedo (V, 3) float32 in [0, 1]: skin tone, lips, brows, lash line, eyeballs, mouth interior."""
    return _colors(identity).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------------
# Camera, projection and rendering
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Camera:
    """Pinhole camera at ``position`` (m) looking down −z; ``fov_deg`` is the vertical field of view."""

    position: tuple[float, float, float] = (0.0, -0.022, 0.62)
    fov_deg: float = 23.5


DEFAULT_CAMERA = Camera()
DEFAULT_LIGHT = (0.35, 0.45, 1.0)     # direction towards the light (normalised when used)
_AMBIENT, _DIFFUSE = 0.38, 0.68


def _hw(image_size) -> tuple[int, int]:
    if np.isscalar(image_size):
        return int(image_size), int(image_size)
    h, w = image_size
    return int(h), int(w)


def _project(points, image_size, camera: Camera):
    """Pixel coords u = W/2 + f·x_c/d, v = H/2 − f·y_c/d with f = (H/2)/tan(fov/2), d = z_cam − z; and d."""
    h, w = _hw(image_size)
    pts = np.asarray(points, dtype=np.float64)
    c = np.asarray(camera.position, dtype=np.float64)
    f = 0.5 * h / np.tan(np.radians(camera.fov_deg) / 2)
    d = c[2] - pts[..., 2]
    safe = np.where(np.abs(d) < 1e-9, 1e-9, d)
    u = 0.5 * w + f * (pts[..., 0] - c[0]) / safe
    v = 0.5 * h - f * (pts[..., 1] - c[1]) / safe
    return np.stack([u, v], axis=-1), d


def project(points3d, image_size=128, camera: Camera = DEFAULT_CAMERA) -> np.ndarray:
    """Perspective projection of (…, 3) points to (…, 2) pixel coordinates (x right, y down; pixel (i, j)
    spans [j, j+1] × [i, i+1]). ``image_size`` is an int or (height, width)."""
    return _project(points3d, image_size, camera)[0]


def vertex_normals(vertices, faces=FACES) -> np.ndarray:
    """Unit area-weighted vertex normals (V, 3) float32 (outward for the face mesh)."""
    return _normals_np(np.asarray(vertices, np.float64), np.asarray(faces)).astype(np.float32)


def render(vertices, faces=FACES, image_size=128, camera: Camera = DEFAULT_CAMERA, light=DEFAULT_LIGHT,
           colors=None, background=BACKGROUND) -> np.ndarray:
    """Rasterise a mesh to uint8 (H, W, 3) with a z-buffer and Gouraud-Lambert shading.

    Vertex colour c_v = albedo_v · (0.38 + 0.68·max(0, n_v·l̂)), interpolated with screen-space barycentrics at
    pixel centres; the nearest fragment wins (ties: lower face index). Back-facing triangles are drawn in a dark
    mouth-interior red. ``colors`` (V, 3) in [0, 1] defaults to ``vertex_colors()`` for the face mesh and a flat
    skin tone otherwise. Deterministic: identical inputs give identical bytes.
    """
    h, w = _hw(image_size)
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if colors is None:
        colors = _colors("m1") if v.shape[0] == NUM_VERTICES else np.tile(_IDENTITIES["m1"].skin, (v.shape[0], 1))
    albedo = np.asarray(colors, dtype=np.float64)
    ldir = np.asarray(light, dtype=np.float64)
    ldir = ldir / np.linalg.norm(ldir)
    shade = _AMBIENT + _DIFFUSE * np.clip(_normals_np(v, f) @ ldir, 0.0, None)
    vcol = albedo * shade[:, None]
    uv, depth = _project(v, (h, w), camera)
    img = np.empty((h * w, 3), dtype=np.float64)
    img[:] = np.asarray(background, dtype=np.float64)

    p = uv[f]                                   # (T, 3, 2)
    e1, e2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]   # < 0: front-facing (image y points down)
    ok = (np.abs(area) > 1e-12) & np.all(depth[f] > 1e-3, axis=1)
    x0 = np.clip(np.ceil(p[..., 0].min(1) - 0.5), 0, w).astype(np.int64)
    x1 = np.clip(np.floor(p[..., 0].max(1) - 0.5), -1, w - 1).astype(np.int64)
    y0 = np.clip(np.ceil(p[..., 1].min(1) - 0.5), 0, h).astype(np.int64)
    y1 = np.clip(np.floor(p[..., 1].max(1) - 0.5), -1, h - 1).astype(np.int64)
    nx, ny = np.maximum(x1 - x0 + 1, 0), np.maximum(y1 - y0 + 1, 0)
    count = np.where(ok, nx * ny, 0)
    tri = np.repeat(np.arange(f.shape[0]), count)
    if tri.size:
        local = np.arange(tri.size) - np.repeat(np.cumsum(count) - count, count)
        px = x0[tri] + local % nx[tri]
        py = y0[tri] + local // nx[tri]
        q = np.stack([px + 0.5, py + 0.5], axis=-1)
        pt = p[tri]
        a0 = _edge(pt[:, 1], pt[:, 2], q)
        a1 = _edge(pt[:, 2], pt[:, 0], q)
        a2 = _edge(pt[:, 0], pt[:, 1], q)
        bary = np.stack([a0, a1, a2], axis=-1) / area[tri, None]
        inside = np.all(bary >= -1e-9, axis=1)
        tri, bary, pix = tri[inside], bary[inside], (py * w + px)[inside]
        z = np.einsum("nk,nk->n", bary, depth[f[tri]])
        order = np.lexsort((tri, z, pix))
        pix_s = pix[order]
        first = np.ones(pix_s.size, bool)
        first[1:] = pix_s[1:] != pix_s[:-1]
        win = order[first]
        t_w = tri[win]
        c = np.einsum("nk,nkc->nc", bary[win], vcol[f[t_w]])
        back = area[t_w] > 0
        c[back] = _BACKFACE * (0.6 + 0.4 * shade[f[t_w[back]]].mean(1, keepdims=True))
        img[pix[win]] = c
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8).reshape(h, w, 3)


def _edge(a, b, q):
    """2-D edge function (b − a) × (q − a)."""
    return (b[:, 0] - a[:, 0]) * (q[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (q[:, 0] - a[:, 0])


# ----------------------------------------------------------------------------------------------------------------
# Head pose and animated sequences
# ----------------------------------------------------------------------------------------------------------------

HEAD_PIVOT = np.array([0.0, -0.10, 0.0], dtype=np.float32)  # m: the top of the neck, below the chin's centre


def pose(vertices, head_deg) -> np.ndarray:
    """Rotate (…, V, 3) vertices by head angles (…, 3) in degrees about ``HEAD_PIVOT``.

    Angles are (yaw, pitch, roll) as ``face.FaceMotion.head``: yaw + turns the face to the
    subject's left (+x), pitch + tips the chin down, roll + tilts about the view axis.
    R = Rz(roll) · Rx(pitch) · Ry(yaw); v' = pivot + R (v − pivot).
    """
    v = np.asarray(vertices, dtype=np.float32)
    yaw, pitch, roll = np.moveaxis(np.radians(np.asarray(head_deg, dtype=np.float64)), -1, 0)
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    one, zero = np.ones_like(cy), np.zeros_like(cy)
    ry = np.stack([np.stack([cy, zero, sy], -1), np.stack([zero, one, zero], -1), np.stack([-sy, zero, cy], -1)], -2)
    rx = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, cp, -sp], -1), np.stack([zero, sp, cp], -1)], -2)
    rz = np.stack([np.stack([cr, -sr, zero], -1), np.stack([sr, cr, zero], -1), np.stack([zero, zero, one], -1)], -2)
    rot = (rz @ rx @ ry).astype(np.float32)
    return (HEAD_PIVOT + np.einsum("...ij,...vj->...vi", rot, v - HEAD_PIVOT)).astype(np.float32)


def render_sequence(identity: str, weights, head_deg, image_size: int = 128,
                    camera: Camera = DEFAULT_CAMERA) -> tuple[np.ndarray, np.ndarray]:
    """Render an animation: weights (T, 52) and head angles (T, 3) in degrees.

    Returns frames uint8 (T, H, W, 3) and the iBUG-68 landmarks projected to pixels (T, 68, 2).
    """
    verts = pose(deform(identity, weights), head_deg)
    colors = vertex_colors(identity)
    frames = np.stack([render(v, FACES, image_size, camera, colors=colors) for v in verts])
    return frames, project(landmarks3d(verts), image_size, camera)
