"""Plain float64 NumPy reference implementations: the test oracle.

Everything here is written for clarity, not speed, and is independent of convx's own code:

* ``ref_conv``: channels-first N-D cross-correlation.  The input is padded with ``np.pad``,
  then for every kernel tap the strided/dilated window is sliced out and contracted with that
  tap's weights (one ``einsum`` per group).
* ``ref_conv_transpose``: transposed convolution written as a scatter-add: every input position
  times every tap is added into the output position ``i * stride + tap * dilation - before``.
* ``ref_pointwise`` / ``ref_separable``: 1x1 and depthwise-then-pointwise compositions.
* ``resolve_padding``: turns a user padding spec (int, per-axis ints, pairs, 'valid', 'same',
  'causal') into one ``(before, after)`` pair per spatial axis exactly as the API spec says.

All results are float64; callers cast when they compare.
"""

import itertools
import numbers

import numpy as np

__all__ = [
    "NP_PAD_MODE",
    "as_tuple",
    "resolve_padding",
    "normalize_pairs",
    "conv_out_size",
    "conv_transpose_out_size",
    "ref_conv",
    "ref_conv_transpose",
    "ref_depthwise",
    "ref_pointwise",
    "ref_separable",
    "ref_receptive_field",
]

# convx padding_mode -> np.pad mode
NP_PAD_MODE = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}


def as_tuple(value, nd):
    """An int or a length-``nd`` sequence of ints -> tuple of ``nd`` ints."""
    if isinstance(value, numbers.Integral):
        return (int(value),) * nd
    value = tuple(int(v) for v in value)
    assert len(value) == nd, (value, nd)
    return value


def _is_int(v):
    return isinstance(v, numbers.Integral)


def normalize_pairs(padding, nd):
    """Numeric padding (int / per-axis ints / per-axis pairs) -> list of ``nd`` (before, after)."""
    if _is_int(padding):
        return [(int(padding), int(padding))] * nd
    padding = list(padding)
    assert len(padding) == nd, (padding, nd)
    pairs = []
    for p in padding:
        if _is_int(p):
            pairs.append((int(p), int(p)))
        else:
            before, after = p
            pairs.append((int(before), int(after)))
    return pairs


def resolve_padding(padding, in_spatial, k_spatial, stride=1, dilation=1):
    """Padding spec -> list of (before, after) per spatial axis, as the convx spec defines it."""
    nd = len(in_spatial)
    stride = as_tuple(stride, nd)
    dilation = as_tuple(dilation, nd)
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * nd
        if padding == "same":
            pairs = []
            for n, k, s, d in zip(in_spatial, k_spatial, stride, dilation):
                out = -(-n // s)  # ceil(n / s)
                total = max(0, (out - 1) * s + (k - 1) * d + 1 - n)
                before = total // 2
                pairs.append((before, total - before))
            return pairs
        if padding == "causal":
            assert nd == 1
            return [((k_spatial[0] - 1) * dilation[0], 0)]
        raise ValueError(padding)
    return normalize_pairs(padding, nd)


def conv_out_size(n, k, s, d, before, after):
    return (n + before + after - d * (k - 1) - 1) // s + 1


def conv_transpose_out_size(n, k, s, d, before, after, output_padding):
    return (n - 1) * s - before - after + d * (k - 1) + output_padding + 1


def _bias_shape(c, nd):
    return (1, c) + (1,) * nd


def ref_conv(x, w, b=None, stride=1, pad_pairs=0, dilation=1, groups=1, padding_mode="zeros"):
    """Channels-first cross-correlation in float64.

    x: (N, C_in, *S); w: (C_out, C_in // groups, *K); b: (C_out,) or None.
    pad_pairs: numeric padding (int, per-axis ints, or per-axis (before, after) pairs).
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nd = x.ndim - 2
    assert nd >= 1 and w.ndim == nd + 2
    stride = as_tuple(stride, nd)
    dilation = as_tuple(dilation, nd)
    pads = normalize_pairs(pad_pairs, nd)
    n_batch, c_in = x.shape[:2]
    c_out, cig = w.shape[:2]
    kernel = w.shape[2:]
    assert cig * groups == c_in and c_out % groups == 0
    cog = c_out // groups

    xp = np.pad(x, [(0, 0), (0, 0)] + pads, mode=NP_PAD_MODE[padding_mode])
    out_sp = tuple(
        (p - d * (k - 1) - 1) // s + 1
        for p, k, s, d in zip(xp.shape[2:], kernel, stride, dilation)
    )
    assert all(o >= 1 for o in out_sp), out_sp
    out = np.zeros((n_batch, c_out) + out_sp)

    for tap in itertools.product(*(range(k) for k in kernel)):
        window = tuple(
            slice(t * d, t * d + (o - 1) * s + 1, s)
            for t, d, o, s in zip(tap, dilation, out_sp, stride)
        )
        patch = xp[(slice(None), slice(None)) + window]  # (N, C_in, *out_sp)
        for g in range(groups):
            xg = patch[:, g * cig:(g + 1) * cig]
            wg = w[(slice(g * cog, (g + 1) * cog), slice(None)) + tap]  # (cog, cig)
            out[:, g * cog:(g + 1) * cog] += np.einsum("nc...,oc->no...", xg, wg)
    if b is not None:
        out += np.asarray(b, dtype=np.float64).reshape(_bias_shape(c_out, nd))
    return out


def ref_conv_transpose(x, w, b=None, stride=1, pad_pairs=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution (PyTorch meaning) as a scatter-add, in float64.

    x: (N, C_in, *S); w: (C_in, C_out // groups, *K); b: (C_out,) or None.
    Input position i, tap t lands on output position i * stride + t * dilation - before.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nd = x.ndim - 2
    assert nd >= 1 and w.ndim == nd + 2
    stride = as_tuple(stride, nd)
    dilation = as_tuple(dilation, nd)
    output_padding = as_tuple(output_padding, nd)
    pads = normalize_pairs(pad_pairs, nd)
    n_batch, c_in = x.shape[:2]
    assert w.shape[0] == c_in and c_in % groups == 0
    cig = c_in // groups
    cog = w.shape[1]
    c_out = cog * groups
    in_sp = x.shape[2:]
    kernel = w.shape[2:]

    out_sp = tuple(
        conv_transpose_out_size(n, k, s, d, bef, aft, op)
        for n, k, s, d, (bef, aft), op in zip(in_sp, kernel, stride, dilation, pads, output_padding)
    )
    assert all(o >= 1 for o in out_sp), out_sp
    # Uncropped buffer: positions 0 .. (n-1)*s + (k-1)*d, long enough to also hold the cropped window.
    full = tuple(
        max((n - 1) * s + (k - 1) * d + 1, bef + o)
        for n, k, s, d, (bef, _), o in zip(in_sp, kernel, stride, dilation, pads, out_sp)
    )
    buf = np.zeros((n_batch, c_out) + full)

    for tap in itertools.product(*(range(k) for k in kernel)):
        # every input position i goes to t*d + i*s: one strided slice per tap (distinct targets)
        target = tuple(
            slice(t * d, t * d + (n - 1) * s + 1, s)
            for t, d, n, s in zip(tap, dilation, in_sp, stride)
        )
        for g in range(groups):
            xg = x[:, g * cig:(g + 1) * cig]
            wg = w[(slice(g * cig, (g + 1) * cig), slice(None)) + tap]  # (cig, cog)
            contrib = np.einsum("nc...,co->no...", xg, wg)
            buf[(slice(None), slice(g * cog, (g + 1) * cog)) + target] += contrib

    crop = tuple(slice(bef, bef + o) for (bef, _), o in zip(pads, out_sp))
    out = buf[(slice(None), slice(None)) + crop].copy()
    if b is not None:
        out += np.asarray(b, dtype=np.float64).reshape(_bias_shape(c_out, nd))
    return out


def ref_depthwise(x, w, b=None, stride=1, pad_pairs=0, dilation=1, padding_mode="zeros"):
    """Depthwise conv: weight (C*M, 1, *K); same as ref_conv with groups=C."""
    x = np.asarray(x, dtype=np.float64)
    return ref_conv(x, w, b, stride, pad_pairs, dilation, groups=x.shape[1], padding_mode=padding_mode)


def ref_pointwise(x, w, b=None):
    """1x1 conv on channels-first x (N, C_in, *S) with w (C_out, C_in[, 1, ...])."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    w2 = w.reshape(w.shape[0], w.shape[1])
    out = np.einsum("nc...,oc->no...", x, w2)
    if b is not None:
        out = out + np.asarray(b, dtype=np.float64).reshape(_bias_shape(w.shape[0], x.ndim - 2))
    return out


def ref_separable(x, dw, pw, b=None, stride=1, pad_pairs=0, dilation=1, padding_mode="zeros"):
    """Depthwise (no bias) then pointwise 1x1, bias once at the end."""
    mid = ref_depthwise(x, dw, None, stride, pad_pairs, dilation, padding_mode)
    return ref_pointwise(mid, pw, b)


def ref_receptive_field(kernel_sizes, dilations=None, strides=None):
    """rf = 1 + sum_l (k_l - 1) * d_l * prod_{j<l} s_j, per axis when kernel sizes are tuples."""
    n = len(kernel_sizes)
    dilations = [1] * n if dilations is None else list(dilations)
    strides = [1] * n if strides is None else list(strides)
    if n and not _is_int(kernel_sizes[0]):
        nd = len(kernel_sizes[0])
        per_axis = []
        for a in range(nd):
            ks = [k[a] for k in kernel_sizes]
            ds = [d if _is_int(d) else d[a] for d in dilations]
            ss = [s if _is_int(s) else s[a] for s in strides]
            per_axis.append(ref_receptive_field(ks, ds, ss))
        return tuple(per_axis)
    rf, jump = 1, 1
    for k, d, s in zip(kernel_sizes, dilations, strides):
        rf += (k - 1) * d * jump
        jump *= s
    return rf
