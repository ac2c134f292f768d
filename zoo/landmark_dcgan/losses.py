"""The losses of the speech → landmarks → face method (spec §3, §5.7).

* Landmark CNN: the mean squared error mean_{b,k} (ŷ_bk − y_bk)² over the batch and all 136 normalised coordinates
  (tf.losses.mean_squared_error of the original; unitless, coordinates in [0, 1]). With the GRU variant the mean
  also runs over the frames.
* DCGAN (the original's sigmoid cross-entropies on D's 100 logits, averaged over the batch *and* the logits):
  with BCE(x, t) = −t·log σ(x) − (1 − t)·log(1 − σ(x)), so BCE(x, 1) = softplus(−x) and BCE(x, 0) = softplus(x),

      L_D = mean BCE(D(real, y), 1) + mean BCE(D(G(z, y), y), 0)
      L_G = mean BCE(D(G(z, y), y), 1)                  (the non-saturating generator loss)

  Natural-log units (nats): logits 0 give ln 2 per term, so L_D = 2 ln 2 and L_G = ln 2.
"""
from __future__ import annotations

from keras import ops


def landmark_loss(y_true, y_pred):
    """The landmark CNN's MSE: mean over batch (and frames) and the 136 coordinates of (y_pred − y_true)²."""
    y_pred = ops.convert_to_tensor(y_pred)
    return ops.mean(ops.square(y_pred - ops.cast(y_true, y_pred.dtype)))


def _mean_bce_with_logits(logits, target: int):
    """mean BCE(x, target) over every entry of ``logits`` for a constant target 1 or 0: softplus(∓x), which is
    exact and stable for any x (no σ(x) is formed)."""
    logits = ops.convert_to_tensor(logits)
    return ops.mean(ops.softplus(-logits if target == 1 else logits))


def discriminator_loss(real_logits, fake_logits):
    """L_D = mean BCE(real_logits, 1) + mean BCE(fake_logits, 0); each mean over the batch and the logits."""
    return _mean_bce_with_logits(real_logits, 1) + _mean_bce_with_logits(fake_logits, 0)


def generator_loss(fake_logits):
    """L_G = mean BCE(fake_logits, 1) over the batch and the logits (non-saturating)."""
    return _mean_bce_with_logits(fake_logits, 1)


__all__ = ["landmark_loss", "discriminator_loss", "generator_loss"]
