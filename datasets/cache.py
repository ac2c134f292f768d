"""A feature cache keyed by a hash of the feature config, written atomically.

Layout: ``root/<config-hash>/config.json`` and ``root/<config-hash>/<audio-hash>.npy``.
The config hash is sha256 of the config as canonical JSON (sorted keys), so changing any
feature parameter lands in a fresh folder; the audio hash is sha256 of the clip's samples
and rate, so the same audio under another path is a hit. Files are written to a temporary
name in the same folder and renamed into place (``os.replace``), so a killed run never
leaves a half-written entry; an unreadable entry is recomputed.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from .clip import Clip

log = logging.getLogger(__name__)


def config_hash(config: Mapping) -> str:
    """First 16 hex digits of sha256 over the canonical JSON of ``config``."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def audio_hash(clip: Clip) -> str:
    """First 20 hex digits of sha256 over the clip's float32 samples and sample rate."""
    if not clip.has_audio:
        raise ValueError(f"{clip.source}: clip has no audio to key features by")
    h = hashlib.sha256(str(clip.sample_rate).encode())
    h.update(np.ascontiguousarray(clip.audio, dtype=np.float32).tobytes())
    return h.hexdigest()[:20]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def npy_bytes(array: np.ndarray) -> bytes:
    """The bytes of ``np.save(array)`` (no pickling), for ``atomic_write_bytes``."""
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


class FeatureCache:
    """Per-clip feature arrays for one feature config, under ``root``."""

    def __init__(self, root: str | os.PathLike, config: Mapping):
        self.config = dict(config)
        self.key = config_hash(self.config)
        self.folder = Path(root) / self.key
        config_file = self.folder / "config.json"
        if not config_file.is_file():
            atomic_write_bytes(config_file, json.dumps(self.config, sort_keys=True, indent=1, default=str).encode())

    def path(self, clip: Clip) -> Path:
        return self.folder / f"{audio_hash(clip)}.npy"

    def get_or_compute(self, clip: Clip, compute: Callable[[Clip], np.ndarray]) -> np.ndarray:
        """The cached features of ``clip``, computing and storing them on a miss."""
        path = self.path(clip)
        if path.is_file():
            try:
                return np.load(path, allow_pickle=False)
            except Exception as exc:  # a damaged entry is recomputed, not trusted
                log.warning("%s: unreadable cache entry (%s); recomputing", path, exc)
        features = np.asarray(compute(clip))
        atomic_write_bytes(path, npy_bytes(features))
        return features
