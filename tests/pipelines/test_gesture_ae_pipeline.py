"""The gesture recipe end to end on the corpus's takes with tiny networks (slow tier): report, every stage, export,
preview, resume, publish; and (default tier) the committed preset is what ``publish`` writes for its recorded run."""
from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import check_recipe_republishes_and_resumes


@pytest.mark.slow
def test_pipeline_runs_every_stage_and_resumes(tmp_path, monkeypatch):
    from zoo.datasets.video import read_video, read_video_audio
    from zoo.gesture_ae import preset
    from zoo.pipelines import gesture_ae as pipeline

    def tiny(model, args, seed):  # the recipe's structure with tiny widths (the DAE's code: 8)
        return preset("tiny", target="pose" if model == "baseline" else "code", epochs=args.epochs or 2, seed=seed)

    monkeypatch.setattr(pipeline, "_config", tiny)
    monkeypatch.setattr(pipeline, "PREVIEW_SECONDS", 1.0)
    monkeypatch.setattr(pipeline, "DAE_MINUTES", 0.05)
    out = tmp_path / "run"
    argv = ["--out", str(out), "--budget-minutes", "0.3", "--epochs", "2", "--quiet", "--publish",
            str(tmp_path / "published")]
    assert pipeline.main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report) >= {"prepare", "dae", "train", "evaluate", "export", "preview", "machine"}
    parts = report["prepare"]["split"]
    assert len(parts["test"]) == 6 and len(parts["val"]) == 6 and len(parts["train"]) == 48
    assert not set(parts["test"]) & set(parts["train"]) and not set(parts["val"]) & set(parts["train"])
    runs = report["train"]["runs"]
    assert sorted(runs) == [f"{m}-{s}" for m in ("baseline", "proposed") for s in (0, 1, 2)]
    assert all(r["test_ids"] == parts["test"] and r["val_ids"] == parts["val"] for r in runs.values())
    ev = report["evaluate"]
    assert ev["test_ids"] == parts["test"] and set(ev["mean"]) == {"baseline", "proposed"}
    assert set(ev["bar"]["checks"]) == {f"{m}_{c}" for m in ("baseline", "proposed") for c in (
        "ape_below_mean_pose", "hellinger_below_mean_pose", "hellinger_below_rest_pose", "hand_speed_r",
        "shuffled_hand_speed_r")}
    assert ev["still"]["mean_pose"]["ape_cm"] > 0 and set(ev["comparison"]) >= {"ape_cm", "hand_speed_r"}
    assert all(p["max_abs_diff"] <= 1e-2 for p in report["export"]["parity"])
    frames, fps = read_video(report["preview"]["video"])
    assert fps == 20 and abs(len(frames) - 20) <= 1 and frames.shape[2] == 2 * frames.shape[1]  # prediction | truth
    assert np.abs(read_video_audio(report["preview"]["video"], 16000)).max() > 0.01
    assert (out / "preview" / f"gesture{report['preview']['take']}.bvh").is_file()
    assert "Bar (declared before measuring)" in (out / "report.md").read_text()
    published = tmp_path / "published"
    meta = json.loads((published / "metadata.json").read_text())
    assert meta["model"] == "gesture_ae" and meta["metrics"]["frames"] > 0
    check_recipe_republishes_and_resumes(pipeline, argv, out, published,
                                         ["--out", str(out), "--budget-minutes", "0.2"])


def test_split_is_by_file_and_declared():
    from zoo.pipelines.gesture_ae import split

    parts = split(range(20, 80))
    assert parts["test"] == list(range(20, 80, 10)) and parts["val"] == list(range(25, 80, 10))
    assert sorted(parts["train"] + parts["val"] + parts["test"]) == list(range(20, 80))


def test_committed_preset_is_what_publish_writes_for_its_recorded_run(tmp_path):
    """metadata.json, README.md and run.json of pretrained/gesture_ae/synthetic, byte for byte, from its run.json and
    its weights."""
    import zoo
    from zoo.pipelines import gesture_ae as pipeline

    committed = zoo.PRETRAINED / "gesture_ae" / "synthetic"
    again = pipeline.republish(committed, tmp_path / "synthetic")
    for name in ("metadata.json", "README.md", "run.json", "model.weights.h5", "config.json", "mean_pose.npy"):
        assert (again / name).read_bytes() == (committed / name).read_bytes(), name
    assert sum(p.stat().st_size for p in committed.iterdir()) < 20 * 2**20
