"""A CNN layer's backward pass: the input's gradient is the transposed layer of the
upstream gradient, the weights' a correlation of the input with it, the bias's its sum.

For ``y = layer(x, w) + b`` and ``G = dL/dy``::

    dL/dx = layer(G, w, transposed=True, same stride, padding, dilation, groups)
    dL/dw[o, j, k] = sum_{n, p} G[n, o, p] * pad(x)[n, c(o, j), p*stride + k*dilation]
    dL/db[o] = sum_{n, p} G[n, o, p]

and the other way round for a transposed layer, whose input's gradient is the forward
layer of ``G``. With a pad mode other than zeros, each padded cell's gradient is added
back onto the cell it copies. Both gradients are checked against the operator's matrix:
``dL/dx[i] = sum(G * layer(e_i, w))`` for unit inputs ``e_i`` (every cell of a small
layer, a fixed sample of a large one), and likewise for the weights.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from convcli.analysis.layers import (
    ZEROS,
    Layer,
    LayerPlan,
    Layout,
    Prepared,
    _column_sums,
    _gathered,
    _padded,
    _tap_sums,
    _to_layout,
    _transposed,
    prepare,
    run_layer,
)
from convcli.display import Displayed
from convcli.engine.geometry import fold_padding
from convcli.engine.numbers import as_numeric
from convcli.errors import LayerError
from convcli.options import Convention, Options, PaddingSpec, PadMode, PadValue, PerAxis

__all__ = ["LayerBackward", "layer_backward", "layer_backward_of"]

#: Every cell of x and w is checked while each has at most this many; otherwise a sample.
CHECK_ALL = 256
#: How many cells of x (and of w) a large layer's check samples.
SAMPLE_SIZE = 32


@dataclass(frozen=True, eq=False, repr=False)
class LayerBackward(Displayed):
    """A layer's output, the gradients of ``L = sum(G * y)``, their formulas and check.

    Arrays are in the caller's layout: ``grad_input`` shaped like ``x``, ``grad_weight``
    like ``w``, ``grad_bias`` like the bias (``(C_out,)``; computed whether or not a bias
    was given). ``transpose_agrees`` says whether ``grad_input`` equals the layer
    ``grad_input_formula`` names, called as written (None where the padding is folded
    back, which no layer call does). ``check_method`` is ``"operator matrix"`` (every
    cell) or ``"operator matrix, sampled cells"``; ``largest_difference`` the largest
    ``|gradient - check|`` over the ``checked_cells`` (0.0 for exact integers).
    """

    plan: LayerPlan
    spec: Layer
    output: np.ndarray
    upstream: np.ndarray
    grad_input: np.ndarray
    grad_weight: np.ndarray
    grad_bias: np.ndarray
    output_formula: str
    grad_input_formula: str
    grad_weight_formula: str
    grad_bias_formula: str
    transpose_agrees: bool | None
    check_method: str
    largest_difference: float
    checked_cells: int


def layer_backward(
    x: object,
    w: object,
    grad: object = None,
    bias: object = None,
    *,
    stride: PerAxis = 1,
    padding: PaddingSpec = 0,
    dilation: PerAxis = 1,
    groups: int = 1,
    pad_mode: PadMode = "zeros",
    pad_value: PadValue | None = None,
    layout: Layout = "nchw",
    transposed: bool = False,
    output_padding: PerAxis = 0,
    convention: Convention = "convcli",
) -> LayerBackward:
    """The backward pass of :func:`convcli.layer`: ``dL/dx``, ``dL/dw`` and ``dL/db`` for
    ``L = sum(G * y)`` (``G`` all ones unless given, shaped like ``y``), each checked
    against the operator's matrix.

    >>> result = layer_backward([[[2, 1, 3, 5, 4]]], [[[1, -1]]])
    >>> result.output, result.grad_input
    (array([[[ 1, -2, -2,  1]]]), array([[[ 1,  0,  0,  0, -1]]]))
    >>> result.grad_weight, result.grad_bias
    (array([[[11, 13]]]), array([4]))
    >>> result.grad_input_formula
    'dL/dx = layer(G, w, transposed=True)'
    """
    spec = Layer.parse(
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        pad_mode=pad_mode,
        pad_value=pad_value,
        layout=layout,
        transposed=transposed,
        output_padding=output_padding,
        convention=convention,
    )
    return layer_backward_of(x, w, grad, bias, spec)


def layer_backward_of(
    x: object, w: object, grad: object, bias: object, spec: Layer
) -> LayerBackward:
    """:func:`layer_backward` with its options as one object."""
    prepared = prepare(x, w, bias, spec)
    if prepared.inputs.dtype.kind == "c":
        raise LayerError(
            "the layer's backward pass is defined here for real values; complex gradients "
            "depend on a conjugation convention"
        )
    layer_plan = prepared.plan
    values = run_layer(x, w, bias, spec)
    given, upstream = _upstream(grad, values.shape, spec.layout, layer_plan)
    exact = prepared.integers and upstream.dtype.kind in "iO"
    dtype = _gradient_dtype(prepared, upstream, exact)
    g = upstream.astype(dtype)
    # integers summed exactly in float64 go back to ints first: object arrays hold ints
    inputs = prepared.exact(prepared.inputs).astype(dtype)
    weights = prepared.exact(prepared.weights).astype(dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        if spec.transposed:
            adjoint = _adjoint(layer_plan)
            grad_input = _forward_of(g, weights, adjoint)
            grad_weight = _weight_gradient(g, inputs, adjoint, ZEROS)
        else:
            grad_input = _input_gradient(g, weights, layer_plan, spec.options.pad_mode)
            grad_weight = _weight_gradient(inputs, g, layer_plan, spec.options)
        grad_bias = g.sum(axis=(0, *range(2, g.ndim)))
        method, largest, checked = _check(
            layer_plan, inputs, weights, g, spec, grad_input, grad_weight
        )
    if exact and dtype == np.float64:
        grad_input, grad_weight, grad_bias = (
            a.astype(np.int64) for a in (grad_input, grad_weight, grad_bias)
        )
    grad_input = _to_layout(grad_input, layer_plan, spec.layout)
    grad_weight = _weights_layout(grad_weight, spec)
    twin = _twin(spec, layer_plan)
    transpose_agrees = None
    if _pads_constants(spec):
        again = run_layer(given, w, None, twin)
        # a transposed layer's output_padding can leave the forward layer of G longer
        # than x at the end of an axis: dL/dx is its first cells
        kept: Any = tuple(slice(0, n) for n in grad_input.shape)
        transpose_agrees = _same(again[kept], grad_input, exact)
    return LayerBackward(
        plan=layer_plan,
        spec=spec,
        output=values,
        upstream=given,
        grad_input=grad_input,
        grad_weight=grad_weight,
        grad_bias=grad_bias,
        output_formula=_call("y", "x", spec, bias is not None),
        grad_input_formula=_grad_input_formula(spec, twin, layer_plan),
        grad_weight_formula=_grad_weight_formula(spec),
        grad_bias_formula="dL/db[o] = sum of G[:, o] over the batch and every position",
        transpose_agrees=transpose_agrees,
        check_method=method,
        largest_difference=largest,
        checked_cells=checked,
    )


def _upstream(
    grad: object, shape: tuple[int, ...], layout: Layout, layer_plan: LayerPlan
) -> tuple[np.ndarray, np.ndarray]:
    """G as given (all ones by default) and channels first, batched."""
    if grad is None:
        given = np.ones(shape, dtype=np.int64)
    else:
        given = as_numeric(grad, "upstream gradient")
        if given.dtype.kind == "c":
            raise LayerError(
                "the upstream gradient is complex; the backward pass takes real values"
            )
        if given.shape != shape:
            raise LayerError(
                f"the upstream gradient has shape {tuple(given.shape)} but the layer's output "
                f"has shape {tuple(shape)}; G must be shaped like the output"
            )
    g = given if layer_plan.batched else given[None]
    if layout == "nhwc":
        g = np.moveaxis(g, -1, 1)
    return given, np.ascontiguousarray(g)


def _gradient_dtype(prepared: Prepared, upstream: np.ndarray, exact: bool) -> np.dtype | type:
    """float64 for floats; for integers float64 while every partial sum stays below 2**53,
    else int64 or Python ints."""
    arrays = (prepared.inputs, prepared.weights, upstream)
    if not exact:
        return np.float64
    if any(a.dtype == object for a in arrays):
        return object
    layer_plan = prepared.plan
    taps = math.prod(layer_plan.kernel_shape)
    positions = max(math.prod(layer_plan.input_spatial), math.prod(layer_plan.output_spatial))
    # the most terms any sum has: dL/dw sums over the batch and the positions; dL/dx over
    # channels and taps, and folding adds a kernel's worth more
    terms = max(layer_plan.batch * positions, layer_plan.out_channels * taps * taps)
    bound = terms
    for a in arrays:
        bound *= max(abs(int(a.max())), abs(int(a.min())), 1)
    if bound < 2.0**53:
        return np.float64
    return np.int64 if bound <= np.iinfo(np.int64).max else object


def _adjoint(layer_plan: LayerPlan) -> LayerPlan:
    """The plan of the layer whose matrix is the transpose of this one's: channels and
    spatial shapes swapped, the same geometry."""
    return dataclasses.replace(
        layer_plan,
        in_channels=layer_plan.out_channels,
        out_channels=layer_plan.in_channels,
        input_spatial=layer_plan.output_spatial,
        output_spatial=layer_plan.input_spatial,
        transposed=not layer_plan.transposed,
    )


def _forward_of(inputs: np.ndarray, weights: np.ndarray, layer_plan: LayerPlan) -> np.ndarray:
    """The forward sums of a plan (zero padding), by the layer's own paths."""
    if layer_plan.group_in == 1:
        return _tap_sums(inputs, weights, layer_plan, ZEROS)
    return _column_sums(inputs, weights, layer_plan, ZEROS)


def _input_gradient(
    g: np.ndarray, weights: np.ndarray, layer_plan: LayerPlan, pad_mode: PadMode
) -> np.ndarray:
    """dL/dx of a forward layer: the transposed layer of G, folded back where the padding
    copies cells."""
    adjoint = _adjoint(layer_plan)
    if pad_mode in ("zeros", "constant"):  # padding that is no function of x
        return _transposed(g, weights, adjoint)
    geometry = layer_plan.geometry
    unpadded = dataclasses.replace(geometry, pads=((0, 0),) * layer_plan.dims)
    on_padded = dataclasses.replace(
        adjoint, geometry=unpadded, output_spatial=geometry.padded_shape
    )
    spread = _transposed(g, weights, on_padded)
    return np.ascontiguousarray(
        fold_padding(spread, layer_plan.input_spatial, geometry.pads, pad_mode)
    )


def _weight_gradient(
    inputs: np.ndarray, g: np.ndarray, layer_plan: LayerPlan, options: Options
) -> np.ndarray:
    """dL/dw of a forward layer: for each group, G times the gathered input columns."""
    groups, group_out = layer_plan.groups, layer_plan.group_out
    taps = math.prod(layer_plan.kernel_shape)
    grad = np.zeros((groups, group_out, layer_plan.group_in * taps), dtype=g.dtype)
    rest = math.prod(layer_plan.geometry.output_shape[1:])
    padded = _padded(inputs, layer_plan.geometry, options)
    for n, first, count, columns in _gathered(padded, layer_plan):
        rows = g[n, :, first : first + count].reshape(groups, group_out, count * rest)
        grad += np.matmul(rows, columns.transpose(0, 2, 1))
    return grad.reshape(layer_plan.out_channels, layer_plan.group_in, *layer_plan.kernel_shape)


def _weights_layout(grad: np.ndarray, spec: Layer) -> np.ndarray:
    """Channels-first weights (or their gradient) in the caller's layout."""
    if spec.layout == "nchw":
        return grad
    dims = grad.ndim - 2
    return np.ascontiguousarray(grad.transpose(*range(2, dims + 2), 1, 0))


def _same(a: np.ndarray, b: np.ndarray, exact: bool) -> bool:
    """Equal: exactly for integers, to 1e-12 relative (and equal nans) for floats."""
    if a.shape != b.shape:
        return False
    if exact:
        return bool(np.array_equal(a, b))
    return bool(np.allclose(a, b, rtol=1e-12, atol=0.0, equal_nan=True))


# --------------------------------------------------------------------------- the check


def _check(
    layer_plan: LayerPlan,
    inputs: np.ndarray,
    weights: np.ndarray,
    g: np.ndarray,
    spec: Layer,
    grad_input: np.ndarray,
    grad_weight: np.ndarray,
) -> tuple[str, float, int]:
    """Both gradients against the operator's matrix, channels first: ``dL/dx[i]`` is
    ``sum(G * layer(e_i, w))`` for a unit input ``e_i`` (all of a sample's unit inputs go
    through the layer as one batch), and ``dL/dw[i]`` the same with a unit kernel on the
    one input channel it reads. Every cell of a small layer, a fixed sample otherwise."""
    first = Layer(
        options=spec.options,
        groups=spec.groups,
        transposed=spec.transposed,
        output_padding=spec.output_padding,
    )
    cells_x = _cells(inputs.size)
    cells_w = _cells(weights.size)
    sample_shape = inputs.shape[1:]
    positions = np.unravel_index(cells_x, inputs.shape)
    units = np.zeros((cells_x.size, *sample_shape), dtype=inputs.dtype)
    ones: Any = (np.arange(cells_x.size), *positions[1:])
    units[ones] = 1
    # constant padding adds the same to every response: x's matrix is the zero-padded one
    linear = (
        dataclasses.replace(first, options=first.options.replace(pad_mode="zeros", pad_value=0))
        if first.options.pad_mode == "constant"
        else first
    )
    responses = run_layer(units, weights, None, linear)
    check_x = (responses * g[positions[0]]).reshape(cells_x.size, -1).sum(axis=1)
    channel = dataclasses.replace(first, groups=1)
    kernel_shape = weights.shape[2:]
    check_w = []
    for flat in cells_w:
        index = np.unravel_index(flat, weights.shape)
        unit = np.zeros((1, 1, *kernel_shape), dtype=weights.dtype)
        tap: Any = (0, 0, *index[2:])
        unit[tap] = 1
        if spec.transposed:
            source, target = (
                int(index[0]),
                int(index[0]) // layer_plan.group_in * (layer_plan.group_out) + int(index[1]),
            )
        else:
            target = int(index[0])
            source = target // layer_plan.group_out * layer_plan.group_in + int(index[1])
        response = run_layer(inputs[:, source : source + 1], unit, None, channel)
        check_w.append(np.vdot(response[:, 0].ravel(), g[:, target].ravel()))
    got_x = grad_input.ravel()[cells_x]
    got_w = grad_weight.ravel()[cells_w]
    largest = max(
        _largest(got_x, np.asarray(check_x)),
        _largest(got_w, np.asarray(check_w, dtype=got_w.dtype)),
    )
    every = cells_x.size == inputs.size and cells_w.size == weights.size
    method = "operator matrix" if every else "operator matrix, sampled cells"
    return method, largest, int(cells_x.size + cells_w.size)


def _cells(size: int) -> np.ndarray:
    """Every flat index of a small array; the first, the last and 30 more of a large one."""
    if size <= CHECK_ALL:
        return np.arange(size)
    middle = np.random.default_rng(0).choice(np.arange(1, size - 1), SAMPLE_SIZE - 2, replace=False)
    return np.sort(np.concatenate(([0, size - 1], middle)))


def _largest(got: np.ndarray, check: np.ndarray) -> float:
    """The largest |got - check| (nan if a nan reaches one side only)."""
    if got.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        both_nan = np.isnan(got.astype(float)) & np.isnan(check.astype(float))
        differences = np.abs((got - check).astype(float))
    differences[both_nan] = 0.0
    return float(np.nanmax(differences)) if not np.isnan(differences).any() else float("nan")


# --------------------------------------------------------------------------- the formulas


def _twin(spec: Layer, layer_plan: LayerPlan) -> Layer:
    """The layer whose output is dL/dx: the transposed layer of a forward one (with the
    output_padding that gives back x's shape), the forward layer of a transposed one."""
    geometry = layer_plan.geometry
    options = spec.options.replace(padding=geometry.pads, pad_mode="zeros", pad_value=0)
    if spec.transposed:
        return dataclasses.replace(spec, options=options, transposed=False, output_padding=(0,))
    extents = [d * (k - 1) + 1 for k, d in zip(layer_plan.kernel_shape, geometry.dilation)]
    covered = tuple(
        (n - 1) * s + e - before - after
        for n, s, e, (before, after) in zip(
            layer_plan.output_spatial, geometry.stride, extents, geometry.pads
        )
    )
    extra = tuple(n - c for n, c in zip(layer_plan.input_spatial, covered))
    return dataclasses.replace(
        spec,
        options=options.replace(convention="convcli", multiply_padding=False),
        transposed=True,
        output_padding=extra if any(extra) else (0,),
    )


def _call(result: str, source: str, spec: Layer, bias: bool) -> str:
    """``y = layer(x, w, stride=2, ...)`` for a spec, writing only what differs from the defaults."""
    options = spec.options
    words = [source, "w"] + (["b"] if bias else [])
    if spec.layout != "nchw":
        words.append(f"layout={spec.layout!r}")
    if spec.transposed:
        words.append("transposed=True")
    if any(n > 1 for n in options.stride):
        words.append(f"stride={_axes(options.stride)}")
    padding = options.padding
    if isinstance(padding, str):
        if padding != "valid":
            words.append(f"padding={padding!r}")
    elif any(map(any, padding)):
        words.append("padding=" + _pads(padding))
    if any(n > 1 for n in options.dilation):
        words.append(f"dilation={_axes(options.dilation)}")
    if spec.groups > 1:
        words.append(f"groups={spec.groups}")
    if options.pad_mode != "zeros":
        words.append(f"pad_mode={options.pad_mode!r}")
    if options.pad_mode == "constant":
        words.append(f"pad_value={options.pad_value!r}")
    if any(spec.output_padding):
        words.append(f"output_padding={_axes(spec.output_padding)}")
    return f"{result} = layer({', '.join(words)})"


def _grad_input_formula(spec: Layer, twin: Layer, layer_plan: LayerPlan) -> str:
    """dL/dx as the layer call that computes it; for pad modes that copy cells, the call's
    uncropped output on the padded grid, each padded cell's gradient folded back."""
    if _pads_constants(spec):
        formula = _call("dL/dx", "G", twin, False)
        if spec.transposed and any(spec.output_padding):
            formula += ", its first cells as many as x has"
        return formula
    geometry = layer_plan.geometry
    extents = [d * (k - 1) + 1 for k, d in zip(layer_plan.kernel_shape, geometry.dilation)]
    uncovered = tuple(
        p - ((n - 1) * s + e)
        for p, n, s, e in zip(
            geometry.padded_shape, layer_plan.output_spatial, geometry.stride, extents
        )
    )
    whole = dataclasses.replace(
        twin,
        options=twin.options.replace(padding=((0, 0),) * layer_plan.dims),
        output_padding=uncovered if any(uncovered) else (0,),
    )
    return (
        _call("dL/dpad(x)", "G", whole, False)
        + f"; dL/dx adds each padded cell's gradient onto the cell its {spec.options.pad_mode} "
        "padding copied"
    )


def _grad_weight_formula(spec: Layer) -> str:
    """dL/dw in words and symbols."""
    if spec.transposed:
        return "dL/dw[c, m, k] = sum over n, i of x[n, c, i] * G[n, o(c, m), i*stride + k*dilation - pad]"
    return (
        "dL/dw[o, j, k] = sum over n, p of G[n, o, p] * pad(x)[n, c(o, j), p*stride + k*dilation]"
    )


def _pads_constants(spec: Layer) -> bool:
    """Whether the layer's padding holds constants (zeros or a pad value), which are no
    function of x: dL/dx is then the transposed layer of G as it is."""
    return spec.options.pad_mode in ("zeros", "constant")


def _axes(values: tuple[int, ...]) -> str:
    """``2`` or ``(2, 1)``."""
    return str(values[0]) if len(values) == 1 else str(tuple(values))


def _pads(pads: tuple[tuple[int, int], ...]) -> str:
    """Pads as layer() takes them: an int, ints per axis, or (before, after) pairs."""
    if all(b == a for b, a in pads):
        befores = tuple(b for b, _ in pads)
        return _axes(befores) if len(set(befores)) > 1 else str(befores[0])
    return str(list(pads))
