"""Configuration of VOCA (Cudeiro et al. 2019; specs/voca.md) and its presets.

Presets (``PRESETS[name]``):

* ``voca``: the released model (spec §2.1–2.2): 8 training subjects, FLAME's 5023 vertices, encoder filters
  32-32-64-64, a 50-dimensional expression code, windows of K = 2 consecutive frames, velocity weight 10,
  batch 64, Adam 1e-4 constant, 100 epochs (the config file's; the paper says 50). 809,563 trainable parameters.
* ``ravdess``: the derived repo's RAVDESS configuration (spec §6.1): 4 subjects (Actor_01–04), size factor 4
  (128-128-256-256), expression_dim 100, K = 6, velocity 2.257, acceleration 0.5, batch 16, Adam 3.5e-3 × 0.9 per
  epoch, 5 epochs. 1,925,783 trainable parameters.
* ``synthetic``: ``voca`` on the synthetic corpus's face mesh (5,937 vertices); its subjects are the corpus
  speakers the training split holds (set by ``train``).
* ``tiny``: the same structure with a few channels and a 64-vertex mesh, for tests.

The subject index is 0-based everywhere (the original's ``run_voca.py`` was 1-based, its training 0-based):
index k is ``subjects[k]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zoo.core.configs import ConfigBase, pick_preset

from .features import NUM_FEATURES
from .phones import NUM_PHONES

AUDIO_FEATURES = ("mfcc", "logmel", "phones")
#: features a frame of each front end (phones: pocketsphinx one-hot, 39 CMU phones + SIL)
FEATURE_WIDTH = {"mfcc": NUM_FEATURES, "logmel": NUM_FEATURES, "phones": NUM_PHONES}
DECODER_INITS = ("pca_unit", "pca_sqrt_eigenvalue", "random")

#: VOCASET's training subjects in the one-hot order of the released model (spec §4.1)
VOCASET_TRAIN = ("FaceTalk_170728_03272_TA", "FaceTalk_170904_00128_TA", "FaceTalk_170725_00137_TA",
                 "FaceTalk_170915_00223_TA", "FaceTalk_170811_03274_TA", "FaceTalk_170913_03279_TA",
                 "FaceTalk_170904_03276_TA", "FaceTalk_170912_03278_TA")
VOCASET_VAL = ("FaceTalk_170811_03275_TA", "FaceTalk_170908_03277_TA")
VOCASET_TEST = ("FaceTalk_170809_00138_TA", "FaceTalk_170731_00024_TA")
RAVDESS_TRAIN = ("Actor_01", "Actor_02", "Actor_03", "Actor_04")


@dataclass(frozen=True)
class Config(ConfigBase):
    """Every hyperparameter of one VOCA model; ``Config.to_dict()`` is its JSON form.

    Units: vertices and offsets in metres; ``fps`` 60; learning rates per step.
    """

    MODEL: ClassVar[str] = "VOCA"

    preset: str = "voca"
    # input: windows (16 frames at 60 fps) × features
    audio_feature: str = "mfcc"
    num_audio_features: int = 29
    audio_window: int = 16
    per_feature_input_norm: bool = False  # the original normalises one scalar over all 16 × 29 values (spec §9.3)
    # conditioning and network
    subjects: tuple[str, ...] = VOCASET_TRAIN  # one-hot order; index k is subjects[k] (0-based)
    num_vertices: int = 5023
    size_factor: float = 1.0  # encoder filters 32f, 32f, 64f, 64f
    fc_units: int = 128
    expression_dim: int = 50
    decoder_init: str = "pca_unit"  # the PCA basis of training offsets: unit-norm columns or scaled by √eigenvalue
    bn_momentum: float = 0.9  # TF1 decay: moving = 0.9·moving + 0.1·batch
    bn_epsilon: float = 1e-5
    # losses (spec §3): position + w_v·velocity + w_a·acceleration + w_r·vertex regulariser over K-frame windows
    num_consecutive_frames: int = 2
    absolute_reconstruction_loss: bool = False
    velocity_weight: float = 10.0
    acceleration_weight: float = 0.0
    verts_regularizer_weight: float = 0.0
    # optimisation
    batch_size: int = 64  # windows of K frames per step
    learning_rate: float = 1e-4
    decay_rate: float = 1.0  # < 1: learning rate × decay_rate every epoch (staircase)
    adam_beta1: float = 0.9
    epochs: int = 100
    patience: int = 0  # > 0: stop when the validation LVE has not improved for this many epochs (the best is kept)
    seed: int = 0

    def __post_init__(self):
        if self.audio_feature not in AUDIO_FEATURES:
            raise ValueError(f"audio_feature must be one of {AUDIO_FEATURES}, got {self.audio_feature!r}")
        if self.decoder_init not in DECODER_INITS:
            raise ValueError(f"decoder_init must be one of {DECODER_INITS}, got {self.decoder_init!r}")
        width = FEATURE_WIDTH[self.audio_feature]
        if self.num_audio_features != width:
            raise ValueError(f"the {self.audio_feature} front end gives {width} features a frame, not "
                             f"num_audio_features={self.num_audio_features}")
        if self.audio_window != 16:
            raise ValueError("audio_window must be 16 (four stride-2 convolutions reduce it to one step)")
        if not self.subjects or len(set(self.subjects)) != len(self.subjects):
            raise ValueError(f"subjects must be a non-empty list without repeats, got {self.subjects}")
        if self.num_consecutive_frames < 2:
            raise ValueError("num_consecutive_frames must be ≥ 2 (the velocity term needs two frames)")
        if self.acceleration_weight and self.num_consecutive_frames < 3:
            raise ValueError("an acceleration weight needs num_consecutive_frames ≥ 3")
        for name in ("num_audio_features", "num_vertices", "fc_units", "expression_dim", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        if self.epochs < 0:
            raise ValueError(f"epochs must be ≥ 0 (0: the initialised model), got {self.epochs}")
        if not 0 < self.decay_rate <= 1:
            raise ValueError(f"decay_rate must lie in (0, 1], got {self.decay_rate}")

    @property
    def num_subjects(self) -> int:
        return len(self.subjects)

    @property
    def filters(self) -> tuple[int, int, int, int]:
        """Encoder filters (32f, 32f, 64f, 64f) with f = ``size_factor``."""
        f = self.size_factor
        return int(32 * f), int(32 * f), int(64 * f), int(64 * f)

    def subject_index(self, name_or_index) -> int:
        """The 0-based index of a training subject, given its name or its index."""
        if isinstance(name_or_index, str) and name_or_index in self.subjects:
            return self.subjects.index(name_or_index)
        try:
            index = int(name_or_index)
        except (TypeError, ValueError):
            raise ValueError(f"unknown subject {name_or_index!r}; the model knows (0-based) "
                             + ", ".join(f"{i}: {s}" for i, s in enumerate(self.subjects))) from None
        if not 0 <= index < self.num_subjects:
            raise ValueError(f"subject index {index} outside 0…{self.num_subjects - 1} (0-based)")
        return index


PRESETS: dict[str, Config] = {
    "voca": Config(),
    "ravdess": Config(preset="ravdess", subjects=RAVDESS_TRAIN, size_factor=4.0, expression_dim=100,
                      num_consecutive_frames=6, velocity_weight=2.2570, acceleration_weight=0.5, batch_size=16,
                      learning_rate=0.0035, decay_rate=0.9, epochs=5),
    "synthetic": Config(preset="synthetic", subjects=("Synth_male_deep", "Synth_female_warm"), num_vertices=5937),
    "tiny": Config(preset="tiny", subjects=("a", "b"), num_vertices=64, size_factor=0.25, fc_units=16,
                   expression_dim=8, batch_size=8, epochs=2),
}

#: trainable parameter counts of the original configurations (spec §2.1 and §6.1)
GOLDEN_PARAMS = {"voca": 809_563, "ravdess": 1_925_783}


def count_from_table(config: Config) -> int:
    """Trainable parameters by spec §2.1's layer table, without Keras: input BatchNorm 2 (per feature: 2F);
    conv k: 3·C_in·C_out + C_out with C_in(1) = F + S; fc1 (64f + S)·128 + 128; fc2 128·E + E; decoder
    E·3V + 3V."""
    f1, f2, f3, f4 = config.filters
    s, e, v3 = config.num_subjects, config.expression_dim, 3 * config.num_vertices
    bn = 2 * config.num_audio_features if config.per_feature_input_norm else 2
    convs = sum(3 * cin * cout + cout for cin, cout in ((config.num_audio_features + s, f1), (f1, f2), (f2, f3),
                                                         (f3, f4)))
    fcs = (f4 + s) * config.fc_units + config.fc_units + config.fc_units * e + e
    return bn + convs + fcs + e * v3 + v3


def preset(name: str, **overrides) -> Config:
    """``PRESETS[name]`` with fields replaced by ``overrides``."""
    return pick_preset(PRESETS, name, **overrides)


__all__ = ["Config", "PRESETS", "GOLDEN_PARAMS", "preset", "count_from_table", "AUDIO_FEATURES", "DECODER_INITS",
           "VOCASET_TRAIN", "VOCASET_VAL", "VOCASET_TEST", "RAVDESS_TRAIN"]
