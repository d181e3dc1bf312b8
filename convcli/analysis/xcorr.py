"""Lags, normalized cross-correlation and time delay: at which shift, and how alike.

Numbers in, numbers out, like :mod:`convcli.engine`, whose sums this module
reuses. Every correlation output has a lag: ``corr(f, h)`` at output ``i`` is
``sum_n f[n + m] * conj(h_d[n])`` with ``m = i * stride - pad_before`` (per axis,
``h_d`` the dilated kernel), the convention of ``scipy.signal.correlate`` and
MATLAB's ``xcorr(f, h)``. Normalizations follow MATLAB's xcorr (``biased``,
``unbiased``, ``coeff``) and template matching (``zncc``); :func:`find_delay`
reads the lag of the correlation's peak.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from convcli.display import Displayed
from convcli.engine.core import Comparison, Result, agree, compare, compute
from convcli.engine.geometry import Geometry, pad_signal, plan
from convcli.engine.numbers import as_numeric
from convcli.errors import ConvcliError, OptionError
from convcli.options import (
    NORMALIZATIONS,
    OPERATIONS,
    ChosenMethod,
    Method,
    Normalization,
    Operation,
    Options,
    PaddingSpec,
    PadMode,
    PerAxis,
    check_choice,
)

__all__ = [
    "NORMALIZATIONS",
    "Delay",
    "compare_normalized",
    "correlation_lags",
    "find_delay",
    "geometry_lags",
    "normalize_result",
    "normalized_compute",
    "normalized_correlate",
    "output_lags",
]

#: A window counts as flat when all its values are equal, or when its spread (n times its
#: variance) is below this many rounding units of its sum of squares per cell, where the
#: sums cannot tell it from 0.
_FLAT_ROUNDING = 16 * np.finfo(np.float64).eps
#: Float correlation peaks this close (relative to the largest) count as equal in find_delay.
_EQUAL_PEAKS = 1e-9


def output_lags(geometry: Geometry, position: tuple) -> tuple:
    """The lag along each axis of the output at ``position`` (ints, or arrays of indices):
    ``index * stride - pad_before``.

    >>> output_lags(plan((5,), (2,), Options.parse(padding="full", stride=2)), (2,))
    (3,)
    """
    return tuple(
        index * stride - before
        for index, stride, (before, _) in zip(position, geometry.stride, geometry.pads)
    )


def geometry_lags(geometry: Geometry) -> tuple[np.ndarray, ...]:
    """The lag of every output along each axis.

    >>> geometry_lags(plan((5,), (2,), Options.parse(padding="full", stride=2)))
    (array([-1,  1,  3]),)
    """
    indices = tuple(np.arange(count, dtype=np.int64) for count in geometry.output_shape)
    return output_lags(geometry, indices)


def correlation_lags(
    signal_shape: int | Sequence[int],
    kernel_shape: int | Sequence[int],
    *,
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
) -> np.ndarray | tuple[np.ndarray, ...]:
    """The lags of ``correlate(signal, kernel, padding, stride, dilation)``'s outputs.

    Like ``scipy.signal.correlation_lags(len(signal), len(kernel), mode)`` for
    full and valid (and same for odd kernels; convcli's same keeps the smaller
    half of the padding before, as PyTorch and MATLAB do), for every padding
    form, stride and dilation. Lengths give one array; shapes give one array
    per axis. The default padding is ``valid``, as for :func:`convcli.correlate`.

    >>> correlation_lags(5, 2, padding="full")
    array([-1,  0,  1,  2,  3,  4])
    >>> correlation_lags((4, 3), (2, 2), padding="same")
    (array([0, 1, 2, 3]), array([0, 1, 2]))
    """
    one_axis = isinstance(signal_shape, (int, np.integer))
    shapes = [
        (n,) if isinstance(n, (int, np.integer)) else tuple(n) for n in (signal_shape, kernel_shape)
    ]
    if any(not isinstance(n, (int, np.integer)) or n < 1 for shape in shapes for n in shape):
        raise ConvcliError(
            f"shapes must be positive integers, got {signal_shape!r} and {kernel_shape!r}"
        )
    options = Options.parse(padding=padding, stride=stride, dilation=dilation)
    lags = geometry_lags(plan(shapes[0], shapes[1], options))
    return lags[0] if one_axis else lags


def _as_float(values: np.ndarray) -> np.ndarray:
    """Sums as float64 (complex128 for complex): normalized values are never integers."""
    return values.astype(np.complex128 if values.dtype.kind == "c" else np.float64)


def _template(kernel: np.ndarray, operation: str) -> np.ndarray:
    """The kernel the operation correlates with: itself, or conj(flip(h)) for convolution
    (``conv(f, h) == corr(f, conj(flip(h)))``)."""
    return kernel if operation == "correlation" else np.conj(np.flip(kernel))


def _check_matlab_scaling(
    normalize: str, signal: np.ndarray, kernel: np.ndarray, geometry: Geometry
) -> None:
    """Refuse what MATLAB's xcorr scalings do not define: unequal shapes, padding other
    than zeros, a dilated kernel, lags with no overlap (unbiased)."""
    if signal.shape != kernel.shape:
        raise ConvcliError(
            f"{normalize} normalization needs a signal and a kernel of the same shape, as "
            f"MATLAB's xcorr does for any scaling but none (got {signal.shape} and "
            f"{kernel.shape}); zncc normalizes windows for a kernel of any size"
        )
    if geometry.pad_mode != "zeros" and any(any(pair) for pair in geometry.pads):
        raise OptionError(
            f"{normalize} normalization assumes zero padding, as xcorr's sums do "
            f"(got pad mode {geometry.pad_mode})"
        )
    if any(d > 1 for d in geometry.dilation):
        raise OptionError(
            f"{normalize} normalization is defined for an undilated kernel: a dilated kernel "
            "is another, longer sequence than the signal"
        )
    if normalize == "unbiased":
        for lags, n in zip(geometry_lags(geometry), signal.shape):
            if lags.size and max(-int(lags[0]), int(lags[-1])) >= n:
                raise ConvcliError(
                    f"unbiased normalization divides by the overlap N - |lag|, which is 0 "
                    f"beyond lag ±{n - 1}; pad at most {n - 1} on each side (full padding)"
                )


def normalize_result(result: Result, signal: object, kernel: object, normalize: str) -> Result:
    """The result of :func:`convcli.engine.core.compute` scaled as ``normalize`` says.

    ``biased`` divides by N (the number of cells), ``unbiased`` by the overlap
    ``N - |lag|`` (per axis, multiplied), ``coeff`` by ``||f|| ||h||`` (MATLAB
    xcorr's definitions, which need a signal and kernel of one shape), ``zncc``
    gives every window's zero-normalized correlation with the kernel (values
    in [-1, 1]; 0 for a flat window or kernel, with a note). A convolution is
    normalized as the correlation with ``conj(flip(h))`` it equals.

    >>> from convcli.engine.core import compute
    >>> raw = compute([1, 2, 3], [1, 2, 3], "correlation", Options(padding="full"))
    >>> normalize_result(raw, [1, 2, 3], [1, 2, 3], "unbiased").values
    array([3.        , 4.        , 4.66666667, 4.        , 3.        ])
    """
    check_choice(normalize, NORMALIZATIONS, "normalize")
    if normalize == "none":
        return result
    f, h = as_numeric(signal, "signal"), as_numeric(kernel, "kernel")
    geometry = result.geometry
    notes: tuple[str, ...] = ()
    if normalize == "zncc":
        values, notes, _ = _zncc(f, _template(h, result.operation), geometry, result.method)
        return replace(result, values=values, normalize=normalize, notes=notes)
    _check_matlab_scaling(normalize, f, h, geometry)
    values = _as_float(result.values)
    if normalize == "biased":
        values = values / f.size
    elif normalize == "unbiased":
        overlaps = [n - np.abs(lags) for n, lags in zip(f.shape, geometry_lags(geometry))]
        values = values / math.prod(np.ix_(*overlaps))
    else:
        norms = float(np.linalg.norm(_as_float(f))) * float(np.linalg.norm(_as_float(h)))
        if norms == 0:
            values = np.zeros_like(values)
            notes = ("the signal or the kernel is all zeros, so every coeff output is 0",)
        else:
            values = values / norms
    return replace(result, values=values, normalize=normalize, notes=notes)


def _zncc(
    signal: np.ndarray, template: np.ndarray, geometry: Geometry, method: Method
) -> tuple[np.ndarray, tuple[str, ...], ChosenMethod]:
    """Zero-normalized cross-correlation of every window of the padded signal with the
    template: ``sum (w - mean w) conj(t - mean t) / (||w - mean w|| ||t - mean t||)``.

    The window sums are the engine's own sums with a kernel of ones (the FFT where it is
    faster); integers take exact integer sums, so flat windows and perfect matches
    (``+-1``) are exact. Returns the values, notes and the method the correlation took.
    """
    shape = geometry.output_shape
    if np.all(template == template.flat[0]):
        note = "the kernel is flat (every value equal), so every zncc output is 0"
        dtype = np.complex128 if "c" in (signal.dtype.kind, template.dtype.kind) else np.float64
        return np.zeros(shape, dtype), (note,), "direct" if method == "auto" else method
    padded = pad_signal(signal, geometry.pads, geometry.pad_mode)
    statistics: Method = "direct" if method == "direct" else "auto"  # auto: small sums exact
    sliding = Options(stride=geometry.stride, dilation=geometry.dilation)
    exact = signal.dtype.kind in "iO" and template.dtype.kind in "iO"
    terms = _integer_terms if exact else _float_terms
    numerator, spread, floor, energy, chosen = terms(padded, template, sliding, method, statistics)
    flat = _flat_windows(padded, template.shape, geometry, statistics)
    with np.errstate(invalid="ignore", divide="ignore"):
        flat |= spread <= floor
        values = _as_float(numerator) / np.sqrt(_as_float(spread) * float(energy))
    values[flat] = 0
    if exact:  # a perfect match is exactly +-1: numerator^2 == spread * energy, in integers
        for index in np.flatnonzero(~flat.reshape(-1) & (np.abs(values.reshape(-1)) > 0.5)):
            matched = int(numerator.flat[index])
            if matched * matched == int(spread.flat[index]) * energy:
                values.flat[index] = 1.0 if matched > 0 else -1.0
    if values.dtype.kind == "c":
        values = values / np.maximum(np.abs(values), 1)  # rounding never leaves the unit disc
    else:
        values = np.clip(values, -1, 1)
    flats = int(np.count_nonzero(flat))
    notes = (
        (f"{flats} of {flat.size} windows are flat (no variation), so their zncc is 0",)
        if flats
        else ()
    )
    return values, notes, chosen


#: zncc's terms: the numerator, the window spreads, the spread at or below which a window
#: counts as flat, the template's energy, and the method the correlation took.
Terms = tuple[np.ndarray, np.ndarray, "np.ndarray | float", "int | float", ChosenMethod]


def _float_terms(
    padded: np.ndarray, template: np.ndarray, sliding: Options, method: Method, statistics: Method
) -> Terms:
    """zncc's terms in floating point, over the padded signal minus its mean (which changes
    no window's zncc but keeps the spreads from cancelling away)."""
    padded = _as_float(padded)
    finite = padded[np.isfinite(padded)]
    if finite.size:
        padded = padded - finite.mean()
    centred = _as_float(template) - template.mean()
    ones = np.ones(template.shape)
    numerator = compute(padded, centred, "correlation", sliding.replace(method=method))
    sums = compute(padded, ones, "correlation", sliding.replace(method=statistics)).values
    squares = compute(np.abs(padded) ** 2, ones, "correlation", sliding.replace(method=statistics))
    with np.errstate(invalid="ignore"):
        spread = np.maximum(squares.values - np.abs(sums) ** 2 / template.size, 0)
    floor = _FLAT_ROUNDING * template.size * squares.values
    energy = float(np.sum(np.abs(centred) ** 2))
    return numerator.values, spread, floor, energy, numerator.method


def _integer_terms(
    padded: np.ndarray, template: np.ndarray, sliding: Options, method: Method, statistics: Method
) -> Terms:
    """zncc's terms in exact integers, each n times the float ones: ``n sum(w t) - sum(w)
    sum(t)``, ``n sum(w^2) - sum(w)^2`` and ``n sum(t^2) - sum(t)^2`` (Python ints where
    int64 could overflow)."""
    count = template.size
    largest = max(int(np.abs(padded).max()), int(np.abs(template).max()))
    if count * count * largest * largest >= 2**62:
        padded, template = padded.astype(object), template.astype(object)
    ones = np.ones(template.shape, dtype=np.int64)
    products = compute(padded, template, "correlation", sliding.replace(method=method))
    sums = compute(padded, ones, "correlation", sliding.replace(method=statistics)).values
    squares = compute(padded * padded, ones, "correlation", sliding.replace(method=statistics))
    total = int(template.sum())
    numerator = count * products.values - sums * total
    spread = count * squares.values - sums * sums
    energy = count * int((template * template).sum()) - total * total
    return numerator, spread, 0, energy, products.method


def _flat_windows(
    padded: np.ndarray, template_shape: tuple[int, ...], geometry: Geometry, method: Method
) -> np.ndarray:
    """Marks the windows whose values are all equal, exactly: along every axis, no two
    neighbouring taps differ (counted by integer sums, which the engine keeps exact)."""
    changes = np.zeros(geometry.output_shape, dtype=np.int64)
    for axis, (taps, step) in enumerate(zip(template_shape, geometry.dilation)):
        if taps == 1:
            continue
        later, earlier = [slice(None)] * padded.ndim, [slice(None)] * padded.ndim
        later[axis], earlier[axis] = slice(step, None), slice(None, -step)
        differs = (padded[tuple(later)] != padded[tuple(earlier)]).astype(np.int64)
        pairs = tuple(t - 1 if a == axis else t for a, t in enumerate(template_shape))
        changes += compute(
            differs,
            np.ones(pairs, dtype=np.int64),
            "correlation",
            Options(stride=geometry.stride, dilation=geometry.dilation, method=method),
        ).values
    return changes == 0


def normalized_compute(
    signal: object,
    kernel: object,
    normalize: str,
    operation: Operation = "correlation",
    options: Options = Options(),
) -> Result:
    """:func:`convcli.engine.core.compute`, then :func:`normalize_result`: the result with
    its geometry, method, normalization and notes (zncc skips the plain sums it does not
    use)."""
    check_choice(normalize, NORMALIZATIONS, "normalize")
    if isinstance(kernel, str):  # a name: "gaussian:5"
        from convcli.analysis.kernels import kernel_argument

        kernel = kernel_argument(kernel, signal, options.axes)
    if normalize != "zncc":
        result = compute(signal, kernel, operation, options)
        return normalize_result(result, signal, kernel, normalize)
    check_choice(operation, OPERATIONS, "operation")
    f, h = as_numeric(signal, "signal"), as_numeric(kernel, "kernel")
    geometry = plan(f.shape, h.shape, options)
    values, notes, chosen = _zncc(f, _template(h, operation), geometry, options.method)
    return Result(operation, values, geometry, chosen, normalize, notes)


def normalized_correlate(
    signal: object,
    kernel: object,
    *,
    normalize: Normalization = "coeff",
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: PadMode = "zeros",
    method: Method = "auto",
) -> np.ndarray:
    """Cross-correlation scaled as MATLAB's ``xcorr(f, h, scaleopt)`` or as template matching.

    ``normalize`` is ``none``, ``biased`` (divided by N), ``unbiased`` (by
    ``N - |lag|``), ``coeff`` (by ``||f|| ||h||``; 1 at a perfect match) or
    ``zncc`` (every window mean-removed and divided by its norm, in [-1, 1]).

    >>> normalized_correlate([1, 2, 3], [1, 2, 3], normalize="coeff", padding="full")
    array([0.21428571, 0.57142857, 1.        , 0.57142857, 0.21428571])
    >>> np.round(normalized_correlate([1, 2, 1, 5, 10, 5, 5, 5], [1, 2, 1], normalize="zncc"), 4)
    array([ 1.    , -0.6934, -0.064 ,  1.    , -0.5   ,  0.    ])
    """
    options = Options.parse(
        padding=padding, stride=stride, dilation=dilation, pad_mode=pad_mode, method=method
    )
    return normalized_compute(signal, kernel, normalize, "correlation", options).values


def compare_normalized(
    signal: object, kernel: object, normalize: str, options: Options = Options()
) -> Comparison:
    """:func:`convcli.engine.core.compare` with both columns normalized alike: the
    convolution as the correlation with ``conj(flip(h))`` it equals, so the verdict still
    compares like with like."""
    check_choice(normalize, NORMALIZATIONS, "normalize")
    comparison = compare(signal, kernel, options)
    if normalize == "none":
        return comparison
    f, h = comparison.signal, comparison.kernel
    columns = [
        normalize_result(
            Result(operation, values, comparison.geometry, comparison.method), f, h, normalize
        )
        for operation, values in zip(OPERATIONS, (comparison.convolution, comparison.correlation))
    ]
    convolution, correlation = columns[0].values, columns[1].values
    equal, opposite = comparison.equal, comparison.opposite
    if normalize == "zncc":  # a shared divisor keeps the relations; zncc's window terms may not
        unit = np.ones(convolution.shape)
        equal = agree(convolution, correlation, unit)
        opposite = agree(convolution, -correlation, unit)
    return replace(
        comparison,
        convolution=convolution,
        correlation=correlation,
        equal=equal,
        opposite=opposite,
        normalize=normalize,
        notes=tuple(dict.fromkeys(columns[0].notes + columns[1].notes)),
    )


@dataclass(frozen=True, repr=False)
class Delay(Displayed):
    """Where a signal best matches a reference: ``signal[n] ~ reference[n - lag]``.

    ``lag`` is the integer lag of the largest ``|corr(signal, reference)|``
    (positive: the signal comes later), ``refined_lag`` that lag moved by a
    parabola through the peak and its neighbours, ``peak`` the correlation
    there and ``normalized_peak`` the peak over ``||signal|| ||reference||``
    (in [-1, 1] for real signals; -1 is an inverted copy).
    """

    lag: int
    refined_lag: float
    peak: int | float | complex
    normalized_peak: float | complex
    max_lag: int | None
    method: str


def _searched_window(
    signal_length: int, reference_length: int, max_lag: int | None
) -> tuple[int, int]:
    """The lowest and highest lag searched: every lag with overlap, within ±max_lag."""
    low, high = -(reference_length - 1), signal_length - 1
    if max_lag is not None:
        if isinstance(max_lag, bool) or not isinstance(max_lag, (int, np.integer)) or max_lag < 0:
            raise ConvcliError(f"the largest lag must be an integer 0 or more, got {max_lag!r}")
        low, high = max(low, -int(max_lag)), min(high, int(max_lag))
    return low, high


def _parabola_offset(before: float, peak: float, after: float) -> float:
    """Where a parabola through three equally spaced points peaks, relative to the middle one
    (0 when they do not bend down)."""
    bend = before - 2 * peak + after
    if not bend < 0:
        return 0.0
    return float(min(0.5, max(-0.5, 0.5 * (before - after) / bend)))


def find_delay(
    signal: object, reference: object, *, max_lag: int | None = None, method: Method = "auto"
) -> Delay:
    """The shift that best aligns a signal with a reference: the lag of their
    cross-correlation's largest magnitude, refined to a fraction of a sample.

    A signal that is the reference delayed by ``d`` samples gives ``lag == d``
    (MATLAB's ``finddelay(reference, signal)``; the peak of ``xcorr(signal,
    reference)``). Only lags within ``±max_lag`` are searched; equal peaks (to a
    relative 1e-9 for floats) go to the lag nearest 0. The correlation takes the engine's fast method for long
    signals, computing only the searched lags.

    >>> delay = find_delay([0, 0, 0, 1, 2, 1, 0], [1, 2, 1, 0, 0, 0, 0])
    >>> delay.lag, delay.refined_lag, delay.peak, delay.normalized_peak
    (3, 3.0, 6, 1.0)
    """
    f, r = as_numeric(signal, "signal"), as_numeric(reference, "reference")
    if f.ndim != 1 or r.ndim != 1:
        raise ConvcliError(f"delay works on 1-D signals; got shapes {f.shape} and {r.shape}")
    for role, values in (("signal", f), ("reference", r)):
        if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
            raise ConvcliError(f"the {role} holds nan or inf; a delay needs finite values")
        if not np.any(values != 0):
            raise ConvcliError(f"the {role} is all zeros: there is nothing to align")
    low, high = _searched_window(f.size, r.size, max_lag)
    # Only the signal cells the searched lags read, padded so output i has lag low + i.
    start, stop = max(low, 0), min(high + r.size, f.size)
    before = max(-low, 0)
    after = high - low + r.size - before - (stop - start)
    options = Options.parse(padding=[(before, after)], method=method)
    result = compute(f[start:stop], r, "correlation", options)
    values = result.values
    magnitudes = np.abs(values)
    largest = magnitudes.max()
    if values.dtype.kind in "fc":  # peaks equal but for rounding (an FFT's) are equal
        largest = largest * (1 - _EQUAL_PEAKS)
    candidates = np.flatnonzero(magnitudes >= largest)
    index = int(min(candidates, key=lambda i: (abs(low + int(i)), low + int(i))))
    peak = values[index]
    peak = peak.item() if isinstance(peak, np.generic) else peak
    offset = 0.0
    if 0 < index < values.size - 1 and peak != 0:  # 0: nothing in the window correlates
        phase = peak / abs(peak)
        before_peak, at_peak, after_peak = (
            float(np.real(complex(values[i]) * np.conj(phase)))
            for i in (index - 1, index, index + 1)
        )
        offset = _parabola_offset(before_peak, at_peak, after_peak)
    norms = float(np.linalg.norm(_as_float(f))) * float(np.linalg.norm(_as_float(r)))
    normalized = complex(peak) / norms if isinstance(peak, complex) else float(peak) / norms
    if not isinstance(normalized, complex):
        normalized = min(1.0, max(-1.0, normalized))
    return Delay(
        lag=low + index,
        refined_lag=low + index + offset,
        peak=peak,
        normalized_peak=normalized,
        max_lag=max_lag,
        method=result.method,
    )
