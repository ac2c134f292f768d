"""EveNet: fast generation (cached states) against the original's naive loop, live stepping, and training.

* generation at RF 3578 (``master``, D = 52 ARKit keys): per frame, the naive loop (the full network over the last
  RF frames, as generate.py, after a history longer than the RF: its steady state) against ``Generator.fast`` (one
  ``tf.while_loop`` over the schedule) and ``Stream.next`` (one call a frame, the live path); their cost per frame
  does not depend on the history. Goal: fast ≥ 100× naive.
* fast generation at batch 1 in frames/s against the 48 fps the model animates at. Goal ≥ 20× real time.
* training: chunks of 1,000 target frames (+ RF − 1 of context) a second, batch 1 (the original's) against
  batch 8 (this project's default), ``master`` on random data with the corpus's shape.

Run by ``make bench`` / ``zoo bench evenet`` (benchmarks/run.py).
"""
from __future__ import annotations

import numpy as np
from harness import Case

FPS = 48.0
KEYS = 52
NAIVE_FRAMES = 3  # frames a naive call makes (each a full pass over 3578 frames)
FAST_FRAMES = 480  # frames a fast call makes (10 s at 48 fps)


def _setup(preset_name: str = "master"):
    import keras

    from zoo.evenet.config import preset
    from zoo.evenet.generate import Generator
    from zoo.evenet.model import build_model

    keras.utils.set_random_seed(0)
    config = preset(preset_name, data_dim=KEYS)
    generator = Generator(build_model(config))
    rng = np.random.default_rng(0)
    history = config.receptive_field + 10
    seed = (rng.random((history, KEYS)).astype(np.float32), rng.integers(0, 11, history), rng.integers(0, 56, history))
    return config, generator, seed


def run(bench) -> None:
    config, g, seed = _setup()
    rng = np.random.default_rng(1)
    emotion = np.full(FAST_FRAMES, 5, np.int32)
    phoneme = np.repeat(rng.integers(0, 56, FAST_FRAMES // 6), 6).astype(np.int32)
    stream = g.stream(seed)
    live_frames = 48

    def live():
        for e, p in zip(emotion[:live_frames], phoneme[:live_frames]):
            stream.next(int(e), int(p))

    record = bench.compare(
        "generation", f"generate shape-key frames, master (RF {config.receptive_field} frames, D = {KEYS}), batch 1, "
                      "history longer than the RF", "frames/s",
        Case("naive: full network over the last RF frames per frame (the original generate.py)",
             lambda: g.naive(emotion[:NAIVE_FRAMES], phoneme[:NAIVE_FRAMES], seed), work=NAIVE_FRAMES),
        [Case("fast: `Generator.fast` (cached layer inputs, one tf.while_loop)",
              lambda: g.fast(emotion, phoneme), work=FAST_FRAMES),
         Case("live: `Stream.next` (one call a frame)", live, work=live_frames)],
        reps=bench.reps(5), warmup=1,
        detail="Interleaved; the naive loop makes 3 frames a call after a history longer than the RF (its cost grows "
               "with the history up to the RF, so this is its steady state); fast makes 480 a call from nothing and "
               "live 48 after the same history (their cost per frame does not depend on the history). Both "
               "generators give the same frames to 1e-5 (tests/evenet/test_generate.py).")
    fast, streamed = record["ours"]
    bench.goal(record, "fast vs naive generation at RF 3578", fast["ratio"], 100, unit="×")
    bench.goal(record, "fast generation at batch 1, × real time at 48 fps", fast["rate"] / FPS, 20, unit="×")
    bench.goal(record, "live stepping (one call a frame), × real time at 48 fps", streamed["rate"] / FPS, 1, unit="×")

    from zoo.evenet.train import TrainingState, batch_arrays, make_chunks, take_sequence

    state = TrainingState.create(config)
    takes = [take_sequence(config, f"t{i}", rng.random((8000, KEYS)), rng.integers(0, 11, 8000),
                           rng.integers(0, 56, 8000)) for i in range(2)]
    chunks = make_chunks([len(t) for t in takes], config.receptive_field, 1000)
    full = [c for c in chunks if c.first_target - c.start == config.receptive_field - 1]
    import tensorflow as tf

    step = tf.function(state.train_step, reduce_retracing=True)
    one, eight = batch_arrays(takes, full[:1]), batch_arrays(takes, (full * 8)[:8])
    bench.compare(
        "training", f"training steps, master, chunks of 1,000 targets + {config.receptive_field - 1} context frames",
        "chunks/s", Case("batch 1 (the original's)", lambda: step(one), work=1),
        [Case("batch 8 (this project's default)", lambda: step(eight), work=8)], reps=bench.reps(3), warmup=1,
        detail="One optimisation step (forward, backward, Adam) a call; the loss covers the 1,000 targets of each "
               "chunk.")


def _rows(data: dict) -> dict:
    return {r["name"]: r for r in data["records"]}


def card(data: dict) -> str:
    """The model card's speed table, from this suite's results."""
    r = _rows(data)
    gen, train = r["generation"], r["training"]
    naive, (fast, live) = gen["reference"], gen["ours"]
    lines = ["| what | how | figure | goal |", "|---|---|---|---|",
             f"| generation, master (RF 3578), batch 1 | naive loop (the original) | {naive['rate']:.2f} frames/s | |",
             f"| | `Generator.fast` | {fast['rate']:,.0f} frames/s = {fast['rate'] / FPS:.1f}× real time at 48 fps; "
             f"{fast['ratio']:,.0f}× the naive loop | ≥ 100× naive, ≥ 20× real time |",
             f"| | `Stream.next` (live) | {live['rate']:,.0f} frames/s = {live['rate'] / FPS:.1f}× real time | |",
             f"| training, master | batch 1 / batch 8 | {train['reference']['rate']:.2f} / "
             f"{train['ours'][0]['rate']:.2f} chunks/s of 1,000 frames | |"]
    m = data["machine"]
    lines += ["", f"Measured by `make bench` ({data['date'][:10]}, {m['cpu']}, {m['usable_cores']} cores); the "
                  "ratios are of interleaved calls in one run (benchmarks/harness.py)."]
    return "\n".join(lines)
