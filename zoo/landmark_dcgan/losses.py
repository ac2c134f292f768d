"""The losses of the speech → landmarks → face method (spec §3, §5.7).

* Landmark CNN: the mean squared error mean_{b,k} (ŷ_bk − y_bk)² over the batch and all 136 normalised coordinates
  (tf.losses.mean_squared_error of the original; unitless, coordinates in [0, 1]). With the GRU variant the mean
  also runs over the frames. Flagged: the 40 coordinates of the 20 mouth points (``metrics.MOUTH``, the LMD set)
  weighted ``mouth_weight`` × the others, as a weighted mean Σ_k w_k (ŷ_bk − y_bk)² / Σ_k w_k.
* DCGAN (the original's sigmoid cross-entropies on D's 100 logits, averaged over the batch *and* the logits):
  with BCE(x, t) = −t·log σ(x) − (1 − t)·log(1 − σ(x)), so BCE(x, 1) = softplus(−x) and BCE(x, 0) = softplus(x),

      L_D = mean BCE(D(real, y), 1) + mean BCE(D(G(z, y), y), 0)
      L_G = mean BCE(D(G(z, y), y), 1)                  (the non-saturating generator loss)

  Natural-log units (nats): logits 0 give ln 2 per term, so L_D = 2 ln 2 and L_G = ln 2.
  Flagged options (off in the original): one-sided label smoothing, real target t_r < 1 in L_D's first term
  (BCE(x, t) = softplus(x) − t·x); and an L1 reconstruction term λ·mean|G(z, y) − x| (pixels in [−1, 1]) added to
  L_G (``reconstruction_loss``; pix2pix's λ is 100), optionally weighted towards the lower half of the face; and a
  mouth-opening term λ_o·mean (R(G(z, y)) − (o(y) − μ)/σ)² (``opening_loss``), R a frozen regressor of the opening
  from the lower half of a face (``model.build_opening_regressor``), o the inner-lip opening (``metrics``), μ and σ
  its mean and standard deviation over the training images (unitless: standardised openings).
"""
from __future__ import annotations

from keras import ops

from .metrics import INNER_LIP_PAIRS, LANDMARK_DIM, MOUTH


def landmark_loss(y_true, y_pred, mouth_weight: float = 1.0):
    """The landmark CNN's MSE: mean over batch (and frames) and the 136 coordinates of (y_pred − y_true)², the
    coordinates weighted w_k = ``mouth_weight`` for the mouth points' x and y (``MOUTH``) and 1 for the others
    (Σ_k w_k (·)² / Σ_k w_k); ``mouth_weight`` 1 is the plain mean (the original's)."""
    y_pred = ops.convert_to_tensor(y_pred)
    error = ops.square(y_pred - ops.cast(y_true, y_pred.dtype))
    if mouth_weight == 1.0:
        return ops.mean(error)
    mouth = {2 * k + axis for k in MOUTH for axis in (0, 1)}
    weights = ops.convert_to_tensor([float(mouth_weight) if k in mouth else 1.0 for k in range(LANDMARK_DIM)],
                                    y_pred.dtype)
    return ops.mean(error * weights) / ops.mean(weights)


def _mean_bce_with_logits(logits, target: float):
    """mean BCE(x, target) over every entry of ``logits`` for a constant target t ∈ [0, 1]: softplus(x) − t·x
    (softplus(−x) at t = 1, softplus(x) at t = 0), exact and stable for any x (no σ(x) is formed)."""
    logits = ops.convert_to_tensor(logits)
    if target == 1:
        return ops.mean(ops.softplus(-logits))
    return ops.mean(ops.softplus(logits) - target * logits)


def discriminator_loss(real_logits, fake_logits, real_label: float = 1.0):
    """L_D = mean BCE(real_logits, real_label) + mean BCE(fake_logits, 0); each mean over the batch and the logits
    (``real_label`` 1: the original's; < 1: one-sided label smoothing)."""
    return _mean_bce_with_logits(real_logits, real_label) + _mean_bce_with_logits(fake_logits, 0)


def generator_loss(fake_logits):
    """L_G = mean BCE(fake_logits, 1) over the batch and the logits (non-saturating)."""
    return _mean_bce_with_logits(fake_logits, 1)


def reconstruction_loss(real, fake, lower_weight: float = 1.0):
    """Σ w_r·|fake − real| / Σ w_r over the batch, pixels and channels (images (B, S, S, C) in [−1, 1]), with row
    weight w_r = ``lower_weight`` in the lower half of the image (rows ≥ S/2: mouth and jaw in a face crop) and 1
    above; ``lower_weight`` 1 is the plain mean absolute error."""
    fake = ops.convert_to_tensor(fake)
    error = ops.abs(fake - ops.cast(real, fake.dtype))
    if lower_weight == 1.0:
        return ops.mean(error)
    rows = fake.shape[1]
    weights = ops.convert_to_tensor([1.0] * (rows // 2) + [float(lower_weight)] * (rows - rows // 2), fake.dtype)
    return ops.mean(ops.mean(error, axis=(0, 2, 3)) * weights) / ops.mean(weights)


__all__ = ["landmark_loss", "discriminator_loss", "generator_loss", "reconstruction_loss"]


def mouth_opening(landmarks):
    """o(y) = (1/3) Σ_{(u, l)} |y_l − y_u| over the inner-lip pairs (61, 67), (62, 66), (63, 65) of (B, 136)
    landmark vectors (x0, y0, x1, y1, …) → (B,), in their units (``metrics.mouth_opening`` in TF ops)."""
    landmarks = ops.convert_to_tensor(landmarks)
    upper = ops.take(landmarks, [2 * u + 1 for u, _ in INNER_LIP_PAIRS], axis=1)
    lower = ops.take(landmarks, [2 * low + 1 for _, low in INNER_LIP_PAIRS], axis=1)
    return ops.mean(ops.abs(lower - upper), axis=1)


def opening_loss(predicted, landmarks, mean: float, std: float):
    """mean over the batch of (r − (o(y) − mean)/std)²: ``predicted`` (B,) or (B, 1) the regressor's standardised
    openings of generated faces, ``landmarks`` (B, 136) their conditioning (``mouth_opening``)."""
    target = (mouth_opening(landmarks) - mean) / std
    predicted = ops.reshape(ops.convert_to_tensor(predicted), (-1,))
    return ops.mean(ops.square(predicted - ops.cast(target, predicted.dtype)))
