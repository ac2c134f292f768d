"""Configuration of Audio2Face (Karras et al. 2017, as done by FACEGOOD) and its presets.

Presets (``PRESETS[name]``):

* ``paper``: Karras 2017. Input: 32 autocorrelation lags of 64 DC-free Hann subframes, each lag row
  standardised with the training set's mean and deviation (standing in for the paper's volume
  normalisation). Learned per-frame emotion database (E = 16, one trainable vector per
  training frame), concatenated after every articulation ReLU; P + M + R losses each divided by
  a running RMS (β = 0.99, ε = 1e-8); batch 100 = 50 true consecutive-frame pairs; Adam
  (0.9, 0.99, 1e-8), peak LR 1e-3 with the paper's ramps; 500 epochs. Output channels are
  derived from the training data (every channel that varies) unless given.
* ``facegood_tf2``: FACEGOOD's TF2 ``model_paper.py``: the emotion "vector" is a frozen
  N(0, 1) tensor (1, 1, 64, 16) convolved per layer; P + M + R raw sum (R ≡ 0); batch 32;
  Adam 1e-3 × 0.98 every 10 epochs (staircase); 200 epochs; the 37 trained FACEGOOD shapes.
  1,473,204 parameters.
* ``facegood_tfv1``: FACEGOOD's tfv1 graph (``zsmeif.pb``): emotion = ReLU(Conv2D 16, [3, 1],
  stride [32, 1]) of the LPC input, then a [1, 3] conv per layer; tfv1's R; batch 128.
  1,473,012 parameters.
* ``tiny``: the paper's structure with a few channels per layer, for tests.

Fixed bugs of the originals (model card table): true frame pairs instead of random ones,
held-out clips instead of the leaked last 1000 frames, output channels by name.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zoo.core.configs import ConfigBase, pick_preset

from .rig import FACEGOOD_TRAINED_37

EMOTION_KINDS = ("database", "facegood_tf2", "facegood_tfv1")
FEATURE_KINDS = ("lpc_facegood", "autocorr_paper")
NORMALIZATIONS = ("running", "none")
SCHEDULES = ("paper", "staircase", "constant")


@dataclass(frozen=True)
class Config(ConfigBase):
    """Every hyperparameter of one Audio2Face model; ``Config.to_dict()`` is its JSON form.

    Units: ``time_shift_frames`` in animation frames (1/30 s); learning rates per step.
    """

    MODEL: ClassVar[str] = "Audio2Face"

    preset: str = "paper"
    feature: str = "autocorr_paper"  # the input feature, (32 coefficients, 64 subframes, 1)
    emotion: str = "database"
    emotion_dim: int = 16  # E
    emotion_init_std: float = 0.01  # σ of the database's initial N(0, σ²) (NVIDIA's choice)
    formant_filters: tuple[int, ...] = (72, 108, 162, 243, 256)
    articulation_filters: tuple[int, ...] = (256, 256, 256, 256, 256)
    hidden_units: int = 150
    dropout: float = 0.5
    output_names: tuple[str, ...] = ()  # () = every channel that varies in the training data
    input_norm: bool = True  # standardise each coefficient row with training statistics (for the paper's volume
    # normalisation; not in FACEGOOD)
    # losses: total = w_P·P + w_M·M + w_R·R, each term optionally divided by its running RMS
    position_weight: float = 1.0
    motion_weight: float = 1.0
    emotion_weight: float = 1.0
    normalization: str = "running"
    norm_beta: float = 0.99
    norm_epsilon: float = 1e-8
    # optimisation
    batch_size: int = 100  # rows; an even number: batch_size/2 (t, t+1) pairs
    epochs: int = 500
    learning_rate: float = 1e-3
    adam_beta1: float = 0.9
    adam_beta2: float = 0.99
    adam_epsilon: float = 1e-8
    schedule: str = "paper"
    rampdown_epochs: int = 30  # paper: LR → 0 and β1 → 0.5 over the last 30 epochs
    decay_rate: float = 0.98  # staircase: LR × decay_rate every decay_epochs
    decay_epochs: int = 10
    # augmentation (Karras 2017 §4; off by default in the FACEGOOD presets)
    feature_noise: bool = False  # each conv input × 1.4^N(0,1) per feature map, training only
    time_shift_frames: float = 0.0  # windows shifted by U(−s, s) frames (paper: 0.5)
    gain_db: float = 0.0  # each pair's audio window × 10^(U(−g, g)/20)
    noise_snr_db: float = 0.0  # > 0: white noise added at an SNR of U(s, s + 20) dB to the window's RMS
    pitch_semitones: float = 0.0  # each window resampled about its centre by 2^(U(−p, p)/12) (pitch and tempo)
    drop_half_silent_frames: bool = False  # FACEGOOD step3: drop every other all-zero label frame
    patience: int = 0  # > 0: stop when validation MSE has not improved for this many epochs (the best is kept)
    seed: int = 123

    def __post_init__(self):
        if self.emotion not in EMOTION_KINDS:
            raise ValueError(f"emotion must be one of {EMOTION_KINDS}, got {self.emotion!r}")
        if self.feature not in FEATURE_KINDS:
            raise ValueError(f"feature must be one of {FEATURE_KINDS}, got {self.feature!r}")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {self.normalization!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if len(self.formant_filters) != 5 or len(self.articulation_filters) != 5:
            raise ValueError("formant_filters and articulation_filters need 5 layers each (32→1 and 64→1)")
        if self.batch_size < 2 or self.batch_size % 2:
            raise ValueError(f"batch_size must be even (pairs of frames), got {self.batch_size}")
        if self.emotion == "facegood_tf2" and self.emotion_dim != 16:
            raise ValueError("the facegood emotion branches are 16 wide")
        if len(set(self.output_names)) != len(self.output_names):
            raise ValueError("output_names repeat a name")

    @property
    def audio_augmentation(self) -> bool:
        """True when training batches carry audio windows (features computed per batch in TF)."""
        return bool(self.time_shift_frames or self.gain_db or self.noise_snr_db or self.pitch_semitones)

    @property
    def has_emotion_input(self) -> bool:
        """True when the emotion vector is a model input (the paper's database)."""
        return self.emotion == "database"


PRESETS: dict[str, Config] = {
    "paper": Config(),
    "facegood_tf2": Config(
        preset="facegood_tf2", feature="lpc_facegood", input_norm=False, emotion="facegood_tf2",
        output_names=FACEGOOD_TRAINED_37,
        normalization="none", batch_size=32, epochs=200, adam_beta2=0.999, schedule="staircase",
    ),
    "facegood_tfv1": Config(
        preset="facegood_tfv1", feature="lpc_facegood", input_norm=False, emotion="facegood_tfv1",
        output_names=FACEGOOD_TRAINED_37,
        normalization="none", batch_size=128, epochs=200, adam_beta2=0.999, schedule="staircase",
    ),
    "tiny": Config(
        preset="tiny", emotion_dim=4, formant_filters=(16, 16, 16, 16, 16), articulation_filters=(16, 16, 16, 16, 16),
        hidden_units=32, batch_size=16, epochs=2,
    ),
}

#: golden parameter counts (spec §3 "Params"); the paper preset's depend on the channel count
GOLDEN_PARAMS = {"facegood_tf2": 1_473_204, "facegood_tfv1": 1_473_012}


def preset(name: str, **overrides) -> Config:
    """``PRESETS[name]`` with fields replaced by ``overrides``."""
    return pick_preset(PRESETS, name, **overrides)


__all__ = ["Config", "PRESETS", "GOLDEN_PARAMS", "preset", "EMOTION_KINDS", "FEATURE_KINDS"]
