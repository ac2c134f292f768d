"""The stage runner of every reproduction recipe: named stages, ``state.json``, resume; and the recipe's shell.

A recipe is a list of ``(name, stage)``; ``stage(args, out, *results)`` gets the results (dicts) of
the stages before it and returns its own, JSON-serialisable. ``run_stages`` records each result in
``out/state.json`` as soon as the stage ends (with ``stage_seconds``), so a rerun with the same
request keeps every finished stage and continues with the first unfinished one (training itself
resumes from its checkpoints). A folder holding a run of another request is refused.

The shell every ``pipelines/<model>.py`` shares: ``recipe_parser`` (the common flags), ``run_recipe`` (stages,
report, ``--publish``), ``write_report`` (report.json and report.md), ``recorded_run`` (what a published preset's
run.json keeps), ``republish`` (a committed preset published again from its run.json) and ``retrain_presets``
(``make pretrained-<model>``).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
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


RUN_KEYS = ("request", "prepare", "train", "evaluate", "command")  # what run.json keeps of a run's state
NOT_REQUESTED = ("out", "quiet", "publish", "pretrained")  # flags that do not change what a run computes


def recipe_parser(model: str, doc: str, *, data_help: str, preset: str | None, seed: int = 0,
                  seed_help: str = "corpus seed", budget_minutes: float, pretrained: Sequence[str],
                  clips_help: str = "clips") -> argparse.ArgumentParser:
    """The flags every recipe has: --out, --data, --val-clips, --test-clips, --preset, --epochs, --budget-minutes,
    --corpus-preset, --seed, --quiet, --publish, --pretrained; a recipe adds its own."""
    parser = argparse.ArgumentParser(prog=f"python -m zoo.pipelines.{model}", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=f"runs/{model}", help="run folder (resumable)")
    parser.add_argument("--data", help=f"{data_help} (default: generate the synthetic corpus)")
    parser.add_argument("--val-clips", help=f"comma-separated validation {clips_help} (default: the declared split)")
    parser.add_argument("--test-clips", help=f"comma-separated test {clips_help}: read once, by the evaluate stage")
    parser.add_argument("--preset", default=preset, help=f"default {preset}")
    parser.add_argument("--epochs", type=int, help="override the recipe's epochs")
    parser.add_argument("--budget-minutes", type=float, default=budget_minutes,
                        help=f"training time budget (default {budget_minutes:g})")
    parser.add_argument("--corpus-preset", default="small", choices=["small", "medium"])
    parser.add_argument("--seed", type=int, default=seed, help=f"{seed_help} (default {seed})")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--publish", help="also copy the model to this pretrained preset folder")
    parser.add_argument("--pretrained", action="store_true",
                        help=f"retrain every committed preset pretrained/{model}/{{{','.join(pretrained)}}}")
    return parser


def run_recipe(model: str, args, argv, stages: Sequence[tuple[str, Stage]], *, write_report: Callable,
               publish: Callable) -> dict:
    """Run the recipe's stages in ``args.out`` (resumable), write its report and, with ``--publish``, the preset;
    returns the state."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("tensorflow", "absl", "h5py"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    out = Path(args.out)
    request = {k: v for k, v in vars(args).items() if k not in NOT_REQUESTED}
    state = run_stages(out, request, stages, args)
    write_report(out, state)
    if args.publish:
        command = f"python -m zoo.pipelines.{model} " + " ".join(argv if argv is not None else sys.argv[1:])
        log.info("published to %s", publish(state, Path(args.publish), command))
    return state


def write_report(out: Path, state: Mapping, title: str, lines: Sequence[str]) -> None:
    """``out/report.json`` (the machine and the whole state) and ``out/report.md`` (``title``, ``lines`` and the
    seconds of every stage)."""
    import platform

    report = {"machine": {"python": platform.python_version(), "platform": platform.platform()}, **state}
    atomic_write_bytes(out / "report.json", json.dumps(report, indent=1).encode())
    seconds = ", ".join(f"{k} {v['stage_seconds']}" for k, v in state.items()
                        if isinstance(v, dict) and "stage_seconds" in v)
    text = "\n".join([f"# {title}", "", *lines, "", f"Stage seconds: {seconds}."]) + "\n"
    atomic_write_bytes(out / "report.md", text.encode())


def log_bar(out: Path, state: Mapping) -> None:
    """Log whether the evaluate stage's declared bar passed, with every check's value."""
    bar = state["evaluate"]["bar"]
    log.info(f"{out}/report.md: bar {'passed' if bar['passed'] else 'MISSED'}: "
             + ", ".join(f"{k} {c['value']}" for k, c in bar["checks"].items()))


def recorded_run(state: Mapping, command: str) -> dict:
    """What a published preset's run.json keeps of a run (``RUN_KEYS``; the train stage without its local paths)."""
    run = {k: v for k, v in {**state, "command": command}.items() if k in RUN_KEYS}
    run["train"] = {k: v for k, v in state["train"].items() if k not in ("model_dir", "stage_seconds")}
    return run


def republish(folder: Path, dest: Path, publish: Callable) -> Path:
    """Publish a committed preset again from its recorded run (``run.json``, the weights in ``folder``) into
    ``dest`` with the recipe's ``publish``: equal files mean its metadata and card are what ``publish`` writes."""
    run = json.loads((Path(folder) / "run.json").read_text())
    state = {**run, "train": {**run["train"], "model_dir": str(folder)}}
    return publish(state, Path(dest), run["command"])


def retrain_presets(model: str, presets: Mapping[str, Sequence[str]], main: Callable, write_card: Callable) -> int:
    """``make pretrained-<model>``: the recipe (``main``) of every committed preset with ``--publish`` into its
    folder, then the model card's blocks rewritten; a preset whose ``--data`` is missing is reported, not trained
    (exit status 2)."""
    missing = []
    for name, argv in presets.items():
        if "--data" in argv and not Path(argv[argv.index("--data") + 1]).is_dir():
            missing.append(f"{name}: data {argv[argv.index('--data') + 1]} not found (set ZOO_SHARED_DATA)")
            continue
        main([*argv, "--publish", f"pretrained/{model}/{name}"])  # relative: from the project root (make)
    for line in missing:
        log.error("not retrained: %s", line)
    if missing:
        return 2
    log.info("model card blocks rewritten: %s", write_card())
    return 0


__all__ = ["run_stages", "read_state", "write_state", "prepare_data", "STATE_FILE", "RUN_KEYS", "recipe_parser",
           "run_recipe", "write_report", "log_bar", "recorded_run", "republish", "retrain_presets"]
