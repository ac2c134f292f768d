"""Vertex-animation metrics for VOCA (specs/voca.md §8), NumPy only (no TensorFlow/Keras).

Vertices are in metres, sequences (T, V, 3), templates (V, 3); ``lip`` and ``upper`` are vertex index arrays and
``pair`` the (upper-lip, lower-lip) centre vertices. Following CodeTalker's ``cal_metric.py``:

* LVE = mean over frames of max over lip vertices of ‖p̂_tv − p_tv‖² (m²; papers print it as "mm" after scaling);
* FDD = mean over sequences of [ mean_{v ∈ upper} std_t ‖p_tv − τ_v‖² (GT) − the same for the prediction ] (m²,
  signed: > 0 when the prediction's upper face moves less than the ground truth's), std with ddof = 0;
* MVE = mean over frames and vertices of ‖p̂_tv − p_tv‖ (m);
* lip opening o_t = ‖p_{t,i} − p_{t,j}‖ for ``pair`` = (i, j) (m), and Pearson r of predicted vs true o_t.

``evaluate_sequences`` reports them at 60 fps and at 30 fps (``at_30fps``: frames 0, 2, 4, …) for the model and
for the static-template baseline (every frame = the template). ``corpus_masks`` gives the synthetic corpus' masks.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["lip_vertex_error", "upper_face_dynamics_deviation", "mean_vertex_error", "lip_opening", "pearson_r",
           "lip_opening_correlation", "at_30fps", "evaluate_sequences", "in_millimetres", "corpus_masks"]

MEASURES = ("lve_m2", "fdd_m2", "mve_m", "lip_r_pooled", "lip_r_mean")


# ----------------------------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------------------------
def _finite(name: str, a: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)})")
    return a


def _sequence(name: str, x) -> np.ndarray:
    """``x`` as float64 (T, V, 3) with T ≥ 1, all finite."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 3 or a.shape[-1] != 3 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"{name} must have shape (T, V, 3) with T, V ≥ 1, got {a.shape}")
    return _finite(name, a)


def _pair_of_sequences(pred, gt, pred_name: str = "pred", gt_name: str = "gt") -> tuple[np.ndarray, np.ndarray]:
    p, g = _sequence(pred_name, pred), _sequence(gt_name, gt)
    if p.shape != g.shape:
        raise ValueError(f"{pred_name} shape {p.shape} differs from {gt_name} shape {g.shape}")
    return p, g


def _template(name: str, x, num_vertices: int) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.shape != (num_vertices, 3):
        raise ValueError(f"{name} must have shape ({num_vertices}, 3) to match the sequence, got {a.shape}")
    return _finite(name, a)


def _indices(name: str, idx, num_vertices: int) -> np.ndarray:
    """A non-empty 1-D integer index array into V vertices."""
    a = np.asarray(idx)
    if a.ndim != 1 or a.size == 0 or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty 1-D integer index array, got dtype {a.dtype} shape {a.shape}")
    if a.min() < 0 or a.max() >= num_vertices:
        raise ValueError(f"{name} indices must lie in [0, {num_vertices}), got [{a.min()}, {a.max()}]")
    return a


def _pair(pair, num_vertices: int) -> tuple[int, int]:
    a = _indices("pair", pair, num_vertices)
    if a.shape != (2,) or a[0] == a[1]:
        raise ValueError(f"pair must be two distinct vertex indices (upper lip, lower lip), got {a.tolist()}")
    return int(a[0]), int(a[1])


# ----------------------------------------------------------------------------------------------------------------
# Per-sequence measures
# ----------------------------------------------------------------------------------------------------------------
def _lve_frames(p: np.ndarray, g: np.ndarray, lip: np.ndarray) -> np.ndarray:
    """(T,) max over lip vertices of the squared L2 error (m²)."""
    return ((p[:, lip] - g[:, lip]) ** 2).sum(-1).max(1)


def _dynamics(seq: np.ndarray, tpl: np.ndarray, upper: np.ndarray) -> float:
    """mean over upper vertices of std_t ‖p_tv − τ_v‖² (m², population std)."""
    return float(((seq[:, upper] - tpl[upper]) ** 2).sum(-1).std(axis=0).mean())


def lip_vertex_error(pred, gt, lip) -> float:
    """LVE = (1/T) Σ_t max_{v ∈ lip} ‖pred_tv − gt_tv‖² in m² (× 10⁶ for mm²); pred, gt (T, V, 3) in metres."""
    p, g = _pair_of_sequences(pred, gt)
    return float(_lve_frames(p, g, _indices("lip", lip, p.shape[1])).mean())


def upper_face_dynamics_deviation(pred_seqs, gt_seqs, templates, upper) -> float:
    """FDD = (1/N) Σ_n [D(gt_n) − D(pred_n)] in m², D(x) = mean_{v ∈ upper} std_t ‖x_tv − τ_nv‖² (ddof 0).

    ``pred_seqs``, ``gt_seqs``: N sequences (T_n, V, 3) in metres; ``templates``: N templates (V, 3) (an (N, V, 3)
    array works too). Signed: positive when the prediction's upper face moves less than the ground truth's.
    """
    preds, gts, tpls = _matched_lists(pred_seqs, gt_seqs, templates)
    out = []
    for n, (pred, gt, tpl) in enumerate(zip(preds, gts, tpls)):
        p, g = _pair_of_sequences(pred, gt, f"pred_seqs[{n}]", f"gt_seqs[{n}]")
        t = _template(f"templates[{n}]", tpl, p.shape[1])
        up = _indices("upper", upper, p.shape[1])
        out.append(_dynamics(g, t, up) - _dynamics(p, t, up))
    return float(np.mean(out))


def mean_vertex_error(pred, gt) -> float:
    """MVE = (1/(T·V)) Σ_t Σ_v ‖pred_tv − gt_tv‖ in metres (× 10³ for mm); pred, gt (T, V, 3)."""
    p, g = _pair_of_sequences(pred, gt)
    return float(np.linalg.norm(p - g, axis=-1).mean())


def lip_opening(verts, pair) -> np.ndarray:
    """o_t = ‖v_{t,i} − v_{t,j}‖ (T,) in metres for ``pair`` = (i, j) (upper-lip, lower-lip centre)."""
    v = _sequence("verts", verts)
    i, j = _pair(pair, v.shape[1])
    return np.linalg.norm(v[:, i] - v[:, j], axis=-1)


def pearson_r(x, y) -> float:
    """r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²) of two equal-length 1-D curves; NaN when either is constant."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size < 2:
        raise ValueError(f"pearson_r needs two 1-D curves of the same length ≥ 2, got {a.shape} and {b.shape}")
    _finite("x", a)
    _finite("y", b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:            # exactly constant (a − ā may not be exactly 0 in floats)
        return float("nan")
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def lip_opening_correlation(pred, gt, pair) -> float:
    """Pearson r between the predicted and true lip-opening curves o_t (unitless; NaN if either is constant)."""
    p, g = _pair_of_sequences(pred, gt)
    return pearson_r(lip_opening(p, pair), lip_opening(g, pair))


def at_30fps(x) -> np.ndarray:
    """A 60 fps sequence at 30 fps: frames 0, 2, 4, … along axis 0 (⌈T/2⌉ frames, no filtering)."""
    a = np.asarray(x)
    if a.ndim < 1:
        raise ValueError("at_30fps needs an array with a leading frame axis, got a scalar")
    return a[::2]


# ----------------------------------------------------------------------------------------------------------------
# Summary over a test split
# ----------------------------------------------------------------------------------------------------------------
def _matched_lists(preds, gts, templates) -> tuple[list, list, list]:
    preds, gts, tpls = list(preds), list(gts), list(templates)
    if not gts:
        raise ValueError("no sequences given")
    if not len(preds) == len(gts) == len(tpls):
        raise ValueError(f"need one prediction and one template per sequence: {len(preds)} predictions, "
                         f"{len(gts)} ground-truth sequences, {len(tpls)} templates")
    return preds, gts, tpls


def _summary(preds: Sequence[np.ndarray], gts: Sequence[np.ndarray], tpls: Sequence[np.ndarray], lip, upper,
             pair) -> dict[str, float]:
    """The five measures over checked float64 sequences: LVE and MVE pooled over all frames, FDD over sequences."""
    lve = np.concatenate([_lve_frames(p, g, lip) for p, g in zip(preds, gts)])
    err = np.concatenate([np.linalg.norm(p - g, axis=-1).ravel() for p, g in zip(preds, gts)])
    fdd = [_dynamics(g, t, upper) - _dynamics(p, t, upper) for p, g, t in zip(preds, gts, tpls)]
    o_pred = [lip_opening(p, pair) for p in preds]
    o_gt = [lip_opening(g, pair) for g in gts]
    per_seq = [pearson_r(a, b) for a, b in zip(o_pred, o_gt) if a.size >= 2]
    per_seq = [r for r in per_seq if np.isfinite(r)]
    pooled = np.concatenate(o_pred), np.concatenate(o_gt)
    return {"lve_m2": float(lve.mean()), "fdd_m2": float(np.mean(fdd)), "mve_m": float(err.mean()),
            "lip_r_pooled": pearson_r(*pooled) if pooled[0].size >= 2 else float("nan"),
            "lip_r_mean": float(np.mean(per_seq)) if per_seq else float("nan")}


def evaluate_sequences(preds, gts, templates, *, lip, upper, pair, fps: int = 60) -> dict:
    """LVE, FDD, MVE and lip-opening r of the model and of the static-template baseline, at 60 and 30 fps.

    ``preds``, ``gts``: N sequences (T_n, V, 3) in metres at ``fps`` (60 or 30); ``templates``: N (V, 3). Returns
    ``{"60fps": {"model": m, "baseline": b}, "30fps": {...}, "num_sequences": N, "num_frames": {rate: frames}}``
    (no "60fps" entry when fps = 30), each m/b with ``MEASURES``: ``lve_m2`` (m², pooled over all frames),
    ``fdd_m2`` (m², mean over sequences, GT − prediction), ``mve_m`` (m, pooled over frames and vertices),
    ``lip_r_pooled`` (r over the concatenated lip-opening curves) and ``lip_r_mean`` (mean of the per-sequence r
    over sequences where it is defined; NaN if none, e.g. for the baseline, whose opening is constant).
    The baseline predicts the template at every frame (its pooled r is NaN when every template has the same rest
    gap, as on the synthetic corpus where it is 0). 30 fps keeps frames 0, 2, 4, … of a 60 fps sequence.
    """
    if fps not in (60, 30):
        raise ValueError(f"fps must be 60 or 30, got {fps!r}")
    preds, gts, tpls = _matched_lists(preds, gts, templates)
    p_list, g_list, t_list = [], [], []
    for n, (pred, gt, tpl) in enumerate(zip(preds, gts, tpls)):
        p, g = _pair_of_sequences(pred, gt, f"preds[{n}]", f"gts[{n}]")
        if g_list and g.shape[1] != g_list[0].shape[1]:
            raise ValueError(f"gts[{n}] has {g.shape[1]} vertices but gts[0] has {g_list[0].shape[1]}")
        p_list.append(p), g_list.append(g), t_list.append(_template(f"templates[{n}]", tpl, p.shape[1]))
    num_vertices = g_list[0].shape[1]
    lip_i, upper_i = _indices("lip", lip, num_vertices), _indices("upper", upper, num_vertices)
    pair_i = _pair(pair, num_vertices)
    rates = {"60fps": lambda s: s, "30fps": at_30fps} if fps == 60 else {"30fps": lambda s: s}
    out: dict = {"num_sequences": len(g_list), "num_frames": {}}
    for rate, pick in rates.items():
        ps, gs = [pick(p) for p in p_list], [pick(g) for g in g_list]
        base = [np.broadcast_to(t, g.shape) for t, g in zip(t_list, gs)]
        out[rate] = {"model": _summary(ps, gs, t_list, lip_i, upper_i, pair_i),
                     "baseline": _summary(base, gs, t_list, lip_i, upper_i, pair_i)}
        out["num_frames"][rate] = int(sum(g.shape[0] for g in gs))
    return out


def in_millimetres(measures: dict[str, float]) -> dict[str, float]:
    """One model/baseline entry of ``evaluate_sequences`` in report units: m² → mm² (× 10⁶), m → mm (× 10³)."""
    scale = {"lve_m2": ("lve_mm2", 1e6), "fdd_m2": ("fdd_mm2", 1e6), "mve_m": ("mve_mm", 1e3)}
    return {scale[k][0] if k in scale else k: v * scale[k][1] if k in scale else v for k, v in measures.items()}


def corpus_masks() -> dict:
    """The synthetic corpus' masks as ``evaluate_sequences`` keywords: ``lip``, ``upper`` (sorted vertex index
    arrays) and ``pair`` (upper-lip, lower-lip centre vertices), from ``zoo.datasets.synthetic.geometry``."""
    from zoo.datasets.synthetic.geometry import LIP_OPENING_PAIR, LIP_VERTICES, UPPER_FACE_VERTICES

    return {"lip": LIP_VERTICES, "upper": UPPER_FACE_VERTICES, "pair": LIP_OPENING_PAIR}
