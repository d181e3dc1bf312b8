"""What numpy, scipy, MATLAB, PyTorch and TensorFlow return for the same convolution request.

The libraries agree on the sum and differ in the bookkeeping around it: which window
``same`` keeps for an even kernel, what happens when the kernel is longer than the
signal, whether "conv" flips the kernel at all and whether correlation conjugates it,
and which options exist. Each (library, operation, options) request is mapped here onto
one engine call - a padding per axis, and the kernel conjugated where a library slides
it as given - so the numbers are the engine's (exact for integers, every method
available) and only the mapping is per library. A request a library cannot express is
refused with a message naming the library.

Under ``torch`` and ``tensorflow``, which have one sliding operation (``conv1d``,
``conv2d``) that neither flips nor conjugates the kernel, ``conv`` and ``corr`` both run
that function: their "convolution" is the correlation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from convcli.engine import core as engine
from convcli.engine.core import RTOL, Comparison, Result
from convcli.engine.geometry import Geometry, listed_axes, on_listed, plan
from convcli.engine.numbers import as_numeric, working_dtype
from convcli.errors import ConvcliError, OptionError
from convcli.options import (
    CONVENTIONS,
    OPERATIONS,
    Convention,
    Operation,
    Options,
    Padding,
    PadMode,
    Pads,
    PadValue,
    check_choice,
)

__all__ = [
    "CONVENTIONS",
    "LIBRARIES",
    "ConventionComparison",
    "ConventionError",
    "ConventionResult",
    "Lineup",
    "Row",
    "check_options",
    "compare",
    "compute",
    "function_name",
    "lineup",
]

#: Each convention's library as people name it.
LIBRARIES: dict[str, str] = {
    "convcli": "convcli",
    "numpy": "NumPy",
    "scipy": "SciPy",
    "scipy2d": "SciPy 2-D",
    "matlab": "MATLAB",
    "torch": "PyTorch",
    "tensorflow": "TensorFlow",
}
#: scipy.signal.convolve2d's boundary= for convcli's pad modes.
_SCIPY_BOUNDARIES = {"zeros": "fill", "constant": "fill", "circular": "wrap", "symmetric": "symm"}
#: The conventions whose library slides along some axes only (scipy: fftconvolve's axes=).
_WITH_AXES = ("convcli", "scipy")
_TORCH_PAD_MODES = ("zeros", "reflect", "replicate", "circular")
#: Libraries that multiply the kernel by the zeros of their padding (float64 convolution
#: is im2col and a matrix product there), so a nan or inf tap over it gives nan.
_MULTIPLYING_PADDING = ("torch", "tensorflow")
#: Results of two libraries agree to this relative tolerance (floats are summed in different orders).


class ConventionError(ConvcliError):
    """A request the chosen library cannot express; the message names the library."""


class ConventionOptionError(ConventionError, OptionError):
    """Options the chosen library cannot take, whatever the data."""


@dataclass(frozen=True)
class Request:
    """A convolution or correlation as asked for, its options given per axis; ``slid`` are
    the axes the kernel slides along when ``axes=`` leaves some out (None: every axis)."""

    operation: Operation
    signal_shape: tuple[int, ...]
    kernel_shape: tuple[int, ...]
    padding: Padding
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_mode: PadMode
    is_complex: bool
    slid: tuple[int, ...] | None = None
    pad_value: PadValue = 0

    def slides(self, axis: int) -> bool:
        """Whether the kernel slides along this axis (else it broadcasts there)."""
        return self.slid is None or axis in self.slid

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return len(self.signal_shape)

    @property
    def axes(self) -> list[tuple[int, int]]:
        """(signal length, kernel length) per axis."""
        return list(zip(self.signal_shape, self.kernel_shape))

    @property
    def convolving(self) -> bool:
        """Whether the request is a convolution (else a correlation)."""
        return self.operation == "convolution"


@dataclass(frozen=True)
class Mapping:
    """One library's answer to a request, as one engine call.

    The engine computes ``operation`` with ``pads`` (and the request's stride,
    dilation and pad mode) on the kernel, conjugated first if ``conjugate_kernel``
    (libraries that slide a complex kernel as given); ``conjugate_result`` undoes a
    library's conjugated output; ``empty_shape`` is an empty result the library returns
    without computing. ``notes`` say how the library departs from convcli here.
    """

    function: str
    call: str
    operation: Operation
    pads: Pads
    padding: str
    conjugate_kernel: bool = False
    conjugate_result: bool = False
    empty_shape: tuple[int, ...] | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class ConventionResult(Result):
    """A result as one library computes it, with the call that computes it there; its
    ``notes`` say how the library departs from convcli for this request."""

    convention: str = "convcli"
    function: str = ""
    call: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class ConventionComparison(Comparison):
    """Both operations as one library computes them; ``verdict`` replaces the kernel's
    symmetry verdict where the library's "convolution" is not one (torch, tensorflow)."""

    convention: str = "convcli"
    calls: tuple[str, str] = ("", "")
    verdict: str = ""


@dataclass(frozen=True, eq=False)
class Row:
    """One library's line in :func:`lineup`: its call and result, or why it has none.

    ``agrees`` is whether the result matches the majority (None when the library
    refuses the request); ``reason`` says why it differs, or why it was refused.
    """

    operation: Operation
    convention: str
    function: str
    call: str
    values: np.ndarray | None
    agrees: bool | None
    reason: str


@dataclass(frozen=True, eq=False)
class Lineup:
    """Every library's answer to one request, per operation, for ``convcli conventions``."""

    signal: np.ndarray
    kernel: np.ndarray
    rows: tuple[Row, ...]
    padding: Padding
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_mode: str
    method: str


def function_name(convention: str, operation: Operation, ndim: int) -> str:
    """The function a library computes this operation with, for arrays of ``ndim`` axes.

    >>> function_name("matlab", "correlation", 1), function_name("torch", "convolution", 2)
    ('xcorr', 'torch.nn.functional.conv2d')
    """
    convolving = operation == "convolution"
    if convention == "matlab":
        if convolving:
            return {1: "conv", 2: "conv2"}.get(ndim, "convn")
        return "xcorr2" if ndim == 2 else "xcorr"
    if convention == "torch":
        return f"torch.nn.functional.conv{ndim}d"
    if convention == "tensorflow":
        return f"tf.nn.conv{ndim}d"
    prefix = {
        "convcli": "convcli.",
        "numpy": "numpy.",
        "scipy": "scipy.signal.",
        "scipy2d": "scipy.signal.",
    }[convention]
    suffix = "2d" if convention == "scipy2d" else ""
    return prefix + ("convolve" if convolving else "correlate") + suffix


def _request(f: np.ndarray, h: np.ndarray, operation: Operation, options: Options) -> Request:
    """Check the options as convcli does and give them per axis."""
    check_choice(operation, OPERATIONS, "operation")
    # "full" always fits, so this checks dimensions, stride, dilation and axes only.
    outline = plan(f.shape, h.shape, options.replace(padding="full"))
    listed = listed_axes(options.axes, f.ndim)
    slid = None if not outline.batch_axes else listed
    if slid is not None and options.convention not in _WITH_AXES:
        raise ConventionOptionError(
            f"{function_name(options.convention, operation, f.ndim)} has no axes= "
            "(scipy.signal.fftconvolve has: try convention='scipy')"
        )
    padding = options.padding
    if not isinstance(padding, str):
        padding = on_listed(padding, listed, f.ndim, (0, 0), "padding", options.axes)
    return Request(
        operation,
        f.shape,
        h.shape,
        padding,
        outline.stride,
        outline.dilation,
        options.pad_mode,
        "c" in (f.dtype.kind, h.dtype.kind),
        slid,
        options.pad_value,
    )


def _sliding(request: Request, padding: Padding, **rest: object) -> Options:
    """Engine options for the request with this padding (per axis, or a name): with
    ``axes=``, each per-axis option for the listed axes only."""
    stride, dilation, slid = request.stride, request.dilation, request.slid
    if slid is not None:
        stride, dilation = tuple(stride[a] for a in slid), tuple(dilation[a] for a in slid)
        if not isinstance(padding, str):
            padding = tuple(padding[a] for a in slid)
    return Options(
        padding=padding,
        stride=stride,
        dilation=dilation,
        axes=slid,
        **rest,  # type: ignore[arg-type]
    )


def _plan(request: Request, padding: Padding) -> Geometry:
    """convcli's own geometry for the request with this padding."""
    options = _sliding(request, padding, pad_mode=request.pad_mode, pad_value=request.pad_value)
    return plan(request.signal_shape, request.kernel_shape, options)


def _window(length: int, taps: int, start: int, outputs: int) -> tuple[int, int]:
    """The (before, after) padding whose outputs are the full result's ``start`` to
    ``start + outputs`` (a negative start reaches further left than the full result).

    >>> _window(5, 2, 0, 5)  # numpy's 'same' for an even kernel: the first 5 of 6
    (1, 0)
    """
    before = taps - 1 - start
    return before, outputs + taps - 1 - length - before


def _windows(request: Request, start: Callable[[int, int], int], outputs: Callable) -> Pads:
    """Per axis, the padding that keeps ``outputs(N, K)`` values from ``start(N, K)`` on."""
    return tuple(
        _window(n, k, start(n, k), outputs(n, k)) if request.slides(axis) else (0, 0)
        for axis, (n, k) in enumerate(request.axes)
    )


def _full(request: Request) -> Pads:
    """The full result's padding: kernel length - 1 on both sides of every axis it slides along."""
    return tuple(
        (k - 1, k - 1) if request.slides(axis) else (0, 0)
        for axis, k in enumerate(request.kernel_shape)
    )


def _valid(request: Request, function: str) -> tuple[Pads, bool]:
    """numpy's and scipy's 'valid', and whether they swapped the inputs for it.

    Both swap when the kernel is at least as large as the signal along every axis (the
    windows where the signal lies inside the kernel); scipy refuses a mixed case.
    """
    slid = [(n, k) for axis, (n, k) in enumerate(request.axes) if request.slides(axis)]
    if all(n >= k for n, k in slid):
        return ((0, 0),) * request.ndim, False
    if all(k >= n for n, k in slid):
        return _windows(request, lambda n, k: n - 1, lambda n, k: k - n + 1), True
    raise ConventionError(
        f"{function}: in 'valid' mode one input must be at least as large as the other "
        "in every dimension"
    )


def _zeros_only(request: Request, function: str, hint: str = "") -> None:
    """Refuse a pad mode other than zeros, for functions that pad with zeros only."""
    if request.pad_mode != "zeros":
        raise ConventionOptionError(
            f"{function} pads with zeros only, not {request.pad_mode}{hint}"
        )


def _mode(request: Request, function: str) -> Literal["valid", "same", "full"]:
    """The mode name (full, same, valid) of a function that has no stride or dilation."""
    if any(s > 1 for s in request.stride) or any(d > 1 for d in request.dilation):
        raise ConventionOptionError(
            f"{function} has no stride or dilation (they are neural-network options: "
            "try convention='torch')"
        )
    if not isinstance(request.padding, str):
        raise ConventionOptionError(
            f"{function} takes mode 'full', 'same' or 'valid', not explicit padding"
        )
    return request.padding


def _even_notes(request: Request, library: str) -> tuple[str, ...]:
    """The note for a 'same' whose window starts left of convcli's for an even kernel."""
    if any(k % 2 == 0 for k in request.kernel_shape):
        return (f"{library} keeps the left centre for even kernels",)
    return ()


def _ints(values: Sequence[int]) -> str:
    """One int when every axis has the same value, else a tuple: ``2`` or ``(2, 1)``."""
    if len(set(values)) == 1:
        return str(values[0])
    return "(" + ", ".join(map(str, values)) + ")"


def _convcli(request: Request) -> Mapping:
    """convcli's own rules: the engine as it is."""
    function = function_name("convcli", request.operation, request.ndim)
    geometry = _plan(request, request.padding)
    given = _sliding(request, request.padding)  # per listed axis, as the call writes them
    arguments = ["f", "h"]
    padding = given.padding
    if padding != "valid":
        arguments.append(
            f'padding="{padding}"' if isinstance(padding, str) else f"padding={padding}"
        )
    for name, values in (("stride", given.stride), ("dilation", given.dilation)):
        if any(v > 1 for v in values):
            arguments.append(f"{name}={_ints(values)}")
    if request.pad_mode not in ("zeros", "constant"):
        arguments.append(f'pad_mode="{request.pad_mode}"')
    if request.pad_mode == "constant":
        arguments.append(f"pad_value={request.pad_value!r}")
    if request.slid is not None:
        arguments.append(
            f"axes={_ints(request.slid) if len(request.slid) > 1 else request.slid[0]}"
        )
    name = function.split(".")[-1]
    return Mapping(
        function,
        f"{name}({', '.join(arguments)})",
        request.operation,
        geometry.pads,
        geometry.padding,
    )


def _numpy(request: Request) -> Mapping:
    """numpy.convolve and numpy.correlate: 1-D, zeros, modes full/same/valid.

    'same' gives max(N, K) values from the full result's index (min(N, K) - 1) // 2, the
    left centre for an even kernel; a longer kernel is swapped in (numpy.correlate then
    reverses its result, which moves an even-length signal's window to index N // 2).
    """
    function = function_name("numpy", request.operation, request.ndim)
    if request.ndim != 1:
        raise ConventionError(
            f"{function} takes 1-D arrays only; numpy has no 2-D convolution "
            "(try convention='scipy')"
        )
    _zeros_only(request, function)
    mode = _mode(request, function)
    ((n, k),) = request.axes
    notes: tuple[str, ...] = ()
    if mode == "same":
        swapped_correlation = not request.convolving and k > n
        start = n // 2 if swapped_correlation else (min(n, k) - 1) // 2
        pads: Pads = (_window(n, k, start, max(n, k)),)
        notes = _even_notes(request, "numpy") if k <= n else ()
    elif mode == "valid":
        pads, _ = _valid(request, function)
    else:
        pads = _full(request)
    if k > n and mode != "full":
        reverses = "" if request.convolving else ", then reverses the result"
        notes = (f"numpy swaps in a kernel longer than the signal{reverses}",)
    name = function.split(".")[-1]
    return Mapping(
        function, f'np.{name}(f, h, mode="{mode}")', request.operation, pads, mode, notes=notes
    )


def _scipy(request: Request) -> Mapping:
    """scipy.signal.convolve and correlate: any dimensions, zeros, modes full/same/valid.

    'same' gives the signal's shape from the full result's index (K - 1) // 2 per axis,
    the left centre for an even kernel; 'valid' swaps in a kernel larger along every axis.
    """
    function = function_name("scipy", request.operation, request.ndim)
    if request.slid is not None:
        function = "scipy.signal.fftconvolve"
    _zeros_only(
        request, function, "; convolve2d's boundary= can wrap or mirror: convention='scipy2d'"
    )
    mode = _mode(request, function)
    notes: tuple[str, ...] = ()
    if mode == "same" and any(
        n < k for axis, (n, k) in enumerate(request.axes) if not request.slides(axis)
    ):
        raise ConventionError(
            f"{function}: mode 'same' crops the broadcast axes to the signal's size, "
            "where the kernel has more rows"
        )
    if mode == "same":
        pads = _windows(request, lambda n, k: (k - 1) // 2, lambda n, k: n)
        notes = _even_notes(request, "scipy")
    elif mode == "valid":
        pads, swapped = _valid(request, function)
        notes = ("scipy swaps the inputs when the kernel is the larger",) if swapped else ()
    else:
        pads = _full(request)
    name = function.split(".")[-1]
    call = f'signal.{name}(f, h, mode="{mode}")'
    if request.slid is not None:
        axes = request.slid[0] if len(request.slid) == 1 else list(request.slid)
        kernel = "h" if request.convolving else f"np.conj(np.flip(h, axis={axes}))"
        call = f'signal.fftconvolve(f, {kernel}, mode="{mode}", axes={axes})'
    return Mapping(function, call, request.operation, pads, mode, notes=notes)


def _scipy2d(request: Request) -> Mapping:
    """scipy.signal.convolve2d and correlate2d: 2-D, boundary fill/wrap/symm.

    Their 'same' differs from scipy.signal.convolve's for an even kernel: convolve2d keeps
    the left centre, correlate2d the right. Swapping a larger kernel in 'valid' mode,
    correlate2d reverses its output but does not conjugate it back.
    """
    function = function_name("scipy2d", request.operation, request.ndim)
    if request.ndim != 2:
        raise ConventionError(f"{function} takes 2-D arrays only (try convention='scipy')")
    boundary = _SCIPY_BOUNDARIES.get(request.pad_mode)
    if boundary is None:
        raise ConventionOptionError(
            f"{function} pads with boundary 'fill' (zeros), 'wrap' (circular) or 'symm' "
            f"(symmetric), not {request.pad_mode}"
        )
    mode = _mode(request, function)
    notes: tuple[str, ...] = ()
    conjugate_result = False
    if mode == "same":
        if request.convolving:
            pads = _windows(request, lambda n, k: (k - 1) // 2, lambda n, k: n)
            notes = _even_notes(request, "convolve2d")
        else:
            pads = _windows(request, lambda n, k: k // 2, lambda n, k: n)
    elif mode == "valid":
        pads, swapped = _valid(request, function)
        if swapped:
            notes = ("scipy swaps the inputs when the kernel is the larger",)
        if swapped and request.is_complex and not request.convolving:
            conjugate_result = True
            notes = ("correlate2d swaps in a larger kernel and returns the conjugate",)
    else:
        pads = _full(request)
    name = function.split(".")[-1]
    extra = "" if boundary == "fill" else f', boundary="{boundary}"'
    if request.pad_mode == "constant" and request.pad_value != 0:
        extra = f", fillvalue={request.pad_value!r}"
    return Mapping(
        function,
        f'signal.{name}(f, h, mode="{mode}"{extra})',
        request.operation,
        pads,
        mode,
        conjugate_result=conjugate_result,
        notes=notes,
    )


def _matlab(request: Request) -> Mapping:
    """MATLAB conv/conv2/convn (shape full/same/valid) and xcorr/xcorr2 (all lags).

    conv's 'same' keeps the full result from index floor(K / 2), as convcli does; its
    'valid' is empty when the kernel is longer. xcorr has no shape: it pads the shorter
    input to max(N, K) and returns all 2 max(N, K) - 1 lags.
    """
    function = function_name("matlab", request.operation, request.ndim)
    _zeros_only(request, function, " (pad first with padarray)")
    mode = _mode(request, function)
    if request.convolving:
        shape = "" if mode == "full" else f", '{mode}'"
        call = f"{function}(f, h{shape})"
        if mode == "valid" and any(k > n for n, k in request.axes):
            empty = tuple(max(n - k + 1, 0) for n, k in request.axes)
            note = "MATLAB returns an empty array when the kernel is longer in 'valid'"
            pads = ((0, 0),) * request.ndim
            return Mapping(
                function, call, request.operation, pads, mode, empty_shape=empty, notes=(note,)
            )
        pads = _full(request) if mode == "full" else _plan(request, mode).pads
        return Mapping(function, call, request.operation, pads, mode)
    if request.ndim > 2:
        raise ConventionError("MATLAB correlates vectors (xcorr) and matrices (xcorr2) only")
    if mode != "full":
        raise ConventionOptionError(
            f"MATLAB's {function} has no shape argument: it returns every lag; use padding='full'"
        )
    if request.ndim == 2:
        return Mapping(function, "xcorr2(f, h)", request.operation, _full(request), mode)
    ((n, k),) = request.axes
    lags = max(n, k)
    notes = () if n == k else ("xcorr pads the shorter input: 2*max(N, K)-1 lags",)
    pads = (_window(n, k, k - lags, 2 * lags - 1),)
    return Mapping(function, "xcorr(f, h)", request.operation, pads, mode, notes=notes)


def _symmetric_pads(request: Request, function: str) -> tuple[Pads, str]:
    """torch's padding (valid, same, an int or one per axis) and how the call writes it."""
    padding = request.padding
    if padding == "same":
        if any(s > 1 for s in request.stride):
            raise ConventionOptionError(
                f"{function}: padding='same' is not supported for strided convolutions"
            )
        return _plan(request, "same").pads, '"same"'
    if padding == "valid":
        return ((0, 0),) * request.ndim, '"valid"'
    pads = _plan(request, "full").pads if padding == "full" else padding
    if any(before != after for before, after in pads):
        raise ConventionOptionError(
            f"{function} pads both ends of an axis alike (padding=int or one per axis); "
            f"padding {padding} needs F.pad first"
        )
    return pads, _ints([before for before, _ in pads])


def _torch(request: Request) -> Mapping:
    """torch.nn.functional.conv1d/2d/3d and nn.Conv*d's padding_mode: a correlation that
    neither flips nor conjugates the kernel."""
    function = function_name("torch", request.operation, request.ndim)
    if request.ndim > 3:
        raise ConventionError("PyTorch has conv1d, conv2d and conv3d only")
    if request.pad_mode not in _TORCH_PAD_MODES:
        raise ConventionOptionError(
            f"nn.Conv{request.ndim}d's padding_mode is zeros, reflect, replicate or "
            f"circular, not {request.pad_mode}"
        )
    pads, written = _symmetric_pads(request, function)
    for (before, after), n in zip(pads, request.signal_shape):
        if request.pad_mode == "reflect" and max(before, after) >= n:
            raise ConventionError(
                f"PyTorch: reflect padding size should be less than the input dimension "
                f"(padding {max(before, after)}, size {n})"
            )
        if request.pad_mode == "circular" and max(before, after) > n:
            raise ConventionError(
                "PyTorch: circular padding value causes wrapping around more than once "
                f"(padding {max(before, after)}, size {n})"
            )
    options = []
    if any(s > 1 for s in request.stride):
        options.append(f"stride={_ints(request.stride)}")
    signal = "f"
    if request.pad_mode != "zeros" and any(before or after for before, after in pads):
        # nn.Conv*d pads with F.pad (last axis first) and then convolves unpadded.
        reverse = ", ".join(f"{b}, {a}" for b, a in reversed(pads))
        signal = f'F.pad(f, ({reverse}), mode="{request.pad_mode}")'
    elif written != '"valid"':
        options.append(f"padding={written}")
    if any(d > 1 for d in request.dilation):
        options.append(f"dilation={_ints(request.dilation)}")
    call = f"F.conv{request.ndim}d({', '.join([signal, 'h', *options])})"
    return Mapping(
        function,
        call,
        "correlation",
        pads,
        request.padding if isinstance(request.padding, str) else "explicit",
        conjugate_kernel=True,
        notes=_unflipped_notes(request, "PyTorch", conjugates=False),
    )


def _unflipped_notes(request: Request, library: str, conjugates: bool) -> tuple[str, ...]:
    """Why a CNN library's conv differs from convcli's convolution or correlation."""
    if request.convolving:
        return (f"{library}'s conv{request.ndim}d does not flip the kernel: a correlation",)
    if request.is_complex and not conjugates:
        return (f"{library} does not conjugate a complex kernel",)
    return ()


def _tensorflow(request: Request) -> Mapping:
    """tf.nn.conv1d/2d/3d: a correlation, padding 'SAME' or 'VALID' (conv2d also explicit),
    zeros, real tensors, no stride together with dilation."""
    function = function_name("tensorflow", request.operation, request.ndim)
    if request.ndim > 3:
        raise ConventionError("TensorFlow has conv1d, conv2d and conv3d only")
    if request.is_complex:
        raise ConventionError(f"{function} takes real tensors only, not complex ones")
    _zeros_only(request, function, " (pad first with tf.pad)")
    if any(s > 1 for s in request.stride) and any(d > 1 for d in request.dilation):
        raise ConventionOptionError(
            f"{function}: TensorFlow does not support strides > 1 together with dilations > 1"
        )
    padding = request.padding
    if padding in ("same", "valid"):
        pads = _plan(request, padding).pads
        written = f'"{padding.upper()}"'
    elif request.ndim != 2:
        raise ConventionOptionError(
            f"{function} takes padding 'SAME' or 'VALID' only (explicit padding is conv2d's)"
        )
    else:
        pads = _plan(request, "full").pads if isinstance(padding, str) else padding
        written = "[[0, 0], " + ", ".join(f"[{b}, {a}]" for b, a in pads) + ", [0, 0]]"
    stride_name = "stride" if request.ndim == 1 else "strides"
    options = [f"{stride_name}={_ints(request.stride)}", f"padding={written}"]
    if any(d > 1 for d in request.dilation):
        options.append(f"dilations={_ints(request.dilation)}")
    return Mapping(
        function,
        f"tf.nn.conv{request.ndim}d(f, h, {', '.join(options)})",
        "correlation",
        pads,
        padding if isinstance(padding, str) else "explicit",
        notes=_unflipped_notes(request, "TensorFlow", conjugates=True),
    )


_MAPPERS: dict[str, Callable[[Request], Mapping]] = {
    "convcli": _convcli,
    "numpy": _numpy,
    "scipy": _scipy,
    "scipy2d": _scipy2d,
    "matlab": _matlab,
    "torch": _torch,
    "tensorflow": _tensorflow,
}


def layer_pads(spatial: tuple[int, ...], kernel_shape: tuple[int, ...], options: Options) -> Pads:
    """The padding per spatial axis a CNN layer under ``options.convention`` (torch or
    tensorflow) takes, refused as that library refuses it.

    >>> layer_pads((8, 8), (3, 3), Options(padding="same", convention="torch"))
    ((1, 1), (1, 1))
    """
    f = np.broadcast_to(np.zeros(1), spatial)  # shapes only: no memory for the cells
    h = np.broadcast_to(np.zeros(1), kernel_shape)
    return _MAPPERS[options.convention](_request(f, h, "correlation", options)).pads


def check_options(operations: tuple[Operation, ...], options: Options) -> None:
    """Raise the options error the convention's library would give whatever the data, so
    that it comes before any input is read; anything that depends on the data is left to
    compute. The options are tried on small 1-D and 2-D inputs; an error is raised only
    if neither takes them.

    >>> check_options(("convolution",), Options(stride=(2,), convention="numpy"))
    Traceback (most recent call last):
    convcli.analysis.conventions.ConventionOptionError: numpy.convolve has no stride or dilation (they are neural-network options: try convention='torch')
    >>> check_options(("convolution", "correlation"), Options(padding="same", convention="torch"))
    """
    refusal: ConventionOptionError | None = None
    for ndim in (1, 2):
        f, h = np.zeros((8,) * ndim), np.zeros((3,) * ndim)
        try:
            for operation in operations:
                _MAPPERS[options.convention](_request(f, h, operation, options))
        except ConventionOptionError as error:
            refusal = refusal or error
        except ConvcliError:  # this shape does not fit: the data will say
            continue
        else:
            return
    if refusal is not None:
        raise refusal


def compute(
    signal: object, kernel: object, operation: Operation, options: Options
) -> ConventionResult:
    """What the library ``options.convention`` names returns for this operation.

    >>> compute([2, 1, 3, 5, 4], [1, -1], "convolution", Options(padding="same", convention="numpy")).values
    array([ 2, -1,  2,  2, -1])
    >>> result = compute([2, 1, 3, 5, 4], [1, -1], "convolution", Options(convention="torch"))
    >>> result.call, result.values
    ('F.conv1d(f, h)', array([ 1, -2, -2,  1]))
    """
    convention = options.convention
    f, h = as_numeric(signal, "signal"), as_numeric(kernel, "kernel")
    request = _request(f, h, operation, options)
    mapping = _MAPPERS[convention](request)
    if mapping.empty_shape is not None:
        values = np.zeros(mapping.empty_shape, dtype=working_dtype(f, h))
        geometry = Geometry(
            mapping.padding,
            mapping.pads,
            request.stride,
            request.dilation,
            options.pad_mode,
            f.shape,
            mapping.empty_shape,
        )
        chosen = "direct" if options.method == "auto" else options.method
    else:
        weights = np.conj(h) if mapping.conjugate_kernel else h
        # A 'valid' result is padded only where a library swapped in a larger kernel, and
        # then the cells outside the signal are the kernel's zeros, whatever the boundary.
        valid = mapping.padding == "valid"
        engine_options = _sliding(
            request,
            mapping.pads,
            pad_mode="zeros" if valid else options.pad_mode,
            pad_value=0 if valid else options.pad_value,
            method=options.method,
            multiply_padding=convention in _MULTIPLYING_PADDING,
        )
        result = engine.compute(f, weights, mapping.operation, engine_options)
        values = np.conj(result.values) if mapping.conjugate_result else result.values
        geometry = dataclasses.replace(result.geometry, padding=mapping.padding)
        chosen = result.method
    return ConventionResult(
        operation,
        values,
        geometry,
        chosen,
        convention=convention,
        function=mapping.function,
        call=mapping.call,
        notes=mapping.notes,
    )


def compare(signal: object, kernel: object, options: Options) -> ConventionComparison:
    """The convention's convolution and correlation side by side, with the calls.

    >>> result = compare([2, 1, 3, 5, 4], [1, -1], Options(convention="tensorflow"))
    >>> result.convolution, result.identical, result.calls[0]
    (array([ 1, -2, -2,  1]), True, 'tf.nn.conv1d(f, h, stride=1, padding="VALID")')
    """
    convention = options.convention
    results: list[ConventionResult] = []

    def run(f: np.ndarray, h: np.ndarray, operation: Operation) -> Result:
        results.append(compute(f, h, operation, options))
        return results[-1]

    comparison = engine.compare_with(signal, kernel, run, options.axes)
    convolved, correlated = results[:2]  # compare_with runs the convolution first
    verdict = ""
    if convention in ("torch", "tensorflow"):
        verdict = (
            f"{LIBRARIES[convention]}'s {convolved.function.split('.')[-1]} does not flip "
            f"the kernel: both columns are {convolved.call}, a correlation"
        )
    fields = {
        field.name: getattr(comparison, field.name) for field in dataclasses.fields(comparison)
    }
    fields["notes"] = tuple(dict.fromkeys(convolved.notes + correlated.notes))
    return ConventionComparison(
        **fields, convention=convention, calls=(convolved.call, correlated.call), verdict=verdict
    )


def _same_result(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two libraries' results are the same: exactly for integers, to a relative
    1e-9 of the larger magnitude for floats."""
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "iuO" and b.dtype.kind in "iuO":
        return bool(np.array_equal(a, b))
    scale = max((float(np.nanmax(np.abs(x), initial=0.0)) for x in (a, b)), default=0.0)
    with np.errstate(invalid="ignore"):
        return bool(np.allclose(a, b, rtol=RTOL, atol=RTOL * scale, equal_nan=True))


def _rows(f: np.ndarray, h: np.ndarray, operation: Operation, options: Options) -> list[Row]:
    """Every library's row for one operation, each marked against the majority result."""
    conventions: list[Convention] = [c for c in CONVENTIONS if c != "scipy2d" or f.ndim == 2]
    answers: list[ConventionResult | str] = []
    for convention in conventions:
        try:
            answers.append(compute(f, h, operation, options.replace(convention=convention)))
        except ConvcliError as error:
            answers.append(str(error))
    results = {i: answer for i, answer in enumerate(answers) if not isinstance(answer, str)}
    groups: list[list[int]] = []
    for index, result in results.items():
        group = next((g for g in groups if _same_result(results[g[0]].values, result.values)), None)
        if group is None:
            groups.append([index])
        else:
            group.append(index)
    # The largest group is the majority; of equal groups, the one holding convcli's result.
    majority = max(groups, key=lambda g: (len(g), 0 in g), default=[])
    agreeing = ", ".join(LIBRARIES[conventions[i]] for i in majority)
    rows = []
    for index, (convention, answer) in enumerate(zip(conventions, answers)):
        function = function_name(convention, operation, f.ndim)
        if isinstance(answer, str):
            rows.append(Row(operation, convention, function, "", None, None, answer))
            continue
        agrees = index in majority
        reason = "" if agrees else "; ".join(answer.notes) or f"differs from {agreeing}"
        rows.append(
            Row(operation, convention, function, answer.call, answer.values, agrees, reason)
        )
    return rows


def lineup(
    signal: object,
    kernel: object,
    operations: Sequence[Operation] = OPERATIONS,
    options: Options = Options(),
) -> Lineup:
    """Every library's call and result for one request, marked where they disagree
    (``options.convention`` is not used: every convention is asked).

    >>> table = lineup([2, 1, 3, 5, 4], [1, -1], ["convolution"], Options(padding="same"))
    >>> [(row.convention, row.agrees) for row in table.rows][:3]
    [('convcli', True), ('numpy', False), ('scipy', False)]
    >>> table.rows[1].reason
    'numpy keeps the left centre for even kernels'
    """
    f, h = as_numeric(signal, "signal"), as_numeric(kernel, "kernel")
    for operation in operations:
        check_choice(operation, OPERATIONS, "operation")
    request = _request(f, h, "correlation", options)
    rows = [row for operation in operations for row in _rows(f, h, operation, options)]
    return Lineup(
        f,
        h,
        tuple(rows),
        request.padding,
        request.stride,
        request.dilation,
        options.pad_mode,
        options.method,
    )
