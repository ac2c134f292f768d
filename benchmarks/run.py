"""Run the benchmark suites and write benchmarks/results.json and benchmarks/results.md.

Usage: ``python benchmarks/run.py [SUITE ...] [--quick] [--profile DIR]`` (``make bench``, ``zoo bench``).
Suites are discovered: every module ``bench_<suite>.py`` beside this file, with ``run(bench)``; a suite named
after a model (``zoo/<suite>/README.md`` exists) that has ``card(data)`` fills that model card's
``bench:<suite>`` block. Running some suites keeps the others' earlier records in results.json (each suite
carries its own machine facts and date); results.md is always rendered from the whole results.json.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from zoo.core.cards import replace_block

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ROOT = HERE.parent
README = ROOT / "README.md"


def discover() -> tuple[str, ...]:
    """The suites beside this file: model suites (those with a model card) first, then the others, by name."""
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    return tuple(sorted(names, key=lambda n: (card_of(n) is None, n)))


def card_of(suite: str) -> Path | None:
    """The model card whose ``bench:<suite>`` block the suite's ``card(data)`` fills, if the suite is a model's."""
    path = ROOT / "zoo" / suite / "README.md"
    return path if path.is_file() else None


SUITES = discover()  # the order of results.md


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 0.1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def _goal_cell(goals: list[dict]) -> str:
    return "<br>".join(f"{'✅' if g['met'] else '❌'} {g['text']}: {_fmt(g['value'])}{g['unit']} "
                       f"({'≥' if g['higher_is_better'] else '≤'} {_fmt(g['target'])}{g['unit']})" for g in goals)


def render(results: dict) -> str:
    """results.json → markdown."""
    lines = ["# Benchmarks", "",
             "Written by `make bench` (`benchmarks/run.py`) from `benchmarks/results.json`. Every row times ours "
             "and a reference in the same run, interleaved call by call after warm-up; times are medians with "
             "the 25–75th percentile spread; ratio = reference time per unit / our time per unit (> 1: ours "
             "is faster). Never asserted in tests.", ""]
    for suite in [s for s in SUITES if s in results["suites"]] + sorted(set(results["suites"]) - set(SUITES)):
        data = results["suites"][suite]
        m = data["machine"]
        lines += [f"## {suite} (`benchmarks/bench_{suite}.py`)", "",
                  f"Run {data['date']} in {data['seconds']:.0f} s on {m['cpu']}, {m['usable_cores']} cores "
                  f"({', '.join(m['simd'])}), load {m['load_average'][0]}; Python {m['python']}, TensorFlow "
                  f"{m['tensorflow']}, NumPy {m['numpy']}. Measured float32 matmul peak (roofline): "
                  f"**{m['roofline_gflops']:.0f} GFLOP/s** (TF {m['matmul']['tensorflow_gflops']:.0f}, NumPy "
                  f"{m['matmul']['numpy_gflops']:.0f}).", ""]
        for rec in data["records"]:
            lines += [f"### {rec['title']}", ""]
            if rec.get("detail"):
                lines += [rec["detail"], ""]
            if "reference" in rec:
                unit = rec["unit"]
                lines += [f"| | implementation | median per call | p25–p75 | p95 | {unit} | ratio |",
                          "|---|---|---|---|---|---|---|"]
                ref = rec["reference"]
                lines.append(f"| reference | {ref['label']} | {_time(ref['median_s'])} | {_time(ref['p25_s'])}–"
                             f"{_time(ref['p75_s'])} | {_time(ref['p95_s'])} | {_fmt(ref['rate'])} | 1 |")
                for row in rec["ours"]:
                    lines.append(f"| ours | {row['label']} | {_time(row['median_s'])} | {_time(row['p25_s'])}–"
                                 f"{_time(row['p75_s'])} | {_time(row['p95_s'])} | {_fmt(row['rate'])} | "
                                 f"**{_fmt(row['ratio'])}×** |")
                runs = f", in runs of {rec['block']}" if rec.get("block", 1) > 1 else ""
                lines += ["", f"{rec['reps']} timed calls per implementation after {rec['warmup']} warm-up{runs}.", ""]
            else:
                lines += ["| quantity | value |", "|---|---|"]
                lines += [f"| {k} | {_fmt(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v} |"
                          for k, v in rec["values"].items()]
                lines.append("")
            if rec["goals"]:
                lines += ["Goals: " + _goal_cell(rec["goals"]), ""]
        if data["notes"]:
            lines += ["### Findings", ""] + [n + "\n" for n in data["notes"]]
    return "\n".join(lines).rstrip() + "\n"


def update_docs(results: dict) -> list[Path]:
    """Fill the model cards' benchmark tables and the README's headline figures from ``results``."""
    written, bullets = [], []
    for suite in SUITES:
        if suite not in results["suites"] or results["suites"][suite].get("quick"):
            continue  # a --quick run is a smoke test: it does not rewrite the documentation
        module = importlib.import_module(f"bench_{suite}")
        data = results["suites"][suite]
        card = card_of(suite)
        if hasattr(module, "card") and card is not None:
            replace_block(card, f"bench:{suite}", module.card(data))
            written.append(card)
        if hasattr(module, "headline"):
            bullets += [f"- {line}" for line in module.headline(data)]
    if bullets:
        replace_block(README, "bench:headline", "\n".join(bullets))
        written.append(README)
    return written


def _profiled(fn, bench, folder: Path, suite: str) -> None:
    import cProfile
    import io
    import pstats

    folder.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    profiler.runcall(fn, bench)
    profiler.dump_stats(folder / f"{suite}.prof")
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(60)
    (folder / f"{suite}.txt").write_text(text.getvalue())
    print(f"[bench] profile of {suite}: {folder / f'{suite}.txt'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", help=f"suites to run (default: all of {', '.join(SUITES)})")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run, noisier figures)")
    parser.add_argument("--out", default=str(HERE), help="folder for results.json and results.md")
    parser.add_argument("--profile", metavar="DIR",
                        help="also profile each suite with cProfile: DIR/<suite>.prof and DIR/<suite>.txt (top 60 "
                             "by cumulative time; the timings then include the profiler's overhead)")
    args = parser.parse_args(argv)
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {unknown}; suites: {', '.join(SUITES)}")
    suites = args.suites or list(SUITES)

    from harness import Bench, machine

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "results.json"
    results = json.loads(json_path.read_text()) if json_path.is_file() else {"suites": {}}
    started = time.perf_counter()
    for suite in suites:
        print(f"[bench] {suite}", flush=True)
        t0 = time.perf_counter()
        facts = machine()
        bench = Bench(suite, facts["roofline_gflops"], quick=args.quick)
        module = importlib.import_module(f"bench_{suite}")
        if args.profile:
            _profiled(module.run, bench, Path(args.profile), suite)
        else:
            module.run(bench)
        results["suites"][suite] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": facts,
                                    "seconds": time.perf_counter() - t0, "quick": args.quick, **bench.to_json()}
        tmp = json_path.with_suffix(".json.tmp")  # after every suite: a later failure keeps what was measured
        tmp.write_text(json.dumps(results, indent=1, ensure_ascii=False))
        tmp.replace(json_path)
    md = out / "results.md"
    tmp = md.with_suffix(".md.tmp")
    tmp.write_text(render(results))
    tmp.replace(md)
    if Path(args.out).resolve() == HERE:
        for path in update_docs(results):
            print(f"[bench] updated {path}")
    print(f"[bench] wrote {json_path} and {md} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
