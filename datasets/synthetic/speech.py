"""Speech from espeak-ng (through the ``espeakng-loader`` wheel), with phoneme and word timings.

``synthesize(text, voice, emotion, intensity)`` returns an :class:`Utterance`: 22050 Hz float32 mono audio
and a phoneme timeline read from espeak's own phoneme events, so the labels line up with the audio exactly.

How espeak is driven (ctypes, no CLI, no system package):

* **Fresh engine per call.** espeak-ng's wave generator keeps global state between syntheses (glottal phase,
  the pitch "flutter" table index, echo buffer, sample counters), so two identical ``espeak_Synth`` calls in
  one process give different samples (measured: a few samples' length difference and different bytes). Each
  synthesis therefore loads the library, initialises it, synthesises and unloads it again (``dlclose``), which
  costs < 1 ms. The library is loaded from a private copy made once per process, so the unload really drops
  the state even if something else in the process holds the wheel's own copy. One lock serialises all use.
  Every parameter (voice, rate, volume, pitch, range, random seed) is set explicitly before every synthesis,
  so the output depends only on the arguments: byte-identical in one process and across processes.
* **Timing.** Phoneme events (type 7) carry the exact sample index of their start in ``sample``
  (``audio_position`` is the same instant truncated to ms). espeak emits a plosive's event at its burst and
  leaves the silent closure before it inside the previous phoneme; the closure is given back to the plosive
  (see :func:`_attach_closures`). Pauses (commas, sentence ends, the lead-in) come as events with an empty IPA
  name; the last of them marks the end of the audio.

Phoneme timeline: ``Utterance.phonemes`` tiles ``[0, duration]`` without gaps in time order,
``end[i] == start[i+1]``; silences are entries labelled :data:`PAUSE` (``"_"``), speech entries carry
espeak's IPA string including stress marks (e.g. ``"ˈaʊ"``). ``Utterance.speech_phonemes`` drops the pauses.
"""
from __future__ import annotations

import atexit
import ctypes
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from scipy.ndimage import maximum_filter1d

from ..clip import EMOTIONS, INTENSITIES  # RAVDESS emotions in code order (code = index + 1)
from ..errors import DataError

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050
"""Hz; espeak-ng's native output rate (returned by ``espeak_Initialize``)."""

PAUSE = "_"
"""Label of silent stretches in :attr:`Utterance.phonemes`."""

STRONG_SCALE = 2.0
"""``"strong"`` doubles every deviation from neutral: factor → factor**2, semitones → 2 × semitones."""

PITCH_UNITS_PER_SEMITONE = 6.2
"""espeak pitch parameter units per semitone of median f0 (measured: pitch 0 → 100 spans ≈ 16 semitones)."""

# espeak API constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x1
_INITIALIZE_PHONEME_IPA = 0x2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_RAND_SEED = 1
_PARAMETER_LIMITS = {"rate": (80, 450), "volume": (0, 200), "pitch": (0, 100), "range": (0, 100)}

# Closure detection: a plosive's closure is the quiet run (max |x| over ±_CLOSURE_GUARD samples below
# max(_QUIET_ABS, _QUIET_REL × peak)) that ends at its burst.
_CLOSURE_GUARD = 32  # samples (1.5 ms)
_QUIET_ABS = 64  # int16 units (≈ -54 dBFS)
_QUIET_REL = 0.02
_PLOSIVE_HEADS = frozenset("pbtdkɡgcɟʔq")  # also covers the affricates tʃ, dʒ
_STRESS_MARKS = "ˈˌ"
_SILENT_PEAK = 64  # int16 units: audio whose peak stays below this is "nothing spoken"


class SynthesisError(DataError):
    """Bad synthesis input (voice, text, emotion, intensity) or an espeak failure; the message names the cause."""

    def __init__(self, cause: str):
        super().__init__(None, cause)


@dataclass(frozen=True)
class Voice:
    """A speaker: an espeak voice (language + variant, the timbre) and its base prosody.

    ``pitch`` and ``pitch_range`` are espeak's 0–100 parameters (50 = the variant's default), ``rate`` is in
    words per minute (espeak default 175), ``volume`` in percent (espeak default 100).
    """

    name: str
    espeak_voice: str
    gender: str
    pitch: int
    pitch_range: int
    rate: int
    volume: int = 100


VOICES = MappingProxyType(
    {
        v.name: v
        for v in (
            Voice("male_deep", "en-us+m1", "male", pitch=35, pitch_range=40, rate=155),
            Voice("male_bright", "en-us+m3", "male", pitch=55, pitch_range=55, rate=185),
            Voice("female_warm", "en-us+f4", "female", pitch=45, pitch_range=50, rate=165),
            Voice("female_high", "en-us+f5", "female", pitch=62, pitch_range=60, rate=195),
        )
    }
)
"""The speakers by name. Median f0 on an English sentence, neutral (measured): male_deep ≈ 80 Hz,
male_bright ≈ 110 Hz, female_warm ≈ 165 Hz, female_high ≈ 240 Hz; rates differ by up to 26 %."""


@dataclass(frozen=True)
class Prosody:
    """Change from neutral: ``rate`` and ``pitch_range`` and ``volume`` are factors (×), ``pitch`` semitones."""

    rate: float = 1.0
    pitch: float = 0.0
    pitch_range: float = 1.0
    volume: float = 1.0

    def scaled(self, scale: float) -> Prosody:
        """Deviation × ``scale``: factors f → f**scale, semitones s → s × scale."""
        return Prosody(self.rate**scale, self.pitch * scale, self.pitch_range**scale, self.volume**scale)


EMOTION_PROSODY = MappingProxyType(
    {
        #                    rate ×  pitch st  range ×  volume ×
        "neutral": Prosody(1.00, 0.0, 1.00, 1.00),
        "calm": Prosody(0.88, -1.0, 0.70, 0.90),
        "happy": Prosody(1.08, 2.0, 1.35, 1.10),
        "sad": Prosody(0.80, -2.0, 0.65, 0.75),
        "angry": Prosody(1.12, 1.0, 1.30, 1.25),
        "fearful": Prosody(1.18, 2.5, 1.15, 0.95),
        "disgust": Prosody(0.86, -1.5, 1.10, 1.00),
        "surprised": Prosody(1.05, 3.0, 1.40, 1.12),
    }
)
"""Per-emotion prosody at ``"normal"`` intensity (``"strong"`` = :meth:`Prosody.scaled` by
:data:`STRONG_SCALE`). Units: rate, pitch-range and volume are multiplicative factors on the voice's base
values; pitch is a shift in semitones (× :data:`PITCH_UNITS_PER_SEMITONE` espeak units)."""


@dataclass(frozen=True)
class Utterance:
    """One synthesised utterance.

    ``audio``: float32 mono, ``int16 / 32768`` so in [-1, 1), read-only. ``phonemes``: ``(start_s, end_s,
    label)`` tiling ``[0, duration]`` (pauses labelled :data:`PAUSE`). ``words``: ``(start_s, end_s, word)``
    for each whitespace-separated word of ``text`` that was spoken (outer punctuation stripped), from its
    first phoneme's start to its last phoneme's end. ``parameters``: the espeak parameters used.
    """

    audio: np.ndarray
    sample_rate: int
    phonemes: tuple[tuple[float, float, str], ...]
    words: tuple[tuple[float, float, str], ...]
    text: str
    voice: Voice
    emotion: str
    intensity: str
    parameters: dict = field(default_factory=dict, compare=False)

    @property
    def duration(self) -> float:
        """Seconds: ``len(audio) / sample_rate``."""
        return len(self.audio) / self.sample_rate

    @property
    def speech_phonemes(self) -> tuple[tuple[float, float, str], ...]:
        """``phonemes`` without the :data:`PAUSE` entries."""
        return tuple(p for p in self.phonemes if p[2] != PAUSE)


# ---------------------------------------------------------------- prosody → espeak parameters


def resolve_voice(voice: Voice | str) -> Voice:
    """A :class:`Voice` from itself or its name in :data:`VOICES`."""
    if isinstance(voice, Voice):
        return voice
    if isinstance(voice, str) and voice in VOICES:
        return VOICES[voice]
    raise SynthesisError(f"unknown voice {voice!r}; known voices: {', '.join(VOICES)}")


def emotion_prosody(emotion: str, intensity: str = "normal") -> Prosody:
    """The :class:`Prosody` of ``emotion`` at ``intensity`` (strong = normal scaled by :data:`STRONG_SCALE`)."""
    if emotion not in EMOTION_PROSODY:
        raise SynthesisError(f"unknown emotion {emotion!r}; known emotions: {', '.join(EMOTIONS)}")
    if intensity not in INTENSITIES:
        raise SynthesisError(f"unknown intensity {intensity!r}; known intensities: {', '.join(INTENSITIES)}")
    if emotion == "neutral" and intensity != "normal":
        raise SynthesisError("intensity 'strong' is not defined for emotion 'neutral' (RAVDESS has only normal)")
    prosody = EMOTION_PROSODY[emotion]
    return prosody.scaled(STRONG_SCALE) if intensity == "strong" else prosody


def espeak_parameters(voice: Voice | str, emotion: str = "neutral", intensity: str = "normal") -> dict[str, int]:
    """espeak's ``rate`` (wpm), ``volume`` (%), ``pitch`` and ``range`` (0–100) for a voice and emotion.

    ``rate = base_rate × p.rate``, ``volume = base_volume × p.volume``, ``range = base_range × p.pitch_range``,
    ``pitch = base_pitch + PITCH_UNITS_PER_SEMITONE × p.pitch``; each rounded and clipped to espeak's limits.
    """
    v = resolve_voice(voice)
    p = emotion_prosody(emotion, intensity)
    raw = {
        "rate": v.rate * p.rate,
        "volume": v.volume * p.volume,
        "pitch": v.pitch + PITCH_UNITS_PER_SEMITONE * p.pitch,
        "range": v.pitch_range * p.pitch_range,
    }
    out = {}
    for key, value in raw.items():
        lo, hi = _PARAMETER_LIMITS[key]
        out[key] = int(min(max(round(value), lo), hi))
        if out[key] != round(value):
            log.debug("espeak %s %.1f clipped to %d (%s, %s/%s)", key, value, out[key], v.name, emotion, intensity)
    return out


# ---------------------------------------------------------------- espeak through ctypes


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))

_LOCK = threading.Lock()
_private_library: str | None = None


def _library_path() -> str:
    """A private copy of the wheel's libespeak-ng, made once per process (deleted at exit)."""
    global _private_library
    if _private_library is None:
        import espeakng_loader

        source = espeakng_loader.get_library_path()
        folder = tempfile.mkdtemp(prefix="zoo-espeak-")
        atexit.register(shutil.rmtree, folder, True)
        target = os.path.join(folder, os.path.basename(source))
        shutil.copyfile(source, target)
        _private_library = target
    return _private_library


def _data_path() -> bytes:
    import espeakng_loader

    return os.fsencode(espeakng_loader.get_data_path())


def _unload(lib: ctypes.CDLL) -> None:
    import _ctypes

    close = getattr(_ctypes, "dlclose", None) or _ctypes.FreeLibrary
    close(lib._handle)


def _declare(lib: ctypes.CDLL) -> None:
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    lib.espeak_ng_SetRandSeed.restype = None
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
        ctypes.c_void_p, ctypes.c_void_p,
    ]


def _run_espeak(text: str, espeak_voice: str, params: dict[str, int]) -> tuple[np.ndarray, list[tuple]]:
    """Synthesise with a freshly loaded engine; returns int16 samples and events ``(type, text_pos, sample, name)``.

    ``text_pos`` is the 1-based character index in ``text``; ``name`` is the IPA label of phoneme events.
    """
    chunks: list[np.ndarray] = []
    events: list[tuple] = []

    def on_audio(wav, n_samples, event_array):
        if n_samples > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        i = 0
        while event_array[i].type != _EVENT_LIST_TERMINATED:
            e = event_array[i]
            name = e.id.string.decode("utf-8", "replace") if e.type == _EVENT_PHONEME else ""
            events.append((e.type, e.text_position, e.sample, name))
            i += 1
        return 0

    callback = _SynthCallback(on_audio)
    encoded = text.encode("utf-8")
    with _LOCK:
        lib = ctypes.CDLL(_library_path())
        try:
            _declare(lib)
            rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, _data_path(),
                                         _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA)
            if rate != SAMPLE_RATE:
                raise SynthesisError(f"espeak-ng failed to initialise (returned {rate}, expected {SAMPLE_RATE} Hz)")
            lib.espeak_SetSynthCallback(callback)
            lib.espeak_ng_SetRandSeed(_RAND_SEED)
            if lib.espeak_SetVoiceByName(espeak_voice.encode()) != 0:
                raise SynthesisError(f"espeak-ng has no voice {espeak_voice!r}")
            for code, key in ((_RATE, "rate"), (_VOLUME, "volume"), (_PITCH, "pitch"), (_RANGE, "range")):
                if lib.espeak_SetParameter(code, params[key], 0) != 0:
                    raise SynthesisError(f"espeak-ng rejected {key}={params[key]}")
            buffer = ctypes.create_string_buffer(encoded)
            status = lib.espeak_Synth(buffer, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            if status != 0:
                raise SynthesisError(f"espeak-ng synthesis failed with status {status}")
            lib.espeak_Synchronize()
            lib.espeak_Terminate()
        finally:
            _unload(lib)
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    return audio.astype(np.int16, copy=False), events


# ---------------------------------------------------------------- events → timeline


def _is_pause(label: str) -> bool:
    return not label.strip("_: " + _STRESS_MARKS)


def _is_plosive(label: str) -> bool:
    core = label.lstrip(_STRESS_MARKS)
    return bool(core) and core[0] in _PLOSIVE_HEADS


def _attach_closures(segments: list[list], audio: np.ndarray) -> None:
    """Move each plosive's start back over the silent closure that precedes its burst.

    A closure is the quiet run (``max|x|`` over ±1.5 ms ≤ max(64, 2 % of peak), int16 units) that reaches
    to within 1.5 ms of the burst; it is taken from the preceding speech phoneme (never from a pause, and the
    preceding phoneme keeps at least half its duration). ``segments`` are ``[start_sample, label, text_pos]``.
    """
    if len(audio) == 0:
        return
    magnitude = np.abs(audio.astype(np.int32))
    threshold = max(_QUIET_ABS, _QUIET_REL * int(magnitude.max()))
    quiet = maximum_filter1d(magnitude, size=2 * _CLOSURE_GUARD + 1) <= threshold
    index = np.arange(len(audio))
    run_start = np.maximum.accumulate(np.where(quiet & ~np.r_[False, quiet[:-1]], index, 0))
    original = [seg[0] for seg in segments] + [len(audio)]
    for i in range(1, len(segments)):
        start, label, _ = segments[i]
        previous_start, previous_label, _ = segments[i - 1]
        if not _is_plosive(label) or _is_pause(previous_label):
            continue
        probe = start - _CLOSURE_GUARD
        if previous_start < probe < len(audio) and quiet[probe]:
            keep = previous_start + (original[i] - original[i - 1] + 1) // 2
            segments[i][0] = max(int(run_start[probe]), keep)


def _timeline(events: list[tuple], audio: np.ndarray) -> list[tuple[int, int, str, int]]:
    """``(start_sample, end_sample, label, text_pos)`` tiling ``[0, len(audio)]``; pauses merged, labelled PAUSE."""
    n = len(audio)
    segments = [[0, PAUSE, 0]]
    for kind, text_pos, sample, name in events:
        if kind == _EVENT_PHONEME:
            label = PAUSE if _is_pause(name) else name
            segments.append([min(max(int(sample), 0), n), label, text_pos])
    _attach_closures(segments, audio)
    out: list[tuple[int, int, str, int]] = []
    for i, (start, label, text_pos) in enumerate(segments):
        end = segments[i + 1][0] if i + 1 < len(segments) else n
        if end <= start:
            continue
        if out and label == PAUSE and out[-1][2] == PAUSE:
            out[-1] = (out[-1][0], end, PAUSE, out[-1][3])
        elif out and out[-1][1] != start:
            raise SynthesisError(f"espeak-ng phoneme events out of order at sample {start}")
        else:
            out.append((start, end, label, text_pos))
    return out


_WORD = re.compile(r"\S+")


def _words(text: str, timeline: list[tuple[int, int, str, int]]) -> list[tuple[int, int, str]]:
    """Whitespace-separated words of ``text`` (outer non-alphanumerics stripped) with their phonemes' span.

    A phoneme belongs to the word whose characters contain its event's ``text_position`` (1-based).
    """
    tokens = []
    for m in _WORD.finditer(text):
        alnum = [i for i, ch in enumerate(m.group()) if ch.isalnum()]
        if alnum:
            lo, hi = m.start() + alnum[0], m.start() + alnum[-1] + 1
            tokens.append((lo, hi, text[lo:hi]))
    spans: dict[int, list[int]] = {}
    for start, end, label, text_pos in timeline:
        if label == PAUSE:
            continue
        for k, (lo, hi, _) in enumerate(tokens):
            if lo <= text_pos - 1 < hi:
                span = spans.setdefault(k, [start, end])
                span[0], span[1] = min(span[0], start), max(span[1], end)
                break
    return [(spans[k][0], spans[k][1], tokens[k][2]) for k in sorted(spans, key=lambda k: spans[k][0])]


# ---------------------------------------------------------------- public entry point


def _check_text(text) -> str:
    if not isinstance(text, str):
        raise SynthesisError(f"text must be a str, got {type(text).__name__}")
    if not text:
        raise SynthesisError("text is empty")
    if "\x00" in text:
        raise SynthesisError("text contains a NUL character")
    if not any(ch.isalnum() for ch in text):
        raise SynthesisError(f"text {text!r} has nothing speakable (no letters or digits)")
    return text


def synthesize(text: str, voice: Voice | str, emotion: str = "neutral", intensity: str = "normal") -> Utterance:
    """Speak ``text`` with ``voice`` (a :class:`Voice` or a name in :data:`VOICES`) and an emotion's prosody.

    Deterministic: the same arguments give byte-identical audio and identical timings. Raises
    :class:`SynthesisError` for an unknown voice/emotion/intensity, empty text, or text with nothing
    speakable (no letters/digits, or no phonemes / no audible sound from espeak).
    """
    v = resolve_voice(voice)
    params = espeak_parameters(v, emotion, intensity)
    text = _check_text(text)
    t0 = time.perf_counter()
    pcm, events = _run_espeak(text, v.espeak_voice, params)
    timeline = _timeline(events, pcm)
    speech = [seg for seg in timeline if seg[2] != PAUSE]
    if not speech or int(np.abs(pcm.astype(np.int32)).max(initial=0)) < _SILENT_PEAK:
        raise SynthesisError(f"text {text!r} has nothing speakable (espeak-ng produced no phonemes or no sound)")
    words = _words(text, timeline)
    audio = pcm.astype(np.float32) / np.float32(32768.0)
    audio.flags.writeable = False
    seconds = len(pcm) / SAMPLE_RATE
    log.debug("synthesised %.2f s (%d phonemes, %d words) in %.1f ms: voice=%s emotion=%s/%s params=%s",
              seconds, len(speech), len(words), 1e3 * (time.perf_counter() - t0), v.name, emotion, intensity, params)
    to_s = 1.0 / SAMPLE_RATE
    return Utterance(
        audio=audio,
        sample_rate=SAMPLE_RATE,
        phonemes=tuple((s * to_s, e * to_s, label) for s, e, label, _ in timeline),
        words=tuple((s * to_s, e * to_s, word) for s, e, word in words),
        text=text,
        voice=v,
        emotion=emotion,
        intensity=intensity,
        parameters=params,
    )


def ravdess_code(emotion: str) -> int:
    """RAVDESS emotion code: 1 = neutral … 8 = surprised (``EMOTIONS.index + 1``)."""
    if emotion not in EMOTIONS:
        raise SynthesisError(f"unknown emotion {emotion!r}; known emotions: {', '.join(EMOTIONS)}")
    return EMOTIONS.index(emotion) + 1

