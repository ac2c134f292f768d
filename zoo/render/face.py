"""ARKit-52 weights → MP4 of the synthetic face, rendered in a child process that never imports TensorFlow.

The parent side (``render_face_video``) validates the arrays, writes them to a temporary ``.npz`` and runs
``python -m zoo.render face ...``. The child side (``render_from_npz``) imports only NumPy,
``zoo.datasets.synthetic.geometry``, ``zoo.datasets.audio`` and ``zoo.datasets.video``.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

__all__ = ["render_face_video", "render_from_npz", "render_in_child", "run_child", "text_mask", "NUM_WEIGHTS"]

NUM_WEIGHTS = 52
_CHUNK = 64          # frames deformed and rasterised per batch in the child (bounds the (T, V, 3) buffer)
_TAIL = 2000         # characters of the child's stderr quoted in a RuntimeError


# ------------------------------------------------------------------------------------------------------------
# Parent side
# ------------------------------------------------------------------------------------------------------------
def _as_array(name: str, value, frames: int | None, width: int) -> np.ndarray:
    """float32 (T, width), finite, with T == frames when given."""
    arr = np.asarray(value, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != width or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (T, {width}) with T >= 1, got {arr.shape}")
    if frames is not None and arr.shape[0] != frames:
        raise ValueError(f"{name} has {arr.shape[0]} frames but weights have {frames}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds non-finite values")
    return arr


def _fps_text(fps) -> str:
    """fps as text the child reads back exactly with ``Fraction``."""
    if isinstance(fps, Fraction):
        value, text = float(fps), f"{fps.numerator}/{fps.denominator}"
    else:
        value, text = float(fps), repr(float(fps))
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    return text


def run_child(args: list[str], *, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m zoo.render *args``; raise RuntimeError quoting the stderr tail when it fails."""
    cmd = [sys.executable, "-m", "zoo.render", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"zoo.render {args[0]} timed out after {timeout} s") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip()[-_TAIL:] or "(no stderr)"
        raise RuntimeError(f"zoo.render {args[0]} failed (exit code {proc.returncode}): {tail}")
    return proc


def render_face_video(weights, fps, out_mp4, *, audio_path=None, identity: str = "f1", image_size: int = 256,
                      head_deg=None, reference=None, labels: bool = True, timeout: float | None = None) -> Path:
    """Render ARKit-52 ``weights`` (T, 52) on the synthetic face as an MP4 at ``fps``; returns the path.

    ``audio_path`` is muxed in as AAC (any file ``zoo.datasets.load_audio`` reads, kept at its own rate
    and length). ``head_deg`` (T, 3) is (yaw, pitch, roll) in degrees, neutral when None. ``reference``
    (T, 52) renders a second face on the right of each frame (labelled "prediction" / "reference" when
    ``labels``). Weights are clipped to [0, 1]. The work runs in a child process (``python -m zoo.render``)
    that never imports TensorFlow; a failure raises RuntimeError with the child's stderr tail. The file is
    written under a temporary name and renamed, so it appears only when complete.
    """
    w = _as_array("weights", weights, None, NUM_WEIGHTS)
    t = w.shape[0]
    arrays = {"weights": np.clip(w, 0.0, 1.0)}
    if head_deg is not None:
        arrays["head_deg"] = _as_array("head_deg", head_deg, t, 3)
    if reference is not None:
        arrays["reference"] = np.clip(_as_array("reference", reference, t, NUM_WEIGHTS), 0.0, 1.0)
    size = int(image_size)
    if size < 16 or size % 2:
        raise ValueError(f"image_size must be an even number >= 16 (H.264 yuv420p), got {image_size!r}")
    out = Path(out_mp4).absolute()
    args = ["face", "--fps", _fps_text(fps), "--out", str(out), "--identity", str(identity),
            "--image-size", str(size)]
    if audio_path is not None:
        args += ["--audio", str(Path(audio_path).absolute())]
    if not labels:
        args.append("--no-labels")
    return render_in_child(args, arrays, out, timeout)


def render_in_child(args: list[str], arrays: dict[str, np.ndarray], out: Path, timeout: float | None) -> Path:
    """Write ``arrays`` to a temporary .npz, run ``python -m zoo.render *args --npz it`` and return ``out``; a failure
    (or no file written) is a RuntimeError and leaves no temporaries of ``write_video`` behind."""
    with tempfile.TemporaryDirectory(prefix="zoo-render-") as tmp:
        npz = Path(tmp) / f"{args[0]}.npz"
        np.savez(npz, **arrays)
        try:
            run_child([*args, "--npz", str(npz)], timeout=timeout)
        except RuntimeError:
            _cleanup(out)
            raise
    if not out.is_file():
        raise RuntimeError(f"zoo.render {args[0]} exited cleanly but wrote no file at {out}")
    return out


# ------------------------------------------------------------------------------------------------------------
# Child side
# ------------------------------------------------------------------------------------------------------------
def write_frames(out, frames: np.ndarray, fps, audio_path=None) -> Path:
    """Child side: ``frames`` written as an MP4 at exactly ``fps`` with ``audio_path`` muxed in, the audio cut to the
    video's length (ceil(frames · rate / fps) samples)."""
    import logging
    import math

    from zoo.datasets.audio import load_audio
    from zoo.datasets.video import write_video

    fps_value = Fraction(fps)
    audio = rate = None
    if audio_path is not None:
        audio, rate = load_audio(audio_path, allow_silence=True)
        keep = math.ceil(len(frames) * rate / fps_value)
        if audio.size > keep:
            logging.getLogger(__name__).info("audio %s is %.3f s long: cut to the video's %.3f s", audio_path,
                                             audio.size / rate, float(len(frames) / fps_value))
            audio = audio[:keep]
    return write_video(out, frames, fps_value, audio=audio, sample_rate=rate)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of ``path`` (no pickles); ValueError naming the file and the cause."""
    if not path.is_file():
        raise ValueError(f"{path}: npz file not found")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:  # zipfile/pickle/format errors: one readable cause
        raise ValueError(f"{path}: not a readable .npz archive ({exc})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not a readable .npz archive (a single .npy array)")
    try:
        with data:
            return {k: np.asarray(data[k]) for k in data.files}
    except Exception as exc:
        raise ValueError(f"{path}: not a readable .npz archive ({exc})") from None


_GLYPHS = {  # 5×7 capitals, digits and some punctuation (the renderers' panel labels)
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "D": ("####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "N": ("#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    " ": (".....",) * 7,

    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".###."),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    "_": (".....", ".....", ".....", ".....", ".....", ".....", "#####"),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    ":": (".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."),
    "/": (".....", "....#", "...#.", "..#..", ".#...", "#....", "....."),
    "(": ("...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."),
    ")": (".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."),
    "'": ("..#..", "..#..", ".#...", ".....", ".....", ".....", "....."),
    "+": (".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."),
    "=": (".....", ".....", "#####", ".....", "#####", ".....", "....."),
}


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """Boolean (7·s, 6·len−1 · s) bitmap of ``text`` in the built-in 5×7 font (``_GLYPHS``)."""
    cols = []
    for i, ch in enumerate(text.upper()):
        glyph = _GLYPHS.get(ch, _GLYPHS[" "])
        cols.append(np.array([[c == "#" for c in row] for row in glyph], bool))
        if i < len(text) - 1:
            cols.append(np.zeros((7, 1), bool))
    mask = np.concatenate(cols, axis=1) if cols else np.zeros((7, 0), bool)
    return np.kron(mask, np.ones((scale, scale), bool)).astype(bool)


def _label(frames: np.ndarray, text: str, x0: int, width: int) -> None:
    """Draw ``text`` in light grey at the bottom left of the panel [x0, x0 + width) of every frame, if it fits."""
    h = frames.shape[1]
    scale = max(1, h // 128)
    mask = text_mask(text, scale)
    margin = 3 * scale
    if mask.shape[1] + 2 * margin > width or mask.shape[0] + 2 * margin > h:
        return
    top = h - margin - mask.shape[0]
    region = frames[:, top:top + mask.shape[0], x0 + margin:x0 + margin + mask.shape[1]]
    region[:, mask] = (235, 235, 235)


def _render_panel(geometry, identity: str, weights: np.ndarray, head: np.ndarray, size: int,
                  out: np.ndarray) -> None:
    """Rasterise every frame of ``weights`` into ``out`` (T, size, size, 3), ``_CHUNK`` frames at a time."""
    for start in range(0, weights.shape[0], _CHUNK):
        stop = min(start + _CHUNK, weights.shape[0])
        out[start:stop] = geometry.render_sequence(identity, weights[start:stop], head[start:stop], size)[0]


def render_from_npz(npz, out, fps, *, audio_path=None, identity: str = "f1", image_size: int = 256,
                    labels: bool = True) -> Path:
    """Child-side work of ``render_face_video``: read the arrays, rasterise, mux the audio, write the MP4."""
    from zoo.datasets.audio import load_audio
    from zoo.datasets.synthetic import geometry
    from zoo.datasets.video import write_video

    npz = Path(npz)
    data = _read_npz(npz)
    if "weights" not in data:
        raise ValueError(f"{npz}: missing array 'weights' (found: {sorted(data) or 'none'})")
    try:
        weights = _as_array("weights", data["weights"], None, NUM_WEIGHTS)
        t = weights.shape[0]
        head = (_as_array("head_deg", data["head_deg"], t, 3) if "head_deg" in data
                else np.zeros((t, 3), np.float32))
        reference = _as_array("reference", data["reference"], t, NUM_WEIGHTS) if "reference" in data else None
    except ValueError as exc:
        raise ValueError(f"{npz}: {exc}") from None
    if identity not in geometry.IDENTITIES:
        raise ValueError(f"unknown identity {identity!r}; valid identities: {', '.join(geometry.IDENTITIES)}")
    audio, rate = (None, None) if audio_path is None else load_audio(audio_path, allow_silence=True)
    size = int(image_size)
    panels = 1 if reference is None else 2
    frames = np.empty((t, size, panels * size, 3), np.uint8)
    left = np.empty((t, size, size, 3), np.uint8) if panels == 2 else frames
    _render_panel(geometry, identity, weights, head, size, left)
    if reference is not None:
        frames[:, :, :size] = left
        del left
        right = np.empty((t, size, size, 3), np.uint8)
        _render_panel(geometry, identity, reference, head, size, right)
        frames[:, :, size:] = right
        del right
        if labels:
            _label(frames, "prediction", 0, size)
            _label(frames, "reference", size, size)
    return write_video(out, frames, Fraction(fps), audio=audio, sample_rate=rate)


def _cleanup(out: Path) -> None:
    """Remove the temporary files of ``write_video`` that a killed child left next to ``out``."""
    for p in (out.with_name(f".{out.name}.tmp.mp4"), out.with_name(f".{out.name}.tmp.pcm")):
        p.unlink(missing_ok=True)
