"""The reproduce recipe end to end on a small FACEGOOD-layout folder: report, export, preview, resume, publish;
the synthetic split; the committed presets are what ``publish`` writes for their recorded runs."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from helpers import check_recipe_republishes_and_resumes


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_pipeline_runs_every_stage_and_resumes(tmp_path):
    from zoo.datasets.synthetic.corpus import write_facegood_subset
    from zoo.datasets.video import read_video, read_video_audio
    from zoo.pipelines import audio2face as pipeline

    data = tmp_path / "data"
    ids = write_facegood_subset(data, 8, seed=0)
    out = tmp_path / "run"
    argv = ["--out", str(out), "--data", str(data), "--preset", "tiny", "--epochs", "2", "--budget-minutes", "0",
            "--test-clips", ",".join(ids[:2]), "--quiet", "--publish", str(tmp_path / "published")]
    assert pipeline.main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report) >= {"prepare", "train", "evaluate", "export", "preview", "machine"}
    assert report["train"]["epochs_trained"] == 1 and report["train"]["stopped_by_budget"]
    assert report["evaluate"]["split"] == "test" and report["evaluate"]["clips"] == sorted(ids[:2])
    assert not set(ids[:2]) & set(report["train"]["train_clips"] + report["train"]["val_clips"])
    assert set(report["evaluate"]["bar"]["checks"]) == {"articulation_r", "articulation_mse_ratio"}  # still checked
    assert all(p["max_abs_diff"] <= 1e-4 for p in report["export"]["parity"])
    md = (out / "report.md").read_text()
    assert md.startswith("**Training stopped by the time budget after 1 of 2 epochs") and "mean pose" in md
    frames, fps = read_video(report["preview"]["video"])
    assert fps == 30 and len(frames) > 10 and frames.shape[2] == 2 * frames.shape[1]  # prediction | reference
    assert np.abs(read_video_audio(report["preview"]["video"], 16000)).max() > 0.01  # the speech is muxed in
    published = tmp_path / "published"
    meta = json.loads((published / "metadata.json").read_text())
    assert meta["model"] == "audio2face" and set(meta["sha256"]) >= {"config.json", "model.weights.h5", "model.tflite"}
    assert (published / "README.md").is_file() and meta["metrics"]["clips_sha256"] == pipeline.clips_digest(ids[:2])
    lite = meta["tflite"]  # the float32 TFLite file, measured against Keras on the shipped parity sentence
    assert lite["file"] == "model.tflite" and lite["parity_audio"] == "zoo.core.parity_speech()"
    assert 0 <= lite["max_abs_diff"] <= lite["tolerance"] == 1e-4 and lite["examples"] > 10
    assert f"max |Δ| {lite['max_abs_diff']:.1e}" in (published / "README.md").read_text()
    # the TFLite step converts in a fresh process with pinned settings (``TFLITE_ENV``): even model.tflite is equal
    other = ["--out", str(out), "--data", str(data), "--preset", "tiny", "--epochs", "3"]
    files = ("metadata.json", "README.md", "run.json", "model.tflite")
    check_recipe_republishes_and_resumes(pipeline, argv, out, published, other, files=files)


def test_synthetic_split_is_by_utterance_and_by_speaker(tmp_path):
    from zoo.datasets.synthetic.corpus import write_facegood_subset
    from zoo.pipelines import audio2face as pipeline

    ids = write_facegood_subset(tmp_path, 40, seed=0)
    val, test = pipeline.synthetic_split(tmp_path, seed=0)
    assert (val, test) == pipeline.synthetic_split(tmp_path, seed=0)
    speaker = [i for i in ids if f"_{pipeline.TEST_SPEAKER}_" in i]
    assert len(speaker) == 10 and set(speaker) <= set(test) and not set(speaker) & set(val)
    seen_test = [i for i in test if i not in speaker]
    assert len(val) == len(seen_test) == round(0.15 * 30) and not set(val) & set(test)


# the real preset in the slow tier: the default tier's 20-minute budget (CI runs the slow tier too)
@pytest.mark.parametrize("name", ["synthetic", pytest.param("facegood_real", marks=pytest.mark.slow)])
def test_committed_preset_is_what_publish_writes_for_its_recorded_run(name, tmp_path):
    """metadata.json, README.md and run.json of a committed preset, byte for byte, from its run.json and its weights.

    model.tflite is compared by what it computes first: TFLite conversion is not byte-deterministic in general (the
    converter names a folded constant differently from process to process), so ``publish`` converts in a fresh
    process with a fixed hash seed and oneDNN setting (``TFLITE_ENV``), which makes the bytes, and so metadata's
    sha256 of them, reproducible."""
    import zoo
    from zoo.audio2face import features as feats
    from zoo.core import parity_speech
    from zoo.core.runners import TFLiteRunner
    from zoo.pipelines import audio2face as pipeline

    folder = zoo.PRETRAINED / "audio2face" / name
    pipeline.republish(folder, tmp_path / name)
    audio, rate = parity_speech()
    features = {"features": feats.frame_features(feats.prepare_audio(audio, rate)).astype(np.float32)}
    runners = [TFLiteRunner(f / "model.tflite") for f in (folder, tmp_path / name)]
    if "emotion" in runners[0].input_shapes:
        features["emotion"] = np.zeros((len(features["features"]), runners[0].input_shapes["emotion"][1]), np.float32)
    committed, again = (r(features)["blendshapes"] for r in runners)
    # a stale or edited file differs by ≫ 1e-3; the converter's constant folding runs on the host CPU, so a file
    # converted on another CPU differs by float32 round-off (1.5e-5 on outputs ~2.4 seen between two Xeons)
    assert np.abs(committed - again).max() <= 1e-4, "the committed model.tflite computes other numbers"
    committed_meta, again_meta = (json.loads((f / "metadata.json").read_text()) for f in (folder, tmp_path / name))
    readmes = [(f / "README.md").read_text() for f in (folder, tmp_path / name)]
    if again_meta["sha256"]["model.tflite"] != committed_meta["sha256"]["model.tflite"]:
        # converted on another CPU (same numbers within round-off, checked above): the file's hash and its parity
        # figures are the host's; everything else must still be what publish writes
        for meta in (committed_meta, again_meta):
            del meta["sha256"]["model.tflite"], meta["tflite"]["max_abs_diff"], meta["tflite"]["mean_abs_diff"]
        readmes = [re.sub(r"(TFLite:.*?)max \|Δ\| \S+, mean \S+", r"\1max |Δ| …, mean …", t) for t in readmes]
    assert again_meta == committed_meta, f"{folder / 'metadata.json'} was edited"
    assert readmes[1] == readmes[0], f"{folder / 'README.md'} was edited"
    assert (tmp_path / name / "run.json").read_text() == (folder / "run.json").read_text(), f"{folder}/run.json edited"


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_search_chooses_on_validation_and_retrains_on_train_and_validation(tmp_path, monkeypatch):
    """``--search``: each candidate early-stops on the validation clip, the lowest validation MSE wins, and the
    final model is retrained on training + validation clips for the winner's best epoch count; the test clip is
    in no training set and is the only clip evaluated."""
    from zoo.datasets.synthetic.corpus import write_facegood_subset
    from zoo.pipelines import audio2face as pipeline

    monkeypatch.setattr(pipeline, "CANDIDATES", {"plain": {}, "narrow": {"hidden_units": 8}})
    monkeypatch.setattr(pipeline, "SEARCH_EPOCHS", 3)
    ids = write_facegood_subset(tmp_path / "data", 6, seed=0)
    out = tmp_path / "run"
    assert pipeline.main(["--out", str(out), "--data", str(tmp_path / "data"), "--preset", "tiny", "--search",
                          "--val-clips", ids[0], "--test-clips", ids[1], "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    tr, search = report["train"], report["train"]["search"]
    assert [c["candidate"] for c in search] == ["plain", "narrow"]
    winner = min(search, key=lambda c: c["val"]["val_mse"])
    assert tr["candidate"] == winner["candidate"] and tr["epochs_trained"] == winner["best_epoch"] == tr["best_epoch"]
    assert ids[0] in tr["train_clips"] and ids[1] not in tr["train_clips"] and tr["val_clips"] == [ids[0]]
    assert report["evaluate"]["clips"] == [ids[1]] and report["evaluate"]["split"] == "test"
