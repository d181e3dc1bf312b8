"""Tests for convcli.analysis.steps: every Step of ``explain`` as a sum of products.

Property tests draw 1-D and 2-D cases (every padding form, pad mode, stride and
dilation; int, float and complex values) and check each step against itself
(products, sum), against the engine (totals) and against the naive reference's
index mapping (which cells a step reads, which of them are padding). Worked
examples check the steps by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from convcli import ConvcliError
from convcli.analysis.steps import Explanation, Step, explain
from convcli.engine import core as engine
from convcli.options import Options
from tests.reference import (
    PAD_MODE_NAMES,
    reference_output_shape,
    reference_pads,
    reference_slide,
    source_index,
)

OPERATIONS = ("convolution", "correlation")
F = [2, 1, 3, 5, 4]
H = [1, -1]


# --------------------------------------------------------------------------- strategies


@dataclass
class Case:
    """One drawn explain call: the engine's spelling of the options and the reference's."""

    signal: np.ndarray
    kernel: np.ndarray
    operation: str
    padding: object  # as passed to explain
    reference_padding: object  # "valid"/"same"/"full" or (before, after) pairs
    stride: object
    dilation: object
    pad_mode: str

    def options(self) -> dict:
        return {
            "padding": self.padding,
            "stride": self.stride,
            "dilation": self.dilation,
            "pad_mode": self.pad_mode,
        }

    def reference_options(self) -> dict:
        return {
            "padding": self.reference_padding,
            "stride": ints(self.stride),
            "dilation": ints(self.dilation),
        }


def ints(value: object) -> int | tuple[int, ...]:
    """A stride or dilation as the reference takes it: an int, or a tuple of ints."""
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return tuple(int(part) for part in value.split(","))
    return tuple(value)


ELEMENTS = {
    "int": st.integers(-9, 9),
    "float": st.floats(-100, 100, allow_nan=False, allow_infinity=False),
    "complex": st.complex_numbers(max_magnitude=100, allow_nan=False, allow_infinity=False),
}
DTYPES = {"int": np.int64, "float": np.float64, "complex": np.complex128}


def arrays(draw: st.DrawFn, kind: str, shape: tuple[int, ...]) -> np.ndarray:
    size = int(np.prod(shape))
    cells = draw(st.lists(ELEMENTS[kind], min_size=size, max_size=size))
    return np.array(cells, dtype=DTYPES[kind]).reshape(shape)


def per_axis(draw: st.DrawFn, ndim: int, low: int, high: int) -> object:
    """An int for every axis, "2,1" text, or a tuple of one per axis."""
    values = draw(st.lists(st.integers(low, high), min_size=ndim, max_size=ndim))
    form = draw(st.sampled_from(["int", "text", "tuple"]))
    if form == "int":
        return values[0]
    if form == "text":
        return ",".join(map(str, values))
    return tuple(values)


def paddings(draw: st.DrawFn, ndim: int) -> tuple[object, object]:
    """(what explain takes, what the reference takes): every form --padding accepts."""
    form = draw(
        st.sampled_from(["valid", "same", "full", "int", "text", "pair", "per-axis", "pairs"])
    )
    if form in ("valid", "same", "full"):
        return form, form
    n = draw(st.integers(0, 3))
    if form == "int":
        return n, [(n, n)]
    if form == "text":
        return str(n), [(n, n)]
    pairs = [
        (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
        for _ in range(1 if form == "pair" else ndim)
    ]
    if form == "pairs":
        return [list(pair) for pair in pairs], pairs
    return ",".join(f"{b}:{a}" for b, a in pairs), pairs


@st.composite
def cases(draw: st.DrawFn, ndim: int) -> Case:
    kind = draw(st.sampled_from(sorted(ELEMENTS)))
    kernel_kind = draw(st.sampled_from([kind, "int"]))  # mixed kinds too
    kernel_shape = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dilation = per_axis(draw, ndim, 1, 3)
    dilations = ints(dilation)
    dilations = (dilations,) * ndim if isinstance(dilations, int) else dilations
    spans = [d * (k - 1) + 1 for d, k in zip(dilations, kernel_shape)]
    top = 9 if ndim == 1 else 5
    signal_shape = tuple(draw(st.integers(1, max(top, span + 1))) for span in spans)
    padding, reference_padding = paddings(draw, ndim)
    return Case(
        signal=arrays(draw, kind, signal_shape),
        kernel=arrays(draw, kernel_kind, kernel_shape),
        operation=draw(st.sampled_from(OPERATIONS)),
        padding=padding,
        reference_padding=reference_padding,
        stride=per_axis(draw, ndim, 1, 3),
        dilation=dilation,
        pad_mode=draw(st.sampled_from(PAD_MODE_NAMES)),
    )


# --------------------------------------------------------------------------- checks


def explained(case: Case) -> Explanation:
    try:
        return explain(case.signal, case.kernel, case.operation, Options.parse(**case.options()))
    except ConvcliError as error:
        assert "kernel spans" in str(error), error  # only a kernel too big is expected
        assume(False)
        raise  # unreachable


def tolerance(products: np.ndarray) -> float:
    """Rounding allowed in a float sum: relative to the size of its terms."""
    return 1e-9 * float(np.abs(products.astype(np.complex128)).sum()) + 1e-12


def check_step_arithmetic(explanation: Explanation, step: Step) -> None:
    """products == weights * values, sum(products) == total, total == output."""
    kernel_shape = explanation.setup.kernel.shape
    assert step.values.shape == step.weights.shape == step.products.shape == kernel_shape
    np.testing.assert_array_equal(step.products, step.weights * step.values)
    assert step.total == explanation.output[step.position]
    terms = step.products.reshape(-1).tolist()
    if explanation.output.dtype.kind in "iO":
        assert isinstance(step.total, int) and not isinstance(step.total, bool)
        assert sum(terms) == step.total
    else:
        assert isinstance(step.total, (float, complex))
        assert abs(sum(terms) - step.total) <= tolerance(step.products)


def check_cells_against_reference(case: Case, explanation: Explanation, step: Step) -> None:
    """The cells a step reads follow the reference's padding and index mapping."""
    signal, kernel = case.signal, case.kernel
    ndim = signal.ndim
    pads = reference_pads(signal.shape, kernel.shape, **case.reference_options())
    options = case.reference_options()
    strides, dilations = (
        (value,) * ndim if isinstance(value, int) else value
        for value in (options["stride"], options["dilation"])
    )
    assert step.cells.shape == (*kernel.shape, ndim)
    assert step.padding.shape == kernel.shape
    for tap in product(*(range(k) for k in kernel.shape)):
        raw = tuple(
            step.position[axis] * strides[axis] + tap[axis] * dilations[axis] - pads[axis][0]
            for axis in range(ndim)
        )
        assert tuple(step.cells[tap].tolist()) == raw, (tap, step.cells[tap], raw)
        outside = any(not 0 <= raw[axis] < signal.shape[axis] for axis in range(ndim))
        assert bool(step.padding[tap]) == outside, (tap, raw)
        sources = [source_index(raw[a], signal.shape[a], case.pad_mode) for a in range(ndim)]
        expected = 0 if None in sources else signal[tuple(sources)]
        assert step.values[tap] == expected, (tap, raw, sources)


def check_explanation(case: Case, explanation: Explanation) -> None:
    options = case.reference_options()
    # The output and its shape: the engine's and the reference's.
    expected_shape = reference_output_shape(case.signal.shape, case.kernel.shape, **options)
    assert explanation.output.shape == expected_shape
    computed = engine.compute(
        case.signal, case.kernel, case.operation, Options.parse(**case.options())
    )
    np.testing.assert_array_equal(explanation.output, computed.values)
    assert explanation.count == int(np.prod(expected_shape))
    assert list(explanation.positions()) == list(np.ndindex(expected_shape))
    reference, magnitude = reference_slide(
        case.signal, case.kernel, case.operation, pad_mode=case.pad_mode, **options
    )
    # The weights: flip(h) for convolution, conj(h) for correlation.
    oriented = np.flip(case.kernel) if case.operation == "convolution" else np.conj(case.kernel)
    np.testing.assert_array_equal(explanation.setup.weights, oriented)
    for position in explanation.positions():
        step = explanation.step(position)
        assert step.position == position
        np.testing.assert_array_equal(step.weights, oriented)
        check_step_arithmetic(explanation, step)
        check_cells_against_reference(case, explanation, step)
        if case.signal.dtype.kind == case.kernel.dtype.kind == "i":
            assert step.total == reference[position]
        else:
            assert abs(step.total - reference[position]) <= 1e-9 * magnitude[position] + 1e-12


# --------------------------------------------------------------------------- properties


@pytest.mark.slow
@given(cases(ndim=1))
def test_steps_1d_agree_with_engine_and_reference(case: Case) -> None:
    explanation = explained(case)
    note(f"geometry={explanation.geometry}")
    check_explanation(case, explanation)


@pytest.mark.slow
@given(cases(ndim=2))
def test_steps_2d_agree_with_engine_and_reference(case: Case) -> None:
    explanation = explained(case)
    note(f"geometry={explanation.geometry}")
    check_explanation(case, explanation)


@pytest.mark.parametrize("pad_mode", PAD_MODE_NAMES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_padding_flagged_exactly_outside_the_signal(operation: str, pad_mode: str) -> None:
    """Every pad mode, padding much wider than the signal: the flags and cells still agree."""
    case = Case(
        signal=np.array([3, -1, 4, 1, -5, 9, 2, -6]),
        kernel=np.array([1, 2, 5]),
        operation=operation,
        padding="4:5",
        reference_padding=[(4, 5)],
        stride=1,
        dilation=2,
        pad_mode=pad_mode,
    )
    explanation = explain(case.signal, case.kernel, operation, Options.parse(**case.options()))
    check_explanation(case, explanation)
    flagged = [explanation.step(p).padding.any() for p in explanation.positions()]
    assert any(flagged) and not all(flagged)


# --------------------------------------------------------------------------- worked examples


def test_worked_example_convolution_by_hand() -> None:
    explanation = explain(F, H, "convolution")
    assert explanation.operation == "convolution"
    assert explanation.count == 4
    assert explanation.method == "direct"
    first = explanation.step((0,))
    assert first.weights.tolist() == [-1, 1]  # h flipped
    assert first.values.tolist() == [2, 1]
    assert first.products.tolist() == [-2, 1]
    assert first.total == -1 and type(first.total) is int
    assert first.cells.tolist() == [[0], [1]]
    assert first.padding.tolist() == [False, False]
    by_hand = [
        ([2, 1], [-2, 1], -1),
        ([1, 3], [-1, 3], 2),
        ([3, 5], [-3, 5], 2),
        ([5, 4], [-5, 4], -1),
    ]
    for position, (values, products, total) in zip(explanation.positions(), by_hand):
        step = explanation.step(position)
        assert (step.values.tolist(), step.products.tolist(), step.total) == (
            values,
            products,
            total,
        )


def test_worked_example_correlation_by_hand() -> None:
    explanation = explain(F, H, "correlation")
    assert explanation.setup.weights.tolist() == [1, -1]  # h as given
    totals = [explanation.step(p).total for p in explanation.positions()]
    assert totals == [1, -2, -2, 1]
    step = explanation.step((2,))
    assert step.values.tolist() == [3, 5]
    assert step.products.tolist() == [3, -5]
    assert step.cells.tolist() == [[2], [3]]


def test_same_padding_by_hand() -> None:
    explanation = explain(F, [1, 2, 1], "correlation", Options.parse(padding="same"))
    first, last = explanation.step((0,)), explanation.step((4,))
    assert first.cells.tolist() == [[-1], [0], [1]]
    assert first.padding.tolist() == [True, False, False]
    assert first.values.tolist() == [0, 2, 1]
    assert first.total == 5
    assert last.cells.tolist() == [[3], [4], [5]]
    assert last.padding.tolist() == [False, False, True]
    assert last.products.tolist() == [5, 8, 0]
    assert last.total == 13


def test_reflect_padding_reads_mirrored_values() -> None:
    explanation = explain(
        [1, 2, 3], [1], "correlation", Options.parse(padding=2, pad_mode="reflect")
    )
    steps = [explanation.step(p) for p in explanation.positions()]
    assert [s.cells.tolist()[0][0] for s in steps] == [-2, -1, 0, 1, 2, 3, 4]
    assert [bool(s.padding[0]) for s in steps] == [True, True, False, False, False, True, True]
    assert [s.total for s in steps] == [3, 2, 1, 2, 3, 2, 1]


def test_stride_and_dilation_by_hand() -> None:
    explanation = explain(F, H, "correlation", Options.parse(stride=2, dilation=2))
    steps = [explanation.step(p) for p in explanation.positions()]
    assert [s.cells.tolist() for s in steps] == [[[0], [2]], [[2], [4]]]
    assert [s.values.tolist() for s in steps] == [[2, 3], [3, 4]]
    assert [s.total for s in steps] == [-1, -1]


def test_2d_step_by_hand() -> None:
    f = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    explanation = explain(f, [[1, 0], [0, -1]], "convolution")
    step = explanation.step((0, 0))
    assert step.weights.tolist() == [[-1, 0], [0, 1]]
    assert step.values.tolist() == [[1, 2], [4, 5]]
    assert step.products.tolist() == [[-1, 0], [0, 5]]
    assert step.total == 4
    assert step.cells.tolist() == [[[0, 0], [0, 1]], [[1, 0], [1, 1]]]
    assert not step.padding.any()
    assert list(explanation.positions()) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_2d_padded_step_by_hand() -> None:
    f = [[1, 2], [3, 4]]
    explanation = explain(f, [[1, 1], [1, 1]], "correlation", Options.parse(padding="1:0,0:1"))
    step = explanation.step((0, 1))
    assert step.cells.tolist() == [[[-1, 1], [-1, 2]], [[0, 1], [0, 2]]]
    assert step.padding.tolist() == [[True, True], [False, True]]
    assert step.values.tolist() == [[0, 0], [2, 0]]
    assert step.total == 2


def test_complex_correlation_conjugates_the_kernel() -> None:
    explanation = explain([1 + 2j, 3, -1j], [1j, 2], "correlation")
    assert explanation.setup.weights.tolist() == [-1j, 2]
    step = explanation.step((0,))
    assert step.products.tolist() == [-1j * (1 + 2j), 6]
    assert step.total == 8 - 1j and isinstance(step.total, complex)
    convolution = explain([1 + 2j, 3, -1j], [1j, 2], "convolution")
    assert convolution.setup.weights.tolist() == [2, 1j]  # flipped, not conjugated
    assert convolution.step((0,)).total == 2 + 7j


def test_huge_integers_stay_exact() -> None:
    big = 2**70
    explanation = explain([big, 1, -big], [3, -1], "convolution")
    steps = [explanation.step(p) for p in explanation.positions()]
    assert [s.total for s in steps] == [-big + 3, -1 - 3 * big]
    for step in steps:
        assert all(type(p) is int for p in step.products.tolist())
        assert sum(step.products.tolist()) == step.total


def test_explain_rejects_what_the_engine_rejects() -> None:
    with pytest.raises(ConvcliError, match="kernel spans"):
        explain([1, 2], [1, 2, 3], "convolution")
    with pytest.raises(ConvcliError, match="operation='"):
        explain([1, 2], [1], "sum")


# --------------------------------------------------------------------------- layer cells


@given(
    data=st.data(),
    dims=st.integers(1, 2),
    transposed=st.booleans(),
    groups=st.sampled_from([1, 2]),
    stride=st.integers(1, 2),
    dilation=st.integers(1, 2),
    padding=st.integers(0, 1),
    pad_mode=st.sampled_from(["zeros", "reflect", "circular"]),
)
def test_every_layer_cell_adds_up_to_the_layer(
    data, dims, transposed, groups, stride, dilation, padding, pad_mode
) -> None:
    """Each output cell written out (bias plus every channel's products) is what the layer
    computes there, exactly for integers, forward and transposed, padded and strided."""
    from convcli.analysis.layers import Layer, run_layer
    from convcli.analysis.steps import layer_cell

    assume(not transposed or pad_mode == "zeros")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    spatial = (5,) * dims
    x = rng.integers(-4, 5, (2, 2 * groups, *spatial))
    kernel = (2,) * dims
    out_per_group = data.draw(st.integers(1, 2))
    if transposed:
        w = rng.integers(-3, 4, (x.shape[1], out_per_group, *kernel))
        out_channels = out_per_group * groups
    else:
        out_channels = out_per_group * groups
        w = rng.integers(-3, 4, (out_channels, x.shape[1] // groups, *kernel))
    bias = rng.integers(-5, 6, out_channels)
    extra = 1 if transposed and stride > 1 else 0
    spec = Layer.parse(
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        pad_mode=pad_mode,
        transposed=transposed,
        output_padding=extra,
    )
    output = run_layer(x, w, bias, spec)
    cell = tuple(data.draw(st.integers(0, n - 1)) for n in output.shape)
    written = layer_cell(x, w, bias, spec, cell)
    note(f"{cell=} {output.shape=}")
    assert written.value == output[cell] == written.layer_value
    assert written.agrees
    assert type(written.value) is int


def test_a_layer_cell_by_hand() -> None:
    """y[0, 1, 0] of a padded layer: the padded tap reads nothing (zeros are no term)."""
    from convcli.analysis.layers import Layer
    from convcli.analysis.steps import layer_cell

    x = [[[2, 1, 3], [0, 1, 0]]]
    w = [[[1, 1], [1, 1]], [[5, 1], [2, 3]]]
    written = layer_cell(x, w, [0, 7], Layer.parse(padding=1), (0, 1, 0))
    first, second = written.terms
    assert first.input_cells.tolist() == [[-1], [0]] and first.padding.tolist() == [True, False]
    assert (first.total, second.total, written.bias, written.value) == (2, 0, 7, 9)


def test_a_layer_cell_outside_the_output_names_its_shape() -> None:
    from convcli.analysis.layers import Layer
    from convcli.analysis.steps import layer_cell

    with pytest.raises(ConvcliError, match=r"the cell \(0, 9\) is outside .* \(1, 2\)"):
        layer_cell([[1, 2, 3]], [[[1, 1]]], None, Layer(), (0, 9))


@settings(max_examples=40)
@given(cases(ndim=2), st.data())
def test_a_range_of_steps_is_that_slice_of_every_step(case: Case, data) -> None:
    """only(start, end) writes out exactly those steps of the row-major order, unchanged."""
    explanation = explained(case)
    start = data.draw(st.integers(0, explanation.count - 1))
    end = data.draw(st.integers(start + 1, explanation.count))
    every = list(explanation.positions())
    chosen = explanation.only(start, end)
    assert list(chosen.positions()) == every[start:end]
    assert chosen.steps == range(start, end) and chosen.count == explanation.count
    for position in chosen.positions():
        assert chosen.step(position).total == explanation.step(position).total


@settings(max_examples=40)
@given(cases(ndim=2), st.data())
def test_all_products_at_once_are_each_steps(case: Case, data) -> None:
    """all_products() gives, for every step written out, what step() gives one at a time."""
    explanation = explained(case)
    start = data.draw(st.integers(0, explanation.count - 1))
    chosen = explanation.only(start, data.draw(st.integers(start + 1, explanation.count)))
    values, products = chosen.all_products()
    assert len(values) == len(products) == len(chosen.steps)
    for number, position in enumerate(chosen.positions()):
        step = chosen.step(position)
        np.testing.assert_array_equal(values[number], step.values)
        np.testing.assert_array_equal(products[number], step.products)
        assert products[number].dtype == step.products.dtype


@pytest.mark.parametrize(("start", "end"), [(4, 5), (2, 2), (3, 1), (0, 9), (-1, 2)])
def test_a_range_outside_the_steps_is_refused(start: int, end: int) -> None:
    explanation = explain([2, 1, 3, 5, 4], [1, -1], "convolution")
    with pytest.raises(ConvcliError, match=r"not within the 4 steps .*0 <= START < END <= 4"):
        explanation.only(start, end)


def test_axes_are_refused_by_an_explanation():
    """An explanation's windows span every axis: broadcasting along some is refused, not
    written out as windows that read past the signal."""
    with pytest.raises(ConvcliError, match="axes= does not apply to an explanation"):
        explain([[1, 2, 3], [4, 5, 6]], [[1, -1], [2, -2]], "convolution", Options.parse(axes=1))
