"""A naive, obviously-correct reference for convolution and cross-correlation.

Written from the specification alone, sharing no code with ``convcli.engine``:
explicit Python loops over every output index and every kernel index, its own
padding arithmetic and its own pad-mode index mapping (no ``numpy.pad``), and
Python scalars throughout so integer results are exact at any size.

    correlation  y[i] = sum_k p[i*stride + k*dilation] * conj(h[k])
    convolution  y[i] = sum_k p[i*stride + k*dilation] * h[K - 1 - k]

where ``p`` is the signal padded by ``pads`` with the given pad mode.

Arguments are already normalised: ``padding`` is ``"valid"``, ``"same"``,
``"full"`` or one (before, after) pair per axis; ``stride`` and ``dilation``
are an int for every axis or one int per axis. Signals and kernels are nested
lists or numpy arrays of any number of dimensions.

>>> reference_convolve([2, 1, 3, 5, 4], [1, -1]).tolist()
[-1, 2, 2, -1]
>>> reference_correlate([1, 2, 3], [1], padding=[(2, 2)], pad_mode="reflect").tolist()
[3, 2, 1, 2, 3, 2, 1]
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np

PAD_MODE_NAMES = ("zeros", "reflect", "symmetric", "replicate", "circular")


def to_nested(values: object) -> object:
    """Python scalars in nested lists (numpy arrays via .tolist(), which is exact)."""
    if isinstance(values, np.ndarray):
        return values.tolist()
    return values


def shape_of(nested: object) -> tuple[int, ...]:
    """The shape of a rectangular nested list."""
    shape = []
    level = nested
    while isinstance(level, (list, tuple)):
        shape.append(len(level))
        level = level[0] if len(level) else None
    return tuple(shape)


def get(nested: object, index: tuple[int, ...]) -> object:
    value = nested
    for i in index:
        value = value[i]
    return value


def source_index(i: int, n: int, mode: str) -> int | None:
    """Which signal cell padded position ``i`` (relative to the signal's start) copies.

    ``None`` means a zero. ``reflect`` mirrors about the edge cells without
    repeating them (period 2n - 2), ``symmetric`` repeats them (period 2n),
    ``replicate`` copies the edge cell, ``circular`` wraps around (period n).
    """
    if 0 <= i < n:
        return i
    if mode == "zeros":
        return None
    if mode == "replicate":
        return 0 if i < 0 else n - 1
    if mode == "circular":
        return i % n
    if mode == "symmetric":
        m = i % (2 * n)
        return m if m < n else 2 * n - 1 - m
    if mode == "reflect":
        if n == 1:
            return 0
        period = 2 * n - 2
        m = i % period
        return m if m < n else period - m
    raise ValueError(f"reference: pad_mode=' {mode!r}")


def per_axis(value: int | tuple[int, ...] | list[int], ndim: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * ndim
    value = tuple(value)
    return value * ndim if len(value) == 1 else value


def reference_pads(
    signal_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    padding: str | list | tuple = "valid",
    stride: int | tuple[int, ...] = 1,
    dilation: int | tuple[int, ...] = 1,
) -> tuple[tuple[int, int], ...]:
    """(before, after) per axis, straight from the documented rules."""
    ndim = len(signal_shape)
    strides, dilations = per_axis(stride, ndim), per_axis(dilation, ndim)
    pads = []
    for axis in range(ndim):
        n, k, s, d = signal_shape[axis], kernel_shape[axis], strides[axis], dilations[axis]
        reach = d * (k - 1)  # distance from the first to the last tap
        if padding == "valid":
            pads.append((0, 0))
        elif padding == "full":
            pads.append((reach, reach))
        elif padding == "same":
            outputs = math.ceil(n / s)
            total = max((outputs - 1) * s + reach + 1 - n, 0)
            before = total // 2
            pads.append((before, total - before))
        else:
            pairs = list(padding)
            before, after = pairs[0] if len(pairs) == 1 else pairs[axis]
            pads.append((before, after))
    return tuple(pads)


def reference_output_shape(
    signal_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    padding: str | list | tuple = "valid",
    stride: int | tuple[int, ...] = 1,
    dilation: int | tuple[int, ...] = 1,
) -> tuple[int, ...]:
    """Outputs per axis, counted by trying every start; 0 where the kernel does not fit."""
    ndim = len(signal_shape)
    strides, dilations = per_axis(stride, ndim), per_axis(dilation, ndim)
    pads = reference_pads(signal_shape, kernel_shape, padding, stride, dilation)
    shape = []
    for axis in range(ndim):
        padded = signal_shape[axis] + pads[axis][0] + pads[axis][1]
        last_tap = dilations[axis] * (kernel_shape[axis] - 1)
        count = 0
        start = 0
        while start + last_tap < padded:
            count += 1
            start += strides[axis]
        shape.append(count)
    return tuple(shape)


def window_sources(
    signal_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    padding: str | list | tuple = "valid",
    stride: int | tuple[int, ...] = 1,
    dilation: int | tuple[int, ...] = 1,
    pad_mode: str = "zeros",
) -> tuple[tuple[int, ...], list[tuple[tuple[int, ...], list]]]:
    """For every output index, every kernel index and the signal cell it reads (or None)."""
    ndim = len(signal_shape)
    strides, dilations = per_axis(stride, ndim), per_axis(dilation, ndim)
    pads = reference_pads(signal_shape, kernel_shape, padding, stride, dilation)
    out_shape = reference_output_shape(signal_shape, kernel_shape, padding, stride, dilation)
    windows = []
    for out in product(*(range(n) for n in out_shape)):
        taps = []
        for k in product(*(range(n) for n in kernel_shape)):
            source = []
            for axis in range(ndim):
                padded_pos = out[axis] * strides[axis] + k[axis] * dilations[axis]
                src = source_index(padded_pos - pads[axis][0], signal_shape[axis], pad_mode)
                if src is None:
                    source = None
                    break
                source.append(src)
            taps.append((k, None if source is None else tuple(source)))
        windows.append((out, taps))
    return out_shape, windows


def reference_slide(
    signal: object,
    kernel: object,
    operation: str,
    padding: str | list | tuple = "valid",
    stride: int | tuple[int, ...] = 1,
    dilation: int | tuple[int, ...] = 1,
    pad_mode: str = "zeros",
    multiply_padding: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The operation's values (object array of Python scalars) and, per output,
    sum |p| * |h| over the window (a float array: the scale of rounding errors).

    A cell of zero padding is no term of the sum, unless ``multiply_padding`` (as
    PyTorch and TensorFlow do: 0 * inf is nan there)."""
    f, h = to_nested(signal), to_nested(kernel)
    f_shape, h_shape = shape_of(f), shape_of(h)
    out_shape, windows = window_sources(f_shape, h_shape, padding, stride, dilation, pad_mode)
    values = np.empty(out_shape, dtype=object)
    magnitude = np.zeros(out_shape, dtype=float)
    for out, taps in windows:
        total = 0
        scale = 0.0
        for k, src in taps:
            if operation == "convolution":
                w = get(h, tuple(n - 1 - i for n, i in zip(h_shape, k)))
            elif operation == "correlation":
                w = get(h, k).conjugate()
            else:
                raise ValueError(operation)
            if src is None:
                if multiply_padding:
                    total = total + 0 * w
                continue
            x = get(f, src)
            total = total + x * w
            scale += abs(complex(x)) * abs(complex(w))
        values[out] = total
        magnitude[out] = scale
    return values, magnitude


def reference_convolve(signal: object, kernel: object, **options: object) -> np.ndarray:
    return reference_slide(signal, kernel, "convolution", **options)[0]


def reference_correlate(signal: object, kernel: object, **options: object) -> np.ndarray:
    return reference_slide(signal, kernel, "correlation", **options)[0]


def reference_touches(
    signal_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    cells: set[tuple[int, ...]],
    **options: object,
) -> np.ndarray:
    """True for every output whose window reads one of ``cells`` (directly or via padding)."""
    out_shape, windows = window_sources(signal_shape, kernel_shape, **options)
    touched = np.zeros(out_shape, dtype=bool)
    for out, taps in windows:
        touched[out] = any(src in cells for _, src in taps if src is not None)
    return touched


def reference_pad(values: object, pads: tuple[tuple[int, int], ...], pad_mode: str) -> np.ndarray:
    """The padded signal itself (object array), to check the index mapping against numpy.pad."""
    f = to_nested(values)
    shape = shape_of(f)
    padded_shape = tuple(n + b + a for n, (b, a) in zip(shape, pads))
    out = np.empty(padded_shape, dtype=object)
    for pos in product(*(range(n) for n in padded_shape)):
        src = [source_index(p - b, n, pad_mode) for p, (b, _), n in zip(pos, pads, shape)]
        out[pos] = 0 if None in src else get(f, tuple(src))
    return out


# ---------------------------------------------------------------- CNN layers
#
# A layer written from PyTorch's documentation alone (channels first, batched):
#
#     forward     y[n, o, i] = bias[o] + sum_{j, k} p[n, g*C + j, i*stride + k*dilation] * w[o, j, k]
#     transposed  y[n, o, i*stride + k*dilation - before] += x[n, c, i] * w[c, o - g*O, k]
#
# for output channel o of group g (C input and O output channels per group), p the input
# padded by numpy.pad. Neither flips nor conjugates the weights.


def layer_pads(
    spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    padding: object,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> list[tuple[int, int]]:
    """(before, after) per spatial axis of a forward layer, from every form padding takes: an
    int, ints or pairs per axis (one for all axes), "valid", "same" (TensorFlow's: the extra
    cell after) or "full"."""
    pads = []
    for axis, (n, k, s, d) in enumerate(zip(spatial, kernel, stride, dilation)):
        reach = (k - 1) * d
        if padding == "valid":
            pads.append((0, 0))
        elif padding == "full":
            pads.append((reach, reach))
        elif padding == "same":
            total = max((-(-n // s) - 1) * s + reach + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        elif isinstance(padding, int):
            pads.append((padding, padding))
        else:
            entries = list(padding)  # type: ignore[call-overload]
            entry = entries[0] if len(entries) == 1 else entries[axis]
            pads.append((entry, entry) if isinstance(entry, int) else tuple(entry))
    return pads


def _numpy_pad_mode(pad_mode: str) -> str:
    return {"zeros": "constant", "replicate": "edge", "circular": "wrap"}.get(pad_mode, pad_mode)


def layer_products(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    *,
    stride: int | tuple[int, ...] = 1,
    padding: object = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
    pad_mode: str = "zeros",
    transposed: bool = False,
    output_padding: int | tuple[int, ...] = 0,
) -> tuple[tuple[int, ...], list[tuple[tuple[int, ...], tuple[int, ...] | None, tuple[int, ...]]]]:
    """A layer on a channels-first batched input ``(N, C_in, *spatial)`` with weights
    ``(C_out, C_in/groups, *k)`` (transposed: ``(C_in, C_out/groups, *k)``): its output shape,
    and every product of its sums as (output index, input index, weight index). The input
    index is None where a forward layer's tap meets zero padding; other pad modes name the
    cell the padding copies (numpy.pad of each axis's indices). A transposed layer's "same"
    gives ``n * stride + output_padding`` cells, cropped as the forward "same" layer on that
    many cells pads.
    """
    batch, in_channels, spatial = x_shape[0], x_shape[1], x_shape[2:]
    kernel = w_shape[2:]
    dims = len(kernel)
    strides, dilations = per_axis(stride, dims), per_axis(dilation, dims)
    group_in = in_channels // groups
    group_out = w_shape[1] if transposed else w_shape[0] // groups
    taps = list(product(*map(range, kernel)))
    products = []
    if transposed:
        extra = per_axis(output_padding, dims)
        if padding == "same":
            out_spatial = tuple(n * s + p for n, s, p in zip(spatial, strides, extra))
            pads = layer_pads(out_spatial, kernel, "same", strides, dilations)
        else:
            pads = layer_pads(spatial, kernel, padding, strides, dilations)
            out_spatial = tuple(
                (n - 1) * s + (k - 1) * d + 1 - b - a + p
                for n, k, s, d, (b, a), p in zip(spatial, kernel, strides, dilations, pads, extra)
            )
        for n, c, i in product(range(batch), range(in_channels), product(*map(range, spatial))):
            for local, k in product(range(group_out), taps):
                at = tuple(
                    ii * s + kk * d - b
                    for ii, kk, s, d, (b, _) in zip(i, k, strides, dilations, pads)
                )
                if all(0 <= a < m for a, m in zip(at, out_spatial)):
                    o = c // group_in * group_out + local
                    products.append(((n, o, *at), (n, c, *i), (c, local, *k)))
        return (batch, group_out * groups, *out_spatial), products
    pads = layer_pads(spatial, kernel, padding, strides, dilations)
    mode = _numpy_pad_mode(pad_mode)
    sources = [  # which input cell each padded cell holds along each axis; -1 for a zero
        np.pad(np.arange(n), pad, mode, **({"constant_values": -1} if mode == "constant" else {}))
        for n, pad in zip(spatial, pads)
    ]
    out_spatial = tuple(
        (len(m) - (k - 1) * d - 1) // s + 1
        for m, k, s, d in zip(sources, kernel, strides, dilations)
    )
    out_channels = w_shape[0]
    for n, o, i in product(range(batch), range(out_channels), product(*map(range, out_spatial))):
        for j, k in product(range(group_in), taps):
            at = tuple(
                int(m[ii * s + kk * d])
                for m, ii, kk, s, d in zip(sources, i, k, strides, dilations)
            )
            c = o // group_out * group_in + j
            products.append(((n, o, *i), None if -1 in at else (n, c, *at), (o, j, *k)))
    return (batch, out_channels, *out_spatial), products


def reference_layer_sums(
    x: object, w: object, bias: object = None, *, multiply_padding: bool = False, **options: object
) -> tuple[np.ndarray, np.ndarray]:
    """The layer's values (an object array of Python scalars, exact for integers) and per
    output ``|bias| + sum |x||w|`` (the scale of rounding errors), from
    :func:`layer_products`. Neither flips nor conjugates the weights::

        y[n, o, i] = bias[o] + sum_{j, k} pad(x)[n, g*C + j, i*stride + k*dilation] * w[o, j, k]

    A cell of zero padding is no term of the sum unless ``multiply_padding`` (0 * inf is
    nan, as PyTorch computes).
    """
    xs, ws = np.array(to_nested(x), dtype=object), np.array(to_nested(w), dtype=object)
    shape, products = layer_products(xs.shape, ws.shape, **options)  # type: ignore[arg-type]
    offsets = [0] * shape[1] if bias is None else list(to_nested(bias))  # type: ignore[call-overload]
    values = np.empty(shape, dtype=object)
    magnitude = np.zeros(shape)
    for out in product(*map(range, shape)):
        values[out] = offsets[out[1]]
        magnitude[out] = abs(complex(offsets[out[1]]))
    for out, at, k in products:
        if at is None:
            if multiply_padding:
                values[out] = values[out] + 0 * ws[k]
            continue
        values[out] = values[out] + xs[at] * ws[k]
        magnitude[out] += abs(complex(xs[at])) * abs(complex(ws[k]))
    return values, magnitude


def reference_layer(x: object, w: object, bias: object = None, **options: object) -> np.ndarray:
    """The layer's values alone (see :func:`reference_layer_sums`).

    >>> reference_layer([[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]], [[[1, -1], [1, 1]]], [10]).tolist()
    [[[12, 9, 9, 12]]]
    >>> reference_layer([[[1, 2, 3]]], [[[1, 1]]], transposed=True, stride=2).tolist()
    [[[1, 1, 2, 2, 3, 3]]]
    """
    return reference_layer_sums(x, w, bias, **options)[0]


def reference_layer_backward(
    x: object, w: object, grad: object, **options: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dL/dx, dL/dw and dL/db of ``L = sum(G * y)``, one product at a time: a product
    ``x[at] * w[k]`` that ``y[out]`` sums adds ``G[out] * w[k]`` to ``dL/dx[at]`` (the cell the
    padding copied) and ``G[out] * x[at]`` to ``dL/dw[k]``.

    >>> [a.tolist() for a in reference_layer_backward([[[2, 1, 3]]], [[[1, -1]]], [[[1, 1]]])]
    [[[[1, 0, -1]]], [[[3, 4]]], [2]]
    """
    xs, ws = np.array(to_nested(x), dtype=object), np.array(to_nested(w), dtype=object)
    g = np.array(to_nested(grad), dtype=object)
    shape, products = layer_products(xs.shape, ws.shape, **options)  # type: ignore[arg-type]
    assert g.shape == shape, (g.shape, shape)
    grad_x, grad_w = np.zeros(xs.shape, dtype=object), np.zeros(ws.shape, dtype=object)
    for out, at, k in products:
        if at is not None:
            grad_x[at] = grad_x[at] + g[out] * ws[k]
            grad_w[k] = grad_w[k] + g[out] * xs[at]
    grad_b = np.zeros(shape[1], dtype=object)
    for out in product(*map(range, shape)):
        grad_b[out[1]] = grad_b[out[1]] + g[out]
    return grad_x, grad_w, grad_b
