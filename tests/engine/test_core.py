"""Tests for convcli.engine.core: worked examples, cross-checks against numpy and
scipy, property tests against the naive reference in tests/reference.py, exact
integer arithmetic, nan/inf locality, every error the engine raises, auto's accuracy
guard and the plain route to numpy.convolve."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import assume, example, given, note, settings
from hypothesis import strategies as st

import convcli
from convcli import ConvcliError, compare, convolve, correlate, kernel_symmetry
from convcli.engine import core as engine
from convcli.engine.core import compute, count_nonfinite
from convcli.engine.geometry import plan
from convcli.options import Options
from tests.examples import assert_matches, fft_error_bound
from tests.reference import (
    PAD_MODE_NAMES,
    reference_output_shape,
    reference_pad,
    reference_pads,
    reference_slide,
    reference_touches,
)

OPERATIONS = {"convolution": convolve, "correlation": correlate}
NUMPY_PAD_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}


# --------------------------------------------------------------------------- helpers


def is_exact_integer_array(values: np.ndarray) -> bool:
    """int64, or an object array holding only Python ints (never floats)."""
    if values.dtype == np.int64:
        return True
    return values.dtype == object and all(
        isinstance(v, int) and not isinstance(v, bool) for v in values.flat
    )


def assert_close_to_reference(
    actual: np.ndarray, expected: np.ndarray, magnitude: np.ndarray, slack: float = 0.0
) -> None:
    """Equal to the reference within a few ulps of sum |p|*|h| over each window, plus
    ``slack`` (the FFT's absolute error, where it applies: see fft_slack)."""
    assert actual.shape == expected.shape
    diff = np.abs(actual.astype(np.complex128) - expected.astype(np.complex128))
    bound = 1e-12 * magnitude + slack + 1e-300
    bad = ~(diff <= bound)
    assert not bad.any(), (
        f"differs from the reference at {np.argwhere(bad).tolist()}:\n"
        f"engine    {actual!r}\nreference {expected!r}"
    )


def expected_kind(*kinds: str) -> str:
    if "complex" in kinds:
        return "complex"
    if "float" in kinds:
        return "float"
    return "int"


def assert_dtype_kind(values: np.ndarray, kind: str) -> None:
    if kind == "int":
        assert is_exact_integer_array(values), values.dtype
    elif kind == "float":
        assert values.dtype == np.float64
    else:
        assert values.dtype == np.complex128


def python_symmetry(h: np.ndarray) -> str:
    """flip(h) == conj(h) / == -conj(h), judged exactly in Python numbers."""
    flipped = np.flip(h).ravel().tolist()
    conjugated = [v.conjugate() for v in h.ravel().tolist()]
    if flipped == conjugated:
        return "symmetric"
    if flipped == [-v for v in conjugated]:
        return "antisymmetric"
    return "none"


# --------------------------------------------------------------------------- strategies

VALUE_STRATEGIES = {
    "int": st.integers(-9, 9),
    "float": st.floats(-10, 10, allow_nan=False, allow_infinity=False),
    "complex": st.complex_numbers(max_magnitude=10, allow_nan=False, allow_infinity=False),
}
# Integer-valued entries of each kind: the arithmetic is exact, so verdicts can be exact.
EXACT_STRATEGIES = {
    "int": st.integers(-6, 6),
    "float": st.integers(-6, 6).map(float),
    "complex": st.builds(complex, st.integers(-6, 6), st.integers(-6, 6)),
}
DTYPES = {"int": np.int64, "float": np.float64, "complex": np.complex128}
MAX_SIDE = {1: (10, 4), 2: (6, 3), 3: (4, 2)}  # signal and kernel side per ndim


@st.composite
def arrays(draw, shape: tuple[int, ...], kind: str, exact: bool = False) -> np.ndarray:
    elements = (EXACT_STRATEGIES if exact else VALUE_STRATEGIES)[kind]
    values = draw(st.lists(elements, min_size=math.prod(shape), max_size=math.prod(shape)))
    return np.array(values, dtype=DTYPES[kind]).reshape(shape)


@st.composite
def shapes(draw, ndim: int | None = None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if ndim is None:
        ndim = draw(st.sampled_from([1, 1, 2, 2, 3]))
    max_n, max_k = MAX_SIDE[ndim]
    signal = tuple(draw(st.integers(1, max_n)) for _ in range(ndim))
    kernel = tuple(draw(st.integers(1, max_k)) for _ in range(ndim))
    return signal, kernel


@st.composite
def paddings(draw, ndim: int) -> tuple[dict, object]:
    """(engine keyword arguments, the reference's normalised padding) in every accepted form."""
    form = draw(
        st.sampled_from(
            [
                "default",
                "valid",
                "same",
                "full",
                "int",
                "int-string",
                "pair-string",
                "per-axis-string",
                "one-pair",
                "per-axis-pairs",
                "per-axis-ints",
            ]
        )
    )
    small = st.integers(0, 3)
    if form == "default":
        return {}, "valid"
    if form in ("valid", "same", "full"):
        return {"padding": form}, form
    if form in ("int", "int-string"):
        n = draw(small)
        return {"padding": n if form == "int" else str(n)}, [(n, n)]
    if form in ("pair-string", "one-pair"):
        pair = (draw(small), draw(small))
        spec = f"{pair[0]}:{pair[1]}" if form == "pair-string" else [pair]
        return {"padding": spec}, [pair]
    pairs = [(draw(small), draw(small)) for _ in range(ndim)]
    if form == "per-axis-string":
        text = [f"{b}" if b == a and draw(st.booleans()) else f"{b}:{a}" for b, a in pairs]
        return {"padding": ",".join(text)}, pairs
    if form == "per-axis-pairs":
        container = draw(st.sampled_from([list, tuple]))
        return {"padding": container(container(p) for p in pairs)}, pairs
    ints = [b for b, _ in pairs]
    return {"padding": tuple(ints)}, [(n, n) for n in ints]


@st.composite
def per_axis_values(draw, ndim: int, name: str) -> tuple[dict, tuple[int, ...]]:
    """A stride or dilation in every accepted form, and its value per axis."""
    form = draw(st.sampled_from(["default", "int", "numpy-int", "string", "per-axis"]))
    value = st.integers(1, 3)
    if form == "default":
        return {}, (1,) * ndim
    if form in ("int", "numpy-int", "string"):
        n = draw(value)
        spec = {"int": n, "numpy-int": np.int64(n), "string": str(n)}[form]
        return {name: spec}, (n,) * ndim
    values = tuple(draw(value) for _ in range(ndim))
    spec = draw(st.sampled_from([",".join(map(str, values)), values, list(values)]))
    return {name: spec}, values


@dataclass
class Problem:
    signal: np.ndarray
    kernel: np.ndarray
    options: dict  # engine keyword arguments
    padding: object  # the reference's normalised forms
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_mode: str
    kinds: tuple[str, str] = field(default=("int", "int"))

    @property
    def reference_options(self) -> dict:
        return {
            "padding": self.padding,
            "stride": self.stride,
            "dilation": self.dilation,
            "pad_mode": self.pad_mode,
        }

    @property
    def reference_shape(self) -> tuple[int, ...]:
        return reference_output_shape(
            self.signal.shape, self.kernel.shape, self.padding, self.stride, self.dilation
        )

    @property
    def fits(self) -> bool:
        return all(n > 0 for n in self.reference_shape)

    def fft_slack(
        self, signal: np.ndarray | None = None, kernel: np.ndarray | None = None
    ) -> float:
        """The absolute error the explicit ``fft`` method may add to any output (0 for the
        others): 8 eps log2(n) ||p|| ||h||, ``p`` the padded ``signal`` and ``h`` the ``kernel``
        (default: this problem's)."""
        if self.options.get("method") != "fft":
            return 0.0
        signal = self.signal if signal is None else signal
        kernel = self.kernel if kernel is None else kernel
        pads = reference_pads(
            signal.shape, self.kernel.shape, self.padding, self.stride, self.dilation
        )
        padded = np.array(reference_pad(signal, pads, self.pad_mode).tolist(), dtype=complex)
        return 8 * fft_error_bound(padded, kernel)


@st.composite
def problems(
    draw,
    ndim: int | None = None,
    kinds: tuple[str, ...] = ("int", "float", "complex"),
    exact: bool = False,
    kernel_builder=None,
    methods: tuple[str | None, ...] = (None, "auto", "direct", "fft"),
) -> Problem:
    signal_shape, kernel_shape = draw(shapes(ndim))
    ndim = len(signal_shape)
    signal_kind, kernel_kind = draw(st.sampled_from(kinds)), draw(st.sampled_from(kinds))
    signal = draw(arrays(signal_shape, signal_kind, exact))
    kernel = draw(arrays(kernel_shape, kernel_kind, exact))
    if kernel_builder is not None:
        kernel = kernel_builder(kernel)
    options, padding = draw(paddings(ndim))
    stride_options, stride = draw(per_axis_values(ndim, "stride"))
    dilation_options, dilation = draw(per_axis_values(ndim, "dilation"))
    options |= stride_options | dilation_options
    pad_mode = draw(st.sampled_from(PAD_MODE_NAMES))
    if pad_mode != "zeros" or draw(st.booleans()):
        options["pad_mode"] = pad_mode
    method = draw(st.sampled_from(methods))
    if method is not None:
        options["method"] = method
    problem = Problem(
        signal, kernel, options, padding, stride, dilation, pad_mode, (signal_kind, kernel_kind)
    )
    note(f"{problem}")
    return problem


def symmetric_part(a: np.ndarray) -> np.ndarray:
    return a + np.conj(np.flip(a))


def antisymmetric_part(a: np.ndarray) -> np.ndarray:
    return a - np.conj(np.flip(a))


# --------------------------------------------------------------------------- worked examples

F = [2, 1, 3, 5, 4]


def test_classic_antisymmetric_example():
    h = [1, -1]
    conv, corr = convolve(F, h), correlate(F, h)
    assert conv.tolist() == [-1, 2, 2, -1]
    assert corr.tolist() == [1, -2, -2, 1]
    assert conv.dtype.kind == "i" and corr.dtype.kind == "i"
    result = compare(F, h)
    assert result.convolution.tolist() == [-1, 2, 2, -1]
    assert result.correlation.tolist() == [1, -2, -2, 1]
    assert result.convolution.dtype.kind == "i" and result.correlation.dtype.kind == "i"
    assert result.kernel_symmetry == "antisymmetric" == kernel_symmetry(h)
    assert result.negated is True
    assert result.identical is False
    assert result.differing == 4
    assert result.flipped_kernel.tolist() == [-1, 1]


def test_classic_symmetric_example():
    h2 = [-1, 2, -1]
    assert convolve(F, h2).tolist() == [-3, 0, 3]
    assert correlate(F, h2).tolist() == [-3, 0, 3]
    result = compare(F, h2)
    assert result.convolution.tolist() == result.correlation.tolist() == [-3, 0, 3]
    assert result.convolution.dtype.kind == "i" and result.correlation.dtype.kind == "i"
    assert result.kernel_symmetry == "symmetric" == kernel_symmetry(h2)
    assert result.identical is True
    assert result.negated is False  # [-3, 0, 3] != [3, 0, -3]
    assert result.differing == 0


def test_asymmetric_kernel_verdict():
    result = compare(F, [1, 2])
    # conv: 2*f[i] + 1*f[i+1]; corr: 1*f[i] + 2*f[i+1]
    assert result.convolution.tolist() == [4 + 1, 2 + 3, 6 + 5, 10 + 4]
    assert result.correlation.tolist() == [2 + 2, 1 + 6, 3 + 10, 5 + 8]
    assert result.kernel_symmetry == "none" == kernel_symmetry([1, 2])
    assert (result.identical, result.negated, result.differing) == (False, False, 4)


@pytest.mark.parametrize(
    ("function", "kwargs", "expected"),
    [
        (convolve, {"padding": "full"}, [2, -1, 2, 2, -1, -4]),
        (correlate, {"padding": "full"}, [-2, 1, -2, -2, 1, 4]),
        # same with an even kernel: the one cell of padding goes after
        (correlate, {"padding": "same"}, [1, -2, -2, 1, 4]),
        (convolve, {"padding": "same"}, [-1, 2, 2, -1, -4]),
        (correlate, {"padding": "1:0"}, [-2, 1, -2, -2, 1]),
        (correlate, {"padding": 1, "pad_mode": "replicate"}, [0, 1, -2, -2, 1, 0]),
        (correlate, {"padding": 1, "pad_mode": "circular"}, [2, 1, -2, -2, 1, 2]),
        (correlate, {"stride": 2}, [1, -2]),
        (correlate, {"dilation": 2}, [-1, -4, -1]),
        (correlate, {"dilation": 2, "stride": 2}, [-1, -1]),
    ],
)
def test_hand_worked_1d(function, kwargs, expected):
    result = function(F, [1, -1], **kwargs)
    assert result.tolist() == expected
    assert result.dtype.kind == "i"


@pytest.mark.parametrize(
    ("pad_mode", "expected"),
    [
        ("zeros", [0, 0, 1, 2, 3, 0, 0]),
        ("reflect", [3, 2, 1, 2, 3, 2, 1]),
        ("symmetric", [2, 1, 1, 2, 3, 3, 2]),
        ("replicate", [1, 1, 1, 2, 3, 3, 3]),
        ("circular", [2, 3, 1, 2, 3, 1, 2]),
    ],
)
def test_pad_modes_by_hand(pad_mode, expected):
    # a one-cell kernel of 1 shows the padded signal itself
    assert correlate([1, 2, 3], [1], padding=2, pad_mode=pad_mode).tolist() == expected


def test_hand_worked_2d():
    assert correlate([[1, 2], [3, 4]], [[1, 0], [0, 1]]).tolist() == [[5]]
    assert convolve([[1, 2], [3, 4]], [[1, 0], [0, 1]]).tolist() == [[5]]
    assert correlate([[1, 2], [3, 4]], [[0, 1], [0, 0]]).tolist() == [[2]]
    assert convolve([[1, 2], [3, 4]], [[0, 1], [0, 0]]).tolist() == [[3]]
    signal = np.arange(16).reshape(4, 4)
    # 2x2 box sums, stride 2 on both axes
    assert correlate(signal, np.ones((2, 2), dtype=int), stride=2).tolist() == [[10, 18], [42, 50]]
    # stride per axis and padding per axis
    assert correlate(signal, [[1]], stride="1,3").tolist() == [[0, 3], [4, 7], [8, 11], [12, 15]]
    assert correlate([[1, 2], [3, 4]], [[1]], padding="1:0,0:1").tolist() == [
        [0, 0, 0],
        [1, 2, 0],
        [3, 4, 0],
    ]


def test_complex_kernel_is_conjugated_by_correlation_only():
    conv, corr = convolve([1, 1], [1j]), correlate([1, 1], [1j])
    assert conv.tolist() == [1j, 1j]
    assert corr.tolist() == [-1j, -1j]
    assert conv.dtype == corr.dtype == np.complex128
    assert correlate([1j, 2], [1j, 1]).tolist() == [(1j * -1j) + 2]
    assert convolve([1j, 2], [1j, 1]).tolist() == [1j * 1 + 2 * 1j]
    # i is "antisymmetric" under flip-and-conjugate; 1 + i is neither
    assert kernel_symmetry([1j]) == "antisymmetric"
    assert kernel_symmetry([1 + 1j]) == "none"
    assert kernel_symmetry([1 + 1j, 1 - 1j]) == "symmetric"


def test_float_inputs_give_float64():
    assert convolve([1.0, 2.0], [1.0]).dtype == np.float64
    assert convolve(np.array([1, 2], dtype=np.float32), [1]).dtype == np.float64
    assert convolve([1, 2], [0.5]).tolist() == [0.5, 1.0]
    assert correlate(np.array([1, 2], dtype=np.complex64), [1]).dtype == np.complex128


def test_small_integer_dtypes_give_exact_int_results():
    signal = np.array([100, 100, 100], dtype=np.int8)
    result = correlate(signal, np.array([100, 100], dtype=np.int8))
    assert result.tolist() == [20000, 20000]
    assert is_exact_integer_array(result)
    unsigned = correlate(np.array([250, 250], dtype=np.uint8), np.array([2], dtype=np.uint8))
    assert unsigned.tolist() == [500, 500]


# --------------------------------------------------------------------------- the reference itself


@given(
    st.integers(1, 5),
    st.integers(1, 4),
    st.tuples(st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.integers(0, 9), st.integers(0, 9)),
    st.sampled_from(PAD_MODE_NAMES),
)
def test_reference_padding_matches_numpy_pad(rows, cols, pad_rows, pad_cols, pad_mode):
    signal = np.arange(1, rows * cols + 1).reshape(rows, cols)
    pads = (pad_rows, pad_cols)
    expected = np.pad(signal, pads, mode=NUMPY_PAD_MODES[pad_mode])
    assert reference_pad(signal, pads, pad_mode).tolist() == expected.tolist()


def test_reference_reproduces_worked_examples():
    assert reference_slide(F, [1, -1], "convolution")[0].tolist() == [-1, 2, 2, -1]
    assert reference_slide(F, [1, -1], "correlation")[0].tolist() == [1, -2, -2, 1]
    assert reference_slide(F, [-1, 2, -1], "convolution")[0].tolist() == [-3, 0, 3]
    assert reference_pads((5,), (2,), "same") == ((0, 1),)


# --------------------------------------------------------------------------- numpy / scipy cross-checks


@pytest.mark.slow
@given(
    st.sampled_from(["int", "float", "complex"]),
    st.sampled_from(["int", "float", "complex"]),
    st.integers(1, 12),
    st.integers(1, 6),
    st.data(),
)
def test_1d_full_and_valid_match_numpy(signal_kind, kernel_kind, n, k, data):
    a = data.draw(arrays((n,), signal_kind))
    v = data.draw(arrays((k,), kernel_kind))
    kind = expected_kind(signal_kind, kernel_kind)
    modes = ["full", "valid"] if n >= k else ["full"]
    for mode in modes:
        conv, corr = convolve(a, v, padding=mode), correlate(a, v, padding=mode)
        expected_conv, expected_corr = np.convolve(a, v, mode), np.correlate(a, v, mode)
        for actual, expected in ((conv, expected_conv), (corr, expected_corr)):
            assert_dtype_kind(actual, kind)
            if kind == "int":
                assert actual.tolist() == expected.tolist()
            else:
                scale = 1e-12 * (np.abs(a).max() * np.abs(v).sum() + 1)
                np.testing.assert_allclose(actual, expected, rtol=0, atol=scale)


@pytest.mark.slow
@given(
    st.integers(1, 12),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 3),
    st.tuples(st.integers(0, 4), st.integers(0, 4)),
    st.data(),
)
def test_1d_stride_and_dilation_match_numpy_subsampling(n, k, stride, dilation, pads, data):
    """Dilation = a kernel with zeros between the taps; stride = every stride-th output."""
    a = data.draw(arrays((n,), "int"))
    v = data.draw(arrays((k,), "int"))
    spread = np.zeros(dilation * (k - 1) + 1, dtype=np.int64)
    spread[::dilation] = v
    padded = np.pad(a, pads)
    assume(len(padded) >= len(spread))
    options = {"padding": [pads], "stride": stride, "dilation": dilation}
    assert (
        correlate(a, v, **options).tolist()
        == np.correlate(padded, spread, "valid")[::stride].tolist()
    )
    assert (
        convolve(a, v, **options).tolist()
        == np.convolve(padded, spread, "valid")[::stride].tolist()
    )


@pytest.mark.slow
@given(
    st.sampled_from(["int", "float", "complex"]),
    st.sampled_from(["int", "float", "complex"]),
    st.tuples(st.integers(1, 6), st.integers(1, 6)),
    st.tuples(st.integers(1, 4), st.integers(1, 4)),
    st.data(),
)
def test_2d_full_and_valid_match_scipy(signal_kind, kernel_kind, signal_shape, kernel_shape, data):
    signal_module = pytest.importorskip("scipy.signal")
    f = data.draw(arrays(signal_shape, signal_kind))
    h = data.draw(arrays(kernel_shape, kernel_kind))
    kind = expected_kind(signal_kind, kernel_kind)
    modes = ["full"]
    if all(n >= k for n, k in zip(signal_shape, kernel_shape)):
        modes.append("valid")
    atol = 1e-12 * (np.abs(f).max() * np.abs(h).sum() + 1)
    for mode in modes:
        checks = [
            (convolve(f, h, padding=mode), signal_module.convolve2d(f, h, mode)),
            (correlate(f, h, padding=mode), signal_module.correlate2d(f, h, mode)),
            (convolve(f, h, padding=mode), signal_module.convolve(f, h, mode, method="direct")),
            (correlate(f, h, padding=mode), signal_module.correlate(f, h, mode, method="direct")),
        ]
        for actual, expected in checks:
            assert_dtype_kind(actual, kind)
            assert_matches(actual, expected, atol)


@pytest.mark.slow
@given(
    st.sampled_from(["int", "float", "complex"]),
    st.sampled_from([1, 2]),
    st.data(),
)
def test_same_with_odd_kernels_matches_scipy(kind, ndim, data):
    signal_module = pytest.importorskip("scipy.signal")
    signal_shape = tuple(data.draw(st.integers(1, 8 if ndim == 1 else 5)) for _ in range(ndim))
    kernel_shape = tuple(data.draw(st.sampled_from([1, 3, 5])) for _ in range(ndim))
    f = data.draw(arrays(signal_shape, kind))
    h = data.draw(arrays(kernel_shape, kind))
    atol = 1e-12 * (np.abs(f).max() * np.abs(h).sum() + 1)
    for actual, expected in (
        (convolve(f, h, padding="same"), signal_module.convolve(f, h, "same", method="direct")),
        (correlate(f, h, padding="same"), signal_module.correlate(f, h, "same", method="direct")),
    ):
        assert actual.shape == f.shape
        assert_dtype_kind(actual, kind)
        np.testing.assert_allclose(actual, expected, rtol=0, atol=atol)


# --------------------------------------------------------------------------- properties vs the reference


@pytest.mark.slow
@given(problems())
def test_matches_reference(problem):
    if not problem.fits:
        for function in (convolve, correlate, compare):
            with pytest.raises(ConvcliError, match="kernel"):
                function(problem.signal, problem.kernel, **problem.options)
        return
    kind = expected_kind(*problem.kinds)
    for operation, function in OPERATIONS.items():
        actual = function(problem.signal, problem.kernel, **problem.options)
        expected, magnitude = reference_slide(
            problem.signal, problem.kernel, operation, **problem.reference_options
        )
        assert actual.shape == problem.reference_shape
        assert_dtype_kind(actual, kind)
        if kind == "int":
            assert actual.tolist() == expected.tolist()
        else:
            assert_close_to_reference(actual, expected, magnitude, problem.fft_slack())


@pytest.mark.slow
@given(problems(ndim=1, kinds=("int",)))
def test_matches_reference_1d_integers(problem):
    """Extra 1-D weight: every padding form, pad mode, stride and dilation, exactly."""
    assume(problem.fits)
    for operation, function in OPERATIONS.items():
        actual = function(problem.signal, problem.kernel, **problem.options)
        expected = reference_slide(
            problem.signal, problem.kernel, operation, **problem.reference_options
        )[0]
        assert actual.dtype == np.int64
        assert actual.tolist() == expected.tolist()


@pytest.mark.slow
@given(problems(ndim=2))
def test_matches_reference_2d(problem):
    assume(problem.fits)
    for operation, function in OPERATIONS.items():
        actual = function(problem.signal, problem.kernel, **problem.options)
        expected, magnitude = reference_slide(
            problem.signal, problem.kernel, operation, **problem.reference_options
        )
        assert_close_to_reference(actual, expected, magnitude, problem.fft_slack())


@pytest.mark.slow
@given(problems())
def test_plan_matches_reference_geometry(problem):
    signal_shape, kernel_shape = problem.signal.shape, problem.kernel.shape
    option_names = ("padding", "stride", "dilation", "pad_mode")
    options = {name: problem.options[name] for name in option_names if name in problem.options}
    if not problem.fits:
        with pytest.raises(ConvcliError, match="kernel"):
            plan(signal_shape, kernel_shape, Options.parse(**options))
        return
    geometry = plan(signal_shape, kernel_shape, Options.parse(**options))
    pads = reference_pads(
        signal_shape, kernel_shape, problem.padding, problem.stride, problem.dilation
    )
    assert geometry.pads == pads
    assert geometry.stride == problem.stride
    assert geometry.dilation == problem.dilation
    assert geometry.pad_mode == problem.pad_mode
    assert geometry.padded_shape == tuple(n + b + a for n, (b, a) in zip(signal_shape, pads))
    assert geometry.output_shape == problem.reference_shape


@pytest.mark.slow
@given(problems())
def test_convolution_is_correlation_with_flipped_conjugated_kernel(problem):
    assume(problem.fits)
    conv = convolve(problem.signal, problem.kernel, **problem.options)
    corr = correlate(problem.signal, np.conj(np.flip(problem.kernel)), **problem.options)
    assert conv.shape == corr.shape
    if expected_kind(*problem.kinds) == "int":
        assert conv.tolist() == corr.tolist()
    else:
        scale = np.abs(problem.signal).max() * np.abs(problem.kernel).sum() + 1e-300
        np.testing.assert_allclose(conv, corr, rtol=0, atol=1e-12 * scale)
    # and the other way round
    corr2 = correlate(problem.signal, problem.kernel, **problem.options)
    conv2 = convolve(problem.signal, np.conj(np.flip(problem.kernel)), **problem.options)
    if expected_kind(*problem.kinds) == "int":
        assert corr2.tolist() == conv2.tolist()
    else:
        np.testing.assert_allclose(corr2, conv2, rtol=0, atol=1e-12 * scale)


@pytest.mark.slow
@given(problems())
def test_compare_agrees_with_convolve_and_correlate(problem):
    assume(problem.fits)
    result = compare(problem.signal, problem.kernel, **problem.options)
    conv = convolve(problem.signal, problem.kernel, **problem.options)
    corr = correlate(problem.signal, problem.kernel, **problem.options)
    assert result.convolution.shape == conv.shape
    assert result.convolution.tolist() == conv.tolist()
    assert result.correlation.tolist() == corr.tolist()
    assert result.flipped_kernel.tolist() == np.flip(problem.kernel).tolist()
    option_names = ("padding", "stride", "dilation", "pad_mode")
    options = {name: problem.options[name] for name in option_names if name in problem.options}
    geometry = plan(problem.signal.shape, problem.kernel.shape, Options.parse(**options))
    assert result.geometry.output_shape == conv.shape == geometry.output_shape
    assert result.geometry.pads == geometry.pads
    assert result.kernel_symmetry == kernel_symmetry(problem.kernel)
    method = problem.options.get("method", "auto")
    if method == "direct":
        assert result.method == "direct"
    else:
        assert isinstance(result.method, str) and result.method != "auto"


@pytest.mark.slow
@given(problems(exact=True, methods=(None, "auto", "direct")))
def test_compare_counts_differences_exactly(problem):
    """Integer-valued data makes every sum exact, so the verdicts must be exact too
    (the FFT's sums of decimals are not exact, so it is left out)."""
    assume(problem.fits)
    result = compare(problem.signal, problem.kernel, **problem.options)
    conv = result.convolution.astype(np.complex128)
    corr = result.correlation.astype(np.complex128)
    assert result.differing == int(np.count_nonzero(conv != corr))
    assert result.identical == bool((conv == corr).all())
    assert result.negated == bool((conv == -corr).all())
    assert result.kernel_symmetry == python_symmetry(problem.kernel)


@pytest.mark.slow
@given(problems(kernel_builder=symmetric_part))
def test_symmetric_kernels_give_identical_results(problem):
    assume(problem.fits)
    assert kernel_symmetry(problem.kernel) == "symmetric"
    result = compare(problem.signal, problem.kernel, **problem.options)
    assert result.kernel_symmetry == "symmetric"
    assert result.identical is True
    assert result.differing == 0
    scale = np.abs(problem.signal).max() * np.abs(problem.kernel).sum() + 1e-300
    np.testing.assert_allclose(
        result.convolution.astype(complex),
        result.correlation.astype(complex),
        rtol=0,
        atol=1e-12 * scale,
    )


@pytest.mark.slow
@given(problems(kernel_builder=antisymmetric_part, exact=True, methods=(None, "auto", "direct")))
def test_antisymmetric_kernels_give_negated_results(problem):
    assume(problem.fits)
    result = compare(problem.signal, problem.kernel, **problem.options)
    conv = result.convolution.astype(np.complex128)
    corr = result.correlation.astype(np.complex128)
    if np.any(problem.kernel != 0):
        assert kernel_symmetry(problem.kernel) == "antisymmetric"
        assert result.kernel_symmetry == "antisymmetric"
    else:  # the zero kernel is both; symmetric wins
        assert result.kernel_symmetry == "symmetric"
    assert result.negated is True
    assert (conv == -corr).all()
    # conv == -corr, so they agree exactly where they are zero
    assert result.differing == int(np.count_nonzero(conv))
    assert result.identical == (not conv.any())


@pytest.mark.slow
@given(problems(kernel_builder=antisymmetric_part, kinds=("float", "complex")))
def test_antisymmetric_float_kernels_give_negated_results(problem):
    assume(problem.fits)
    assume(np.abs(problem.kernel).max() > 1e-3)
    result = compare(problem.signal, problem.kernel, **problem.options)
    assert result.kernel_symmetry == "antisymmetric"
    assert result.negated is True
    scale = np.abs(problem.signal).max() * np.abs(problem.kernel).sum() + 1e-300
    np.testing.assert_allclose(
        result.convolution.astype(complex),
        -result.correlation.astype(complex),
        rtol=0,
        atol=1e-12 * scale,
    )


@pytest.mark.slow
@given(
    st.lists(st.integers(1, 40), min_size=1, max_size=3),
    st.data(),
)
def test_same_output_length_is_ceil_n_over_stride(signal_shape, data):
    ndim = len(signal_shape)
    kernel_shape = tuple(data.draw(st.integers(1, 9)) for _ in range(ndim))
    stride = tuple(data.draw(st.integers(1, 6)) for _ in range(ndim))
    dilation = tuple(data.draw(st.integers(1, 5)) for _ in range(ndim))
    geometry = plan(
        tuple(signal_shape),
        kernel_shape,
        Options.parse(padding="same", stride=stride, dilation=dilation),
    )
    expected = tuple(-(-n // s) for n, s in zip(signal_shape, stride))
    assert geometry.output_shape == expected
    for n, k, s, d, (before, after) in zip(
        signal_shape, kernel_shape, stride, dilation, geometry.pads
    ):
        total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
        assert before + after == total
        assert before == total // 2 <= after
    if math.prod(signal_shape) <= 200 and math.prod(kernel_shape) <= 100:
        signal = np.ones(signal_shape, dtype=np.int64)
        kernel = np.ones(kernel_shape, dtype=np.int64)
        assert (
            convolve(signal, kernel, padding="same", stride=stride, dilation=dilation).shape
            == expected
        )


# --------------------------------------------------------------------------- exact big integers

INT64 = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([2**63 - 1, -(2**63), 2**62, -(2**62), 3 * 2**61, 2**32 + 1]),
)


@pytest.mark.slow
@given(
    shapes(ndim=None),
    st.data(),
    st.sampled_from(PAD_MODE_NAMES),
    st.sampled_from(["valid", "same", "full"]),
)
def test_int64_overflow_is_exact(shape_pair, data, pad_mode, padding):
    signal_shape, kernel_shape = shape_pair
    f = np.array(
        data.draw(
            st.lists(INT64, min_size=math.prod(signal_shape), max_size=math.prod(signal_shape))
        ),
        dtype=np.int64,
    ).reshape(signal_shape)
    h = np.array(
        data.draw(
            st.lists(INT64, min_size=math.prod(kernel_shape), max_size=math.prod(kernel_shape))
        ),
        dtype=np.int64,
    ).reshape(kernel_shape)
    options = {"padding": padding, "pad_mode": pad_mode}
    assume(all(n > 0 for n in reference_output_shape(signal_shape, kernel_shape, padding)))
    for operation, function in OPERATIONS.items():
        actual = function(f, h, **options)
        expected = reference_slide(f, h, operation, **options)[0]
        assert actual.tolist() == expected.tolist()
        assert is_exact_integer_array(actual), [type(v) for v in actual.flat]
    result = compare(f, h, **options)
    assert result.identical == (result.convolution.tolist() == result.correlation.tolist())


def test_int64_overflow_by_hand():
    big = 2**62
    result = correlate([big, big, big], [1, 1])
    assert result.tolist() == [2**63, 2**63]
    assert all(type(v) is int for v in result.flat)
    assert correlate(np.array([-(2**63)]), [-1]).tolist() == [2**63]
    assert convolve([2**63 - 1, 1], [2**63 - 1, 3]).tolist() == [(2**63 - 1) * 3 + 1 * (2**63 - 1)]
    # products that cancel still come out exact
    assert correlate([2**62, 2**62], [4, -4]).tolist() == [0]


@pytest.mark.parametrize("function", [convolve, correlate], ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("padding", "expected"),
    [
        ("1:0", [2**63]),
        ("full", [2**62, 2**63, 2**63, 2**62]),
        ("same", [2**63, 2**63]),
        (2, [2**62, 2**63, 2**63, 2**62]),
    ],
)
def test_zero_padding_keeps_big_integers_exact(function, padding, expected):
    """Padded zeros must not drag the exact (object) arithmetic back into int64."""
    result = function([2**62, 2**62], [1, 1, 1], padding=padding)
    assert result.tolist() == expected
    assert all(type(v) is int for v in result.flat), [type(v) for v in result.flat]


@pytest.mark.parametrize(
    "signal",
    [
        [2**63 - 1, -(2**63)],  # numpy makes int64
        [2**63 + 1],  # numpy makes uint64
        [2**64, 1],  # numpy makes an object array
        [2**63 + 1, 1],  # numpy makes float64 and loses the +1
        [[2**63 + 1], [3]],
    ],
)
def test_python_int_lists_are_exact(signal):
    """Integer inputs, however numpy would type them, give exact integer results."""
    kernel = [[1]] if isinstance(signal[0], list) else [1]
    expected = reference_slide(signal, kernel, "correlation")[0]
    assert expected.tolist() == signal
    actual = correlate(signal, kernel)
    assert is_exact_integer_array(actual), actual.dtype
    assert actual.tolist() == signal
    assert convolve(signal, kernel).tolist() == signal


# --------------------------------------------------------------------------- nan and inf


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@given(problems(kinds=("float", "complex")), st.data(), st.sampled_from(["nan", "inf", "-inf"]))
def test_nonfinite_values_stay_in_their_windows(problem, data, bad):
    assume(problem.fits)
    if problem.kinds[0] == "complex" and bad != "nan":
        bad = "nan"  # complex infinities are several things at once; nan is enough here
    signal = problem.signal.astype(np.complex128 if problem.kinds[0] == "complex" else float)
    cell = tuple(data.draw(st.integers(0, n - 1)) for n in signal.shape)
    signal[cell] = float(bad)
    # nonzero weights, so no 0 * inf ambiguity about which outputs are touched
    kernel = np.where(problem.kernel == 0, 1, problem.kernel)
    touched = reference_touches(signal.shape, kernel.shape, {cell}, **problem.reference_options)
    for operation, function in OPERATIONS.items():
        actual = function(signal, kernel, **problem.options)
        expected, magnitude = reference_slide(
            signal, kernel, operation, **problem.reference_options
        )
        if bad == "nan":
            assert (np.isnan(actual) == touched).all(), (actual, touched)
        assert (~np.isfinite(actual) == touched).all(), (actual, touched)
        assert count_nonfinite(actual) == int(touched.sum())
        # the untouched outputs are unaffected
        slack = problem.fft_slack(signal, kernel)
        assert_close_to_reference(actual[~touched], expected[~touched], magnitude[~touched], slack)
    result = compare(signal, kernel, **problem.options)
    assert count_nonfinite(result.convolution) == count_nonfinite(result.correlation)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_by_hand():
    result = correlate([1.0, np.nan, 1.0, 1.0, 1.0], [1.0, 1.0])
    assert np.isnan(result).tolist() == [True, True, False, False]
    assert result[2:].tolist() == [2.0, 2.0]
    result = correlate([1.0, np.nan, 1.0, 1.0, 1.0], [1.0, 1.0], dilation=3)
    assert np.isnan(result).tolist() == [False, True]
    result = correlate([np.inf, 1.0, 1.0, 1.0], [1.0], padding=1, pad_mode="circular")
    assert np.isinf(result).tolist() == [False, True, False, False, False, True]


def test_count_nonfinite():
    assert count_nonfinite(np.array([1, 2, 3])) == 0
    assert count_nonfinite(np.array([1.0, np.nan, np.inf, -np.inf, 0.0])) == 3
    assert count_nonfinite(np.array([complex(np.nan, 0), 1j, complex(0, np.inf)])) == 2
    assert count_nonfinite(np.array([2**70, 1], dtype=object)) == 0


# --------------------------------------------------------------------------- float noise


def test_float_noise_does_not_break_the_kernel_verdict():
    noisy = [0.1 + 0.2, 0.3]  # 0.30000000000000004 and 0.3
    assert kernel_symmetry(noisy) == "symmetric"
    assert kernel_symmetry([0.1 + 0.2, -0.3]) == "antisymmetric"
    result = compare([1.0, 2.0, 3.0, 4.0], noisy)
    assert (result.identical, result.negated, result.differing) == (True, False, 0)


def test_float_noise_near_zero_outputs_does_not_break_the_verdict():
    """A symmetric-up-to-rounding kernel on a signal whose outputs are all ~0.

    Convolution and correlation differ only by rounding noise (about 5e-17 on
    terms of size 0.3), so they must be reported identical, as the kernel verdict says.
    """
    result = compare([1.0, -1.0, 1.0, -1.0], [0.1 + 0.2, 0.3])
    assert result.kernel_symmetry == "symmetric"
    assert result.identical is True
    assert result.differing == 0


def test_differing_counts_real_differences_next_to_large_values():
    """A large output elsewhere must not hide a genuine difference (1 vs 2)."""
    result = compare([1e12, 0.0, 1.0, 0.0], [1.0, 2.0])
    assert result.convolution.tolist() == [2e12, 1.0, 2.0]
    assert result.correlation.tolist() == [1e12, 2.0, 1.0]
    assert result.identical is False
    assert result.differing == 3


@pytest.mark.parametrize(
    ("kernel", "expected"),
    [
        (np.array([3, 253], dtype=np.uint8), "none"),
        (np.array([1, 2**64 - 1], dtype=np.uint64), "none"),
        (np.array([5, 5], dtype=np.uint8), "symmetric"),
        (np.array([3, -3], dtype=np.int8), "antisymmetric"),
        (np.array([-128, 127], dtype=np.int8), "none"),
    ],
)
def test_kernel_symmetry_of_small_and_unsigned_integer_dtypes(kernel, expected):
    """The verdict is about the numbers, not about wrapped-around machine arithmetic."""
    assert kernel_symmetry(kernel) == expected
    result = compare(np.array([1, 2, 4]), kernel)
    assert result.kernel_symmetry == expected
    if expected == "antisymmetric":
        assert result.negated
    if expected == "none":
        assert not result.identical and not result.negated


# --------------------------------------------------------------------------- errors

FUNCTIONS = [convolve, correlate, compare]


@pytest.mark.slow
@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("signal", "kernel", "options", "words"),
    [
        # kernel larger than the (padded) signal, including numpy's silent swap case
        ([1, 2], [1, 2, 3], {}, ["kernel"]),
        ([1, 2], [1, 2, 3], {"padding": "valid"}, ["kernel"]),
        ([1, 2, 3], [1, 1], {"dilation": 3}, ["kernel"]),
        ([[1, 2], [3, 4]], [[1], [1], [1]], {}, ["kernel"]),
        ([1, 2], [1, 2, 3, 4], {"padding": "1:0"}, ["kernel"]),
        # stride and dilation
        ([1, 2, 3], [1], {"stride": 0}, ["stride"]),
        ([1, 2, 3], [1], {"stride": -1}, ["stride"]),
        ([1, 2, 3], [1], {"stride": "0"}, ["stride"]),
        ([1, 2, 3], [1], {"stride": "-2"}, ["stride"]),
        ([1, 2, 3], [1], {"stride": "two"}, ["stride"]),
        ([[1, 2], [3, 4]], [[1]], {"stride": (1, 0)}, ["stride"]),
        ([1, 2, 3], [1], {"dilation": 0}, ["dilation"]),
        ([1, 2, 3], [1], {"dilation": -2}, ["dilation"]),
        ([1, 2, 3], [1], {"dilation": "0"}, ["dilation"]),
        # padding
        ([1, 2, 3], [1], {"padding": -1}, ["padding", "negative"]),
        ([1, 2, 3], [1], {"padding": "-1"}, ["padding", "negative"]),
        ([1, 2, 3], [1], {"padding": "1:-1"}, ["padding", "negative"]),
        ([1, 2, 3], [1], {"padding": [(0, -2)]}, ["padding", "negative"]),
        ([1, 2, 3], [1], {"padding": "wide"}, ["padding"]),
        ([1, 2, 3], [1], {"padding": "1:2:3"}, ["padding"]),
        ([1, 2, 3], [1], {"padding": ""}, ["padding"]),
        ([1, 2, 3], [1], {"padding": [(1, 2, 3)]}, ["padding"]),
        # pad mode and method
        ([1, 2, 3], [1], {"pad_mode": "mirror"}, ["pad_mode", "mirror"]),
        ([1, 2, 3], [1], {"pad_mode": ""}, ["pad_mode"]),
        ([1, 2, 3], [1], {"method": "fft-please"}, ["method", "fft-please"]),
        # dimensions
        ([1, 2, 3], [[1]], {}, ["dimension"]),
        ([[1, 2, 3]], [1], {}, ["dimension"]),
        (5, [1], {}, ["signal", "dimension"]),
        ([1, 2], 5, {}, ["kernel", "dimension"]),
        # empty inputs
        ([], [1], {}, ["signal", "empty"]),
        ([1, 2], [], {}, ["kernel", "empty"]),
        (np.zeros((0, 3)), np.ones((1, 1)), {}, ["signal", "empty"]),
        # wrong number of per-axis values
        ([[1, 2], [3, 4]], [[1]], {"stride": (1, 2, 3)}, ["stride", "3"]),
        ([1, 2, 3], [1], {"stride": "1,1"}, ["stride", "2"]),
        ([1, 2, 3], [1], {"dilation": [1, 2]}, ["dilation"]),
        ([[1, 2], [3, 4]], [[1]], {"padding": "1,2,3"}, ["padding", "3"]),
        ([1, 2, 3], [1], {"padding": [(1, 1), (2, 2)]}, ["padding"]),
        # non-numeric data
        (["a", "b"], [1], {}, ["signal", "number"]),
        ([1, 2], ["x"], {}, ["kernel", "number"]),
        (np.array([1, "a"], dtype=object), [1], {}, ["signal", "number"]),
        (np.array(["2024-01-01"], dtype="datetime64[D]"), [1], {}, ["signal", "number"]),
    ],
)
def test_errors_name_the_problem(function, signal, kernel, options, words):
    with pytest.raises(ConvcliError) as caught:
        function(signal, kernel, **options)
    message = str(caught.value).lower()
    for word in words:
        assert word.lower() in message, message
    assert "\n" not in message


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"stride": 1.5}, "stride"),
        ({"stride": True}, "stride"),
        ({"dilation": None}, "dilation"),
        ({"padding": []}, "padding"),
        ({"padding": 1.5}, "padding"),
        ({"pad_mode": None}, "pad_mode"),
        ({"method": 1}, "method"),
    ],
)
def test_options_of_a_wrong_type_are_type_errors_naming_them(function, options, name):
    with pytest.raises(TypeError, match=name):
        function([1, 2, 3], [1], **options)


def test_errors_are_value_errors():
    assert issubclass(ConvcliError, ValueError)
    with pytest.raises(ValueError):
        convolve([1], [1, 2])


def test_numpy_would_have_swapped_but_convcli_refuses():
    assert np.convolve([1, 2], [1, 2, 3], "valid").size > 0  # numpy swaps silently
    with pytest.raises(ConvcliError, match="kernel"):
        convolve([1, 2], [1, 2, 3], padding="valid")
    # with enough padding the same kernel is fine
    assert convolve([1, 2], [1, 2, 3], padding="full").tolist() == [1, 4, 7, 6]


# --------------------------------------------------------------------------- auto's accuracy guard


def guard_signal(ndim: int, scale: float) -> tuple[np.ndarray, np.ndarray, tuple, tuple]:
    """Values ~scale with a stretch of 1e12 * scale (scipy issue 22390) and a stretch of
    zeros; a kernel long enough for auto to choose fft. Returns the signal, the kernel,
    the region of outputs whose windows hold only the small values, and the all-zero region."""
    rng = np.random.default_rng(22390)
    if ndim == 1:
        signal = rng.uniform(0.5, 1.5, 20_000)
        signal[:5_000] = 1e12
        signal[12_000:13_000] = 0.0
        kernel = rng.uniform(0.5, 1.5, 300)
        return signal * scale, kernel, (slice(5_000, 11_700),), (slice(12_000, 12_701),)
    signal = rng.uniform(0.5, 1.5, (96, 96))
    signal[:30] = 1e12
    signal[70:90] = 0.0
    kernel = rng.uniform(0.5, 1.5, (15, 15))
    return signal * scale, kernel, (slice(30, 55), slice(None)), (slice(70, 76), slice(None))


def sampled_reference(signal: np.ndarray, kernel: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """The naive reference's valid correlation at each output cell (rows of ``cells``)."""
    values = []
    for cell in cells:
        window = tuple(slice(i, i + k) for i, k in zip(cell, kernel.shape))
        values.append(float(reference_slide(signal[window], kernel, "correlation")[0].flat[0]))
    return np.array(values)


@pytest.mark.slow
@pytest.mark.parametrize("scale", [1.0, 1e-18, 1e-200], ids=["unit", "tiny", "underflow"])
@pytest.mark.parametrize("ndim", [1, 2])
def test_auto_guard_keeps_small_outputs_exact(ndim: int, scale: float):
    """Outputs next to huge ones keep their digits under auto (relative 1e-12) although
    the plain FFT gets them measurably wrong; the guard must not depend on the units
    (1e-200: the guard's squared norms must not underflow to 0)."""
    signal, kernel, small, zero = guard_signal(ndim, scale)
    auto = compute(signal, kernel, "correlation", Options.parse(method="auto"))
    plain = compute(signal, kernel, "correlation", Options.parse(method="fft")).values
    assert auto.method == "fft"
    region = np.zeros(auto.values.shape, dtype=bool)
    region[small] = True
    cells = np.argwhere(region)
    cells = cells[np.random.default_rng(1).choice(len(cells), 150, replace=False)]
    expected = sampled_reference(signal, kernel, cells)
    index = tuple(cells.T)
    auto_error = np.max(np.abs(auto.values[index] - expected) / np.abs(expected))
    plain_error = np.max(np.abs(plain[index] - expected) / np.abs(expected))
    assert auto_error <= 1e-12, f"auto {auto_error:.3g}, fft {plain_error:.3g}"
    assert plain_error > 1e-8, "without the guard the FFT should lose these digits"
    assert np.all(auto.values[zero] == 0.0)  # exactly zero by the direct sum, and by auto
    assert np.all(
        compute(signal, kernel, "correlation", Options.parse(method="direct")).values[zero] == 0.0
    )


@pytest.mark.parametrize("ndim", [1, 2])
def test_auto_guard_on_huge_finite_values_warns_nothing(ndim: int):
    """Values near 1e200 are finite and so are their sums: no overflow RuntimeWarning
    from squaring them for the guard's error bound, and the results are still right."""
    signal, kernel, small, zero = guard_signal(ndim, 1e-12)
    signal = signal * 1e200  # a stretch at 1e200, the rest ~1e188
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = compute(signal, kernel, "correlation", Options.parse(method="auto"))
    assert auto.method == "fft"
    assert np.all(auto.values[zero] == 0.0)
    expected = compute(signal, kernel, "correlation", Options.parse(method="direct")).values
    np.testing.assert_allclose(auto.values[small], expected[small], rtol=1e-12)


#: OpenBLAS computes a dot product of more than this many values on several threads,
#: which fight over the one core of a pinned process (issue 14: auto ten times slower).
BLAS_ONE_THREAD = 10_000


@pytest.mark.parametrize("ndim", [1, 2])
def test_auto_guard_makes_no_multithreaded_blas_call(monkeypatch, ndim: int):
    """The guard's norms (and nothing else on the FFT path) hand BLAS no vector longer
    than OpenBLAS's single-thread limit."""
    longest = [0]

    def spy(function):
        def call(*arrays, **options):
            longest[0] = max([longest[0], *(np.shape(a)[-1] for a in arrays if np.ndim(a))])
            return function(*arrays, **options)

        return call

    for name in ("dot", "vdot", "inner", "matmul", "tensordot", "vecdot"):
        if hasattr(np, name):
            monkeypatch.setattr(np, name, spy(getattr(np, name)))
    shape, taps = ((10**5,), (31,)) if ndim == 1 else ((400, 400), (9, 9))
    rng = np.random.default_rng(5)
    signal, kernel = rng.normal(size=shape), rng.normal(size=taps)
    result = compute(signal, kernel, "convolution", Options.parse(method="auto"))
    assert result.method == "fft"
    assert longest[0] <= BLAS_ONE_THREAD
    expected = compute(signal, kernel, "convolution", Options.parse(method="direct")).values
    np.testing.assert_allclose(result.values, expected, rtol=1e-9, atol=1e-9)


def test_auto_guard_keeps_exact_zeros_in_short_signals():
    """A zero stretch inside a signal handled by one transform: zero outputs stay 0.0."""
    rng = np.random.default_rng(7)
    signal = rng.normal(size=3_000) * 1e6
    signal[1_000:1_600] = 0.0
    kernel = rng.normal(size=400)
    result = compute(signal, kernel, "convolution", Options.parse(method="auto"))
    assert result.method == "fft"
    assert np.all(result.values[1_000:1_201] == 0.0)


@pytest.mark.slow
@settings(deadline=None)
@given(
    n=st.integers(1, 300),
    taps=st.integers(1, engine.PLAIN_TAPS),
    method=st.sampled_from(["auto", "direct"]),
    data=st.data(),
)
def test_plain_requests_give_the_general_paths_values_bit_for_bit(
    n: int, taps: int, method: str, data: st.DataObject
):
    assume(taps <= n)
    cells = st.floats(allow_nan=True, allow_infinity=True, width=64)
    signal = np.array(data.draw(st.lists(cells, min_size=n, max_size=n)), dtype=np.float64)
    kernel = np.array(data.draw(st.lists(cells, min_size=taps, max_size=taps)))
    with np.errstate(all="ignore"):
        for operation, function in (
            ("convolution", convcli.convolve),
            ("correlation", convcli.correlate),
        ):
            expected = compute(signal, kernel, operation, Options.parse(method=method)).values
            got = function(signal, kernel, method=method)
            assert got.dtype == expected.dtype
            assert got.tobytes() == expected.tobytes()


def test_plain_route_taken_only_for_plain_requests(monkeypatch):
    signal, kernel = np.arange(10.0), np.array([1.0, -2.0, 0.5])
    assert engine.plain_sum(signal, kernel, "convolution") is not None
    for signal_, kernel_ in [
        (signal.tolist(), kernel),  # a list
        (signal.astype(int), kernel),  # integers stay exact
        (signal, kernel.astype(complex)),
        (signal.reshape(2, 5), kernel.reshape(1, 3)),
        (signal, np.ones(engine.PLAIN_TAPS + 1)),
        (signal[:2], kernel),  # a kernel longer than the signal: an error
    ]:
        assert engine.plain_sum(signal_, kernel_, "convolution") is None
    taken = []
    plain_sum = engine.plain_sum
    monkeypatch.setattr(engine, "plain_sum", lambda *args: taken.append(1) or plain_sum(*args))
    for changes in [
        {"padding": "same"},
        {"padding": ((0, 0),)},
        {"stride": 2},
        {"dilation": 2},
        {"pad_mode": "reflect"},
        {"method": "fft"},
        {"convention": "numpy"},
    ]:
        convcli.convolve(signal, kernel, **changes)
        assert taken == [], changes
    convcli.convolve(signal, kernel, method="direct")
    assert taken == [1]
    with pytest.raises(ConvcliError, match="pad_mode='"):  # refused as ever
        convcli.convolve(signal, kernel, pad_mode="mirror")


def test_unknown_method_refused():
    with pytest.raises(ConvcliError, match="method='"):
        compute([1, 2], [1], "convolution", Options.parse(method="fast"))


@settings(max_examples=200, deadline=None)
@example(  # constant padding far larger than the signal: it sets the edges' tolerance
    signal=[1.0, 1.0, 1.0, 1.0],
    kernel=[1.0, 1.000000000001],
    padding="full",
    pad_mode="constant",
    pad_value=1e6,
    flip=False,
)
@given(
    signal=st.lists(
        st.one_of(
            st.floats(-1e3, 1e3),
            st.sampled_from([0.0, -0.0, 1e-300, np.nan, np.inf, -np.inf, 1e300]),
        ),
        min_size=3,
        max_size=40,
    ),
    kernel=st.lists(
        st.sampled_from([1.0, -1.0, 2.0, 0.5, 0.0, -2.0, 1e-12]), min_size=1, max_size=3
    ),
    padding=st.sampled_from(["valid", "full", "same"]),
    pad_mode=st.sampled_from(["zeros", "reflect", "circular", "constant"]),
    pad_value=st.sampled_from([0.0, 7.5, -1e6, 1e6]),
    flip=st.booleans(),
)
def test_compare_bounds_the_verdicts_scale_only_where_it_cannot_change_them(
    signal, kernel, padding, pad_mode, pad_value, flip
):
    """compare() runs the sums on |f| and |h| only where a position is too close to call;
    its verdicts are those of compare_with without that bound, position by position."""
    h = np.array(kernel + kernel[::-1] if flip else kernel)  # symmetric kernels too
    if pad_mode != "constant":
        pad_value = 0.0
    options = Options.parse(padding=padding, pad_mode=pad_mode, pad_value=pad_value)
    f = np.array(signal)
    try:
        fast = engine.compare(f, h, options)
    except ConvcliError:
        return
    full = engine.compare_with(f, h, lambda f, h, operation: compute(f, h, operation, options))
    assert np.array_equal(fast.equal, full.equal)
    assert np.array_equal(fast.opposite, full.opposite)
    assert (fast.identical, fast.negated) == (full.identical, full.negated)
