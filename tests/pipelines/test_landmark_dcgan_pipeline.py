"""The landmark_dcgan recipe end to end on a few RAVDESS trials with tiny networks (slow tier): report, every stage,
export, preview, resume, publish; and (default tier) the committed preset is what ``publish`` writes for its recorded
run, and it is under 20 MB."""
from __future__ import annotations

import json

import pytest
from helpers import check_recipe_republishes_and_resumes


@pytest.mark.slow
def test_pipeline_runs_every_stage_and_resumes(tmp_path, monkeypatch):
    from zoo.datasets.synthetic.corpus import write_ravdess_subset
    from zoo.datasets.video import read_video, read_video_audio
    from zoo.landmark_dcgan import preset
    from zoo.pipelines import landmark_dcgan as pipeline

    def tiny(args):  # the recipe's settings on the tiny networks
        recipe = {k: v for k, v in pipeline.RECIPE.items() if k not in ("d_filters", "g_filters")}
        return preset("tiny", **{**recipe, "cnn_epochs": args.epochs or 2, "gan_frame_step": 4}, seed=0)

    monkeypatch.setattr(pipeline, "_config", tiny)
    ravdess_dir = tmp_path / "ravdess"
    write_ravdess_subset(ravdess_dir, per_actor=2, workers=2)
    out = tmp_path / "run"
    argv = ["--out", str(out), "--data", str(ravdess_dir), "--budget-minutes", "0.3", "--epochs", "2", "--quiet",
            "--publish", str(tmp_path / "published")]
    assert pipeline.main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report) >= {"prepare", "landmarks", "train", "evaluate", "export", "preview", "machine"}
    parts = report["prepare"]["split"]
    assert all(s.endswith("-04") for s in parts["test"]) and len(parts["test"]) == 2
    assert not set(parts["test"]) & set(parts["train"] + parts["val"])
    ev = report["evaluate"]
    assert ev["trials"] == parts["test"] and set(ev["bar"]["checks"]) == set(pipeline.BAR)
    assert {"psnr", "ssim"} <= set(ev["nearest_training_frame"])
    assert all(p["max_abs_diff"] <= 1e-4 for p in report["export"]["parity"])
    frames, fps = read_video(report["preview"]["video"])
    assert abs(fps - 100 / 3) < 0.01 and len(frames) == report["preview"]["frames"]
    assert read_video_audio(report["preview"]["video"], 16000).size > 0
    assert "Bar (declared before measuring)" in (out / "report.md").read_text()
    published = tmp_path / "published"
    meta = json.loads((published / "metadata.json").read_text())
    assert meta["model"] == "landmark_dcgan" and meta["metrics"]["frames"] > 0
    check_recipe_republishes_and_resumes(pipeline, argv, out, published,
                                         ["--out", str(out), "--data", str(ravdess_dir), "--budget-minutes", "0.2"])


def test_committed_preset_is_what_publish_writes_for_its_recorded_run(tmp_path):
    """metadata.json, README.md and run.json of pretrained/landmark_dcgan/synthetic, byte for byte, from its run.json
    and its weights."""
    import zoo
    from zoo.pipelines import landmark_dcgan as pipeline

    committed = zoo.PRETRAINED / "landmark_dcgan" / "synthetic"
    again = pipeline.republish(committed, tmp_path / "synthetic")
    for name in ("metadata.json", "README.md", "run.json", "model.weights.h5", "config.json", "mean_landmarks.npy",
                 "reference_image.npy", "reference_landmarks.npy"):
        assert (again / name).read_bytes() == (committed / name).read_bytes(), name
    assert sum(p.stat().st_size for p in committed.iterdir()) < 20 * 2**20
