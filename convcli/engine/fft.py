"""Sliding sums by FFT, without the FFT's usual surprises.

A plain FFT convolution spreads one nan or inf over every output, turns exact
integers into floats that are only nearly right, and gives every output an
absolute error of about ``eps * log2(n) * ||f|| * ||h||``, which swamps small
outputs when the signal spans many orders of magnitude. Here the FFT result is
repaired where it cannot be trusted:

* outputs whose window touches a nan or inf are recomputed by the direct sum;
* integer results are rounded only where a proven error bound is below 1/4,
  otherwise recomputed exactly;
* with ``guard=True`` (what ``method="auto"`` uses), outputs smaller than the
  FFT's error bound divided by :data:`ACCURACY` (``2**-20``) are recomputed by
  the direct sum, so an exact zero stays zero and a tiny output next to huge
  ones keeps its digits; without it, outputs smaller than the bound itself (of
  which not even the leading digit could be trusted), so that one huge value
  cannot make the outputs around it garbage;
* operands whose values lie near float64's limits are scaled by powers of two
  (exactly) before the transforms, which could overflow or underflow otherwise.

One-dimensional signals longer than one block are done by overlap-save on a
fixed grid of blocks whose length depends only on the kernel, so that every
output is computed from the same numbers however the signal arrives: streamed
in pieces or read whole, the results are the same bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache, partial

import numpy as np

from convcli.engine.geometry import Geometry, spans
from convcli.engine.memory import BLAS_ROW
from convcli.options import Pads

__all__ = [
    "ACCURACY",
    "BlockPlan",
    "block_plan",
    "fast_length",
    "is_long",
    "overlap_save_plan",
    "plan_work",
    "slide_fft",
    "sliding_sums",
    "transform_lengths",
    "transform_work",
    "zero_pads",
]

_EPS = float(np.finfo(np.float64).eps)
#: ``guard=True`` keeps an FFT output only where its error bound is at most this
#: fraction of the output's magnitude (a millionth; the bound is pessimistic, the
#: error seen is typically a hundred times smaller).
ACCURACY = 2.0**-20
#: Integer results are rounded from the FFT only where the proven error bound is below this.
_ROUNDING_MARGIN = 0.25
#: Values per chunk of overlap-save blocks transformed at once: 2 MB of float64, which
#: stays in cache between the passes over it.
_CHUNK_VALUES = 1 << 18

#: Signals of up to this many kernel-sized overlap-save blocks may take another plan:
#: one transform, or blocks of another length (block_plan).
WHOLE_BLOCKS = 16

Transform = Callable[[np.ndarray], np.ndarray]
#: Sums of squares between these are free of underflow and overflow (squares of values
#: near 1e-154 or 1e154 would not be).
_TINY_ENERGY, _HUGE_ENERGY = 2.0**-900, 2.0**900
#: Operands whose largest magnitude lies between these are transformed as they are: no
#: spectrum, product of spectra or square can then overflow or underflow (2**800 times
#: the count of values). Others are scaled to a largest magnitude in [0.5, 1).
_SMALLEST_PLAIN, _LARGEST_PLAIN = 2.0**-400, 2.0**400


@lru_cache(maxsize=256)
def fast_length(n: int) -> int:
    """The smallest ``2**a * 3**b * 5**c`` at least ``n``: a length numpy's FFT does quickly.

    >>> fast_length(1000), fast_length(1025), fast_length(1)
    (1000, 1080, 1)
    """
    best = 1 << max(n - 1, 0).bit_length()
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            length = power35
            while length < n:
                length *= 2
            best = min(best, length)
            power35 *= 3
        power5 *= 5
    return best


@dataclass(frozen=True)
class BlockPlan:
    """How a 1-D FFT sliding sum is cut: transforms of ``length`` giving ``step`` outputs each."""

    length: int
    step: int


@lru_cache(maxsize=256)
def block_plan(span: int, padded_length: int) -> BlockPlan:
    """Overlap-save blocks sized for the kernel alone, or for a short signal the cheapest
    of one transform and blocks of any candidate length.

    The blocks of a long signal depend only on ``span`` (the dilated kernel's
    extent), so it is cut on the same grid whether it is streamed or read whole.
    A signal of up to WHOLE_BLOCKS such blocks (which a stream holds before it
    starts, so it agrees) takes the plan of least transform work, the kernel's
    own transform counted: one transform of the whole signal costs as much again
    for the kernel, where blocks need the kernel's only at their length.

    >>> block_plan(3, 100)
    BlockPlan(length=100, step=98)
    >>> block_plan(10_000, 10**5), block_plan(10_000, 10**7)
    (BlockPlan(length=32768, step=22769), BlockPlan(length=65536, step=55537))
    """
    if is_long(span, padded_length):
        return overlap_save_plan(span)
    outputs = padded_length - span + 1
    whole = BlockPlan(fast_length(padded_length), outputs)
    shorter = [BlockPlan(n, n - span + 1) for n in _block_lengths(span) if n < whole.length]
    return min([whole, *shorter], key=lambda plan: plan_work(plan, outputs))


def is_long(span: int, padded_length: int) -> bool:
    """Whether a signal is longer than WHOLE_BLOCKS of its kernel's own blocks: it is then
    cut on that grid, and its plan and method depend on the kernel alone.

    >>> is_long(31, 16 * 1024), is_long(31, 16 * 1024 + 1)
    (False, True)
    """
    return padded_length > WHOLE_BLOCKS * overlap_save_plan(span).length


def plan_work(plan: BlockPlan, outputs: int) -> float:
    """Work of ``outputs`` outputs in ``plan``'s blocks: a block's work for each, and the
    kernel's transform at the block length (half a pair).

    >>> plan_work(BlockPlan(1024, 994), 994)
    35292.0
    """
    return (-(-outputs // plan.step) + 0.5) * transform_work(plan.length)


def overlap_save_plan(span: int) -> BlockPlan:
    """The blocks of any signal longer than one block: they depend on the kernel alone.

    >>> overlap_save_plan(31)
    BlockPlan(length=1024, step=994)
    """
    length = _block_length(span)
    return BlockPlan(length, length - span + 1)


def transform_work(length: int) -> float:
    """Work of one block of ``length`` points, in units the cost model prices:
    ``L (log2 L + 12) + 1000``. ``L log2 L`` is the transform pair's; ``12 L`` the passes
    over the block besides (copying it in, the product, copying out, the guard), and
    1000 the fixed cost of a block. Past 2**14 points a penalty: blocks fall out of
    cache. Fitted to block lengths timed against each other (docs/performance.md).

    >>> transform_work(1024)
    23528.0
    """
    log_length = math.log2(length)
    return length * (log_length + 12 + 3 * max(0.0, log_length - 14)) + 1000


@lru_cache(maxsize=256)
def _block_length(span: int) -> int:
    """The block length with the least transform work per output."""
    return min(_block_lengths(span), key=lambda n: transform_work(n) / (n - span + 1))


def _block_lengths(span: int) -> list[int]:
    """Block lengths worth considering: powers of two from 2**7 to 2**17 points longer than
    twice the kernel (a longer one only when the kernel needs it)."""
    return [n for n in (1 << e for e in range(7, 18)) if n > 2 * span] or [fast_length(4 * span)]


def slide_fft(
    padded: np.ndarray,
    weights: np.ndarray,
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    guard: bool,
    zero_pads: Pads | None = None,
) -> np.ndarray:
    """``sum_k weights[k] * padded[i * stride + k * dilation]`` for every output ``i``, by FFT.

    ``padded`` and ``weights`` are int64, float64 or complex128 of the same
    dtype; the result has that dtype, and equals the direct sum exactly for
    integers and wherever a window holds a nan or inf. ``zero_pads`` gives per axis
    the (before, after) cells of ``padded`` known to be zeros, which an N-D transform
    then leaves out (see :func:`transform_lengths`).

    >>> slide_fft(np.array([2, 1, 3, 5, 4]), np.array([-1, 1]), (1,), (1,), guard=True)
    array([-1,  2,  2, -1])
    """
    values = sliding_sums(padded, weights, dilation, guard, zero_pads=zero_pads)
    return np.ascontiguousarray(values[tuple(slice(None, None, s) for s in stride)])


def sliding_sums(
    padded: np.ndarray,
    weights: np.ndarray,
    dilation: tuple[int, ...],
    guard: bool,
    blocks: BlockPlan | None = None,
    zero_pads: Pads | None = None,
) -> np.ndarray:
    """Every stride-1 output of :func:`slide_fft`; 1-D signals in ``blocks`` (default: planned).

    A streamed signal passes the plan of the whole, so each block is the same.

    >>> sliding_sums(np.array([1.0, 2.0, 4.0]), np.array([1.0, 1.0]), (1,), guard=True)
    array([3., 6.])
    """
    if weights.dtype.kind != "i" and not np.isfinite(weights).all():
        # every window holds the kernel's nan or inf: only the direct sum can say which
        # outputs that makes nan and which +-inf
        shape = tuple(p - e + 1 for p, e in zip(padded.shape, spans(weights.shape, dilation)))
        values = np.empty(shape, dtype=padded.dtype)
        _recompute(values, np.arange(values.size), padded, weights, dilation)
        return values
    taps = _dilated(weights, dilation)
    integers = padded.dtype.kind == "i"
    signal = padded.astype(np.complex128 if padded.dtype.kind == "c" else np.float64, copy=False)
    finite = None
    signal_norm = _plain_norm(signal)
    signal_shift = 0
    if signal_norm is None:  # a nan or inf, or values near float64's limits
        with np.errstate(invalid="ignore", over="ignore"):
            total = signal.sum()
        if not np.isfinite(total):  # finite unless a value is not (or the sum overflowed)
            finite = np.isfinite(signal)
            signal = np.where(finite, signal, 0)
        signal, signal_shift = _scaled(signal)
    taps, taps_shift = _scaled(taps.astype(signal.dtype))
    sliding = _SlidingFFT(signal, taps, integers, guard)
    if padded.ndim == 1:
        values, suspect = sliding.overlap_save(blocks or block_plan(taps.size, padded.size))
    else:
        values, suspect = sliding.whole(zero_pads, signal_norm)
    if signal_shift or taps_shift:  # back to the operands' scale, exactly
        with np.errstate(over="ignore", under="ignore"):  # a sum past float64's range is inf
            np.ldexp(_reals(values), -(signal_shift + taps_shift), out=_reals(values))
    if finite is not None:
        touched = np.flatnonzero(_window_sums(~finite, taps.shape))
        suspect = np.union1d(suspect, touched)
    if integers:
        with np.errstate(invalid="ignore"):  # outputs past the bound are recomputed below
            values = np.rint(values).astype(np.int64)
    _recompute(values, suspect, padded, weights, dilation)
    return values


def _scaled(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Finite float ``values`` times ``2**shift`` and ``shift``: 0 where their largest
    magnitude is between _SMALLEST_PLAIN and _LARGEST_PLAIN (or 0), else the power of two
    that brings it into [0.5, 1). Exact, so the transforms' results scale back exactly."""
    reals = _reals(values)
    if reals.dtype.kind != "f":
        return values, 0
    largest = max(-float(reals.min()), float(reals.max()))
    if largest == 0 or _SMALLEST_PLAIN <= largest <= _LARGEST_PLAIN:
        return values, 0
    shift = -math.frexp(largest)[1]
    scaled = np.empty_like(values)
    np.ldexp(reals, shift, out=_reals(scaled))
    return scaled, shift


def _plain_norm(values: np.ndarray) -> float | None:
    """The Euclidean norm of finite ``values`` that :func:`_scaled` leaves as they are, in
    one pass; None where a value is nan or inf or the largest magnitude may lie outside
    [_SMALLEST_PLAIN, _LARGEST_PLAIN] (the energy bounds it from both sides)."""
    reals = _reals(values).reshape(-1)
    energy = _energy(reals)
    plain = _SMALLEST_PLAIN**2 * reals.size <= energy <= _LARGEST_PLAIN**2
    return math.sqrt(energy) if plain else None


def _dilated(weights: np.ndarray, dilation: tuple[int, ...]) -> np.ndarray:
    """The kernel with ``dilation - 1`` zeros between taps on every axis."""
    if all(d == 1 for d in dilation):
        return weights
    shape = spans(weights.shape, dilation)
    taps = np.zeros(shape, dtype=weights.dtype)
    taps[tuple(slice(None, None, d) for d in dilation)] = weights
    return taps


@dataclass
class _SlidingFFT:
    """Stride-1 valid sliding sums of ``taps`` over ``signal`` (finite values only), by FFT.

    Each method returns the sums and the flat indices (ascending) of the outputs the
    FFT cannot be trusted with (see the module docstring), which the caller recomputes.
    """

    signal: np.ndarray
    taps: np.ndarray
    integers: bool
    guard: bool

    def _transforms(self, length: int) -> tuple[Transform, Transform, np.ndarray]:
        """Forward and inverse transforms of ``length`` points along the rows of a 2-D
        array, for this dtype, and the kernel's spectrum as one such row."""
        complex_ = self.signal.dtype.kind == "c"
        pair = (np.fft.fft, np.fft.ifft) if complex_ else (np.fft.rfft, np.fft.irfft)
        forward, inverse = (partial(f, n=length, axis=1) for f in pair)
        return forward, inverse, forward(np.flip(self.taps)[None, :])

    def whole(
        self, zero_pads: Pads | None, signal_norm: float | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """One N-dimensional transform of the signal without its zero padding, at the
        shortest fast lengths free of wrap-around (:func:`transform_lengths`).

        The inverse transform is cut down to the outputs axis by axis, so that each
        later pass transforms only the lines that hold outputs.
        """
        real = self.signal.dtype.kind != "c"
        plan = transform_lengths(self.signal.shape, self.taps.shape, zero_pads, real)
        lengths = tuple(axis.length for axis in plan)
        region = self.signal[tuple(slice(axis.low, axis.high) for axis in plan)]
        spectrum = _forward(region, lengths, real)
        spectrum *= _forward(np.flip(self.taps), lengths, real)
        sums = _inverse_cropped(spectrum, plan, real)
        values = sums.copy()
        covered_norm = _norm(self.signal) if signal_norm is None else signal_norm
        return values, self._suspect(sums, covered_norm, None, math.prod(lengths))

    def overlap_save(self, plan: BlockPlan) -> tuple[np.ndarray, np.ndarray]:
        """Overlap-save over blocks of ``plan.length``, many blocks per transform call."""
        span = self.taps.size
        outputs = self.signal.size - span + 1
        blocks = -(-outputs // plan.step)
        forward, inverse, kernel_spectrum = self._transforms(plan.length)
        values = np.empty(blocks * plan.step, dtype=self.signal.dtype)
        suspect = [np.empty(0, dtype=np.intp)]
        rows_per_chunk = max(1, _CHUNK_VALUES // plan.length)
        for first in range(0, blocks, rows_per_chunk):
            rows = min(rows_per_chunk, blocks - first)
            start, stop = first * plan.step, (first + rows) * plan.step
            frames = self._frames(start, rows, plan)
            spectrum = _times(forward(frames), kernel_spectrum)
            sums = inverse(spectrum)[:, span - 1 : span - 1 + plan.step]
            values[start:stop].reshape(rows, plan.step)[...] = sums  # no flattened copy
            if stop > outputs:  # sums past the signal's end, dropped: none of the guard's business
                sums[-1, plan.step - (stop - outputs) :] = np.inf
            covered = self.signal[start : start + (rows - 1) * plan.step + plan.length]
            suspect.append(start + self._suspect(sums, _norm(covered), frames, plan.length))
        indices = np.concatenate(suspect)
        return values[:outputs], indices[indices < outputs]

    def _frames(self, start: int, rows: int, plan: BlockPlan) -> np.ndarray:
        """``rows`` overlapping blocks of ``plan.length`` from ``start``, zero past the end."""
        needed = (rows - 1) * plan.step + plan.length
        piece = self.signal[start : start + needed]
        if piece.size < needed:
            piece = np.concatenate([piece, np.zeros(needed - piece.size, dtype=piece.dtype)])
        item = piece.itemsize  # a view: sliding_window_view's checks cost more than this
        return np.lib.stride_tricks.as_strided(
            piece, (rows, plan.length), (plan.step * item, item), writeable=False
        )

    def _suspect(
        self, sums: np.ndarray, covered_norm: float, blocks: np.ndarray | None, length: int
    ) -> np.ndarray:
        """Flat indices into ``sums`` of the outputs whose FFT value is not good enough, as
        the module docstring says; ``sums`` is a view into the inverse transform's own
        buffer, used up here.

        ``covered_norm`` is the norm of every value transformed. Each row of ``blocks``
        (one block per row of ``sums``; None: all that was transformed is the one block)
        is judged by its own norm, but first all at once by ``covered_norm``, which bounds
        each of theirs: that settles the usual case in a pass or two.
        """
        log_length = max(math.log2(length), 1.0)
        with np.errstate(over="ignore", invalid="ignore"):  # an inf or nan bound: all direct
            if self.integers:  # rounding is exact where the bound is below the margin
                per_norm = self.kernel_norm * _EPS * (26 * math.ceil(log_length) + 5)
                if covered_norm * per_norm < _ROUNDING_MARGIN:
                    return np.empty(0, dtype=np.intp)
                if blocks is None:
                    return np.arange(sums.size)
                doubtful = ~(_row_norms(blocks) * per_norm < _ROUNDING_MARGIN)
                return np.flatnonzero(np.broadcast_to(doubtful, sums.shape))
            per_norm = self.kernel_norm * _EPS * log_length / (ACCURACY if self.guard else 1.0)
            magnitudes = np.abs(sums, out=sums)  # in place: no array of the outputs' size
            if magnitudes.min() >= covered_norm * per_norm:
                return np.empty(0, dtype=np.intp)
            bound = (covered_norm if blocks is None else _row_norms(blocks)) * per_norm
            return np.flatnonzero(~(magnitudes >= bound))

    @cached_property
    def kernel_norm(self) -> float:
        """The Euclidean norm of the taps, which every error bound scales with."""
        return _norm(self.taps)


@dataclass(frozen=True)
class AxisPlan:
    """One axis of an N-D FFT sum: the signal's cells ``low:high`` transformed at
    ``length`` points, whose circular sums ``start:start + outputs`` are the outputs."""

    low: int
    high: int
    length: int
    start: int
    outputs: int


@lru_cache(maxsize=256)
def transform_lengths(
    padded_shape: tuple[int, ...],
    extents: tuple[int, ...],
    zero_pads: Pads | None = None,
    real: bool = True,
) -> tuple[AxisPlan, ...]:
    """Per axis, the cells to transform and the shortest fast length whose circular sums
    hold every valid output of the padded signal unmixed.

    Zero padding is left out of the transform: of ``before`` zeros only up to
    ``extent - 1`` are kept (a full sum needs no more), of ``after`` none. A length
    ``L`` keeps the outputs, circular sums ``start`` (``extent - 1 - low``) to
    ``padded - low``, free of wrap-around when ``L >= padded - low`` and ``L >= high``:
    the transform of a ``same`` sum is then about half a kernel shorter than the
    padded signal, a ``full`` one a whole kernel shorter. A ``real`` transform's last axis
    takes an even length: numpy's real transforms of odd lengths are slower (3-D 135**3
    took 1.3 times 135 x 135 x 144).

    >>> [axis.length for axis in transform_lengths((1030,), (31,), ((15, 15),))]
    [1024]
    >>> transform_lengths((1060,), (31,), ((30, 30),))[0]
    AxisPlan(low=30, high=1030, length=1080, start=0, outputs=1030)
    """
    plans = []
    pads = zero_pads or ((0, 0),) * len(padded_shape)
    last = len(padded_shape) - 1
    for axis, (padded, extent, (before, after)) in enumerate(zip(padded_shape, extents, pads)):
        low, high = min(before, extent - 1), padded - after
        needed = max(high, padded - low, extent)  # and the kernel uncut
        even = real and axis == last
        length = 2 * fast_length(-(-needed // 2)) if even else fast_length(needed)
        plans.append(AxisPlan(low, high, length, extent - 1 - low, padded - extent + 1))
    return tuple(plans)


def zero_pads(geometry: Geometry) -> Pads | None:
    """The padding an N-D transform may leave out: ``geometry.pads`` where they are zeros.

    >>> from convcli.engine.geometry import plan
    >>> zero_pads(plan((5, 5), (3, 3)))
    ((0, 0), (0, 0))
    """
    return geometry.pads if geometry.pad_mode == "zeros" else None


def _forward(values: np.ndarray, lengths: tuple[int, ...], real: bool) -> np.ndarray:
    """The N-D transform at ``lengths`` (zeros past ``values``), made in one buffer: the
    last axis first, and each pass in place over only the lines the passes before it
    made nonzero (a pass writing a new array along a leading axis costs twice as much).
    """
    last = values.ndim - 1
    points = lengths[last] // 2 + 1 if real else lengths[last]
    spectrum = np.empty((*lengths[:last], points), dtype=np.complex128)
    box = tuple(slice(0, n) for n in values.shape[:last])
    for axis in range(last):  # zeros outside the box the values fill
        beyond = (*box[:axis], slice(values.shape[axis], None))
        spectrum[beyond] = 0
    (np.fft.rfft if real else np.fft.fft)(values, n=lengths[last], axis=last, out=spectrum[box])
    for axis in range(last - 1, -1, -1):
        lines = spectrum[box[:axis]]
        np.fft.fft(lines, axis=axis, out=lines)
    return spectrum


def _inverse_cropped(spectrum: np.ndarray, plan: tuple[AxisPlan, ...], real: bool) -> np.ndarray:
    """The inverse of :func:`_forward`, cut to each axis's outputs as soon as that axis is
    transformed (the first axes in place): a view into the last pass's buffer."""
    last = spectrum.ndim - 1
    for axis in range(last):
        np.fft.ifft(spectrum, axis=axis, out=spectrum)
        keep = slice(plan[axis].start, plan[axis].start + plan[axis].outputs)
        spectrum = spectrum[(slice(None),) * axis + (keep,)]
    final = plan[last]
    inverse = partial(np.fft.irfft, n=final.length) if real else partial(np.fft.ifft, out=spectrum)
    return inverse(spectrum, axis=last)[..., final.start : final.start + final.outputs]


def _times(spectrum: np.ndarray, kernel_spectrum: np.ndarray) -> np.ndarray:
    """The product of two spectra, made in the first one (no new array of the signal's size)."""
    spectrum *= kernel_spectrum
    return spectrum


def _norm(values: np.ndarray) -> float:
    """The Euclidean norm of the whole array, redone scaled where squaring under- or
    overflowed.

    Dot products (BLAS, faster than einsum) of rows of BLAS_ROW values: OpenBLAS splits
    a longer one over threads, which in a process pinned to one core fight over it.
    """
    flat = _reals(values).reshape(-1)
    energy = _energy(flat)
    if _TINY_ENERGY < energy < _HUGE_ENERGY:
        return math.sqrt(energy)
    return float(_scaled_norms(flat[None, :])[0, 0])


def _energy(flat: np.ndarray) -> float:
    """The sum of squares of a flat real array (inf on overflow, nan over a nan), by dot
    products of rows of BLAS_ROW values (see :func:`_norm`)."""
    whole = flat.size - flat.size % BLAS_ROW
    rows, rest = flat[:whole].reshape(-1, BLAS_ROW), flat[whole:]
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.matmul(rows[:, None, :], rows[:, :, None]).sum() + np.dot(rest, rest))


def _row_norms(blocks: np.ndarray) -> np.ndarray:
    """The Euclidean norm of each row, as a column: one pass of sums of squares, redone
    scaled in the rows where squaring under- or overflowed."""
    reals = _reals(blocks)
    energy = np.einsum("ij,ij->i", reals, reals)[:, None]
    norms = np.sqrt(energy)
    unsafe = np.flatnonzero(~((energy > _TINY_ENERGY) & (energy < _HUGE_ENERGY)))
    if unsafe.size:
        norms[unsafe] = _scaled_norms(reals[unsafe])
    return norms


def _scaled_norms(rows: np.ndarray) -> np.ndarray:
    """Row norms (a column) of real ``rows`` scaled by each row's largest magnitude, free of
    under- and overflow."""
    magnitudes = np.abs(rows)
    largest = magnitudes.max(axis=1, keepdims=True)
    scale = np.where(largest > 0, largest, 1.0)
    scaled = magnitudes / scale
    return scale * np.sqrt(np.sum(scaled * scaled, axis=1, keepdims=True))


def _reals(values: np.ndarray) -> np.ndarray:
    """Complex values as pairs of reals (their norms are the same), real ones as they are."""
    return values.view(np.float64) if values.dtype.kind == "c" else values


def _window_sums(values: np.ndarray, window: tuple[int, ...]) -> np.ndarray:
    """Sums of ``values`` over every ``window``-shaped box that fits (a valid box filter)."""
    sums = values.astype(np.int64 if values.dtype.kind == "b" else np.float64)
    for axis, size in enumerate(window):
        totals = np.cumsum(sums, axis=axis)
        zero = np.zeros_like(np.take(totals, [0], axis=axis))
        totals = np.concatenate([zero, totals], axis=axis)
        n = totals.shape[axis]
        sums = np.take(totals, range(size, n), axis=axis) - np.take(
            totals, range(n - size), axis=axis
        )
    return sums


def _recompute(
    values: np.ndarray,
    corners: np.ndarray,
    padded: np.ndarray,
    weights: np.ndarray,
    dilation: tuple[int, ...],
) -> None:
    """Overwrite the stride-1 outputs at flat indices ``corners`` with the direct sum, in place.

    Each output's window is gathered into a row and summed on its own, so its
    value does not depend on which other outputs are recomputed with it.
    """
    if corners.size == 0:
        return
    flat = padded.reshape(-1)
    corner_offsets = np.ravel_multi_index(np.unravel_index(corners, values.shape), padded.shape)
    cells = np.indices(weights.shape).reshape(weights.ndim, -1)
    cell_offsets = np.ravel_multi_index(
        tuple(axis * d for axis, d in zip(cells, dilation)), padded.shape
    )
    taps = weights.reshape(-1)
    rows = max(1, _CHUNK_VALUES // taps.size)
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf is nan, and an overflow inf,
        for first in range(0, corners.size, rows):  # as the sum defines them
            chosen = slice(first, first + rows)
            windows = flat[corner_offsets[chosen, None] + cell_offsets[None, :]]
            values.reshape(-1)[corners[chosen]] = (windows * taps).sum(axis=1)
