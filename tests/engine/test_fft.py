"""Tests for convcli.engine.fft, with every method ("auto", "direct", "fft") against the
naive reference in tests/reference.py and against numpy and scipy: random small cases in
1-D, 2-D and 3-D with every padding, pad mode, stride and dilation; exact integers at
every size; nan/inf placement; long signals cut into overlap-save blocks; tiny inputs."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

import convcli
from convcli.engine import core as engine
from convcli.engine import fft
from convcli.engine.core import compute
from convcli.options import METHODS, Options
from tests.examples import EPS, assert_matches, fft_error_bound, norm
from tests.reference import (
    PAD_MODE_NAMES,
    reference_output_shape,
    reference_pad,
    reference_pads,
    reference_slide,
)

OPERATIONS = ("convolution", "correlation")
NUMPY_PAD_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}
DTYPES = {"int": np.int64, "float": np.float64, "complex": np.complex128}
VALUES = {
    "int": st.integers(-9, 9),
    "float": st.floats(-10, 10, allow_nan=False, allow_infinity=False, allow_subnormal=False),
    "complex": st.builds(
        complex,
        st.floats(-10, 10, allow_nan=False, allow_infinity=False, allow_subnormal=False),
        st.floats(-10, 10, allow_nan=False, allow_infinity=False, allow_subnormal=False),
    ),
}
#: (largest signal side, largest kernel side) per number of dimensions
SIDES = {1: (16, 6), 2: (7, 3), 3: (4, 2)}


# --------------------------------------------------------------------------- helpers


@dataclass
class Case:
    """One problem: the inputs, the options as the engine takes them, and as the reference does."""

    signal: np.ndarray
    kernel: np.ndarray
    operation: str
    padding: str  # the engine's spec: valid, same, full or "B:A[,B:A]"
    reference_padding: object  # the reference's normalised form
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_mode: str

    def options(self, method: str) -> dict:
        """Keyword arguments for engine.compute."""
        return {
            "padding": self.padding,
            "stride": self.stride,
            "dilation": self.dilation,
            "pad_mode": self.pad_mode,
            "method": method,
        }

    def reference_options(self) -> dict:
        """Keyword arguments for reference_slide."""
        return {
            "padding": self.reference_padding,
            "stride": self.stride,
            "dilation": self.dilation,
            "pad_mode": self.pad_mode,
        }

    def pads(self) -> tuple[tuple[int, int], ...]:
        """(before, after) per axis, by the reference's rules."""
        return reference_pads(
            self.signal.shape, self.kernel.shape, self.reference_padding, self.stride, self.dilation
        )

    def run(self, method: str) -> engine.Result:
        """engine.compute on this case with ``method``."""
        return compute(
            self.signal, self.kernel, self.operation, Options.parse(**self.options(method))
        )

    def reference(self) -> tuple[np.ndarray, np.ndarray]:
        """The naive reference's values (Python scalars) and per-output sum |p| |h|."""
        return reference_slide(self.signal, self.kernel, self.operation, **self.reference_options())


def fft_error_scale(case: Case) -> float:
    """The absolute error an FFT sum may have in any output of this case (see fft_error_bound)."""
    signal = case.signal.astype(np.complex128)
    padded = np.pad(signal, case.pads(), mode=NUMPY_PAD_MODES[case.pad_mode])
    return fft_error_bound(padded, case.kernel)


def assert_exact_integers(actual: np.ndarray, expected: np.ndarray) -> None:
    """int64 or an object array of Python ints, equal to ``expected`` as Python ints."""
    assert actual.shape == expected.shape
    assert actual.dtype.kind in "iO", actual.dtype
    if actual.dtype.kind == "O":
        assert all(type(v) is int for v in actual.flat), "object results must be Python ints"
    assert [int(v) for v in actual.flat] == [int(v) for v in expected.flat]


def assert_nonfinite_placement(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """The same outputs are nan, +inf and -inf as in the reference; returns the finite mask."""
    expected = np.asarray(expected, dtype=np.complex128 if actual.dtype.kind == "c" else float)
    for predicate in (np.isnan, np.isposinf, np.isneginf):
        if actual.dtype.kind == "c":
            for part in ("real", "imag"):
                got, want = predicate(getattr(actual, part)), predicate(getattr(expected, part))
                assert np.array_equal(got, want), f"{predicate.__name__} ({part}) differs"
        else:
            got, want = predicate(actual), predicate(expected)
            assert np.array_equal(got, want), (
                f"{predicate.__name__} at {np.argwhere(got).tolist()}, "
                f"reference at {np.argwhere(want).tolist()}"
            )
    return np.isfinite(expected)


def assert_close(
    actual: np.ndarray, expected: np.ndarray, magnitude: np.ndarray, slack: np.ndarray | float
) -> None:
    """Non-finite outputs placed as in the reference; finite ones within 1e-12 of the
    window's sum |p| |h| plus ``slack`` (the FFT's absolute error, where it applies)."""
    assert actual.shape == expected.shape
    assert actual.dtype.kind in "fc", actual.dtype
    finite = assert_nonfinite_placement(actual, expected)
    want = np.asarray(expected, dtype=np.complex128)
    with np.errstate(invalid="ignore"):  # inf - inf where both are inf
        diff = np.abs(actual.astype(np.complex128) - want)
    bound = 1e-12 * magnitude + slack + 1e-300
    bad = finite & ~(diff <= bound)
    assert not bad.any(), (
        f"differs at {np.argwhere(bad).tolist()[:10]}: got {actual[bad][:5]}, "
        f"want {want[bad][:5]}, allowed {np.broadcast_to(bound, bad.shape)[bad][:5]}"
    )


def slack_for(case: Case, method: str, used: str, expected: np.ndarray) -> np.ndarray | float:
    """How far a float result may stray beyond the direct sum's rounding.

    ``direct``: nothing. ``fft``: the FFT's absolute error in every output.
    ``auto`` when it used the FFT: no more than that, and at most 4 * fft.ACCURACY of
    the output itself (its guard recomputes outputs the FFT would blur).
    """
    if used == "direct":
        return 0.0
    scale = 8 * fft_error_scale(case)
    if method == "fft":
        return scale
    size = np.abs(np.asarray(expected, dtype=np.complex128))
    return np.minimum(scale, 4 * fft.ACCURACY * np.where(np.isfinite(size), size, 0))


def check_every_method(case: Case) -> None:
    """Each method against the naive reference: exactly for integers, else within tolerance."""
    expected, magnitude = case.reference()
    integers = case.signal.dtype.kind in "iO" and case.kernel.dtype.kind in "iO"
    for method in METHODS:
        result = case.run(method)
        assert result.method in ("direct", "fft")
        if method != "auto":
            assert result.method == method or result.values.dtype == object
        if integers:
            assert_exact_integers(result.values, expected)
        else:
            slack = slack_for(case, method, result.method, expected)
            assert_close(result.values, expected, magnitude, slack)


# --------------------------------------------------------------------------- strategies


@st.composite
def cases(
    draw,
    ndims: tuple[int, ...] = (1, 1, 2),
    kinds: tuple[str, ...] = ("int", "float", "complex"),
    values: dict | None = None,
) -> Case:
    """A random problem that fits: any padding form, pad mode, stride and dilation."""
    ndim = draw(st.sampled_from(ndims))
    max_n, max_k = SIDES[ndim]
    kernel_shape = tuple(draw(st.integers(1, max_k)) for _ in range(ndim))
    signal_shape = tuple(draw(st.integers(1, max_n)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    form = draw(st.sampled_from(["valid", "same", "full", "explicit", "explicit"]))
    if form == "explicit":
        pairs = [(draw(st.integers(0, 4)), draw(st.integers(0, 4))) for _ in range(ndim)]
        padding = ",".join(f"{b}:{a}" for b, a in pairs)
        reference_padding: object = pairs
    else:
        padding = reference_padding = form
    out = reference_output_shape(signal_shape, kernel_shape, reference_padding, stride, dilation)
    assume(all(n > 0 for n in out))
    elements = values or VALUES
    signal_kind, kernel_kind = draw(st.sampled_from(kinds)), draw(st.sampled_from(kinds))

    def array(shape: tuple[int, ...], kind: str) -> np.ndarray:
        cells = draw(st.lists(elements[kind], min_size=math.prod(shape), max_size=math.prod(shape)))
        dtype = DTYPES[kind] if all(abs(v) < 2**63 for v in cells) else object
        flat = np.empty(len(cells), dtype=dtype)
        flat[:] = cells
        return flat.reshape(shape)

    case = Case(
        signal=array(signal_shape, signal_kind),
        kernel=array(kernel_shape, kernel_kind),
        operation=draw(st.sampled_from(OPERATIONS)),
        padding=padding,
        reference_padding=reference_padding,
        stride=stride,
        dilation=dilation,
        pad_mode=draw(st.sampled_from(PAD_MODE_NAMES)),
    )
    note(repr(case))
    return case


# --------------------------------------------------------------------------- random cases vs the reference


@pytest.mark.slow
@given(cases())
def test_every_method_matches_reference(case: Case):
    check_every_method(case)


@pytest.mark.slow
@given(cases(ndims=(3,)))
@settings(max_examples=15)
def test_every_method_matches_reference_3d(case: Case):
    check_every_method(case)


@pytest.mark.slow
@given(cases(ndims=(1, 2), kinds=("int",)))
def test_integers_exact_under_every_method(case: Case):
    """Small integers: the FFT's rounding is proven exact, so fft rounds; still exactly equal."""
    check_every_method(case)
    for method in METHODS:
        assert case.run(method).values.dtype == np.int64


@st.composite
def large_integer_cases(draw) -> Case:
    """Signals up to 2**40 with kernels up to 2**12: outputs past 2**53, which no float
    FFT result can round to; one cell at full size so the FFT's error bound fails."""
    case = draw(
        cases(
            kinds=("int",),
            values={"int": st.integers(-(2**40), 2**40)},
        )
    )
    kernel_values = draw(
        st.lists(st.integers(-(2**12), 2**12), min_size=case.kernel.size, max_size=case.kernel.size)
    )
    case.kernel = np.array(kernel_values, dtype=np.int64).reshape(case.kernel.shape)
    case.signal.flat[0] = 2**40 - 1
    case.kernel.flat[-1] = 2**12
    return case


@pytest.mark.slow
@given(large_integer_cases())
def test_large_integers_exact_where_fft_cannot_round(case: Case):
    check_every_method(case)
    for method in METHODS:
        assert case.run(method).values.dtype == np.int64  # max|f| sum|h| < 2**62


@pytest.mark.slow
@given(cases(ndims=(1, 2), kinds=("int",), values={"int": st.integers(-(2**70), 2**70)}))
@settings(max_examples=30)
def test_huge_integers_exact_as_python_ints(case: Case):
    """Values past int64 (or products that could overflow it): object arrays of Python ints,
    summed directly whatever the method asked for."""
    case.signal = np.array(case.signal.tolist(), dtype=object)
    case.signal.flat[0] = 2**66 + 1  # at least one value past int64, whatever was drawn
    case.kernel.flat[-1] = case.kernel.flat[-1] or 1  # a zero kernel: see the test below
    check_every_method(case)
    for method in METHODS:
        result = case.run(method)
        assert result.values.dtype == object
        assert result.method == "direct"


@pytest.mark.parametrize("method", METHODS)
def test_huge_signal_with_zero_kernel_gives_exact_zeros(method: str):
    """max|f| * sum|h| is 0 for an all-zero kernel, yet the signal itself does not fit int64."""
    values = compute([2**64, 1], [0], "convolution", Options.parse(method=method)).values
    assert values.tolist() == [0, 0]


def test_int64_inputs_whose_products_overflow_int64_stay_exact():
    signal = np.array([2**62, -(2**62), 2**61 + 3, 7, -(2**62)], dtype=np.int64)
    kernel = np.array([2**20, 3, -(2**19)], dtype=np.int64)
    for operation in OPERATIONS:
        case = Case(signal, kernel, operation, "full", "full", (1,), (1,), "zeros")
        expected = case.reference()[0]
        for method in METHODS:
            result = case.run(method)
            assert result.values.dtype == object
            assert_exact_integers(result.values, expected)


# --------------------------------------------------------------------------- nan / inf placement


@st.composite
def nonfinite_cases(draw) -> Case:
    """Float signals with a few nan, +inf and -inf; kernels with some zero taps (0 * inf),
    and now and then a nan or inf of their own (in every window then; over zero padding
    it is no term of the sum, as in the reference)."""
    case = draw(
        cases(
            kinds=("float",),
            values={"float": st.sampled_from([0.0, 1.0, -2.0, 0.5]) | VALUES["float"]},
        )
    )
    count = draw(st.integers(1, min(4, case.signal.size)))
    cells = draw(st.lists(st.integers(0, case.signal.size - 1), min_size=count, max_size=count))
    for cell in cells:
        case.signal.flat[cell] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if draw(st.integers(0, 3)) == 0:
        cell = draw(st.integers(0, case.kernel.size - 1))
        case.kernel.flat[cell] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return case


@pytest.mark.slow
@given(nonfinite_cases())
def test_nonfinite_outputs_placed_as_the_direct_sum_says(case: Case):
    check_every_method(case)


@pytest.mark.parametrize("method", METHODS)
def test_nonfinite_stays_local_under_fft(method: str):
    """One inf: only windows touching it are inf; inf and -inf in one window give nan;
    0 * inf gives nan; everything else is finite (scipy's FFT would spread nan everywhere)."""
    signal = np.arange(1.0, 41.0)
    signal[10], signal[25], signal[27] = np.inf, np.inf, -np.inf
    kernel = np.array([1.0, 0.0, 2.0, 1.0])
    case = Case(signal, kernel, "correlation", "valid", "valid", (1,), (1,), "zeros")
    values = case.run(method).values
    expected = case.reference()[0]
    assert_close(values, expected, case.reference()[1], 8 * fft_error_scale(case))
    assert np.isnan(values[9])  # the kernel's zero tap on the inf
    assert np.isposinf(values[[7, 8, 10, 22, 23]]).all()
    assert np.isnan(values[[24, 25, 26]]).all()  # 0 * inf, and inf - inf in one window
    assert np.isneginf(values[27])
    assert np.isfinite(values[:7]).all() and np.isfinite(values[11:22]).all()
    assert np.isfinite(values[28:]).all()


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_nonfinite_kernel_gives_what_the_direct_sum_does(method: str, bad: float):
    """A kernel's inf is in every window: each output is +-inf by the sign it meets, or nan
    where it meets a zero, not the nan everywhere of a plain FFT (long enough for blocks)."""
    rng = np.random.default_rng(5)
    signal = rng.integers(-3, 4, 3000).astype(float)
    kernel = rng.standard_normal(40)
    kernel[7] = bad
    case = Case(signal, kernel, "correlation", "valid", "valid", (1,), (1,), "zeros")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FFT of the inf, and so no warning of it
        values = case.run(method).values
    assert_nonfinite_placement(values, case.reference()[0])


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("padding", ["full", "same", "3:1"])
def test_nonfinite_kernel_over_zero_padding_leaves_those_terms_out(
    method: str, bad: float, padding: str
):
    """Zero padding is no term of the sum: a kernel's nan or inf over it adds nothing, as
    numpy.convolve and scipy's direct sum give (issue 14: 0 * inf made those outputs nan)."""
    rng = np.random.default_rng(3)
    signal = rng.integers(-3, 4, 3000).astype(float)
    kernel = rng.standard_normal(40)
    kernel[[1, 38]] = bad  # near both ends: where they meet the padding, outputs are finite
    case = Case(signal, kernel, "convolution", padding, padding, (1,), (1,), "zeros")
    if padding == "3:1":
        case.reference_padding = [(3, 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = case.run(method).values
    assert_nonfinite_placement(values, case.reference()[0])
    if padding == "full":
        with np.errstate(invalid="ignore"):
            assert_nonfinite_placement(values, np.convolve(signal, kernel, "full"))


@pytest.mark.parametrize("method", METHODS)
def test_nonfinite_kernel_over_padding_by_hand(method: str):
    """The examples of issue 14, against numpy and scipy's direct sums."""
    from scipy import signal as scipy_signal

    full = convcli.convolve([1.0, 2.0], [1.0, np.inf], padding="full", method=method)
    assert full.tolist() == [1.0, np.inf, np.inf]
    assert full.tolist() == np.convolve([1.0, 2.0], [1.0, np.inf], "full").tolist()
    numpy_same = convcli.correlate(
        [1.0, 2.0, 3.0], [np.nan, 1.0], padding="same", convention="numpy", method=method
    )
    assert_nonfinite_placement(numpy_same, np.array([1.0, np.nan, np.nan]))
    assert numpy_same[0] == 1.0
    with np.errstate(invalid="ignore"):
        assert_nonfinite_placement(numpy_same, np.correlate([1.0, 2.0, 3.0], [np.nan, 1.0], "same"))
        expected = scipy_signal.convolve([1.0, 2.0, 3.0], [2.0, np.inf], "full", method="direct")
    assert_nonfinite_placement(
        convcli.convolve([1.0, 2.0, 3.0], [2.0, np.inf], padding="full", method=method), expected
    )


# --------------------------------------------------------------------------- numpy and scipy


@pytest.mark.slow
@given(
    st.sampled_from(["int", "float", "complex"]),
    st.integers(1, 40),
    st.integers(1, 9),
    st.sampled_from(["valid", "full", "same"]),
    st.data(),
)
def test_1d_matches_numpy(kind: str, n: int, k: int, mode: str, data: st.DataObject):
    """numpy.convolve / numpy.correlate (valid and full; same with odd kernels, where
    numpy centres as convcli does)."""
    assume(n >= k)
    assume(mode != "same" or k % 2 == 1)
    f = np.array(data.draw(st.lists(VALUES[kind], min_size=n, max_size=n)), dtype=DTYPES[kind])
    h = np.array(data.draw(st.lists(VALUES[kind], min_size=k, max_size=k)), dtype=DTYPES[kind])
    case_norm = EPS * math.log2(4 * (n + 2 * k)) * norm(f) * norm(h)
    atol = 1e-12 * float(np.abs(f).sum() * np.abs(h).sum() + 1) + 8 * case_norm
    for operation, numpy_function in (("convolution", np.convolve), ("correlation", np.correlate)):
        expected = numpy_function(f, h, mode)
        for method in METHODS:
            actual = compute(f, h, operation, Options.parse(padding=mode, method=method)).values
            assert actual.dtype == expected.dtype
            assert_matches(actual, expected, atol)


@pytest.mark.slow
@given(
    st.sampled_from(["int", "float", "complex"]),
    st.sampled_from([1, 2, 2, 3]),
    st.sampled_from(["valid", "full", "same"]),
    st.data(),
)
def test_matches_scipy(kind: str, ndim: int, mode: str, data: st.DataObject):
    """scipy.signal.convolve / correlate (direct, so integers compare exactly) in 1-D to 3-D."""
    signal_module = pytest.importorskip("scipy.signal")
    max_n = {1: 30, 2: 9, 3: 5}[ndim]
    max_k = {1: 7, 2: 5, 3: 3}[ndim]
    signal_shape = tuple(data.draw(st.integers(1, max_n)) for _ in range(ndim))
    choices = st.sampled_from([1, 3, 5]) if mode == "same" else st.integers(1, max_k)
    kernel_shape = tuple(min(data.draw(choices), n) for n in signal_shape)
    assume(mode != "same" or all(k % 2 for k in kernel_shape))
    size_f, size_h = math.prod(signal_shape), math.prod(kernel_shape)
    f = np.array(
        data.draw(st.lists(VALUES[kind], min_size=size_f, max_size=size_f)), dtype=DTYPES[kind]
    ).reshape(signal_shape)
    h = np.array(
        data.draw(st.lists(VALUES[kind], min_size=size_h, max_size=size_h)), dtype=DTYPES[kind]
    ).reshape(kernel_shape)
    cells = math.prod(n + 2 * k for n, k in zip(signal_shape, kernel_shape))
    case_norm = EPS * math.log2(4 * cells) * norm(f) * norm(h)
    atol = 1e-12 * float(np.abs(f).sum() * np.abs(h).sum() + 1) + 8 * case_norm
    for operation, scipy_function in (
        ("convolution", signal_module.convolve),
        ("correlation", signal_module.correlate),
    ):
        expected = scipy_function(f, h, mode, method="direct")
        for method in METHODS:
            actual = compute(f, h, operation, Options.parse(padding=mode, method=method)).values
            assert actual.dtype.kind == expected.dtype.kind
            assert_matches(actual, expected, atol)


# --------------------------------------------------------------------------- long signals


def sliding_reference(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The whole result by vectorised numpy (np.pad, then one shifted slice per tap), exact
    for int64, and its per-output sum |p| |h|: independent of convcli, fast on long signals."""
    padded = np.pad(case.signal, case.pads(), mode=NUMPY_PAD_MODES[case.pad_mode])
    weights = np.flip(case.kernel) if case.operation == "convolution" else np.conj(case.kernel)
    (stride,), (dilation,) = case.stride, case.dilation
    span = dilation * (len(weights) - 1) + 1
    outputs = (len(padded) - span) // stride + 1
    values = np.zeros(outputs, dtype=np.result_type(padded, weights))
    magnitude = np.zeros(outputs)
    with np.errstate(invalid="ignore"):
        for k, w in enumerate(weights):
            window = padded[k * dilation : k * dilation + (outputs - 1) * stride + 1 : stride]
            values += w * window
            magnitude += abs(w) * np.abs(window)
    return values, magnitude


def reference_at(case: Case, outputs: np.ndarray) -> np.ndarray:
    """The naive reference's value for each output index in ``outputs`` (a 1-D case),
    each from its own window of the reference's padded signal."""
    padded = reference_pad(case.signal, case.pads(), case.pad_mode).tolist()
    (stride,), (dilation,) = case.stride, case.dilation
    span = dilation * (len(case.kernel) - 1) + 1
    values = [
        reference_slide(
            padded[i * stride : i * stride + span],
            case.kernel,
            case.operation,
            dilation=dilation,
        )[0][0]
        for i in outputs
    ]
    return np.array(values, dtype=object)


def long_case(
    n: int,
    k: int,
    kind: str,
    operation: str,
    padding: str,
    pad_mode: str,
    stride: int,
    dilation: int,
    nonfinite: int,
    seed: int,
) -> Case:
    """A seeded long 1-D case; ``int:B`` kinds draw values below 2**B."""
    rng = np.random.default_rng(seed)
    if kind.startswith("int"):
        bits = int(kind.split(":")[1])
        signal = rng.integers(-(2**bits), 2**bits, n)
        kernel = rng.integers(-(2 ** min(bits, 10)), 2 ** min(bits, 10), k)
    elif kind == "float":
        signal, kernel = rng.normal(size=n), rng.normal(size=k)
    else:
        signal = rng.normal(size=n) + 1j * rng.normal(size=n)
        kernel = rng.normal(size=k) + 1j * rng.normal(size=k)
    for cell, value in zip(rng.integers(0, n, nonfinite), [np.nan, np.inf, -np.inf] * nonfinite):
        signal[cell] = value
    if padding in ("valid", "same", "full"):
        reference_padding: object = padding
    else:
        reference_padding = [tuple(int(p) for p in padding.split(":"))]
    return Case(
        signal, kernel, operation, padding, reference_padding, (stride,), (dilation,), pad_mode
    )


LONG_CASES = {
    "float-valid-nan": (20_000, 300, "float", "convolution", "valid", "zeros", 1, 1, 3, 1),
    "int-full": (50_000, 120, "int:10", "correlation", "full", "zeros", 1, 1, 0, 2),
    "float-same-reflect-stride": (70_000, 51, "float", "correlation", "same", "reflect", 3, 1, 0, 3),
    "complex-circular-dilated": (30_000, 200, "complex", "convolution", "7:130", "circular", 1, 2, 0, 4),
    "int-exact-path": (40_000, 64, "int:34", "convolution", "40:3", "replicate", 2, 3, 0, 5),
    "float-symmetric-nan": (65_000, 257, "float", "correlation", "full", "symmetric", 2, 2, 4, 6),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LONG_CASES))
def test_long_signals_in_overlap_save_blocks(name: str):
    case = long_case(*LONG_CASES[name])
    span = case.dilation[0] * (len(case.kernel) - 1) + 1
    padded_length = len(case.signal) + sum(case.pads()[0])
    assert padded_length > fft.block_plan(span, padded_length).length  # really in blocks
    expected, magnitude = sliding_reference(case)
    rng = np.random.default_rng(0)
    sample = np.unique(
        np.concatenate([[0, len(expected) - 1], rng.integers(0, len(expected), 150)])
    )
    naive = reference_at(case, sample)
    for method in METHODS:
        result = case.run(method)
        values = result.values
        assert values.shape == expected.shape
        if case.signal.dtype.kind == "i":
            assert values.dtype == np.int64
            assert np.array_equal(values, expected)
            assert_exact_integers(values[sample], naive)
        else:
            slack = slack_for(case, method, result.method, expected)
            assert_close(values, expected, magnitude, slack)
            slack = slack if np.ndim(slack) == 0 else slack[sample]
            assert_close(values[sample], naive, magnitude[sample], slack)


# --------------------------------------------------------------------------- huge and tiny values


def power_of_two(values: np.ndarray, exponent: int) -> np.ndarray:
    """``values * 2**exponent``, exactly (the results here are normal numbers)."""
    return values * 2.0**exponent


@pytest.mark.slow
@settings(deadline=None)
@given(
    cases(
        kinds=("float", "complex"),
        values={
            "float": st.sampled_from([0.0, 0.5, -1.0, 3.0])
            | st.floats(-8, 8).filter(lambda x: x == 0 or abs(x) >= 0.5),
            "complex": st.builds(
                complex, st.sampled_from([0.0, 0.75, -2.0, 5.5]), st.sampled_from([0.0, -0.5, 7.0])
            ),
        },
    ),
    st.integers(-1000, 1000),
    st.integers(-1000, 1000),
)
def test_powers_of_two_change_no_digit(case: Case, signal_exponent: int, kernel_exponent: int):
    """Scaling the signal by 2**a and the kernel by 2**b scales every output by 2**(a + b)
    exactly, however near float64's limits the operands are: the FFT neither overflows
    (issue 14: inf where the sums were 1e8) nor loses digits to it, and warns nothing."""
    assume(abs(signal_exponent + kernel_exponent) <= 900)
    check_every_method(case)
    big_signal = power_of_two(case.signal, signal_exponent)
    big_kernel = power_of_two(case.kernel, kernel_exponent)
    for method in METHODS:
        expected = power_of_two(case.run(method).values, signal_exponent + kernel_exponent)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = compute(
                big_signal, big_kernel, case.operation, Options.parse(**case.options(method))
            ).values
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("method", METHODS)
def test_sums_of_huge_values_by_tiny_ones_by_hand(method: str):
    """The example of issue 14: sums of 1e8 and 2e8, not inf, by every method."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = convcli.convolve(
            np.array([1e308, 1e308]), np.array([1e-300, 1e-300]), padding="full", method=method
        )
    expected = reference_slide([1e308, 1e308], [1e-300, 1e-300], "convolution", "full")[0]
    np.testing.assert_allclose(values, expected.astype(float), rtol=1e-15)
    np.testing.assert_allclose(values, [1e8, 2e8, 1e8], rtol=1e-15)


@pytest.mark.slow
@pytest.mark.parametrize("spike", [1e300, 1e308])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ndim", [1, 2])
def test_one_huge_value_in_a_normal_signal(method: str, spike: float, ndim: int):
    """One value of 1e300 or 1e308 among values near 1: the nan and inf are where the direct
    sum (numpy's, scipy's) has them; every FFT output keeps at least its leading digit
    (explicit fft: it was wrong by a factor of 1e286) and auto's keep twelve; no warning."""
    from scipy import signal as scipy_signal

    rng = np.random.default_rng(4)
    shape, taps = ((20_000,), (300,)) if ndim == 1 else ((150, 150), (20, 20))
    signal, kernel = rng.normal(size=shape), rng.normal(size=taps)
    signal[(40,) * ndim] = spike
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = compute(signal, kernel, "convolution", Options.parse(method=method)).values
    with np.errstate(over="ignore", invalid="ignore"):
        if ndim == 1:
            expected = np.convolve(signal, kernel, "valid")
            magnitude = np.convolve(np.abs(signal), np.abs(kernel), "valid")
        else:
            expected = scipy_signal.convolve(signal, kernel, "valid", method="direct")
            magnitude = scipy_signal.convolve(np.abs(signal), np.abs(kernel), "valid", "direct")
    finite = assert_nonfinite_placement(values, expected)
    error = np.abs(values[finite] - expected[finite])
    if method == "fft":
        assert (error < np.abs(expected[finite])).all()
    else:
        assert (error <= 1e-12 * magnitude[finite]).all()


# --------------------------------------------------------------------------- zero padding left out of N-D transforms


@st.composite
def zero_padded_cases(draw) -> Case:
    """2-D and 3-D problems with zero padding of any width on either side, often wider
    than the kernel: the transforms skip it, and must wrap no sum onto an output."""
    ndim = draw(st.sampled_from([2, 2, 3]))
    kernel_shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    signal_shape = tuple(draw(st.integers(1, 9 if ndim == 2 else 5)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(ndim))
    pairs = [(draw(st.integers(0, 9)), draw(st.integers(0, 9))) for _ in range(ndim)]
    form = draw(st.sampled_from(["same", "full", "explicit"]))
    padding = ",".join(f"{b}:{a}" for b, a in pairs) if form == "explicit" else form
    reference_padding: object = pairs if form == "explicit" else form
    stride = (1,) * ndim
    out = reference_output_shape(signal_shape, kernel_shape, reference_padding, stride, dilation)
    assume(all(n > 0 for n in out))
    kind = draw(st.sampled_from(["int", "float", "complex"]))

    def array(shape: tuple[int, ...]) -> np.ndarray:
        cells = draw(st.lists(VALUES[kind], min_size=math.prod(shape), max_size=math.prod(shape)))
        return np.array(cells, dtype=DTYPES[kind]).reshape(shape)

    case = Case(
        array(signal_shape),
        array(kernel_shape),
        draw(st.sampled_from(OPERATIONS)),
        padding,
        reference_padding,
        stride,
        dilation,
        "zeros",
    )
    note(repr(case))
    return case


@given(zero_padded_cases())
@settings(max_examples=60, deadline=None)
def test_transforms_without_the_zero_padding_match_reference(case: Case):
    check_every_method(case)


@given(
    st.integers(1, 300),
    st.integers(1, 40),
    st.integers(0, 60),
    st.integers(0, 60),
)
def test_transform_lengths_are_wrap_free_and_never_longer(
    signal: int, extent: int, before: int, after: int
):
    """Circular sums at the planned length equal the linear ones on every output, and the
    length is at most that of the padded signal's transform (even, as a real one's last
    axis is)."""
    padded = signal + before + after
    assume(extent <= padded)
    (axis,) = fft.transform_lengths((padded,), (extent,), ((before, after),))
    assert axis.length % 2 == 0
    assert extent <= axis.length <= 2 * fft.fast_length(-(-padded // 2))
    (plain,) = fft.transform_lengths((padded,), (extent,), ((before, after),), real=False)
    assert extent <= plain.length <= fft.fast_length(padded)
    assert axis.outputs == padded - extent + 1
    rng = np.random.default_rng(signal * 1000 + extent)
    values, kernel = rng.integers(-9, 9, signal), rng.integers(-9, 9, extent)
    region = np.zeros(axis.high - axis.low)
    region[before - axis.low : before - axis.low + signal] = values
    circular = np.fft.irfft(
        np.fft.rfft(region, axis.length) * np.fft.rfft(kernel[::-1], axis.length), axis.length
    )
    sums = circular[axis.start : axis.start + axis.outputs]
    expected = np.correlate(np.pad(values, (before, after)), kernel, "valid")
    np.testing.assert_allclose(sums, expected, atol=1e-6)


# --------------------------------------------------------------------------- tiny inputs


@pytest.mark.parametrize("n", [4, 5, 7, 11, 13, 97])
@pytest.mark.parametrize("kind", ["int", "float"])
def test_fft_on_lengths_that_are_not_fast(n: int, kind: str):
    """One transform of fast_length(n) >= n cells: only n - span + 1 of its sums are outputs."""
    signal, kernel = np.arange(n, dtype=DTYPES[kind]), np.array([1, 2], dtype=DTYPES[kind])
    values = compute(signal, kernel, "convolution", Options.parse(method="fft")).values
    expected = np.convolve(signal, kernel, "valid")
    assert values.dtype == expected.dtype
    if kind == "int":
        assert values.tolist() == expected.tolist()
    else:
        np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12 * n * n)


TINY = [
    # (signal, kernel, padding, pad_mode)
    ([3], [2], "valid", "zeros"),
    ([3.5], [-2.0], "full", "zeros"),
    ([1 + 2j], [3 - 1j], "same", "zeros"),
    ([4, -1, 2, 5], [1, 2, 3, 4, 5, 6], "1:1", "zeros"),  # kernel as long as the padded signal
    ([4, -1, 2], [1, 2, 3, 4, 5], "full", "reflect"),
    ([4, -1, 2], [1, -2, 3, 4, 5], "2:0", "circular"),
    ([2.0, -1.0, 0.5], [1.0, -3.0, 2.0], "valid", "zeros"),
    ([[7]], [[3]], "valid", "zeros"),
    ([[1, 2], [3, 4]], [[1, -1], [2, 5]], "valid", "zeros"),
    ([[1, 2], [3, 4]], [[1, -1, 2], [2, 5, 1]], "full", "symmetric"),
    ([[[1, 2]], [[3, 4]]], [[[1, 1]], [[2, -1]]], "same", "replicate"),
]


@pytest.mark.parametrize(("signal", "kernel", "padding", "pad_mode"), TINY)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_fft_on_tiny_inputs(signal, kernel, padding: str, pad_mode: str, operation: str):
    f, h = np.array(signal), np.array(kernel)
    reference_padding = padding if ":" not in padding else [tuple(map(int, padding.split(":")))]
    case = Case(f, h, operation, padding, reference_padding, (1,), (1,), pad_mode)
    result = case.run("fft")
    assert result.method == "fft"
    expected, magnitude = case.reference()
    if f.dtype.kind == "i" and h.dtype.kind == "i":
        assert result.values.dtype == np.int64
        assert_exact_integers(result.values, expected)
    else:
        assert_close(result.values, expected, magnitude, 8 * fft_error_scale(case))
    check_every_method(case)


def test_auto_uses_fft_for_long_kernels_on_long_signals():
    case = long_case(*LONG_CASES["float-valid-nan"])
    assert case.run("auto").method == "fft"
