"""Audio input: any file soundfile reads → float32 mono in [-1, 1] at a chosen rate.

Integer PCM (8/16/24/32-bit) is scaled by soundfile to [-1, 1); float PCM is taken as is
(peaks above 1 are clipped with a warning). Channels are averaged in float64. Resampling
uses soxr (VHQ). Empty, silent-only, truncated, non-audio and non-finite files raise
``AudioError`` naming the file and the cause.
"""
from __future__ import annotations

import logging
import os
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

from .errors import AudioError

log = logging.getLogger(__name__)


def _check_riff(path: Path) -> None:
    """Raise if a RIFF/WAVE file's ``data`` chunk declares more bytes than the file holds.

    libsndfile silently reads what is there, so a cut-off download would otherwise pass.
    Streaming writers' placeholder sizes (0 and 0xFFFFFFFF) are accepted.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return  # not RIFF/WAVE: soundfile decides
        pos = 12
        while True:
            f.seek(pos)
            hdr = f.read(8)
            if len(hdr) < 8:
                raise AudioError(path, f"truncated WAV: the file ends after {size} bytes before any audio data chunk")
            chunk_id, chunk_size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
            if chunk_id == b"data":
                available = size - (pos + 8)
                if chunk_size not in (0, 0xFFFFFFFF) and chunk_size > available:
                    raise AudioError(
                        path,
                        f"truncated WAV: the header declares {chunk_size} bytes of audio data "
                        f"but the file holds {available}",
                    )
                return
            pos += 8 + chunk_size + (chunk_size & 1)


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    """float audio in [-1, 1] → int16 PCM: round(x · 32767), clipped to the int16 range."""
    return np.clip(np.round(np.asarray(audio, np.float64) * 32767), -32768, 32767).astype(np.int16)


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample mono float audio with soxr (very-high quality); returns float32."""
    if int(from_rate) == int(to_rate):
        return np.asarray(audio, dtype=np.float32)
    import soxr

    out = soxr.resample(np.asarray(audio, dtype=np.float64), int(from_rate), int(to_rate), quality="VHQ")
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def load_audio(path: str | os.PathLike, sample_rate: int | None = None, *, allow_silence: bool = False):
    """Read an audio file as float32 mono in [-1, 1].

    Args:
        path: a WAV/FLAC/OGG/... file that libsndfile reads.
        sample_rate: resample to this rate in Hz; None keeps the file's rate.
        allow_silence: accept a file whose samples are all zero.

    Returns:
        (audio, sample_rate): a float32 (samples,) array and its rate in Hz.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(path, "file not found" if not path.exists() else "not a regular file")
    if path.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")
    _check_riff(path)
    try:
        f = sf.SoundFile(str(path))
    except Exception as exc:  # libsndfile's error says what it could not parse
        raise AudioError(path, f"not a readable audio file ({exc})") from None
    with f:
        if f.frames == 0:
            raise AudioError(path, "no audio samples (zero-length audio)")
        if f.samplerate <= 0:
            raise AudioError(path, f"invalid sample rate {f.samplerate}")
        rate, is_float = f.samplerate, f.subtype in ("FLOAT", "DOUBLE", "VORBIS", "OPUS")
        try:  # mono needs no arithmetic, so it is read straight to float32; channels are averaged in float64
            data = f.read(dtype="float32" if f.channels == 1 else "float64")
        except Exception as exc:
            raise AudioError(path, f"cannot decode audio ({exc})") from None
    if data.shape[0] == 0:
        raise AudioError(path, "no audio samples (zero-length audio)")
    if is_float and not np.isfinite(data).all():  # integer PCM cannot hold NaN or Inf
        first = int(np.argwhere(~np.isfinite(data))[0][0])
        raise AudioError(path, f"non-finite samples (NaN or Inf), first at sample {first}")
    mono = data if data.ndim == 1 else data.mean(axis=1)
    peak = float(max(mono.max(), -mono.min()))
    if peak == 0.0 and not allow_silence:
        raise AudioError(path, "audio is silent (every sample is zero)")
    if peak > 1.0:
        log.warning("%s: float samples peak at %.3f; clipping to [-1, 1]", path, peak)
        mono = np.clip(mono, -1.0, 1.0)
    if sample_rate is not None and int(sample_rate) != rate:
        log.info("%s: resampling %d Hz -> %d Hz", path, rate, sample_rate)
        return resample(mono, rate, int(sample_rate)), int(sample_rate)
    return mono.astype(np.float32, copy=False), int(rate)
