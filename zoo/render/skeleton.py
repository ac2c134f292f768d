"""3D skeletons (T, N, 3) → MP4 of stick figures, rendered in a child process that never imports TensorFlow.

The parent side (``render_skeleton_video``) validates the arrays, writes them to a temporary ``.npz`` and runs
``python -m zoo.render skeleton ...``; the child side (``render_skeleton_from_npz``) draws every frame with the
NumPy rasteriser below (``draw_skeleton_frames``), trims and muxes the audio and writes the MP4 through
``zoo.datasets.video.write_video``.

Projection is orthographic. ``view="front"``: the viewer stands in front of a figure that faces −z (the gesture
skeleton: its left at −x, y up), so image x = −world x (the figure's left hand is on the image's right) and image
y = −world y (rows grow downwards); depth (for drawing order) is world z, nearer = smaller. ``view="side"``: the
viewer stands at the figure's right (+x) looking along −x, image x = −world z (the figure faces right), depth −x.
One camera (``fit_view``) serves every frame and every panel: it fits the union of all frames' bounding boxes
into the panel with a margin, keeping the aspect ratio, so the figure never rescales or jumps between frames.

Bones (node → parent) are anti-aliased lines ``line_width`` px wide with round caps, joints are dots; the
figure's left side is orange, its right side blue, the midline grey (``body_sides``). Coverage of a pixel with
centre c by a segment (or dot) at distance d from c is α = clip(r + ½ − d, 0, 1), r the half-width (radius); where
several items cover a pixel, the largest α wins, ties go to the item nearer the viewer.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import face
from .face import _fps_text, _label, _read_npz, render_in_child, write_frames

log = logging.getLogger(__name__)

__all__ = ["render_skeleton_video", "render_skeleton_from_npz", "draw_skeleton_frames", "fit_view", "body_sides",
           "OrthoView", "VIEWS", "CENTRE", "LEFT", "RIGHT"]

VIEWS = ("front", "side")
CENTRE, LEFT, RIGHT = 0, 1, 2
MARGIN = 0.05                      # empty border around the figure, as a fraction of min(W, H)
SIDE_TOLERANCE = 0.05              # |x − x_root| below this fraction of the figure's height: a midline node
BACKGROUND = np.array((24, 26, 32), np.float32)
BONE_COLORS = np.array(((190, 190, 195), (255, 140, 40), (60, 150, 255)), np.float32)  # centre, left, right
DOT_COLORS = BONE_COLORS + 0.45 * (255.0 - BONE_COLORS)                               # lighter tints
MAX_NODES = 30000                  # the drawing order is packed into 16 bits (bones + dots < 65536)
_CHUNK = 64                        # frames rasterised per batch


# Labels: drawn with ``face``'s 5×7 font (``face._GLYPHS``: A–Z, 0–9, some punctuation).


def _label_scale(height: int) -> int:
    """The pixel scale ``face._label`` uses for a panel ``height`` px tall (5×7 glyphs drawn ×scale)."""
    return max(1, height // 128)


def _label_band(height: int) -> int:
    """Rows at the bottom of a panel that ``face._label`` draws into: 3·s margin + 7·s text + 3·s margin."""
    return 13 * _label_scale(height)


def _max_label_chars(width: int, height: int) -> int:
    """Longest label ``face._label`` draws in a ``width`` px panel: (6·L − 1)·s + 6·s ≤ W."""
    return int((width / _label_scale(height) - 5) // 6)


# ------------------------------------------------------------------------------------------------------------
# Validation (parent and child)
# ------------------------------------------------------------------------------------------------------------
def _sequence(index: int, value, num_nodes: int | None) -> np.ndarray:
    """float32 (T, N, 3), T ≥ 1, finite, N == num_nodes when given; ValueError naming sequences[index]."""
    name = f"sequences[{index}]"
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not a numeric array ({exc})") from None
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        hint = (f"; reshape (T, {arr.shape[1]}) to (T, {arr.shape[1] // 3}, 3) first"
                if arr.ndim == 2 and arr.shape[1] % 3 == 0 and arr.shape[1] > 0 else "")
        raise ValueError(f"{name} must have shape (T, N, 3) with T ≥ 1 and N ≥ 1, got {arr.shape}{hint}")
    if num_nodes is not None and arr.shape[1] != num_nodes:
        raise ValueError(f"{name} has {arr.shape[1]} nodes but sequences[0] has {num_nodes}: every panel must show "
                         "the same skeleton")
    if arr.shape[1] > MAX_NODES:
        raise ValueError(f"{name} has {arr.shape[1]} nodes; at most {MAX_NODES} are supported")
    bad = ~np.isfinite(arr)
    if bad.any():
        frame, node, _ = np.argwhere(bad)[0]
        raise ValueError(f"{name} holds {int(bad.sum())} non-finite values (NaN or Inf; the first at frame {frame}, "
                         f"node {node})")
    return arr


def _sequences(sequences) -> list[np.ndarray]:
    """The panels as a list of float32 (T_p, N, 3) arrays (one array = one panel)."""
    if isinstance(sequences, (list, tuple)):
        if not sequences:
            raise ValueError("sequences is an empty list: pass one (T, N, 3) array or a list of them")
        items = list(sequences)
    else:
        items = [sequences]
    first = _sequence(0, items[0], None)
    return [first] + [_sequence(i, s, first.shape[1]) for i, s in enumerate(items[1:], start=1)]


def _parents(value, num_nodes: int) -> np.ndarray:
    """int64 (N,) parent table: −1 for a root, else another node's index in 0…N−1."""
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.shape[0] != num_nodes:
        raise ValueError(f"parents must have shape ({num_nodes},) (one entry per node), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"parents must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    bad = np.flatnonzero((arr < -1) | (arr >= num_nodes))
    if bad.size:
        raise ValueError(f"parents[{bad[0]}] = {arr[bad[0]]} is out of range: parents must be −1 (root) or a node "
                         f"index in 0…{num_nodes - 1}")
    own = np.flatnonzero(arr == np.arange(num_nodes))
    if own.size:
        raise ValueError(f"parents[{own[0]}] = {own[0]}: a node cannot be its own parent")
    return arr


def _names(value, num_nodes: int) -> list[str] | None:
    if value is None:
        return None
    names = [str(n) for n in value]
    if len(names) != num_nodes:
        raise ValueError(f"names has {len(names)} entries but the skeleton has {num_nodes} nodes")
    return names


def _labels(value, panels: int, width: int, height: int) -> list[str] | None:
    if value is None:
        return None
    labels = [value] if isinstance(value, str) else [str(v) for v in value]
    if len(labels) != panels:
        raise ValueError(f"labels has {len(labels)} entries but there are {panels} panels")
    longest = _max_label_chars(width, height)
    for text in labels:
        if len(text) > longest:
            raise ValueError(f"label {text!r} has {len(text)} characters; a {width} px panel fits {longest}")
        missing = sorted({c for c in text.upper() if c not in face._GLYPHS})
        if missing:
            log.warning("label %r: characters %s are not in the built-in font and are drawn as spaces", text, missing)
    return labels


def _image_size(value) -> tuple[int, int]:
    """(W, H) of one panel: even integers ≥ 16 (H.264 yuv420p); an int means a square panel."""
    try:
        w, h = (value, value) if np.ndim(value) == 0 else value
        size = (int(w), int(h))
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be (W, H) or an int, got {value!r}") from None
    if size != (w, h) or min(size) < 16 or size[0] % 2 or size[1] % 2:
        raise ValueError(f"image_size must be even integers ≥ 16 (H.264 yuv420p), got {value!r}")
    return size


def _view(value) -> str:
    if value not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {value!r}")
    return value


def _sides(value, num_nodes: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.shape != (num_nodes,) or arr.dtype.kind not in "iu" or arr.min() < CENTRE or arr.max() > RIGHT:
        raise ValueError(f"sides must be ({num_nodes},) integers in 0…2 (centre, left, right), got "
                         f"{arr.dtype} {arr.shape}")
    return arr.astype(np.int64)


# ------------------------------------------------------------------------------------------------------------
# Sides and camera
# ------------------------------------------------------------------------------------------------------------
def body_sides(parents, positions=None, names=None) -> np.ndarray:
    """The side of each node, int64 (N,): ``CENTRE`` 0, ``LEFT`` 1, ``RIGHT`` 2 (bone node → parent takes the node's).

    With ``names``: a name containing "left" / "right" (any case) decides; other nodes (End Sites ``SiteK``) take
    their nearest decided ancestor's side, else centre. Without: ``positions`` (T, N, 3) of a figure facing −z; the
    mean over frames of Δx = x_node − x_root decides, left when Δx < −tol, right when Δx > tol, tol =
    ``SIDE_TOLERANCE`` × the mean pose's height; a node within tol takes its nearest decided ancestor's side.
    """
    parents = np.asarray(parents, np.int64)
    n = parents.shape[0]
    own = np.full(n, CENTRE, np.int64)
    if names is not None:
        lowered = [str(s).lower() for s in names]
        own[[("left" in s) for s in lowered]] = LEFT
        own[[("right" in s and "left" not in s) for s in lowered]] = RIGHT
    elif positions is not None:
        mean = np.asarray(positions, np.float64).reshape(-1, n, 3).mean(axis=0)
        roots = np.flatnonzero(parents < 0)
        root = roots[0] if roots.size else 0
        dx = mean[:, 0] - mean[root, 0]
        tol = SIDE_TOLERANCE * float(np.ptp(mean[:, 1]))
        own[dx < -tol] = LEFT
        own[dx > tol] = RIGHT
    sides = own.copy()
    for node in np.flatnonzero(own == CENTRE):
        seen, up = {int(node)}, int(parents[node])
        while up >= 0 and up not in seen and own[up] == CENTRE:
            seen.add(up)
            up = int(parents[up])
        if up >= 0 and up not in seen:
            sides[node] = own[up]
    return sides


def _view_coords(points: np.ndarray, view: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, v, depth) of world ``points`` (..., 3): u to the image's right, v up, depth away from the viewer."""
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    if view == "front":
        return -x, y, z
    return -z, y, -x


@dataclass(frozen=True)
class OrthoView:
    """Orthographic camera: image point (px, py) = (cx + s·(u − u_c), cy − s·(v − v_c)) in continuous pixel
    coordinates (pixel column j spans [j, j + 1), so a point lands in pixel (⌊py⌋, ⌊px⌋)); s in px per world unit."""

    view: str
    scale: float
    centre_uv: tuple[float, float]
    centre_px: tuple[float, float]

    def project(self, points) -> tuple[np.ndarray, np.ndarray]:
        """Image points (..., 2) as (px, py) and depth (...) of world ``points`` (..., 3), float32."""
        u, v, depth = _view_coords(np.asarray(points, np.float32), self.view)
        px = self.centre_px[0] + self.scale * (u - self.centre_uv[0])
        py = self.centre_px[1] - self.scale * (v - self.centre_uv[1])
        return np.stack([px, py], axis=-1).astype(np.float32), depth.astype(np.float32)


def fit_view(sequences, image_size=(512, 512), view: str = "front", bottom: int = 0) -> OrthoView:
    """The one camera for all ``sequences`` (a (T, N, 3) array or a list): the union (u, v) box of all frames, centred
    in the panel above a ``bottom`` band (label rows) with a margin m = ``MARGIN``·min(W, H) on every side;
    s = min((W − 2m) / Δu, (H − bottom − 2m) / Δv) keeps the aspect ratio (a zero extent does not constrain s)."""
    arrays = sequences if isinstance(sequences, (list, tuple)) else [sequences]
    w, h = image_size
    lo = np.full(2, np.inf)
    hi = np.full(2, -np.inf)
    for arr in arrays:
        u, v, _ = _view_coords(np.asarray(arr, np.float64), view)
        lo = np.minimum(lo, [u.min(), v.min()])
        hi = np.maximum(hi, [u.max(), v.max()])
    margin = MARGIN * min(w, h)
    room = np.array([w - 2 * margin, h - bottom - 2 * margin])
    extent = hi - lo
    scales = [room[i] / extent[i] for i in range(2) if extent[i] > 1e-9 * max(1.0, float(np.abs(hi).max()))]
    scale = float(min(scales)) if scales else 1.0
    centre = (lo + hi) / 2
    return OrthoView(view, scale, (float(centre[0]), float(centre[1])), (w / 2, (h - bottom) / 2))


def _line_width(image_size: tuple[int, int]) -> float:
    """Bone width in px: 3 px at 512, never under 2."""
    return max(2.0, min(image_size) / 170)


# ------------------------------------------------------------------------------------------------------------
# Rasteriser (vectorised over frames, bones and pixels)
# ------------------------------------------------------------------------------------------------------------
def _bone_pixels(p0: np.ndarray, p1: np.ndarray, radius: float):
    """Pixels covered by segments p0 → p1 (S, 2) of half-width ``radius`` − ½ (round caps): (segment, x, y, α).

    Walks every pixel column (row, for steep segments) of the major axis over [min − r, max + r] and tests
    2K + 1 pixels around the line there, K = ⌈r√2⌉ + 1; α = clip(r − d, 0, 1), d the pixel centre's distance to the
    segment."""
    d = p1 - p0
    steep = np.abs(d[:, 1]) > np.abs(d[:, 0])
    a0 = np.where(steep, p0[:, 1], p0[:, 0])
    b0 = np.where(steep, p0[:, 0], p0[:, 1])
    da = np.where(steep, d[:, 1], d[:, 0])
    db = np.where(steep, d[:, 0], d[:, 1])
    first = np.floor(np.minimum(a0, a0 + da) - radius).astype(np.int64)
    count = np.floor(np.maximum(a0, a0 + da) + radius).astype(np.int64) - first + 1
    seg = np.repeat(np.arange(len(p0)), count)
    starts = np.cumsum(count) - count
    major = first[seg] + (np.arange(seg.size) - starts[seg])
    centre_a = major + np.float32(0.5) - a0[seg]                              # relative to the segment start
    safe = np.where(da == 0, 1, da)
    t = np.where(da[seg] == 0, 0, np.clip(centre_a / safe[seg], 0, 1))
    half = math.ceil(radius * math.sqrt(2)) + 1
    minor = np.floor(b0[seg] + t * db[seg]).astype(np.int64)[:, None] + np.arange(-half, half + 1)
    qa = centre_a[:, None]
    qb = minor + np.float32(0.5) - b0[seg][:, None]
    da_s, db_s = da[seg, None], db[seg, None]
    length2 = da_s * da_s + db_s * db_s
    along = np.clip((qa * da_s + qb * db_s) / np.where(length2 == 0, 1, length2), 0, 1)  # 0 for a point
    dist = np.hypot(qa - along * da_s, qb - along * db_s)
    alpha = np.clip(radius - dist, 0, 1)
    keep = alpha >= 0.5 / 255
    rows, cols = np.nonzero(keep)
    seg_kept = seg[rows]
    major_kept = major[rows]
    minor_kept = minor[rows, cols]
    steep_kept = steep[seg_kept]
    x = np.where(steep_kept, minor_kept, major_kept)
    y = np.where(steep_kept, major_kept, minor_kept)
    return seg_kept, x, y, alpha[rows, cols]


def _dot_pixels(centres: np.ndarray, radius: float):
    """Pixels covered by discs of ``radius`` − ½ px around ``centres`` (S, 2): (disc, x, y, α = clip(r − d, 0, 1))."""
    half = math.ceil(radius) + 1
    offsets = np.arange(-half, half + 1)
    base = np.floor(centres).astype(np.int64)
    x = base[:, 0, None, None] + offsets[None, None, :]
    y = base[:, 1, None, None] + offsets[None, :, None]
    dist = np.hypot(x + np.float32(0.5) - centres[:, 0, None, None], y + np.float32(0.5) - centres[:, 1, None, None])
    alpha = np.clip(radius - dist, 0, 1)
    disc, iy, ix = np.nonzero(alpha >= 0.5 / 255)
    return disc, x[disc, 0, ix], y[disc, iy, 0], alpha[disc, iy, ix]


def _draw_panel(out: np.ndarray, x0: int, width: int, xy: np.ndarray, depth: np.ndarray, parents: np.ndarray,
                sides: np.ndarray, line_width: float) -> None:
    """Draw frames of image points ``xy`` (T, N, 2) with ``depth`` (T, N) into ``out[:, :, x0:x0 + width]``
    (T, H, W_total, 3) uint8, whose pixels already hold the background."""
    t_count, n = xy.shape[:2]
    height, total_width = out.shape[1:3]
    child = np.flatnonzero(parents >= 0)
    bones = child.size
    items = bones + n
    # drawing order per frame: far to near (stable, so at equal depth a joint's dot wins over its bones)
    item_depth = np.concatenate([(depth[:, child] + depth[:, parents[child]]) / 2, depth], axis=1)
    rank = np.empty((t_count, items), np.int64)
    np.put_along_axis(rank, np.argsort(-item_depth, axis=1, kind="stable"), np.arange(items), axis=1)
    palette = np.concatenate([BONE_COLORS[sides[child]], DOT_COLORS[sides]])          # (items, 3)

    seg, bx, by, balpha = _bone_pixels(xy[:, child].reshape(-1, 2), xy[:, parents[child]].reshape(-1, 2),
                                       line_width / 2 + 0.5)
    disc, dx, dy, dalpha = _dot_pixels(xy.reshape(-1, 2), 0.8 * line_width + 0.5)
    frame = np.concatenate([seg // max(bones, 1), disc // n])
    item = np.concatenate([seg % max(bones, 1), bones + disc % n])
    x = np.concatenate([bx, dx])
    y = np.concatenate([by, dy])
    alpha = np.concatenate([balpha, dalpha])
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    frame, item, x, y, alpha = frame[inside], item[inside], x[inside], y[inside], alpha[inside]

    # one item per pixel: the largest α (8-bit), then the nearest; key = pixel · 2^(8+b) + α₈ · 2^b + rank
    flat = (frame * height + y) * total_width + x0 + x
    alpha8 = np.round(alpha * 255).astype(np.int64)
    bits = max(1, int(items - 1).bit_length())
    key = (flat << (8 + bits)) | (alpha8 << bits) | rank[frame, item]
    order = np.argsort(key, kind="stable")
    key = key[order]
    pixel = key >> (8 + bits)
    last = np.ones(key.size, bool)
    last[:-1] = pixel[1:] != pixel[:-1]
    chosen = order[last]
    a = (alpha8[chosen].astype(np.float32) / 255)[:, None]
    colour = BACKGROUND + a * (palette[item[chosen]] - BACKGROUND)
    out.reshape(-1, 3)[pixel[last]] = np.round(colour).astype(np.uint8)


def draw_skeleton_frames(sequences, parents, sides=None, *, image_size=(512, 512), view: str = "front",
                         labels=None) -> np.ndarray:
    """uint8 frames (T, H, P·W, 3) of the P panels side by side, T = the shortest panel's length.

    ``sequences`` one (T, N, 3) array or a list; ``sides`` (N,) from ``body_sides`` (default: by x, from the first
    panel). The camera is ``fit_view`` over every frame of every panel (above the label band when ``labels``).
    """
    panels = _sequences(sequences)
    n = panels[0].shape[1]
    parents = _parents(parents, n)
    sides = body_sides(parents, panels[0]) if sides is None else _sides(sides, n)
    w, h = _image_size(image_size)
    view = _view(view)
    labels = _labels(labels, len(panels), w, h)
    frames_count = min(len(p) for p in panels)
    panels = [p[:frames_count] for p in panels]
    camera = fit_view(panels, (w, h), view, bottom=_label_band(h) if labels else 0)
    line_width = _line_width((w, h))
    frames = np.empty((frames_count, h, len(panels) * w, 3), np.uint8)
    frames[:] = np.tile(BACKGROUND.astype(np.uint8), (h, len(panels) * w, 1))  # a whole frame copies ~10× faster
    for start in range(0, frames_count, _CHUNK):
        stop = min(start + _CHUNK, frames_count)
        for p, positions in enumerate(panels):
            xy, depth = camera.project(positions[start:stop])
            _draw_panel(frames[start:stop], p * w, w, xy, depth, parents, sides, line_width)
    for p, text in enumerate(labels or ()):
        _label(frames, text, p * w, w)
    return frames


# ------------------------------------------------------------------------------------------------------------
# Parent side
# ------------------------------------------------------------------------------------------------------------
def render_skeleton_video(sequences, parents, fps, out_mp4, *, labels=None, audio_path=None, image_size=(512, 512),
                          view: str = "front", names=None, timeout: float | None = None) -> Path:
    """Render 3D skeletons as a stick-figure MP4 at ``fps``; returns the path.

    ``sequences``: one (T, N, 3) float array of node positions in dataset units (the gesture skeleton: cm, facing
    −z, left at −x, y up), or a list of them drawn as panels side by side (e.g. prediction, ground truth), all
    with the same N; panels of different lengths are cut to the shortest, which sets the video's length T.
    ``parents`` (N,): −1 for a root, else the parent's index; a bone joins every node to its parent.
    ``labels``: a title per panel, drawn at its bottom left. ``names`` (N,): node names; "Left"/"Right" in them
    pick the colours (else the nodes' x). ``image_size`` (W, H) of one panel; ``view`` "front" or "side".
    ``audio_path`` is muxed in as AAC, cut to the video's duration T / fps when longer. Bad input raises ValueError
    before anything is written; the work runs in ``python -m zoo.render skeleton`` (no TensorFlow), whose
    failure is a RuntimeError with its stderr tail and leaves no file. The child holds every frame in memory
    (T·H·P·W·3 bytes, e.g. 1.9 GB for 60 s at 20 fps of two 512² panels) before ``write_video`` encodes them.
    """
    panels = _sequences(sequences)
    n = panels[0].shape[1]
    parent_table = _parents(parents, n)
    names = _names(names, n)
    w, h = _image_size(image_size)
    view = _view(view)
    labels = _labels(labels, len(panels), w, h)
    fps_text = _fps_text(fps)
    if audio_path is not None and not Path(audio_path).is_file():
        from zoo.datasets.errors import DataError

        raise DataError(audio_path, "audio file not found")
    lengths = [len(p) for p in panels]
    if len(set(lengths)) > 1:
        log.info("panels have %s frames: the video keeps the shortest, %d", lengths, min(lengths))
    frames_count = min(lengths)
    arrays = {f"seq{i}": p[:frames_count] for i, p in enumerate(panels)}
    arrays["parents"] = parent_table
    arrays["sides"] = body_sides(parent_table, panels[0], names)
    if labels is not None:
        arrays["labels"] = np.array(labels, dtype=str)
    out = Path(out_mp4).absolute()
    args = ["skeleton", "--fps", fps_text, "--out", str(out), "--width", str(w), "--height", str(h),
            "--view", view]
    if audio_path is not None:
        args += ["--audio", str(Path(audio_path).absolute())]
    return render_in_child(args, arrays, out, timeout)


# ------------------------------------------------------------------------------------------------------------
# Child side
# ------------------------------------------------------------------------------------------------------------
def render_skeleton_from_npz(npz, out, fps, *, audio_path=None, image_size=(512, 512), view: str = "front") -> Path:
    """Child-side work of ``render_skeleton_video``: read seq0…seqP−1, parents, sides and labels, draw, write."""
    npz = Path(npz)
    data = _read_npz(npz)
    count = 0
    while f"seq{count}" in data:
        count += 1
    for key in ("seq0", "parents"):
        if key not in data:
            raise ValueError(f"{npz}: missing array {key!r} (found: {sorted(data) or 'none'})")
    try:
        panels = _sequences([data[f"seq{i}"] for i in range(count)])
        parents = _parents(data["parents"], panels[0].shape[1])
        sides = data.get("sides")
        labels = [str(s) for s in data["labels"]] if "labels" in data else None
        frames = draw_skeleton_frames(panels, parents, sides, image_size=image_size, view=view, labels=labels)
    except ValueError as exc:
        raise ValueError(f"{npz}: {exc}") from None
    return write_frames(out, frames, fps, audio_path)
