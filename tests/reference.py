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
