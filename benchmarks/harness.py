"""Side-by-side benchmark harness: ours and a reference in the same run, alternating, reported as ratios.

A shared machine is noisy, so no absolute time is trusted alone: every benchmark times our implementation
and a reference doing the same work in the same process, interleaved call by call (the order rotates each
round), after untimed warm-up calls. Per case it reports the median, the 5/25/75/95th percentiles of the
per-call times, the rate ``work / median`` (frames/s, seconds of audio per second, …) and the ratio

    ratio = (reference median / reference work) / (our median / our work)   (> 1: ours is faster per unit).

``Bench`` also records the machine (CPU model, cores, Python/TensorFlow/NumPy versions, load) and a measured
float32 matmul peak in GFLOP/s, the roofline against which model throughput is read. ``benchmarks/run.py``
collects the suites' records into ``results.json`` and renders ``results.md`` from it.
"""
from __future__ import annotations

import contextlib
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Case:
    """One implementation under test: ``fn()`` does ``work`` units of work per call."""

    label: str
    fn: Callable[[], object]
    work: float = 1.0


@dataclass
class Stats:
    label: str
    work: float
    times: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        t = np.asarray(self.times)
        p5, p25, p50, p75, p95 = np.percentile(t, [5, 25, 50, 75, 95])
        return {"label": self.label, "work": self.work, "calls": len(t), "median_s": float(p50),
                "p5_s": float(p5), "p25_s": float(p25), "p75_s": float(p75), "p95_s": float(p95),
                "rate": self.work / float(p50), "spread": float((p75 - p25) / p50)}


def _cpuinfo(key: str) -> str | None:
    """The first ``key: value`` of /proc/cpuinfo (None where there is no such file or line)."""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    return None


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or platform.processor())."""
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    return set((_cpuinfo("flags") or "").split())


def matmul_peak(size: int = 2048, reps: int = 7) -> dict:
    """Measured float32 matmul throughput (GFLOP/s = 2·n³ / best time) in TensorFlow and NumPy."""
    import tensorflow as tf

    a = tf.random.normal((size, size), seed=1)
    b = tf.random.normal((size, size), seed=2)
    tf_matmul = tf.function(lambda: tf.matmul(a, b))
    tf_matmul().numpy()
    an, bn = a.numpy(), b.numpy()
    _ = an @ bn
    best_tf = best_np = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        tf_matmul().numpy()
        best_tf = min(best_tf, time.perf_counter() - start)
        start = time.perf_counter()
        _ = an @ bn
        best_np = min(best_np, time.perf_counter() - start)
    flop = 2.0 * size ** 3
    return {"size": size, "tensorflow_gflops": flop / best_tf / 1e9, "numpy_gflops": flop / best_np / 1e9}


def machine() -> dict:
    """Facts that make the figures comparable: CPU, cores, library versions, load, matmul roofline."""
    import keras
    import tensorflow as tf

    peak = matmul_peak()
    flags = cpu_flags()
    return {
        "cpu": cpu_model(), "machine": platform.machine(), "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "simd": [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16") if f in flags],
        "python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
        "numpy": np.__version__, "load_average": [round(x, 2) for x in os.getloadavg()],
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1 (default)"),
        "matmul": peak, "roofline_gflops": max(peak["tensorflow_gflops"], peak["numpy_gflops"]),
    }


class Bench:
    """Runs comparisons and collects records for one suite (``records``, ``notes``)."""

    def __init__(self, suite: str, roofline_gflops: float, quick: bool = False, log=print):
        self.suite, self.roofline_gflops, self.quick, self.log = suite, roofline_gflops, quick, log
        self.records: list[dict] = []
        self.notes: list[str] = []

    def reps(self, n: int) -> int:
        """``n`` repetitions, or a third of them (at least 3) with ``--quick``."""
        return max(3, n // 3) if self.quick else n

    def compare(self, name: str, title: str, unit: str, reference: Case, ours: list[Case], *, reps: int = 5,
                warmup: int = 1, block: int = 1, detail: str = "") -> dict:
        """Time ``reference`` and every case of ``ours`` ``reps`` times each, interleaved, and record them.

        Each round runs every case ``block`` times in a row (``block`` > 1 for per-call latencies, so one engine's
        idle worker threads do not spin into the next engine's call), rotating which case goes first.
        """
        cases = [reference, *ours]
        stats = [Stats(c.label, c.work) for c in cases]
        for c in cases:
            for _ in range(warmup):
                c.fn()
        rounds = -(-reps // block)
        for r in range(rounds):
            order = list(range(len(cases)))
            order = order[r % len(order):] + order[:r % len(order)]  # rotate: nobody always goes first
            for i in order:
                for _ in range(min(block, reps - r * block)):
                    start = time.perf_counter()
                    cases[i].fn()
                    stats[i].times.append(time.perf_counter() - start)
        ref = stats[0].summary()
        rows = []
        for s in stats[1:]:
            row = s.summary()
            row["ratio"] = (ref["median_s"] / ref["work"]) / (row["median_s"] / row["work"])
            rows.append(row)
        record = {"name": name, "title": title, "unit": unit, "reference": ref, "ours": rows, "reps": reps,
                  "warmup": warmup, "block": block, "detail": detail, "goals": []}
        self.records.append(record)
        self.log(f"  {name}: reference {ref['label']} {ref['rate']:,.4g} {unit}; " + "; ".join(
            f"{row['label']} {row['rate']:,.4g} {unit} ({row['ratio']:,.3g}×)" for row in rows))
        return record

    def record(self, name: str, title: str, values: dict, detail: str = "") -> dict:
        """A measurement that is not a timing comparison (FLOP counts, memory, …)."""
        record = {"name": name, "title": title, "values": values, "detail": detail, "goals": []}
        self.records.append(record)
        self.log(f"  {name}: {values}")
        return record

    def goal(self, record: dict, text: str, value: float, target: float, higher_is_better: bool = True,
             unit: str = "") -> bool:
        """Attach a goal to a record: ``value`` against ``target``; returns whether it is met."""
        met = value >= target if higher_is_better else value <= target
        record["goals"].append({"text": text, "value": float(value), "target": float(target), "unit": unit,
                                "higher_is_better": higher_is_better, "met": bool(met)})
        self.log(f"  goal {'met' if met else 'MISSED'}: {text}: {value:,.4g}{unit} (target {target:,.4g}{unit})")
        return met

    def note(self, text: str) -> None:
        """A finding for results.md (profiles, limits), in markdown."""
        self.notes.append(text)

    def to_json(self) -> dict:
        return {"records": self.records, "notes": self.notes}


def count_flops(fn, input_signature) -> int:
    """Floating-point operations of one call of the ``tf.function``-able ``fn`` at ``input_signature``, counted by
    TensorFlow's profiler on the frozen graph (a multiply-add counts 2)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = tf.function(fn).get_concrete_function(*input_signature)
    frozen = convert_variables_to_constants_v2(concrete)
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(tf.compat.v1.profiler.profile(graph=frozen.graph, options=options).total_float_ops)


def peak_rss_mb() -> float:
    """This process' peak resident set size (VmHWM) in MiB."""
    for line in open("/proc/self/status", encoding="utf-8"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measured_line(data: dict, how: str) -> str:
    """The last line of a model card's speed table: when and where ``make bench`` measured (``how``: the method, in
    words) and which goals were missed."""
    m = data["machine"]
    missed = [g["text"] for rec in data["records"] for g in rec["goals"] if not g["met"]]
    return (f"Measured by `make bench` ({data['date'][:10]}, {m['cpu']}, {m['usable_cores']} cores); {how}; details "
            "in [benchmarks/results.md](../../benchmarks/results.md). "
            + (f"Goals missed: {'; '.join(missed)}." if missed else "All goals met."))
