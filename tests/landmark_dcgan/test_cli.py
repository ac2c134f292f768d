"""``zoo landmark_dcgan``: refusals are one line naming the flag, come before TensorFlow and write nothing; predict
writes the talking-face video (ceil(samples / 1440) frames at 100/3 fps, the speech muxed, the faces of the z asked
for), the landmark animation and the landmarks as csv/npy/json; train, evaluate, export and info through the
command line."""
from __future__ import annotations

import json
import math
import re
import shlex

import numpy as np
import pytest
import soundfile as sf
from helpers import bad_audio_files, check_cli_refusal, check_fails_before_tensorflow, run_cli

FACE_ROWS = 48  # rows of a 64² face compared with the video: the label box "generated" covers the bottom ones
PANEL = 256  # the video's panel size: render_landmark_video's image_size = max(256, image_size)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, ravdess_dir):
    """Audio and image files for the commands (their own folder: a refusal's tmp_path stays empty)."""
    import cv2
    from skimage import data as skdata

    folder = tmp_path_factory.mktemp("inputs")
    files = {k: str(v) for k, v in bad_audio_files(folder).items()}
    cv2.imwrite(str(folder / "astronaut.png"), cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(folder / "blank.png"), np.full((120, 120, 3), 128, np.uint8))  # an image without a face
    (folder / "notimage.png").write_text("a text file named .png\n")
    (folder / "empty").mkdir()
    # full-band 48 kHz noise: no bandwidth warning, so stderr holds only what the test is about
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, 48000).astype(np.float32)
    sf.write(folder / "noise.wav", noise, 48000, subtype="PCM_16")
    wav = sorted(ravdess_dir.glob("Actor_04/03-*.wav"))[0]  # a held-out actor's sentence
    return {**files, "astronaut": str(folder / "astronaut.png"), "blank": str(folder / "blank.png"),
            "notimage": str(folder / "notimage.png"), "empty": str(folder / "empty"),
            "noise": str(folder / "noise.wav"), "W": str(wav)}


@pytest.fixture(scope="module")
def predictor(trained):
    from zoo.landmark_dcgan.predict import Predictor

    return Predictor.load(trained[0])


@pytest.fixture(scope="module")
def expected(predictor, inputs):
    """The held-out sentence's samples and the Predictor's landmarks of it (what the CLI must write)."""
    audio, rate = sf.read(inputs["W"], dtype="float32")
    assert rate == 48000 and len(audio) % 1440, "the test needs a clip whose last 30 ms frame is partial"
    return {"samples": len(audio), "frames": math.ceil(len(audio) / 1440),
            "landmarks": predictor.landmarks(inputs["W"]).values}


REFUSALS = [
    ("out-format", "predict --model {M} --audio {W} --out {O}.avi",
     r"--out \S+\.avi: unknown output format '\.avi'; use \.mp4, \.csv, \.npy, \.json"),
    ("out-no-suffix", "predict --model {M} --audio {W} --out {O}", r"--out \S+out: unknown output format '\(no "
                                                                    r"suffix\)'"),
    ("landmarks-is-out", "predict --model {M} --audio {W} --out {O}.csv --landmarks {O}.csv",
     r"--landmarks \S+out\.csv: is the same file as --out"),
    ("landmarks-format", "predict --model {M} --audio {W} --out {O}.mp4 --landmarks {O}.txt",
     r"--landmarks \S+out\.txt: unknown output format '\.txt'; use \.csv, \.npy, \.json"),
    ("landmarks-only-curves", "predict --model {M} --audio {W} --out {O}.npy --landmarks-only",
     r"--landmarks-only: goes with a video --out \(\.mp4\); \S+out\.npy gets the curves"),
    ("reference-curves", "predict --model {M} --audio {W} --out {O}.csv --reference {astronaut}",
     r"--reference: goes with a video --out \(\.mp4\); \S+out\.csv gets the curves"),
    ("reference-random-z", "predict --model {M} --audio {W} --out {O}.mp4 --reference {astronaut} --z random",
     r"--reference \S+astronaut\.png: is unused with --landmarks-only or --z random"),
    ("reference-landmarks-only", "predict --model {M} --audio {W} --out {O}.mp4 --reference {astronaut} "
                                 "--landmarks-only", r"--reference \S+astronaut\.png: is unused with --landmarks-only"),
    ("reference-missing", "predict --model {M} --audio {W} --out {O}.mp4 --reference {O}.png",
     r"--reference \S+out\.png: no such file"),
    ("reference-not-image", "predict --model {M} --audio {W} --out {O}.mp4 --reference {notimage}",
     r"--reference: \S+notimage\.png: not a readable image"),
    ("reference-suffix", "predict --model {M} --audio {W} --out {O}.mp4 --reference {text}",
     r"--reference \S+notes\.wav: expected a \.png or \.jpg or \.jpeg or \.bmp file"),
    ("reference-folder", "predict --model {M} --audio {W} --out {O}.mp4 --reference {empty}",
     r"--reference \S+empty: not a file \(a folder\)"),
    ("z-unknown", "predict --model {M} --audio {W} --out {O}.mp4 --z zero", r"argument --z: invalid choice: 'zero'"),
    ("clip", "predict --model {M} --audio {W} --out {O}.mp4 --clip",
     r"--clip: clips blendshape weights; this model outputs landmarks in \[0, 1\]"),
    ("smooth", "predict --model {M} --audio {W} --out {O}.csv --smooth 3",
     r"--smooth 3: this model's landmarks are not smoothed"),
    ("smooth-even", "predict --model {M} --audio {W} --out {O}.csv --smooth 2",
     r"argument --smooth: must be odd \(a centred window\), got 2"),
    ("plot-format", "predict --model {M} --audio {W} --out {O}.mp4 --plot {O}.jpg",
     r"--plot \S+out\.jpg: unknown output format '\.jpg'; use \.png"),
    ("audio-silent", "predict --model {M} --audio {silent} --out {O}.mp4", r"--audio\b.*silent\.wav"),
    ("audio-m4a", "predict --model {M} --audio {m4a} --out {O}.mp4", r"--audio \S+speech\.m4a: AAC is not readable"),
    ("audio-not-audio", "predict --model {M} --audio {text} --out {O}.mp4", r"--audio\b.*notes\.wav"),
    ("audio-missing", "predict --model {M} --audio {O}.wav --out {O}.mp4", r"--audio \S+out\.wav: no such file"),
    ("not-a-model", "predict --model {D} --audio {W} --out {O}.mp4",
     r"--model: \S+: not a model directory \(config\.json missing\)"),
    ("model-missing", "predict --model {O} --audio {W} --out {O}.mp4", r"--model \S+out: no such folder"),
    ("train-unknown-actor", "train --data {D} --workdir {O} --preset tiny --test-actors 9",
     r"--test-actors Actor_09: no actor 'Actor_09' in the data"),
    ("train-val-is-test", "train --data {D} --workdir {O} --preset tiny --test-actors 4 --val-actors Actor_04",
     r"--val-actors: validation actors \['Actor_04'\] are also test actors"),
    ("train-nothing-left", "train --data {D} --workdir {O} --preset tiny --test-actors 1,2 --val-actors 3,4",
     r"--val-actors: no training trials left"),
    ("train-data-not-ravdess", "train --data {empty} --workdir {O} --preset tiny",
     r"--data: \S+empty: no RAVDESS audio-only speech files \(03-01-\*\.wav\)"),
    ("train-data-missing", "train --data {O}.d --workdir {O} --preset tiny", r"--data \S+out\.d: no such folder"),
    ("train-set-unknown", "train --data {D} --workdir {O} --preset tiny --set colour=1",
     r"--set colour=1: expected FIELD=VALUE with FIELD one of"),
    ("train-set-invalid", "train --data {D} --workdir {O} --preset tiny --set image_size=48",
     r"--set: invalid landmark_dcgan config: image_size must be a power of two ≥ 64"),
    ("train-preset", "train --data {D} --workdir {O} --preset huge", r"argument --preset: invalid choice: 'huge'"),
    ("evaluate-unknown-trial", "evaluate --model {M} --data {D} --clips 03-01-01-01-01-01-09",
     r"--clips 03-01-01-01-01-01-09: no trial '03-01-01-01-01-01-09' in the data"),
    ("evaluate-out", "evaluate --model {M} --data {D} --out {O}.csv",
     r"--out \S+out\.csv: unknown output format '\.csv'; use \.json"),
    ("evaluate-data", "evaluate --model {M} --data {empty}", r"--data: \S+empty: no RAVDESS audio-only speech files"),
    ("export-int8", "export --model {M} --dest {O} --no-tflite --int8", r"--int8: needs the TFLite model"),
    ("export-name", "export --model {M} --dest {O} --name .hidden", r"--name \.hidden: must be a plain folder name"),
    ("info-not-a-model", "info --model {D}", r"--model: \S+: not a model directory"),
]


def _argv(template: str, trained, ravdess_dir, inputs, out) -> list[str]:
    return ["landmark_dcgan", *shlex.split(template.format(M=trained[0], D=ravdess_dir, O=out, **inputs))]


@pytest.mark.parametrize("case, argv, pattern", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusals_are_one_line_naming_the_flag_and_write_nothing(case, argv, pattern, trained, ravdess_dir, inputs,
                                                                 tmp_path, capsys):
    action = argv.split()[0]
    line = check_cli_refusal(_argv(argv, trained, ravdess_dir, inputs, tmp_path / "out"), capsys,
                             rf"^zoo landmark_dcgan {action}: error: {pattern}")
    assert "Traceback" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["reference-not-image", "audio-silent", "train-val-is-test", "evaluate-unknown-trial"])
def test_refusals_come_before_tensorflow(case, trained, ravdess_dir, inputs, tmp_path):
    _, argv, pattern = next(r for r in REFUSALS if r[0] == case)
    line = check_fails_before_tensorflow(_argv(argv, trained, ravdess_dir, inputs, tmp_path / "out"))
    assert len(line.splitlines()) == 1 and re.search(pattern, line), line
    assert not list(tmp_path.iterdir())


def test_reference_without_a_face_is_one_error_line(trained, inputs, tmp_path, capsys):
    """dlib finds no face in a flat grey image: predict stops before TensorFlow and before writing, with one line
    naming the file."""
    out = tmp_path / "talk.mp4"
    argv = ["landmark_dcgan", "predict", "--model", trained[0], "--audio", inputs["noise"], "--reference",
            inputs["blank"], "--out", out]
    status, _, err = run_cli(argv, capsys)
    assert status == 2 and len(err) == 1, err
    assert re.match(r"^zoo landmark_dcgan predict: error: --reference \S+blank\.png: no face found", err[0]), err
    assert not list(tmp_path.iterdir())
    line = check_fails_before_tensorflow(argv)
    assert "blank.png: no face found" in line


def _faces_of(video_frames: np.ndarray) -> np.ndarray:
    """The generated faces (N, FACE_ROWS, 64, 3) float of a talking-face video: its right panel (64² faces scaled 4×
    by area repetition), averaged back over 4×4 blocks, above the label box."""
    right = video_frames[:, :, PANEL:].astype(np.float32)
    n = len(right)
    return right.reshape(n, 64, 4, 64, 4, 3).mean(axis=(2, 4))[:, :FACE_ROWS]


def _face_error(video_frames: np.ndarray, faces: np.ndarray) -> float:
    """Mean |Δ| (uint8 levels) between the video's faces and ``faces`` (N, 64, 64, 3) uint8."""
    return float(np.abs(_faces_of(video_frames) - faces[:, :FACE_ROWS].astype(np.float32)).mean())


def _band_warning(err: list[str]) -> None:
    """The corpus's speech is espeak's 22.05 kHz upsampled to 48 kHz: the shared bandwidth warning, once, and
    nothing else."""
    assert len(err) == 1 and re.search(r"^zoo landmark_dcgan: warning: \S+03-01-\S+-04\.wav: band-limited "
                                       r"audio", err[0]), err


def test_predict_writes_the_talking_face_video(trained, predictor, inputs, expected, tmp_path, capsys):
    from zoo.core.animation import Animation
    from zoo.datasets.video import read_video, read_video_audio

    video, curves, plot = tmp_path / "talk.mp4", tmp_path / "talk.json", tmp_path / "p.png"
    status, out, err = run_cli(["landmark_dcgan", "predict", "--model", trained[0], "--audio", inputs["W"], "--out",
                                video, "--landmarks", curves, "--plot", plot], capsys)
    assert status == 0, err
    _band_warning(err)
    n = expected["frames"]
    assert (f"{video}: {n} frames (landmarks and generated faces) at 33.33 fps with the speech "
            f"({round(expected['samples'] / 48000, 3):g} s)") in out
    frames, fps = read_video(video)
    assert len(frames) == n and fps == pytest.approx(100 / 3, abs=0.01)  # ceil: the partial last 30 ms is a frame
    assert frames.shape[1:] == (PANEL, 2 * PANEL, 3)  # the landmarks beside the faces
    # the faces are G(the model's own reference-encoded z, the landmarks) (H.264 costs a few levels)
    own = predictor.faces(expected["landmarks"])
    other = predictor.faces(expected["landmarks"], z="random", seed=5)
    assert _face_error(frames, own) < 0.8 * _face_error(frames, other)
    sound = read_video_audio(video, 48000)
    assert abs(len(sound) - expected["samples"]) < 0.05 * 48000 and np.abs(sound).max() > 0.05
    anim = Animation.read(curves)
    assert anim.fps == pytest.approx(100 / 3) and tuple(anim.names[:3]) == ("x00", "y00", "x01")
    np.testing.assert_allclose(anim.values, expected["landmarks"], atol=1e-6)
    import cv2

    assert cv2.imread(str(plot)) is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png", "talk.json", "talk.mp4"]


def test_predict_landmarks_only_csv_and_npy(trained, inputs, expected, tmp_path, capsys):
    from zoo.datasets.video import read_video, read_video_audio
    from zoo.render.landmarks import landmark_pixels

    video, csv = tmp_path / "lm.mp4", tmp_path / "lm.csv"
    status, out, err = run_cli(["landmark_dcgan", "predict", "--model", trained[0], "--audio", inputs["W"],
                                "--landmarks-only", "--out", video, "--landmarks", csv], capsys)
    assert status == 0, err
    _band_warning(err)
    n, values = expected["frames"], expected["landmarks"]
    assert f"{video}: {n} frames (landmark animation) at 33.33 fps" in out and f"{csv}: the landmarks" in out
    frames, fps = read_video(video)
    assert frames.shape == (n, PANEL, PANEL, 3) and fps == pytest.approx(100 / 3, abs=0.01)
    # fixed axes: every frame's 68 points are drawn (dark on white) where landmark_pixels puts them
    centres = np.floor(landmark_pixels(values, PANEL)).astype(int)
    under = frames[np.arange(n)[:, None], centres[..., 1], centres[..., 0]].mean(axis=-1)
    assert (under < 200).mean() > 0.95 and frames.mean() > 230
    assert abs(len(read_video_audio(video, 48000)) - expected["samples"]) < 0.05 * 48000
    lines = csv.read_text().splitlines()
    names = [f"{axis}{k:02d}" for k in range(68) for axis in "xy"]
    assert lines[0] == ",".join(["time", *names]) and len(lines) == 1 + n
    table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    np.testing.assert_allclose(table[:, 0], np.arange(n) * 0.03, atol=1e-6)
    np.testing.assert_allclose(table[:, 1:], values, rtol=1e-5, atol=1e-7)

    npy = tmp_path / "lm.npy"
    status, out, err = run_cli(["landmark_dcgan", "predict", "--model", trained[0], "--audio", inputs["W"], "--out",
                                npy], capsys)
    assert status == 0, err
    assert f"{npy}: {n} frames × 68 landmarks at 33.33 fps" in out
    curves = np.load(npy)
    assert curves.dtype.names == tuple(names)
    np.testing.assert_array_equal(np.stack([curves[k] for k in names], axis=1), values)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lm.csv", "lm.mp4", "lm.npy"]


def test_predict_random_z_and_a_reference_face(trained, predictor, inputs, expected, tmp_path, capsys):
    from zoo.datasets.video import read_video

    values = expected["landmarks"]
    seeded, other = tmp_path / "seed1.mp4", tmp_path / "astronaut.mp4"
    status, _, err = run_cli(["landmark_dcgan", "predict", "--model", trained[0], "--audio", inputs["W"], "--out",
                              seeded, "--z", "random", "--seed", "1"], capsys)
    assert status == 0, err
    frames, _ = read_video(seeded)
    assert len(frames) == expected["frames"]
    seed1 = _face_error(frames, predictor.faces(values, z="random", seed=1))
    assert seed1 < 0.8 * _face_error(frames, predictor.faces(values, z="random", seed=2))
    assert seed1 < 0.8 * _face_error(frames, predictor.faces(values))

    status, _, err = run_cli(["landmark_dcgan", "predict", "--model", trained[0], "--audio", inputs["W"], "--out",
                              other, "--reference", inputs["astronaut"]], capsys)
    assert status == 0, err
    frames, _ = read_video(other)
    astronaut = _face_error(frames, predictor.faces(values, reference=inputs["astronaut"]))
    assert astronaut < 0.8 * _face_error(frames, predictor.faces(values, z="random", seed=1))
    assert astronaut < 4.0  # H.264 at this size: ~2.6 levels measured


def test_train_dry_run_checks_and_writes_nothing(ravdess_dir, tmp_path, capsys):
    work = tmp_path / "w"
    argv = ["landmark_dcgan", "train", "--data", ravdess_dir, "--workdir", work, "--preset", "tiny", "--epochs", "1",
            "--gan-epochs", "1", "--test-actors", "4", "--val-actors", "3", "--set", "gan_frame_step=4", "--quiet",
            "--dry-run"]
    status, out, err = run_cli(argv, capsys)
    assert status == 0 and not err, err
    assert "zoo landmark_dcgan train: arguments checked; nothing done (--dry-run)" in out
    assert not work.exists() and not list(tmp_path.iterdir())
    # what the run would get: the flags mapped onto the tiny preset's Config, the actors' short names expanded
    from zoo.cli import build_parser
    from zoo.landmark_dcgan import cli

    checked = cli.validate(build_parser().parse_args([str(a) for a in argv]))
    config = checked["config"]
    assert (config.preset, config.cnn_epochs, config.gan_epochs, config.gan_frame_step, config.image_size) == \
           ("tiny", 1, 1, 4, 64)
    assert checked["test_actors"] == ["Actor_04"] and checked["val_actors"] == ["Actor_03"]


@pytest.mark.slow  # ~30 s: landmark extraction of 6 trials, a CNN and a GAN epoch
def test_train_through_the_cli(ravdess_dir, tmp_path, capsys):
    work = tmp_path / "w"
    status, out, err = run_cli(["landmark_dcgan", "train", "--data", ravdess_dir, "--workdir", work, "--preset",
                                "tiny", "--epochs", "1", "--gan-epochs", "1", "--test-actors", "4", "--val-actors",
                                "3", "--set", "gan_frame_step=4", "--quiet"], capsys)
    assert status == 0, err
    assert f"model written to {work / 'model'}" in out
    shown = json.loads(out[: out.rindex("}") + 1])
    assert shown["cnn"]["epochs_trained"] == 1 and shown["gan"]["epochs_trained"] == 1
    assert shown["test_actors"] == ["Actor_04"] and shown["train_frames"] > 100
    assert np.isfinite(shown["cnn"]["val"]["val_loss"]) and np.isfinite(shown["gan"]["val"]["train_d_loss"])
    config = json.loads((work / "model" / "config.json").read_text())
    assert (config["preset"], config["cnn_epochs"], config["gan_epochs"], config["gan_frame_step"]) == \
           ("tiny", 1, 1, 4)
    meta = json.loads((work / "model" / "metadata.json").read_text())
    assert all(s.endswith("-03") for s in meta["val_trials"]) and all(s.endswith("-04") for s in meta["test_trials"])


def test_evaluate_and_info_through_the_cli(trained, ravdess_dir, tmp_path, capsys):
    model, summary = trained
    report = tmp_path / "m.json"
    status, out, err = run_cli(["landmark_dcgan", "evaluate", "--model", model, "--data", ravdess_dir, "--no-faces",
                                "--out", report], capsys)
    assert status == 0, err
    assert report.read_text().strip() == out.strip()  # the JSON written is the JSON printed
    result = json.loads(report.read_text())
    assert result["trials"] == summary["test_trials"] and "faces" not in result and "chain" not in result
    for key in ("cnn", "mean_landmarks", "shuffled_audio"):
        assert set(result[key]) == {"mse", "lmd", "lmd_pixels", "mouth_opening_r"}, key
        assert 0 < result[key]["mse"] < 0.1 and result[key]["lmd_pixels"] == pytest.approx(256 * result[key]["lmd"])
    assert result["lmd_ratio_to_mean"] == pytest.approx(result["cnn"]["lmd"] / result["mean_landmarks"]["lmd"])

    status, out, err = run_cli(["landmark_dcgan", "info", "--model", model], capsys)
    assert status == 0 and not err, err
    assert f"{model}: landmark_dcgan, preset tiny" in out and "faces 64x64 from the conditional DCGAN" in out
    assert "68 landmarks (minmax-normalised, CNN, frame by frame) at 33.3333 fps" in out
    assert "trained on: 4 trials (2 validation); test actors ['Actor_04']" in out
    status, out, _ = run_cli(["landmark_dcgan", "info", "--model", model, "--json"], capsys)
    described = json.loads(out)
    assert described["model"] == "landmark_dcgan" and described["image_size"] == 64 and described["gru"] is False
    assert described["fps"] == pytest.approx(100 / 3) and described["test_actors"] == ["Actor_04"]
    status, out, _ = run_cli(["landmark_dcgan", "info"], capsys)
    assert status == 0
    assert "presets (zoo landmark_dcgan train --preset): gan128, gan64, original, report, tiny" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_export_through_the_cli(trained, tmp_path, capsys):
    dest = tmp_path / "serving"
    status, out, err = run_cli(["landmark_dcgan", "export", "--model", trained[0], "--dest", dest, "--no-tflite"],
                               capsys)
    assert status == 0, err
    for signature in ("serving_default", "audio", "generate", "encode_reference"):
        assert re.search(rf"^saved_model\s+{signature}\s+max \|Δ\| \S+ \(tolerance", out, re.M), signature
    assert f"SavedModel: {dest / 'landmark_dcgan' / '1'}" in out and "TFLite: None" in out
    assert (dest / "landmark_dcgan" / "1" / "saved_model.pb").is_file()
    report = json.loads((dest / "landmark_dcgan-v1.parity.json").read_text())
    assert report["passed"] and {c["backend"] for c in report["checks"]} == {"saved_model"}
    assert not list(dest.glob("*.tflite"))
    # a second export to the same place is refused without --overwrite, before any work
    line = check_cli_refusal(["landmark_dcgan", "export", "--model", trained[0], "--dest", dest, "--no-tflite"],
                             capsys, r"^zoo landmark_dcgan export: error: --dest \S+: \S+landmark_dcgan/1 exists; "
                                     r"add --overwrite")
    assert "Traceback" not in line


def test_print_export_names_the_generator_tflite_files(tmp_path, capsys):
    from zoo.core.cli import print_export
    from zoo.landmark_dcgan.export import LandmarkExportResult

    result = LandmarkExportResult(tmp_path / "landmark_dcgan" / "1", tmp_path / "landmark_dcgan-v1.tflite",
                                  tmp_path / "landmark_dcgan-v1.parity.json", [],
                                  tmp_path / "landmark_dcgan-v1.int8.tflite",
                                  tmp_path / "landmark_dcgan-v1.generate.tflite", None)
    print_export(result)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"SavedModel: {tmp_path / 'landmark_dcgan' / '1'}",
                     f"TFLite: {tmp_path / 'landmark_dcgan-v1.tflite'}",
                     f"TFLite int8: {tmp_path / 'landmark_dcgan-v1.int8.tflite'}",
                     f"generator tflite: {tmp_path / 'landmark_dcgan-v1.generate.tflite'}",
                     f"parity: {tmp_path / 'landmark_dcgan-v1.parity.json'}"]
