"""Checks every model of the zoo runs on its presets (DESIGN §3, §7); each raises AssertionError with the cause.

* ``check_contract(model)``: the subpackage offers the contract (``CONTRACT``), and ``import zoo.<model>``
  does not import TensorFlow (in a fresh interpreter);
* ``check_no_model_imports_another()``: no model subpackage imports another;
* ``check_config_round_trip(Config, config, build_model)``: JSON and Keras ``get_config`` round trips;
* ``check_golden_params(build_model, presets, golden)``: the golden parameter counts;
* ``check_streaming_equals_full(full, frames, atol)``: a streamer's (index, values) equal the full pass;
* ``check_export_parity(result, tolerance, signatures)``: every signature of the SavedModel and the TFLite
  file within ``tolerance`` of Keras, by the parity report ``zoo.export`` wrote;
* ``check_small_overfit(history, factor)``: the training loss fell by ``factor``.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
CONTRACT = ("Config", "PRESETS", "GOLDEN_PARAMS", "build_model", "train", "Predictor", "evaluate", "export_model")


def check_contract(model: str, streams: bool) -> None:
    """``zoo.<model>`` offers ``CONTRACT``, ``Predictor.load/predict`` (+ ``streamer`` where it ``streams``) and
    ``zoo.<model>.cli.add_commands/run``; importing it leaves TensorFlow unloaded."""
    code = (f"import sys, json, zoo.{model} as m, zoo.{model}.cli as c;"
            "print(json.dumps({'tf': 'tensorflow' in sys.modules or 'keras' in sys.modules,"
            f"'missing': [n for n in {list(CONTRACT)!r} if not hasattr(m, n)],"
            "'predictor': [n for n in ('load', 'predict', 'streamer') if hasattr(m.Predictor, n)],"
            "'cli': [n for n in ('add_commands', 'run') if callable(getattr(c, n, None))]}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=PROJECT)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert not found["tf"], f"import zoo.{model} imports TensorFlow or Keras (load them on first use)"
    assert not found["missing"], f"zoo.{model} lacks {found['missing']}"
    want = ["load", "predict"] + (["streamer"] if streams else [])
    assert set(want) <= set(found["predictor"]), f"zoo.{model}.Predictor lacks {set(want) - set(found['predictor'])}"
    assert found["cli"] == ["add_commands", "run"], f"zoo.{model}.cli lacks add_commands/run"


def _imported_modules(path: Path) -> Iterable[str]:
    """Absolute names of the modules ``path`` (a file under the project) imports; relative imports resolved."""
    package = path.relative_to(PROJECT).with_suffix("").parts[:-1]  # zoo/audio2face/train.py → zoo, audio2face
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            yield ".".join([*base, *([node.module] if node.module else [])])


def check_no_model_imports_another(models: Sequence[str]) -> None:
    """No file of ``zoo/<model>/`` imports ``zoo.<other model>``."""
    offenders = []
    for model in models:
        folder = PROJECT / "zoo" / model
        for path in folder.rglob("*.py") if folder.is_dir() else []:
            for name in _imported_modules(path):
                other = [m for m in models if m != model and (name == f"zoo.{m}" or name.startswith(f"zoo.{m}."))]
                if other:
                    offenders.append(f"{path.relative_to(PROJECT)} imports {name}")
    assert not offenders, f"a model imports another: {offenders}"


def check_config_round_trip(config_class, config, build_model=None) -> None:
    """``Config.from_dict(JSON of to_dict())`` equals ``config``; the built model's ``get_config`` rebuilds it."""
    assert config_class.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    if build_model is not None:
        model = build_model(config)
        clone = type(model).from_config(model.get_config())
        assert clone.count_params() == model.count_params()
        assert clone.get_config() == model.get_config()


def check_golden_params(build_model, presets: Mapping, golden: Mapping[str, int]) -> None:
    """Every preset of ``golden`` builds a model with exactly its parameter count."""
    assert golden, "no golden parameter counts"
    counts = {name: int(build_model(presets[name]).count_params()) for name in golden}
    assert counts == dict(golden), f"parameter counts {counts} ≠ golden {dict(golden)}"


def check_streaming_equals_full(full: np.ndarray, frames: Sequence[tuple[int, np.ndarray]], atol: float) -> None:
    """Streamed (index, values) cover every frame once, in order, and equal the full pass within ``atol``."""
    assert [i for i, _ in frames] == list(range(len(full))), "streamed frame indices differ from the full pass"
    np.testing.assert_allclose(np.stack([v for _, v in frames]), full, atol=atol)


def check_export_parity(result, tolerance: float, signatures: Sequence[str]) -> dict:
    """The parity report of a ``zoo.export.ExportResult``: every signature through the SavedModel and
    ``serving_default`` through TFLite within ``tolerance`` (int8 has its own bound); returns the report."""
    report = json.loads(Path(result.parity_report).read_text())
    assert report["passed"], report
    checked = {(c["backend"], c["signature"]) for c in report["checks"]}
    want = {("saved_model", s) for s in signatures} | ({("tflite", "serving_default")} if result.tflite else set())
    assert want <= checked, f"parity not checked for {want - checked}"
    for check in report["checks"]:
        if check["backend"] != "tflite_int8":
            assert check["max_abs_diff"] <= tolerance, check
    return report


def check_small_overfit(history: Sequence[Mapping], factor: float, key: str = "train_loss") -> None:
    """``history[-1][key]`` ≤ ``history[0][key]`` / ``factor``."""
    first, last = history[0][key], history[-1][key]
    assert last <= first / factor, f"{key} fell from {first:.4g} to {last:.4g}, less than {factor}×"
