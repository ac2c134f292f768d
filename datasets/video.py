"""Video files: frames (and optional audio) to MP4 and back, through the ffmpeg of ``imageio-ffmpeg``.

Written files are reproducible: H.264 (libx264, one thread, CRF 18, yuv420p) and AAC with
ffmpeg's bit-exact flags and no metadata, so the same frames and audio give the same bytes.
Files are written under a temporary name and renamed into place.
"""
from __future__ import annotations

import logging
import os
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from .audio import to_pcm16
from .errors import DataError

log = logging.getLogger(__name__)


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by ``imageio-ffmpeg`` (the ``render`` extra)."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise RuntimeError("video IO needs imageio-ffmpeg: pip install 'speech-anim-zoo[render]'") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def _rate(fps: float | Fraction) -> str:
    """ffmpeg frame-rate text; 29.97… is written as NTSC's exact 30000/1001."""
    frac = Fraction(fps).limit_denominator(1001)
    return f"{frac.numerator}/{frac.denominator}"


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: float | Fraction, *,
                audio: np.ndarray | None = None, sample_rate: int | None = None) -> Path:
    """Write uint8 RGB ``frames`` (T, H, W, 3) at ``fps`` as MP4, muxing float ``audio`` in [-1, 1] as AAC."""
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"{path}: frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"{path}: H.264 yuv420p needs even frame sizes, got {w}x{h}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.mp4")
    cmd = [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
           "-r", _rate(fps), "-i", "pipe:0"]
    audio_file = None
    if audio is not None:
        if sample_rate is None:
            raise ValueError("sample_rate is required with audio")
        audio_file = path.with_name(f".{path.name}.tmp.pcm")
        audio_file.write_bytes(to_pcm16(audio).astype("<i2").tobytes())
        cmd += ["-f", "s16le", "-ar", str(int(sample_rate)), "-ac", "1", "-i", str(audio_file)]
    cmd += ["-map", "0:v"] + (["-map", "1:a", "-c:a", "aac", "-b:a", "128k"] if audio is not None else [])
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-threads", "1",
            "-x264-params", "threads=1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", "-movflags", "+faststart", str(tmp)]
    try:
        proc = subprocess.run(cmd, input=np.ascontiguousarray(frames).tobytes(), capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{path}: ffmpeg failed: {proc.stderr.decode(errors='replace').strip()[-500:]}")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        if audio_file is not None:
            audio_file.unlink(missing_ok=True)
    return path


def read_video(path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """Decode an MP4 (or any ffmpeg-readable video) into uint8 RGB frames (T, H, W, 3) and its fps."""
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "video file not found")
    try:
        reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
        meta = next(reader)
        w, h = meta["size"]
        frames = [np.frombuffer(buf, np.uint8).reshape(h, w, 3) for buf in reader]
    except (RuntimeError, OSError, StopIteration) as exc:
        raise DataError(path, f"not a readable video ({exc})") from None
    if not frames:
        raise DataError(path, "video has no frames")
    return np.stack(frames), float(meta["fps"])


def read_video_audio(path: str | os.PathLike, sample_rate: int) -> np.ndarray:
    """The audio track of a video as float32 mono at ``sample_rate``; raises if there is none."""
    path = Path(path)
    proc = subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-vn", "-f", "s16le", "-ac", "1",
                           "-ar", str(int(sample_rate)), "pipe:1"], capture_output=True)
    if proc.returncode != 0 or not proc.stdout:
        cause = proc.stderr.decode(errors="replace").strip()[-300:] or "no audio track"
        raise DataError(path, f"cannot read audio ({cause})")
    return np.frombuffer(proc.stdout, "<i2").astype(np.float32) / 32768.0
