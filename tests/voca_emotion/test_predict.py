"""Prediction: frame count and channels, sample formats, style interpolation, subject weights, mesh files in and out."""
from __future__ import annotations

import numpy as np
import pytest

V = 64  # the tiny preset's vertices


@pytest.fixture(scope="module")
def predictor(trained):
    from zoo.voca_emotion import Predictor

    return Predictor.load(trained[0])


@pytest.fixture(scope="module")
def speech16k():
    """2 s of real speech, float32 mono at 16 kHz (32000 samples: a whole number of samples at 44.1 kHz too)."""
    import soxr

    from zoo.core import parity_speech

    audio, rate = parity_speech()
    return soxr.resample(audio, rate, 16000).astype(np.float32)[: 320 * 100]


def test_load_reads_the_model_folder(predictor, trained):
    model_dir, _ = trained
    assert predictor.config.subjects == ("subj_a", "subj_b") and predictor.config.num_vertices == V
    np.testing.assert_array_equal(predictor.templates, np.load(model_dir / "templates.npy"))
    assert predictor.templates.shape == (2, V, 3)
    assert predictor.faces is None  # a 64-vertex mesh is not the corpus's: no faces recorded
    assert len(predictor.names) == 3 * V and tuple(predictor.names[:4]) == ("v0.x", "v0.y", "v0.z", "v1.x")


# 24140 / 16000 s × 60 = 90.525 → 91 (a floor would give 90); 1200 samples: 4.5 → 4 (ties to even, documented)
@pytest.mark.parametrize("samples, rate, frames", [(24140, 16000, 91), (24120, 16000, 90), (33100, 22050, 90),
                                                   (1200, 16000, 4), (4410, 44100, 6)])
def test_predict_gives_round_seconds_times_60_frames_of_3v_channels(predictor, speech16k, samples, rate, frames):
    import soxr

    audio = soxr.resample(speech16k, 16000, rate).astype(np.float32)[:samples] if rate != 16000 else speech16k[
        :samples]
    assert len(audio) == samples
    anim = predictor.predict(audio, rate)
    assert anim.fps == 60 and anim.values.shape == (frames, 3 * V) and np.isfinite(anim.values).all()
    assert tuple(anim.names) == tuple(predictor.names)
    # the flattened channels are (T, V, 3) vertices in metres around the default (subject 0's) template
    verts = anim.values.reshape(frames, V, 3)
    assert np.abs(verts - predictor.templates[0]).max() < 0.05


def test_a_path_and_the_same_array_give_the_same_vertices(predictor, speech16k, tmp_path):
    import soundfile as sf

    path = tmp_path / "speech.wav"
    sf.write(path, speech16k, 16000, subtype="FLOAT")
    from_file = predictor.predict(path).values
    np.testing.assert_array_equal(from_file, predictor.predict(str(path)).values)
    np.testing.assert_array_equal(from_file, predictor.predict(speech16k, 16000).values)
    assert from_file.shape == (120, 3 * V)


def test_the_same_speech_in_two_sample_formats_gives_nearly_the_same_vertices(predictor, speech16k, tmp_path):
    """int16 stereo at 44.1 kHz vs float32 mono at 16 kHz. Bounds: the decoded signals agree within 0.02 (after
    resampling back to 16 kHz); the feature windows within a mean |Δ| of 0.1 (standardised units; the time-reversed
    speech differs by ~0.9); the vertices within a mean |Δ| of 0.05 mm and a max |Δ| of 2 mm, and the mean |Δ| is
    under 1/5 of what other speech (the same, time-reversed) changes: ~0.01 mm and 0.6 mm vs 0.23 mm and 11 mm."""
    import soundfile as sf
    import soxr

    from zoo.datasets import load_audio

    f16, i44 = tmp_path / "mono16k_float.wav", tmp_path / "stereo44k_int16.wav"
    sf.write(f16, speech16k, 16000, subtype="FLOAT")
    up = soxr.resample(speech16k, 16000, 44100)
    sf.write(i44, np.stack([up, up], axis=1), 44100, subtype="PCM_16")
    assert sf.info(i44).channels == 2 and sf.info(i44).subtype == "PCM_16"
    a, rate_a = load_audio(f16)
    b, rate_b = load_audio(i44)
    assert (rate_a, rate_b) == (16000, 44100) and a.ndim == b.ndim == 1 and len(b) == 88200
    assert np.abs(soxr.resample(b, 44100, 16000) - a).max() < 0.02

    w_a, w_b = predictor.windows(f16), predictor.windows(i44)
    assert w_a.shape == w_b.shape == (120, 16, 29)
    assert np.abs(w_a - w_b).mean() < 0.1 < 0.5 < np.abs(w_a - predictor.windows(a[::-1].copy(), 16000)).mean()

    v_a, v_b = predictor.predict(f16).values, predictor.predict(i44).values
    np.testing.assert_array_equal(v_b, predictor.predict(b, rate_b).values)
    v_other = predictor.predict(a[::-1].copy(), 16000).values
    assert v_a.shape == v_b.shape == (120, 3 * V)
    by_format, by_speech = np.abs(v_a - v_b).mean(), np.abs(v_a - v_other).mean()
    assert by_speech > 1e-4  # metres: the model follows the audio, so the bound below says something
    assert by_format < min(5e-5, by_speech / 5) and np.abs(v_a - v_b).max() < 2e-3


def test_style_interpolation_blends_the_subject_runs(predictor, speech16k):
    windows = predictor.windows(speech16k, 16000)
    tpl = predictor.templates[0]
    run0, run1 = predictor.run(windows, 0, tpl), predictor.run(windows, 1, tpl)
    assert run0.shape == (120, V, 3)
    assert np.abs(run0 - run1).max() > 1e-5  # the subject condition matters, so the weights are visible
    expected = 0.25 * run0 + 0.75 * run1
    for subject in ({0: 0.25, 1: 0.75}, {0: 1, 1: 3}, "0:0.25,1:0.75", "subj_b:3,subj_a:1"):
        np.testing.assert_allclose(predictor.vertices(windows, subject), expected, atol=1e-7, err_msg=str(subject))
    # a given template is used for every subject of the blend
    other = predictor.templates[1]
    np.testing.assert_allclose(predictor.vertices(windows, {0: 1, 1: 3}, other),
                               0.25 * predictor.run(windows, 0, other) + 0.75 * predictor.run(windows, 1, other),
                               atol=1e-7)
    # a zero weight drops that subject: the same as the other alone
    np.testing.assert_allclose(predictor.vertices(windows, {0: 0, 1: 2}, tpl), run1, atol=1e-7)


def test_the_default_template_is_subject_0s(predictor, speech16k):
    windows = predictor.windows(speech16k, 16000)
    assert np.abs(predictor.templates[0] - predictor.templates[1]).max() > 1e-3  # the templates differ
    np.testing.assert_allclose(predictor.vertices(windows, 0), predictor.run(windows, 0, predictor.templates[0]),
                               atol=1e-7)
    np.testing.assert_allclose(predictor.vertices(windows, {0: 0.5, 1: 0.5}),
                               predictor.vertices(windows, {0: 0.5, 1: 0.5}, predictor.templates[0]), atol=1e-7)


def test_the_default_template_is_the_chosen_subjects_own(predictor, speech16k):
    windows = predictor.windows(speech16k, 16000)
    np.testing.assert_allclose(predictor.vertices(windows, 1), predictor.run(windows, 1, predictor.templates[1]),
                               atol=1e-7)
    blend = predictor.vertices(windows, {1: 0.5, 0: 0.5})  # a blend: the first subject's (index order)
    expected = 0.5 * predictor.run(windows, 0, predictor.templates[0]) + 0.5 * predictor.run(windows, 1,
                                                                                             predictor.templates[0])
    np.testing.assert_allclose(blend, expected, atol=1e-7)


# -- subject weights (no TensorFlow) ----------------------------------------------------------------------------
@pytest.fixture
def config():
    from zoo.voca_emotion import preset

    return preset("tiny", subjects=("subj_a", "subj_b", "subj_c"))


@pytest.mark.parametrize("subject, expected", [
    ("0:0.5,1:0.5", {0: 0.5, 1: 0.5}),
    ("0:1, 2:3", {0: 0.25, 2: 0.75}),
    ({0: 1, 1: 3}, {0: 0.25, 1: 0.75}),
    ("subj_c", {2: 1.0}),
    ("subj_b:1,subj_a:1", {0: 0.5, 1: 0.5}),
    ({"subj_c": 2.0, 0: 2.0}, {0: 0.5, 2: 0.5}),
    (1, {1: 1.0}),
    ("2", {2: 1.0}),
    ("0:0,1:2", {1: 1.0}),
    ("0:1,subj_a:1,1:2", {0: 0.5, 1: 0.5}),  # a name and its index add up
])
def test_subject_weights_parse_and_normalise(config, subject, expected):
    from zoo.voca_emotion.predict import subject_weights

    weights = subject_weights(config, subject)
    assert weights.keys() == expected.keys()
    assert all(abs(weights[k] - expected[k]) < 1e-12 for k in expected)
    assert abs(sum(weights.values()) - 1) < 1e-12


def test_a_repeated_index_in_the_text_adds_up(config):
    from zoo.voca_emotion.predict import subject_weights

    assert subject_weights(config, "0:1,0:1,1:2") == {0: 0.5, 1: 0.5}


@pytest.mark.parametrize("subject, message", [
    ("0:-0.5,1:1", r"weight of '0' must be a finite number ≥ 0"),
    ({1: -1.0}, r"must be a finite number ≥ 0"),
    ("0:nan", r"must be a finite number ≥ 0"),
    ("3", r"subject index 3 outside 0…2 \(0-based\)"),
    ("0:0.5,3:0.5", r"subject index 3 outside 0…2"),
    (-1, r"subject index -1 outside"),
    ("0:0,1:0", r"sum to 0"),
    ("0:x", r"must read 'index:weight,…', got '0:x'"),
    ("subj_z", r"unknown subject 'subj_z'; the model knows \(0-based\) 0: subj_a, 1: subj_b, 2: subj_c"),
])
def test_subject_weights_refuse_with_a_value_error(config, subject, message):
    from zoo.voca_emotion.predict import subject_weights

    with pytest.raises(ValueError, match=message):
        subject_weights(config, subject)


# -- mesh files ---------------------------------------------------------------------------------------------------
def _mesh_file(path, vertices, faces=None):
    import trimesh

    faces = np.zeros((0, 3), np.int64) if faces is None else faces
    trimesh.Trimesh(vertices=vertices, faces=faces, process=False).export(path)
    return path


def _strip(n):
    return np.array([[i, i + 1, i + 2] for i in range(n - 2)], np.int32)


@pytest.mark.parametrize("fmt", ["ply", "obj"])
def test_write_sequence_then_load_template_round_trip(tmp_path, fmt):
    from zoo.voca_emotion.meshes import load_template, write_sequence

    rng = np.random.default_rng(1)
    verts = rng.normal(0, 0.05, (4, V, 3)).astype(np.float32)
    out = write_sequence(verts, tmp_path / "out", faces=_strip(V), fmt=fmt)
    assert sorted(p.name for p in (out / "meshes").iterdir()) == [f"{t:05d}.{fmt}" for t in range(4)]
    np.testing.assert_array_equal(np.load(out / "vertices.npy"), verts)
    for t in (0, 3):
        back, faces = load_template(out / "meshes" / f"{t:05d}.{fmt}", V)
        np.testing.assert_allclose(back, verts[t], atol=1e-6)  # the file's vertex order is kept
        np.testing.assert_array_equal(faces, _strip(V))
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_write_sequence_leaves_no_partial_folder(tmp_path, monkeypatch, interruption):
    from zoo.voca_emotion import meshes

    real, calls = meshes.mesh_bytes, []

    def third_fails(vertices, faces, fmt):
        calls.append(fmt)
        if len(calls) == 3:
            raise interruption("stopped on the 3rd frame")
        return real(vertices, faces, fmt)

    monkeypatch.setattr(meshes, "mesh_bytes", third_fails)
    verts = np.zeros((5, V, 3), np.float32)
    out = tmp_path / "out"
    with pytest.raises(interruption):
        meshes.write_sequence(verts, out, faces=_strip(V))
    assert len(calls) == 3
    assert not (out / "meshes").exists()
    assert list(out.glob(".meshes.partial-*")) == []
    assert not (out / "vertices.npy").exists()

    # over an earlier complete result: the interrupted rewrite leaves the earlier meshes as they were
    monkeypatch.setattr(meshes, "mesh_bytes", real)
    earlier = np.ones((2, V, 3), np.float32)
    meshes.write_sequence(earlier, out, faces=_strip(V))
    before = {p.name: p.read_bytes() for p in (out / "meshes").iterdir()}
    calls.clear()
    monkeypatch.setattr(meshes, "mesh_bytes", third_fails)
    with pytest.raises(interruption):
        meshes.write_sequence(verts, out, faces=_strip(V))
    assert {p.name: p.read_bytes() for p in (out / "meshes").iterdir()} == before
    assert list(out.glob(".meshes.partial-*")) == []
    np.testing.assert_array_equal(np.load(out / "vertices.npy"), earlier)


def _garbage(path, data=bytes(range(256)) * 4):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case, make, message", [
    ("missing", lambda d: d / "absent.ply", r"template mesh not found"),
    ("wrong-suffix", lambda d: _mesh_file(d / "face.stl", np.zeros((V, 3)), _strip(V)), r"must be one of \.ply, \.obj"),
    ("wrong-count", lambda d: _mesh_file(d / "face.ply", np.random.default_rng(0).normal(size=(10, 3)), _strip(10)),
     r"the mesh has 10 vertices; the model animates 64"),
    ("garbage-ply", lambda d: _garbage(d / "face.ply"), r"not a readable mesh"),
    ("garbage-obj", lambda d: _garbage(d / "face.obj"), r"holds no vertices|not a readable mesh"),
    ("empty-ply", lambda d: _garbage(d / "face.ply", b""), r"not a readable mesh"),
])
def test_load_template_errors_name_the_file(tmp_path, case, make, message):
    from zoo.datasets import DataError
    from zoo.voca_emotion.meshes import load_template

    path = make(tmp_path)
    with pytest.raises(DataError, match=message) as caught:
        load_template(path, V)
    assert str(caught.value).startswith(f"{path}: "), str(caught.value)


def test_emotion_is_added_with_its_ramp_on_the_corpus_mesh_and_refused_elsewhere(predictor, speech16k):
    from zoo.datasets.synthetic import geometry
    from zoo.voca_emotion import build_model, preset
    from zoo.voca_emotion.emotion import EmotionBasis, ramp
    from zoo.voca_emotion.predict import Predictor as VocaPredictor

    config = preset("tiny", num_vertices=geometry.NUM_VERTICES, subjects=("a",))
    tpl = geometry.template("f2")[None]
    corpus = VocaPredictor(build_model(config), config, tpl)
    plain = corpus.predict(speech16k, 16000).values.reshape(-1, geometry.NUM_VERTICES, 3)
    happy = corpus.predict(speech16k, 16000, emotion="happy", intensity=0.5, ease_frames=6)
    happy = happy.values.reshape(plain.shape)
    alpha = ramp(len(plain), intensity=0.5, ease_in=6, ease_out=6)
    delta = EmotionBasis.from_corpus().delta("happy")
    np.testing.assert_allclose(happy - plain, alpha[:, None, None] * delta[None], atol=2e-7)
    assert alpha[0] == 0 and alpha[len(alpha) // 2] == pytest.approx(0.5)
    upper = corpus.predict(speech16k, 16000, emotion="sad", upper_face_only=True).values.reshape(plain.shape)
    np.testing.assert_array_equal(upper[:, geometry.LIP_VERTICES], plain[:, geometry.LIP_VERTICES])
    assert np.abs(upper[:, geometry.UPPER_FACE_VERTICES] - plain[:, geometry.UPPER_FACE_VERTICES]).max() > 1e-3
    with pytest.raises(ValueError, match="no emotion basis for a 64-vertex mesh"):
        predictor.predict(speech16k, 16000, emotion="happy")
