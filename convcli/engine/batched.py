"""Sums whose kernel differs from row to row: ``axes=`` with a kernel that varies along
the axes it broadcasts over.

One vectorised multiply-add per kernel tap, each broadcasting the kernel's rows over the
signal's, in pieces of rows that stay in cache; exact for integers, nan and inf as the
direct sum has them.
"""

from __future__ import annotations

import math

import numpy as np

from convcli.engine.geometry import Geometry

#: Output values per piece: the piece and its terms, 1 MB of float64, stay in a core's L2 cache.
_PIECE_VALUES = 1 << 16


def slide_batched(
    padded: np.ndarray, weights: np.ndarray, geometry: Geometry, real: np.ndarray | None = None
) -> np.ndarray:
    """``sum_k weights[b, k] * padded[b, i * stride + k * dilation]`` for every output, where
    ``b`` runs over ``geometry.batch_axes`` (broadcast: a size of 1 stands for every row) and
    ``k`` and ``i`` over the other axes.

    Where ``real`` is given (a mask of ``padded``'s signal cells), cells outside it are no
    terms of the sum: zero padding under a nan or inf tap adds nothing.

    >>> from convcli.engine.geometry import plan
    >>> from convcli.options import Options
    >>> rows, kernels = np.arange(8).reshape(2, 4), np.array([[1, 1], [1, -1]])
    >>> slide_batched(rows, kernels, plan((2, 4), (2, 2), Options(axes=(1,))))
    array([[ 1,  3,  5],
           [-1, -1, -1]])
    """
    out = np.zeros(geometry.output_shape, dtype=np.result_type(padded, weights))
    batch = geometry.batch_axes
    listed = [axis for axis in range(out.ndim) if axis not in batch]
    taps = [weights.shape[axis] for axis in listed]
    reaches = [(n - 1) * s + 1 for n, s in zip(out.shape, geometry.stride)]
    rows_axis = max(batch, key=lambda axis: out.shape[axis])
    rows = max(1, _PIECE_VALUES * out.shape[rows_axis] // out.size)
    work = np.empty(0, dtype=out.dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf is nan, an overflow inf
        for first in range(0, out.shape[rows_axis], rows):
            piece = out[_along(rows_axis, out.ndim, slice(first, first + rows))]
            if work.size != piece.size:
                work = np.empty(piece.shape, dtype=out.dtype)
            terms = work.reshape(piece.shape)
            signal, kernel, cells = (
                array[_along(rows_axis, out.ndim, slice(first, first + rows))]
                if array.shape[rows_axis] > 1
                else array
                for array in (padded, weights, real if real is not None else padded)
            )
            for cell in np.ndindex(*taps):
                window = [slice(None)] * out.ndim
                tap = [slice(None)] * out.ndim
                for axis, k in zip(listed, cell):
                    start = k * geometry.dilation[axis]
                    window[axis] = slice(start, start + reaches[axis], geometry.stride[axis])
                    tap[axis] = slice(k, k + 1)
                np.multiply(kernel[tuple(tap)], signal[tuple(window)], out=terms)
                if real is not None:
                    np.copyto(terms, -0.0, where=~cells[tuple(window)])
                piece += terms
    return out


def _along(axis: int, ndim: int, index: slice) -> tuple[slice, ...]:
    """An index taking ``index`` along ``axis`` and everything along the other axes."""
    return tuple(index if a == axis else slice(None) for a in range(ndim))


def slid_shape(kernel_shape: tuple[int, ...], geometry: Geometry) -> tuple[int, ...]:
    """The kernel's shape as one row slides: 1 along the axes it broadcasts over; what a
    single output costs, whichever row it takes.

    >>> from convcli.engine.geometry import plan
    >>> from convcli.options import Options
    >>> slid_shape((4, 3), plan((4, 9), (4, 3), Options(axes=(1,))))
    (1, 3)
    """
    return tuple(1 if axis in geometry.batch_axes else k for axis, k in enumerate(kernel_shape))


def varies(kernel_shape: tuple[int, ...], geometry: Geometry) -> bool:
    """Whether the kernel has more than one row along an axis it broadcasts over.

    >>> from convcli.engine.geometry import plan
    >>> from convcli.options import Options
    >>> varies((1, 3), plan((4, 9), (1, 3), Options(axes=(1,))))
    False
    """
    return math.prod(kernel_shape[axis] for axis in geometry.batch_axes) > 1
