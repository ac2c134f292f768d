"""The reproduce recipe end to end on a small FACEGOOD-layout folder: report, export, preview, resume."""
from __future__ import annotations

import json

import numpy as np


def test_pipeline_runs_every_stage_and_resumes(tmp_path):
    from zoo.datasets.synthetic.corpus import write_facegood_subset
    from zoo.datasets.video import read_video, read_video_audio
    from zoo.pipelines import audio2face as pipeline

    data = tmp_path / "data"
    write_facegood_subset(data, 8, seed=0)
    out = tmp_path / "run"
    argv = ["--out", str(out), "--data", str(data), "--preset", "tiny", "--epochs", "1", "--quiet",
            "--publish", str(tmp_path / "published")]
    assert pipeline.main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report) >= {"prepare", "train", "evaluate", "export", "preview", "machine"}
    assert report["train"]["epochs_trained"] == 1 and report["evaluate"]["frames"] > 0
    assert all(p["max_abs_diff"] <= 1e-4 for p in report["export"]["parity"])
    assert "mean pose" in (out / "report.md").read_text()
    frames, fps = read_video(report["preview"]["video"])
    assert fps == 30 and len(frames) > 10 and frames.shape[2] == 2 * frames.shape[1]  # prediction | reference
    assert np.abs(read_video_audio(report["preview"]["video"], 16000)).max() > 0.01  # the speech is muxed in
    published = tmp_path / "published"
    meta = json.loads((published / "metadata.json").read_text())
    assert meta["model"] == "audio2face" and set(meta["sha256"]) >= {"config.json", "model.weights.h5"}
    assert (published / "README.md").is_file()
    # a second run with the same arguments keeps every finished stage
    before = (out / "state.json").read_text()
    assert pipeline.main(argv) == 0
    assert (out / "state.json").read_text() == before
    # other arguments in the same folder are refused
    import pytest

    with pytest.raises(SystemExit, match="other arguments"):
        pipeline.main(["--out", str(out), "--data", str(data), "--preset", "tiny", "--epochs", "2"])
