"""``zoo voca_emotion``: info, predict (vertices.npy + meshes/), refusals as one line with nothing written, train,
evaluate and export through the command line."""
from __future__ import annotations

import json
import re
import shlex

import numpy as np
import pytest
import soundfile as sf
from helpers import bad_audio_files, check_cli_refusal, check_fails_before_tensorflow, run_cli

V = 64  # the tiny preset's vertices
SHIFT = np.float32([0.01, 0.0, 0.0])  # the --template file is subject 0's template moved 1 cm along x
FACES = np.array([[i, i + 1, i + 2] for i in range(V - 2)], np.int64)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, trained):
    """{name: path}: the standard unusual audio files, a 24140-sample clip at 16 kHz (90.525 frames at 60 fps →
    91), the template PLY (subject 0's + SHIFT, with FACES), subject 0's own template as a PLY, a 10-vertex PLY and a
    corrupt PLY."""
    import soundfile as sf
    import soxr
    import trimesh

    from zoo.core import parity_speech

    folder = tmp_path_factory.mktemp("voca_cli_inputs")
    files = bad_audio_files(folder / "audio")
    audio, rate = parity_speech()
    files["clip"] = folder / "clip.wav"
    sf.write(files["clip"], soxr.resample(audio, rate, 16000)[:24140], 16000, subtype="PCM_16")
    templates = np.load(trained[0] / "templates.npy")
    for name, verts, faces in (("template", templates[0] + SHIFT, FACES), ("subject0", templates[0], FACES),
                               ("ten", templates[0][:10], FACES[:8])):
        files[name] = folder / f"{name}.ply"
        trimesh.Trimesh(vertices=verts, faces=faces, process=False).export(files[name])
    files["corrupt"] = folder / "corrupt.ply"
    files["corrupt"].write_bytes(b"ply\nformat nonsense\n" + bytes(range(256)))
    return files


def _predict(model, audio, out, capsys, *extra):
    status, stdout, err = run_cli(["voca_emotion", "predict", "--model", model, "--audio", audio, "--out", out,
                                   *extra], capsys)
    assert status == 0, err
    return np.load(out / "vertices.npy"), stdout, err


def test_info_lists_the_presets_and_a_models_subjects(trained, capsys):
    status, out, err = run_cli(["voca_emotion", "info"], capsys)
    assert status == 0 and not err, err
    line = next(line for line in out.splitlines() if line.startswith("presets"))
    assert line.split(": ", 1)[1].split(", ") == ["ravdess", "synthetic", "tiny", "voca"]
    status, out, err = run_cli(["voca_emotion", "info", "--model", trained[0]], capsys)
    assert status == 0 and not err, err
    assert re.search(r"^subjects:\s+0: subj_a, 1: subj_b \(0-based\)$", out, re.M), out
    assert "64 vertices" in out and "preset tiny" in out
    status, out, _ = run_cli(["voca_emotion", "info", "--model", trained[0], "--json"], capsys)
    info = json.loads(out)
    assert status == 0 and info["subjects"] == ["subj_a", "subj_b"] and info["num_vertices"] == V
    assert info["fps"] == 60 and info["sample_rate"] == 16000


def test_predict_writes_vertices_and_meshes_with_the_templates_faces(trained, inputs, tmp_path, capsys):
    import trimesh

    model = trained[0]
    verts, out, _ = _predict(model, inputs["clip"], tmp_path / "o", capsys, "--template", inputs["template"])
    assert verts.dtype == np.float32 and verts.shape == (91, V, 3)  # round(24140 / 16000 × 60) = round(90.525)
    assert "91 frames × 64 vertices at 60 fps" in out
    names = sorted(p.name for p in (tmp_path / "o" / "meshes").iterdir())
    assert names == [f"{t:05d}.ply" for t in range(91)]
    for t in (0, 90):
        mesh = trimesh.load(tmp_path / "o" / "meshes" / names[t], process=False)
        assert len(mesh.faces) == len(FACES) and len(mesh.vertices) == V
        np.testing.assert_array_equal(mesh.faces, FACES)
        np.testing.assert_allclose(mesh.vertices, verts[t], atol=1e-6)
    assert [p.name for p in (tmp_path / "o").iterdir() if p.name.startswith(".")] == []

    # --format none: only vertices.npy; without --template the default (subject 0's) face is animated, and the
    # template is added to the network's offsets, so the result is the above less SHIFT
    plain, out, _ = _predict(model, inputs["clip"], tmp_path / "n", capsys, "--format", "none")
    assert sorted(p.name for p in (tmp_path / "n").iterdir()) == ["vertices.npy"]
    assert "meshes" not in out
    np.testing.assert_allclose(verts - plain, np.broadcast_to(SHIFT, verts.shape), atol=1e-6)
    assert np.ptp(plain, axis=0).max() > 1e-4  # the vertices move with the speech

    # meshes without --template: the model records no faces, so point clouds, said once on stderr
    _, _, err = _predict(model, inputs["clip"], tmp_path / "p", capsys, "--format", "obj")
    assert len(err) == 1 and re.search(r"warning: .*no faces.*point clouds", err[0]), err
    assert len(list((tmp_path / "p" / "meshes").glob("*.obj"))) == 91
    assert len(trimesh.load(tmp_path / "p" / "meshes" / "00090.obj", process=False).vertices) == V


def test_predict_blends_subjects(trained, inputs, tmp_path, capsys):
    model, tpl = trained[0], ["--template", inputs["subject0"], "--format", "none"]
    first, _, _ = _predict(model, inputs["clip"], tmp_path / "s0", capsys, "--subject", "0", *tpl)
    second, _, _ = _predict(model, inputs["clip"], tmp_path / "s1", capsys, "--subject", "subj_b", *tpl)
    blend, _, _ = _predict(model, inputs["clip"], tmp_path / "mix", capsys, "--subject", "0:0.5,1:0.5", *tpl)
    assert np.abs(first - second).max() > 1e-5  # the subjects differ, so the blend is visible
    np.testing.assert_allclose(blend, 0.5 * first + 0.5 * second, atol=1e-6)
    default, _, _ = _predict(model, inputs["clip"], tmp_path / "d", capsys, "--format", "none")
    np.testing.assert_allclose(default, first, atol=1e-6)  # no --template, --subject 0: subject 0's own face


REFUSALS = [
    ("subject-out-of-range", "predict --model {M} --audio {clip} --out {O} --subject 2",
     r"--subject 2: subject index 2 outside 0…1 \(0-based\)"),
    ("subject-unknown-name", "predict --model {M} --audio {clip} --out {O} --subject subj_c",
     r"--subject subj_c: unknown subject 'subj_c'; the model knows \(0-based\) 0: subj_a, 1: subj_b"),
    ("subject-malformed", "predict --model {M} --audio {clip} --out {O} --subject 0:x",
     r"--subject 0:x: subject weights must read 'index:weight,…'"),
    ("subject-negative-weight", "predict --model {M} --audio {clip} --out {O} --subject 0:-1,1:2",
     r"--subject 0:-1,1:2: subject weight of '0' must be a finite number ≥ 0"),
    ("template-vertex-count", "predict --model {M} --audio {clip} --out {O} --template {ten}",
     r"--template \S+ten\.ply: \S+ten\.ply: the mesh has 10 vertices; the model animates 64"),
    ("template-corrupt", "predict --model {M} --audio {clip} --out {O} --template {corrupt}",
     r"--template \S+corrupt\.ply: \S+corrupt\.ply: not a readable mesh"),
    ("template-missing", "predict --model {M} --audio {clip} --out {O} --template {O}.ply",
     r"--template \S+\.ply: no such file"),
    ("clip", "predict --model {M} --audio {clip} --out {O} --clip", r"--clip: clips blendshape weights to \[0, 1\]"),
    ("audio-silent", "predict --model {M} --audio {silent} --out {O}", r"--audio\b.*silent\.wav"),
    ("audio-m4a", "predict --model {M} --audio {m4a} --out {O}", r"--audio \S+speech\.m4a: AAC is not readable"),
    ("audio-not-audio", "predict --model {M} --audio {text} --out {O}", r"--audio\b.*notes\.wav"),
    ("audio-missing", "predict --model {M} --audio {O}.wav --out {O}", r"--audio \S+\.wav: no such file"),
    ("not-a-model", "predict --model {D} --audio {clip} --out {O}", r"--model"),
    ("unknown-val-subject", "train --data {D} --workdir {O} --preset tiny --val-subjects nope",
     r"--val-subjects nope: no subject 'nope' in the data"),
    ("val-is-test", "train --data {D} --workdir {O} --preset tiny --val-subjects subj_c --test-subjects subj_c",
     r"--test-subjects subj_c: 'subj_c' is also in --val-subjects"),
    ("unknown-test-sentence", "train --data {D} --workdir {O} --preset tiny --test-sentences sentence09",
     r"--test-sentences sentence09: no sentence 'sentence09' in the data"),
]


def _argv(template, trained, vocaset_dir, inputs, out):
    words = shlex.split(template.format(M=trained[0], D=vocaset_dir, O=out, **inputs))
    return ["voca_emotion", *words]


@pytest.mark.parametrize("case, argv, pattern", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusals_are_one_line_naming_the_flag_and_write_nothing(case, argv, pattern, trained, vocaset_dir, inputs,
                                                                 tmp_path, capsys):
    out = tmp_path / "out"
    action = argv.split()[0]
    line = check_cli_refusal(_argv(argv, trained, vocaset_dir, inputs, out), capsys,
                             rf"^zoo voca_emotion {action}: error: {pattern}", untouched=[out])
    assert "Traceback" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["subject-out-of-range", "template-vertex-count", "val-is-test"])
def test_refusals_come_before_tensorflow(case, trained, vocaset_dir, inputs, tmp_path):
    _, argv, pattern = next(r for r in REFUSALS if r[0] == case)
    out = tmp_path / "out"
    line = check_fails_before_tensorflow(_argv(argv, trained, vocaset_dir, inputs, out))
    assert len(line.splitlines()) == 1 and re.search(pattern, line), line
    assert not out.exists()


def test_train_through_the_cli(vocaset_dir, tmp_path, capsys):
    work = tmp_path / "w"
    status, out, err = run_cli(["voca_emotion", "train", "--data", vocaset_dir, "--workdir", work, "--preset",
                                "tiny", "--epochs", "1", "--set", "batch_size=8", "--val-subjects", "subj_c",
                                "--quiet"], capsys)
    assert status == 0, err
    assert f"model written to {work / 'model'}" in out
    config = json.loads((work / "model" / "config.json").read_text())
    meta = json.loads((work / "model" / "metadata.json").read_text())
    assert config["batch_size"] == 8 and config["epochs"] == 1 and config["preset"] == "tiny"
    assert config["subjects"] == ["subj_a", "subj_b"] and meta["val_subjects"] == ["subj_c"]
    assert np.load(work / "model" / "templates.npy").shape == (2, V, 3)
    assert json.loads(out[: out.rindex("}") + 1])["epochs_trained"] == 1


def test_evaluate_writes_json_with_60fps(trained, vocaset_dir, tmp_path, capsys):
    report = tmp_path / "r.json"
    status, out, err = run_cli(["voca_emotion", "evaluate", "--model", trained[0], "--data", vocaset_dir,
                                "--out", report], capsys)
    assert status == 0, err
    result = json.loads(report.read_text())
    assert result == json.loads(out)
    assert result["sequences"] == ["subj_a/sentence04", "subj_b/sentence04", "subj_c/sentence04"]
    model, baseline = result["60fps"]["model"]["mve_m"], result["60fps"]["baseline"]["mve_m"]
    assert 0 < model < 0.05 and 0 < baseline and result["num_frames"]["60fps"] > 100
    # --clips picks sequences; an unknown one is refused with nothing written
    status, out, _ = run_cli(["voca_emotion", "evaluate", "--model", trained[0], "--data", vocaset_dir,
                              "--clips", "subj_a/sentence01"], capsys)
    assert status == 0 and json.loads(out)["sequences"] == ["subj_a/sentence01"]
    check_cli_refusal(["voca_emotion", "evaluate", "--model", trained[0], "--data", vocaset_dir, "--clips",
                       "subj_a/sentence09", "--out", tmp_path / "x.json"], capsys,
                      r"--clips subj_a/sentence09: no sequence 'subj_a/sentence09'", untouched=[tmp_path / "x.json"])


def test_export_prints_parity_lines(trained, tmp_path, capsys):
    dest = tmp_path / "x"
    status, out, err = run_cli(["voca_emotion", "export", "--model", trained[0], "--dest", dest], capsys)
    assert status == 0, err
    parity = re.findall(r"^(\S+)\s+(\S+)\s+max \|Δ\| (\S+) \(tolerance (\S+)\)$", out, re.M)
    checked = {(backend, signature) for backend, signature, _, _ in parity}
    assert {("saved_model", "serving_default"), ("saved_model", "audio"), ("tflite", "serving_default")} <= checked
    assert all(float(diff) <= float(tol) for _, _, diff, tol in parity)
    report = json.loads((dest / "voca_emotion-v1.parity.json").read_text())
    assert report["passed"] and (dest / "voca_emotion" / "1" / "saved_model.pb").is_file()
    assert (dest / "voca_emotion-v1.tflite").is_file()


def test_predict_renders_a_video_with_the_audio(trained, tmp_path, capsys):
    import trimesh

    from zoo.core import parity_speech
    from zoo.datasets.video import read_video, read_video_audio
    from zoo.voca_emotion import Predictor

    model_dir, _ = trained
    predictor = Predictor.load(model_dir)
    faces = np.array([[i, i + 1, i + 2] for i in range(0, 60, 3)], np.int64)
    template = tmp_path / "face.ply"
    template.write_bytes(trimesh.Trimesh(predictor.templates[0], faces, process=False).export(file_type="ply"))
    audio, rate = parity_speech()
    wav = tmp_path / "a.wav"
    sf.write(wav, audio[: rate // 2], rate)
    out = tmp_path / "out"
    status, stdout, _ = run_cli(["voca_emotion", "predict", "--model", str(model_dir), "--audio", str(wav), "--out",
                                 str(out), "--template", str(template), "--format", "none", "--video",
                                 "--image-size", "32"], capsys)
    assert status == 0 and "video.mp4" in stdout
    frames, fps = read_video(out / "video.mp4")
    assert fps == pytest.approx(60.0) and frames.shape[1:] == (32, 32, 3)
    assert abs(len(frames) - np.load(out / "vertices.npy").shape[0]) <= 1
    assert read_video_audio(out / "video.mp4", 16000).size > 0.4 * 16000


def test_predict_video_needs_faces(trained, tmp_path, capsys):
    model_dir, _ = trained
    check_cli_refusal(["voca_emotion", "predict", "--model", str(model_dir), "--audio", "x.wav", "--out",
                       str(tmp_path / "o"), "--video"], capsys, r"--video: needs the mesh's faces",
                      [tmp_path / "o"])


@pytest.mark.parametrize("extra, pattern", [
    (["--emotion", "happy"], r"--emotion happy: needs --flame \(a FLAME model\) for this 64-vertex mesh"),
    (["--emotion", "happy", "--intensity", "1.5"], r"--intensity 1.5: must lie in \[0, 1\]"),
    (["--flame", "x.pkl"], r"--flame: goes with --emotion"),
    (["--emotion", "happy", "--flame", "missing.pkl"], r"--flame missing.pkl"),
    (["--emotion", "auto"], r"--emotion: --emotion auto and --emotion-model DIR go together"),
    (["--emotion", "happy", "--emotion-model", "m"], r"--emotion-model: --emotion auto and --emotion-model DIR go"),
])
def test_emotion_flags_are_checked_before_work(trained, tmp_path, capsys, extra, pattern):
    model_dir, _ = trained
    check_cli_refusal(["voca_emotion", "predict", "--model", str(model_dir), "--audio", "x.wav", "--out",
                       str(tmp_path / "o"), *extra], capsys, pattern, [tmp_path / "o"])


def test_train_fine_tunes_on_a_ravdess_derived_folder_from_a_model(trained, tmp_path, capsys):
    from zoo.datasets import resample, write_emoca
    from zoo.datasets.ravdess import RavdessName
    from zoo.datasets.synthetic import speech
    from zoo.voca_emotion import Predictor

    model_dir, _ = trained
    source = Predictor.load(model_dir)
    sequences, templates = {}, {}
    for actor, voice in ((1, "male_deep"), (2, "female_warm")):
        name = f"Actor_{actor:02d}"
        templates[name] = source.templates[0]
        sequences[name] = {}
        for emotion, statement in (("happy", 1), ("sad", 2)):
            utt = speech.synthesize("Kids are talking by the door.", voice, emotion, "strong")
            audio = resample(utt.audio, utt.sample_rate, 48000)
            frames = int(len(audio) * 29.97 / 48000)
            verts = np.repeat(source.templates[0][None], frames, axis=0)
            verts[:, :16, 1] -= 0.005 * np.abs(np.sin(np.arange(frames) / 3))[:, None]
            stem = RavdessName("audio", "speech", emotion, "strong", statement, 1, actor).stem
            sequences[name][stem] = (verts, np.round(audio * 32767).astype(np.int16), 48000)
    write_emoca(tmp_path / "emoca", sequences, templates)
    status, stdout, err = run_cli(["voca_emotion", "train", "--data", str(tmp_path / "emoca"), "--workdir",
                                   str(tmp_path / "run"), "--init-from", str(model_dir), "--val-subjects", "Actor_02",
                                   "--epochs", "1", "--set", "batch_size=8", "--quiet"], capsys)
    assert status == 0, err
    tuned = Predictor.load(tmp_path / "run" / "model")
    assert tuned.config.subjects == ("Actor_01",) and tuned.config.expression_dim == source.config.expression_dim
    meta = json.loads((tmp_path / "run" / "model" / "metadata.json").read_text())
    assert meta["init_from"] == str(model_dir) and meta["subjects_from"] == {"Actor_01": "mean of the source subjects"}
