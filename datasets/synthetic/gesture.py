"""Body gestures that follow the speech, on the gesture dataset's skeleton (Takeuchi et al. 2017; 64 nodes).

``animate_gesture(utterance, num_samples, sample_rate, fps, seed, skeleton)`` returns the channel values
(frames, 306) of a BVH on ``zoo.datasets.bvh.gesture_skeleton("dataset")``: per joint position xyz (the OFFSET:
non-root joints do not translate) then rotation Z X Y in degrees, sampled at ``t_k = k / fps`` for
``k = 0 … floor(samples·fps/sr) − 1``.

The skeleton stands in a T-pose, facing −z, its left side at −x. Rotation angles below are the joints' own
channels (local R = R_Z·R_X·R_Y); ``σ = +1`` for the left and −1 for the right side mirrors them.

Layers (all in degrees, summed):

1. **Speaking envelope** ``s(t) ∈ [0, 1]``: 1 over speech (phonemes that are not pauses; gaps shorter than
   ``PAUSE_MERGE`` s bridged), 0 elsewhere, smoothed by a Gaussian of std ``ENVELOPE_SIGMA`` s. Hands rise into the
   gesture space while speaking (upper arm abduction ``80 − 15·s`` deg from the arm-down rest, forward swing
   ``12·s``, elbow flexion ``height·s``) and fall back to rest in pauses.
2. **Beats**: one stroke per stressed syllable: the onset ``t_b`` of every vowel with primary stress (weight 1;
   espeak puts its pitch accents there) or secondary stress (weight 0.5). Its amplitude grows with the energy
   of the syllable: ``A_b = amplitude · arousal · weight · (0.1 + 0.9·e_b)`` with
   ``e_b = clip((L_b − L_floor) / 30 dB, 0, 1)``, ``L_b`` the RMS level (dBFS) over ``[t_b, t_b + 0.1 s]``,
   ``L_floor = −45 dBFS``, jittered ×U[0.9, 1.1] and in time by U[−0.02, 0.02] s. Strokes closer than
   ``REFRACTORY`` s to a stronger one are dropped. A stroke is a Gaussian bump ``A_b · exp(−½((t − c_b)/w)²)``,
   ``w = stroke/4``, ``c_b = t_b + STROKE_LEAD − w``: the hand lifts before the syllable and strikes down on it.
   It flexes the elbow (1.0), lifts the upper arm (0.35), flicks the wrist (0.4) and nods the neck (0.08 of the
   stronger hand). Each stroke goes to the dominant hand by the style's hand weights (to both hands when the
   weights differ by < 0.2).
3. **Style** per speaker (:data:`STYLES`): handedness, amplitude, gesture-space height, stroke length, finger
   curl; **emotion** scales the beats by an arousal factor (:data:`AROUSAL`; "strong" doubles the deviation
   from 1).
4. **Idle sway** (seeded): smooth noise of 0.05–0.4 Hz on the spine (std 1.2°), neck (1°), hips yaw (1.5°) and
   the root translation (x 0.6 cm, z 0.4 cm), present in pauses too.

A gesture file is a take of several utterances (``join_utterances``: silences before, between and after, as a
stretch of an interview), so the rest phases fall at different times in different files. The mapping is learnable
from audio (stressed syllables are loud, speech vs pause is audible) and needs it:
``tests/datasets/synthetic/test_gesture_corpus.py`` checks a ridge regression from windowed audio features to
hand speed on held-out utterances, against a shuffled-audio control.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..clip import EMOTIONS, expected_frames
from .face import _smooth_noise, label_stress
from .speech import PAUSE, Utterance

PAUSE_MERGE = 0.3  # s: shorter silences do not bring the hands to rest
ENVELOPE_SIGMA = 0.2  # s
REFRACTORY = 0.45  # s between strokes
L_FLOOR, L_RANGE = -45.0, 30.0  # dBFS mapped to energy 0 … 1
STROKE_LEAD = 0.06  # s: the stroke's lowest point is this long after the syllable onset
SECONDARY = 0.5  # stroke weight of a secondary-stressed syllable (primary: 1)
ENERGY_BASE = 0.1  # amplitude share that does not grow with the syllable's energy
AMPLITUDE_JITTER, TIME_JITTER = 0.1, 0.02  # ×U[1 − a, 1 + a]; ±s


@dataclass(frozen=True)
class GestureStyle:
    """A speaker's gesturing: hand weights (right, left), beat amplitude (deg of elbow flexion), gesture-space
    elbow flexion while speaking (deg), stroke length (s) and finger curl (deg)."""

    right: float
    left: float
    amplitude: float
    height: float
    stroke: float
    curl: float


STYLES = MappingProxyType({
    "male_deep": GestureStyle(right=1.0, left=0.45, amplitude=12.0, height=38.0, stroke=0.48, curl=18.0),
    "female_warm": GestureStyle(right=0.85, left=0.85, amplitude=9.0, height=44.0, stroke=0.42, curl=12.0),
    "male_bright": GestureStyle(right=1.0, left=0.65, amplitude=14.0, height=34.0, stroke=0.36, curl=22.0),
    "female_high": GestureStyle(right=0.5, left=1.0, amplitude=10.0, height=46.0, stroke=0.38, curl=10.0),
})

AROUSAL = MappingProxyType({"neutral": 1.0, "calm": 0.75, "happy": 1.2, "sad": 0.65, "angry": 1.45,
                            "fearful": 1.15, "disgust": 0.9, "surprised": 1.3})
assert set(AROUSAL) == set(EMOTIONS)

_FINGERS = ("Thumb", "Index", "Middle", "Ring", "Pinky")


def _level_db(audio: np.ndarray, rate: int, starts: np.ndarray, length: float) -> np.ndarray:
    """RMS level in dBFS of ``audio`` over ``[start, start + length)`` for each start (s)."""
    out = np.empty(starts.size)
    n = max(int(round(length * rate)), 1)
    for k, t in enumerate(starts):
        a = int(round(t * rate))
        seg = np.asarray(audio[a:a + n], np.float64)
        out[k] = 10.0 * np.log10(np.mean(seg**2) + 1e-12) if seg.size else -120.0
    return out


def speaking_envelope(phonemes, times: np.ndarray) -> np.ndarray:
    """``s(t)``: 1 over speech (pauses shorter than ``PAUSE_MERGE`` bridged), 0 elsewhere, Gaussian-smoothed."""
    spans = []
    for start, end, label in phonemes:
        if label == PAUSE:
            continue
        if spans and start - spans[-1][1] < PAUSE_MERGE:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    on = np.zeros(times.size)
    for start, end in spans:
        on[(times >= start) & (times < end)] = 1.0
    step = float(times[1] - times[0]) if times.size > 1 else 1.0
    return np.clip(gaussian_filter1d(on, ENVELOPE_SIGMA / step, mode="constant"), 0.0, 1.0)


def beats(utterance: Utterance, rng: np.random.Generator, arousal: float, style: GestureStyle):
    """(times s, amplitudes deg) of the strokes: stressed syllables, loudness-scaled, refractory-thinned."""
    onsets, weights = [], []
    for start, _, label in utterance.phonemes:
        stress = label_stress(label)
        if stress:
            onsets.append(start)
            weights.append(1.0 if stress == 2 else SECONDARY)
    onsets, weights = np.asarray(onsets, np.float64), np.asarray(weights)
    energy = np.clip((_level_db(utterance.audio, utterance.sample_rate, onsets, 0.1) - L_FLOOR) / L_RANGE, 0, 1)
    amps = style.amplitude * arousal * weights * (ENERGY_BASE + (1 - ENERGY_BASE) * energy)
    amps = amps * rng.uniform(1 - AMPLITUDE_JITTER, 1 + AMPLITUDE_JITTER, onsets.size)
    times = onsets + rng.uniform(-TIME_JITTER, TIME_JITTER, onsets.size)
    keep = np.ones(onsets.size, bool)
    for k in np.argsort(-amps, kind="stable"):  # strongest first; weaker strokes too close to a kept one go
        if keep[k]:
            close = (np.abs(times - times[k]) < REFRACTORY) & (np.arange(onsets.size) != k)
            keep[close & (amps <= amps[k])] = False
    return times[keep], amps[keep]


def _strokes(times: np.ndarray, beat_times: np.ndarray, amps: np.ndarray, width: float) -> np.ndarray:
    """``Σ_b A_b · exp(−½((t − c_b)/w)²)``, ``c_b = t_b + STROKE_LEAD − w``: the hand is highest at ``c_b`` and
    falls fastest at ``t_b + STROKE_LEAD``."""
    if beat_times.size == 0:
        return np.zeros(times.size)
    x = (times[:, None] - (beat_times[None, :] + STROKE_LEAD - width)) / width
    return np.sum(amps[None, :] * np.exp(-0.5 * x**2), axis=1)


def arousal_of(emotion: str, intensity: str) -> float:
    """The beat scale of an emotion; "strong" doubles the deviation from 1."""
    base = AROUSAL[emotion]
    return 1.0 + 2.0 * (base - 1.0) if intensity == "strong" else base


def animate_gesture(utterance: Utterance, num_samples: int, sample_rate: int, fps: float, seed: int,
                    skeleton) -> np.ndarray:
    """Channel values (frames, skeleton channels) float64 of the gesture motion of ``utterance``.

    ``num_samples`` at ``sample_rate`` is the length of the audio written beside the BVH, which sets the frame
    count ``floor(num_samples·fps/sample_rate)``. ``skeleton``: ``gesture_skeleton("dataset")`` (every joint
    Xposition Yposition Zposition Zrotation Xrotation Yrotation).
    """
    frames = expected_frames(num_samples, sample_rate, fps)
    times = np.arange(frames) / float(fps)
    rng = np.random.default_rng(seed)
    style = STYLES[utterance.voice.name]
    s = speaking_envelope(utterance.phonemes, times)
    beat_times, amps = beats(utterance, rng, arousal_of(utterance.emotion, utterance.intensity), style)
    # each stroke goes to one hand, drawn by the speaker's hand weights (both when the weights are close)
    p_right = style.right / (style.right + style.left)
    both = abs(style.right - style.left) < 0.2
    draw = rng.uniform(size=beat_times.size)
    width = style.stroke / 4.0
    hand_beats = {}
    for side, mask in (("Right", both | (draw < p_right)), ("Left", both | (draw >= p_right))):
        weight = style.right if side == "Right" else style.left
        hand_beats[side] = _strokes(times, beat_times[mask], amps[mask] * weight, width)
    sway = _smooth_noise(rng, times, 7, 0.05, 0.4)

    rot = {}  # joint -> (frames, 3) Z X Y degrees
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        b = hand_beats[side]
        rot[f"{side}Arm"] = np.stack([sign * (80.0 - 15.0 * s - 0.35 * b), np.zeros(frames),
                                      -sign * (12.0 * s + 0.1 * b)], axis=1)
        rot[f"{side}ForeArm"] = np.stack([np.zeros(frames), np.zeros(frames), -sign * (style.height * s + b)], axis=1)
        rot[f"{side}Hand"] = np.stack([sign * 0.4 * b, np.zeros(frames), np.zeros(frames)], axis=1)
        curl = style.curl * (0.7 + 0.3 * s)
        for finger in _FINGERS:
            for k in (1, 2, 3):
                angle = sign * curl * (0.5 if finger == "Thumb" else 1.0)
                rot[f"{side}Hand{finger}{k}"] = np.stack([np.full(frames, 1.0) * angle, np.zeros(frames),
                                                          np.zeros(frames)], axis=1)
    nod = 0.08 * np.maximum(hand_beats["Left"], hand_beats["Right"])
    rot["Spine"] = np.stack([1.2 * sway[:, 0], 1.2 * sway[:, 1], np.zeros(frames)], axis=1)
    rot["Spine1"] = np.stack([0.8 * sway[:, 2], np.zeros(frames), 1.0 * sway[:, 3]], axis=1)
    rot["Neck"] = np.stack([np.zeros(frames), 1.0 * sway[:, 4] + nod, np.zeros(frames)], axis=1)
    rot["Hips"] = np.stack([np.zeros(frames), np.zeros(frames), 1.5 * sway[:, 5]], axis=1)

    values = np.zeros((frames, skeleton.num_channels))
    column = 0
    for node, channels in enumerate(skeleton.channels):
        if not channels:
            continue
        name = skeleton.names[node]
        offset = skeleton.offsets[node]
        angles = rot.get(name)
        for c, channel in enumerate(channels):
            axis = "XYZ".index(channel[0])
            if channel.endswith("position"):
                values[:, column + c] = offset[axis]
            elif angles is not None:
                values[:, column + c] = angles[:, "ZXY".index(channel[0])]
        column += len(channels)
    root = skeleton.channels[0]
    for c, channel in enumerate(root):  # the root sways in x and z (cm); its height stays the offset
        if channel == "Xposition":
            values[:, c] += 0.6 * sway[:, 6]
        elif channel == "Zposition":
            values[:, c] += 0.4 * sway[:, 5]
    return values


def join_utterances(utterances, rng: np.random.Generator, lead=(0.3, 1.2), gap=(0.4, 1.6), tail=(0.3, 1.0)):
    """One take of several utterances of one speaker, as a stretch of an interview: silence of U[lead] s, the
    utterances separated by silences of U[gap] s, then U[tail] s of silence (all rounded to whole samples).

    Returns an :class:`Utterance` with the joined audio, the phonemes and words shifted to the take's time line
    (silences as :data:`PAUSE` entries) and the text of the parts joined by spaces; voice, emotion and intensity are
    the first part's.
    """
    first = utterances[0]
    rate = first.sample_rate
    pieces, phonemes, words, t = [], [], [], 0.0
    for k, utt in enumerate(utterances):
        if utt.sample_rate != rate or utt.voice != first.voice:
            raise ValueError("a take joins utterances of one voice at one sample rate")
        silence = int(round(rng.uniform(*(lead if k == 0 else gap)) * rate))
        pieces.append(np.zeros(silence, np.float32))
        phonemes.append((t, t + silence / rate, PAUSE))
        t += silence / rate
        pieces.append(np.asarray(utt.audio, np.float32))
        phonemes.extend((t + a, t + b, label) for a, b, label in utt.phonemes)
        words.extend((t + a, t + b, w) for a, b, w in utt.words)
        t += utt.audio.size / rate
    silence = int(round(rng.uniform(*tail) * rate))
    pieces.append(np.zeros(silence, np.float32))
    phonemes.append((t, t + silence / rate, PAUSE))
    audio = np.concatenate(pieces)
    audio.setflags(write=False)
    return Utterance(audio, rate, tuple(phonemes), tuple(words), " ".join(u.text for u in utterances), first.voice,
                     first.emotion, first.intensity, dict(first.parameters))
