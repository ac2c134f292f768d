"""Speech → landmarks → faces (spec §4, §5.8, §9.21): the chain the original never joined.

* ``Predictor.landmarks(audio)``: the audio resampled to 48 kHz mono, the FFT windows of ``features.fft_features`` on
  the 30 ms grid (frame i at t = 30 i ms, ceil(duration / 30 ms) frames, all in one batch) → the CNN → 68 normalised
  (x, y) points a frame, as a ``zoo.core.Animation`` at 100/3 fps (names x00, y00, …, x67, y67). The ``report``
  preset runs its GRU over the whole clip at once.
* ``Predictor.faces(landmarks, z=...)``: G(z, landmarks) → S×S RGB faces (uint8). z is ``"reference"`` (the
  original's sampler, spec §5.8: z = D's 100 logits of a reference image with its own landmarks; the same z for every
  frame) or ``"random"`` (z ~ U(−1, 1)^100 from ``seed``, one for the whole clip, so the identity holds still).
  BatchNorm runs in inference mode unless the config has ``legacy_bn`` (the original: batch statistics, spec §9.16).
  The reference is an image file or array: its face is found with dlib and cropped as in training (``crop_box``,
  or the whole frame with ``legacy_frames``); without one, the model's own reference (a training frame saved with
  it as ``reference_image.npy``) is used.
* ``Predictor.talking_face(audio, out)``: both, written as a video at 100/3 fps with the audio muxed
  (``zoo.render.render_landmark_video``: landmarks beside the faces), or the landmark animation alone.

The model directory (``zoo.core.modeldir``): config.json, model.weights.h5 (the CNN, G and D in one container),
``mean_landmarks.npy`` (the training frames' mean: the baseline), ``reference_image.npy`` (S, S, 3) in [−1, 1] and
``reference_landmarks.npy`` (136,), metadata.json.
"""
from __future__ import annotations

import functools
import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from zoo.core.animation import Animation
from zoo.core.animation import moving_average as smooth_landmarks  # a clip's landmark frames (N, 136)
from zoo.core.modeldir import ModelDir, ModelDirError, load_weights, read_model_dir
from zoo.datasets import DataError, load_audio

from . import features as feats
from . import metrics
from .config import LANDMARK_DIM, NUM_LANDMARKS, Config

MODEL = "landmark_dcgan"
MEAN_LANDMARKS, REFERENCE_IMAGE, REFERENCE_LANDMARKS = "mean_landmarks", "reference_image", "reference_landmarks"
LANDMARK_NAMES = tuple(f"{axis}{k:02d}" for k in range(NUM_LANDMARKS) for axis in "xy")
#: the 30 ms grid as an exact rate (frames a second)
GRID_FPS = Fraction(100, 3)


def metadata_of(config: Config) -> dict:
    """The metadata every landmark_dcgan model directory carries (``zoo.core.modeldir`` schema): 60 ms windows
    centred on frames 30 ms apart (30 ms of lookahead); outputs the 136 normalised coordinates."""
    return {"model": MODEL, "preset": config.preset, "sample_rate": config.sample_rate, "fps": 1000 / config.frame_ms,
            "window_seconds": config.window_ms / 1000, "lookahead_seconds": config.window_ms / 2000,
            "output_names": list(LANDMARK_NAMES), "landmark_norm": config.landmark_norm,
            "image_size": config.image_size, "gru": config.gru}


def read_config(model_dir: ModelDir) -> Config:
    """The Config of a model directory; a ModelDirError names config.json and the cause."""
    try:
        return Config.from_dict(dict(model_dir.config))
    except (ValueError, TypeError) as exc:
        raise ModelDirError(f"{model_dir.path / 'config.json'}: {exc}") from None


def verify_model_dir(path) -> tuple[ModelDir, Config]:
    """(ModelDir, Config) of a landmark_dcgan model directory, checked without TensorFlow: sha256, config and the
    companion arrays."""
    found = read_model_dir(path, model=MODEL)
    config = read_config(found)
    found.check_array(MEAN_LANDMARKS, (LANDMARK_DIM,), "the mean-landmark baseline")
    size = config.image_size
    found.check_array(REFERENCE_IMAGE, (size, size, 3), "the default reference face")
    found.check_array(REFERENCE_LANDMARKS, (LANDMARK_DIM,), "the default reference face's landmarks")
    return found, config


@functools.cache
def _network_class():
    import keras

    class LandmarkDCGAN(keras.Model):
        """The landmark CNN, the generator and the discriminator in one model, saved as one weights file.
        ``call(features)`` = the CNN's landmarks."""

        def __init__(self, cnn, generator, discriminator, **kwargs):
            super().__init__(**kwargs)
            self.cnn, self.generator, self.discriminator = cnn, generator, discriminator
            self.built = True

        def call(self, features, training=False):
            return self.cnn(features, training=training)

    return LandmarkDCGAN


def build_network(config: Config, cnn=None, generator=None, discriminator=None):
    """The container of the three networks of ``config`` (each built unless given)."""
    from .model import build_cnn, build_discriminator, build_generator

    return _network_class()(cnn if cnn is not None else build_cnn(config),
                            generator if generator is not None else build_generator(config),
                            discriminator if discriminator is not None else build_discriminator(config),
                            name=MODEL)


def _audio_48k(audio, sample_rate: int | None, config: Config) -> tuple[np.ndarray, str]:
    """(float32 mono samples at ``config.sample_rate``, a name for errors) of a path or an array."""
    if isinstance(audio, (str, os.PathLike)):
        samples, _ = load_audio(audio, config.sample_rate)
        return samples, str(audio)
    if sample_rate is None:
        raise ValueError("sample_rate is needed with an audio array")
    samples = np.asarray(audio, np.float32)
    if samples.ndim == 2:  # (samples, channels): averaged in float
        samples = samples.mean(axis=1)
    if samples.ndim != 1 or not np.all(np.isfinite(samples)):
        raise ValueError(f"audio must be finite samples (or samples × channels), got shape {samples.shape}")
    if int(sample_rate) != config.sample_rate:
        from zoo.datasets import resample

        samples = resample(samples, int(sample_rate), config.sample_rate).astype(np.float32)
    return samples, "audio array"


class Predictor:
    """A trained model directory, ready to turn speech into landmarks and faces (module docstring)."""

    def __init__(self, network, config: Config, model_dir: ModelDir | None = None, *, mean_landmarks=None,
                 reference_image=None, reference_landmarks=None):
        self.network, self.config, self.model_dir = network, config, model_dir
        self.mean_landmarks = mean_landmarks
        self.reference_image, self.reference_landmarks = reference_image, reference_landmarks
        self._landmarker = None

    @classmethod
    def load(cls, model_dir: str | os.PathLike) -> Predictor:
        found, config = verify_model_dir(model_dir)
        network = build_network(config)
        load_weights(network, found)
        return cls(network, config, found, mean_landmarks=found.array(MEAN_LANDMARKS),
                   reference_image=metrics.to_uint8(found.array(REFERENCE_IMAGE)),
                   reference_landmarks=found.array(REFERENCE_LANDMARKS))

    # ------------------------------------------------------------------------------------------ landmarks
    def features(self, audio, sample_rate: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(features (N, 128, 23, 1), the 48 kHz samples) of ``audio`` on the 30 ms grid."""
        samples, where = _audio_48k(audio, sample_rate, self.config)
        frames = feats.frame_count(samples.size, self.config)
        if frames < 1:
            raise DataError(where, "no audio samples: nothing to animate")
        return feats.fft_features(samples, self.config, frames=frames), samples

    def landmark_values(self, features: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """(N, 136) normalised landmarks of (N, 128, 23, 1) features (one clip), smoothed over
        ``config.smooth_frames`` frames (``smooth_landmarks``)."""
        cnn = self.network.cnn
        if self.config.gru:  # the whole clip is one sequence
            return smooth_landmarks(np.asarray(cnn(features[None], training=False))[0], self.config.smooth_frames)
        out = [np.asarray(cnn(features[i:i + batch_size], training=False))
               for i in range(0, len(features), batch_size)]
        values = np.concatenate(out) if out else np.zeros((0, LANDMARK_DIM), np.float32)
        return smooth_landmarks(values, self.config.smooth_frames)

    def landmarks(self, audio, sample_rate: int | None = None) -> Animation:
        """The landmark animation of ``audio`` (a path or samples at ``sample_rate``) at 100/3 fps."""
        features, _ = self.features(audio, sample_rate)
        return Animation(self.landmark_values(features), LANDMARK_NAMES, 1000 / self.config.frame_ms)

    def predict(self, audio, sample_rate: int | None = None) -> Animation:
        """= ``landmarks``: the model's output for speech alone (the zoo's common entry point)."""
        return self.landmarks(audio, sample_rate)

    # ------------------------------------------------------------------------------------------ faces
    def landmarker(self):
        """The dlib landmarker with the model's detection settings (loaded once)."""
        if self._landmarker is None:
            from .landmarks import Landmarker

            c = self.config
            self._landmarker = Landmarker(clahe=c.clahe, upsample=c.upsample, upscale=c.upscale,
                                          multi_face=c.multi_face)
        return self._landmarker

    def reference(self, image=None) -> tuple[np.ndarray, np.ndarray]:
        """(the S×S uint8 reference face, its 136 normalised landmarks): ``image`` (a path or an RGB uint8 array) with
        its face found and cropped as in training, or the model's own reference."""
        from . import landmarks as lm

        if image is None:
            return self.reference_image, self.reference_landmarks
        where = str(image) if isinstance(image, (str, os.PathLike)) else "reference image"
        if isinstance(image, (str, os.PathLike)):
            image = read_image(image)
        points = self.landmarker()(image)
        if points is None:
            raise DataError(where, "no face found in the reference image")
        c = self.config
        face = (lm.legacy_frame(image, c.image_size) if c.legacy_frames
                else lm.crop_face(image, lm.crop_box(points, c.crop_scale), c.image_size))
        # as in training: the conditioning is the frame's landmarks, normalised (min–max makes them crop-independent)
        return face, lm.normalise(points[None], c.landmark_norm)[0].astype(np.float32)

    def latent(self, frames: int, z: str = "reference", reference=None, seed: int = 0) -> np.ndarray:
        """(frames, z_dim) codes: one z for the clip, reference-encoded (spec §5.8) or random U(−1, 1)."""
        c = self.config
        if z == "random":
            code = np.random.default_rng(seed).uniform(-1.0, 1.0, (1, c.z_dim)).astype(np.float32)
        elif z == "reference":
            from .model import encode_reference

            face, landmarks = self.reference(reference)
            image = metrics.from_uint8(face[None])
            code = encode_reference(self.network.discriminator, image, landmarks[None],
                                    squash=c.reference_z == "tanh")
        else:
            raise ValueError(f"z must be 'reference' or 'random', got {z!r}")
        return np.repeat(code, frames, axis=0)

    def faces(self, landmarks: np.ndarray, *, z: str = "reference", reference=None, seed: int = 0,
              batch_size: int = 64) -> np.ndarray:
        """(N, S, S, 3) uint8 faces of (N, 136) normalised landmarks."""
        landmarks = np.asarray(landmarks, np.float32)
        if landmarks.ndim != 2 or landmarks.shape[1] != LANDMARK_DIM or not np.all(np.isfinite(landmarks)):
            raise ValueError(f"landmarks must be finite (frames, {LANDMARK_DIM}), got shape {landmarks.shape}")
        codes = self.latent(len(landmarks), z, reference, seed)
        training = bool(self.config.legacy_bn)  # the original sampled with batch statistics
        out = []
        for i in range(0, len(landmarks), batch_size):
            images = self.network.generator([codes[i:i + batch_size], landmarks[i:i + batch_size]],
                                            training=training)
            out.append(metrics.to_uint8(np.asarray(images)))
        size = self.config.image_size
        return np.concatenate(out) if out else np.zeros((0, size, size, 3), np.uint8)

    def talking_face(self, audio, out: str | os.PathLike, *, reference=None, z: str = "reference", seed: int = 0,
                     landmarks_only: bool = False, sample_rate: int | None = None) -> dict:
        """Write the talking-face video (landmarks beside the generated faces; ``landmarks_only``: the landmark
        animation alone) of ``audio`` to ``out`` (.mp4) at 100/3 fps with the audio muxed; returns what it wrote."""
        import tempfile

        import soundfile as sf

        from zoo.render import render_landmark_video

        features, samples = self.features(audio, sample_rate)
        values = self.landmark_values(features)
        images = None if landmarks_only else self.faces(values, z=z, reference=reference, seed=seed)
        out = Path(out)
        with tempfile.TemporaryDirectory(prefix="zoo-talk-") as tmp:
            wav = Path(tmp) / "audio.wav"
            sf.write(str(wav), samples, self.config.sample_rate, subtype="PCM_16")
            render_landmark_video(values, GRID_FPS, out, audio_path=wav, images=images,
                                  image_size=max(256, self.config.image_size))
        return {"video": str(out), "frames": int(len(values)), "fps": float(GRID_FPS),
                "seconds": round(samples.size / self.config.sample_rate, 3),
                "animation": Animation(values, LANDMARK_NAMES, 1000 / self.config.frame_ms), "faces": images}


def shuffled_partners(trials) -> list[int]:
    """For each trial, the index of the trial whose audio the shuffled-audio control feeds it: the next one in sorted
    order that speaks the *other* RAVDESS statement (same-sentence audio would legitimately predict the same mouth),
    else the next one."""
    from zoo.datasets.ravdess import parse_ravdess_name

    statements = [parse_ravdess_name(t.stem).statement for t in trials]
    partners = []
    for i in range(len(trials)):
        order = [(i + k) % len(trials) for k in range(1, len(trials))]
        other = [j for j in order if statements[j] != statements[i]]
        partners.append(other[0] if other else (order[0] if order else i))
    return partners


def _fit_length(values: np.ndarray, frames: int) -> np.ndarray:
    """``values`` cut to ``frames`` rows, or padded by repeating its last row."""
    if len(values) >= frames:
        return values[:frames]
    return np.concatenate([values, np.repeat(values[-1:], frames - len(values), axis=0)])


#: LMD in pixels is stated for a face this many pixels wide and tall (normalised units × FACE_PIXELS)
FACE_PIXELS = 256


def evaluate(model_dir: str | os.PathLike, data_dir, stems=None, *, cache: str | os.PathLike | None = None,
             workers: int | None = None, faces: bool = True, seed: int = 0) -> dict:
    """Held-out numbers of a model directory on RAVDESS-layout trials ``stems`` (default: the model's recorded test
    trials, else its validation trials), landmarks extracted from their videos with the model's own settings.

    Landmarks (normalised units; LMD over the 20 mouth points, also in pixels of a ``FACE_PIXELS``-px face): the CNN
    on each trial's audio (``landmark_values``: with the config's ``smooth_frames``); the mean-landmark baseline (the
    training frames' mean, held still); the shuffled-audio control (each trial's landmarks predicted from another
    trial's audio, ``shuffled_partners``, cut or padded to length). Mouth opening r: Pearson over all frames of the
    predicted vs the extracted mouth opening.
    Faces (``faces``): G(z, the extracted landmarks) for every image row with one random z per trial (seeded):
    PSNR/SSIM against the real crops, dlib on the generated faces (detection rate, mouth-opening r against the
    conditioning); and the chain: G(z, the CNN's landmarks) scored the same way against the CNN's landmarks.
    """
    from . import metrics
    from .data import load_trials

    predictor = Predictor.load(model_dir)
    config, meta = predictor.config, predictor.model_dir.metadata
    stems = list(stems) if stems is not None else (meta.get("test_trials") or meta.get("val_trials"))
    if not stems:
        raise ValueError(f"{model_dir}: records no test or validation trials; name the trials to evaluate")
    trials = load_trials(data_dir, config, stems=stems, cache=cache, workers=workers)
    predicted = [predictor.landmark_values(t.features) for t in trials]
    partners = shuffled_partners(trials)
    shuffled = [_fit_length(predictor.landmark_values(trials[j].features), t.frames)
                for t, j in zip(trials, partners)]
    true = np.concatenate([t.landmarks for t in trials])
    baseline = np.repeat(predictor.mean_landmarks[None], len(true), axis=0)

    def scores(values) -> dict:
        pred = np.concatenate(values) if isinstance(values, list) else values
        return {"mse": metrics.landmark_mse(pred, true), "lmd": metrics.lmd(pred, true),
                "lmd_pixels": metrics.lmd(pred, true, face_size=FACE_PIXELS),
                "mouth_opening_r": metrics.pearson(metrics.mouth_opening(pred), metrics.mouth_opening(true))}

    result = {"trials": [t.stem for t in trials], "frames": int(len(true)), "face_pixels": FACE_PIXELS,
              "units": "normalised landmark coordinates ([0, 1] per axis, " + config.landmark_norm + "); lmd_pixels: "
                       f"× {FACE_PIXELS} px; psnr dB; ssim unitless",
              "cnn": scores(predicted), "mean_landmarks": scores(baseline), "shuffled_audio": scores(shuffled)}
    result["lmd_ratio_to_mean"] = result["cnn"]["lmd"] / result["mean_landmarks"]["lmd"]
    result["mean_landmarks"]["mouth_opening_r"] = None  # a still face: r is undefined (strict JSON has no NaN)
    if faces:
        rng = np.random.default_rng(seed)
        landmarker = predictor.landmarker()
        real, cond, chain = [], [], []
        z = []
        for t, p in zip(trials, predicted):
            if not len(t.image_rows):
                continue
            real.append(t.images)
            cond.append(t.landmarks[t.image_rows])
            chain.append(p[t.image_rows])
            z.append(np.repeat(rng.uniform(-1, 1, (1, config.z_dim)).astype(np.float32), len(t.image_rows), 0))
        if real:
            real_images, cond, chain, z = (np.concatenate(a) for a in (real, cond, chain, z))
            result["faces"] = _face_scores(predictor, z, cond, real_images, landmarker)
            result["chain"] = _face_scores(predictor, z, chain, real_images, landmarker)
    return result


def _face_scores(predictor: Predictor, z: np.ndarray, conditioning: np.ndarray, real: np.ndarray,
                 landmarker) -> dict:
    """PSNR/SSIM of G(z, conditioning) against ``real`` and dlib's consistency with the conditioning."""
    from . import metrics

    training = bool(predictor.config.legacy_bn)
    fake = np.concatenate([metrics.to_uint8(np.asarray(predictor.network.generator(
        [z[i:i + 64], conditioning[i:i + 64]], training=training))) for i in range(0, len(z), 64)])
    found = metrics.landmark_consistency(fake, conditioning, landmarker, predictor.config.landmark_norm)
    scores = {"images": int(len(fake)), "psnr": metrics.psnr(fake, real).mean, "ssim": metrics.ssim(fake, real).mean,
              "face_detection_rate": found["detection_rate"], "mouth_opening_r": found["mouth_opening_r"],
              "lmd_found": found["lmd_normalised"]}
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in scores.items()}  # strict JSON


def read_image(path: str | os.PathLike) -> np.ndarray:
    """An image file as RGB uint8 (H, W, 3); a DataError names an unreadable file."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "image file not found")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DataError(path, "not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


__all__ = ["Predictor", "evaluate", "smooth_landmarks", "shuffled_partners", "FACE_PIXELS", "build_network",
           "metadata_of", "read_config", "verify_model_dir", "read_image", "LANDMARK_NAMES", "GRID_FPS",
           "MEAN_LANDMARKS", "REFERENCE_IMAGE", "REFERENCE_LANDMARKS", "MODEL"]
