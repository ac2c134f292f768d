"""The synthetic talking corpus (DESIGN §4): one seeded plan, written in the real layouts of four datasets.

``generate(out, preset="small", seed=0)`` synthesises every utterance once with espeak-ng
(``speech``), drives the face from its phoneme timeline (``face``) and the mesh from the face
(``geometry``), and writes::

    out/manifest.json                       what was generated, with which seed, and every file's sha256
    out/facegood/wav/<id>.wav               16 kHz PCM16           \\
    out/facegood/bs_value/bs_value_<id>.npy (frames, 52) at 30 fps  > FACEGOOD (read_facegood)
    out/facegood/BS_name.npy                the ARKit-52 names     /
    out/evenet/<id>.{dat,pho,emo,wav}       52 shape keys at 48 fps, per-frame 56-category phonemes, emotions
    out/evenet/reader_config.json           (read_evenet)
    out/vocaset/{data_verts.npy, raw_audio_fixed.pkl, templates.pkl, subj_seq_to_idx.pkl}   60 fps (read_vocaset)
    out/ravdess/Actor_NN/03-01-EE-II-SS-RR-NN.wav   48 kHz                                   \\
    out/ravdess/Actor_NN/01-01-EE-II-SS-RR-NN.mp4   rendered face + audio, 29.97 fps          > RAVDESS
    out/ravdess/Actor_NN/02-01-EE-II-SS-RR-NN.mp4   the same video without audio              /
    out/ravdess/landmarks/01-01-….npy       (frames, 68, 2) ground-truth iBUG landmarks in pixels (synthetic extra)
    out/ravdess_meshes/{data_verts_RAVDESS.npy, subj_seq_to_idx_RAVDESS.pkl, raw_audio_fixed_RAVDESS.pkl,
                        templates_RAVDESS.pkl}   unposed meshes at 29.97 fps of the RAVDESS trials the derived VOCA
                                                 repo trained on (strong intensity) + the neutral ones (read_emoca)
    out/gesture/speech/audio{id}.wav        44.1 kHz takes of up to 4 sentence utterances   \\  the gesture dataset
    out/gesture/motion/gesture{id}.bvh      its skeleton, 306 values a frame, 1/24 s        /  (read_gesture)
                                            (every 10th take 1/100 s); ids from 20 as the dataset's

The sentence utterances (FACEGOOD, EveNet and a VOCASET subset) cover every speaker × emotion ×
intensity; the RAVDESS part speaks RAVDESS's two statements, as RAVDESS does. The gesture takes join
consecutive sentence utterances of one speaker and condition (``gesture_takes``) with silences between them,
as stretches of an interview, and drive the body from that speech (``synthetic.gesture``). The same
arguments give byte-identical files; a second call finds ``manifest.json`` and returns at once.
``write_facegood_subset``, ``write_evenet_subset``, ``write_emoca_subset``, ``write_gesture_subset`` and
``write_vocaset_subset`` write one layout of part of a plan without rendering anything else (all but the last: the
bytes ``generate`` writes).
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..._version import __version__
from ..arkit import ARKIT_52
from ..audio import resample, to_pcm16
from ..bvh import Motion, gesture_skeleton
from ..cache import atomic_write_bytes, npy_bytes
from ..clip import EMOTIONS, expected_frames
from ..emoca import FILES as EMOCA_FILES
from ..emoca import write_emoca
from ..errors import DataError
from ..evenet import EVENET_FPS, FROM_RAVDESS, default_reader_config, phoneme_frames, write_evenet_take
from ..facegood import FACEGOOD_FPS, FACEGOOD_SAMPLE_RATE, LABEL_PREFIX
from ..gesture import write_gesture_pair
from ..ravdess import RAVDESS_FPS, RAVDESS_SAMPLE_RATE, STATEMENTS, RavdessName, parse_ravdess_name
from ..vocaset import VOCASET_FPS, write_vocaset
from . import face, geometry, gesture, speech

log = logging.getLogger(__name__)

GENERATOR_VERSION = 3  # bump when the output of the same arguments changes (2: ravdess_meshes/, 3: gesture/)
SENTENCES_FILE = Path(__file__).with_name("sentences.txt")
MANIFEST = "manifest.json"
EMOCA_FOLDER = "ravdess_meshes"
GESTURE_FOLDER = "gesture"
GESTURE_FIRST_ID = 20  # the dataset's first id (FIRST_DATA_ID)
GESTURE_TAKE = 4  # sentence utterances at most in one gesture take
GESTURE_SAMPLE_RATE = 44100  # Hz, the dataset's
GESTURE_FAST_EVERY = 10  # every 10th take is written at 1/100 s, the others at the dataset's 1/24 s

# speaker ↔ face identity ↔ RAVDESS actor number (odd actors are male, as in RAVDESS)
SPEAKERS = (("male_deep", "m1", 1), ("female_warm", "f1", 2), ("male_bright", "m2", 3), ("female_high", "f2", 4))
EMOTION_INTENSITIES = tuple((e, i) for e in EMOTIONS for i in ("normal", "strong") if (e, i) != ("neutral", "strong"))


@dataclass(frozen=True)
class CorpusConfig:
    """How much to generate.

    Args:
        utterances_per_condition: sentence utterances per speaker × (emotion, intensity) (4 × 15 conditions).
        vocaset_sentences: sentence utterances per speaker also written as VOCASET meshes (60 fps).
        ravdess_repetitions: RAVDESS repetitions (0, 1 or 2) of each statement × condition × actor.
        ravdess_actors: how many of the 4 speakers also act the RAVDESS trials (Actor_01 … Actor_04).
        image_size: rendered RAVDESS frame size in pixels (square).
    """

    utterances_per_condition: int
    vocaset_sentences: int
    ravdess_repetitions: int
    ravdess_actors: int = 4
    image_size: int = 128

    def __post_init__(self):
        if self.utterances_per_condition < 1 or self.vocaset_sentences < 0:
            raise ValueError(f"invalid corpus size {self}")
        if self.ravdess_repetitions not in (0, 1, 2):
            raise ValueError(f"ravdess_repetitions must be 0, 1 or 2, got {self.ravdess_repetitions}")
        if not 1 <= self.ravdess_actors <= len(SPEAKERS):
            raise ValueError(f"ravdess_actors must be in 1…{len(SPEAKERS)}, got {self.ravdess_actors}")
        if self.image_size < 128 or self.image_size % 2:
            raise ValueError(f"image_size must be even and ≥ 128, got {self.image_size}")


PRESETS = {
    # ≈ 10 min of speech: 180 sentence utterances (20 also as VOCASET meshes) + 120 RAVDESS trials
    "small": CorpusConfig(utterances_per_condition=3, vocaset_sentences=5, ravdess_repetitions=1),
    # ≈ 55 min of speech: 1200 sentence utterances (80 as VOCASET meshes) + 240 RAVDESS trials
    "medium": CorpusConfig(utterances_per_condition=20, vocaset_sentences=20, ravdess_repetitions=2),
}


@dataclass(frozen=True)
class UtterancePlan:
    id: str
    text: str
    voice: str
    identity: str
    emotion: str
    intensity: str
    seed: int
    vocaset_sentence: str | None = None  # "sentenceNN" when also written to VOCASET
    ravdess: str | None = None  # the RAVDESS stem (modality 03) for a RAVDESS trial


def load_sentences() -> list[str]:
    """The bundled sentences, one per line."""
    return [line.strip() for line in SENTENCES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


def plan(config: CorpusConfig, seed: int) -> list[UtterancePlan]:
    """Every utterance to generate, in a fixed order determined by ``config`` and ``seed``.

    Sentences are dealt from a seeded permutation of the bundled list (cycling when exhausted);
    condition order is speaker-major, so every speaker gets every emotion × intensity.
    """
    rng = np.random.default_rng(seed)
    sentences = load_sentences()
    order = rng.permutation(len(sentences))
    out, n = [], 0
    vocaset_count = {voice: 0 for voice, _, _ in SPEAKERS}
    # spread the VOCASET subset over each speaker's conditions: every stride-th utterance of the speaker
    per_speaker = len(EMOTION_INTENSITIES) * config.utterances_per_condition
    stride = max(per_speaker // max(config.vocaset_sentences, 1), 1)
    for voice, identity, _ in SPEAKERS:
        for emotion, intensity in EMOTION_INTENSITIES:
            for _ in range(config.utterances_per_condition):
                text = sentences[order[n % len(sentences)]]
                seed_n = int(rng.integers(2**31))
                vocaset = None
                if (n % per_speaker) % stride == 0 and vocaset_count[voice] < config.vocaset_sentences:
                    vocaset_count[voice] += 1
                    vocaset = f"sentence{vocaset_count[voice]:02d}"
                out.append(UtterancePlan(f"{n:04d}_{voice}_{emotion}_{intensity}", text, voice, identity, emotion,
                                         intensity, seed_n, vocaset_sentence=vocaset))
                n += 1
    for voice, identity, actor in SPEAKERS[: config.ravdess_actors]:
        for emotion, intensity in EMOTION_INTENSITIES:
            for statement in (1, 2):
                for repetition in range(1, config.ravdess_repetitions + 1):
                    name = RavdessName("audio", "speech", emotion, intensity, statement, repetition, actor)
                    out.append(UtterancePlan(name.stem, STATEMENTS[statement - 1], voice, identity, emotion,
                                             intensity, int(rng.integers(2**31)), ravdess=name.stem))
    return out


def _wav_bytes(audio: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio, rate, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def _motion(utt: speech.Utterance, item: UtterancePlan, num_samples: int, rate: int, fps: float) -> face.FaceMotion:
    """Face motion for ``num_samples`` of audio at ``rate``: exactly floor(samples·fps/rate) frames."""
    frames = expected_frames(num_samples, rate, fps)
    motion = face.animate(utt.phonemes, num_samples / rate, fps, emotion=item.emotion, intensity=item.intensity,
                          seed=item.seed)
    if motion.frames != frames:  # float rounding of the duration at a frame boundary
        keep = np.minimum(np.arange(frames), motion.frames - 1)
        motion = face.FaceMotion(motion.weights[keep], motion.names, motion.head[keep], motion.fps)
    return motion


class _Writer:
    """Writes files below ``root`` and records their sha256 for the manifest."""

    def __init__(self, root: Path):
        self.root = root
        self.hashes: dict[str, str] = {}

    def write(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.hashes[relative] = hashlib.sha256(data).hexdigest()

    def record(self, relative: str) -> None:
        self.hashes[relative] = hashlib.sha256((self.root / relative).read_bytes()).hexdigest()


def _facegood_files(item: UtterancePlan, utt: speech.Utterance, writer: _Writer, prefix: str):
    """Write ``<prefix>wav/<id>.wav`` (16 kHz) and its (frames, 52) float64 labels.

    Returns the 16 kHz audio, its WAV bytes and the 30 fps motion.
    """
    a16 = resample(utt.audio, utt.sample_rate, FACEGOOD_SAMPLE_RATE)
    m30 = _motion(utt, item, a16.size, FACEGOOD_SAMPLE_RATE, FACEGOOD_FPS)
    wav16 = _wav_bytes(a16, FACEGOOD_SAMPLE_RATE)
    writer.write(f"{prefix}wav/{item.id}.wav", wav16)
    writer.write(f"{prefix}bs_value/{LABEL_PREFIX}{item.id}.npy", npy_bytes(m30.weights.astype(np.float64)))
    return a16, wav16, m30


def _evenet_files(item: UtterancePlan, utt: speech.Utterance, writer: _Writer, prefix: str, a16: np.ndarray,
                  wav16: bytes) -> int:
    """EveNet: 52 shape keys at 48 fps, one phoneme category and one emotion per frame (+ the 16 kHz wav); returns
    the frame count."""
    m48 = _motion(utt, item, a16.size, FACEGOOD_SAMPLE_RATE, EVENET_FPS)
    phonemes = phoneme_frames(utt.phonemes, m48.frames, EVENET_FPS)
    write_evenet_take(writer.root / prefix, item.id, m48.weights, phonemes,
                      [FROM_RAVDESS[item.emotion]] * m48.frames)
    for suffix in (".dat", ".pho", ".emo"):
        writer.record(f"{prefix}{item.id}{suffix}")
    writer.write(f"{prefix}{item.id}.wav", wav16)
    return m48.frames


def _sentence_utterance(item: UtterancePlan, utt: speech.Utterance, writer: _Writer, vocaset: dict) -> dict:
    # FACEGOOD: 16 kHz wav + float64 (floor(seconds × 30), 52) weights
    a16, wav16, m30 = _facegood_files(item, utt, writer, "facegood/")
    frames48 = _evenet_files(item, utt, writer, "evenet/", a16, wav16)
    if item.vocaset_sentence is not None:
        vocaset.setdefault(f"Synth_{item.voice}", {})[item.vocaset_sentence] = _vocaset_sequence(item, utt)
    return {"frames_30fps": m30.frames, "frames_48fps": frames48}


def _vocaset_sequence(item: UtterancePlan, utt: speech.Utterance) -> tuple[np.ndarray, np.ndarray, int]:
    """VOCASET: unposed meshes (floor(samples · 60 / 22050), V, 3) at 60 fps, the native 22.05 kHz int16 audio."""
    m60 = _motion(utt, item, utt.audio.size, utt.sample_rate, VOCASET_FPS)
    return geometry.deform(item.identity, m60.weights), to_pcm16(utt.audio), utt.sample_rate


def _vocaset_templates(sequences: dict) -> dict[str, np.ndarray]:
    """{Synth_<voice>: template} of the subjects in ``sequences``, in ``SPEAKERS`` order."""
    return {f"Synth_{voice}": geometry.template(identity) for voice, identity, _ in SPEAKERS
            if f"Synth_{voice}" in sequences}


def _emoca_trial(item: UtterancePlan) -> bool:
    """A RAVDESS trial written as meshes: the derived repo trained on intensity "strong" of the 7 non-neutral
    emotions (specs/voca.md §6.1); the neutral trials are added (RAVDESS has no strong neutral)."""
    return item.ravdess is not None and (item.intensity == "strong" or item.emotion == "neutral")


def _ravdess_audio(utt: speech.Utterance) -> tuple[np.ndarray, bytes]:
    """The 48 kHz audio of a trial and the bytes of its audio-only WAV."""
    a48 = resample(utt.audio, utt.sample_rate, RAVDESS_SAMPLE_RATE)
    return a48, _wav_bytes(a48, RAVDESS_SAMPLE_RATE)


def _emoca_sequence(item: UtterancePlan, wav48: bytes, motion: face.FaceMotion) -> tuple[str, str, tuple]:
    """(actor, stem, (vertices (T, V, 3) at 29.97 fps, int16 audio, 48000)) of a trial: the mesh of the motion its
    video renders without the head pose (EMOCA's meshes with global rotation zeroed), and its WAV's samples."""
    name = parse_ravdess_name(item.ravdess)
    pcm, rate = sf.read(io.BytesIO(wav48), dtype="int16")
    return name.subject, name.stem, (geometry.deform(item.identity, motion.weights), pcm, int(rate))


def _emoca_templates(sequences: dict) -> dict[str, np.ndarray]:
    """{Actor_NN: the actor's neutral template} of the actors in ``sequences``."""
    return {f"Actor_{actor:02d}": geometry.template(identity) for _, identity, actor in SPEAKERS
            if f"Actor_{actor:02d}" in sequences}


def _ravdess_trial(item: UtterancePlan, utt: speech.Utterance, writer: _Writer,
                   image_size: int, prefix: str = "ravdess/") -> tuple[dict, tuple | None]:
    """Write a trial's WAV, videos and landmarks under ``prefix``; returns its manifest fields and its
    ``_emoca_sequence`` (None for a trial not written as meshes)."""
    from ..video import write_video

    name = parse_ravdess_name(item.ravdess)
    a48, wav48 = _ravdess_audio(utt)
    folder = f"{prefix}{name.subject}"
    writer.write(f"{folder}/{name.stem}.wav", wav48)
    motion = _motion(utt, item, a48.size, RAVDESS_SAMPLE_RATE, RAVDESS_FPS)
    frames, landmarks = geometry.render_sequence(item.identity, motion.weights, motion.head, image_size)
    av, vo = name.with_modality("audio-video"), name.with_modality("video")
    write_video(writer.root / folder / f"{av.stem}.mp4", frames, RAVDESS_FPS, audio=a48,
                sample_rate=RAVDESS_SAMPLE_RATE)
    writer.record(f"{folder}/{av.stem}.mp4")
    write_video(writer.root / folder / f"{vo.stem}.mp4", frames, RAVDESS_FPS)
    writer.record(f"{folder}/{vo.stem}.mp4")
    writer.write(f"{prefix}landmarks/{av.stem}.npy", npy_bytes(landmarks.astype(np.float32)))
    mesh = _emoca_sequence(item, wav48, motion) if _emoca_trial(item) else None
    return {"frames_29.97fps": int(len(frames))}, mesh


def _ravdess_job(args) -> tuple[dict, dict[str, str], tuple | None]:
    """One RAVDESS trial in a worker: synthesise, render, encode; returns its manifest entry, file hashes and
    ``_emoca_sequence`` (or None)."""
    item, root, image_size = args
    writer = _Writer(Path(root))
    utt = speech.synthesize(item.text, item.voice, item.emotion, item.intensity)
    fields, mesh = _ravdess_trial(item, utt, writer, image_size)
    return {**asdict(item), "duration_s": round(utt.duration, 6), **fields}, writer.hashes, mesh


@dataclass(frozen=True)
class GestureTake:
    """One gesture file: ``id`` (audio{id}.wav + gesture{id}.bvh), the sentence utterances it joins (ids, in
    order) and its BVH frame time (s)."""

    id: int
    utterances: tuple[str, ...]
    frame_time: float


def gesture_takes(items: list[UtterancePlan]) -> list[GestureTake]:
    """The gesture takes of a plan: runs of consecutive sentence utterances with one speaker, emotion and
    intensity, cut into pieces of at most ``GESTURE_TAKE``; ids from ``GESTURE_FIRST_ID`` in plan order, every
    ``GESTURE_FAST_EVERY``-th take at 1/100 s, the others at 1/24 s."""
    takes, run = [], []
    sentences = [i for i in items if i.ravdess is None]
    for k, item in enumerate(sentences):
        run.append(item.id)
        following = sentences[k + 1] if k + 1 < len(sentences) else None
        same = following is not None and (following.voice, following.emotion, following.intensity) == (
            item.voice, item.emotion, item.intensity)
        if len(run) == GESTURE_TAKE or not same:
            n = len(takes)
            fast = n % GESTURE_FAST_EVERY == GESTURE_FAST_EVERY - 1
            takes.append(GestureTake(GESTURE_FIRST_ID + n, tuple(run), 0.01 if fast else 1.0 / 24.0))
            run = []
    return takes


def _gesture_files(take: GestureTake, items: list[UtterancePlan], utts: list[speech.Utterance], writer: _Writer,
                   prefix: str) -> dict:
    """Write a take's 44.1 kHz WAV and its BVH (``write_gesture_pair``); returns its manifest entry."""
    first = items[0]
    joined = gesture.join_utterances(utts, np.random.default_rng(first.seed + 1))
    audio = resample(joined.audio, joined.sample_rate, GESTURE_SAMPLE_RATE)
    skeleton = gesture_skeleton("dataset")
    values = gesture.animate_gesture(joined, audio.size, GESTURE_SAMPLE_RATE, 1.0 / take.frame_time, first.seed,
                                     skeleton)
    folder = writer.root / prefix
    write_gesture_pair(folder, take.id, audio, GESTURE_SAMPLE_RATE,
                       Motion(skeleton, take.frame_time, values, source=f"gesture take {take.id}"))
    for relative in (f"speech/audio{take.id}.wav", f"motion/gesture{take.id}.bvh"):
        writer.record(f"{prefix}{relative}")
    return {"id": take.id, "utterances": list(take.utterances), "frame_time": take.frame_time,
            "frames": int(values.shape[0]), "duration_s": round(audio.size / GESTURE_SAMPLE_RATE, 6),
            "voice": first.voice, "emotion": first.emotion, "intensity": first.intensity}


def _map(fn, jobs: list, workers: int | None):
    """``map(fn, jobs)`` in order, in a pool of spawned processes when ``workers`` > 1.

    Spawned (not forked) workers: the caller may have TensorFlow loaded, which does not survive a fork.
    """
    workers = min(os.cpu_count() or 1, 4) if workers is None else workers
    if workers <= 1 or len(jobs) < 2:
        yield from map(fn, jobs)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(fn, jobs, chunksize=4)


def _request(preset: str, seed: int, config: CorpusConfig) -> dict:
    return {"preset": preset, "seed": int(seed), "config": asdict(config), "generator_version": GENERATOR_VERSION}


def _make_staging(out: Path) -> Path:
    """Create the staging folder beside ``out``; an unwritable place gives one ``DataError``."""
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir(parents=True)
        (staging / ".probe").write_bytes(b"")
        (staging / ".probe").unlink()
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise DataError(out, f"output folder is not writable ({exc.strerror or exc})") from None
    return staging


def _subset(utterances: int | None, seed: int, ids: list[str] | None, config: CorpusConfig | None):
    """Sentence utterances of a corpus plan: those named by ``ids``, or the first ``utterances`` dealt round-robin
    over the four speakers."""
    items = [i for i in plan(config or PRESETS["small"], seed) if i.ravdess is None]
    if ids is not None:
        by_id = {i.id: i for i in items}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise ValueError(f"utterances {unknown} are not in the corpus plan (seed {seed})")
        chosen = [by_id[i] for i in ids]
    else:
        per_speaker = [[i for i in items if i.voice == voice] for voice, _, _ in SPEAKERS]
        chosen = [group[k] for k in range(max(len(g) for g in per_speaker)) for group in per_speaker
                  if k < len(group)][:utterances]
    return chosen


def write_facegood_subset(out: str | os.PathLike, utterances: int | None = None, seed: int = 0, *,
                          ids: list[str] | None = None, config: CorpusConfig | None = None) -> list[str]:
    """Only the FACEGOOD layout (wav/, bs_value/, BS_name.npy) of some sentence utterances of a
    corpus plan (``config``, default the small preset's): the utterances named by ``ids``, or the
    first ``utterances`` dealt round-robin over the four speakers. Returns the ids.

    For tests and quick experiments: the same bytes as ``generate`` writes under ``facegood/``.
    """
    chosen = _subset(utterances, seed, ids, config)
    writer = _Writer(Path(out))
    for item in chosen:
        _facegood_files(item, speech.synthesize(item.text, item.voice, item.emotion, item.intensity), writer, "")
    writer.write("BS_name.npy", npy_bytes(np.array(ARKIT_52)))
    return [item.id for item in chosen]


def write_evenet_subset(out: str | os.PathLike, utterances: int | None = None, seed: int = 0, *,
                        ids: list[str] | None = None, config: CorpusConfig | None = None) -> list[str]:
    """Only the EveNet layout (takes + reader_config.json) of some sentence utterances, chosen as
    ``write_facegood_subset``: the same bytes as ``generate`` writes under ``evenet/``. Returns the ids."""
    chosen = _subset(utterances, seed, ids, config)
    writer = _Writer(Path(out))
    for item in chosen:
        utt = speech.synthesize(item.text, item.voice, item.emotion, item.intensity)
        a16 = resample(utt.audio, utt.sample_rate, FACEGOOD_SAMPLE_RATE)
        _evenet_files(item, utt, writer, "", a16, _wav_bytes(a16, FACEGOOD_SAMPLE_RATE))
    writer.write("reader_config.json", json.dumps(default_reader_config(ARKIT_52), indent=1).encode())
    return [item.id for item in chosen]


def _of_actors(items: list[UtterancePlan], actors) -> list[UtterancePlan]:
    """The RAVDESS trials of ``items`` acted by ``actors`` ("Actor_01" … or 1 …; None: all); an actor the plan does
    not have is a ValueError."""
    if actors is None:
        return items
    wanted = {f"Actor_{a:02d}" if isinstance(a, int) else str(a) for a in actors}
    have = {parse_ravdess_name(i.ravdess).subject for i in items}
    if wanted - have:
        raise ValueError(f"actors {sorted(wanted - have)} are not in the corpus plan (it has {sorted(have)})")
    return [i for i in items if parse_ravdess_name(i.ravdess).subject in wanted]


def write_emoca_subset(out: str | os.PathLike, seed: int = 0, *, config: CorpusConfig | None = None,
                       actors=None) -> list[str]:
    """Only the ``ravdess_meshes`` layout (``write_emoca``) of a corpus plan (``config``, default the small
    preset's): the strong and the neutral RAVDESS trials of ``actors`` ("Actor_01" … or 1 …; default all), the
    same bytes as ``generate`` writes under ``ravdess_meshes/``. Synthesises, animates and deforms; renders no video
    and writes no WAV. Returns the stems written, in plan order."""
    config = config or PRESETS["small"]
    items = [i for i in plan(config, seed) if _emoca_trial(i)]
    items = _of_actors(items, actors)
    if not items:
        raise ValueError(f"no RAVDESS trials to write (config {config}, actors {actors})")
    sequences = {}
    for item in items:
        utt = speech.synthesize(item.text, item.voice, item.emotion, item.intensity)
        a48, wav48 = _ravdess_audio(utt)
        actor, stem, sequence = _emoca_sequence(item, wav48, _motion(utt, item, a48.size, RAVDESS_SAMPLE_RATE,
                                                                     RAVDESS_FPS))
        sequences.setdefault(actor, {})[stem] = sequence
    write_emoca(out, sequences, _emoca_templates(sequences))
    return [item.ravdess for item in items]


def _ravdess_subset_job(args) -> str:
    item, root, image_size = args
    utt = speech.synthesize(item.text, item.voice, item.emotion, item.intensity)
    _ravdess_trial(item, utt, _Writer(Path(root)), image_size, prefix="")
    return item.ravdess


def write_ravdess_subset(out: str | os.PathLike, seed: int = 0, *, stems: list[str] | None = None,
                         per_actor: int | None = None, actors=None, config: CorpusConfig | None = None,
                         workers: int | None = None) -> list[str]:
    """Only the ``ravdess/`` layout (Actor_NN/{03 wav, 01 and 02 mp4} + landmarks/) of some RAVDESS trials of a
    corpus plan (``config``, default the small preset's): those with the audio stems ``stems``, or the first
    ``per_actor`` trials of each of ``actors`` ("Actor_01" … or 1 …; default all) in plan order. The same bytes as
    ``generate`` writes under ``ravdess/``; ``workers`` spawned processes render. Returns the audio stems written."""
    config = config or PRESETS["small"]
    items = [i for i in plan(config, seed) if i.ravdess is not None]
    if stems is not None:
        by_stem = {i.ravdess: i for i in items}
        unknown = [s for s in stems if s not in by_stem]
        if unknown:
            raise ValueError(f"RAVDESS trials {unknown} are not in the corpus plan (seed {seed})")
        items = [by_stem[s] for s in stems]
    else:
        items = _of_actors(items, actors)
        if per_actor is not None:
            counts: dict[str, int] = {}
            kept = []
            for i in items:
                actor = parse_ravdess_name(i.ravdess).subject
                if counts.get(actor, 0) < per_actor:
                    counts[actor] = counts.get(actor, 0) + 1
                    kept.append(i)
            items = kept
    if not items:
        raise ValueError(f"no RAVDESS trials to write (config {config}, stems {stems}, actors {actors})")
    return list(_map(_ravdess_subset_job, [(i, str(out), config.image_size) for i in items], workers))


def write_gesture_subset(out: str | os.PathLike, takes: int | None = None, seed: int = 0, *,
                         ids: list[int] | None = None, config: CorpusConfig | None = None) -> list[int]:
    """Only the gesture layout (speech/, motion/) of some takes of a corpus plan (``config``, default the small
    preset's): those with the ids ``ids``, or the first ``takes`` dealt round-robin over the four speakers. The same
    bytes as ``generate`` writes under ``gesture/``. Returns the ids written."""
    items = plan(config or PRESETS["small"], seed)
    all_takes = gesture_takes(items)
    if ids is not None:
        by_id = {t.id: t for t in all_takes}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise ValueError(f"gesture takes {unknown} are not in the corpus plan (ids {all_takes[0].id}…"
                             f"{all_takes[-1].id})")
        chosen = [by_id[i] for i in ids]
    else:
        by_item = {i.id: i for i in items}
        per_speaker = [[t for t in all_takes if by_item[t.utterances[0]].voice == voice] for voice, _, _ in SPEAKERS]
        chosen = [group[k] for k in range(max(len(g) for g in per_speaker)) for group in per_speaker
                  if k < len(group)][:takes]
    by_item = {i.id: i for i in items}
    writer = _Writer(Path(out))
    for take in chosen:
        parts = [by_item[i] for i in take.utterances]
        utts = [speech.synthesize(i.text, i.voice, i.emotion, i.intensity) for i in parts]
        _gesture_files(take, parts, utts, writer, "")
    return [t.id for t in chosen]


def write_vocaset_subset(out: str | os.PathLike, per_speaker: int, seed: int = 0, *,
                         emotions=("neutral", "calm"), config: CorpusConfig | None = None) -> dict:
    """The VOCASET layout (``write_vocaset``) of ``per_speaker`` sentence utterances of each speaker.

    The utterances are the first ``per_speaker`` of each speaker whose emotion is in ``emotions``, in the order of
    ``plan(config, seed)``; without ``config``, a plan with ceil(per_speaker / conditions) utterances per condition
    (conditions: the (emotion, intensity) pairs of ``emotions``; neutral has one, the others two) and no RAVDESS
    trials. They are written as ``generate`` writes its VOCASET part: subjects Synth_<voice>, unposed meshes at
    60 fps, the native 22.05 kHz int16 audio, here named sentence01 … in plan order.

    Returns {subject: [(sentence, utterance id, text)]}.
    """
    emotions = (emotions,) if isinstance(emotions, str) else tuple(emotions)
    unknown = [e for e in emotions if e not in EMOTIONS]
    if not emotions or unknown:
        raise ValueError(f"emotions must be a non-empty selection of {EMOTIONS}, got {emotions}")
    if int(per_speaker) != per_speaker or per_speaker < 1:
        raise ValueError(f"per_speaker must be a positive integer, got {per_speaker}")
    per_speaker = int(per_speaker)
    if config is None:
        conditions = sum(e in emotions for e, _ in EMOTION_INTENSITIES)
        config = CorpusConfig(utterances_per_condition=math.ceil(per_speaker / conditions), vocaset_sentences=0,
                              ravdess_repetitions=0)
    items = [i for i in plan(config, seed) if i.ravdess is None and i.emotion in emotions]
    sequences, listing = {}, {}
    for voice, _, _ in SPEAKERS:
        chosen = [i for i in items if i.voice == voice][:per_speaker]
        if len(chosen) < per_speaker:
            raise ValueError(f"the corpus plan of {config} has {len(chosen)} utterances of {voice} in {emotions}, "
                             f"fewer than per_speaker={per_speaker}")
        subject = f"Synth_{voice}"
        sequences[subject], listing[subject] = {}, []
        for k, item in enumerate(chosen, 1):
            sentence = f"sentence{k:02d}"
            utt = speech.synthesize(item.text, item.voice, item.emotion, item.intensity)
            sequences[subject][sentence] = _vocaset_sequence(item, utt)
            listing[subject].append((sentence, item.id, item.text))
    write_vocaset(out, sequences, _vocaset_templates(sequences))
    return listing


def generate(out: str | os.PathLike, preset: str = "small", seed: int = 0, *,
             config: CorpusConfig | None = None, workers: int | None = None) -> dict:
    """Generate (or reuse) the corpus in ``out``; returns the manifest.

    ``out`` must not hold anything but a previous corpus of the same arguments, which is reused.
    Everything is written to a staging folder beside ``out`` and renamed into place at the end.
    RAVDESS trials (rendering and video encoding) run in ``workers`` processes (default: the CPU
    count, at most 4); the files do not depend on the number of workers.
    """
    if config is None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; presets: {sorted(PRESETS)}")
        config = PRESETS[preset]
    out = Path(out)
    request = _request(preset, seed, config)
    if out.exists() and not out.is_dir():
        raise DataError(out, "output path exists and is not a folder")
    manifest_path = out / MANIFEST
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("request") == request:
            log.info("%s: corpus with these arguments exists; reusing it", out)
            return manifest
        raise DataError(out, f"holds a corpus generated with other arguments ({manifest.get('request')}); "
                             "choose another folder or delete it")
    if out.exists() and any(out.iterdir()):
        raise DataError(out, "output folder exists and is not empty (and holds no corpus manifest)")
    staging = _make_staging(out)
    started = time.perf_counter()
    try:
        writer = _Writer(staging)
        items = plan(config, seed)
        entries, vocaset, meshes, takes = [], {}, {}, []
        take_of = {u: t for t in gesture_takes(items) for u in t.utterances}
        spoken: dict[str, tuple[UtterancePlan, speech.Utterance]] = {}
        for item in (i for i in items if i.ravdess is None):
            utt = speech.synthesize(item.text, item.voice, item.emotion, item.intensity)
            entries.append({**asdict(item), "duration_s": round(utt.duration, 6),
                            "gesture_id": take_of[item.id].id, **_sentence_utterance(item, utt, writer, vocaset)})
            spoken[item.id] = (item, utt)
            take = take_of[item.id]
            if item.id == take.utterances[-1]:
                parts = [spoken.pop(i) for i in take.utterances]
                takes.append(_gesture_files(take, [p for p, _ in parts], [u for _, u in parts], writer,
                                            f"{GESTURE_FOLDER}/"))
        log.info("corpus: %d sentence utterances and %d gesture takes written", len(entries), len(takes))
        trials = [(item, str(staging), config.image_size) for item in items if item.ravdess is not None]
        for entry, hashes, mesh in _map(_ravdess_job, trials, workers):
            entries.append(entry)
            writer.hashes.update(hashes)
            if mesh is not None:
                actor, stem, sequence = mesh
                meshes.setdefault(actor, {})[stem] = sequence
        log.info("corpus: %d RAVDESS trials written", len(trials))
        writer.write("facegood/BS_name.npy", npy_bytes(np.array(ARKIT_52)))
        writer.write("evenet/reader_config.json", json.dumps(default_reader_config(ARKIT_52), indent=1).encode())
        if vocaset:
            write_vocaset(staging / "vocaset", vocaset, _vocaset_templates(vocaset))
            for name in ("data_verts.npy", "raw_audio_fixed.pkl", "templates.pkl", "subj_seq_to_idx.pkl"):
                writer.record(f"vocaset/{name}")
        if meshes:
            write_emoca(staging / EMOCA_FOLDER, meshes, _emoca_templates(meshes))
            for name in EMOCA_FILES:
                writer.record(f"{EMOCA_FOLDER}/{name}")
        manifest = {
            "format": "speech-anim-zoo synthetic corpus", "request": request, "zoo_version": __version__,
            "speakers": [{"voice": v, "identity": i, "ravdess_actor": a} for v, i, a in SPEAKERS],
            "utterances": entries, "gesture_takes": takes, "files": dict(sorted(writer.hashes.items())),
            "speech_seconds": round(sum(e["duration_s"] for e in entries), 3),
            "gesture_seconds": round(sum(t["duration_s"] for t in takes), 3),
        }
        atomic_write_bytes(staging / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False).encode())
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("corpus: %d utterances, %.0f s of speech, written to %s in %.1f s", len(entries),
             manifest["speech_seconds"], out, time.perf_counter() - started)
    return manifest
