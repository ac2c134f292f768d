"""``zoo gesture_ae``: refusals are one line naming the flag, come before TensorFlow and write nothing; predict writes
bvh/txt/npy (and a video beside the ground truth); train, evaluate and info through the command line."""
from __future__ import annotations

import json
import re
import shlex

import numpy as np
import pytest
import soundfile as sf
from helpers import bad_audio_files, check_cli_refusal, check_fails_before_tensorflow, run_cli


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, gesture_dir):
    folder = tmp_path_factory.mktemp("inputs")
    files = bad_audio_files(folder)
    (folder / "text.bvh").write_text("HIERARCHY\nROOT Hips\n{\n")
    (folder / "empty").mkdir()
    audio, rate = sf.read(gesture_dir / "speech" / "audio50.wav", dtype="float32")
    sf.write(folder / "short.wav", audio[: 2 * rate], rate)  # 2 s of the test take
    return {**{k: str(v) for k, v in files.items()}, "notbvh": str(folder / "text.bvh"),
            "empty": str(folder / "empty"), "short": str(folder / "short.wav"),
            "truth": str(gesture_dir / "motion" / "gesture50.bvh")}


REFUSALS = [
    ("out-format", "predict --model {M} --audio {speech} --out {O}.csv",
     r"--out \S+\.csv: unknown output format '\.csv'; use \.bvh, \.txt, \.npy"),
    ("smooth-unknown", "predict --model {M} --audio {speech} --out {O}.bvh --smooth median",
     r"argument --smooth: invalid choice: 'median'"),
    ("clip", "predict --model {M} --audio {speech} --out {O}.bvh --clip", r"--clip: clips blendshape weights"),
    ("truth-without-video", "predict --model {M} --audio {speech} --out {O}.bvh --ground-truth {truth}",
     r"--ground-truth \S+gesture50\.bvh: goes with --video"),
    ("truth-missing", "predict --model {M} --audio {speech} --out {O}.bvh --video {O}.mp4 --ground-truth {O}.bvh",
     r"--ground-truth \S+\.bvh: no such file"),
    ("truth-not-bvh", "predict --model {M} --audio {speech} --out {O}.bvh --video {O}.mp4 --ground-truth {notbvh}",
     r"--ground-truth: \S+text\.bvh: line \d+: "),
    ("video-format", "predict --model {M} --audio {speech} --out {O}.bvh --video {O}.avi",
     r"--video \S+\.avi: unknown output format '\.avi'; use \.mp4"),
    ("plot-format", "predict --model {M} --audio {speech} --out {O}.bvh --plot {O}.bvh",
     r"--plot \S+\.bvh: unknown output format"),
    ("audio-silent", "predict --model {M} --audio {silent} --out {O}.bvh", r"--audio\b.*silent\.wav"),
    ("audio-m4a", "predict --model {M} --audio {m4a} --out {O}.bvh", r"--audio \S+speech\.m4a: AAC is not readable"),
    ("audio-not-audio", "predict --model {M} --audio {text} --out {O}.bvh", r"--audio\b.*notes\.wav"),
    ("audio-missing", "predict --model {M} --audio {O}.wav --out {O}.bvh", r"--audio \S+\.wav: no such file"),
    ("not-a-model", "predict --model {D} --audio {speech} --out {O}.bvh", r"--model: .*not a model directory"),
    ("unknown-val-id", "train --data {D} --workdir {O} --preset tiny --val-ids 99",
     r"--val-ids 99: no take '99' in the data"),
    ("val-is-test", "train --data {D} --workdir {O} --preset tiny --val-ids 35 --test-ids 35",
     r"--test-ids 35: 35 is also in --val-ids"),
    ("nothing-left", "train --data {D} --workdir {O} --preset tiny --val-ids 20,35 --test-ids 50,65",
     r"--val-ids: no training files are left"),
    ("dae-dir-baseline", "train --data {D} --workdir {O} --preset baseline --dae-dir {empty}",
     r"--dae-dir \S+empty: preset baseline has no autoencoder"),
    ("dae-dir-empty", "train --data {D} --workdir {O} --preset tiny --dae-dir {empty}",
     r"--dae-dir \S+empty/dae\.weights\.h5: no such file"),
    ("data-not-gesture", "train --data {empty} --workdir {O} --preset tiny",
     r"--data: \S+empty/speech: missing folder"),
    ("set-unknown", "train --data {D} --workdir {O} --preset tiny --set colour=1",
     r"--set colour=1: expected FIELD=VALUE with FIELD one of"),
    ("set-invalid", "train --data {D} --workdir {O} --preset tiny --set savgol_window=4",
     r"--set: savgol_window must be 0 \(off\) or odd"),
    ("evaluate-unknown-take", "evaluate --model {M} --data {D} --clips 99", r"--clips 99: no take '99' in the data"),
    ("evaluate-out", "evaluate --model {M} --data {D} --out {O}.csv", r"--out \S+\.csv: unknown output format"),
]


def _argv(template, trained, gesture_dir, inputs, out):
    return ["gesture_ae", *shlex.split(template.format(M=trained[0], D=gesture_dir, O=out, **inputs))]


@pytest.mark.parametrize("case, argv, pattern", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusals_are_one_line_naming_the_flag_and_write_nothing(case, argv, pattern, trained, gesture_dir, inputs,
                                                                 tmp_path, capsys):
    out = tmp_path / "out"
    action = argv.split()[0]
    line = check_cli_refusal(_argv(argv, trained, gesture_dir, inputs, out), capsys,
                             rf"^zoo gesture_ae {action}: error: {pattern}")
    assert "Traceback" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["truth-not-bvh", "audio-silent", "val-is-test", "dae-dir-empty",
                                  "evaluate-unknown-take"])
def test_refusals_come_before_tensorflow(case, trained, gesture_dir, inputs, tmp_path):
    _, argv, pattern = next(r for r in REFUSALS if r[0] == case)
    out = tmp_path / "out"
    line = check_fails_before_tensorflow(_argv(argv, trained, gesture_dir, inputs, out))
    assert len(line.splitlines()) == 1 and re.search(pattern, line), line
    assert not list(tmp_path.iterdir())


def test_predict_writes_bvh_txt_and_npy(trained, inputs, tmp_path, capsys):
    from zoo.datasets import read_bvh
    from zoo.gesture_ae.predict import Predictor

    model = trained[0]
    predictor = Predictor.load(model)
    expected = predictor.predict(inputs["short"], smooth="one_euro").values
    for suffix in (".txt", ".npy", ".bvh"):
        out = tmp_path / f"motion{suffix}"
        status, stdout, err = run_cli(["gesture_ae", "predict", "--model", model, "--audio", inputs["short"],
                                       "--out", out, "--smooth", "one_euro"], capsys)
        assert status == 0, err
        # the corpus's speech is espeak's 22.05 kHz upsampled to 44.1 kHz: the shared bandwidth warning, once
        assert len(err) == 1 and re.search(r"warning: \S+short\.wav: band-limited audio", err[0]), err
        assert f"{out}: {len(expected)} frames × 64 nodes at 20 fps (smoothing: one_euro)" in stdout
    np.testing.assert_allclose(np.loadtxt(tmp_path / "motion.txt"), expected, rtol=1e-6)
    np.testing.assert_array_equal(np.load(tmp_path / "motion.npy"), expected)
    assert read_bvh(tmp_path / "motion.bvh").num_frames == len(expected) == 39  # 2 s: 1 + ceil(87318 / 441) = 199
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motion.bvh", "motion.npy", "motion.txt"]


def test_predict_renders_the_motion_beside_the_ground_truth(trained, inputs, tmp_path, capsys):
    from zoo.datasets.video import read_video, read_video_audio

    video = tmp_path / "v.mp4"
    status, stdout, err = run_cli(["gesture_ae", "predict", "--model", trained[0], "--audio", inputs["short"],
                                   "--out", tmp_path / "m.npy", "--video", video, "--ground-truth", inputs["truth"]],
                                  capsys)
    assert status == 0, err
    assert f"{video}: the motion with the speech" in stdout
    frames, fps = read_video(video)
    assert fps == pytest.approx(20) and len(frames) == 39  # the shorter panel: the 2 s prediction
    assert frames.shape[2] == 2 * frames.shape[1]  # two square panels side by side
    assert read_video_audio(video, 16000).size > 1.5 * 16000


def test_train_evaluate_and_info_through_the_cli(poisoned_dir, gesture_dir, tmp_path, capsys):
    work = tmp_path / "w"
    argv = ["gesture_ae", "train", "--data", poisoned_dir, "--workdir", work, "--preset", "tiny", "--epochs", "1",
            "--set", "dae_epochs=1", "--set", "batch_size=16", "--val-ids", "65", "--test-ids", "50", "--quiet"]
    status, out, err = run_cli([*argv, "--dry-run"], capsys)
    assert status == 0 and "nothing done" in out and not work.exists()
    status, out, err = run_cli(argv, capsys)
    assert status == 0, err
    assert f"model written to {work / 'model'}" in out
    shown = json.loads(out[: out.rindex("}") + 1])
    assert shown["epochs_trained"] == 1 and shown["test_ids"] == [50] and shown["dae"]["epochs_trained"] == 1
    config = json.loads((work / "model" / "config.json").read_text())
    assert config["batch_size"] == 16 and config["dae_epochs"] == 1 and config["preset"] == "tiny"

    report = tmp_path / "r.json"
    status, out, err = run_cli(["gesture_ae", "evaluate", "--model", work / "model", "--data", gesture_dir, "--out",
                                report], capsys)
    assert status == 0, err
    result = json.loads(report.read_text())
    assert result == json.loads(out) and result["ids"] == [50]
    assert result["model"]["ape_cm"] > 0 and result["mean_pose"]["ape_cm"] > 0

    status, out, err = run_cli(["gesture_ae", "info", "--model", work / "model"], capsys)
    assert status == 0 and not err
    assert "preset tiny" in out and "positions of 64 skeleton nodes at 20 fps" in out
    assert re.search(r"held out:\s+validation \[65\], test \[50\]", out)
    status, out, _ = run_cli(["gesture_ae", "info", "--model", work / "model", "--json"], capsys)
    assert json.loads(out)["target"] == "code" and json.loads(out)["nodes"] == 64
