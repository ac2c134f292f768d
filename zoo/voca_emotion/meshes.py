"""Mesh files in and out (trimesh; no psbody-mesh): templates from PLY/OBJ, per-frame meshes, one ``.npy``.

Vertex order is the file's own (``process=False``: trimesh neither merges nor reorders vertices), which is what a
per-vertex model needs. Units are the file's; VOCA's meshes are in metres.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np

from zoo.datasets import DataError

MESH_FORMATS = ("ply", "obj")


def load_template(path: str | os.PathLike, num_vertices: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(vertices (V, 3) float32, faces (F, 3) int32 or None) of a PLY or OBJ file; a DataError names the file when it
    is unreadable, holds no vertices, non-finite values or not ``num_vertices`` vertices."""
    import trimesh

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "template mesh not found")
    if path.suffix.lower().lstrip(".") not in MESH_FORMATS:
        raise DataError(path, f"a template must be one of {', '.join('.' + f for f in MESH_FORMATS)}")
    try:
        mesh = trimesh.load(str(path), process=False, maintain_order=True, force="mesh")
    except Exception as exc:  # trimesh raises many kinds for a damaged file
        raise DataError(path, f"not a readable mesh ({exc})") from None
    vertices = np.asarray(getattr(mesh, "vertices", np.zeros((0, 3))), np.float32)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or not len(vertices):
        raise DataError(path, "the mesh holds no vertices")
    if not np.isfinite(vertices).all():
        raise DataError(path, "the mesh holds NaN or Inf coordinates")
    if num_vertices is not None and len(vertices) != num_vertices:
        raise DataError(path, f"the mesh has {len(vertices)} vertices; the model animates {num_vertices} "
                              "(a template in the training data's topology is needed)")
    faces = np.asarray(getattr(mesh, "faces", np.zeros((0, 3))), np.int32)
    return vertices, (faces if faces.size else None)


def mesh_bytes(vertices: np.ndarray, faces: np.ndarray | None, fmt: str) -> bytes:
    """The bytes of one mesh as binary PLY or as OBJ text."""
    import trimesh

    mesh = trimesh.Trimesh(vertices=np.asarray(vertices, np.float64),
                           faces=np.zeros((0, 3), np.int64) if faces is None else faces, process=False)
    data = mesh.export(file_type=fmt)
    return data.encode() if isinstance(data, str) else bytes(data)


def write_sequence(vertices: np.ndarray, out: str | os.PathLike, *, faces: np.ndarray | None = None,
                   fmt: str | None = "ply", name: str = "vertices") -> Path:
    """Write ``out/<name>.npy`` (T, V, 3) float32 and, when ``fmt`` is given, ``out/meshes/%05d.<fmt>`` (frame
    t = index t, 0-based). The meshes are built in a staging folder and renamed into place: nothing half."""
    if fmt is not None and fmt not in MESH_FORMATS:
        raise ValueError(f"mesh format must be one of {MESH_FORMATS}, got {fmt!r}")
    vertices = np.asarray(vertices, np.float32)
    if vertices.ndim != 3 or vertices.shape[2] != 3:
        raise ValueError(f"vertices must be (T, V, 3), got {vertices.shape}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fmt is not None:
        staging = out / f".meshes.partial-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            for t, frame in enumerate(vertices):
                (staging / f"{t:05d}.{fmt}").write_bytes(mesh_bytes(frame, faces, fmt))
            if (out / "meshes").exists():
                shutil.rmtree(out / "meshes")
            os.replace(staging, out / "meshes")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    _save_npy(out / f"{name}.npy", vertices)
    return out


def _save_npy(path: Path, array: np.ndarray) -> None:
    """``np.save`` into a temporary file beside ``path``, fsync, rename: atomic without building the file in
    memory first (a minute of meshes is ~100 MB)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, array, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["MESH_FORMATS", "load_template", "mesh_bytes", "write_sequence"]
