"""Where the kernel stops on the signal: padding, stride and dilation, planned once.

Both operations share one geometry, which is why padding is a property of the
input rather than of convolution or correlation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np

from convcli.errors import ConvcliError
from convcli.options import PAD_MODES, Options, PadMode, Pads

_T = TypeVar("_T")


@dataclass(frozen=True)
class Geometry:
    """Where the kernel stops on the signal: padding, stride and dilation per axis.

    Both operations share one geometry, which is why padding is a property of
    the input rather than of convolution or correlation. ``padding`` is the
    rule's name (``valid``, ``same``, ``full`` or ``explicit``), ``pads`` its
    (before, after) cells per axis.
    """

    padding: str
    pads: Pads
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_mode: PadMode
    padded_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


def per_axis(values: tuple[_T, ...], ndim: int, name: str) -> tuple[_T, ...]:
    """Broadcast a one-entry tuple to every axis, or check there is one entry per axis.

    >>> per_axis((2,), 3, "stride")
    (2, 2, 2)
    """
    if len(values) == 1:
        return values * ndim
    if len(values) != ndim:
        raise ConvcliError(f"{name} gives {len(values)} values but the signal has {ndim} axes")
    return values


def span(taps: int, dilation: int) -> int:
    """Cells a kernel of ``taps`` taps covers with that dilation: ``d (K - 1) + 1``.

    >>> span(3, 2)
    5
    """
    return dilation * (taps - 1) + 1


def spans(kernel_shape: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """:func:`span` along every axis.

    >>> spans((3, 2), (2, 1))
    (5, 2)
    """
    return tuple(span(k, d) for k, d in zip(kernel_shape, dilation))


@lru_cache(maxsize=256)
def plan(
    signal_shape: tuple[int, ...], kernel_shape: tuple[int, ...], options: Options = Options()
) -> Geometry:
    """Check the options against the shapes and work out the padding and output shape.

    ``same`` gives ``ceil(N / stride)`` outputs per axis and pads
    ``max((out - 1) * stride + dilation * (K - 1) + 1 - N, 0)`` in total, the
    smaller half before (as PyTorch, TensorFlow and MATLAB do); ``full`` pads
    ``dilation * (K - 1)`` on each side. Remembered: on small arrays planning would
    cost more than the sum.

    >>> plan((5,), (2,), Options(padding="same")).pads
    ((0, 1),)
    >>> plan((7,), (3,), Options.parse(padding="full", stride=2)).output_shape
    (5,)
    """
    ndim = len(signal_shape)
    if len(kernel_shape) != ndim:
        raise ConvcliError(
            f"the kernel has {len(kernel_shape)} dimension(s) but the signal has {ndim}; they must match"
        )
    strides = per_axis(options.stride, ndim, "stride")
    dilations = per_axis(options.dilation, ndim, "dilation")
    extents = spans(kernel_shape, dilations)
    padding = options.padding
    if padding == "valid":
        pads: Pads = ((0, 0),) * ndim
    elif padding == "full":
        pads = tuple((extent - 1, extent - 1) for extent in extents)
    elif padding == "same":
        pads = tuple(_same_pads(n, e, s) for n, e, s in zip(signal_shape, extents, strides))
    else:
        pads = per_axis(padding, ndim, "padding")
    padded_shape = tuple(n + before + after for n, (before, after) in zip(signal_shape, pads))
    too_big = [axis for axis in range(ndim) if extents[axis] > padded_shape[axis]]
    if too_big:
        axis = too_big[0]
        raise ConvcliError(
            f"the kernel spans {extents[axis]} cells on axis {axis} but the padded signal has only "
            f"{padded_shape[axis]}; use a larger padding (e.g. padding='full') or a smaller kernel"
        )
    output_shape = tuple((p - e) // s + 1 for p, e, s in zip(padded_shape, extents, strides))
    name = padding if isinstance(padding, str) else "explicit"
    return Geometry(name, pads, strides, dilations, options.pad_mode, padded_shape, output_shape)


def _same_pads(length: int, extent: int, stride: int) -> tuple[int, int]:
    """Padding that gives ceil(length / stride) outputs, the smaller half before."""
    outputs = -(-length // stride)
    total = max((outputs - 1) * stride + extent - length, 0)
    return (total // 2, total - total // 2)


def pad_signal(signal: np.ndarray, pads: Pads, pad_mode: PadMode) -> np.ndarray:
    """The signal padded per axis; zeros are the dtype's own (Python 0 in an object array).

    With no padding at all this is the signal itself, not a copy.
    """
    if not any(before or after for before, after in pads):
        return signal
    if pad_mode != "zeros":
        return np.pad(signal, pads, mode=PAD_MODES[pad_mode])
    shape = tuple(n + before + after for n, (before, after) in zip(signal.shape, pads))
    padded = np.zeros(shape, dtype=signal.dtype)
    padded[tuple(slice(before, before + n) for n, (before, _) in zip(signal.shape, pads))] = signal
    return padded


def fold_padding(
    values: np.ndarray, shape: tuple[int, ...], pads: Pads, pad_mode: PadMode
) -> np.ndarray:
    """The transpose of :func:`pad_signal` on the trailing axes: each padded cell's value
    added back onto the signal cell it copies (dropped, for zero padding). The gradient of
    a padded signal is folded this way into the signal's.

    >>> fold_padding(np.array([1, 10, 100, 1000]), (2,), ((1, 1),), "replicate")
    array([ 11, 1100])
    """
    trailing = len(pads)
    lead = values.shape[: values.ndim - trailing]
    if pad_mode == "zeros":
        crop: tuple[Any, ...] = (
            Ellipsis,
            *(slice(before, before + n) for n, (before, _) in zip(shape, pads)),
        )
        return values[crop]
    size = math.prod(shape)
    sources = np.pad(np.arange(size).reshape(shape), pads, mode=PAD_MODES[pad_mode]).ravel()
    flat = values.reshape(-1, sources.size)
    if flat.dtype == np.int64 and flat.size:
        largest = int(np.abs(flat).max()) * int(np.bincount(sources, minlength=size).max())
        if largest > np.iinfo(np.int64).max:
            flat = flat.astype(object)
    folded = np.zeros((flat.shape[0], size), dtype=flat.dtype)  # Python 0 in an object array
    every_row: Any = (slice(None), sources)
    np.add.at(folded, every_row, flat)
    return folded.reshape(*lead, *shape)


def spread_by(values: np.ndarray, stride: tuple[int, ...]) -> np.ndarray:
    """``values`` with ``stride - 1`` zeros between neighbours along every axis: the input
    of a transposed (fractionally strided) convolution.

    >>> spread_by(np.array([1, 2, 3]), (2,))
    array([1, 0, 2, 0, 3])
    """
    stride = per_axis(stride, values.ndim, "stride")
    shape = tuple((n - 1) * s + 1 for n, s in zip(values.shape, stride))
    spread = np.zeros(shape, dtype=values.dtype)  # Python 0 in an object array
    spread[tuple(slice(None, None, s) for s in stride)] = values
    return spread


def compiled_1d(geometry: Geometry) -> bool:
    """Whether a 1-D direct sum can run in numpy.convolve: a stride or a dilation, not both."""
    return geometry.stride[0] == 1 or geometry.dilation[0] == 1
