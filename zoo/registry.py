"""The five methods of the zoo and what state each is in.

``status`` is the truth about this checkout: "planned" means the subpackage does not exist
yet and no command for it runs; a model moves to "available" in the change that adds its
train/predict/export entry points and tests.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    name: str
    title: str
    paper: str
    summary: str
    status: str  # "planned" | "available"
    spec: str    # the spec of the original, under ../shared/specs/


MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        "evenet", "EveNet",
        "hansonrobotics/EveNet: WaveNet (van den Oord et al. 2016) over facial shape-key frames",
        "WaveNet over shape-key frames conditioned on phonemes and emotion; 11-class softmax "
        "and shape-key-sampling variants.",
        "available", "evenet.md",
    ),
    ModelInfo(
        "audio2face", "Audio2Face (FACEGOOD)",
        "Karras et al. 2017, Audio-Driven Facial Animation by Joint End-to-End Learning of Pose and Emotion",
        "LPC (FACEGOOD) or autocorrelation (paper) over 520 ms windows -> formant and articulation "
        "convolutions with an emotion vector -> blendshape weights.",
        "available", "audio2face.md",
    ),
    ModelInfo(
        "voca_emotion", "VOCA + emotion",
        "Cudeiro et al. 2019, Capture, Learning, and Synthesis of 3D Speaking Styles (VOCA)",
        "Speech encoder + subject conditioning + PCA-initialised vertex decoder, retrained on "
        "RAVDESS-format data, plus emotional blendshape merging.",
        "available", "voca.md",
    ),
    ModelInfo(
        "gesture_ae", "Gesture autoencoder",
        "Kucherenko et al. 2019, Analyzing Input and Output Representations for Speech-Driven Gesture Generation",
        "MFCC windows -> motion code of a denoising autoencoder -> 3D joints, with BVH in "
        "and out and the paper's motion metrics.",
        "available", "gesture_ae.md",
    ),
    ModelInfo(
        "landmark_dcgan", "Landmarks + DCGAN",
        "Li, Tang, Tao, Xu 2017, Speech-Driven Facial Animation by CNN-RNN-GAN Model (Rutgers CS535)",
        "FFT chunks -> CNN -> 68 facial landmarks, and a conditional DCGAN that turns "
        "landmarks into face images, chained end to end.",
        "available", "landmark_dcgan.md",
    ),
)


def get(name: str) -> ModelInfo:
    for info in MODELS:
        if info.name == name:
            return info
    raise KeyError(f"unknown model {name!r}; the zoo has {[m.name for m in MODELS]}")
