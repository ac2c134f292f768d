"""The landmark_dcgan benchmark suite (benchmarks/bench_landmark_dcgan.py): its input, its references doing the
original's work, and a smoke run at toy sizes that fills every record and the model card's block (no wall-clock
assertions)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from zoo import cli

sys.path.insert(0, str(cli.benchmarks_dir()))

import bench_landmark_dcgan as bench_ld  # noqa: E402
import harness  # noqa: E402


def test_speech_wav_is_the_parity_sentence_at_48k_pcm16(tmp_path):
    import soundfile as sf

    from zoo.core import parity_speech
    from zoo.datasets import resample

    first = bench_ld.speech_wav(tmp_path / "a.wav", 3.5)
    assert bench_ld.speech_wav(tmp_path / "b.wav", 3.5).read_bytes() == first.read_bytes()
    info = sf.info(first)
    assert info.samplerate == 48000 and info.channels == 1 and info.subtype == "PCM_16"
    audio, _ = sf.read(first, dtype="float32")
    assert audio.shape == (168000,)
    sentence = resample(*parity_speech(), 48000)
    assert 2.5 * 48000 < len(sentence) < 3.5 * 48000
    np.testing.assert_allclose(audio[:len(sentence)], sentence, atol=1 / 32768)
    np.testing.assert_array_equal(audio[len(sentence):], audio[:len(audio) - len(sentence)])  # repeated


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """(config, weights file, the model whose weights it holds): weights unlike a fresh model's seeded init."""
    import keras

    from zoo.landmark_dcgan.config import preset
    from zoo.landmark_dcgan.model import build_cnn

    config = preset("original")
    model = build_cnn(config)
    rng = np.random.default_rng(7)
    model.set_weights([w + rng.normal(0, 0.05, w.shape).astype(np.float32) for w in model.get_weights()])
    path = tmp_path_factory.mktemp("ckpt") / "cnn.weights.h5"
    model.save_weights(path)
    keras.utils.set_random_seed(0)
    return config, path, model


def test_restore_per_frame_reference_reads_the_checkpoint_every_frame(checkpoint, tmp_path):
    from zoo.landmark_dcgan import features as feats
    from zoo.landmark_dcgan.model import build_cnn

    config, path, model = checkpoint
    features, _ = feats.load_features(bench_ld.speech_wav(tmp_path / "s.wav", 0.1), config)
    restored = bench_ld.restore_and_predict(config, path, features)
    assert restored.shape == (len(features), 136) == (4, 136)
    np.testing.assert_allclose(restored, np.asarray(model(features, training=False)), atol=1e-6)
    fresh = np.asarray(build_cnn(config)(features, training=False))
    assert np.abs(fresh - restored).max() > 1e-3  # the file's weights, not the initialiser's


def test_original_landmark_gif_writes_predict_py_outputs(checkpoint, tmp_path):
    from PIL import Image

    config, path, _ = checkpoint
    wav = bench_ld.speech_wav(tmp_path / "s.wav", 0.1)  # 4800 samples: floor(4800 / 1440) = 3 frames
    frames = bench_ld.original_landmark_gif(config, path, wav, tmp_path / "out")
    assert frames == 3
    assert sorted(p.name for p in (tmp_path / "out").glob("predict*.png")) == [f"predict{k}.png" for k in (1, 2, 3)]
    with Image.open(tmp_path / "out" / "landmarks.gif") as gif:
        assert gif.n_frames == 3 and gif.size == (640, 480)
        assert gif.info["duration"] == pytest.approx(1000 / 24, abs=2)  # GIF stores whole centiseconds


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_smoke_run_fills_every_record_and_the_card():
    bench = harness.Bench("landmark_dcgan", roofline_gflops=100.0, log=lambda *_: None)
    bench_ld.run(bench, bench_ld.SMOKE)
    records = {r["name"]: r for r in bench.records}
    assert list(records) == ["cnn_batch1", "cnn_batch", "cnn_cost", "generator_64", "generator_cost",
                             "wav_to_video", "video_stages"]
    big, cost = records["cnn_batch"], records["cnn_cost"]["values"]
    assert [row["work"] for row in big["ours"]] == [8, 8, 8, 8] and records["cnn_batch1"]["ours"][0]["work"] == 2
    flops = cost["FLOP per frame (TF profiler, multiply-add = 2)"]
    assert 6e6 < flops < 8e6  # 6.85 MFLOP: the convolutions and dense layers of spec §3
    goal, bf16_goal = big["goals"]
    assert goal["target"] == 500 and goal["value"] == pytest.approx(big["ours"][0]["rate"] * 0.03)
    assert bf16_goal["target"] == 500 and bf16_goal["value"] == pytest.approx(big["ours"][3]["rate"] * 0.03)
    assert 0 < cost["bfloat16 vs float32, the committed preset: max |Δ| (normalised units)"] < 1e-2
    assert len(bench.notes) == (not goal["met"])  # a missed goal is explained in results.md's Findings
    rate = big["ours"][0]["rate"]
    assert cost["`fast_landmarks` at batch 8: fraction of the roofline"] == pytest.approx(rate * flops / 1e9 / 100)
    keras_rate = big["ours"][1]["rate"]
    assert cost["Keras model in a `tf.function` at batch 8: × real time"] == pytest.approx(keras_rate * 0.03)
    gen = records["generator_cost"]["values"]
    assert gen["64²: images/s at batch 2"] == records["generator_64"]["ours"][0]["rate"]
    assert 1e6 < gen["64²: FLOP per image (TF profiler)"] < 77e6  # the tiny preset's narrow G, below gan64's
    stages = records["video_stages"]["values"]
    parts = [v for k, v in stages.items() if k.endswith(", ms") and not k.startswith("sum")]
    assert len(parts) == 4 and stages["sum of the stages, ms"] == pytest.approx(sum(parts))
    assert records["video_stages"]["setup"] == {"preset": "tiny", "image_size": 64, "frames": 17,  # ceil(0.5 s / 30 ms)
                                                "seconds": 0.5}
    video = records["wav_to_video"]
    assert video["reference"]["work"] == 0.1 and [row["work"] for row in video["ours"]] == [0.5, 0.5]

    data = {"date": "2026-01-01T00:00:00+00:00", "machine": {"cpu": "Test CPU", "usable_cores": 2},
            **bench.to_json()}
    text = bench_ld.card(data)
    lines = text.splitlines()
    assert lines[0] == "| what | how | figure | goal |" and "| landmark CNN, batch 8 |" in text
    assert "| generator 64², inference mode | batch 2 / batch 1 |" in text
    assert "| WAV → talking-face video, 64² faces |" in text and "≥ 500× real time" in text
    assert lines[-1].startswith("Measured by `make bench` (2026-01-01, Test CPU, 2 cores)")
    assert sum(line.startswith("| ") for line in lines) == 8  # header, 5 CNN rows, 1 generator row, the video row
