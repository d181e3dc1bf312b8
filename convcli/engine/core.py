"""The numeric core: N-dimensional convolution and cross-correlation in numpy.

Numbers in, numbers out: nothing here reads files, parses command lines or
draws tables. Both operations slide a kernel over the (padded) signal and take
a dot product at each stop; convolution first flips the kernel along every
axis, correlation instead conjugates it. Everything else (padding, stride,
dilation, method) is the same for the two, so it is planned once, in
:func:`convcli.engine.geometry.plan`, and both share one computation. Only convcli's own
rules live here; :mod:`convcli.api` sends other conventions to :mod:`convcli.analysis`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from convcli.display import Displayed
from convcli.engine.batched import (
    fft_is_cheaper,
    slid_shape,
    slide_batched,
    slide_batched_fft,
)
from convcli.engine.cost import choose_method
from convcli.engine.direct import leave_out_padding, slide_compiled_1d, slide_direct
from convcli.engine.geometry import Geometry, listed_axes, pad_signal, plan
from convcli.engine.memory import LARGE_WORK, reuse_freed_memory
from convcli.engine.numbers import FLOAT64, as_numeric, working_dtype
from convcli.errors import ConvcliError, OptionError
from convcli.options import (
    OPERATIONS,
    ChosenMethod,
    Operation,
    Options,
    Symmetry,
    check_choice,
)

RTOL = 1e-9


@dataclass(frozen=True, eq=False, repr=False)
class Result(Displayed):
    """One operation's output with the geometry and method that produced it.

    ``normalize`` names the scaling applied to the sums (see :mod:`convcli.analysis.xcorr`),
    ``notes`` what a reader should know about the values (e.g. flat windows).
    """

    operation: Operation
    values: np.ndarray
    geometry: Geometry
    method: ChosenMethod
    normalize: str = "none"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Comparison(Displayed):
    """Convolution and correlation of one signal with one kernel, and how they relate.

    ``equal`` and ``opposite`` mark, per output position, where the two results
    are equal and where they are negatives of each other (exactly for integers,
    to a tight relative tolerance for floats). ``kernel_symmetry`` is the
    kernel's own verdict, which decides the relation for every possible signal.
    """

    signal: np.ndarray
    kernel: np.ndarray
    flipped_kernel: np.ndarray
    convolution: np.ndarray
    correlation: np.ndarray
    kernel_symmetry: Symmetry
    equal: np.ndarray
    opposite: np.ndarray
    geometry: Geometry
    method: ChosenMethod
    normalize: str = "none"
    notes: tuple[str, ...] = ()

    @property
    def identical(self) -> bool:
        """Whether convolution equals correlation at every position."""
        return bool(self.equal.all())

    @property
    def negated(self) -> bool:
        """Whether convolution equals minus correlation at every position."""
        return bool(self.opposite.all())

    @property
    def differing(self) -> int:
        """How many positions have convolution != correlation."""
        return int(self.equal.size - np.count_nonzero(self.equal))


def _slide_fft(padded: np.ndarray, weights: np.ndarray, geometry: Geometry) -> np.ndarray:
    """The explicit ``fft`` method: FFT sums, exact for integers and nan/inf kept local."""
    from convcli.engine import fft  # here, not at the top: start-up

    return fft.slide_fft(
        padded, weights, geometry.stride, geometry.dilation, False, fft.zero_pads(geometry)
    )


def _slide_auto_fft(padded: np.ndarray, weights: np.ndarray, geometry: Geometry) -> np.ndarray:
    """``auto``'s FFT: as ``fft``, and outputs the FFT would blur are summed directly."""
    from convcli.engine import fft

    return fft.slide_fft(
        padded, weights, geometry.stride, geometry.dilation, True, fft.zero_pads(geometry)
    )


_SLIDERS: dict[str, Callable[[np.ndarray, np.ndarray, Geometry], np.ndarray]] = {
    "direct": slide_direct,
    "fft": _slide_fft,
}


@dataclass(frozen=True, eq=False)
class Setup:
    """Everything an operation slides: the padded signal, the kernel as slid, the geometry.

    ``weights`` is the kernel flipped along every axis (convolution) or
    conjugated (correlation).
    """

    operation: Operation
    signal: np.ndarray
    kernel: np.ndarray
    padded: np.ndarray
    weights: np.ndarray
    geometry: Geometry

    @property
    def in_signal(self) -> np.ndarray:
        """Marks the padded cells that are real signal cells rather than padding."""
        return pad_signal(np.ones(self.signal.shape, dtype=bool), self.geometry.pads, "zeros")


def oriented_kernel(
    kernel: np.ndarray, operation: Operation, axes: tuple[int, ...] | None = None
) -> np.ndarray:
    """The kernel as it is slid: flipped along every axis it slides along (``axes``, None:
    all; convolution) or conjugated (correlation).

    >>> oriented_kernel(np.array([1, 2, 3]), "convolution")
    array([3, 2, 1])
    >>> oriented_kernel(np.array([[1, 2], [3, 4]]), "convolution", (1,))
    array([[2, 1],
           [4, 3]])
    """
    if operation == "convolution":
        if axes is None:
            return kernel[(slice(None, None, -1),) * kernel.ndim]  # np.flip, without its checks
        return np.flip(kernel, axis=listed_axes(axes, kernel.ndim))
    return np.conj(kernel)


def setup(signal: object, kernel: object, operation: Operation, options: Options) -> Setup:
    """Check the inputs and options, pad the signal and orient the kernel for one operation.

    >>> prepared = setup([2, 1, 3], [1, -1], "convolution", Options(padding=((1, 1),)))
    >>> prepared.padded, prepared.weights, prepared.in_signal
    (array([0, 2, 1, 3, 0]), array([-1,  1]), array([False,  True,  True,  True, False]))
    """
    check_choice(operation, OPERATIONS, "operation")
    f = as_numeric(signal, "signal")
    h = as_numeric(kernel, "kernel")
    geometry = plan(f.shape, h.shape, options)
    dtype = working_dtype(f, h, options.pad_value)
    weights = oriented_kernel(h, operation, options.axes)
    padded = pad_signal(
        f.astype(dtype, copy=False), geometry.pads, options.pad_mode, options.pad_value
    )
    return Setup(
        operation=operation,
        signal=f,
        kernel=h,
        padded=padded,
        weights=weights.astype(dtype),
        geometry=geometry,
    )


def compute(
    signal: object, kernel: object, operation: Operation, options: Options = Options()
) -> Result:
    """Convolve or correlate by convcli's rules, keeping the geometry and method used.

    This is the one place both operations run: set up (check, pad, orient the
    kernel), then slide the kernel with the chosen method. A cell of zero padding
    is no term of the sum, so a nan or inf tap over it adds nothing;
    ``options.multiply_padding`` multiplies it instead (0 * inf is nan), as PyTorch
    and TensorFlow do. Constant padding (``pad_mode="constant"``, even of value 0) is
    a term like any other, as numpy.pad's padding is.

    With ``options.axes``, a kernel of one row along the broadcast axes is the N-D sum
    with a kernel of size 1 there (no padding, stride or dilation along them: each
    output row is its signal row's sum, exactly); a kernel whose rows differ slides
    each row over its own signal row, one vectorised multiply-add per tap.

    >>> compute([2, 1, 3, 5, 4], [1, -1], "correlation", Options(padding="same")).values
    array([ 1, -2, -2,  1,  4])
    """
    if options.convention != "convcli":
        raise OptionError(
            f"engine.core.compute sums by convcli's rules; convention={options.convention!r} "
            "goes through convcli.api.compute"
        )
    prepared = setup(signal, kernel, operation, options)
    if prepared.padded.size >= LARGE_WORK:
        reuse_freed_memory()
    geometry = prepared.geometry
    kind = prepared.padded.dtype.kind
    leaves_out = (
        not options.multiply_padding
        and options.pad_mode == "zeros"
        and kind in "fc"
        and any(map(any, geometry.pads))
    )
    method = options.method
    if geometry.batch_axes:  # rows summed apart, in pieces that stay in cache
        return _rows_differ(prepared, method, leaves_out)
    chosen: ChosenMethod = (
        choose_method(geometry, prepared.kernel.shape, kind) if method == "auto" else method
    )
    if kind == "O":
        chosen = "direct"  # Python ints stay exact only in the direct sum
    slide = _slide_auto_fft if method == "auto" and chosen == "fft" else _SLIDERS[chosen]
    values = slide(prepared.padded, prepared.weights, geometry)
    if leaves_out:
        box = tuple(
            (before, before + n) for (before, _), n in zip(geometry.pads, prepared.signal.shape)
        )
        leave_out_padding(values, prepared.padded, prepared.weights, geometry, box)
    return Result(operation, values, geometry, chosen)


def _rows_differ(prepared: Setup, method: str, leaves_out: bool) -> Result:
    """compute's sums along listed axes (the kernel's rows may differ): by FFT
    along the listed axes where ``method`` is ``fft``, or ``auto`` and the cost model
    prices it lower, and the inputs are finite floats; else directly."""
    geometry, kind = prepared.geometry, prepared.padded.dtype.kind
    values = None
    if method != "direct" and kind in "fc":
        slid = slid_shape(prepared.kernel.shape, geometry)
        if method == "fft" or fft_is_cheaper(geometry, slid, kind):
            guard = method == "auto"
            values = slide_batched_fft(prepared.padded, prepared.weights, geometry, guard)
    if values is not None:
        return Result(prepared.operation, values, geometry, "fft")
    nonfinite = leaves_out and not np.isfinite(prepared.weights).all()
    real = prepared.in_signal if nonfinite else None
    values = slide_batched(prepared.padded, prepared.weights, geometry, real)
    return Result(prepared.operation, values, geometry, "direct")


#: ``auto`` sums a 1-D float64 kernel of up to this many taps directly at every signal
#: length (the cost model never prices the FFT lower for it; tests check that), so such
#: a request with default options skips the general set-up, which on short signals
#: costs several times the sum itself.
PLAIN_TAPS = 8


def plain_sum(signal: object, kernel: object, operation: Operation) -> np.ndarray | None:
    """The operation with default options by the shortest route where the inputs allow
    it: a valid 1-D sum of float64 arrays and a kernel of at most PLAIN_TAPS taps. The
    values are :func:`compute`'s bit for bit (the same kernel orientation and the same
    compiled sum, without the checks and the bookkeeping); None for other inputs.

    >>> plain_sum(np.array([2.0, 1.0, 3.0]), np.array([1.0, -1.0]), "convolution")
    array([-1.,  2.])
    """
    if not (
        type(signal) is np.ndarray
        and type(kernel) is np.ndarray
        and signal.dtype == FLOAT64
        and kernel.dtype == FLOAT64
        and signal.ndim == kernel.ndim == 1
        and 0 < kernel.size <= min(PLAIN_TAPS, signal.size)
    ):
        return None
    weights = oriented_kernel(kernel, operation)
    if signal.size < LARGE_WORK:  # far from needing pieces: slide_compiled_1d's one call
        return np.convolve(signal, weights[::-1], "valid")
    reuse_freed_memory()
    return slide_compiled_1d(signal, weights, 1, 1)


def _kernels_match(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two kernels are equal: exactly for integers; for floats to a relative 1e-9,
    with rounding noise near zero allowed up to 16 eps of the kernel's largest value."""
    if a.dtype.kind in "iO":
        return bool(np.all(a == b))
    finite = np.abs(a[np.isfinite(a)])
    noise = 16 * np.finfo(np.float64).eps * (float(finite.max()) if finite.size else 0.0)
    return bool(np.all(np.isclose(a, b, rtol=RTOL, atol=noise, equal_nan=True)))


def agree(a: np.ndarray, b: np.ndarray, magnitude: np.ndarray | None) -> np.ndarray:
    """Per-position equality of two results: exactly for integers; for floats within 1e-9
    of the position's ``sum_k |p| |h|``, the scale of that output's rounding error."""
    if magnitude is None:
        return np.asarray(a == b, dtype=bool)
    with np.errstate(invalid="ignore"):
        return (a == b) | (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= RTOL * magnitude)


def kernel_symmetry(
    kernel: object, axes: tuple[int, ...] | None = None, conjugate: bool = True
) -> Symmetry:
    """Whether convolution and correlation with this kernel agree for every signal.

    ``symmetric`` when ``flip(h) == conj(h)`` (conv == corr), ``antisymmetric``
    when ``flip(h) == -conj(h)`` (conv == -corr), otherwise ``none``; ``flip``
    reverses the axes the kernel slides along (``axes``; None: every axis). With
    ``conjugate=False``, against ``h`` itself: a CNN layer, which multiplies its
    weights as they are, against the same layer as a convolution.

    >>> kernel_symmetry([1, -1]), kernel_symmetry([-1, 2, -1]), kernel_symmetry([1, 2])
    ('antisymmetric', 'symmetric', 'none')
    >>> kernel_symmetry([[1, 1], [2, 2]], axes=(1,))
    'symmetric'
    >>> kernel_symmetry([1j, 1j]), kernel_symmetry([1j, 1j], conjugate=False)
    ('antisymmetric', 'symmetric')
    """
    h = as_numeric(kernel, "kernel")
    flipped = np.flip(h, axis=listed_axes(axes, h.ndim))
    conjugated = np.conj(h) if conjugate else h
    if _kernels_match(flipped, conjugated):
        return "symmetric"
    if _kernels_match(flipped, -conjugated):
        return "antisymmetric"
    return "none"


def compare(signal: object, kernel: object, options: Options = Options()) -> Comparison:
    """Convolve and correlate by convcli's rules with the same options, and say how the
    two results relate.

    >>> result = compare([2, 1, 3, 5, 4], [1, -1])
    >>> result.convolution, result.correlation
    (array([-1,  2,  2, -1]), array([ 1, -2, -2,  1]))
    >>> result.kernel_symmetry, result.identical, result.negated
    ('antisymmetric', False, True)
    """
    f = as_numeric(signal, "signal")
    padding = abs(options.pad_value) if options.pad_mode == "constant" else 0
    largest = max(float(np.max(np.abs(f), initial=0)), float(padding))
    return compare_with(
        f, kernel, lambda f, h, operation: compute(f, h, operation, options), options.axes, largest
    )


def compare_with(
    signal: object,
    kernel: object,
    run: Callable[[np.ndarray, np.ndarray, Operation], Result],
    axes: tuple[int, ...] | None = None,
    largest: float | None = None,
) -> Comparison:
    """The comparison of the two results ``run(f, h, operation)`` gives, whatever rules it
    follows; float verdicts are scaled by the same run on ``|f|`` and ``|h|``. ``axes``
    are the axes the kernel slides along (None: every axis), which its flip reverses.
    ``largest``, the largest magnitude of any value the sums slide over (the signal's and
    the constant padding's), bounds that scale: the run on ``|f|`` and ``|h|`` is made
    only if some position is too close to call without it.

    >>> compare_with([2, 1], [1], lambda f, h, op: compute(f, h, op)).identical
    True
    """
    f, h = as_numeric(signal, "signal"), as_numeric(kernel, "kernel")
    convolved = run(f, h, "convolution")
    convolution = convolved.values
    correlation = run(f, h, "correlation").values
    if convolution.shape != correlation.shape:
        raise ConvcliError(
            f"the convolution has shape {convolution.shape} and the correlation "
            f"{correlation.shape}, so they cannot be compared position by position; "
            "call convolve and correlate separately"
        )
    magnitude = None
    bound = None if largest is None else RTOL * largest * float(np.sum(np.abs(h)))
    if convolution.dtype.kind in "fc" and (
        bound is None or _close_calls(convolution, correlation, bound)
    ):
        f_size, h_size = np.abs(f), np.abs(h)
        magnitude = np.fmax(
            run(f_size, h_size, "convolution").values, run(f_size, h_size, "correlation").values
        )
    return Comparison(
        signal=f,
        kernel=h,
        flipped_kernel=np.flip(h, axis=listed_axes(axes, h.ndim)),
        convolution=convolution,
        correlation=correlation,
        kernel_symmetry=kernel_symmetry(h, axes),
        equal=agree(convolution, correlation, magnitude),
        opposite=agree(convolution, -correlation, magnitude),
        geometry=convolved.geometry,
        method=convolved.method,
    )


def _close_calls(convolution: np.ndarray, correlation: np.ndarray, bound: float) -> bool:
    """Whether some position of the convolution neither equals the correlation (or its
    negation) exactly nor differs from it by more than ``bound``, the largest tolerance
    any position can have: only there does agree() need each position's own scale."""
    a, b = convolution.reshape(-1), correlation.reshape(-1)
    with np.errstate(invalid="ignore", over="ignore"):
        for start in range(0, a.size, _CLOSE_BLOCK):  # pieces that stay in cache
            x, y = a[start : start + _CLOSE_BLOCK], b[start : start + _CLOSE_BLOCK]
            for gap in (np.abs(x - y), np.abs(x + y)):  # from the correlation and its negation
                if np.any((gap != 0) & ~(gap > bound)):  # nan (and inf - inf) is close too
                    return True
    return False


#: Values _close_calls looks at a time.
_CLOSE_BLOCK = 1 << 15


def count_nonfinite(values: np.ndarray) -> int:
    """How many values are nan or infinite (always 0 for integers).

    >>> count_nonfinite(np.array([1.0, np.nan, np.inf]))
    2
    """
    if values.dtype.kind not in "fc":
        return 0
    return int(values.size - np.count_nonzero(np.isfinite(values)))
