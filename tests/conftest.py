"""Shared fixtures. Quiets TensorFlow's start-up logging before anything imports it."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared checks: `from helpers import ...`

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ZOO_SHARED_DATA", PROJECT.parent / "shared" / "data"))
FACEGOOD = SHARED_DATA / "facegood"


@pytest.fixture
def facegood_dir() -> Path:
    """The real FACEGOOD sample (../shared/data/facegood); skips where it is absent."""
    if not (FACEGOOD / "bs_value").is_dir():
        pytest.skip(f"real FACEGOOD data not found at {FACEGOOD} (set ZOO_SHARED_DATA to its parent)")
    return FACEGOOD


def _tone(seconds: float, rate: int = 16000, freq: float = 220.0, amp: float = 0.5, channels: int = 1) -> np.ndarray:
    """A sine of ``seconds`` at ``rate`` Hz; (samples,) or (samples, channels)."""
    t = np.arange(int(round(seconds * rate))) / rate
    x = amp * np.sin(2 * np.pi * freq * t)
    return x if channels == 1 else np.stack([x * (c + 1) / channels for c in range(channels)], axis=1)


@pytest.fixture
def tone():
    """tone(seconds, rate=16000, freq=220, amp=0.5, channels=1) -> a sine as float64 samples."""
    return _tone


@pytest.fixture
def write_wav(tmp_path):
    """write_wav(name, data, rate=16000, subtype="PCM_16") -> Path of a real WAV file."""

    def write(name: str, data: np.ndarray, rate: int = 16000, subtype: str = "PCM_16") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), data, rate, subtype=subtype)
        return path

    return write


@pytest.fixture
def facegood_layout(tmp_path, write_wav):
    """make(ids=("a",), seconds=1.0, names=("jaw", "lip", "brow"), rows=None) -> root of a FACEGOOD-layout folder."""

    def make(ids=("a",), seconds=1.0, names=("jaw", "lip", "brow"), rows=None, root_name="fg"):
        root = tmp_path / root_name
        (root / "bs_value").mkdir(parents=True, exist_ok=True)
        np.save(root / "BS_name.npy", np.array(names))
        for k, clip_id in enumerate(ids):
            write_wav(f"{root_name}/wav/{clip_id}.wav", _tone(seconds, freq=200 + 50 * k))
            n = int(np.floor(seconds * 30)) if rows is None else rows
            labels = np.linspace(0, 1, n * len(names)).reshape(n, len(names))
            np.save(root / "bs_value" / f"bs_value_{clip_id}.npy", labels)
        return root

    return make
