"""The synthetic corpus: layouts read back by the real readers, determinism, caching, learnability."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import librosa
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from zoo.datasets import ARKIT_52, ARKIT_INDEX, DataError, read_facegood, split_by_clip
from zoo.datasets.clip import EMOTIONS
from zoo.datasets.emoca import FILES as EMOCA_FILES
from zoo.datasets.emoca import INDEX_FILE, VERTS_FILE, read_emoca, read_emoca_templates
from zoo.datasets.evenet import read_evenet
from zoo.datasets.ravdess import RAVDESS_FPS, read_ravdess
from zoo.datasets.safe_pickle import load_pickle
from zoo.datasets.synthetic import corpus, geometry, speech
from zoo.datasets.video import read_video, read_video_audio
from zoo.datasets.vocaset import read_vocaset

# 120 sentence utterances (2 per speaker × emotion × intensity), 40 as VOCASET meshes, 60 RAVDESS trials
TEST_CONFIG = corpus.CorpusConfig(utterances_per_condition=2, vocaset_sentences=10, ravdess_repetitions=1,
                                  ravdess_actors=2)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "synthetic"
    return out, corpus.generate(out, "test", seed=7, config=TEST_CONFIG, workers=2)


# ---------------------------------------------------------------- layouts


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_manifest_records_every_file(generated):
    out, manifest = generated
    assert manifest["request"] == {"preset": "test", "seed": 7, "config": TEST_CONFIG.__dict__ | {},
                                   "generator_version": corpus.GENERATOR_VERSION}
    assert len(manifest["utterances"]) == 120 + 60
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    assert on_disk == sorted(manifest["files"])
    for rel in on_disk[::37]:
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == manifest["files"][rel]
    conditions = {(u["voice"], u["emotion"], u["intensity"]) for u in manifest["utterances"] if not u["ravdess"]}
    assert len(conditions) == 4 * 15  # every speaker × emotion × intensity (neutral only normal)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_facegood_layout(generated):
    out, manifest = generated
    clips = read_facegood(out / "facegood")
    assert len(clips) == 120
    for clip in clips[::11]:
        assert clip.channel_names == ARKIT_52 and clip.sample_rate == 16000 and clip.fps == 30.0
        assert clip.targets.min() >= 0 and clip.targets.max() <= 1
    labels = np.load(out / "facegood" / "bs_value" / f"bs_value_{clips[0].name}.npy")
    assert labels.dtype == np.float64  # as FACEGOOD's Maya export


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_facegood_subset_writes_the_same_bytes(generated, tmp_path):
    out, manifest = generated
    ids = [u["id"] for u in manifest["utterances"] if u.get("ravdess") is None][:2]
    assert corpus.write_facegood_subset(tmp_path, seed=7, ids=ids, config=TEST_CONFIG) == ids
    for rel in [f"wav/{ids[0]}.wav", f"bs_value/bs_value_{ids[1]}.npy", "BS_name.npy"]:
        assert (tmp_path / rel).read_bytes() == (out / "facegood" / rel).read_bytes()
    with pytest.raises(ValueError, match="not in the corpus plan"):
        corpus.write_facegood_subset(tmp_path, seed=7, ids=["nope"], config=TEST_CONFIG)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_evenet_subset_writes_the_same_bytes(generated, tmp_path):
    out, manifest = generated
    ids = [u["id"] for u in manifest["utterances"] if u.get("ravdess") is None][3:5]
    assert corpus.write_evenet_subset(tmp_path, seed=7, ids=ids, config=TEST_CONFIG) == ids
    for rel in [f"{ids[0]}.dat", f"{ids[0]}.pho", f"{ids[1]}.emo", f"{ids[1]}.wav", "reader_config.json"]:
        assert (tmp_path / rel).read_bytes() == (out / "evenet" / rel).read_bytes()


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_evenet_layout(generated):
    out, manifest = generated
    clips = read_evenet(out / "evenet")
    assert len(clips) == 120
    by_id = {u["id"]: u for u in manifest["utterances"]}
    for clip in clips[::13]:
        plan = by_id[clip.name]
        assert clip.fps == 48.0 and clip.channel_names == ARKIT_52 and clip.emotion == plan["emotion"]
        assert clip.has_audio and clip.num_frames == int(np.floor(clip.audio.size * 48 / 16000))
        assert {p[2] for p in clip.phonemes} <= set(json.loads((out / "evenet" / "reader_config.json").read_text())
                                                    ["phoneme_categories"])
        assert len(clip.phonemes) >= 5


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_vocaset_layout(generated):
    out, _ = generated
    clips = read_vocaset(out / "vocaset", on_mismatch="error")
    assert len(clips) == 40 and {c.subject for c in clips} == {f"Synth_{v}" for v, _, _ in corpus.SPEAKERS}
    clip = clips[0]
    assert clip.fps == 60 and clip.sample_rate == speech.SAMPLE_RATE
    assert clip.targets.shape[1] == 3 * geometry.NUM_VERTICES


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_ravdess_layout(generated):
    out, _ = generated
    clips = read_ravdess(out / "ravdess")
    assert len(clips) == 60 and {c.subject for c in clips} == {"Actor_01", "Actor_02"}
    assert {c.text for c in clips} == {"Kids are talking by the door", "Dogs are sitting by the door"}
    assert {(c.emotion, c.intensity) for c in clips} == set(corpus.EMOTION_INTENSITIES)
    clip = clips[5]
    assert clip.sample_rate == 48000
    stem = clip.name.replace("03-", "01-", 1)
    frames, fps = read_video(out / "ravdess" / clip.subject / f"{stem}.mp4")
    assert frames.shape[1:] == (128, 128, 3) and fps == pytest.approx(RAVDESS_FPS, abs=0.01)
    assert abs(len(frames) - clip.num_frames) <= 1
    assert read_video_audio(out / "ravdess" / clip.subject / f"{stem}.mp4", 16000).size > 8000
    silent = out / "ravdess" / clip.subject / f"{stem.replace('01-', '02-', 1)}.mp4"
    np.testing.assert_array_equal(read_video(silent)[0], frames)
    with pytest.raises(DataError, match="cannot read audio"):
        read_video_audio(silent, 16000)
    landmarks = np.load(out / "ravdess" / "landmarks" / f"{stem}.npy")
    assert landmarks.shape == (len(frames), 68, 2) and (landmarks > 0).all() and (landmarks < 128).all()


# ---------------------------------------------------------------- determinism, cache, bad input

MICRO = corpus.CorpusConfig(utterances_per_condition=1, vocaset_sentences=1, ravdess_repetitions=1, ravdess_actors=1)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_same_seed_same_bytes_and_cache(tmp_path, monkeypatch):
    a = corpus.generate(tmp_path / "a", "micro", seed=3, config=MICRO, workers=1)
    b = corpus.generate(tmp_path / "b", "micro", seed=3, config=MICRO, workers=2)
    assert a["files"] == b["files"] and len(a["files"]) > 300
    assert (tmp_path / "a" / "vocaset" / "data_verts.npy").read_bytes() == \
        (tmp_path / "b" / "vocaset" / "data_verts.npy").read_bytes()
    c = corpus.generate(tmp_path / "c", "micro", seed=4, config=MICRO, workers=2)
    assert c["files"] != a["files"]

    def no_synthesis(*args, **kwargs):
        raise AssertionError("a cached corpus must not be synthesised again")

    monkeypatch.setattr(speech, "synthesize", no_synthesis)
    assert corpus.generate(tmp_path / "a", "micro", seed=3, config=MICRO) == a
    with pytest.raises(DataError, match="other arguments"):
        corpus.generate(tmp_path / "a", "micro", seed=5, config=MICRO)


def test_bad_output_folders(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="not a folder"):
        corpus.generate(tmp_path / "file", config=MICRO)
    with pytest.raises(DataError, match="not writable"):
        corpus.generate(tmp_path / "file" / "below", config=MICRO)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        corpus.generate(tmp_path / "full", config=MICRO)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    target = locked / "out"
    if os.access(locked, os.W_OK):  # root ignores the mode bits; sysfs refuses even root
        target = Path("/sys/zoo-corpus-test")
        if os.access("/sys", os.W_OK) and _can_create(target):
            pytest.skip("no folder here refuses writes to this user (root outside a container)")
    with pytest.raises(DataError, match="not writable"):
        corpus.generate(target, config=MICRO)
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def _can_create(path: Path) -> bool:
    try:
        path.mkdir()
    except OSError:
        return False
    path.rmdir()
    return True


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset"):
        corpus.generate("/nonexistent/x", "huge")


def test_zoo_corpus_command_reports_errors(tmp_path):
    zoo = Path(sys.executable).with_name("zoo")
    (tmp_path / "file").write_text("x")
    run = subprocess.run([str(zoo), "corpus", "--out", str(tmp_path / "file" / "x"), "--preset", "small"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "is a file, not a folder" in run.stderr
    assert str(tmp_path / "file" / "x") in run.stderr
    helped = subprocess.run([str(zoo), "corpus", "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "--preset" in helped.stdout and "medium" in helped.stdout


# ---------------------------------------------------------------- learnability

N_MELS, CONTEXT = 40, 5


def _features(audio: np.ndarray, rate: int, fps: float, frames: int) -> np.ndarray:
    """40 log-mel bands (25 ms windows, 10 ms hop) sampled at the frame times, with ±5 frames of context."""
    hop = rate // 100
    mel = librosa.feature.melspectrogram(y=audio, sr=rate, n_fft=2 ** int(np.ceil(np.log2(rate * 0.025))),
                                         hop_length=hop, win_length=int(rate * 0.025), n_mels=N_MELS)
    logmel = np.log(mel + 1e-6).T
    at = np.clip(np.round(np.arange(frames) / fps * 100).astype(int), 0, len(logmel) - 1)
    f = np.pad(logmel[at], ((CONTEXT, CONTEXT), (0, 0)), mode="edge")
    return np.concatenate([f[k:k + frames] for k in range(2 * CONTEXT + 1)], axis=1)


def _ridge_r(train: list[tuple[np.ndarray, np.ndarray]], test: list[tuple[np.ndarray, np.ndarray]],
             lam: float = 10.0) -> float:
    """Pearson r on ``test`` of a ridge regression fitted on ``train`` (lists of (features, target))."""
    x = np.concatenate([f for f, _ in train])
    y = np.concatenate([t for _, t in train])
    mu, sd = x.mean(0), x.std(0) + 1e-6
    a = np.c_[(x - mu) / sd, np.ones(len(x))]
    w = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ y)
    xt = np.concatenate([f for f, _ in test])
    pred = np.c_[(xt - mu) / sd, np.ones(len(xt))] @ w
    return float(np.corrcoef(pred, np.concatenate([t for _, t in test]))[0, 1])


def _voiced(audio: np.ndarray, rate: int, fps: float, frames: int) -> slice:
    """Frames from the first to the last whose RMS exceeds 2 % of the loudest frame (leading/trailing pauses cut).

    Every utterance starts and ends in silence with the mouth at rest; left in, that shared envelope
    lets even mismatched audio "predict" the mouth, and the shuffled control would measure it.
    """
    edges = np.floor(np.arange(frames + 1) * rate / fps).astype(int)
    rms = np.sqrt(np.add.reduceat(audio[:edges[-1]].astype(np.float64) ** 2, edges[:-1]) / np.diff(edges))
    on = np.flatnonzero(rms > 0.02 * rms.max())
    return slice(int(on[0]), int(on[-1]) + 1)


def _pairs(clips, target_fn, text_of) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(features, target, text) of the voiced part of each clip; ``target_fn(clip) -> (frames,)``."""
    out = []
    for c in clips:
        target = target_fn(c)
        n = min(len(target), c.num_frames)
        span = _voiced(c.audio, c.sample_rate, c.fps, n)
        out.append((_features(c.audio, c.sample_rate, c.fps, n)[span], target[:n][span], text_of(c)))
    return out


def _learn_and_control(train, test, shuffles: int = 20) -> tuple[float, float]:
    """Held-out r of the true pairing, and the mean held-out r over ``shuffles`` shuffled pairings.

    A shuffled pairing gives each training utterance's audio the targets of an utterance with a
    different text (cut to the shorter), started at a random offset (circularly) so that speech onsets
    do not line up either: nothing but chance links what is heard to what moves.
    """
    real = _ridge_r([(f, t) for f, t, _ in train], [(f, t) for f, t, _ in test])
    controls = []
    for seed in range(shuffles):
        rng = np.random.default_rng(seed)
        perm = rng.permutation(len(train))
        shuffled = []
        for i, j in enumerate(perm):
            while j == i or train[j][2] == train[i][2]:
                j = (j + 1) % len(train)
            n = min(len(train[i][0]), len(train[j][1]))
            shuffled.append((np.roll(train[i][0][:n], int(rng.integers(n)), axis=0), train[j][1][:n]))
        controls.append(_ridge_r(shuffled, [(f, t) for f, t, _ in test]))
    return real, float(np.mean(controls))


def _assert_learnable(what: str, split, target_fn, text_fn) -> None:
    """Held-out r ≥ 0.5 from the audio, and |r| ≤ 0.1 for the same regression on shuffled audio."""
    r, control = _learn_and_control(_pairs(split.train, target_fn, text_fn), _pairs(split.test, target_fn, text_fn))
    assert r >= 0.5, f"{what}: held-out r = {r:.3f}"
    assert abs(control) <= 0.1, f"{what} with shuffled audio: r = {control:.3f}"


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_jaw_open_is_learnable_from_audio(generated):
    out, manifest = generated
    text = {u["id"]: u["text"] for u in manifest["utterances"]}
    split = split_by_clip(read_facegood(out / "facegood"), val=0.0, test=0.25, seed=1)
    _assert_learnable("jawOpen", split, lambda c: c.targets[:, ARKIT_INDEX["jawOpen"]], lambda c: text[c.name])


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_mouth_opening_landmark_distance_is_learnable(generated):
    out, _ = generated
    split = split_by_clip(read_ravdess(out / "ravdess", sample_rate=16000), val=0.0, test=0.25, seed=2)

    def gap(clip):  # inner-lip landmark distance 62–66, pixels
        lm = np.load(out / "ravdess" / "landmarks" / f"{clip.name.replace('03-', '01-', 1)}.npy")
        return np.linalg.norm(lm[:, 66] - lm[:, 62], axis=1)

    _assert_learnable("inner-lip landmark gap", split, gap, lambda c: c.text)


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_lower_lip_vertex_height_is_learnable(generated):
    out, manifest = generated
    split = split_by_clip(read_vocaset(out / "vocaset", sample_rate=16000), val=0.0, test=0.25, seed=3)
    lower_lip = int(geometry.LANDMARK_VERTICES[57])  # iBUG 57: centre of the outer lower lip
    text = {(u["voice"], u["vocaset_sentence"]): u["text"] for u in manifest["utterances"]}
    _assert_learnable("lower-lip vertex height", split, lambda c: c.targets[:, 3 * lower_lip + 1],
                      lambda c: text[(c.subject.removeprefix("Synth_"), c.source.rsplit("/", 1)[-1])])


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_emotion_is_recoverable_from_brows_and_smile(generated):
    out, manifest = generated
    emotion = {u["id"]: u["emotion"] for u in manifest["utterances"]}
    channels = [ARKIT_INDEX[n] for n in ("browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
                                         "browOuterUpRight", "mouthSmileLeft", "mouthSmileRight")]
    split = split_by_clip(read_facegood(out / "facegood"), val=0.0, test=0.3, seed=4)
    xy = lambda clips: (np.array([c.targets[:, channels].mean(0) for c in clips]),  # noqa: E731
                        np.array([emotion[c.name] for c in clips]))
    x_train, y_train = xy(split.train)
    x_test, y_test = xy(split.test)
    assert len(set(y_train)) == 8
    classifier = LogisticRegression(C=100.0, max_iter=5000).fit(x_train, y_train)
    accuracy = float((classifier.predict(x_test) == y_test).mean())
    assert accuracy >= 0.8, f"emotion from mean brow/smile weights: accuracy {accuracy:.2f}"


# ---------------------------------------------------------------- RAVDESS meshes (EMOCA layout) and the subset writers

EMOCA_CONDITIONS = {("neutral", "normal")} | {(e, "strong") for e in EMOTIONS[1:]}  # what the derived repo trained on
                                                                                   # (strong) + the neutral trials


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_ravdess_meshes_layout(generated):
    out, manifest = generated
    folder = out / corpus.EMOCA_FOLDER
    for name in EMOCA_FILES:  # recorded like the vocaset files
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == manifest["files"][f"ravdess_meshes/{name}"]
    clips = read_emoca(folder)
    assert len(clips) == 2 * 16 and {c.subject for c in clips} == {"Actor_01", "Actor_02"}  # 16 trials per actor
    assert {(c.emotion, c.intensity) for c in clips} == EMOCA_CONDITIONS
    trials = {u["id"]: u for u in manifest["utterances"] if u["ravdess"]}
    index = load_pickle(folder / INDEX_FILE)
    for clip in clips:
        # one mesh row per video frame, keys 1 … T; 60 fps targets of floor(samples · 60 / 48000) frames
        assert sorted(index[clip.subject][clip.name]) == list(range(1, trials[clip.name]["frames_29.97fps"] + 1))
        assert clip.fps == 60.0 and clip.sample_rate == 48000 and clip.num_frames == clip.audio.size * 60 // 48000
    templates = read_emoca_templates(folder)
    for _, identity, actor in corpus.SPEAKERS[:2]:  # the true neutral face: the mesh at all-zero weights
        np.testing.assert_array_equal(templates[f"Actor_{actor:02d}"], geometry.deform(identity, np.zeros(52)))


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_ravdess_meshes_move_as_the_videos_do(generated):
    """The meshes are the unposed motion the video renders: the inner-lip gap of the mesh (iBUG 62–66, metres) and
    of the video's ground-truth landmarks (pixels) correlate with r ≥ 0.95 over the frames of every trial."""
    out, _ = generated
    folder = out / corpus.EMOCA_FOLDER
    verts, index = np.load(folder / VERTS_FILE), load_pickle(folder / INDEX_FILE)
    upper, lower = int(geometry.LANDMARK_VERTICES[62]), int(geometry.LANDMARK_VERTICES[66])
    mesh_gap, pixel_gap = [], []
    for stems in index.values():
        for stem, frames in stems.items():
            rows = [frames[k] for k in sorted(frames)]
            mesh_gap.append(np.linalg.norm(verts[rows, upper] - verts[rows, lower], axis=1))
            lm = np.load(out / "ravdess" / "landmarks" / f"{stem.replace('03-', '01-', 1)}.npy")
            assert len(lm) == len(rows)
            pixel_gap.append(np.linalg.norm(lm[:, 66] - lm[:, 62], axis=1))
    r = float(np.corrcoef(np.concatenate(mesh_gap), np.concatenate(pixel_gap))[0, 1])
    assert r >= 0.95, f"mesh vs video inner-lip gap: r = {r:.3f}"


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_emoca_subset_writes_the_same_bytes(generated, tmp_path):
    out, manifest = generated
    stems = corpus.write_emoca_subset(tmp_path / "all", seed=7, config=TEST_CONFIG)
    assert stems == [u["id"] for u in manifest["utterances"]
                     if u["ravdess"] and (u["emotion"], u["intensity"]) in EMOCA_CONDITIONS]
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == sorted(EMOCA_FILES)  # no wav, no video
    for name in EMOCA_FILES:
        assert (tmp_path / "all" / name).read_bytes() == (out / corpus.EMOCA_FOLDER / name).read_bytes(), name
    two = corpus.write_emoca_subset(tmp_path / "two", seed=7, config=TEST_CONFIG, actors=[2])
    assert len(two) == 16 and {s[-2:] for s in two} == {"02"}
    assert set(read_emoca_templates(tmp_path / "two")) == {"Actor_02"}
    with pytest.raises(ValueError, match="Actor_03"):
        corpus.write_emoca_subset(tmp_path / "x", seed=7, config=TEST_CONFIG, actors=["Actor_03"])


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_ravdess_subset_writes_the_same_bytes(generated, tmp_path):
    from zoo.datasets.synthetic.corpus import write_ravdess_subset

    root, _ = generated
    stems = sorted(p.stem for p in (root / "ravdess").rglob("03-*.wav"))[:2]
    assert write_ravdess_subset(tmp_path, seed=7, stems=stems, config=TEST_CONFIG, workers=1) == stems
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert len(written) == 2 * 4  # per trial: the WAV, the 01 and 02 videos, the landmarks
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (root / "ravdess" / rel).read_bytes(), rel


@pytest.mark.slow  # the default tier's 20-minute budget (CI runs the slow tier too)
def test_vocaset_subset_matches_generate(generated, tmp_path):
    """With TEST_CONFIG, generate's sentence01 of each speaker is the speaker's first (neutral) utterance: the subset
    of one neutral utterance per speaker holds the same meshes, audio and template bytes."""
    out, manifest = generated
    listing = corpus.write_vocaset_subset(tmp_path, 1, seed=7, emotions=("neutral",), config=TEST_CONFIG)
    in_corpus = {(u["voice"], u["vocaset_sentence"]): u["id"] for u in manifest["utterances"] if u["vocaset_sentence"]}
    assert {s: [(n, i) for n, i, _ in v] for s, v in listing.items()} == \
        {f"Synth_{voice}": [("sentence01", in_corpus[(voice, "sentence01")])] for voice, _, _ in corpus.SPEAKERS}
    assert (tmp_path / "templates.pkl").read_bytes() == (out / "vocaset" / "templates.pkl").read_bytes()
    mine = {c.subject: c for c in read_vocaset(tmp_path, on_mismatch="error")}
    theirs = {c.subject: c for c in read_vocaset(out / "vocaset", sentences=["sentence01"], on_mismatch="error")}
    assert set(mine) == set(theirs) and len(mine) == 4
    for subject, clip in mine.items():
        np.testing.assert_array_equal(clip.targets, theirs[subject].targets)
        np.testing.assert_array_equal(clip.audio, theirs[subject].audio)


def test_vocaset_subset_is_deterministic_and_in_plan_order(tmp_path):
    a = corpus.write_vocaset_subset(tmp_path / "a", 2, seed=7)
    b = corpus.write_vocaset_subset(tmp_path / "b", 2, seed=7)
    assert a == b
    for name in ("data_verts.npy", "subj_seq_to_idx.pkl", "raw_audio_fixed.pkl", "templates.pkl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # 2 of (neutral, calm) → 1 utterance per condition: each speaker's 15 conditions start neutral, calm-normal
    for s, (voice, _, _) in enumerate(corpus.SPEAKERS):
        assert [(n, i) for n, i, _ in a[f"Synth_{voice}"]] == [("sentence01", f"{15 * s:04d}_{voice}_neutral_normal"),
                                                              ("sentence02", f"{15 * s + 1:04d}_{voice}_calm_normal")]
    clips = read_vocaset(tmp_path / "a", on_mismatch="error")
    assert len(clips) == 8 and {(c.fps, c.sample_rate) for c in clips} == {(60.0, speech.SAMPLE_RATE)}
    with pytest.raises(ValueError, match="fewer than per_speaker=3"):
        corpus.write_vocaset_subset(tmp_path / "c", 3, emotions=("neutral",), config=TEST_CONFIG)
    with pytest.raises(ValueError, match="emotions"):
        corpus.write_vocaset_subset(tmp_path / "c", 1, emotions=("bored",))
