"""Where the kernel stops on the signal: padding, stride and dilation, planned once.

Both operations share one geometry, which is why padding is a property of the
input rather than of convolution or correlation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from convcli.errors import ConvcliError
from convcli.options import (
    PAD_MODES,
    PaddingSpec,
    Pads,
    PerAxis,
    check_choice,
    parse_padding,
    parse_per_axis,
)


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
    pad_mode: str
    padded_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


def per_axis(values: tuple, ndim: int, name: str) -> tuple:
    """Broadcast a one-entry tuple to every axis, or check there is one entry per axis."""
    if len(values) == 1:
        return values * ndim
    if len(values) != ndim:
        raise ConvcliError(f"{name} gives {len(values)} values but the signal has {ndim} axes")
    return values


def plan(
    signal_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: str = "zeros",
) -> Geometry:
    """Check the options against the shapes and work out the padding and output shape.

    ``same`` gives ``ceil(N / stride)`` outputs per axis and pads
    ``max((out - 1) * stride + dilation * (K - 1) + 1 - N, 0)`` in total, the
    smaller half before (as PyTorch, TensorFlow and MATLAB do); ``full`` pads
    ``dilation * (K - 1)`` on each side.

    >>> plan((5,), (2,), "same").pads
    ((0, 1),)
    >>> plan((7,), (3,), "full", stride=2).output_shape
    (5,)
    """
    ndim = len(signal_shape)
    if len(kernel_shape) != ndim:
        raise ConvcliError(
            f"the kernel has {len(kernel_shape)} dimension(s) but the signal has {ndim}; they must match"
        )
    check_choice(pad_mode, tuple(PAD_MODES), "pad mode")
    strides = per_axis(parse_per_axis(stride, "stride"), ndim, "stride")
    dilations = per_axis(parse_per_axis(dilation, "dilation"), ndim, "dilation")
    spans = tuple(d * (k - 1) + 1 for d, k in zip(dilations, kernel_shape))
    parsed = parse_padding(padding)
    if parsed == "valid":
        pads: Pads = ((0, 0),) * ndim
    elif parsed == "full":
        pads = tuple((span - 1, span - 1) for span in spans)
    elif parsed == "same":
        pads = tuple(_same_pads(n, span, s) for n, span, s in zip(signal_shape, spans, strides))
    else:
        pads = per_axis(parsed, ndim, "padding")
    padded_shape = tuple(n + before + after for n, (before, after) in zip(signal_shape, pads))
    too_big = [axis for axis in range(ndim) if spans[axis] > padded_shape[axis]]
    if too_big:
        axis = too_big[0]
        raise ConvcliError(
            f"the kernel spans {spans[axis]} cells on axis {axis} but the padded signal has only "
            f"{padded_shape[axis]}; use a larger padding (e.g. padding='full') or a smaller kernel"
        )
    output_shape = tuple((p - span) // s + 1 for p, span, s in zip(padded_shape, spans, strides))
    name = parsed if isinstance(parsed, str) else "explicit"
    return Geometry(name, pads, strides, dilations, pad_mode, padded_shape, output_shape)


#: plan() for options given as plain ints and strings, remembered: on small arrays
#: checking the options costs more than the sum itself.
_remembered_plan = lru_cache(maxsize=256, typed=True)(plan)


def planned(
    signal_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    padding: PaddingSpec,
    stride: PerAxis,
    dilation: PerAxis,
    pad_mode: str,
) -> Geometry:
    """:func:`plan`, remembered where every option is a plain int or string."""
    if all(type(option) in (int, str) for option in (padding, stride, dilation, pad_mode)):
        return _remembered_plan(signal_shape, kernel_shape, padding, stride, dilation, pad_mode)
    return plan(signal_shape, kernel_shape, padding, stride, dilation, pad_mode)


def _same_pads(length: int, span: int, stride: int) -> tuple[int, int]:
    """Padding that gives ceil(length / stride) outputs, the smaller half before."""
    outputs = -(-length // stride)
    total = max((outputs - 1) * stride + span - length, 0)
    return (total // 2, total - total // 2)


def pad_signal(signal: np.ndarray, pads: Pads, pad_mode: str) -> np.ndarray:
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


def compiled_1d(geometry: Geometry) -> bool:
    """Whether a 1-D direct sum can run in numpy.convolve: a stride or a dilation, not both."""
    return geometry.stride[0] == 1 or geometry.dilation[0] == 1
