"""The library's front door: convolve, correlate and compare with keyword options.

Each builds one :class:`~convcli.options.Options` from its keywords and sends the
request to the engine (convcli's own rules) or, for another ``convention``, to
:mod:`convcli.analysis.conventions`, so the engine never imports anything above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from convcli.engine import core
from convcli.engine.core import Comparison, Result
from convcli.errors import ConvcliError
from convcli.options import (
    Convention,
    Method,
    Operation,
    Options,
    PaddingSpec,
    PadMode,
    PadValue,
    PerAxis,
    check_choice,
)

if TYPE_CHECKING:  # for annotations only: steps is imported by explain, on first use
    from convcli.analysis.steps import Walkthrough

#: What :func:`explain` writes out: one operation or both.
Explained = Literal["both", "convolution", "correlation"]

__all__ = ["compare", "comparison_of", "compute", "convolve", "correlate", "explain"]


def compute(signal: object, kernel: object, operation: Operation, options: Options) -> Result:
    """One operation under ``options``, by the rules ``options.convention`` names.

    >>> compute([2, 1, 3], [1, -1], "convolution", Options()).values
    array([-1,  2])
    """
    kernel = _named(kernel, signal, options)
    if options.convention != "convcli":
        from convcli.analysis import conventions  # here, not at the top: start-up

        return conventions.compute(signal, kernel, operation, options)
    return core.compute(signal, kernel, operation, options)


def convolve(
    signal: object,
    kernel: object,
    *,
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: PadMode = "zeros",
    method: Method = "auto",
    convention: Convention = "convcli",
    axes: int | Sequence[int] | None = None,
    pad_value: PadValue | None = None,
) -> np.ndarray:
    """Convolution: slide the kernel, flipped along every axis, over the padded signal.

    ``y[i] = sum_k p[i*stride + k*dilation] * flip(h)[k]``, where ``p`` is the
    signal padded as ``padding`` and ``pad_mode`` say. Equal to
    ``correlate(signal, conj(flip(kernel)))``. Integer inputs give exact
    integers (int64, or Python ints where int64 could overflow). ``convention``
    (``numpy``, ``scipy``, ``matlab``, ``torch``, ...) returns what that library's
    convolution gives for the same request.

    ``axes`` (as scipy.signal.fftconvolve's) slides the kernel along those axes only
    and broadcasts over the others, where signal and kernel sizes must match or one be
    1: one kernel row for every signal row, or a row each. Padding, stride and dilation
    then apply to the listed axes, in the order listed (one value: each of them).

    ``pad_mode="constant"`` pads with ``pad_value`` (numpy.pad's ``constant_values``,
    scipy.signal.convolve2d's ``fillvalue``); a ``pad_value`` alone implies it. Those
    cells are terms of the sum like any other, so a nan or inf tap over them gives nan
    or inf, where zero padding (``"zeros"``) is no term at all. An int ``pad_value``
    keeps integer results exact; a float one makes them floats.

    The kernel may be a name, built for the signal's dimensions (or for the ``axes``
    listed): ``"gaussian:5"``, ``"box:3"``, ``"sobel-x"``... (the list:
    :func:`convcli.analysis.kernels.catalogue`, or ``convcli kernels``); another string is a
    ConvcliError. A signal or kernel that is no array or sequence of numbers (a string
    signal, None, a dict) is a TypeError naming it; ragged rows or contents that are not
    numbers are a ConvcliError, a ValueError as numpy's error for ragged lists.

    >>> convolve([2, 1, 3, 5, 4], [1, -1])
    array([-1,  2,  2, -1])
    >>> convolve([2, 1, 3, 5, 4], [1, -1], padding="full")
    array([ 2, -1,  2,  2, -1, -4])
    >>> convolve([2, 1, 3, 5, 4], [1, -1], padding="same", convention="numpy")
    array([ 2, -1,  2,  2, -1])
    >>> convolve([[1, 2, 3], [4, 5, 6]], [[1, 1], [1, -1]], axes=1)  # a kernel per row
    array([[3, 5],
           [1, 1]])
    >>> convolve([1, 2, 3], [1, 1], padding="full", pad_value=10)
    array([11,  3,  5, 13])
    >>> convolve([2, 1, 3, 5, 4], "laplacian")  # a kernel by name
    array([ 3,  0, -3])
    """
    options = Options.parse(
        padding=padding,
        stride=stride,
        dilation=dilation,
        pad_mode=pad_mode,
        method=method,
        convention=convention,
        axes=axes,
        pad_value=pad_value,
    )
    return _values(signal, kernel, "convolution", options)


def correlate(
    signal: object,
    kernel: object,
    *,
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: PadMode = "zeros",
    method: Method = "auto",
    convention: Convention = "convcli",
    axes: int | Sequence[int] | None = None,
    pad_value: PadValue | None = None,
) -> np.ndarray:
    """Cross-correlation: slide the kernel as given (conjugated) over the padded signal.

    ``y[i] = sum_k p[i*stride + k*dilation] * conj(h[k])``: what CNN layers
    call convolution. Complex kernels are conjugated, as numpy, scipy and
    MATLAB do. ``convention`` returns what that library's correlation gives.
    Arguments are checked as :func:`convolve` says.

    >>> correlate([2, 1, 3, 5, 4], [1, -1])
    array([ 1, -2, -2,  1])
    >>> correlate([[1, 2], [3, 4]], [[1, 0], [0, 1]])
    array([[5]])
    >>> correlate([2, 1, 3], [1, -1], padding="full", convention="matlab")  # xcorr
    array([ 0, -2,  1, -2,  3])
    """
    options = Options.parse(
        padding=padding,
        stride=stride,
        dilation=dilation,
        pad_mode=pad_mode,
        method=method,
        convention=convention,
        axes=axes,
        pad_value=pad_value,
    )
    return _values(signal, kernel, "correlation", options)


#: The options of a plain request: the defaults, where ``direct`` is the sum ``auto`` takes.
#: Options.parse remembers them, so ``in`` usually finds a plain request by identity.
_PLAIN = (Options.parse(), Options.parse(method="direct"))


def _named(kernel: object, signal: object, options: Options) -> object:
    """The kernel, built from its name if it is one (``"gaussian:5"``)."""
    if not isinstance(kernel, str):
        return kernel
    from convcli.analysis.kernels import kernel_argument  # here, not at the top: start-up

    return kernel_argument(kernel, signal, options.axes)


def _values(signal: object, kernel: object, operation: Operation, options: Options) -> np.ndarray:
    """The values of one operation, by the engine's short route where the request is plain."""
    kernel = _named(kernel, signal, options)
    if options in _PLAIN:
        plain = core.plain_sum(signal, kernel, operation)
        if plain is not None:
            return plain
    return compute(signal, kernel, operation, options).values


def compare(
    signal: object,
    kernel: object,
    *,
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: PadMode = "zeros",
    method: Method = "auto",
    convention: Convention = "convcli",
    axes: int | Sequence[int] | None = None,
    pad_value: PadValue | None = None,
) -> Comparison:
    """Convolve and correlate with the same options, and say how the two results relate.

    Another ``convention`` compares that library's two results.

    >>> result = compare([2, 1, 3, 5, 4], [1, -1])
    >>> result.convolution, result.correlation
    (array([-1,  2,  2, -1]), array([ 1, -2, -2,  1]))
    >>> result.kernel_symmetry, result.identical, result.negated
    ('antisymmetric', False, True)
    """
    options = Options.parse(
        padding=padding,
        stride=stride,
        dilation=dilation,
        pad_mode=pad_mode,
        method=method,
        convention=convention,
        axes=axes,
        pad_value=pad_value,
    )
    return comparison_of(signal, kernel, options)


def comparison_of(signal: object, kernel: object, options: Options) -> Comparison:
    """:func:`compare` with its options as one object.

    >>> comparison_of([2, 1, 3], [1, 1], Options()).identical
    True
    """
    kernel = _named(kernel, signal, options)
    if options.convention != "convcli":
        from convcli.analysis import conventions

        return conventions.compare(signal, kernel, options)
    return core.compare(signal, kernel, options)


def explain(
    signal: object,
    kernel: object,
    *,
    operation: Explained = "both",
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: PadMode = "zeros",
    pad_value: PadValue | None = None,
    method: Method = "auto",
    steps: tuple[int | None, int | None] | slice | None = None,
) -> Walkthrough:
    """Convolution and correlation written out output by output, as ``convcli explain`` does.

    Each output is a sum of products of one window of the (padded) signal with the kernel
    as slid: flipped for convolution, as given (conjugated) for correlation. The result
    holds the :class:`~convcli.analysis.steps.Explanation` of each ``operation`` asked for
    (``"both"``, ``"convolution"`` or ``"correlation"``) and the kernel's symmetry; in
    Jupyter it shows as the interactive page. ``steps`` writes out only that range of
    outputs, a ``(start, end)`` pair or a slice (end excluded). The other keywords are
    :func:`convolve`'s, and so is the kernel, which may be a name.

    >>> lesson = explain([2, 1, 3, 5, 4], [1, -1])
    >>> lesson.convolution.output, lesson.correlation.output, lesson.kernel_symmetry
    (array([-1,  2,  2, -1]), array([ 1, -2, -2,  1]), 'antisymmetric')
    >>> step = lesson.convolution.step((0,))
    >>> step.values, step.weights, step.products, step.total
    (array([2, 1]), array([-1,  1]), array([-2,  1]), -1)
    >>> [s.total for s in explain([2, 1, 3, 5, 4], "diff", steps=slice(1, 3)).steps_of("correlation")]
    [-2, -2]
    """
    from convcli.analysis.steps import walkthrough  # here, not at the top: start-up

    check_choice(operation, ("both", "convolution", "correlation"), "operation")
    options = Options.parse(
        padding=padding,
        stride=stride,
        dilation=dilation,
        pad_mode=pad_mode,
        method=method,
        pad_value=pad_value,
    )
    operations: tuple[Operation, ...] = (
        ("convolution", "correlation") if operation == "both" else (operation,)
    )
    return walkthrough(
        signal, _named(kernel, signal, options), operations, options, _step_span(steps)
    )


def _step_span(steps: object) -> tuple[int | None, int | None] | None:
    """``steps=`` as (start, end): from a pair or a slice of step 1; None for every step."""
    if steps is None:
        return None
    if isinstance(steps, slice):
        if steps.step not in (None, 1):
            raise ConvcliError(f"steps={steps!r} skips steps; give a range with step 1")
        return steps.start, steps.stop
    if isinstance(steps, (tuple, list)) and len(steps) == 2:
        start, end = steps
        if all(n is None or (isinstance(n, int) and not isinstance(n, bool)) for n in steps):
            return start, end
    raise TypeError(f"steps takes a (start, end) pair of ints or a slice, not {steps!r}")
