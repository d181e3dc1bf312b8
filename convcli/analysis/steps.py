"""The terms behind every output: what ``convcli explain`` writes out, step by step.

Pure numpy, like the engine it builds on. Each output of a convolution or a
correlation is a dot product of one window of the padded signal with the kernel
as slid (flipped, or conjugated); a :class:`Step` holds that window, the
weights, their products and the output, so a renderer only has to format them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from convcli.display import Displayed
from convcli.engine import core as engine
from convcli.engine.geometry import Geometry
from convcli.errors import ConvcliError, LayerError
from convcli.options import Operation, Options, Symmetry

if TYPE_CHECKING:
    from convcli.analysis.layers import Layer, LayerPlan

__all__ = [
    "CellTerm",
    "Explanation",
    "LayerCell",
    "Step",
    "Walkthrough",
    "explain",
    "layer_cell",
    "walkthrough",
]


@dataclass(frozen=True, eq=False, repr=False)
class Step(Displayed):
    """One output as a sum of products: ``total = sum(weights * values)``.

    ``cells`` gives, for each kernel tap, the signal index it reads (an index
    of the unpadded signal, so padding shows as -1 or N and beyond), ``padding``
    marks the taps that read padding rather than the signal.
    """

    position: tuple[int, ...]
    cells: np.ndarray
    padding: np.ndarray
    values: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    total: object


@dataclass(frozen=True, eq=False, repr=False)
class Explanation(Displayed):
    """One operation on one signal and kernel, ready to be explained output by output.

    ``steps`` are the outputs written out, by their number in row-major order (all of
    them unless :meth:`only` chose a range).
    """

    setup: engine.Setup
    output: np.ndarray
    method: str
    chosen: range | None = None

    @property
    def operation(self) -> Operation:
        """``convolution`` or ``correlation``."""
        return self.setup.operation

    @property
    def geometry(self) -> Geometry:
        """The padding, stride and dilation shared by every step."""
        return self.setup.geometry

    @property
    def count(self) -> int:
        """How many steps (outputs) there are."""
        return int(self.output.size)

    @property
    def steps(self) -> range:
        """The numbers of the steps written out (row-major output order, from 0)."""
        return range(self.count) if self.chosen is None else self.chosen

    def only(self, start: int | None = None, end: int | None = None) -> Explanation:
        """The same explanation, writing out steps ``start`` to ``end`` (end excluded, as
        in a Python slice; None is the first or past the last).

        >>> list(explain([2, 1, 3, 5, 4], [1, -1], "convolution").only(1, 3).positions())
        [(1,), (2,)]
        """
        count = self.count
        first = 0 if start is None else start
        last = count if end is None else end
        if not 0 <= first < last <= count:
            raise ConvcliError(
                f"steps {_slice_text(start, end)} are not within the {count} steps of this "
                f"explanation: give START:END with 0 <= START < END <= {count}"
            )
        return replace(self, chosen=range(first, last))

    def positions(self) -> Iterator[tuple[int, ...]]:
        """The position of every step written out, in row-major order."""
        if self.chosen is None:
            return np.ndindex(self.output.shape)
        shape = self.output.shape
        return (tuple(int(i) for i in np.unravel_index(n, shape)) for n in self.chosen)

    def lag(self, position: tuple[int, ...]) -> tuple[int, ...]:
        """The lag of the output at ``position``, per axis (see :mod:`convcli.analysis.xcorr`).

        >>> explain([2, 1, 3, 5, 4], [1, -1], "correlation", Options(padding="full")).lag((0,))
        (-1,)
        """
        from convcli.analysis.xcorr import output_lags  # here, not at the top: start-up

        return output_lags(self.geometry, position)

    def step(self, position: tuple[int, ...]) -> Step:
        """The window, weights, products and total of the output at ``position``.

        >>> explanation = explain([2, 1, 3, 5, 4], [1, -1], "convolution")
        >>> step = explanation.step((0,))
        >>> step.weights, step.values, step.products, step.total
        (array([-1,  1]), array([2, 1]), array([-2,  1]), -1)
        """
        geometry, prepared = self.geometry, self.setup
        padded_cells = tuple(cells[0] for cells in self._reads(np.array([position])))
        values = prepared.padded[padded_cells]
        before = np.array([pad[0] for pad in geometry.pads]).reshape((-1,) + (1,) * len(position))
        with np.errstate(over="ignore", invalid="ignore"):  # inf and nan, as the sums give
            products = prepared.weights * values
        return Step(
            position=tuple(position),
            cells=np.moveaxis(np.array(padded_cells) - before, 0, -1),
            padding=~prepared.in_signal[padded_cells],
            values=values,
            weights=prepared.weights,
            products=products,
            total=_python_number(self.output[tuple(position)]),
        )

    def _reads(self, positions: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per axis, the padded cell each kernel tap reads at each of ``positions`` (one
        row each): arrays shaped (len(positions), *kernel shape)."""
        geometry, weights = self.geometry, self.setup.weights
        taps = np.indices(weights.shape)
        column = (-1,) + (1,) * weights.ndim
        return tuple(
            positions[:, axis].reshape(column) * stride + taps[axis] * dilation
            for axis, (stride, dilation) in enumerate(zip(geometry.stride, geometry.dilation))
        )

    def all_products(self) -> tuple[np.ndarray, np.ndarray]:
        """The values and products of every step written out, at once (what :meth:`step`
        gives one at a time): arrays shaped (steps, *kernel shape).

        >>> values, products = explain([2, 1, 3, 5, 4], [1, -1], "convolution").all_products()
        >>> products.tolist()
        [[-2, 1], [-1, 3], [-3, 5], [-5, 4]]
        """
        chosen = np.array(self.steps, dtype=np.int64)
        positions = np.stack(np.unravel_index(chosen, self.output.shape), axis=-1)
        values = self.setup.padded[self._reads(positions.reshape(len(chosen), -1))]
        with np.errstate(over="ignore", invalid="ignore"):  # inf and nan, as the sums give
            return values, self.setup.weights * values


def _slice_text(start: int | None, end: int | None) -> str:
    """``3:7``, ``:7`` or ``3:``, as the range was asked for."""
    return f"{'' if start is None else start}:{'' if end is None else end}"


def _python_number(value: object) -> object:
    """A numpy scalar as the Python number it holds (object arrays already hold those)."""
    return value.item() if isinstance(value, np.generic) else value


def explain(
    signal: object, kernel: object, operation: Operation, options: Options = Options()
) -> Explanation:
    """Set up one operation so that each output can be explained as a sum of products.

    >>> explanation = explain([2, 1, 3, 5, 4], [1, -1], "correlation")
    >>> explanation.output, explanation.count
    (array([ 1, -2, -2,  1]), 4)
    """
    if options.axes is not None:
        raise ConvcliError(
            "axes= does not apply to an explanation, which slides the kernel along every "
            "axis of the signal"
        )
    prepared = engine.setup(signal, kernel, operation, options)
    result = engine.compute(prepared.signal, prepared.kernel, operation, options)
    return Explanation(prepared, result.values, result.method)


@dataclass(frozen=True, eq=False, repr=False)
class Walkthrough(Displayed):
    """Convolution, correlation or both of one signal and kernel, each written out step by
    step, and the kernel's symmetry, which decides how the two relate for every signal.

    ``convolution`` and ``correlation`` are the :class:`Explanation` of each operation
    asked for (None for one that was not); ``kernel`` is the kernel as numbers.
    """

    kernel: np.ndarray
    kernel_symmetry: Symmetry
    convolution: Explanation | None = None
    correlation: Explanation | None = None

    @property
    def explanations(self) -> tuple[Explanation, ...]:
        """The explanations there are, convolution first."""
        return tuple(e for e in (self.convolution, self.correlation) if e is not None)

    def steps_of(self, operation: Operation) -> tuple[Step, ...]:
        """Every step of ``operation`` written out, in order.

        >>> steps = walkthrough([2, 1, 3, 5, 4], [1, -1], ("correlation",)).steps_of("correlation")
        >>> [step.total for step in steps]
        [1, -2, -2, 1]
        """
        explanation = self.convolution if operation == "convolution" else self.correlation
        if explanation is None:
            raise ConvcliError(f"this walkthrough has no {operation}: ask for it with operation=")
        return tuple(explanation.step(position) for position in explanation.positions())


def walkthrough(
    signal: object,
    kernel: object,
    operations: tuple[Operation, ...] = ("convolution", "correlation"),
    options: Options = Options(),
    span: tuple[int | None, int | None] | None = None,
) -> Walkthrough:
    """The :class:`Walkthrough` of ``operations``, writing out the steps ``span`` picks
    (start, end; all of them if None).

    >>> both = walkthrough([2, 1, 3, 5, 4], [1, -1], span=(1, 3))
    >>> both.kernel_symmetry, [e.output.tolist() for e in both.explanations]
    ('antisymmetric', [[-1, 2, 2, -1], [1, -2, -2, 1]])
    """
    found = {}
    for operation in operations:
        explanation = explain(signal, kernel, operation, options)
        found[operation] = explanation if span is None else explanation.only(*span)
    h = next(iter(found.values())).setup.kernel
    return Walkthrough(h, engine.kernel_symmetry(h, options.axes), **found)


@dataclass(frozen=True, eq=False)
class CellTerm:
    """One input channel's part of a layer's output cell: ``total = sum(weights * values)``
    over the kernel taps that reach the cell.

    ``input_cells`` are the input's spatial indices each tap reads (outside the input for
    padding, which ``padding`` marks), ``weight_cells`` the taps' kernel indices.
    """

    channel: int
    kernel: tuple[int, int]
    input_cells: np.ndarray
    weight_cells: np.ndarray
    padding: np.ndarray
    values: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    total: object


@dataclass(frozen=True, eq=False, repr=False)
class LayerCell(Displayed):
    """One output cell of a layer as its sum: the bias plus one :class:`CellTerm` per input
    channel of its group. ``cell`` indexes the output as the layer returns it; ``value`` is
    the sum written out, ``layer_value`` what the layer computed there, and ``agrees``
    whether they are equal (exactly for integers, to 1e-12 of the products' magnitude for
    floats, whose sums the layer adds in another order).
    """

    cell: tuple[int, ...]
    sample: int
    output_channel: int
    position: tuple[int, ...]
    bias: object
    terms: tuple[CellTerm, ...]
    value: object
    layer_value: object
    agrees: bool
    plan: LayerPlan
    spec: Layer


def layer_cell(
    x: object, w: object, bias: object, spec: Layer, cell: tuple[int, ...] | None = None
) -> LayerCell:
    """One output cell of a layer written out as its sum over channels and kernel taps
    (``cell`` indexes the output as :func:`convcli.layer` returns it; the first by default).

    >>> from convcli.analysis.layers import Layer
    >>> x, w = [[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]], [[[1, -1], [1, 1]]]
    >>> c = layer_cell(x, w, [10], Layer(), (0, 0, 1))
    >>> [term.products.tolist() for term in c.terms], c.value, c.layer_value
    ([[1, -3], [1, 0]], 9, 9)
    """
    from convcli.analysis import layers

    prepared = layers.prepare(x, w, bias, spec)
    layer_plan = prepared.plan
    shape = layer_plan.output_shape
    if cell is None:
        cell = (0,) * len(shape)
    if len(cell) != len(shape) or any(not 0 <= i < n for i, n in zip(cell, shape)):
        raise LayerError(
            f"the cell {_tuple_text(cell)} is outside the layer's output, of shape "
            f"{_tuple_text(shape)}; give one index per axis, from 0"
        )
    batched = cell if layer_plan.batched else (0, *cell)
    if spec.layout == "nhwc":
        sample, position, out = batched[0], tuple(batched[1:-1]), batched[-1]
    else:
        sample, out, position = batched[0], batched[1], tuple(batched[2:])
    group, local = divmod(out, layer_plan.group_out)
    # convcli's rule: zero padding is no term of the sum (0 * inf adds nothing)
    skip_padding = layer_plan.geometry.pad_mode == "zeros" and not spec.options.multiply_padding
    terms = []
    for j in range(layer_plan.group_in):
        channel = group * layer_plan.group_in + j
        values = prepared.inputs[sample, channel]
        if spec.transposed:
            kernel_index = (channel, local)
            found = _spread_taps(values, prepared.weights[kernel_index], position, layer_plan)
        else:
            kernel_index = (out, j)
            found = _window_taps(values, prepared.weights[kernel_index], position, layer_plan)
        cells, taps, padding, read, weights = found
        read, weights = prepared.exact(read), prepared.exact(weights)
        products = weights * read
        counted = products[~padding] if skip_padding else products
        total = _python_number(counted.sum()) if counted.size else 0
        terms.append(
            CellTerm(channel, kernel_index, cells, taps, padding, read, weights, products, total)
        )
    offset = None if prepared.bias is None else _python_number(prepared.exact(prepared.bias)[out])
    value: Any = 0 if offset is None else offset
    for term in terms:
        value = value + term.total
    output = layers.run_layer(x, w, bias, spec)
    layer_value = _python_number(output[tuple(cell)])
    magnitude = sum(float(np.abs(term.products).sum()) for term in terms) + abs(value)
    agrees = bool(
        value == layer_value
        or (prepared.inputs.dtype.kind in "fc" and abs(value - layer_value) <= 1e-12 * magnitude)
    )
    return LayerCell(
        cell=tuple(cell),
        sample=sample,
        output_channel=out,
        position=position,
        bias=offset,
        terms=tuple(terms),
        value=value,
        layer_value=layer_value,
        agrees=agrees,
        plan=layer_plan,
        spec=spec,
    )


def _tuple_text(values: tuple[int, ...]) -> str:
    """A tuple as Python writes it."""
    return str(tuple(values))


def _kernel_taps(kernel: np.ndarray) -> np.ndarray:
    """Every tap's index in the kernel, one row each."""
    return np.array(list(np.ndindex(kernel.shape)), dtype=np.int64).reshape(-1, kernel.ndim)


def _window_taps(
    values: np.ndarray, kernel: np.ndarray, position: tuple[int, ...], layer_plan: LayerPlan
) -> tuple[np.ndarray, ...]:
    """A forward term: the input cell each tap of the kernel meets in the padded channel
    (an index outside the channel for padding), the padding marks, the values and weights."""
    from convcli.engine.geometry import pad_signal

    geometry = layer_plan.geometry
    padded = pad_signal(values, geometry.pads, geometry.pad_mode)
    taps = _kernel_taps(kernel)
    reads = np.array(position) * geometry.stride + taps * geometry.dilation
    cells = reads - np.array([before for before, _ in geometry.pads])
    padding = ((cells < 0) | (cells >= values.shape)).any(axis=1)
    return cells, taps, padding, padded[tuple(reads.T)], kernel[tuple(taps.T)]


def _spread_taps(
    values: np.ndarray, kernel: np.ndarray, position: tuple[int, ...], layer_plan: LayerPlan
) -> tuple[np.ndarray, ...]:
    """A transposed term: every input cell m and tap k with ``m*stride + k*dilation`` on the
    cell (counted before the padding crops the output)."""
    geometry = layer_plan.geometry
    taps = _kernel_taps(kernel)
    pads = np.array([before for before, _ in geometry.pads])
    reach = np.array(position) + pads - taps * geometry.dilation
    stride = np.array(geometry.stride)
    cells = reach // stride
    hit = ((reach % stride == 0) & (cells >= 0) & (cells < values.shape)).all(axis=1)
    taps, cells = taps[hit], cells[hit]
    padding = np.zeros(len(cells), dtype=bool)
    return cells, taps, padding, values[tuple(cells.T)], kernel[tuple(taps.T)]
