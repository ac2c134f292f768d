"""RAVDESS meshes in the derived repo's EMOCA layout: writer, reader, and the three fixed bugs."""
import pickle

import numpy as np
import pytest

from zoo.datasets import DataError, FrameCountError, LabelError, UnsafePickleError, read_emoca, read_emoca_templates
from zoo.datasets.emoca import AUDIO_FILE, FILES, INDEX_FILE, TEMPLATES_FILE, VERTS_FILE, resample_frames, write_emoca
from zoo.datasets.ravdess import RAVDESS_FPS

RATE = 48000
A1_STEMS = ("03-01-05-02-01-01-01", "03-01-01-01-02-01-01")  # Actor_01: angry strong "Kids…", neutral "Dogs…"
A2_STEM = "03-01-08-02-02-02-02"  # Actor_02: surprised strong, statement 2, repetition 2
V = 4


def _audio(samples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-9000, 9000, size=samples).astype(np.int16)


def _layout(frames_of=None, samples=(30000, 26000, 41000)):
    """{actor: {stem: (verts, audio, 48000)}} with floor(samples · 29.97 / 48000) frames each (or ``frames_of``)."""
    rng = np.random.default_rng(0)
    sequences, k = {}, 0
    for actor, stem in [("Actor_01", A1_STEMS[0]), ("Actor_01", A1_STEMS[1]), ("Actor_02", A2_STEM)]:
        n = samples[k]
        frames = int(np.floor(n * RAVDESS_FPS / RATE)) if frames_of is None else frames_of[k]
        verts = (0.1 * rng.normal(size=(frames, V, 3))).astype(np.float32)
        sequences.setdefault(actor, {})[stem] = (verts, _audio(n, k), RATE)
        k += 1
    templates = {a: (0.1 * rng.normal(size=(V, 3))).astype(np.float32) for a in ("Actor_02", "Actor_01")}
    return sequences, templates


def test_round_trip_at_the_source_rate(tmp_path):
    sequences, templates = _layout()
    write_emoca(tmp_path, sequences, templates)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    # at the source rate the resampling is the identity: the written frames come back exactly
    clips = read_emoca(tmp_path, fps=RAVDESS_FPS)
    assert [c.source.rsplit("/", 1)[1] for c in clips] == [A1_STEMS[1], A1_STEMS[0], A2_STEM]  # sorted per actor
    for clip in clips:
        actor, stem = clip.source.rsplit("::", 1)[1].split("/")
        verts, audio, _ = sequences[actor][stem]
        np.testing.assert_array_equal(clip.targets, verts.reshape(len(verts), 3 * V))
        np.testing.assert_array_equal(clip.audio, audio.astype(np.float32) / 32768)
        assert clip.subject == actor and clip.sample_rate == RATE and clip.target_kind == "vertices"
        assert clip.channel_names[:4] == ("v0.x", "v0.y", "v0.z", "v1.x")
    angry, neutral, surprised = clips[1], clips[0], clips[2]
    assert (angry.emotion, angry.intensity, angry.text) == ("angry", "strong", "Kids are talking by the door")
    assert (neutral.emotion, neutral.intensity, neutral.text) == ("neutral", "normal", "Dogs are sitting by the door")
    assert (surprised.subject, surprised.emotion) == ("Actor_02", "surprised")
    # EMOCA's 1-based keys: key k → row offset + k − 1 (Actor_01's neutral stem sorts first: offset 0)
    with open(tmp_path / INDEX_FILE, "rb") as f:
        index = pickle.load(f)
    n0 = len(sequences["Actor_01"][A1_STEMS[1]][0])  # 16 frames: floor(26000 · 29.97 / 48000)
    assert n0 == 16 and sorted(index["Actor_01"][A1_STEMS[1]]) == list(range(1, 17))
    assert index["Actor_01"][A1_STEMS[1]][1] == 0 and index["Actor_01"][A1_STEMS[0]][1] == n0
    templates_back = read_emoca_templates(tmp_path)
    assert list(templates_back) == ["Actor_01", "Actor_02"]  # written sorted
    for actor in templates:
        np.testing.assert_array_equal(templates_back[actor], templates[actor])
    assert [c.subject for c in read_emoca(tmp_path, subjects=["Actor_02"])] == ["Actor_02"]
    assert [c.name for c in read_emoca(tmp_path, stems=[A1_STEMS[0]])] == [A1_STEMS[0]]


def _write_ramp_index(tmp_path, keys):
    """One sequence whose row r holds the value r everywhere, indexed by ``keys`` (in that insertion order)."""
    n = len(keys)
    samples = int(np.ceil(n * RATE / RAVDESS_FPS)) + 10  # floor(samples · 29.97 / 48000) = n
    verts = np.repeat(np.arange(n, dtype=np.float32), V * 3).reshape(n, V, 3)
    write_emoca(tmp_path, {"Actor_01": {A1_STEMS[0]: (verts, _audio(samples, 1), RATE)}},
                {"Actor_01": np.zeros((V, 3), np.float32)})
    base = min(keys)
    (tmp_path / INDEX_FILE).write_bytes(pickle.dumps({"Actor_01": {A1_STEMS[0]: {k: k - base for k in keys}}}))


@pytest.mark.parametrize("keys", [list(range(1, 11)), list(range(10, 0, -1)), list(range(0, 10))],
                         ids=["1-based", "1-based-reversed", "0-based"])
def test_frames_follow_sorted_keys_whatever_the_base(tmp_path, keys):
    _write_ramp_index(tmp_path, keys)
    clip = read_emoca(tmp_path, fps=RAVDESS_FPS)[0]
    # frame i is row i: the first key is the first row (the derived repo read row 1 for key 1)
    np.testing.assert_array_equal(clip.targets[:, 0], np.arange(10, dtype=np.float32))


def test_a_gap_in_the_frame_keys_is_refused(tmp_path):
    _write_ramp_index(tmp_path, [1, 2, 3, 5, 6, 7, 8, 9, 10, 11])
    with pytest.raises(LabelError) as e:
        read_emoca(tmp_path)
    message = str(e.value)
    assert str(tmp_path / INDEX_FILE) in message and f"Actor_01/{A1_STEMS[0]}" in message
    assert "not contiguous" in message and "[4]" in message


def test_resample_frames_by_hand():
    # frames 0, 10, 20 at 1 fps read at 2 fps: times 0, .5, 1, 1.5, 2, 2.5 s → 0, 5, 10, 15, 20, 20 (last held)
    out = resample_frames(np.array([[0.0], [10.0], [20.0]]), 1.0, 2.0, 6)
    np.testing.assert_array_equal(out[:, 0], [0, 5, 10, 15, 20, 20])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(resample_frames(np.array([[3.0, 4.0]]), 1.0, 2.0, 3), [[3, 4]] * 3)


def test_a_linear_ramp_at_29_97_fps_is_exact_at_60_fps(tmp_path):
    samples = 96123  # 2.0025625 s: floor(96123 · 29.97003 / 48000) = 60 source frames, floor(96123 · 60 / 48000) = 120
    rng = np.random.default_rng(5)
    base = rng.uniform(-0.1, 0.1, size=(V, 3))
    slope = rng.uniform(-0.05, 0.05, size=(V, 3))  # m/s
    k = np.arange(60)[:, None, None]
    verts = (base + slope * k / RAVDESS_FPS).astype(np.float32)
    write_emoca(tmp_path, {"Actor_01": {A1_STEMS[0]: (verts, _audio(samples, 2), RATE)}},
                {"Actor_01": base.astype(np.float32)})
    clip = read_emoca(tmp_path)[0]
    assert clip.fps == 60.0 and clip.num_frames == 120
    targets = clip.targets.reshape(120, V, 3)
    # output j at j/60 s lies inside the source span (59 / 29.97003 = 1.9686 s) for j ≤ 118
    j = np.arange(119)[:, None, None]
    np.testing.assert_allclose(targets[:119], base + slope * j / 60.0, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(targets[119], verts[59])  # 1.9833 s: past the last source frame, held


@pytest.mark.parametrize("delta", [-1, 1])
def test_one_frame_off_is_tolerated(tmp_path, delta):
    sequences, templates = _layout(frames_of=(18 + delta, 16, 25))  # floor(30000 · 29.97003 / 48000) = 18
    write_emoca(tmp_path, sequences, templates)
    clip = read_emoca(tmp_path, stems=[A1_STEMS[0]])[0]
    assert clip.num_frames == 37  # floor(30000 · 60 / 48000) = 37.5 → 37, whatever the source count


def test_frame_count_mismatch_is_refused_naming_the_file(tmp_path):
    sequences, templates = _layout(frames_of=(20, 16, 25))  # 20 mesh frames for audio implying 18
    write_emoca(tmp_path, sequences, templates)
    with pytest.raises(FrameCountError) as e:
        read_emoca(tmp_path)
    message = str(e.value)
    assert str(tmp_path / INDEX_FILE) in message and f"Actor_01/{A1_STEMS[0]}" in message
    assert "20 mesh frames but the audio implies 18" in message
    assert (e.value.label_frames, e.value.expected_frames) == (20, 18)


@pytest.mark.parametrize("name", [INDEX_FILE, AUDIO_FILE, TEMPLATES_FILE])
def test_malicious_pickles_are_refused(tmp_path, name):
    sequences, templates = _layout()
    write_emoca(tmp_path, sequences, templates)
    marker = tmp_path / "ran"
    (tmp_path / name).write_bytes(b"cos\nsystem\n(V" + f"touch {marker}".encode() + b"\ntR.")
    with pytest.raises(UnsafePickleError, match="os.system") as e:
        read_emoca(tmp_path)
    assert str(tmp_path / name) in str(e.value)
    assert not marker.exists()


def _dump(obj) -> bytes:
    return pickle.dumps(obj, protocol=2)


@pytest.mark.parametrize("damage, file, cause", [
    (lambda d: (d / AUDIO_FILE).unlink(), AUDIO_FILE, "missing ravdess mesh file"),
    (lambda d: np.save(d / VERTS_FILE, np.zeros((10, 5))), VERTS_FILE, "expected (frames, v, 3)"),
    (lambda d: (d / INDEX_FILE).write_bytes(_dump({"Actor_01": {A1_STEMS[0]: {1: 999}}})), INDEX_FILE,
     "rows outside"),
    (lambda d: (d / INDEX_FILE).write_bytes(_dump({"Actor_01": {"talk": {1: 0}}})), INDEX_FILE,
     "not a ravdess name"),
    (lambda d: (d / INDEX_FILE).write_bytes(_dump({"Actor_01": {A2_STEM: {1: 0}}})), INDEX_FILE,
     "the name is of actor_02"),
    (lambda d: (d / INDEX_FILE).write_bytes(_dump({"Actor_01": {A1_STEMS[0]: {1.5: 0}}})), INDEX_FILE,
     "frame keys must be integers"),
    (lambda d: (d / INDEX_FILE).write_bytes(_dump({"Actor_03": {}})), TEMPLATES_FILE, "no template"),
    (lambda d: (d / AUDIO_FILE).write_bytes(_dump({"Actor_01": {}})), AUDIO_FILE, "no audio"),
    (lambda d: (d / TEMPLATES_FILE).write_bytes(_dump({"Actor_01": np.zeros((4, 2))})), TEMPLATES_FILE,
     "expected (v, 3)"),
    (lambda d: (d / TEMPLATES_FILE).write_bytes(_dump({"Actor_01": np.zeros((7, 3)), "Actor_02": np.zeros((7, 3))})),
     TEMPLATES_FILE, "has 7 vertices"),
])
def test_bad_files_name_the_file_and_the_cause(tmp_path, damage, file, cause):
    sequences, templates = _layout()
    write_emoca(tmp_path, sequences, templates)
    damage(tmp_path)
    with pytest.raises(DataError) as e:
        read_emoca(tmp_path)
    assert str(tmp_path / file) in str(e.value) and cause in str(e.value).lower()


def test_unknown_selections_are_refused(tmp_path):
    sequences, templates = _layout()
    write_emoca(tmp_path, sequences, templates)
    with pytest.raises(DataError, match="no subjects \\['Actor_09'\\]"):
        read_emoca(tmp_path, subjects=["Actor_09"])
    with pytest.raises(DataError, match="no sequences") as e:
        read_emoca(tmp_path, subjects="Actor_02", stems=[A1_STEMS[0]])
    assert str(tmp_path / INDEX_FILE) in str(e.value)


def test_writer_refuses_inconsistent_input(tmp_path):
    sequences, templates = _layout()
    verts, audio, rate = sequences["Actor_01"][A1_STEMS[0]]
    with pytest.raises(ValueError, match="no template for actor 'Actor_01'"):
        write_emoca(tmp_path, sequences, {"Actor_02": templates["Actor_02"]})
    with pytest.raises(ValueError, match="the name is of Actor_02"):
        write_emoca(tmp_path, {"Actor_01": {A2_STEM: (verts, audio, rate)}}, templates)
    with pytest.raises(ValueError, match="audio must be int16"):
        write_emoca(tmp_path, {"Actor_01": {A1_STEMS[0]: (verts, audio / 32768, rate)}}, templates)
    with pytest.raises(ValueError, match="vertices must be"):
        write_emoca(tmp_path, {"Actor_01": {A1_STEMS[0]: (verts[:0], audio, rate)}}, templates)
    assert not list(tmp_path.iterdir())  # nothing written
