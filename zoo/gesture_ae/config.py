"""Configuration of Aud2Repr2Pose (Kucherenko et al. 2019; specs/gesture_ae.md) and its presets.

Two networks (spec §2–§3):

* SpeechE: a window of 2·context + 1 = 61 audio-feature frames at 20 fps → 3 × [TimeDistributed Dense(hidden),
  BatchNorm, ReLU, Dropout] → GRU(hidden) → BatchNorm, ReLU, Dropout → Dense(out), linear. ``out`` is the pose
  (``target="pose"``, the baseline) or the DAE code (``target="code"``, the proposed model).
* The DAE (denoising autoencoder) pose → code → pose, one tanh layer each way, trained first on the poses alone;
  its decoder turns SpeechE's codes back into poses.

Presets (``PRESETS[name]``):

* ``baseline``: SpeechE regresses the 384-value pose (64 nodes × [px, py, pz, vx, vy, vz], dataset units, per
  frame) from 26 MFCCs. 635,264 parameters (633,216 trainable) with the legacy GRU.
* ``proposed``: SpeechE regresses the 325-dimensional DAE code; the DAE 384 → 325 → 384 decodes it.
  620,101 SpeechE parameters; the DAE has 384·325 + 325 + 325·384 + 384 = 250,309 trainable ones.
* ``genea2020``: the GENEA_2020 branch (spec §3): exp-map rotations of the upper body (GENEA: 45 values of 15
  Trinity joints; this skeleton has 13 of them, ``motion.ROTATION_JOINTS``: 39 values), SpeechE 150 wide,
  batch 256, Adam 3e-4, 500 epochs; DAE 39 → 40 → 39, noise 0.01, no weight decay; MFCC nfft 1024;
  Savitzky–Golay smoothing (window 9, order 3) of the decoded poses, read by the predictor.
  Its GRU is the TF2 default (``legacy_gru=False``, reset_after=True): the branch ran Keras 2.3.1 like master, but
  no parameter count of it is published to match, it trains 500 epochs (where cuDNN's kernel, which needs
  reset_after=True, matters) and spec §10.12 recommends the TF2 form; ``legacy_gru=True`` restores the branch's.
* ``tiny``: the ``proposed`` structure with narrow layers (SpeechE 16 wide, code 8), for tests.

Faithful, but stated: the batch size 2056 (sic; probably meant 2048) is kept; the DAE's normalisation divides by
max|Y| of the *uncentred* training data, so normalised values can leave [−1, 1] (§10.6); the noise "variance" flag
is a multiplier on one scalar std (§10.6); the weight decay 0.5 dominates the DAE loss at the start (≈ 700, §10.6).
The GRU is Keras 2.3.1's (``legacy_gru=True``: reset_after=False, one bias) in the faithful presets, since the
golden counts are of it; TF2's default form has 768 more parameters (§10.12).

Fixed by default (model card rows, spec §10):

* validation is a held-out fraction of training *files* (``validation_fraction``), not a random 10 % of
  overlapping windows that leaks (§10.5); seeds are set (``seed``; the DAE's init uses ``dae_seed`` 123456);
* the DAE encodes and decodes frame by frame, so T_out = T_in (the original's fixed batches of 128/8 dropped or
  tiled frames, §10.8 and issue #4);
* the DAE's normalisation statistics (mean, max|Y|, the scalar std) are saved with the model (the original
  recomputed them from Y_train on every run);
* the broken layer-wise pretraining is not offered (§10.7); the GENEA branch's inverted ``-no_early_stopping``
  flag (early stopping off, §10.13) is not copied: ``dae_early_stopping`` is on in every preset.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zoo.core.configs import ConfigBase, pick_preset

from .features import CONTEXT
from .features import FEATURE_KINDS as FEATURE_WIDTHS  # features a frame of each front end (spec §1.2)

REPRESENTATIONS = ("positions", "rotations")
TARGETS = ("pose", "code")
#: values a frame of the position representation: 64 nodes × [px, py, pz, vx, vy, vz] (spec §1.4)
POSITION_DIM = 384


@dataclass(frozen=True)
class Config(ConfigBase):
    """Every hyperparameter of one Aud2Repr2Pose model; ``Config.to_dict()`` is its JSON form.

    Units: frames at ``fps`` (20); audio at ``sample_rate`` Hz; positions in dataset units (≈ cm), velocities in
    units per frame; rotations as exp-maps (radians); learning rates per step.
    """

    MODEL: ClassVar[str] = "gesture_ae"

    preset: str = "baseline"
    # input: windows of 2·context + 1 frames of `features` at `fps`
    features: str = "MFCC"
    num_features: int = 26
    mfcc_nfft: int = 512  # python_speech_features' default, smaller than the 882-sample frame (spec §1.2, §10.3)
    context: int = CONTEXT  # frames before and after the centre: 61-frame windows (±1.5 s)
    fps: int = 20
    sample_rate: int = 44100  # the dataset's audio rate
    # output: the pose (positions: 384 = 64 nodes × [p, v]; rotations: exp-maps of a joint subset)
    representation: str = "positions"
    output_dim: int = POSITION_DIM
    target: str = "pose"  # "pose": SpeechE regresses the pose (baseline); "code": the DAE code (proposed)
    # SpeechE (spec §3)
    hidden: int = 256
    dropout: float = 0.1
    legacy_gru: bool = True  # Keras 2.3.1's GRU (reset_after=False); False: TF2's default (reset_after=True)
    bn_momentum: float = 0.99  # Keras 2.3.1 BatchNormalization defaults
    bn_epsilon: float = 1e-3
    batch_size: int = 2056  # (sic) the original's value, probably meant 2048; kept
    learning_rate: float = 1e-3
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-7  # the Keras default
    epochs: int = 100
    # the output layer's bias at the start: "mean" of the training targets, or "zeros" (the original's Keras default,
    # which leaves the baseline learning 60-cm offsets of raw positions at 1e-3 per step, spec §10.4)
    output_bias: str = "mean"
    # train SpeechE on per-dimension standardised targets, folded back into the output layer at the end (the saved
    # network predicts raw targets, same architecture); the original regressed raw targets (False)
    standardize_targets: bool = False
    validation_fraction: float = 0.1  # of the training files (the original: 10 % of the windows, at random)
    seed: int = 0
    # DAE (spec §2): pose → code → pose
    code_dim: int = 325
    dae_keep_prob: float = 0.9  # dropout keep probability on each layer's input (training only)
    dae_noise: float = 0.05  # σ of the denoising noise = dae_noise × the scalar std of the normalised targets
    dae_weight_decay: float = 0.5  # × Σ_l ½‖W_l‖² (TF's l2_loss of both kernels)
    dae_learning_rate: float = 1e-4
    dae_batch_size: int = 128
    dae_epochs: int = 20
    dae_early_stopping: bool = True
    dae_stop_threshold: float = 0.5  # stop when (new − best)/best of the validation loss exceeds it
    dae_init_scale: float = 2.0  # W ~ U(−a, a), a = dae_init_scale × the Glorot limit √(6/(fan_in + fan_out))
    dae_seed: int = 123456
    # post-processing of the decoded poses (GENEA_2020 branch): Savitzky–Golay over time, 0 = none
    savgol_window: int = 0
    savgol_order: int = 3

    def __post_init__(self):
        if self.output_bias not in ("mean", "zeros"):
            raise ValueError(f"output_bias must be 'mean' or 'zeros', got {self.output_bias!r}")
        if self.features not in FEATURE_WIDTHS:
            raise ValueError(f"features must be one of {sorted(FEATURE_WIDTHS)}, got {self.features!r}")
        if self.num_features != FEATURE_WIDTHS[self.features]:
            raise ValueError(f"the {self.features} features have {FEATURE_WIDTHS[self.features]} values a frame, "
                             f"not num_features={self.num_features}")
        if self.representation not in REPRESENTATIONS:
            raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {self.representation!r}")
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {self.target!r}")
        if self.representation == "positions" and self.output_dim % 6:
            raise ValueError(f"positions are nodes × [px, py, pz, vx, vy, vz]: output_dim must be a multiple of 6, "
                             f"got {self.output_dim}")
        for name in ("num_features", "mfcc_nfft", "fps", "sample_rate", "output_dim", "hidden", "batch_size",
                     "code_dim", "dae_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        if self.context < 0:
            raise ValueError(f"context must be ≥ 0 frames, got {self.context}")
        if self.epochs < 0 or self.dae_epochs < 0:
            raise ValueError("epochs and dae_epochs must be ≥ 0 (0: the initialised model)")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")
        if not 0 < self.dae_keep_prob <= 1:
            raise ValueError(f"dae_keep_prob must lie in (0, 1], got {self.dae_keep_prob}")
        if not 0 <= self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must lie in [0, 1), got {self.validation_fraction}")
        for name in ("dae_noise", "dae_weight_decay", "dae_init_scale"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be ≥ 0, got {getattr(self, name)}")
        if self.dae_stop_threshold <= 0:
            raise ValueError(f"dae_stop_threshold must be > 0, got {self.dae_stop_threshold}")
        if self.savgol_window and (self.savgol_window % 2 == 0 or self.savgol_window <= self.savgol_order):
            raise ValueError(f"savgol_window must be 0 (off) or odd and > savgol_order={self.savgol_order}, "
                             f"got {self.savgol_window}")

    @property
    def window(self) -> int:
        """Frames of one SpeechE input window: 2·context + 1 (61)."""
        return 2 * self.context + 1

    @property
    def speech_output_dim(self) -> int:
        """Width of SpeechE's output: the pose (``target="pose"``) or the DAE code (``target="code"``)."""
        return self.output_dim if self.target == "pose" else self.code_dim

    @property
    def dae_init_limit(self) -> float:
        """a of the DAE's U(−a, a) init: dae_init_scale·√(6/(pose + code)) (both layers have the same fans)."""
        return self.dae_init_scale * (6.0 / (self.output_dim + self.code_dim)) ** 0.5


PRESETS: dict[str, Config] = {
    "baseline": Config(),
    "proposed": Config(preset="proposed", target="code"),
    "genea2020": Config(preset="genea2020", mfcc_nfft=1024, representation="rotations", output_dim=39, target="code",
                        hidden=150, legacy_gru=False, batch_size=256, learning_rate=3e-4, epochs=500, code_dim=40,
                        dae_noise=0.01, dae_weight_decay=0.0, savgol_window=9, savgol_order=3),
    "tiny": Config(preset="tiny", target="code", hidden=16, code_dim=8, batch_size=32, epochs=2, dae_batch_size=16,
                   dae_epochs=2),
}

#: total parameter counts of SpeechE (Keras count_params, BatchNorm moving statistics included) in the original
#: configurations, with the legacy GRU (spec §3)
GOLDEN_PARAMS = {"baseline": 635_264, "proposed": 620_101}
#: … of which trainable (4 BatchNorms × 2 × 256 moving statistics are not)
GOLDEN_TRAINABLE = {"baseline": 633_216, "proposed": 618_053}
#: total SpeechE counts with TF2's default GRU (reset_after=True: a second bias row, 3·256 = 768 more)
GOLDEN_PARAMS_RESET_AFTER = {"baseline": 636_032, "proposed": 620_869}
#: the GRU(256) over 256 features alone: reset_after=False / True
GOLDEN_GRU = {"legacy": 393_984, "reset_after": 394_752}
#: trainable DAE parameters: 384·325 + 325 + 325·384 + 384 (the saved normalisation statistics add 384 + 384 + 1)
GOLDEN_DAE_PARAMS = {"proposed": 250_309}


def count_from_table(config: Config) -> tuple[int, int]:
    """(total, trainable) SpeechE parameters by spec §3's table, without Keras: dense blocks F·H + H, then 2 × (H·H +
    H); 4 BatchNorms of 4H (2H trainable); GRU 3(F_in·H + H·H + H), + 3H with reset_after; output H·O + O."""
    f, h, o = config.num_features, config.hidden, config.speech_output_dim
    dense = f * h + h + 2 * (h * h + h)
    gru = 3 * (h * h + h * h + h) + (0 if config.legacy_gru else 3 * h)
    trainable = dense + 4 * 2 * h + gru + h * o + o
    return trainable + 4 * 2 * h, trainable


def dae_count_from_table(config: Config) -> int:
    """Trainable DAE parameters: P·C + C + C·P + P (P = output_dim, C = code_dim)."""
    p, c = config.output_dim, config.code_dim
    return 2 * p * c + c + p


def preset(name: str, **overrides) -> Config:
    """``PRESETS[name]`` with fields replaced by ``overrides``."""
    return pick_preset(PRESETS, name, **overrides)


__all__ = ["Config", "PRESETS", "GOLDEN_PARAMS", "GOLDEN_TRAINABLE", "GOLDEN_PARAMS_RESET_AFTER", "GOLDEN_GRU",
           "GOLDEN_DAE_PARAMS", "preset", "count_from_table", "dae_count_from_table", "FEATURE_WIDTHS",
           "REPRESENTATIONS", "TARGETS", "POSITION_DIM"]
