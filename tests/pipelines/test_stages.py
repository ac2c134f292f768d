"""The shared stage runner: results passed along, state.json, resume, a different request refused."""
from __future__ import annotations

import json

import pytest

from zoo.pipelines.stages import run_stages


def test_stages_run_once_and_resume(tmp_path):
    calls = []

    def first(args, out):
        calls.append("first")
        return {"value": args["x"]}

    def second(args, out, one):
        calls.append("second")
        if args.get("fail"):
            raise RuntimeError("stage failed")
        return {"double": 2 * one["value"]}

    stages = [("first", first), ("second", second)]
    with pytest.raises(RuntimeError, match="stage failed"):
        run_stages(tmp_path, {"x": 3}, stages, {"x": 3, "fail": True})
    saved = json.loads((tmp_path / "state.json").read_text())
    assert set(saved) == {"request", "first"} and saved["first"]["value"] == 3  # the finished stage is kept
    state = run_stages(tmp_path, {"x": 3}, stages, {"x": 3})
    assert calls == ["first", "second", "second"] and state["second"]["double"] == 6
    assert "stage_seconds" in state["second"]
    run_stages(tmp_path, {"x": 3}, stages, {"x": 3})
    assert len(calls) == 3  # nothing reran
    with pytest.raises(SystemExit, match="other arguments"):
        run_stages(tmp_path, {"x": 4}, stages, {"x": 4})
