"""The VOCA recipe end to end on a small corpus (slow tier): report, fine-tuning, classifier, export, preview, resume,
publish; and (default tier) the committed preset is what ``publish`` writes for its recorded run."""
from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import check_recipe_republishes_and_resumes


@pytest.mark.slow
def test_pipeline_runs_every_stage_and_resumes(tmp_path, monkeypatch):
    from zoo.datasets.video import read_video, read_video_audio
    from zoo.pipelines import voca_emotion as pipeline

    # four sentences a speaker: the training subjects' 3rd validates and 4th is test; the unseen subjects' 3rd–4th
    monkeypatch.setattr(pipeline, "SENTENCES", 4)
    monkeypatch.setattr(pipeline, "VAL_SENTENCES", ("sentence03",))
    monkeypatch.setattr(pipeline, "TEST_SENTENCES", ("sentence04",))
    monkeypatch.setattr(pipeline, "UNSEEN_SENTENCES", ("sentence03", "sentence04"))
    monkeypatch.setattr(pipeline, "PREVIEW_SECONDS", 0.5)
    out = tmp_path / "run"
    argv = ["--out", str(out), "--preset", "tiny", "--budget-minutes", "0.1", "--quiet", "--publish",
            str(tmp_path / "published")]
    assert pipeline.main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report) >= {"prepare", "train", "fine_tune", "classifier", "evaluate", "export", "preview", "machine"}
    tr = report["train"]
    assert set(tr["decoder_search"]) == {"pca_unit", "pca_sqrt_eigenvalue"} and tr["winner"] in tr["decoder_search"]
    assert tr["subjects"] == ["Synth_female_warm", "Synth_male_deep"]
    assert not {s.split("/")[0] for s in tr["train_sequences"]} & {"Synth_male_bright", "Synth_female_high"}
    assert not {s.split("/")[1] for s in tr["train_sequences"]} & {"sentence03", "sentence04"}
    ev = report["evaluate"]
    assert set(ev["bar"]["checks"]) == {f"{g}_{m}" for g in ("held_out_sentences", "unseen_subject")
                                        for m in ("lve_ratio", "lip_r", "shuffled_lip_r")} | {
        "emotion_cosine_min", "emotion_lve_ratio"}
    assert ev["unseen_subject"]["sequences"] == ["Synth_female_high/sentence03", "Synth_female_high/sentence04"]
    assert ev["held_out_sentences"]["sequences"] == ["Synth_female_warm/sentence04", "Synth_male_deep/sentence04"]
    assert ev["emotion_merge"]["trials"] == 14 and ev["classifier"]["chance"] == pytest.approx(0.125)
    assert report["fine_tune"]["subjects_from"] == {"Actor_01": "Synth_male_deep", "Actor_02": "Synth_female_warm"}
    assert all(p["max_abs_diff"] <= 1e-4 for p in report["export"]["parity"])
    for name in ("neutral", "emotional"):
        frames, fps = read_video(report["preview"][name]["video"])
        assert fps == 60 and abs(len(frames) - 30) <= 1 and frames.shape[2] == 2 * frames.shape[1]  # prediction | truth
        assert np.abs(read_video_audio(report["preview"][name]["video"], 16000)).max() > 0.01
    assert "Bar (declared before measuring)" in (out / "report.md").read_text()
    published = tmp_path / "published"
    meta = json.loads((published / "metadata.json").read_text())
    assert meta["model"] == "voca_emotion" and meta["metrics"]["unseen_subject"]["frames"] > 0
    check_recipe_republishes_and_resumes(pipeline, argv, out, published,
                                         ["--out", str(out), "--preset", "tiny", "--budget-minutes", "0.2"])


def test_committed_preset_is_what_publish_writes_for_its_recorded_run(tmp_path):
    """metadata.json, README.md and run.json of pretrained/voca_emotion/synthetic, byte for byte, from its run.json
    and its weights."""
    import zoo
    from zoo.pipelines import voca_emotion as pipeline

    committed = zoo.PRETRAINED / "voca_emotion" / "synthetic"
    again = pipeline.republish(committed, tmp_path / "synthetic")
    for name in ("metadata.json", "README.md", "run.json", "model.weights.h5", "config.json", "templates.npy",
                 "faces.npy"):
        assert (again / name).read_bytes() == (committed / name).read_bytes(), name
    assert sum(p.stat().st_size for p in committed.iterdir()) < 20 * 2**20
