"""The installed package: import names, the zoo command, the public API, library hygiene."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
from zoo import registry

PROJECT = Path(__file__).resolve().parents[1]
ZOO_BIN = Path(sys.executable).with_name("zoo")


def _python(code: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_import_names(tmp_path):
    out = _python(
        "import importlib.util, zoo.datasets, zoo.pipelines, sys;"
        "print(zoo.datasets.__file__); print(zoo.pipelines.__file__);"
        "spec = importlib.util.find_spec('datasets'); print(spec.origin if spec else None);"
        "print('tensorflow' in sys.modules)", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    ds_file, pl_file, top_datasets, tf_loaded = out.stdout.split()
    assert Path(ds_file) == PROJECT / "datasets" / "__init__.py"
    assert Path(pl_file) == PROJECT / "pipelines" / "__init__.py"
    assert top_datasets == "None" or not top_datasets.startswith(str(PROJECT)), top_datasets
    assert tf_loaded == "False", "importing zoo.datasets must not import TensorFlow"


def test_models_are_the_five_with_true_status():
    names = [m.name for m in zoo.models()]
    assert names == ["evenet", "audio2face", "voca_emotion", "gesture_ae", "landmark_dcgan"]
    for info in zoo.models():
        implemented = (PROJECT / "zoo" / info.name / "__init__.py").is_file()
        assert (info.status == "available") == implemented, f"{info.name} status {info.status!r} is not the truth"


def test_zoo_command():
    top = subprocess.run([str(ZOO_BIN), "--help"], capture_output=True, text=True, timeout=60)
    assert top.returncode == 0 and "models" in top.stdout
    listing = subprocess.run([str(ZOO_BIN), "models"], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0
    lines = listing.stdout.strip().splitlines()
    assert len(lines) == 5
    for line, info in zip(lines, registry.MODELS):
        assert line.split()[:2] == [info.name, info.status]
    for info in registry.MODELS:
        helped = subprocess.run([str(ZOO_BIN), info.name, "--help"], capture_output=True, text=True, timeout=60)
        assert helped.returncode == 0 and info.summary.split()[0] in helped.stdout
        if info.status != "available":
            assert "not implemented" in helped.stdout
            run = subprocess.run([str(ZOO_BIN), info.name], capture_output=True, text=True, timeout=60)
            assert run.returncode == 2 and "not implemented" in run.stdout
    bad = subprocess.run([str(ZOO_BIN), "tacotron"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_load_by_name_is_honest(tmp_path, monkeypatch):
    with pytest.raises(KeyError, match="unknown model"):
        zoo.load("tacotron")
    with monkeypatch.context() as patched:  # a checkout without presets (every model has one in this one)
        patched.setattr(zoo, "PRETRAINED", tmp_path / "pretrained")
        with pytest.raises(LookupError, match="no pretrained preset"):
            zoo.load("landmark_dcgan")
    with pytest.raises(LookupError, match="no pretrained preset 'paper'"):
        zoo.load("evenet/paper")
    with pytest.raises(FileNotFoundError):
        zoo.load(tmp_path)


def test_library_code_logs_and_never_prints():
    offenders = []
    for folder in ("zoo", "datasets", "pipelines"):
        for path in (PROJECT / folder).rglob("*.py"):
            if path.name in ("cli.py", "__main__.py"):  # command-line entry points talk to the terminal
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                    offenders.append(f"{path.relative_to(PROJECT)}:{node.lineno}")
    assert not offenders, f"library code prints (use logging): {offenders}"
