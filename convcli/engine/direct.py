"""Direct sums: the kernel slid cell by cell, in numpy's compiled 1-D convolve where it can.

Long sums run in pieces priced by the cost model, so that Ctrl-C (which Python sees
only between numpy calls) stops them within a second.
"""

from __future__ import annotations

import math

import numpy as np

from convcli.engine.calibration import NS_PER_VECTOR_MAC
from convcli.engine.cost import compiled_cost
from convcli.engine.geometry import Geometry, compiled_1d, span
from convcli.engine.memory import BLAS_ROW


def slide_direct(padded: np.ndarray, weights: np.ndarray, geometry: Geometry) -> np.ndarray:
    """Sum of weights[k] * padded[i * stride + k * dilation] over k, for every output i.

    Only the outputs the stride keeps are computed. One-dimensional sums of
    machine numbers run in numpy's compiled ``convolve`` (split into phases for
    a stride or a dilation); the rest take one vectorised multiply-add per
    kernel cell.
    """
    if padded.ndim == 1 and padded.dtype != object and compiled_1d(geometry):
        return slide_compiled_1d(padded, weights, geometry.stride[0], geometry.dilation[0])
    out = np.zeros(geometry.output_shape, dtype=padded.dtype)
    # pieces of output rows small enough to stay in cache over all the kernel's cells,
    # and each pass over one priced at most PIECE_NS: see _convolve_valid
    row = math.prod(geometry.output_shape[1:])
    per_row = row * NS_PER_VECTOR_MAC[padded.dtype.kind]
    rows = max(1, min(int(PIECE_NS / per_row), _CACHED_OUTPUTS // row))
    products = np.empty((min(rows, len(out)), *out.shape[1:]), dtype=out.dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf is nan, an overflow inf
        for first in range(0, len(out), rows):
            piece = out[first : first + rows]
            terms = products[: len(piece)]
            origins = (first * geometry.stride[0],) + (0,) * (out.ndim - 1)
            reaches = tuple((n - 1) * s + 1 for n, s in zip(piece.shape, geometry.stride))
            for cell in np.ndindex(weights.shape):
                window = tuple(
                    slice(o + k * d, o + k * d + reach, s)
                    for o, k, d, reach, s in zip(
                        origins, cell, geometry.dilation, reaches, geometry.stride
                    )
                )
                np.add(piece, np.multiply(padded[window], weights[cell], out=terms), out=piece)
    return out


#: Outputs summed together over every kernel cell (with their products, 512 KB of
#: float64): they stay in cache from one cell to the next.
_CACHED_OUTPUTS = 1 << 15


#: Values gathered at once where outputs are summed window by window.
_GATHERED = 1 << 18


def leave_out_padding(
    values: np.ndarray,
    padded: np.ndarray,
    weights: np.ndarray,
    geometry: Geometry,
    signal_box: tuple[tuple[int, int], ...],
) -> None:
    """Where the kernel holds a nan or inf, sum every output whose window reaches past
    ``signal_box`` again without the cells outside it, in place: those are zero padding,
    which is no term of the sum (0 * inf would make the output nan).

    ``signal_box`` gives per axis the (start, stop) of the signal's cells in ``padded``
    (a start below 0 or a stop past the end: the signal goes on beyond ``padded``).
    Every method calls this on the same outputs, so they agree there bit for bit.
    """
    if np.isfinite(weights).all():
        return
    interior = []
    for (start, stop), s, d, k in zip(
        signal_box, geometry.stride, geometry.dilation, weights.shape
    ):
        first = max(-(-start // s), 0)  # the first output whose window starts in the signal
        interior.append(slice(first, max((stop - span(k, d)) // s + 1, first)))
    border = np.ones(geometry.output_shape, dtype=bool)
    border[tuple(interior)] = False
    outputs = np.flatnonzero(border)
    if outputs.size == 0:
        return
    real = np.zeros(padded.shape, dtype=bool)
    real[tuple(slice(max(start, 0), stop) for start, stop in signal_box)] = True
    starts = np.unravel_index(outputs, geometry.output_shape)
    corners = np.ravel_multi_index(
        tuple(i * s for i, s in zip(starts, geometry.stride)), padded.shape
    )
    cells = np.indices(weights.shape).reshape(weights.ndim, -1)
    offsets = np.ravel_multi_index(
        tuple(axis * d for axis, d in zip(cells, geometry.dilation)), padded.shape
    )
    taps, flat, flat_real = weights.reshape(-1), padded.reshape(-1), real.reshape(-1)
    rows = max(1, _GATHERED // taps.size)
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf, dropped; inf - inf is nan
        for first in range(0, outputs.size, rows):
            positions = corners[first : first + rows, None] + offsets[None, :]
            terms = np.where(flat_real[positions], flat[positions] * taps, -0.0)
            chosen = outputs[first : first + rows]
            values[np.unravel_index(chosen, values.shape)] = terms.sum(axis=1)


def slide_compiled_1d(
    padded: np.ndarray, weights: np.ndarray, stride: int, dilation: int
) -> np.ndarray:
    """The 1-D direct sum by numpy.convolve, phase by phase.

    A dilation ``d`` splits the outputs into ``d`` interleaved plain sums over
    ``padded[r::d]``; a stride ``s`` splits the kernel and the signal into
    ``s`` phases whose plain sums add up to the strided outputs.

    >>> slide_compiled_1d(np.arange(8), np.array([1, 10]), 2, 1)
    array([10, 32, 54, 76])
    """
    if stride == dilation == 1:  # the common case, without the phase bookkeeping
        if padded.size * (weights.size + 2) <= _ONE_PIECE_MACS:  # one piece (see below)
            return np.convolve(padded, weights[::-1], "valid")  # numpy.convolve never warns
        return _convolve_valid(padded, weights[::-1])
    outputs = (len(padded) - span(len(weights), dilation)) // stride + 1
    with np.errstate(invalid="ignore", over="ignore"):  # the ``+=`` of strided phases
        if dilation > 1:
            out = np.empty(outputs, dtype=padded.dtype)
            for phase in range(min(dilation, outputs)):
                out[phase::dilation] = _convolve_valid(padded[phase::dilation], weights[::-1])[
                    : len(range(phase, outputs, dilation))
                ]
            return out
        out = _convolve_valid(padded[::stride], weights[::stride][::-1])[:outputs]
        for phase in range(1, min(stride, len(weights))):
            out += _convolve_valid(padded[phase::stride], weights[phase::stride][::-1])[:outputs]
        return out


#: Sums of up to this many multiply-adds (at least 3 taps' worth per output) run in one
#: call: about PIECE_NS at the calibration table's slowest rate (complex, 3 taps).
_ONE_PIECE_MACS = 1 << 24
#: A longer valid sum runs in pieces the cost model prices at this many nanoseconds, so
#: that Ctrl-C (which Python sees only between numpy calls) stops it within a second.
PIECE_NS = 0.1e9
#: A sum priced at up to this runs in one call all the same: Ctrl-C waits at most that
#: long, and copying pieces into the result would cost a few percent of the sum.
ONE_CALL_NS = 0.5e9


def _convolve_valid(values: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """``numpy.convolve(values, taps, "valid")``, in pieces of about PIECE_NS each where
    it is long. Each output is the same sum of the same numbers whichever piece computes
    it, so the values are the same bits as one piece's.

    >>> _convolve_valid(np.arange(6.0), np.array([1.0, 2.0]))
    array([ 1.,  4.,  7., 10., 13.])
    """
    outputs = len(values) - len(taps) + 1
    if outputs * max(len(taps), 3) <= _ONE_PIECE_MACS and len(taps) <= BLAS_ROW:
        return np.convolve(values, taps, "valid")
    kind = np.result_type(values, taps).kind
    step = max(1, int(PIECE_NS / compiled_cost(len(taps), kind)))
    if step * (ONE_CALL_NS / PIECE_NS) >= outputs:  # no copies of pieces into a result
        return _convolve_in_runs(values, taps)
    out = np.empty(outputs, dtype=np.result_type(values, taps))
    for start in range(0, outputs, step):
        stop = min(start + step, outputs)
        out[start:stop] = _convolve_in_runs(values[start : stop + len(taps) - 1], taps)
    return out


def _convolve_in_runs(values: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """``numpy.convolve(values, taps, "valid")`` as the sum of the convolutions with runs
    of at most BLAS_ROW taps, each of which BLAS computes on one thread."""
    if len(taps) <= BLAS_ROW:
        return np.convolve(values, taps, "valid")
    outputs = len(values) - len(taps) + 1
    parts = []
    for first in range(0, len(taps), BLAS_ROW):
        run = taps[first : first + BLAS_ROW]
        start = len(taps) - first - len(run)  # where the windows of this run begin
        parts.append(np.convolve(values[start : start + outputs + len(run) - 1], run, "valid"))
        if len(parts) == 2:  # added as they come: two outputs' worth of memory at most
            parts = [np.add(parts[0], parts[1], out=parts[0])]
    return parts[0]
