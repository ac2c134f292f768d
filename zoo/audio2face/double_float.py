"""Double-float arithmetic in TF float32 ops, for TFLite (which has no float64 kernels).

A double-float is an unevaluated pair of float32 ``(hi, lo)`` with value ``hi + lo`` and ``|lo| ≤ ulp(hi) / 2``:
a ~48-bit significand (2 × 24) with float32's exponent range. The building blocks are error-free transformations
(Knuth's TwoSum, Dekker's FastTwoSum, Veltkamp's split, Dekker's TwoProd), which need only IEEE round-to-nearest
float32 add, sub and mul, as every TF and TFLite kernel provides; the ``df_*`` operations build on them. They
work on tensors or NumPy float32 arrays (``df_sum_last`` needs tensors).

They must survive graph rewriting (Grappler, the TFLite converter), so they contain (1) no ``(x + c) − c`` with a
constant ``c`` (constant push-down folds it to ``x``) and (2) no chain of single-use Adds whose order matters
(AddOpsRewrite turns it into a reordered AddN): ``two_prod`` is written with subtractions only.
"""
from __future__ import annotations

import tensorflow as tf

SPLITTER = 4097.0  # 2^12 + 1: Veltkamp's split of a float32 (24 bits) into two halves of ≤ 12 significant bits


def two_sum(a, b):
    """``a + b = s + e`` exactly, any magnitudes (Knuth): 6 flops."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def fast_two_sum(a, b):
    """``a + b = s + e`` exactly when ``|a| ≥ |b|`` or ``a = 0`` (Dekker): 3 flops."""
    s = a + b
    return s, b - (s - a)


def split(a):
    """``a = hi + lo`` exactly, each with ≤ 12 significant bits (Veltkamp), so products of halves are exact."""
    t = a * SPLITTER
    hi = t - (t - a)
    return hi, a - hi


def two_prod(a, b, a_split=None, b_split=None):
    """``a · b = p + e`` exactly (Dekker); the splits of ``a`` and ``b`` may be passed in precomputed."""
    ah, al = split(a) if a_split is None else a_split
    bh, bl = split(b) if b_split is None else b_split
    p = a * b
    # Dekker's e = ((ah·bh − p) + ah·bl + al·bh) + al·bl, written with subtractions only (see the module docstring)
    return p, al * bl - (((p - ah * bh) - ah * bl) - al * bh)


def df_add(x, y):
    """Double-float ``x + y`` (the accurate form: two TwoSums, so cancellation keeps full precision)."""
    s, e = two_sum(x[0], y[0])
    t, f = two_sum(x[1], y[1])
    s, e = fast_two_sum(s, e + t)
    return fast_two_sum(s, e + f)


def df_mul(x, y):
    """Double-float ``x · y``: TwoProd of the high parts plus the cross terms."""
    p, e = two_prod(x[0], y[0])
    return fast_two_sum(p, e + (x[0] * y[1] + x[1] * y[0]))


def df_div(x, y):
    """Double-float ``x / y``: the float32 quotient ``q`` plus one correction ``(x − q·y) / y``."""
    q = x[0] / y[0]
    p, e = two_prod(q, y[0])
    r = (((x[0] - p) - e) + x[1]) - q * y[1]
    return fast_two_sum(q, r / y[0])


def df_sum_last(hi, lo):
    """Double-float sum over the last axis (static length n): a pairwise TwoSum tree, zero-padded to 2^ceil(log2 n)."""
    n = hi.shape[-1]
    size = 1 << (n - 1).bit_length()
    if size > n:
        pad = tf.zeros_like(hi[..., :1])
        hi = tf.concat([hi] + [pad] * (size - n), axis=-1)
        lo = tf.concat([lo] + [pad] * (size - n), axis=-1)
    while size > 1:
        size //= 2
        s, e = two_sum(hi[..., :size], hi[..., size:])
        lo = (lo[..., :size] + lo[..., size:]) + e
        hi = s
    return two_sum(hi[..., 0], lo[..., 0])
