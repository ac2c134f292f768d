"""Configuration of EveNet (hansonrobotics/EveNet, specs/evenet.md) and its presets.

EveNet is an autoregressive WaveNet over frames of facial shape keys, conditioned per frame on a
phoneme category (56, SIL = 47) and an emotion category. Three lineages (spec §0):

* ``regression`` (A, master): raw frames as input channels, sigmoid post-processing and output,
  RMSE. Preset ``master``: fw 8, dilations [1..128]×2, R 64, Dc 64, S 512, one-hot emotion and
  phoneme (64 wide), D 21 (master's reader_config), Adam 0.003, batch 1 in the original. RF 3578.
* ``frames_softmax`` (B): each key as the 11-class two-hot of spec §3, D·11 input channels, ReLU
  post-processing, a softmax over 11 classes per key; loss RMSE of the decoded expectations (``ce``
  and ``ce_rmse`` as options). Preset ``softmax``: dilations [1..256]×2, D 75; RF 7162.
* ``key_sampling`` (C): frames flattened key-minor into one sequence (step n = D·frame + key), 11
  channels a step, a softmax per step. Preset ``keysampling``: dilations [1..512]×2 + [2, 8];
  RF 14400 steps = 192 frames × 75 keys.

Receptive field (steps): RF = (fw − 1)·Σd + 1 + (fw − 1) (the causal layer adds fw − 1).

The causal fix (spec §8.2): by default each conv is causal (Keras ``padding="causal"``) and the
output at step t predicts step t + 1 from steps ≤ t, conditioned on step t + 1's labels.
``legacy_same_padding=True`` reproduces master: left padding (fw − 1)·d then TF "SAME", so a layer
reads lags {a·d, …, (a + fw − 1)·d} with a = ⌊(fw − 1)/2⌋, and the output at t is trained on x[t]
itself with t's labels (the identity leak at fw 2; a 6-frame gap at fw 8).

``residual_output`` (A, not in the original): the output is the input step (the previous frame) plus the head's
linear output Δ, x̂[t+1] = x[t] + Δ, clipped to [0, 1] outside training, instead of σ(Δ); Δ = 0 is the
repeat-last-frame predictor. Same parameter count.

Conditioning (per step, both kinds added to filter and gate of every layer):
``emotion_kind="onehot"`` (A): one-hot(id, ``emotion_channels``) · W[emotion_channels, Dc];
``"embedding"`` (B, C): a table [``emotion_categories``, ``emotion_channels``] then a 1×1 conv to Dc.
``phoneme_channels`` > 0: one-hot(phoneme id, phoneme_channels) · W[phoneme_channels, Dc] (master's LC;
the B/C branches had none: ``phoneme_channels=0`` reproduces them). An id of −1 is the zero vector.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zoo.core.configs import ConfigBase, pick_preset
from zoo.datasets.evenet import EMOTION_CATEGORIES, EVENET_FPS, FROM_RAVDESS, PHONEME_CATEGORIES

LINEAGES = ("regression", "frames_softmax", "key_sampling")
EMOTION_KINDS = ("onehot", "embedding")
LOSSES = ("rmse", "ce", "ce_rmse")
CLASSES = 11  # spec §3: class k stands for the value k/10

SILENCE_ID = PHONEME_CATEGORIES.index("SIL")  # 47
NEUTRAL_ID = EMOTION_CATEGORIES.index("Neutral")  # 5, the original generate.py's default GC id


def doubling(top: int) -> tuple[int, ...]:
    """(1, 2, 4, …, top)."""
    out, d = [], 1
    while d <= top:
        out.append(d)
        d *= 2
    return tuple(out)


@dataclass(frozen=True)
class Config(ConfigBase):
    """Every hyperparameter of one EveNet model; ``Config.to_dict()`` is its JSON form.

    ``data_dim``: shape keys a frame (D); ``fps``: frame rate of the data (48, the original demo's);
    ``sample_size``: frames (steps for C) predicted per training chunk; a chunk also carries the RF − 1
    steps before them (ibab's overlapping scheme).
    """

    MODEL: ClassVar[str] = "EveNet"

    preset: str = "master"
    lineage: str = "regression"
    data_dim: int = 21
    output_names: tuple[str, ...] = ()  # the shape-key names (D of them) once trained; () before
    filter_width: int = 8
    dilations: tuple[int, ...] = doubling(128) * 2
    residual_channels: int = 64
    dilation_channels: int = 64
    skip_channels: int = 512
    use_biases: bool = True
    emotion_kind: str = "onehot"
    emotion_channels: int = 64  # one-hot depth (onehot) or embedding width (embedding)
    emotion_categories: tuple[str, ...] = EMOTION_CATEGORIES
    phoneme_channels: int = 64  # one-hot depth of the phoneme label; 0: no phoneme conditioning
    legacy_same_padding: bool = False
    loss: str = "rmse"
    residual_output: bool = False  # A only: x̂[t+1] = x[t] + Δ (clipped to [0, 1] outside training), not σ(·)
    input_noise: float = 0.0  # σ of N(0, σ²) added to the input steps in training only (0: the original)
    fps: float = EVENET_FPS
    # optimisation (the original's Adam with ε 1e-4; L2 off)
    learning_rate: float = 0.003
    adam_epsilon: float = 1e-4
    l2: float = 0.0
    batch_size: int = 8  # chunks a step (the original: 1)
    sample_size: int = 1000
    epochs: int = 100
    patience: int = 0
    seed: int = 123

    def __post_init__(self):
        for name, value, options in (("lineage", self.lineage, LINEAGES), ("emotion_kind", self.emotion_kind,
                                     EMOTION_KINDS), ("loss", self.loss, LOSSES)):
            if value not in options:
                raise ValueError(f"{name} must be one of {options}, got {value!r}")
        if self.filter_width < 1 or not self.dilations or min(self.dilations) < 1:
            raise ValueError("filter_width and every dilation must be ≥ 1, with at least one dilation")
        if self.data_dim < 1 or self.sample_size < 1 or self.batch_size < 1:
            raise ValueError("data_dim, sample_size and batch_size must be ≥ 1")
        if self.output_names and len(self.output_names) != self.data_dim:
            raise ValueError(f"{len(self.output_names)} output_names for data_dim {self.data_dim}")
        if self.emotion_kind == "onehot" and len(self.emotion_categories) > self.emotion_channels:
            raise ValueError(f"{len(self.emotion_categories)} emotion categories do not fit a one-hot of "
                             f"{self.emotion_channels} channels")
        if self.phoneme_channels and self.phoneme_channels < len(PHONEME_CATEGORIES):
            raise ValueError(f"phoneme_channels {self.phoneme_channels} < the {len(PHONEME_CATEGORIES)} categories")
        if not self.input_noise >= 0.0:
            raise ValueError(f"input_noise must be ≥ 0, got {self.input_noise}")
        if self.residual_output and (self.lineage != "regression" or self.legacy_same_padding):
            raise ValueError("residual_output needs the regression lineage without legacy_same_padding (its input "
                             "step would be the target itself)")
        if self.lineage == "regression" and self.loss != "rmse":
            raise ValueError("the regression lineage trains with rmse only (ce needs the 11-class outputs)")

    # ---------------------------------------------------------------- derived sizes
    @property
    def step_channels(self) -> int:
        """Input/output channels of one sequence step: D (A), D·11 (B), 11 (C)."""
        return {"regression": self.data_dim, "frames_softmax": self.data_dim * CLASSES,
                "key_sampling": CLASSES}[self.lineage]

    @property
    def steps_per_frame(self) -> int:
        """Sequence steps per animation frame: D for key sampling, else 1."""
        return self.data_dim if self.lineage == "key_sampling" else 1

    @property
    def receptive_field(self) -> int:
        """Steps the causal net sees: (fw − 1)·Σd + 1 + (fw − 1)."""
        return (self.filter_width - 1) * sum(self.dilations) + 1 + (self.filter_width - 1)

    @property
    def lag_offset(self) -> int:
        """a: the first lag of every layer is a·d (⌊(fw − 1)/2⌋ with legacy SAME padding, else 0)."""
        return (self.filter_width - 1) // 2 if self.legacy_same_padding else 0

    @property
    def context(self) -> int:
        """Steps the output at t actually depends on: 1 + Σ over layers (incl. the causal one, d = 1) of
        (fw − 1 + a)·d. Equals ``receptive_field`` unless legacy (master fw 8: 5111, not 3578)."""
        return 1 + (self.filter_width - 1 + self.lag_offset) * (1 + sum(self.dilations))

    def emotion_index(self, label: str) -> int:
        """The id of an emotion among ``emotion_categories``: an EveNet label ("Happy") or a RAVDESS name
        ("happy"), case-insensitive; a ValueError lists the categories."""
        folded = {c.lower(): i for i, c in enumerate(self.emotion_categories)}
        key = FROM_RAVDESS.get(str(label), str(label)).lower()
        if key not in folded:
            raise ValueError(f"unknown emotion {label!r}; the model knows {', '.join(self.emotion_categories)}")
        return folded[key]

    @property
    def names(self) -> tuple[str, ...]:
        return self.output_names or tuple(f"key{i}" for i in range(self.data_dim))


_SOFTMAX = dict(lineage="frames_softmax", data_dim=75, emotion_kind="embedding", learning_rate=1e-3)
PRESETS: dict[str, Config] = {
    "master": Config(),
    "softmax": Config(preset="softmax", dilations=doubling(256) * 2, **_SOFTMAX),
    "keysampling": Config(preset="keysampling", dilations=doubling(512) * 2 + (2, 8), sample_size=75,
                          **{**_SOFTMAX, "lineage": "key_sampling"}),
    "tiny": Config(preset="tiny", data_dim=4, filter_width=2, dilations=(1, 2, 4, 1, 2, 4), residual_channels=8,
                   dilation_channels=8, skip_channels=16, sample_size=64, batch_size=4, epochs=2),
}

#: receptive fields (steps) of the presets (spec §2.2–2.4)
GOLDEN_RF = {"master": 3578, "softmax": 7162, "keysampling": 14400}

#: the original branches' conditioning (B/C: a per-file emotion among 2, "confident"/"confused"; no phonemes)
BRANCH_OVERRIDES = {"phoneme_channels": 0, "emotion_categories": ("confident", "confused")}

#: parameter counts from the layer table (``count_from_table``), checked against Keras (tests/evenet/test_model.py)
GOLDEN_PARAMS = {"master": 2_195_989, "softmax": 3_259_769, "keysampling": 2_903_371,
                 "softmax_branch": 3_111_737, "keysampling_branch": 2_722_571}


def golden_config(name: str) -> Config:
    """The configuration a ``GOLDEN_PARAMS`` key names: a preset, or ``<preset>_branch`` (its original branch)."""
    base, _, branch = name.partition("_")
    return preset(base, **(BRANCH_OVERRIDES if branch == "branch" else {}))


def count_from_table(config: Config) -> int:
    """Trainable parameters by the layer table of spec §2.1, without Keras:

    causal fw·C·R (no bias); per dilated layer: filter + gate 2·fw·R·Dc (+ 2·Dc biases), emotion 2·E·Dc,
    phoneme 2·P·Dc, residual Dc·R (+ R), skip Dc·S (+ S); the emotion table K·E when embedded; post-processing
    S·S (+ S) and S·C_out (+ C_out), with C = C_out = the step channels.
    """
    fw, c, r, dc, s, b = (config.filter_width, config.step_channels, config.residual_channels,
                          config.dilation_channels, config.skip_channels, int(config.use_biases))
    per_layer = (2 * fw * r * dc + 2 * dc * b + 2 * config.emotion_channels * dc + 2 * config.phoneme_channels * dc
                 + dc * r + r * b + dc * s + s * b)
    table = len(config.emotion_categories) * config.emotion_channels if config.emotion_kind == "embedding" else 0
    return fw * c * r + len(config.dilations) * per_layer + table + s * s + s * b + s * c + c * b


def preset(name: str, **overrides) -> Config:
    """``PRESETS[name]`` with fields replaced by ``overrides``."""
    return pick_preset(PRESETS, name, **overrides)


__all__ = ["Config", "PRESETS", "GOLDEN_PARAMS", "GOLDEN_RF", "preset", "count_from_table", "golden_config",
           "CLASSES", "SILENCE_ID", "NEUTRAL_ID", "LINEAGES"]
