"""Sums whose kernel differs from row to row: ``axes=`` with a kernel that varies along
the axes it broadcasts over.

Directly: one vectorised multiply-add per kernel tap, each broadcasting the kernel's rows
over the signal's, in pieces of rows that stay in cache; exact for integers, nan and inf
as the direct sum has them. By FFT (finite floats): transforms along the listed axes
only, every row's kernel its own spectrum; rows holding an output below the FFT's error
bound (divided by fft.ACCURACY for ``auto``, as the engine's guard does) are summed again
directly.
"""

from __future__ import annotations

import math

import numpy as np

from convcli.engine.calibration import NS_PER_FFT_UNIT_ND, NS_PER_VECTOR_MAC
from convcli.engine.geometry import Geometry, spans

_EPS = float(np.finfo(np.float64).eps)
#: The transforms along some axes with their guard (row norms, magnitudes, a copy of the
#: valid outputs) cost this many times the N-D unit per value (docs/performance.md).
_FFT_OVERHEAD = 2.5
#: Output values per piece: the piece and its terms, 1 MB of float64, stay in a core's L2 cache.
_PIECE_VALUES = 1 << 16


def slide_batched(
    padded: np.ndarray,
    weights: np.ndarray,
    geometry: Geometry,
    real: np.ndarray | None = None,
    out: np.ndarray | None = None,
    redo: np.ndarray | None = None,
) -> np.ndarray:
    """``sum_k weights[b, k] * padded[b, i * stride + k * dilation]`` for every output, where
    ``b`` runs over ``geometry.batch_axes`` (broadcast: a size of 1 stands for every row) and
    ``k`` and ``i`` over the other axes.

    Where ``real`` is given (a mask of ``padded``'s signal cells), cells outside it are no
    terms of the sum: zero padding under a nan or inf tap adds nothing. With ``out`` and
    ``redo`` (a mask of positions along the rows axis, :func:`rows_axis`), only the pieces
    holding a marked position are summed again, into ``out``.

    >>> from convcli.engine.geometry import plan
    >>> from convcli.options import Options
    >>> rows, kernels = np.arange(8).reshape(2, 4), np.array([[1, 1], [1, -1]])
    >>> slide_batched(rows, kernels, plan((2, 4), (2, 2), Options(axes=(1,))))
    array([[ 1,  3,  5],
           [-1, -1, -1]])
    """
    if out is None:
        out = np.zeros(geometry.output_shape, dtype=np.result_type(padded, weights))
    batch = geometry.batch_axes
    listed = [axis for axis in range(out.ndim) if axis not in batch]
    taps = [weights.shape[axis] for axis in listed]
    reaches = [(n - 1) * s + 1 for n, s in zip(out.shape, geometry.stride)]
    rows_axis = rows_axis_of(geometry)
    rows = max(1, _PIECE_VALUES * out.shape[rows_axis] // out.size)
    work = np.empty(0, dtype=out.dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf is nan, an overflow inf
        for first in range(0, out.shape[rows_axis], rows):
            if redo is not None and not redo[first : first + rows].any():
                continue
            piece = out[_along(rows_axis, out.ndim, slice(first, first + rows))]
            piece[...] = 0
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


def rows_axis_of(geometry: Geometry) -> int:
    """The broadcast axis along which the output is longest: sums run in pieces along it."""
    return max(geometry.batch_axes, key=lambda axis: geometry.output_shape[axis])


def fft_is_cheaper(geometry: Geometry, slid: tuple[int, ...], kind: str) -> bool:
    """Whether transforms along the listed axes cost less than one multiply-add per tap,
    by the engine's measured costs (an N-D transform's, per row)."""
    listed = [axis for axis in range(len(slid)) if axis not in geometry.batch_axes]
    rows = math.prod(geometry.output_shape[axis] for axis in geometry.batch_axes)
    size = math.prod(_fast_length(geometry.padded_shape[axis]) for axis in listed)
    fft = rows * size * (math.log2(size) + 4) * NS_PER_FFT_UNIT_ND[kind] * _FFT_OVERHEAD
    direct = math.prod(geometry.output_shape) * math.prod(slid) * NS_PER_VECTOR_MAC[kind]
    return fft < direct


def _fast_length(n: int) -> int:
    """fft.fast_length, imported on first use (numpy.fft loads with it)."""
    from convcli.engine.fft import fast_length

    return fast_length(n)


def slide_batched_fft(
    padded: np.ndarray, weights: np.ndarray, geometry: Geometry, guard: bool
) -> np.ndarray | None:
    """:func:`slide_batched` by FFT along the listed axes, for finite float64 or complex
    inputs of moderate magnitude (None for others: the caller sums them directly).

    >>> from convcli.engine.geometry import plan
    >>> from convcli.options import Options
    >>> rows, kernels = np.arange(8.0).reshape(2, 4), np.array([[1.0, 1.0], [1.0, -1.0]])
    >>> slide_batched_fft(rows, kernels, plan((2, 4), (2, 2), Options(axes=(1,))), guard=True)
    array([[ 1.,  3.,  5.],
           [-1., -1., -1.]])
    """
    from convcli.engine import fft

    if padded.dtype.kind not in "fc" or not (
        np.isfinite(padded).all() and np.isfinite(weights).all()
    ):
        return None
    largest = max(float(np.abs(padded).max()), float(np.abs(weights).max()))
    if not (largest == 0 or 2.0**-400 <= largest <= 2.0**400):  # no spectrum overflows
        return None
    listed = tuple(axis for axis in range(padded.ndim) if axis not in geometry.batch_axes)
    taps = np.zeros(spans(weights.shape, geometry.dilation), dtype=weights.dtype)
    taps[tuple(slice(None, None, d) for d in geometry.dilation)] = weights
    lengths = [fft.fast_length(padded.shape[axis]) for axis in listed]
    complex_ = "c" in (padded.dtype.kind, weights.dtype.kind)
    forward, inverse = (np.fft.fftn, np.fft.ifftn) if complex_ else (np.fft.rfftn, np.fft.irfftn)
    spectrum = forward(padded, s=lengths, axes=listed)
    kernel_spectrum = forward(np.flip(taps, axis=listed), s=lengths, axes=listed)
    if np.broadcast_shapes(spectrum.shape, kernel_spectrum.shape) == spectrum.shape:
        spectrum *= kernel_spectrum  # in place: no second array of the signal's size
    else:  # one signal row for several kernel rows
        spectrum = spectrum * kernel_spectrum
    full = inverse(spectrum, s=lengths, axes=listed)
    del spectrum
    valid = tuple(
        slice(None)
        if axis in geometry.batch_axes
        else slice(taps.shape[axis] - 1, padded.shape[axis], geometry.stride[axis])
        for axis in range(padded.ndim)
    )
    out = np.ascontiguousarray(full[valid])
    del full
    # per row, the error bound of every output: eps log2(L) ||row of p|| ||row of h||
    norms = [
        np.sqrt(np.sum(np.abs(array) ** 2, axis=listed, keepdims=True))
        for array in (padded, weights)
    ]
    log_length = max(math.log2(math.prod(lengths)), 1.0)
    bound = norms[0] * norms[1] * (_EPS * log_length / (fft.ACCURACY if guard else 1.0))
    suspect = ~(np.abs(out) >= bound)
    if suspect.any():
        axis = rows_axis_of(geometry)
        others = tuple(a for a in range(out.ndim) if a != axis)
        slide_batched(padded, weights, geometry, out=out, redo=suspect.any(axis=others))
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
