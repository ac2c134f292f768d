"""The stage runner of every reproduction recipe: named stages, ``state.json``, resume.

A recipe is a list of ``(name, stage)``; ``stage(args, out, *results)`` gets the results (dicts) of
the stages before it and returns its own, JSON-serialisable. ``run_stages`` records each result in
``out/state.json`` as soon as the stage ends (with ``stage_seconds``), so a rerun with the same
request keeps every finished stage and continues with the first unfinished one (training itself
resumes from its checkpoints). A folder holding a run of another request is refused.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from zoo.datasets import atomic_write_bytes

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
Stage = Callable[..., dict]


def read_state(out: str | Path) -> dict:
    path = Path(out) / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def write_state(out: str | Path, state: Mapping) -> None:
    atomic_write_bytes(Path(out) / STATE_FILE, json.dumps(dict(state), indent=1).encode())


def run_stages(out: str | Path, request: Mapping, stages: Sequence[tuple[str, Stage]], args) -> dict:
    """Run the unfinished ``stages`` of the run in ``out`` for ``request``; returns the whole state
    ({"request": ..., <stage name>: <its result>, ...}). SystemExit when ``out`` holds another request."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = read_state(out)
    request = json.loads(json.dumps(dict(request)))  # as it reads back from state.json
    if state.get("request") not in (None, request):
        raise SystemExit(f"{out} holds a run with other arguments ({state['request']}); use another --out")
    state["request"] = request
    results = []
    for name, stage in stages:
        if name in state:
            log.info("%s: done before, kept", name)
        else:
            log.info("%s ...", name)
            started = time.perf_counter()
            state[name] = {**stage(args, out, *results), "stage_seconds": round(time.perf_counter() - started, 1)}
            write_state(out, state)
        results.append(state[name])
    return state


def prepare_data(args, out: Path, layout: str, kind: str, recipe: str) -> dict:
    """The prepare stage of a recipe: the ``kind`` folder ``args.data`` (``recipe``: its name in the error), or the
    synthetic corpus (``args.corpus_preset``, ``args.seed``) generated into ``out/corpus`` and its ``layout``
    subfolder."""
    if args.data:
        data = Path(args.data)
        if not data.is_dir():
            raise SystemExit(f"{recipe}: --data {data} is not a folder")
        return {"data": str(data), "source": f"the {kind} folder {data}", "synthetic": False}
    from zoo.datasets.synthetic import corpus

    started = time.perf_counter()
    manifest = corpus.generate(out / "corpus", args.corpus_preset, args.seed)
    return {"data": str(out / "corpus" / layout), "source": f"synthetic corpus ({args.corpus_preset}, "
            f"seed {args.seed})", "synthetic": True, "speech_minutes": round(manifest["speech_seconds"] / 60, 2),
            "seconds": round(time.perf_counter() - started, 1)}


__all__ = ["run_stages", "read_state", "write_state", "prepare_data", "STATE_FILE"]
