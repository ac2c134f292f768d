"""Model directories: one save/load for every model of the zoo, and ``publish`` of pretrained presets.

A model directory holds::

    config.json          the model's Config (``Config.to_dict()``), enough to rebuild the network
    model.weights.h5     Keras weights (``model.save_weights``)
    <name>.npy           optional extra arrays of the model (e.g. an emotion database), no pickle
    model.tflite         optional (``publish(tflite=...)`` writes it): the network as a float32 TFLite model,
                         run by ai-edge-litert without TensorFlow; its parity report is metadata's ``tflite``
    metadata.json        one schema (``METADATA_REQUIRED``, and data/command/metrics/sha256) + model-specific keys
    README.md            only in a published preset: its card, written from the recorded run

``metadata.json`` always has ``model``, ``preset``, ``sample_rate`` (Hz, of the audio the model takes;
None where it takes none), ``fps``, ``window_seconds``, ``lookahead_seconds`` and ``output_names``,
and ``sha256`` of every other file. ``data``, ``command`` and ``metrics`` are added by ``publish``
(where a preset came from, the command that made it and its held-out numbers). Directories are
written into a staging folder and renamed into place, so a failure never leaves half of one; a
reader checks every file's sha256, so a truncated or swapped weights file is one clear error.

Verification needs no TensorFlow: ``read_model_dir`` (schema, sha256), ``ModelDir.check_array`` (companion arrays)
and ``check_weight_shapes`` (the arrays of model.weights.h5 against the shapes a model's config implies, with
h5py). ``load_weights`` loads the weights into a built Keras model and turns Keras' own refusal into the same
kind of ModelDirError naming model.weights.h5.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.datasets.cache import atomic_write_bytes, npy_bytes

CONFIG_FILE, WEIGHTS_FILE, METADATA_FILE, CARD_FILE = "config.json", "model.weights.h5", "metadata.json", "README.md"
RUN_FILE = "run.json"  # a published preset's recorded run
TFLITE_FILE = "model.tflite"  # optional: the network for the LiteRT interpreter (``publish(tflite=...)``)
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
    report = metadata.get("tflite")
    if report is not None and not (isinstance(report, Mapping) and report.get("file") == TFLITE_FILE):
        raise ModelDirError(f"{where}: metadata tflite must be the parity report of {TFLITE_FILE} "
                            f"({{'file': '{TFLITE_FILE}', 'max_abs_diff': ..., ...}}), found {report!r}")


@dataclass(frozen=True)
class ModelDir:
    """A model directory read by ``read_model_dir``: its path, config dict and metadata."""

    path: Path
    config: dict
    metadata: dict

    @property
    def weights(self) -> Path:
        return self.path / WEIGHTS_FILE

    @property
    def tflite(self) -> Path | None:
        """The directory's TFLite model (``TFLITE_FILE``, sealed like the rest), or None where it has none."""
        path = self.path / TFLITE_FILE
        return path if path.is_file() else None

    def array(self, name: str) -> np.ndarray | None:
        """The extra array ``<name>.npy`` (loaded without pickle), or None where the directory has none."""
        path = self.path / f"{name}.npy"
        return np.load(path, allow_pickle=False) if path.is_file() else None

    def check_array(self, name: str, shape: tuple[int | None, ...], why: str) -> tuple[int, ...]:
        """The shape of the float array ``<name>.npy``, read from its header; raise ModelDirError naming the file
        when it is missing, unreadable, not floating point or not of ``shape`` (None: any length on that axis).
        ``why`` says what needs it (the message's reason)."""
        path = self.path / f"{name}.npy"
        if not path.is_file():
            raise ModelDirError(f"{path} is missing: {why}")
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise ModelDirError(f"{path}: not a readable .npy array ({exc})") from None
        want = "(" + ", ".join("N" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
        if array.ndim != len(shape) or any(d is not None and d != a for d, a in zip(shape, array.shape)):
            raise ModelDirError(f"{path} has shape {array.shape}, {why} needs {want}")
        if array.dtype.kind != "f":
            raise ModelDirError(f"{path} holds {array.dtype}, {why} needs floating point values")
        return tuple(int(d) for d in array.shape)


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
    digests = metadata.get("sha256") or {}
    for name, digest in digests.items():
        file = path / name
        if not file.is_file():
            raise FileNotFoundError(f"{file}: listed in metadata.json but missing")
        if sha256_file(file) != digest:
            raise ModelDirError(f"{file}: sha256 differs from metadata.json (truncated or replaced file)")
    if digests and (path / TFLITE_FILE).is_file() and TFLITE_FILE not in digests:
        raise ModelDirError(f"{path / TFLITE_FILE}: not sealed with this model (metadata.json has no sha256 of it; "
                            "publish(tflite=...) writes one that is)")
    return ModelDir(path, _read_json(path / CONFIG_FILE), metadata)


def weight_shapes(model_dir: ModelDir | str | os.PathLike) -> list[tuple[int, ...]]:
    """The shapes of the floating-point arrays in model.weights.h5, sorted (read with h5py: no TensorFlow)."""
    import h5py

    weights = model_dir.weights if isinstance(model_dir, ModelDir) else Path(model_dir) / WEIGHTS_FILE
    shapes: list[tuple[int, ...]] = []

    def visit(_name, item):
        if isinstance(item, h5py.Dataset) and item.dtype.kind == "f":
            shapes.append(tuple(int(d) for d in item.shape))

    try:
        with h5py.File(weights, "r") as f:
            f.visititems(visit)
    except OSError as exc:
        raise ModelDirError(f"{weights}: not a readable Keras weights file ({_keras_reason(exc)})") from None
    return sorted(shapes)


def check_weight_shapes(model_dir: ModelDir | str | os.PathLike, expected, network: str) -> None:
    """Raise one ModelDirError naming model.weights.h5 unless its arrays have exactly the shapes ``expected`` (in any
    order): those of the network config.json describes (``network`` names it in the message). Without TensorFlow,
    so a folder with another preset's weights is refused before anything is built."""
    weights = model_dir.weights if isinstance(model_dir, ModelDir) else Path(model_dir) / WEIGHTS_FILE
    got, want = Counter(weight_shapes(model_dir)), Counter(tuple(int(d) for d in s) for s in expected)
    if got != want:
        def some(shapes: Counter) -> str:
            items = sorted(shapes.elements())
            return ", ".join(map(str, items[:3])) + (f" … ({len(items)})" if len(items) > 3 else "") if items else "—"

        raise ModelDirError(f"{weights}: the weights do not fit {CONFIG_FILE} ({network}): the file holds "
                            f"{sum(got.values())} arrays, the network {sum(want.values())}; only in the file: "
                            f"{some(got - want)}; only in the network: {some(want - got)}")


def _keras_reason(exc: BaseException) -> str:
    """Keras' loading error in one short line (its messages run to whole weight tensors)."""
    text = re.sub(r"\s+", " ", str(exc)).strip()
    text = text.split(" Target variable:")[0].split(" List of objects")[0]
    return text if len(text) <= 400 else text[:400] + " …"


def load_weights(model, model_dir: ModelDir | str | os.PathLike) -> None:
    """``model.load_weights`` of the directory's model.weights.h5, for a model built from its config.json.

    Weights that do not fit the built model (another preset or architecture, a resized output) are one
    ModelDirError naming model.weights.h5; so are weights Keras would only warn about and leave freshly
    initialised (a layer the file has no group for).
    """
    weights = model_dir.weights if isinstance(model_dir, ModelDir) else Path(model_dir) / WEIGHTS_FILE
    unfit = f"{weights}: the weights do not fit {CONFIG_FILE} (another preset or architecture?)"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(str(weights))
        except ValueError as exc:
            raise ModelDirError(f"{unfit}: {_keras_reason(exc)}") from None
        except OSError as exc:
            raise ModelDirError(f"{weights}: not a readable Keras weights file ({_keras_reason(exc)})") from None
    skipped = [w for w in caught if "freshly-initialized" in str(w.message) or "could not be loaded" in str(w.message)]
    if skipped:
        raise ModelDirError(f"{unfit}: {_keras_reason(skipped[0].message)}")
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


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
            card: Callable[[dict, Path], str], run: Mapping | None = None,
            tflite: Callable[[Path], Mapping] | None = None, **extra) -> Path:
    """Copy a trained model directory to ``dest`` (a pretrained preset folder) as a recorded run.

    metadata.json = the trained directory's metadata + ``data`` (what it was trained on), ``command``
    (what made it), ``metrics`` (its held-out numbers, from the run's report) and ``extra`` keys;
    ``run`` (the recorded run: what a test republishes from) is written as run.json (sealed like the rest);
    ``tflite(folder)``, when given, is called on the sealed staging folder (a complete model directory), writes
    ``folder/model.tflite`` and returns its parity report (``max_abs_diff``, ``mean_abs_diff``, ``tolerance``
    and how they were measured), which becomes ``metadata["tflite"]`` = {"file": "model.tflite", **report};
    the folder is then sealed again, model.tflite with it.
    README.md = ``card(metadata, folder)`` (``folder`` holds the preset's files), so every number in the card
    comes from the recorded run.
    """
    source = read_model_dir(model_dir)
    metadata = {**{k: v for k, v in source.metadata.items() if k != "sha256"},
                "data": data, "command": command, "metrics": dict(metrics), **extra}

    def fill(staging: Path) -> None:
        nonlocal metadata
        skip = (METADATA_FILE, CARD_FILE, RUN_FILE) + ((TFLITE_FILE,) if tflite is not None else ())
        for file in sorted(source.path.iterdir()):
            if file.is_file() and file.name not in skip:
                shutil.copyfile(file, staging / file.name)
        if run is not None:
            atomic_write_bytes(staging / RUN_FILE, (json.dumps(dict(run), indent=1) + "\n").encode())
        if tflite is not None:
            _seal(staging, {k: v for k, v in metadata.items() if k != "tflite"})
            report = dict(tflite(staging))
            if not (staging / TFLITE_FILE).is_file():
                raise ModelDirError(f"publish: the tflite callable wrote no {TFLITE_FILE}")
            missing = [k for k in ("max_abs_diff", "tolerance") if k not in report]
            if missing:
                raise ModelDirError(f"publish: the tflite callable's parity report lacks {missing}")
            metadata = {**metadata, "tflite": {"file": TFLITE_FILE, **report}}
        _seal(staging, metadata)
        sealed = json.loads((staging / METADATA_FILE).read_text())
        atomic_write_bytes(staging / CARD_FILE, card(sealed, staging).encode())

    return _staged(Path(dest), fill)


__all__ = ["ModelDir", "ModelDirError", "read_model_dir", "write_model_dir", "publish", "sha256_file",
           "check_metadata", "model_of", "load_weights", "weight_shapes", "check_weight_shapes", "METADATA_REQUIRED",
           "CONFIG_FILE", "WEIGHTS_FILE", "METADATA_FILE", "RUN_FILE", "TFLITE_FILE"]
