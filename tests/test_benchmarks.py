"""The benchmark harness's arithmetic and reports, and the benchmarks' references (no wall-clock assertions)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from zoo import cli

sys.path.insert(0, str(cli.benchmarks_dir()))

import bench_audio2face  # noqa: E402
import harness  # noqa: E402
import run as bench_run  # noqa: E402


class FakeClock:
    """``time.perf_counter`` that advances only when a benchmarked function says so."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def test_compare_interleaves_rotates_and_computes_ratios(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(harness.time, "perf_counter", clock)
    calls = []

    def worker(name, seconds):
        def fn():
            calls.append(name)
            clock.advance(seconds)
        return fn

    bench = harness.Bench("t", roofline_gflops=100.0, log=lambda *_: None)
    record = bench.compare("x", "X", "items/s", harness.Case("ref", worker("ref", 8.0), work=2),
                           [harness.Case("fast", worker("fast", 1.0), work=4),
                            harness.Case("slow", worker("slow", 4.0), work=1)], reps=4, warmup=2)
    assert calls[:6] == ["ref", "ref", "fast", "fast", "slow", "slow"]  # warm-up: every case
    rounds = [calls[6 + 3 * r:9 + 3 * r] for r in range(4)]
    assert [r[0] for r in rounds] == ["ref", "fast", "slow", "ref"]  # the first place rotates
    assert all(sorted(r) == ["fast", "ref", "slow"] for r in rounds)
    ref, (fast, slow) = record["reference"], record["ours"]
    assert ref["median_s"] == 8.0 and ref["rate"] == 0.25 and ref["calls"] == 4
    assert fast["rate"] == 4.0 and fast["ratio"] == pytest.approx(16.0)  # 4 s per item vs 0.25 s per item
    assert slow["ratio"] == pytest.approx(1.0)
    assert bench.goal(record, "fast vs ref", fast["ratio"], 20, unit="×") is False
    assert bench.goal(record, "slow p50", slow["median_s"], 5.0, higher_is_better=False) is True
    assert [g["met"] for g in record["goals"]] == [False, True]


def test_compare_in_blocks(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(harness.time, "perf_counter", clock)
    calls = []
    bench = harness.Bench("t", roofline_gflops=1.0, log=lambda *_: None)
    record = bench.compare("x", "X", "f/s", harness.Case("a", lambda: calls.append("a") or clock.advance(1)),
                           [harness.Case("b", lambda: calls.append("b") or clock.advance(1))], reps=5, warmup=0,
                           block=2)
    assert "".join(calls) == "aabb" + "bbaa" + "ab"  # runs of 2, rotating; the last round is cut to 5 calls
    assert record["reference"]["calls"] == record["ours"][0]["calls"] == 5


def test_percentiles_and_spread():
    stats = harness.Stats("a", 10.0, times=[1.0, 2.0, 3.0, 4.0, 100.0])
    s = stats.summary()
    assert s["median_s"] == 3.0 and s["p25_s"] == 2.0 and s["p75_s"] == 4.0
    assert s["spread"] == pytest.approx(2.0 / 3.0) and s["p95_s"] > 4.0 and s["rate"] == pytest.approx(10 / 3)


def test_render_writes_tables_goals_machine_and_findings():
    machine = {"cpu": "Test CPU", "usable_cores": 2, "simd": ["avx2"], "load_average": [0.5, 0.5, 0.5],
               "python": "3.11", "tensorflow": "2.21.0", "numpy": "2.4", "roofline_gflops": 200.0,
               "matmul": {"tensorflow_gflops": 190.0, "numpy_gflops": 200.0}}
    row = {"label": "ours", "work": 1, "calls": 5, "median_s": 0.002, "p5_s": 0.001, "p25_s": 0.0015,
           "p75_s": 0.0025, "p95_s": 0.004, "rate": 500.0, "spread": 0.5}
    suite = {"date": "2026-11-21", "seconds": 12.0, "machine": machine, "notes": ["A finding."]}
    results = {"suites": {"audio2face": {**suite, "records": [
        {"name": "s", "title": "Streaming", "unit": "frames/s", "detail": "", "reps": 5, "warmup": 1,
         "reference": {**row, "label": "naive", "median_s": 0.02, "rate": 50.0}, "ours": [{**row, "ratio": 10.0}],
         "goals": [{"text": "p50", "value": 2.0, "target": 2.0, "unit": " ms", "higher_is_better": False,
                    "met": True}]},
        {"name": "m", "title": "Memory", "values": {"ratio": 1.01}, "detail": "d",
         "goals": [{"text": "RSS", "value": 1.2, "target": 1.1, "unit": "×", "higher_is_better": False,
                    "met": False}]}]}}}
    md = bench_run.render(results)
    assert "## audio2face" in md and "Test CPU" in md and "**200 GFLOP/s**" in md
    assert "| ours | ours | 2.00 ms | 1.50 ms–2.50 ms | 4.00 ms | 500 | **10.0×** |" in md
    assert "✅ p50: 2.00 ms (≤ 2.00 ms)" in md and "❌ RSS: 1.20× (≤ 1.10×)" in md
    assert "### Findings" in md and "A finding." in md


def test_runner_and_cli_refuse_unknown_suites(capsys):
    with pytest.raises(SystemExit) as exc:
        bench_run.main(["no_such_suite"])
    assert exc.value.code == 2
    assert "unknown suite" in capsys.readouterr().err
    assert cli.main(["bench", "no_such_suite"]) == 2


def _speech_windows(n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(8320 * n) / 16000
    x = 0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.02 * rng.standard_normal(t.size)
    return (np.round(x * 32767) / 32768).astype(np.float32).reshape(n, 8320)


def test_lpc_reference_port_computes_our_feature():
    from zoo.audio2face import features as F

    windows = _speech_windows(2, seed=3)
    windows[1, :3000] = 0.0  # silent subframes: [1, 0, …, 0] on both sides
    ours = F.lpc_facegood(windows)[..., 0]
    reference = np.stack([bench_audio2face.reference_window_features(w) for w in windows])
    assert reference.shape == ours.shape
    assert np.array_equal(reference, ours)  # sequential sums on both sides: the DLL's bits
    assert np.array_equal(reference[1, :, 0], np.eye(32)[0])


def test_documented_benchmark_blocks_are_what_the_results_file_renders():
    """The model cards' ``bench:<suite>`` blocks and the README headline are written from results.json: a figure
    edited by hand, or a results file committed without regenerating the docs, fails here."""
    import importlib
    import json

    from zoo.core.cards import read_block

    results = json.loads((cli.benchmarks_dir() / "results.json").read_text())
    bullets = []
    for suite, data in results["suites"].items():
        module = importlib.import_module(f"bench_{suite}")
        card = bench_run.card_of(suite)
        if hasattr(module, "card") and card is not None:
            assert read_block(card, f"bench:{suite}") == module.card(data).strip(), card
        if hasattr(module, "headline"):
            bullets += [f"- {line}" for line in module.headline(data)]
    assert read_block(bench_run.README, "bench:headline") == "\n".join(bullets).strip()


def test_whole_process_benchmark_input_and_command(tmp_path):
    """(g)'s WAV is 60 s of the shipped parity sentence at 16 kHz PCM_16, the same bytes every time; its command is
    the user's `zoo audio2face predict` with the engine under test."""
    import soundfile as sf

    from zoo.audio2face import features as F
    from zoo.core import parity_speech

    first = bench_audio2face.process_wav(tmp_path / "a.wav")
    assert bench_audio2face.process_wav(tmp_path / "b.wav").read_bytes() == first.read_bytes()
    audio, rate = sf.read(first, dtype="float32")
    assert rate == 16000 and audio.shape == (bench_audio2face.SECONDS * 16000,)
    sentence = F.prepare_audio(*parity_speech())
    np.testing.assert_allclose(audio[:len(sentence)], sentence, atol=1 / 32768)
    np.testing.assert_array_equal(audio[len(sentence):2 * len(sentence)], audio[:len(sentence)])
    command = bench_audio2face.predict_command("synthetic", first, tmp_path / "o.csv", "litert")
    assert command[1:5] == ["-m", "zoo.cli", "audio2face", "predict"] and command[-2:] == ["--engine", "litert"]
    assert command[command.index("--model") + 1].endswith("pretrained/audio2face/synthetic")
