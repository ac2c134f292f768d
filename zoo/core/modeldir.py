"""Model directories: one save/load for every model of the zoo, and ``publish`` of pretrained presets.

A model directory holds::

    config.json          the model's Config (``Config.to_dict()``), enough to rebuild the network
    model.weights.h5     Keras weights (``model.save_weights``)
    <name>.npy           optional extra arrays of the model (e.g. an emotion database), no pickle
    metadata.json        one schema (``METADATA_REQUIRED``, and data/command/metrics/sha256) + model-specific keys
    README.md            only in a published preset: its card, written from the recorded run

``metadata.json`` always has ``model``, ``preset``, ``sample_rate`` (Hz, of the audio the model takes;
None where it takes none), ``fps``, ``window_seconds``, ``lookahead_seconds`` and ``output_names``,
and ``sha256`` of every other file. ``data``, ``command`` and ``metrics`` are added by ``publish``
(where a preset came from, the command that made it and its held-out numbers). Directories are
written into a staging folder and renamed into place, so a failure never leaves half of one; a
reader checks every file's sha256, so a truncated or swapped weights file is one clear error.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.datasets.cache import atomic_write_bytes, npy_bytes

CONFIG_FILE, WEIGHTS_FILE, METADATA_FILE, CARD_FILE = "config.json", "model.weights.h5", "metadata.json", "README.md"
RUN_FILE = "run.json"  # a published preset's recorded run
METADATA_REQUIRED = ("model", "preset", "sample_rate", "fps", "window_seconds", "lookahead_seconds", "output_names")


class ModelDirError(ValueError):
    """A model directory that cannot be used; the message names the file and the cause."""


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_metadata(metadata: Mapping, where: str | os.PathLike) -> None:
    """Raise ModelDirError unless ``metadata`` has every key of ``METADATA_REQUIRED``."""
    missing = [k for k in METADATA_REQUIRED if k not in metadata]
    if missing:
        raise ModelDirError(f"{where}: metadata lacks {missing} (required: {list(METADATA_REQUIRED)})")
    if not isinstance(metadata["output_names"], list | tuple) or not metadata["output_names"]:
        raise ModelDirError(f"{where}: metadata output_names must be a non-empty list")


@dataclass(frozen=True)
class ModelDir:
    """A model directory read by ``read_model_dir``: its path, config dict and metadata."""

    path: Path
    config: dict
    metadata: dict

    @property
    def weights(self) -> Path:
        return self.path / WEIGHTS_FILE

    def array(self, name: str) -> np.ndarray | None:
        """The extra array ``<name>.npy`` (loaded without pickle), or None where the directory has none."""
        path = self.path / f"{name}.npy"
        return np.load(path, allow_pickle=False) if path.is_file() else None


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelDirError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ModelDirError(f"{path}: a JSON object was expected, found {type(value).__name__}")
    return value


def model_of(path: str | os.PathLike) -> str:
    """The model a directory belongs to (its metadata's ``model``), without verifying its files: the model's
    ``Predictor.load`` does that through ``read_model_dir``."""
    metadata = _read_json(Path(path) / METADATA_FILE)
    check_metadata(metadata, Path(path) / METADATA_FILE)
    return str(metadata["model"])


def read_model_dir(path: str | os.PathLike, model: str | None = None) -> ModelDir:
    """Read and verify a model directory (of ``model``, when given).

    Raises ``FileNotFoundError`` for a missing folder or file and ``ModelDirError`` for invalid JSON,
    a metadata.json outside the schema, a directory of another model or a file whose sha256 differs
    from the one recorded in metadata.json.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such model directory")
    for needed in (CONFIG_FILE, WEIGHTS_FILE, METADATA_FILE):
        if not (path / needed).is_file():
            raise FileNotFoundError(f"{path}: not a model directory ({needed} missing)")
    metadata = _read_json(path / METADATA_FILE)
    check_metadata(metadata, path / METADATA_FILE)
    if model is not None and metadata["model"] != model:
        raise ModelDirError(f"{path}: a model directory of {metadata['model']!r}, not of {model!r}")
    for name, digest in (metadata.get("sha256") or {}).items():
        file = path / name
        if not file.is_file():
            raise FileNotFoundError(f"{file}: listed in metadata.json but missing")
        if sha256_file(file) != digest:
            raise ModelDirError(f"{file}: sha256 differs from metadata.json (truncated or replaced file)")
    return ModelDir(path, _read_json(path / CONFIG_FILE), metadata)


def _swap_into_place(staging: Path, dest: Path) -> None:
    """Rename ``staging`` to ``dest``, replacing an existing ``dest`` only once the new one is complete."""
    old = None
    if dest.exists():
        old = dest.parent / f".{dest.name}-old-{uuid.uuid4().hex[:8]}"
        os.replace(dest, old)
    os.replace(staging, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _staged(dest: Path, fill: Callable[[Path], None]) -> Path:
    """Build ``dest`` with ``fill(staging)`` in a hidden sibling folder, then rename it into place."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        fill(staging)
        _swap_into_place(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def _seal(folder: Path, metadata: Mapping) -> None:
    """Write metadata.json with the sha256 of every other file of ``folder``."""
    check_metadata(metadata, folder / METADATA_FILE)
    digests = {p.name: sha256_file(p) for p in sorted(folder.iterdir())
               if p.is_file() and p.name not in (METADATA_FILE, CARD_FILE)}
    text = json.dumps({**metadata, "sha256": digests}, indent=1)
    atomic_write_bytes(folder / METADATA_FILE, text.encode())


def write_model_dir(dest: str | os.PathLike, *, config: Mapping, model, metadata: Mapping,
                    arrays: Mapping[str, np.ndarray] | None = None) -> Path:
    """Write a model directory atomically: config.json, model.weights.h5 (``model.save_weights``),
    ``<name>.npy`` for each extra array, and metadata.json (schema checked, sha256 added)."""

    def fill(staging: Path) -> None:
        atomic_write_bytes(staging / CONFIG_FILE, json.dumps(dict(config), indent=1).encode())
        model.save_weights(str(staging / WEIGHTS_FILE))
        for name, array in (arrays or {}).items():
            atomic_write_bytes(staging / f"{name}.npy", npy_bytes(np.asarray(array)))
        _seal(staging, metadata)

    return _staged(Path(dest), fill)


def publish(model_dir: str | os.PathLike, dest: str | os.PathLike, *, data: str, command: str, metrics: Mapping,
            card: Callable[[dict, Path], str], run: Mapping | None = None, **extra) -> Path:
    """Copy a trained model directory to ``dest`` (a pretrained preset folder) as a recorded run.

    metadata.json = the trained directory's metadata + ``data`` (what it was trained on), ``command``
    (what made it), ``metrics`` (its held-out numbers, from the run's report) and ``extra`` keys;
    ``run`` (the recorded run: what a test republishes from) is written as run.json (sealed like the rest);
    README.md = ``card(metadata, folder)`` (``folder`` holds the preset's files), so every number in the card
    comes from the recorded run.
    """
    source = read_model_dir(model_dir)
    metadata = {**{k: v for k, v in source.metadata.items() if k != "sha256"},
                "data": data, "command": command, "metrics": dict(metrics), **extra}

    def fill(staging: Path) -> None:
        for file in sorted(source.path.iterdir()):
            if file.is_file() and file.name not in (METADATA_FILE, CARD_FILE, RUN_FILE):
                shutil.copyfile(file, staging / file.name)
        if run is not None:
            atomic_write_bytes(staging / RUN_FILE, (json.dumps(dict(run), indent=1) + "\n").encode())
        _seal(staging, metadata)
        sealed = json.loads((staging / METADATA_FILE).read_text())
        atomic_write_bytes(staging / CARD_FILE, card(sealed, staging).encode())

    return _staged(Path(dest), fill)


__all__ = ["ModelDir", "ModelDirError", "read_model_dir", "write_model_dir", "publish", "sha256_file",
           "check_metadata", "model_of", "METADATA_REQUIRED", "CONFIG_FILE", "WEIGHTS_FILE", "METADATA_FILE",
           "RUN_FILE"]
