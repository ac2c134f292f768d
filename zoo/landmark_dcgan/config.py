"""Configuration of the speech → landmarks (CNN) → face (conditional DCGAN) method (Li, Tang, Tao, Xu 2017;
specs/landmark_dcgan.md) and its presets.

Two networks, trained one after the other and chained at prediction:

* the landmark CNN (spec §3): one 60 ms window of audio as 23 chunks × 128 FFT magnitudes (128, 23, 1) → 8 convolutions
  (frequency first, then time) → three dense layers → 68 (x, y) points min–max normalised to [0, 1] (136 values);
* the conditional DCGAN (spec §5): G(z ∈ U(−1, 1)^100, landmarks 136) → an S×S RGB face in [−1, 1]; D(image,
  landmarks) → 100 logits. The landmarks are concatenated late, tiled over the feature maps.

Presets (``PRESETS[name]``):

* ``original``: the faithful networks: the CNN without recurrence (the original's GRU is built and never applied,
  spec §9.1): 276,104 parameters; the GAN at 256² (D 9,660,388 and G 9,250,779 trainable parameters, from the tables
  of spec §5.5–5.6); the original's training settings (CNN batch 300, 5 epochs, Adam 1e-3; GAN batch 32, 25 epochs,
  Adam 2e-4 β1 0.5, one D step then two G steps).
* ``report``: ``original`` plus the GRU the report describes, over a sequence of frame embeddings of one video.
* ``gan128``, ``gan64``: the same design at 128² and 64² (G starts at S/64, D flattens (S/64)² maps; spec §9.23), for
  CPUs. ``tiny``: 64² with narrow layers, for tests.

Units: audio at ``sample_rate`` Hz; frames every ``frame_ms`` ms; windows ``window_ms`` ms; images ``image_size``
pixels square; learning rates per step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zoo.core.configs import ConfigBase, pick_preset

GRIDS = ("30ms", "video")
LANDMARK_NORMS = ("minmax", "similarity")
MULTI_FACE = ("largest", "last")
NO_FACE = ("skip", "interpolate")
UNPOOL = ("zeros", "nearest")
REFERENCE_Z = ("tanh", "logits")
OUTPUT_BIAS = ("mean", "zeros")
NUM_LANDMARKS = 68
LANDMARK_DIM = 2 * NUM_LANDMARKS  # x0, y0, x1, y1, ... (spec §2)


@dataclass(frozen=True)
class Config(ConfigBase):
    """Every hyperparameter of one landmark-CNN + DCGAN model; ``Config.to_dict()`` is its JSON form."""

    MODEL: ClassVar[str] = "landmark_dcgan"

    preset: str = "original"
    # audio features (spec §1): 60 ms windows centred on a 30 ms grid, 23 chunks of 128 samples, |FFT_128|
    sample_rate: int = 48000
    frame_ms: int = 30
    window_ms: int = 60
    chunk: int = 128  # samples a chunk = the FFT length (bins kept: all 128, two-sided)
    chunks: int = 23  # chunks a window: ceil(2880 / 128)
    legacy_scaling: bool = False  # True: x = s/32768 − 1 (the original's unsigned reading of int16, spec §9.2)
    log_magnitude: bool = False  # True: log(|X| + 1e-3) with per-bin standardisation in the model (flagged)
    # landmarks from video (spec §2)
    grid: str = "30ms"  # "30ms": the original's 30 ms seeks; "video": every frame at the video's rate
    landmark_norm: str = "minmax"  # "minmax": per-frame per-axis (faithful); "similarity": isotropic, aligned
    clahe: bool = True  # CLAHE (clip 2.0, 8×8 tiles) on the grey frame before dlib (the original's)
    upsample: int = 1  # dlib HOG detector upsampling (the original's 1)
    upscale: int = 1  # resize the grey frame by this factor before detection and prediction (1: the original)
    multi_face: str = "largest"  # several faces: the largest box ("last": the original's last detection)
    no_face: str = "skip"  # frames without a face: dropped from features and landmarks alike, or "interpolate"
    # landmark CNN (spec §3)
    gru: bool = False  # the report's GRU over a video's frame embeddings (the original never applies it)
    gru_units: int = 136
    sequence_length: int = 32  # frames a training sequence of the GRU variant
    cnn_learning_rate: float = 1e-3
    cnn_batch_size: int = 300
    cnn_epochs: int = 5  # the code's 5 (the report claims 100, spec §9.10)
    speed_perturbation: tuple[float, ...] = ()  # CNN training audio also played α× faster, each α (none: original)
    output_bias: str = "mean"  # the output layer's bias starts at logit(training mean) ("zeros": the original's)
    mouth_weight: float = 1.0  # the CNN's MSE on the 20 mouth points' coordinates × this (1: the original's)
    cnn_patience: int = 0  # early stopping on the validation loss after this many epochs without a gain (0: off)
    smooth_frames: int = 1  # a clip's predicted landmarks: centred moving average over this many frames (odd; 1: none)
    # conditional DCGAN (spec §5)
    image_size: int = 256
    z_dim: int = 100
    d_filters: tuple[int, int, int, int] = (64, 128, 256, 1024)
    g_filters: tuple[int, int, int, int] = (1024, 256, 128, 64)
    gan_batch_size: int = 32
    gan_epochs: int = 25
    gan_learning_rate: float = 2e-4
    gan_beta1: float = 0.5
    g_steps: int = 2  # generator steps after each discriminator step
    d_lr_ratio: float = 1.0  # D's learning rate = gan_learning_rate × this (1: the original's; < 1: TTUR-style)
    real_label: float = 1.0  # D's target for real images (1: the original's; 0.9: one-sided label smoothing)
    gan_l1_weight: float = 0.0  # λ of λ·mean|G(z, y) − x| added to G's loss (0: the original's pure GAN loss)
    l1_lower_weight: float = 1.0  # the L1's weight on the image's lower half (mouth, jaw) relative to the upper
    gan_opening_weight: float = 0.0  # λ_o of the mouth-opening loss through a learned regressor (0: off, original)
    gan_cross_motion: bool = False  # the opening loss also on a trial's mean face + another frame's motion
    gan_average: float = 0.0  # β: keep an exponential moving average of G's weights (0: the last step's, original)
    legacy_bn: bool = False  # True: BatchNorm in training mode when sampling (the original's)
    reference_z: str = "tanh"  # reference-encoded z = tanh(D's logits), in G's (−1, 1); "logits": the original's
    unpool: str = "zeros"  # "zeros": zero-insertion (the original's); "nearest": nearest-neighbour (flagged)
    g_input_landmarks: bool = False  # True: G's first layer takes [z, landmarks] (also; the original: z only)
    g_landmark_maps: bool = False  # True: G also takes Gaussian maps of the landmarks' face parts at S/8 and S/2
    legacy_frames: bool = False  # True: the whole frame squashed to S² with a per-image contrast stretch (spec §5.3)
    crop_scale: float = 1.5  # face crop: a square of crop_scale × the landmarks' bounding box's larger side
    gan_frame_step: int = 10  # GAN images: every 10th grid sample (300 ms apart, the original's); 1: every frame
    bn_momentum: float = 0.9
    bn_epsilon: float = 1e-5
    validation_fraction: float = 0.15  # of the training actors' trials, when no validation actors are named
    seed: int = 0

    def __post_init__(self):
        problems = []
        for name, value, valid in (("grid", self.grid, GRIDS), ("landmark_norm", self.landmark_norm, LANDMARK_NORMS),
                                   ("multi_face", self.multi_face, MULTI_FACE), ("no_face", self.no_face, NO_FACE),
                                   ("unpool", self.unpool, UNPOOL), ("output_bias", self.output_bias, OUTPUT_BIAS),
                                   ("reference_z", self.reference_z, REFERENCE_Z)):
            if value not in valid:
                problems.append(f"{name} must be one of {valid}, got {value!r}")
        if min(self.sample_rate, self.frame_ms, self.window_ms, self.chunk, self.chunks) < 1:
            problems.append("sample_rate, frame_ms, window_ms, chunk and chunks must be ≥ 1")
        elif self.sample_rate * self.frame_ms % 1000 or self.sample_rate * self.window_ms % 1000:
            problems.append(f"frame_ms {self.frame_ms} and window_ms {self.window_ms} must be whole samples at "
                            f"{self.sample_rate} Hz")
        elif -(-self.window_samples // self.chunk) != self.chunks:
            problems.append(f"chunks must be ceil(window samples {self.window_samples} / chunk {self.chunk}) = "
                            f"{-(-self.window_samples // self.chunk)}, got {self.chunks}")
        if not 0.0 < self.bn_momentum < 1.0 or self.bn_epsilon <= 0 or not 0.0 <= self.gan_beta1 < 1.0 \
                or self.cnn_learning_rate <= 0 or self.gan_learning_rate <= 0 or self.d_lr_ratio <= 0:
            problems.append("bn_momentum and gan_beta1 must be in (0, 1) and [0, 1), bn_epsilon, the learning "
                            "rates and d_lr_ratio > 0")
        if not 0.5 < self.real_label <= 1.0 or self.gan_l1_weight < 0 or self.l1_lower_weight <= 0:
            problems.append("real_label must be in (0.5, 1], gan_l1_weight ≥ 0 and l1_lower_weight > 0")
        if not self.mouth_weight > 0:
            problems.append(f"mouth_weight must be > 0, got {self.mouth_weight}")
        if not 0.0 <= self.gan_average < 1.0:
            problems.append(f"gan_average (β of G's weight average) must be in [0, 1), got {self.gan_average}")
        if self.gan_opening_weight < 0 or (self.gan_cross_motion and not self.gan_opening_weight):
            problems.append("gan_opening_weight must be ≥ 0, and gan_cross_motion needs gan_opening_weight > 0 (the "
                            "opening loss is its only loss)")
        if not isinstance(self.image_size, int) or self.image_size < 64 or self.image_size & (self.image_size - 1):
            problems.append(f"image_size must be a power of two ≥ 64 (G starts at S/64), got {self.image_size}")
        if len(self.d_filters) != 4 or len(self.g_filters) != 4 or min(self.d_filters + self.g_filters) < 1:
            problems.append("d_filters and g_filters need four positive widths each")
        if self.upsample < 0 or self.upscale < 1 or self.crop_scale < 1.0:
            problems.append("upsample ≥ 0, upscale ≥ 1 and crop_scale ≥ 1 are required")
        if not 0.0 <= self.validation_fraction < 1.0 or self.cnn_patience < 0:
            problems.append("validation_fraction must be in [0, 1) and cnn_patience ≥ 0")
        if min(self.cnn_batch_size, self.gan_batch_size, self.g_steps, self.sequence_length, self.z_dim,
               self.gru_units, self.gan_frame_step) < 1 or self.cnn_epochs < 0 or self.gan_epochs < 0:
            problems.append("batch sizes, g_steps, sequence_length, z_dim, gru_units and gan_frame_step must be ≥ 1; "
                            "epochs ≥ 0")
        if not isinstance(self.smooth_frames, int) or self.smooth_frames < 1 or self.smooth_frames % 2 == 0:
            problems.append(f"smooth_frames must be an odd integer ≥ 1, got {self.smooth_frames!r}")
        if not all(isinstance(a, int | float) and 0.5 <= a <= 2.0 and a != 1.0 for a in self.speed_perturbation):
            problems.append(f"speed_perturbation factors must be in [0.5, 2] and ≠ 1, got {self.speed_perturbation}")
        if problems:
            raise ValueError(f"invalid landmark_dcgan config: {'; '.join(problems)}")

    @property
    def frame_samples(self) -> int:
        """Samples between frames: 1440 at 48 kHz."""
        return self.sample_rate * self.frame_ms // 1000

    @property
    def window_samples(self) -> int:
        """Samples a window: 2880 at 48 kHz."""
        return self.sample_rate * self.window_ms // 1000

    @property
    def fps(self) -> float:
        """Landmark frames a second on the 30 ms grid: 33.33."""
        return 1000.0 / self.frame_ms


_ORIGINAL = Config()
PRESETS: dict[str, Config] = {
    "original": _ORIGINAL,
    "report": _ORIGINAL.replace(preset="report", gru=True),
    "gan128": _ORIGINAL.replace(preset="gan128", image_size=128),
    "gan64": _ORIGINAL.replace(preset="gan64", image_size=64),
    "tiny": _ORIGINAL.replace(preset="tiny", image_size=64, d_filters=(8, 8, 16, 16), g_filters=(16, 16, 8, 8),
                              cnn_batch_size=32, cnn_epochs=2, gan_batch_size=8, gan_epochs=1, sequence_length=8),
}

#: trainable parameters: the CNN of spec §3; D and G at 256² computed from the tables of spec §5.5–5.6
#: (D: 5·5·3·64+64 + 5·5·200·128+128 + 5·5·128·256+256 + 5·5·256·1024+1024 + 16384·100+100 + BN γ,β 2·(128+256+1024);
#: G: 100·16384+16384 + 5·5·1024·256+256 + 5·5·256·128+128 + 5·5·128·64+64 + 5·5·200·3+3 + BN 2·(1024+256+128+64));
#: the report CNN adds a GRU(136) (TF2 form, reset_after: 3·(136·136 + 136·136 + 2·136) = 111,792)
GOLDEN_PARAMS = {"cnn": 276_104, "cnn_report": 387_896, "discriminator": 9_660_388, "generator": 9_250_779}


def preset(name: str, **overrides) -> Config:
    """``PRESETS[name]`` with fields replaced by ``overrides``."""
    return pick_preset(PRESETS, name, **overrides)


__all__ = ["Config", "PRESETS", "GOLDEN_PARAMS", "preset", "GRIDS", "LANDMARK_NORMS", "MULTI_FACE", "NO_FACE",
           "UNPOOL", "OUTPUT_BIAS", "REFERENCE_Z", "NUM_LANDMARKS", "LANDMARK_DIM"]
