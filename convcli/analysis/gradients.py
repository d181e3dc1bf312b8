"""The backward pass: correlation forward, convolution backward (and the other way round).

Pure numpy, built on the engine: both gradients are themselves convolutions or
correlations, so the engine computes them. For ``y = corr(pad(x), w)`` with
stride ``s`` and dilation ``d``, and an upstream gradient ``G = dL/dy``,

    y[i]     = sum_k p[i*s + k*d] * w[k]                  (p = pad(x))
    dL/dp[j] = sum_{i*s + k*d = j} G[i] * w[k]  = conv_full(dilate(G, s), w, dilation=d)[j]
    dL/dw[k] = sum_i G[i] * p[i*s + k*d]        = corr(p, dilate(G, s), stride=d)[k]

where ``dilate(G, s)`` puts ``s - 1`` zeros between neighbouring entries of
``G``. ``dL/dx`` is ``dL/dp`` cropped by the padding: with zero padding the
padded cells simply drop out; with the other pad modes each padded cell copies
a signal cell, so its gradient is added back onto that cell. Padded cells at
the end that no window reaches (when the stride does not divide evenly) get a
zero gradient. Convolution is correlation with the flipped kernel, so with
convolution forward ``dL/dx = corr_full(dilate(G, s), w, dilation=d)`` and
``dL/dw = flip(corr(p, dilate(G, s), stride=d))``.

Every result is checked against an independent computation that uses nothing
but the forward operation: the transpose of the operator's matrix (built column
by column by applying the forward operation to unit inputs) applied to ``G``,
or, for large signals, central finite differences on a fixed sample of cells.

Only real values are handled: for complex data the gradient depends on a
convention (Wirtinger derivatives, which conjugate to take) that this teaching
tool does not pick for you, so complex inputs raise :class:`ConvcliError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import numpy as np

from convcli.display import Displayed
from convcli.engine import core as engine
from convcli.engine.geometry import Geometry, fold_padding, pad_signal, spans, spread_by
from convcli.engine.numbers import as_numeric
from convcli.errors import ConvcliError
from convcli.options import (
    Operation,
    Options,
    PaddingSpec,
    PadMode,
    Pads,
    PadValue,
    PerAxis,
)

__all__ = [
    "FORWARD_NAMES",
    "MATRIX_CELL_LIMIT",
    "MATRIX_WORK_LIMIT",
    "Backward",
    "backward",
]

#: The names ``forward=`` accepts and the engine operation each means.
#: The names ``forward=`` takes.
Forward = Literal["corr", "correlation", "conv", "convolution"]
FORWARD_NAMES: dict[str, Operation] = {
    "corr": "correlation",
    "correlation": "correlation",
    "conv": "convolution",
    "convolution": "convolution",
}
#: The operator-matrix check is used while the signal has at most this many cells ...
MATRIX_CELL_LIMIT = 4096
#: ... and building the matrix costs at most this many multiply-adds
#: ((signal cells + kernel cells) * output cells * kernel cells); otherwise
#: central finite differences on a sample of cells.
MATRIX_WORK_LIMIT = 2**26
#: How many cells of x (and of w) the finite-difference check samples.
SAMPLE_SIZE = 32

OPERATOR_MATRIX = "operator matrix"
FINITE_DIFFERENCES = "finite differences"

_INT64_MAX = int(np.iinfo(np.int64).max)
_SHORT = {"correlation": "corr", "convolution": "conv"}


@dataclass(frozen=True, eq=False, repr=False)
class Backward(Displayed):
    """The forward result, both gradients, the formulas they came from and their check.

    Attributes
    ----------
    forward : {"correlation", "convolution"}
        The forward operation, as the engine names it.
    signal, kernel : numpy.ndarray
        ``x`` and ``w`` as numbers (int64, exact Python ints, or float64).
    output : numpy.ndarray
        ``y``, the forward result.
    upstream : numpy.ndarray
        ``G = dL/dy`` as used (all ones unless given), shaped like ``y``.
    grad_signal, grad_kernel : numpy.ndarray
        ``dL/dx`` (shaped like ``x``) and ``dL/dw`` (shaped like ``w``),
        computed with the engine from the formulas below.
    geometry : Geometry
        The forward operation's padding, stride and dilation.
    check_method : {"operator matrix", "finite differences"}
        Which independent computation ``check_signal`` and ``check_kernel`` are.
    check_signal, check_kernel : numpy.ndarray
        The independent gradients. The operator matrix gives every cell (exact
        for integers); finite differences give floats at the sampled cells and
        nan elsewhere.
    largest_difference : float
        The largest ``|formula - check|`` over the checked cells of both
        gradients: 0.0 for exact integers, rounding-sized for floats (nan if a
        nan in the data reaches one side and not the other).
    checked_cells : int
        How many cells of ``dL/dx`` and ``dL/dw`` together the check covers:
        all of them for the operator matrix, a fixed sample (the first and last
        cell of each, and up to 30 more) for finite differences.
    output_formula, grad_signal_formula, grad_kernel_formula : str
        One line each, e.g. ``dL/dx = conv_full(dilate(G, 2), w) cropped by padding 1``.
    uncovered : tuple of int
        Per axis, how many cells at the end of the padded signal no window
        reaches (their gradient is zero).
    notes : tuple of str
        Plain-language remarks the formulas leave out (folding for non-zero pad
        modes, uncovered cells).
    """

    forward: Operation
    signal: np.ndarray
    kernel: np.ndarray
    output: np.ndarray
    upstream: np.ndarray
    grad_signal: np.ndarray
    grad_kernel: np.ndarray
    geometry: Geometry
    check_method: str
    check_signal: np.ndarray
    check_kernel: np.ndarray
    largest_difference: float
    checked_cells: int
    output_formula: str
    grad_signal_formula: str
    grad_kernel_formula: str
    uncovered: tuple[int, ...]
    notes: tuple[str, ...]


def backward(
    signal: object,
    kernel: object,
    grad: object = None,
    *,
    padding: PaddingSpec = "valid",
    stride: PerAxis = 1,
    dilation: PerAxis = 1,
    pad_mode: PadMode = "zeros",
    forward: Forward = "corr",
    pad_value: PadValue | None = None,
) -> Backward:
    """The forward result and the gradients of ``L = sum(G * y)`` with respect to x and w.

    Parameters
    ----------
    signal, kernel : array_like
        ``x`` and ``w``: real numbers, same number of dimensions; the kernel may be a
        name (``"gaussian:5"``, as for :func:`convcli.convolve`).
    grad : array_like, optional
        The upstream gradient ``G = dL/dy``, shaped like the output ``y``;
        all ones (so ``L = sum(y)``) when omitted.
    padding, stride, dilation, pad_mode, pad_value
        As for :func:`convcli.convolve`. Constant padding does not depend on x, so dL/dx
        is cropped as for zeros; its cells are terms of y, so they feed dL/dw.
    forward : {"corr", "correlation", "conv", "convolution"}
        The forward operation. Correlation forward has convolution backward
        (``dL/dx``), and convolution forward has correlation backward.

    Returns
    -------
    Backward
        ``output``, ``grad_signal`` and ``grad_kernel`` as arrays, with the
        formulas they came from and an independent check of both gradients.

    Raises
    ------
    ConvcliError
        For bad data or options (as the engine), complex values, an unknown
        ``forward``, or a ``grad`` not shaped like the output.

    Examples
    --------
    >>> result = backward([2, 1, 3, 5, 4], [1, -1])
    >>> result.output, result.grad_signal, result.grad_kernel
    (array([ 1, -2, -2,  1]), array([ 1,  0,  0,  0, -1]), array([11, 13]))
    >>> result.grad_signal_formula
    'dL/dx = conv_full(G, w)'
    >>> result.check_method, result.largest_difference
    ('operator matrix', 0.0)
    >>> backward([2, 1, 3, 5, 4], [1, -1], forward="conv").grad_kernel
    array([13, 11])
    """
    options = Options.parse(
        padding=padding, stride=stride, dilation=dilation, pad_mode=pad_mode, pad_value=pad_value
    )
    return backward_pass(signal, kernel, grad, forward, options)


def backward_pass(
    signal: object, kernel: object, grad: object, forward: str, options: Options
) -> Backward:
    """:func:`backward` with its options as one object (``options.method`` and
    ``options.convention`` are not used: gradients follow convcli's rules).

    >>> backward_pass([2, 1, 3], [1, -1], None, "corr", Options()).grad_kernel
    array([3, 4])
    """
    operation = _operation(forward)
    x = _real(as_numeric(signal, "signal"), "signal")
    if isinstance(kernel, str):  # a name: "gaussian:5"
        from convcli.analysis.kernels import kernel_argument

        kernel = kernel_argument(kernel, x)
    w = _real(as_numeric(kernel, "kernel"), "kernel")
    result = engine.compute(x, w, operation, options.replace(method="auto"))
    y, geometry = result.values, result.geometry
    g = _upstream(grad, y.shape)

    covered = tuple(
        (n_out - 1) * s + extent
        for n_out, s, extent in zip(
            geometry.output_shape, geometry.stride, spans(w.shape, geometry.dilation)
        )
    )
    uncovered = tuple(p - c for p, c in zip(geometry.padded_shape, covered))
    grad_x = _grad_signal(x.shape, w, g, geometry, covered, operation)
    grad_w = _grad_kernel(x, w.shape, g, geometry, covered, operation, options.pad_value)

    options = Options(
        padding=geometry.pads,
        stride=geometry.stride,
        dilation=geometry.dilation,
        pad_mode=geometry.pad_mode,
        pad_value=options.pad_value,
    )
    if _matrix_affordable(x.size, w.size, y.size):
        method = OPERATOR_MATRIX
        # constant cells do not depend on x: the matrix of y's linear part pads with zeros
        check_x = _matrix_check_signal(x.shape, w, g, operation, options.replace(pad_value=0))
        check_w = _matrix_check_kernel(x, w, g, operation, options)
    else:
        method = FINITE_DIFFERENCES
        check_x = _difference_check(x, w, g, operation, options, wrt="signal")
        check_w = _difference_check(x, w, g, operation, options, wrt="kernel")
    cells_x, cells_w = (
        (None, None) if method == OPERATOR_MATRIX else (_sample(x.size), _sample(w.size))
    )
    largest = max(
        _largest_difference(grad_x, check_x, cells_x),
        _largest_difference(grad_w, check_w, cells_w),
        key=_nan_first,
    )
    checked = sum(
        size if cells is None else cells.size
        for size, cells in ((x.size, cells_x), (w.size, cells_w))
    )
    formulas = _formulas(operation, geometry, w.shape, uncovered)
    return Backward(
        forward=operation,
        signal=x,
        kernel=w,
        output=y,
        upstream=g,
        grad_signal=grad_x,
        grad_kernel=grad_w,
        geometry=geometry,
        check_method=method,
        check_signal=check_x,
        check_kernel=check_w,
        largest_difference=largest,
        checked_cells=checked,
        output_formula=formulas[0],
        grad_signal_formula=formulas[1],
        grad_kernel_formula=formulas[2],
        uncovered=uncovered,
        notes=_notes(geometry, uncovered),
    )


# --------------------------------------------------------------------------- inputs


def _operation(forward: str) -> Operation:
    """The engine operation a ``forward=`` name means."""
    name = forward.strip().lower() if isinstance(forward, str) else None
    if name not in FORWARD_NAMES:
        raise ConvcliError(
            f"unknown forward operation {forward!r}; choose corr (correlation) or conv (convolution)"
        )
    return FORWARD_NAMES[name]


def _real(values: np.ndarray, role: str) -> np.ndarray:
    """The values, unless they are complex (whose gradient depends on a convention)."""
    if values.dtype.kind == "c":
        raise ConvcliError(
            f"backward is defined here for real values; the {role} is complex "
            "(complex gradients depend on a conjugation convention)"
        )
    return values


def _upstream(grad: object, shape: tuple[int, ...]) -> np.ndarray:
    """G as numbers shaped like the output: all ones by default."""
    if grad is None:
        return np.ones(shape, dtype=np.int64)
    g = _real(as_numeric(grad, "upstream gradient"), "upstream gradient")
    if g.shape != shape:
        raise ConvcliError(
            f"the upstream gradient has shape {g.shape} but the output y has shape {shape}; "
            "G must be shaped like y"
        )
    return g


# --------------------------------------------------------------------------- the formulas


def _grad_signal(
    shape: tuple[int, ...],
    w: np.ndarray,
    g: np.ndarray,
    geometry: Geometry,
    covered: tuple[int, ...],
    operation: Operation,
) -> np.ndarray:
    """dL/dx: the full convolution (correlation, for conv forward) of dilate(G) with w,
    zero over the uncovered tail, then cropped (or folded back) by the padding."""
    backward_operation: Operation = "convolution" if operation == "correlation" else "correlation"
    core = engine.compute(
        spread_by(g, geometry.stride),
        w,
        backward_operation,
        Options(padding="full", dilation=geometry.dilation),
    ).values
    grad_padded = np.zeros(geometry.padded_shape, dtype=core.dtype)
    grad_padded[tuple(slice(0, c) for c in covered)] = core
    return fold_padding(grad_padded, shape, geometry.pads, geometry.pad_mode)


def _grad_kernel(
    x: np.ndarray,
    shape: tuple[int, ...],
    g: np.ndarray,
    geometry: Geometry,
    covered: tuple[int, ...],
    operation: Operation,
    pad_value: PadValue,
) -> np.ndarray:
    """dL/dw: the correlation of the (covered part of the) padded x with dilate(G),
    stepping by the dilation; flipped for conv forward."""
    padded = pad_signal(x, geometry.pads, geometry.pad_mode, pad_value)
    padded = padded[tuple(slice(0, c) for c in covered)]
    grad = engine.compute(
        padded, g, "correlation", Options(stride=geometry.dilation, dilation=geometry.stride)
    ).values
    if grad.shape != shape:  # pragma: no cover - the arithmetic above guarantees it
        raise AssertionError(f"dL/dw came out {grad.shape}, expected {shape}")
    return np.flip(grad) if operation == "convolution" else grad


# --------------------------------------------------------------------------- the checks


def _matrix_affordable(signal_size: int, kernel_size: int, output_size: int) -> bool:
    """Whether the operator-matrix check is cheap enough for these sizes."""
    work = (signal_size + kernel_size) * output_size * kernel_size
    return signal_size <= MATRIX_CELL_LIMIT and work <= MATRIX_WORK_LIMIT


def _forward(x: np.ndarray, w: np.ndarray, operation: Operation, options: Options) -> np.ndarray:
    """The forward operation with the planned geometry (explicit pads, so it is reproducible)."""
    return engine.compute(x, w, operation, options).values


def _contract(columns: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``sum(column * G)`` for each leading-axis column, exactly for integers."""
    columns = columns.reshape(columns.shape[0], -1)
    flat = g.ravel()
    if columns.dtype.kind in "iO" and flat.dtype.kind in "iO" and columns.size:
        bound = int(np.abs(columns).max()) * int(np.abs(flat).max()) * flat.size
        if columns.dtype == object or flat.dtype == object or bound > _INT64_MAX:
            columns, flat = columns.astype(object), flat.astype(object)
    return (columns * flat).sum(axis=1)


def _matrix_check_signal(
    shape: tuple[int, ...], w: np.ndarray, g: np.ndarray, operation: Operation, options: Options
) -> np.ndarray:
    """A^T G, where column j of A is the forward operation on the j-th unit signal.

    The unit signals go through the engine in batches along an extra leading
    axis (kernel size 1, no padding, stride 1 there), which keeps each one
    independent of the others.
    """
    pads = cast(Pads, options.padding)
    size = int(np.prod(shape))
    padded_size = int(np.prod([n + b + a for n, (b, a) in zip(shape, pads)]))
    batch = max(1, 2**20 // max(padded_size, 1))
    unit_dtype = np.int64 if w.dtype.kind in "iO" else np.float64
    batched = options.replace(
        padding=((0, 0), *pads), stride=(1, *options.stride), dilation=(1, *options.dilation)
    )
    parts = []
    for start in range(0, size, batch):
        count = min(batch, size - start)
        units = np.zeros((count, size), dtype=unit_dtype)
        units[np.arange(count), start + np.arange(count)] = 1
        columns = _forward(units.reshape((count, *shape)), w[np.newaxis], operation, batched)
        parts.append(_contract(columns, g))
    return np.concatenate(parts).reshape(shape)


def _matrix_check_kernel(
    x: np.ndarray, w: np.ndarray, g: np.ndarray, operation: Operation, options: Options
) -> np.ndarray:
    """B^T G, where column k of B is the forward operation with the k-th unit kernel."""
    unit_dtype = np.int64 if x.dtype.kind in "iO" else np.float64
    columns = []
    for cell in range(w.size):
        unit = np.zeros(w.size, dtype=unit_dtype)
        unit[cell] = 1
        columns.append(_forward(x, unit.reshape(w.shape), operation, options))
    return _contract(np.stack(columns), g).reshape(w.shape)


def _sample(size: int) -> np.ndarray:
    """A fixed sample of flat indices: the first and last cell and some in between."""
    if size <= SAMPLE_SIZE:
        return np.arange(size)
    picked = np.random.default_rng(0).choice(size, SAMPLE_SIZE - 2, replace=False)
    return np.unique(np.concatenate([[0, size - 1], picked]))


def _difference_check(
    x: np.ndarray,
    w: np.ndarray,
    g: np.ndarray,
    operation: Operation,
    options: Options,
    wrt: str,
) -> np.ndarray:
    """Central differences of ``L = sum(G * y)`` at sampled cells, nan elsewhere.

    ``L`` is linear in x (and in w), so ``(L(v + h e) - L(v - h e)) / 2h`` is
    exact up to rounding for any step ``h``; a step the size of the values
    keeps the cancellation error small.
    """
    signal, kernel, gf = x.astype(np.float64), w.astype(np.float64), g.astype(np.float64)
    target = signal if wrt == "signal" else kernel
    finite = np.abs(target[np.isfinite(target)])
    step = max(1.0, float(finite.max()) if finite.size else 1.0)
    check = np.full(target.shape, np.nan)

    def loss(values: np.ndarray) -> float:
        pair: tuple[np.ndarray, np.ndarray] = (
            (values, kernel) if wrt == "signal" else (signal, values)
        )
        return float(np.sum(_forward(*pair, operation, options) * gf))

    for cell in _sample(target.size):
        plus, minus = target.copy(), target.copy()
        plus.flat[cell] += step
        minus.flat[cell] -= step
        check.flat[cell] = (loss(plus) - loss(minus)) / (2 * step)
    return check


def _largest_difference(values: np.ndarray, check: np.ndarray, cells: np.ndarray | None) -> float:
    """max |values - check| over the checked flat ``cells`` (None: every cell).

    Exact for integers. For floats a nan or infinity that both sides share
    counts as agreement; a nan on one side only makes the answer nan.
    """
    a, b = values.ravel(), check.ravel()
    if cells is not None:
        a, b = a[cells], b[cells]
    if a.size == 0:
        return 0.0
    if a.dtype.kind in "iO" and b.dtype.kind in "iO":
        return float(max(abs(int(u) - int(v)) for u, v in zip(a, b)))
    a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore"):
        difference = np.abs(a - b)
    difference[(a == b) | (np.isnan(a) & np.isnan(b))] = 0.0
    return float(difference.max())


def _nan_first(value: float) -> float:
    """Sort key that makes nan the largest difference."""
    return np.inf if np.isnan(value) else value


# --------------------------------------------------------------------------- the words


def _axes(values: tuple[int, ...]) -> str:
    """Per-axis values: one number if all axes agree, else a tuple such as ``(2, 1)``."""
    if len(set(values)) == 1:
        return str(values[0])
    return "(" + ", ".join(str(v) for v in values) + ")"


def _pads_text(pads: Pads) -> str:
    """Padding as the CLI writes it: ``1``, ``0:1`` or ``1,0:1``."""
    pairs = [str(b) if b == a else f"{b}:{a}" for b, a in pads]
    return pairs[0] if len(set(pairs)) == 1 else ",".join(pairs)


def _formulas(
    operation: Operation,
    geometry: Geometry,
    kernel_shape: tuple[int, ...],
    uncovered: tuple[int, ...],
) -> tuple[str, str, str]:
    """The one-line formulas for y, dL/dx and dL/dw with this geometry's numbers."""
    padded = any(b or a for b, a in geometry.pads)
    strided = any(s > 1 for s in geometry.stride)
    dilated = any(d > 1 for d in geometry.dilation)
    stride, dilation = _axes(geometry.stride), _axes(geometry.dilation)
    px = "pad(x)" if padded else "x"
    g_dilated = f"dilate(G, {stride})" if strided else "G"
    forward_short = _SHORT[operation]
    backward_short = "conv" if operation == "correlation" else "corr"

    options = [f"stride={stride}"] if strided else []
    options += [f"dilation={dilation}"] if dilated else []
    output = f"y = {forward_short}({', '.join([px, 'w', *options])})"

    core = f"{backward_short}_full({g_dilated}, w{f', dilation={dilation}' if dilated else ''})"
    if any(uncovered):
        core += f", zero-extended to the shape of {px}"
    if padded and geometry.pad_mode in ("zeros", "constant"):
        core += f" cropped by padding {_pads_text(geometry.pads)}"
    elif padded:
        core += f" folded back by {geometry.pad_mode} padding {_pads_text(geometry.pads)}"
    grad_signal = f"dL/dx = {core}"

    kernel_core = f"corr({px}, {g_dilated}{f', stride={dilation}' if dilated else ''})"
    if any(u >= d for u, d in zip(uncovered, geometry.dilation)):
        # the uncovered tail leaves room for more steps than the kernel has cells
        kernel_core += "[" + ", ".join(f":{k}" for k in kernel_shape) + "]"
    if operation == "convolution":
        kernel_core = f"flip({kernel_core})"
    grad_kernel = f"dL/dw = {kernel_core}"
    return output, grad_signal, grad_kernel


def _notes(geometry: Geometry, uncovered: tuple[int, ...]) -> tuple[str, ...]:
    """Remarks on what the formulas leave implicit."""
    notes = []
    if geometry.pad_mode not in ("zeros", "constant") and any(b or a for b, a in geometry.pads):
        notes.append(
            f"{geometry.pad_mode} padding copies signal cells, so the gradient of each "
            "padded cell is added to the signal cell it copies"
        )
    for axis, count in enumerate(uncovered):
        if count:
            cells = "cell" if count == 1 else "cells"
            notes.append(
                f"the last {count} padded {cells} on axis {axis} lie under no window "
                "(the stride steps past them): zero gradient"
            )
    return tuple(notes)
