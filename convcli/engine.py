"""The numeric core: N-dimensional convolution and cross-correlation in numpy.

Numbers in, numbers out: nothing here reads files, parses command lines or
draws tables. Both operations slide a kernel over the (padded) signal and take
a dot product at each stop; convolution first flips the kernel along every
axis, correlation instead conjugates it. Everything else (padding, stride,
dilation, method) is the same for the two, so it is planned once, in
:func:`plan`, and both share one computation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from convcli.errors import ConvcliError
from convcli.memory import LARGE_WORK, reuse_freed_memory

__all__ = [
    "CONVENTIONS",
    "METHODS",
    "NAMED_PADDINGS",
    "NORMALIZATIONS",
    "PAD_MODES",
    "Comparison",
    "Geometry",
    "Result",
    "Setup",
    "as_numeric",
    "check_choice",
    "compare",
    "compare_with",
    "compute",
    "convolve",
    "correlate",
    "count_nonfinite",
    "estimated_seconds",
    "kernel_symmetry",
    "leave_out_padding",
    "memory_estimate",
    "oriented_kernel",
    "pad_signal",
    "parse_padding",
    "parse_per_axis",
    "plan",
    "setup",
    "slide_direct",
    "working_dtype",
]

Symmetry = Literal["symmetric", "antisymmetric", "none"]
Operation = Literal["convolution", "correlation"]
Pads = tuple[tuple[int, int], ...]
PaddingSpec = str | int | Sequence[int | Sequence[int]]
PerAxis = int | str | Sequence[int]

NAMED_PADDINGS = ("valid", "same", "full")
#: convcli's pad modes and the numpy.pad mode that implements each.
PAD_MODES: dict[str, str] = {
    "zeros": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}
METHODS = ("auto", "direct", "fft")
#: Scalings of correlation outputs (convcli.xcorr): MATLAB xcorr's and zero-normalized.
NORMALIZATIONS = ("none", "biased", "unbiased", "coeff", "zncc")
OPERATIONS = ("convolution", "correlation")
#: Whose rules a result follows: convcli's own, or a library's (see convcli/conventions.py).
CONVENTIONS = ("convcli", "numpy", "scipy", "scipy2d", "matlab", "torch", "tensorflow")

_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)
_RTOL = 1e-9
_FLOAT64 = np.dtype(np.float64)
_MACHINE_FLOATS = (_FLOAT64, np.dtype(np.complex128))


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


@dataclass(frozen=True, eq=False)
class Result:
    """One operation's output with the geometry and method that produced it.

    ``normalize`` names the scaling applied to the sums (see :mod:`convcli.xcorr`),
    ``notes`` what a reader should know about the values (e.g. flat windows).
    """

    operation: Operation
    values: np.ndarray
    geometry: Geometry
    method: str
    normalize: str = "none"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Comparison:
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
    method: str
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


def parse_padding(spec: PaddingSpec) -> str | Pads:
    """Normalise a padding spec to a name or to (before, after) pairs.

    Accepts what ``--padding`` accepts: ``"valid"``, ``"same"``, ``"full"``, an
    int for every side, ``"1:2"`` for before:after, and a comma between axes
    (``"1,2"``, ``"0:1,1:0"``); also an int or a sequence of ints or pairs. One
    pair applies to every axis; otherwise there is one pair per axis.

    >>> parse_padding("same")
    'same'
    >>> parse_padding("0:1,2")
    ((0, 1), (2, 2))
    """
    if isinstance(spec, str):
        text = spec.strip().lower()
        if text in NAMED_PADDINGS:
            return text
        if not re.fullmatch(r"\s*-?\d+\s*(:\s*-?\d+\s*)?(,\s*-?\d+\s*(:\s*-?\d+\s*)?)*", text):
            raise ConvcliError(
                f"padding {spec!r} is not valid, same, full, an integer, "
                "BEFORE:AFTER, or one of those per axis separated by commas"
            )
        axes = [tuple(int(n) for n in axis.split(":")) for axis in text.split(",")]
    elif isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        axes = [(int(spec),)]
    elif isinstance(spec, Sequence) and len(spec) > 0:
        axes = [_as_pad_pair(axis) for axis in spec]
    else:
        raise ConvcliError(f"padding {spec!r} is not a name, an integer or a sequence of them")
    pairs = tuple((axis[0], axis[-1]) for axis in axes)
    if any(n < 0 for pair in pairs for n in pair):
        raise ConvcliError(
            f"padding {spec!r} is negative; padding adds cells, it cannot remove them"
        )
    return pairs


def _as_pad_pair(axis: object) -> tuple[int, ...]:
    """One axis of a padding sequence: an int, or a (before, after) pair."""
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return (int(axis),)
    if (
        isinstance(axis, Sequence)
        and len(axis) == 2
        and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in axis)
    ):
        return (int(axis[0]), int(axis[1]))
    raise ConvcliError(f"padding entry {axis!r} is not an integer or a (before, after) pair")


def parse_per_axis(value: PerAxis, name: str) -> tuple[int, ...]:
    """Normalise a stride or dilation (an int, ``"2,1"``, or a sequence) to positive ints.

    >>> parse_per_axis("2,1", "stride")
    (2, 1)
    """
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")]
        if not all(re.fullmatch(r"[+-]?\d+", part) for part in parts):
            raise ConvcliError(
                f"{name} {value!r} is not an integer or integers separated by commas"
            )
        numbers = tuple(int(part) for part in parts)
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        numbers = (int(value),)
    elif (
        isinstance(value, Sequence)
        and len(value) > 0
        and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in value)
    ):
        numbers = tuple(int(n) for n in value)
    else:
        raise ConvcliError(f"{name} {value!r} is not an integer or a sequence of integers")
    if any(n < 1 for n in numbers):
        raise ConvcliError(f"{name} must be at least 1, got {value!r}")
    return numbers


def _per_axis(values: tuple, ndim: int, name: str) -> tuple:
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
    strides = _per_axis(parse_per_axis(stride, "stride"), ndim, "stride")
    dilations = _per_axis(parse_per_axis(dilation, "dilation"), ndim, "dilation")
    spans = tuple(d * (k - 1) + 1 for d, k in zip(dilations, kernel_shape))
    parsed = parse_padding(padding)
    if parsed == "valid":
        pads: Pads = ((0, 0),) * ndim
    elif parsed == "full":
        pads = tuple((span - 1, span - 1) for span in spans)
    elif parsed == "same":
        pads = tuple(_same_pads(n, span, s) for n, span, s in zip(signal_shape, spans, strides))
    else:
        pads = _per_axis(parsed, ndim, "padding")
    padded_shape = tuple(n + before + after for n, (before, after) in zip(signal_shape, pads))
    too_big = [axis for axis in range(ndim) if spans[axis] > padded_shape[axis]]
    if too_big:
        axis = too_big[0]
        raise ConvcliError(
            f"the kernel spans {spans[axis]} cells on axis {axis} but the padded signal has only "
            f"{padded_shape[axis]}; use a larger padding (e.g. --padding full) or a smaller kernel"
        )
    output_shape = tuple((p - span) // s + 1 for p, span, s in zip(padded_shape, spans, strides))
    name = parsed if isinstance(parsed, str) else "explicit"
    return Geometry(name, pads, strides, dilations, pad_mode, padded_shape, output_shape)


#: plan() for options given as plain ints and strings, remembered: on small arrays
#: checking the options costs more than the sum itself.
_remembered_plan = lru_cache(maxsize=256, typed=True)(plan)


def _planned(
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


def check_choice(value: str, choices: Sequence[str], name: str) -> None:
    """Refuse a value that is not one of the choices, naming them.

    >>> check_choice("fft", METHODS, "method")
    """
    if value not in choices:
        raise ConvcliError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


def _same_pads(length: int, span: int, stride: int) -> tuple[int, int]:
    """Padding that gives ceil(length / stride) outputs, the smaller half before."""
    outputs = -(-length // stride)
    total = max((outputs - 1) * stride + span - length, 0)
    return (total // 2, total - total // 2)


def as_numeric(values: object, role: str) -> np.ndarray:
    """The values as int64, float64 or complex128, with a clear error for anything else.

    Integers that do not fit in int64 (or lists whose Python ints numpy would
    turn into floats) become an object array of Python ints, which stays exact.
    """
    if (
        type(values) is np.ndarray
        and values.dtype in _MACHINE_FLOATS
        and values.ndim
        and values.size
    ):
        return values  # the common case of a library call, with no conversion to do
    try:
        array = np.asarray(values)
    except (ValueError, TypeError, OverflowError):
        raise ConvcliError(f"the {role} must be a rectangular array of numbers") from None
    if not isinstance(values, np.ndarray) and array.dtype.kind in "fuO":
        array = _python_ints(values, array)
    if array.ndim == 0:
        raise ConvcliError(f"the {role} must have at least one dimension, got a single number")
    if array.size == 0:
        raise ConvcliError(f"the {role} is empty (shape {array.shape})")
    kind = array.dtype.kind
    if kind in "buiO":
        if kind == "O" and not all(isinstance(v, (int, np.integer)) for v in array.flat):
            raise ConvcliError(f"the {role} must be numbers, not {array.dtype} values")
        return _exact_integers(array)
    if kind not in "fc":
        raise ConvcliError(f"the {role} must be numbers, not {array.dtype} values")
    return array.astype(np.complex128 if kind == "c" else np.float64, copy=False)


def _python_ints(values: object, array: np.ndarray) -> np.ndarray:
    """Nested Python ints as an object array, where numpy made floats or uint64 of them."""
    try:
        cells = np.array(values, dtype=object)
    except (ValueError, TypeError):
        return array
    if cells.shape == array.shape and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, np.floating) for v in cells.flat
    ):
        return cells
    return array


def _exact_integers(array: np.ndarray) -> np.ndarray:
    """Integers (of any dtype) as int64 where they fit, else as exact Python ints."""
    low, high = int(array.min()), int(array.max())
    if low >= _INT64_MIN and high <= _INT64_MAX:
        return array.astype(np.int64, copy=False)
    return np.array([int(v) for v in array.flat], dtype=object).reshape(array.shape)


def working_dtype(signal: np.ndarray, kernel: np.ndarray) -> np.dtype | type:
    """The dtype the sum is computed in: exact integers where both inputs are integers.

    int64 unless the largest possible output, max|f| * sum|h|, might not fit,
    in which case Python's unbounded ints (an object array) keep it exact.
    """
    kinds = {signal.dtype.kind, kernel.dtype.kind}
    if "c" in kinds:
        return np.complex128
    if "f" in kinds:
        return np.float64
    if "O" in kinds:  # values past int64 already; a sum of them may be anything
        return object
    signal_max = max(abs(int(signal.max())), abs(int(signal.min())))
    kernel_sum = float(np.abs(kernel.astype(np.float64)).sum())
    if signal_max * kernel_sum < 2.0**62:
        return np.int64
    exact_sum = sum(abs(int(v)) for v in kernel.flat)
    return np.int64 if signal_max * exact_sum <= _INT64_MAX else object


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


def slide_direct(padded: np.ndarray, weights: np.ndarray, geometry: Geometry) -> np.ndarray:
    """Sum of weights[k] * padded[i * stride + k * dilation] over k, for every output i.

    Only the outputs the stride keeps are computed. One-dimensional sums of
    machine numbers run in numpy's compiled ``convolve`` (split into phases for
    a stride or a dilation); the rest take one vectorised multiply-add per
    kernel cell.
    """
    if padded.ndim == 1 and padded.dtype != object and _compiled_1d(geometry):
        return _slide_compiled_1d(padded, weights, geometry.stride[0], geometry.dilation[0])
    out = np.zeros(geometry.output_shape, dtype=padded.dtype)
    # pieces of output rows, each pass over one priced at most PIECE_NS: see _convolve_valid
    per_row = math.prod(geometry.output_shape[1:]) * _NS_PER_VECTOR_MAC[padded.dtype.kind]
    rows = max(1, int(PIECE_NS / per_row))
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf is nan, an overflow inf
        for first in range(0, len(out), rows):
            piece = out[first : first + rows]
            origins = (first * geometry.stride[0],) + (0,) * (out.ndim - 1)
            reaches = tuple((n - 1) * s + 1 for n, s in zip(piece.shape, geometry.stride))
            for cell in np.ndindex(weights.shape):
                window = tuple(
                    slice(o + k * d, o + k * d + reach, s)
                    for o, k, d, reach, s in zip(
                        origins, cell, geometry.dilation, reaches, geometry.stride
                    )
                )
                piece += weights[cell] * padded[window]
    return out


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
        interior.append(slice(first, max((stop - d * (k - 1) - 1) // s + 1, first)))
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


def _compiled_1d(geometry: Geometry) -> bool:
    """Whether a 1-D direct sum can run in numpy.convolve: a stride or a dilation, not both."""
    return geometry.stride[0] == 1 or geometry.dilation[0] == 1


def _slide_compiled_1d(
    padded: np.ndarray, weights: np.ndarray, stride: int, dilation: int
) -> np.ndarray:
    """The 1-D direct sum by numpy.convolve, phase by phase.

    A dilation ``d`` splits the outputs into ``d`` interleaved plain sums over
    ``padded[r::d]``; a stride ``s`` splits the kernel and the signal into
    ``s`` phases whose plain sums add up to the strided outputs.

    >>> _slide_compiled_1d(np.arange(8), np.array([1, 10]), 2, 1)
    array([10, 32, 54, 76])
    """
    if stride == dilation == 1:  # the common case, without the phase bookkeeping
        if padded.size * (weights.size + 2) <= _ONE_PIECE_MACS:  # one piece (see below)
            return np.convolve(padded, weights[::-1], "valid")  # numpy.convolve never warns
        return _convolve_valid(padded, weights[::-1])
    span = dilation * (len(weights) - 1) + 1
    outputs = (len(padded) - span) // stride + 1
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


#: Sums of up to this many multiply-adds (times at least 3 taps' worth per output) take
#: under 0.11 s at the slowest measured rate (complex, 3 taps: 6.3 ns each): one call.
_ONE_PIECE_MACS = 1 << 24
#: A longer valid sum runs in pieces the cost model prices at this many nanoseconds, so
#: that Ctrl-C (which Python sees only between numpy calls) stops it within a second.
PIECE_NS = 0.1e9
#: A sum priced at up to this runs in one call all the same: Ctrl-C waits at most that
#: long, and copying pieces into the result would cost 5-7% of a sum of 31 taps.
ONE_CALL_NS = 0.5e9
#: Taps per numpy.convolve call: numpy takes each window's dot product by BLAS, and
#: OpenBLAS splits one of more than 10**4 values over threads, which on a busy or pinned
#: machine fight for the cores (a sum of 10**5 taps took 5 to 100 times as long).
BLAS_ROW = 8192


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
    step = max(1, int(PIECE_NS / _compiled_cost(len(taps), kind)))
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


def _slide_fft(padded: np.ndarray, weights: np.ndarray, geometry: Geometry) -> np.ndarray:
    """The explicit ``fft`` method: FFT sums, exact for integers and nan/inf kept local."""
    from convcli import fft  # here, not at the top: start-up

    return fft.slide_fft(padded, weights, geometry.stride, geometry.dilation, guard=False)


def _slide_auto_fft(padded: np.ndarray, weights: np.ndarray, geometry: Geometry) -> np.ndarray:
    """``auto``'s FFT: as ``fft``, and outputs the FFT would blur are summed directly."""
    from convcli import fft

    return fft.slide_fft(padded, weights, geometry.stride, geometry.dilation, guard=True)


_SLIDERS: dict[str, Callable[[np.ndarray, np.ndarray, Geometry], np.ndarray]] = {
    "direct": slide_direct,
    "fft": _slide_fft,
}

#: Measured costs in nanoseconds (``python benchmarks/calibrate.py``): numpy.convolve per
#: output at the kernel lengths COMPILED_TAPS, one vectorised pass per output and kernel
#: cell, and per unit of FFT work: ``fft.transform_work`` for 1-D blocks, ``n (log2 n + 4)``
#: for N-D transforms. Each the least of three or four runs on the machine of the README's
#: benchmark (AMD EPYC, 2 cores, 2026-12-02).
COMPILED_TAPS = (3, 8, 11, 12, 15, 16, 24, 31, 32, 47, 48, 63, 64, 128, 256, 512)
# fmt: off
_NS_COMPILED_OUTPUT = {
    "i": (2.249, 4.381, 5.985, 6.437, 8.088, 8.485, 12.728, 16.774, 16.977, 25.171, 25.592,
          34.121, 34.597, 70.41, 140.402, 283.995),
    "f": (0.496, 1.389, 2.739, 8.022, 8.94, 6.595, 8.692, 11.774, 7.866, 14.795, 10.655,
          14.985, 10.764, 16.638, 28.033, 62.156),
    "c": (18.931, 20.981, 21.233, 21.539, 22.414, 21.175, 21.716, 41.277, 22.829, 47.38, 25.533,
          50.663, 38.459, 54.062, 75.006, 119.957),
}
# fmt: on
#: A stride or a dilation splits the 1-D sum into phases: strided copies of the signal in,
#: strided writes out. What that adds per output at these splits (interpolated between).
PHASE_SPLITS = (2, 8)
_NS_PHASE_EXTRA = {"i": (0.531, 5.04), "f": (1.79, 4.166), "c": (3.92, 9.277)}
_NS_PER_VECTOR_MAC = {"i": 1.09, "f": 1.03, "c": 2.716, "O": 200.0}  # "O": timed by hand
_NS_PER_FFT_UNIT_1D = {"i": 0.356, "f": 0.334, "c": 0.866}
_NS_PER_FFT_UNIT_ND = {"i": 1.15, "f": 0.809, "c": 1.987}
#: What an FFT sum costs besides its transforms' work: the set-up, the calls into numpy
#: and the guard's checks (measured on a tiny signal). It decides short signals.
_NS_FFT_CALL = {"i": 50876.0, "f": 49293.0, "c": 53319.0}


def _compiled_cost(taps: int, kind: str) -> float:
    """Nanoseconds per output of numpy.convolve with ``taps`` taps, interpolated from the
    measured table and extended along its last slope."""
    costs = _NS_COMPILED_OUTPUT[kind]
    if taps <= COMPILED_TAPS[-1]:
        return float(np.interp(taps, COMPILED_TAPS, costs))
    slope = (costs[-1] - costs[-2]) / (COMPILED_TAPS[-1] - COMPILED_TAPS[-2])
    return costs[-1] + slope * (taps - COMPILED_TAPS[-1])


def _direct_cost(geometry: Geometry, kernel_shape: tuple[int, ...], kind: str) -> float:
    """Nanoseconds per kept output of the direct sum for this geometry."""
    taps = math.prod(kernel_shape)
    if kind != "O" and len(kernel_shape) == 1 and _compiled_1d(geometry):
        stride, dilation = geometry.stride[0], geometry.dilation[0]
        if stride == dilation == 1:
            return _compiled_cost(taps, kind)
        # A stride splits the kernel and the signal into ``stride`` phases, each summed for
        # every kept output; a dilation splits the outputs into ``dilation`` phases.
        phases = max(stride, dilation)
        split = float(np.interp(phases, PHASE_SPLITS, _NS_PHASE_EXTRA[kind]))
        return stride * (_compiled_cost(-(-taps // stride), kind) + split)
    return taps * _NS_PER_VECTOR_MAC[kind]


#: Sums this small take microseconds directly; an FFT costs more just to plan.
_ALWAYS_DIRECT_MACS = 4096


def choose_method(geometry: Geometry, kernel_shape: tuple[int, ...], kind: str = "f") -> str:
    """The method ``auto`` picks: the cheaper of ``direct`` and ``fft`` by a measured cost model.

    ``kind`` is the working dtype's kind (``i``, ``f``, ``c``; ``O`` for
    Python ints, which only the direct sum keeps exact). For a 1-D signal
    longer than ``fft.WHOLE_BLOCKS`` FFT blocks the choice depends on the kernel and options
    only, so a streamed signal gets the same method as a whole one.

    >>> choose_method(plan((5,), (2,)), (2,))
    'direct'
    >>> choose_method(plan((10**6,), (10**4,)), (10**4,))
    'fft'
    """
    return _cheaper_method(geometry, tuple(kernel_shape), kind)


@lru_cache(maxsize=256)
def _cheaper_method(geometry: Geometry, kernel_shape: tuple[int, ...], kind: str) -> str:
    """choose_method's answer, remembered: a script calling convolve in a loop on inputs of
    one shape pays for the cost model once (it costs about a fifth of a short sum)."""
    taps = math.prod(kernel_shape)
    if kind == "O" or taps * math.prod(geometry.output_shape) < _ALWAYS_DIRECT_MACS:
        return "direct"
    from convcli import fft

    direct_per_output = _direct_cost(geometry, kernel_shape, kind)
    spans = tuple(d * (k - 1) + 1 for d, k in zip(geometry.dilation, kernel_shape))
    if len(spans) == 1 and fft.is_long(spans[0], geometry.padded_shape[0]):
        # per kept output, the same at every length (a stream agrees)
        blocks = fft.overlap_save_plan(spans[0])
        units = fft.transform_work(blocks.length) / blocks.step * geometry.stride[0]
        return "fft" if units * _NS_PER_FFT_UNIT_1D[kind] < direct_per_output else "direct"
    fft_cost = _fft_cost(geometry, spans, kind)
    return "fft" if fft_cost < math.prod(geometry.output_shape) * direct_per_output else "direct"


def _fft_cost(geometry: Geometry, spans: tuple[int, ...], kind: str) -> float:
    """Nanoseconds of an FFT sum: its transforms' work and an FFT call's fixed cost."""
    from convcli import fft

    if len(spans) == 1:
        padded, span = geometry.padded_shape[0], spans[0]
        blocks = fft.block_plan(span, padded)
        work = fft.plan_work(blocks, padded - span + 1) * _NS_PER_FFT_UNIT_1D[kind]
    else:
        size = math.prod(fft.fast_length(p) for p in geometry.padded_shape)
        work = size * (math.log2(size) + 4) * _NS_PER_FFT_UNIT_ND[kind]
    return work + _NS_FFT_CALL[kind]


def estimated_seconds(
    geometry: Geometry, kernel_shape: tuple[int, ...], kind: str, method: str
) -> float:
    """Seconds the cost model expects one sum by ``method`` to take (``auto``: by the
    method it picks), for a warning before a long run.

    >>> round(estimated_seconds(plan((10**7,), (10**6,)), (10**6,), "f", "direct"))
    1200
    """
    chosen = choose_method(geometry, kernel_shape, kind) if method == "auto" else method
    if chosen == "direct" or kind == "O":
        direct = _direct_cost(geometry, kernel_shape, kind)
        return math.prod(geometry.output_shape) * direct * 1e-9
    spans = tuple(d * (k - 1) + 1 for d, k in zip(geometry.dilation, kernel_shape))
    return _fft_cost(geometry, spans, kind) * 1e-9


def memory_estimate(
    signal: np.ndarray,
    kernel: np.ndarray,
    geometry: Geometry,
    method: str = "auto",
    comparing: bool = False,
) -> int:
    """Bytes that :func:`compute` (or :func:`compare`, when ``comparing``) may hold at its
    peak besides the inputs: the padded signal, the results and the method's work arrays.

    An estimate made without allocating, so that a caller can refuse work larger
    than the machine before starting it. ``signal`` and ``kernel`` are as
    :func:`as_numeric` returns them.

    >>> memory_estimate(np.ones(1000), np.ones(3), plan((1000,), (3,)), "direct")
    1083723
    """
    dtype = np.dtype(working_dtype(signal, kernel))
    kind = dtype.kind
    item = dtype.itemsize
    if kind == "O":  # a pointer and a Python int object of the result's size
        kernel_sum = sum(abs(int(v)) for v in kernel.flat)
        bits = _largest_bits(signal) + kernel_sum.bit_length()
        item = 8 + 28 + 4 * -(-bits // 30)
    padded = math.prod(geometry.padded_shape)
    outputs = math.prod(geometry.output_shape)
    chosen = choose_method(geometry, kernel.shape, kind) if method == "auto" else method
    total = padded * item + outputs * item  # the padded signal and the result
    if chosen == "direct" or kind == "O":
        total += 2 * outputs * item  # a product added into the result, or a phase's copy and sums
    else:
        from convcli import fft

        spans = [d * (k - 1) + 1 for d, k in zip(geometry.dilation, kernel.shape)]
        sums = math.prod(p - span + 1 for p, span in zip(geometry.padded_shape, spans))
        value = 16 if kind == "c" else 8
        total += (padded + sums) * (value + 1)  # float copy and finite mask; sums and suspects
        if kind == "i":
            total += sums * 8  # the sums rounded, before they become integers
        if len(spans) == 1:  # transforms of a few blocks at a time
            total += 6 * 16 * max(fft.overlap_save_plan(spans[0]).length, 1 << 18)
        else:  # spectra of the signal, the kernel and their product, and the inverse
            total += 4 * value * math.prod(fft.fast_length(p) for p in geometry.padded_shape)
    if comparing:  # the other result, two magnitudes for floats, and the equality masks
        total += outputs * (item + 2) + (3 * outputs * 8 + signal.size * 8 if kind in "fc" else 0)
    return total + total // 10 + (1 << 20)  # and numpy's and Python's own bookkeeping


def _largest_bits(values: np.ndarray) -> int:
    """Bits of the largest magnitude among integers (Python ints in object arrays too)."""
    return max(abs(int(values.max())).bit_length(), abs(int(values.min())).bit_length())


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


def oriented_kernel(kernel: np.ndarray, operation: Operation) -> np.ndarray:
    """The kernel as it is slid: flipped along every axis (convolution) or conjugated
    (correlation).

    >>> oriented_kernel(np.array([1, 2, 3]), "convolution")
    array([3, 2, 1])
    """
    if operation == "convolution":
        return kernel[(slice(None, None, -1),) * kernel.ndim]  # np.flip, without its checks
    return np.conj(kernel)


def setup(
    signal: object,
    kernel: object,
    operation: Operation,
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: str = "zeros",
) -> Setup:
    """Check the inputs and options, pad the signal and orient the kernel for one operation.

    >>> prepared = setup([2, 1, 3], [1, -1], "convolution", padding=1)
    >>> prepared.padded, prepared.weights, prepared.in_signal
    (array([0, 2, 1, 3, 0]), array([-1,  1]), array([False,  True,  True,  True, False]))
    """
    check_choice(operation, OPERATIONS, "operation")
    f = as_numeric(signal, "signal")
    h = as_numeric(kernel, "kernel")
    geometry = _planned(f.shape, h.shape, padding, stride, dilation, pad_mode)
    dtype = working_dtype(f, h)
    weights = oriented_kernel(h, operation)
    return Setup(
        operation=operation,
        signal=f,
        kernel=h,
        padded=pad_signal(f.astype(dtype, copy=False), geometry.pads, pad_mode),
        weights=weights.astype(dtype),
        geometry=geometry,
    )


def compute(
    signal: object,
    kernel: object,
    operation: Operation,
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: str = "zeros",
    method: str = "auto",
    convention: str = "convcli",
    multiply_padding: bool = False,
) -> Result:
    """Convolve or correlate, keeping the geometry and method used with the values.

    This is the one place both operations run: set up (check, pad, orient the
    kernel), then slide the kernel with the chosen method. Another ``convention``
    returns what that library computes for the same request (convcli/conventions.py).
    A cell of zero padding is no term of the sum, so a nan or inf tap over it adds
    nothing; ``multiply_padding`` multiplies it instead (0 * inf is nan), as PyTorch
    and TensorFlow do.

    >>> compute([2, 1, 3, 5, 4], [1, -1], "correlation", padding="same").values
    array([ 1, -2, -2,  1,  4])
    """
    if convention != "convcli":
        from convcli import conventions  # here, not at the top: start-up

        return conventions.compute(
            signal, kernel, convention, operation, padding, stride, dilation, pad_mode, method
        )
    check_choice(method, METHODS, "method")
    prepared = setup(signal, kernel, operation, padding, stride, dilation, pad_mode)
    if prepared.padded.size >= LARGE_WORK:
        reuse_freed_memory()
    geometry = prepared.geometry
    kind = prepared.padded.dtype.kind
    chosen = choose_method(geometry, prepared.kernel.shape, kind) if method == "auto" else method
    if kind == "O":
        chosen = "direct"  # Python ints stay exact only in the direct sum
    slide = _slide_auto_fft if method == "auto" and chosen == "fft" else _SLIDERS[chosen]
    values = slide(prepared.padded, prepared.weights, geometry)
    if (
        not multiply_padding
        and pad_mode == "zeros"
        and kind in "fc"
        and any(map(any, geometry.pads))
    ):
        box = tuple(
            (before, before + n) for (before, _), n in zip(geometry.pads, prepared.signal.shape)
        )
        leave_out_padding(values, prepared.padded, prepared.weights, geometry, box)
    return Result(operation, values, geometry, chosen)


def convolve(
    signal: object,
    kernel: object,
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: str = "zeros",
    method: str = "auto",
    convention: str = "convcli",
) -> np.ndarray:
    """Convolution: slide the kernel, flipped along every axis, over the padded signal.

    ``y[i] = sum_k p[i*stride + k*dilation] * flip(h)[k]``, where ``p`` is the
    signal padded as ``padding`` and ``pad_mode`` say. Equal to
    ``correlate(signal, conj(flip(kernel)))``. Integer inputs give exact
    integers (int64, or Python ints where int64 could overflow). ``convention``
    (``numpy``, ``scipy``, ``matlab``, ``torch``, ...) returns what that library's
    convolution gives for the same request.

    >>> convolve([2, 1, 3, 5, 4], [1, -1])
    array([-1,  2,  2, -1])
    >>> convolve([2, 1, 3, 5, 4], [1, -1], padding="full")
    array([ 2, -1,  2,  2, -1, -4])
    >>> convolve([2, 1, 3, 5, 4], [1, -1], padding="same", convention="numpy")
    array([ 2, -1,  2,  2, -1])
    """
    return _values(
        signal, kernel, "convolution", padding, stride, dilation, pad_mode, method, convention
    )


def correlate(
    signal: object,
    kernel: object,
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: str = "zeros",
    method: str = "auto",
    convention: str = "convcli",
) -> np.ndarray:
    """Cross-correlation: slide the kernel as given (conjugated) over the padded signal.

    ``y[i] = sum_k p[i*stride + k*dilation] * conj(h[k])``: what CNN layers
    call convolution. Complex kernels are conjugated, as numpy, scipy and
    MATLAB do. ``convention`` returns what that library's correlation gives.

    >>> correlate([2, 1, 3, 5, 4], [1, -1])
    array([ 1, -2, -2,  1])
    >>> correlate([[1, 2], [3, 4]], [[1, 0], [0, 1]])
    array([[5]])
    >>> correlate([2, 1, 3], [1, -1], padding="full", convention="matlab")  # xcorr
    array([ 0, -2,  1, -2,  3])
    """
    return _values(
        signal, kernel, "correlation", padding, stride, dilation, pad_mode, method, convention
    )


def _values(
    signal: object,
    kernel: object,
    operation: Operation,
    padding: PaddingSpec,
    stride: PerAxis,
    dilation: PerAxis,
    pad_mode: str,
    method: str,
    convention: str,
) -> np.ndarray:
    """The values of :func:`compute`, by the plain route where the request allows it."""
    plain = _plain_sum(
        signal, kernel, operation, padding, stride, dilation, pad_mode, method, convention
    )
    if plain is not None:
        return plain
    return compute(
        signal, kernel, operation, padding, stride, dilation, pad_mode, method, convention
    ).values


#: ``auto`` sums a 1-D float64 kernel of up to this many taps directly at every signal
#: length (the cost model never prices the FFT lower for it; tests check that), so such
#: a request with default options skips the general set-up, which on short signals
#: costs several times the sum itself.
PLAIN_TAPS = 8


def _plain_sum(
    signal: object,
    kernel: object,
    operation: Operation,
    padding: PaddingSpec,
    stride: PerAxis,
    dilation: PerAxis,
    pad_mode: str,
    method: str,
    convention: str,
) -> np.ndarray | None:
    """The operation by the shortest route where the request is plain: a valid 1-D sum
    of float64 arrays, a kernel of at most PLAIN_TAPS taps, every other option its
    default. The values are :func:`compute`'s bit for bit: the same kernel orientation and
    the same compiled sum, without the checks and the bookkeeping; None for any other
    request.

    >>> _plain_sum(np.array([2.0, 1.0, 3.0]), np.array([1.0, -1.0]), "convolution",
    ...            "valid", 1, 1, "zeros", "auto", "convcli")
    array([-1.,  2.])
    """
    if not (
        type(signal) is np.ndarray
        and type(kernel) is np.ndarray
        and signal.dtype == _FLOAT64
        and kernel.dtype == _FLOAT64
        and signal.ndim == kernel.ndim == 1
        and 0 < kernel.size <= min(PLAIN_TAPS, signal.size)
        and type(padding) is str
        and padding == "valid"
        and type(stride) is int
        and stride == 1
        and type(dilation) is int
        and dilation == 1
        and pad_mode == "zeros"
        and method in ("auto", "direct")
        and convention == "convcli"
    ):
        return None
    weights = oriented_kernel(kernel, operation)
    if signal.size < LARGE_WORK:  # far from needing pieces: _slide_compiled_1d's one call
        return np.convolve(signal, weights[::-1], "valid")
    reuse_freed_memory()
    return _slide_compiled_1d(signal, weights, 1, 1)


def _kernels_match(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two kernels are equal: exactly for integers; for floats to a relative 1e-9,
    with rounding noise near zero allowed up to 16 eps of the kernel's largest value."""
    if a.dtype.kind in "iO":
        return bool(np.all(a == b))
    finite = np.abs(a[np.isfinite(a)])
    noise = 16 * np.finfo(np.float64).eps * (float(finite.max()) if finite.size else 0.0)
    return bool(np.all(np.isclose(a, b, rtol=_RTOL, atol=noise, equal_nan=True)))


def _agree(a: np.ndarray, b: np.ndarray, magnitude: np.ndarray | None) -> np.ndarray:
    """Per-position equality of two results: exactly for integers; for floats within 1e-9
    of the position's ``sum_k |p| |h|``, the scale of that output's rounding error."""
    if magnitude is None:
        return np.asarray(a == b, dtype=bool)
    with np.errstate(invalid="ignore"):
        return (a == b) | (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= _RTOL * magnitude)


def kernel_symmetry(kernel: object) -> Symmetry:
    """Whether convolution and correlation with this kernel agree for every signal.

    ``symmetric`` when ``flip(h) == conj(h)`` (conv == corr), ``antisymmetric``
    when ``flip(h) == -conj(h)`` (conv == -corr), otherwise ``none``.

    >>> kernel_symmetry([1, -1]), kernel_symmetry([-1, 2, -1]), kernel_symmetry([1, 2])
    ('antisymmetric', 'symmetric', 'none')
    """
    h = as_numeric(kernel, "kernel")
    flipped, conjugated = np.flip(h), np.conj(h)
    if _kernels_match(flipped, conjugated):
        return "symmetric"
    if _kernels_match(flipped, -conjugated):
        return "antisymmetric"
    return "none"


def compare(
    signal: object,
    kernel: object,
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: str = "zeros",
    method: str = "auto",
    convention: str = "convcli",
) -> Comparison:
    """Convolve and correlate with the same options, and say how the two results relate.

    Another ``convention`` compares that library's two results
    (:func:`convcli.conventions.compare`).

    >>> result = compare([2, 1, 3, 5, 4], [1, -1])
    >>> result.convolution, result.correlation
    (array([-1,  2,  2, -1]), array([ 1, -2, -2,  1]))
    >>> result.kernel_symmetry, result.identical, result.negated
    ('antisymmetric', False, True)
    """
    if convention != "convcli":
        from convcli import conventions

        return conventions.compare(
            signal, kernel, convention, padding, stride, dilation, pad_mode, method
        )
    options = (padding, stride, dilation, pad_mode, method)
    return compare_with(signal, kernel, lambda f, h, operation: compute(f, h, operation, *options))


def compare_with(
    signal: object, kernel: object, run: Callable[[np.ndarray, np.ndarray, Operation], Result]
) -> Comparison:
    """The comparison of the two results ``run(f, h, operation)`` gives, whatever rules it
    follows; float verdicts are scaled by the same run on ``|f|`` and ``|h|``.

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
            "run conv and corr separately"
        )
    magnitude = None
    if convolution.dtype.kind in "fc":
        f_size, h_size = np.abs(f), np.abs(h)
        magnitude = np.fmax(
            run(f_size, h_size, "convolution").values, run(f_size, h_size, "correlation").values
        )
    return Comparison(
        signal=f,
        kernel=h,
        flipped_kernel=np.flip(h),
        convolution=convolution,
        correlation=correlation,
        kernel_symmetry=kernel_symmetry(h),
        equal=_agree(convolution, correlation, magnitude),
        opposite=_agree(convolution, -correlation, magnitude),
        geometry=convolved.geometry,
        method=convolved.method,
    )


def count_nonfinite(values: np.ndarray) -> int:
    """How many values are nan or infinite (always 0 for integers).

    >>> count_nonfinite(np.array([1.0, np.nan, np.inf]))
    2
    """
    if values.dtype.kind not in "fc":
        return 0
    return int(values.size - np.count_nonzero(np.isfinite(values)))
