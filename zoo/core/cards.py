"""Generated blocks of Markdown documents: the text between ``<!-- NAME -->`` and ``<!-- /NAME -->``.

Model cards and READMEs keep their figures in such blocks, written by code from recorded runs
(benchmark results, published presets); ``read_block`` lets a test compare a committed block with
what its generator writes now.
"""
from __future__ import annotations

import os
from pathlib import Path

from zoo.datasets.cache import atomic_write_bytes


def _split(path: Path, marker: str) -> tuple[str, str, str]:
    doc = path.read_text(encoding="utf-8")
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    if doc.count(start) != 1 or doc.count(end) != 1:
        raise ValueError(f"{path}: needs exactly one {start} … {end} block")
    head, rest = doc.split(start, 1)
    body, tail = rest.split(end, 1)
    return head + start, body, end + tail


def read_block(path: str | os.PathLike, marker: str) -> str:
    """The text of the ``marker`` block of ``path``, stripped."""
    return _split(Path(path), marker)[1].strip()


def replace_block(path: str | os.PathLike, marker: str, text: str) -> None:
    """Replace the text of the ``marker`` block of ``path`` (both marker lines kept), atomically."""
    head, _, tail = _split(Path(path), marker)
    atomic_write_bytes(Path(path), f"{head}\n{text.strip()}\n{tail}".encode())


def write_blocks(blocks: dict[tuple[Path, str], str]) -> list[Path]:
    """Replace every (file, marker) block of ``blocks`` with its text; returns the files written, sorted."""
    for (path, marker), text in blocks.items():
        replace_block(path, marker, text)
    return sorted({Path(path) for path, _ in blocks})


def epochs_done(trained: int, planned: int, stopped_by_budget: bool) -> str:
    """"N of M epochs", with " (its time budget stopped it)" when the stage's wall-clock budget ended it."""
    return f"{trained} of {planned} epochs" + (" (its time budget stopped it)" if stopped_by_budget else "")


def files_mb(folder: Path, names) -> float:
    """The size in MiB of the files ``names`` of ``folder`` (a published preset's sealed files)."""
    return sum((Path(folder) / n).stat().st_size for n in names) / 2**20


def published_presets(root: Path) -> list[tuple[Path, dict, float]]:
    """(folder, metadata, size in MiB) of every published preset under ``root`` (``pretrained/<model>``), by name."""
    import json

    found = sorted(p for p in Path(root).iterdir() if (p / "metadata.json").is_file()) if Path(root).is_dir() else []
    out = []
    for folder in found:
        meta = json.loads((folder / "metadata.json").read_text())
        out.append((folder, meta, files_mb(folder, meta["sha256"])))
    return out


__all__ = ["read_block", "replace_block", "write_blocks", "epochs_done", "files_mb", "published_presets"]
