"""Every notebook in notebooks/ runs top to bottom (executed with nbclient in the project's kernel)."""
from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


# the main job's notebook in the default tier, the others in the slow tier (the default tier's 20-minute budget;
# CI runs the slow tier too)
@pytest.mark.parametrize("path", [p if p.stem == "audio2face" else pytest.param(p, marks=pytest.mark.slow)
                                  for p in NOTEBOOKS], ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("ZOO_NOTEBOOK_SAVE", "")  # plots render off-screen
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    printed = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert "SavedModel vs Keras" in printed or path.stem != "audio2face"
