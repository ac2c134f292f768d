"""The losses of Aud2Repr2Pose (spec §2–§3) and the DAE's early-stopping rule.

* DAE: L = mean_{b,d} ((x̂_bd − Ŷ_bd)·max_d)² + λ·Σ_l ½‖W_l‖², the reconstruction error back in original units
  (max_d = max |Y_train| of dimension d) plus the decay of both kernels; Ŷ is the clean normalised target, x̂ the
  reconstruction of its noisy, dropped-out copy. ½‖W‖² is TF's ``l2_loss``, so with λ = 0.5 the term is
  0.5·½·Σ W², about 700 at initialisation in the faithful preset (E[Σ W²] = n·a²/3 for W ~ U(−a, a): 2 kernels of
  n = 384·325, a = 2·√(6/709) give 0.25·2·124800·0.03385/3 ≈ 704), which dominates the loss at the start.
* SpeechE: the MSE mean_{b,d} (ŷ − y)² against the pose (baseline) or the DAE code (proposed).
* Early stopping: after each DAE epoch, stop when (new − best)/best > 0.5 for the validation loss.
"""
from __future__ import annotations

from collections.abc import Sequence

from keras import ops


def dae_reconstruction_loss(model, y, training: bool = True):
    """mean over batch and dims of ((x̂ − Ŷ)·max)², y (B, P) poses in original units; x̂ = ``model(y, training)``."""
    target = model.normalization(y)
    reconstruction = model(y, training=training)
    return ops.mean(ops.square((reconstruction - target) * model.normalization.max_abs))


def dae_weight_decay(model):
    """λ·Σ_l ½‖W_l‖² over the DAE's two kernels (λ = ``model.weight_decay``; TF's l2_loss = ½‖W‖²)."""
    return model.weight_decay * sum(0.5 * ops.sum(ops.square(kernel)) for kernel in model.kernels)


def dae_loss(model, y, training: bool = True):
    """The DAE's training loss: ``dae_reconstruction_loss`` + ``dae_weight_decay`` (module docstring)."""
    return dae_reconstruction_loss(model, y, training) + dae_weight_decay(model)


def speech_loss(y_true, y_pred):
    """SpeechE's MSE: mean over batch and dims of (y_pred − y_true)²."""
    return ops.mean(ops.square(ops.convert_to_tensor(y_pred) - ops.convert_to_tensor(y_true)))


def dae_should_stop(val_losses: Sequence[float], threshold: float = 0.5) -> bool:
    """The original's rule on the validation losses so far (one per epoch, in order): True when the newest exceeds
    the best earlier one by more than ``threshold`` relative to it, (new − best)/best > threshold."""
    if len(val_losses) < 2:
        return False
    new, best = float(val_losses[-1]), min(float(v) for v in val_losses[:-1])
    if best <= 0:
        return new > best
    return (new - best) / best > threshold


__all__ = ["dae_reconstruction_loss", "dae_weight_decay", "dae_loss", "speech_loss", "dae_should_stop"]
