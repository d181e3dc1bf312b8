"""Tests for convcli.analysis.kernels (named kernels) and inputs.read_kernel (file, name, numbers).

Hand-checked values for every kernel, shapes per number of dimensions, the
Gaussian against its formula, symmetry verdicts, every error, and the order in
which read_kernel tries a file, a name and numbers.
"""

from __future__ import annotations

import dataclasses
import io
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli import compare, convolve, correlate
from convcli.analysis.kernels import (
    MAX_CELLS,
    KernelInfo,
    catalogue,
    default_sigma,
    kernel_names,
    named_kernel,
)
from convcli.cli import inputs
from convcli.engine.core import kernel_symmetry
from convcli.errors import ConvcliError, InputError


def assert_same(actual: np.ndarray | None, expected: np.ndarray) -> None:
    """Same dtype, shape and values."""
    assert actual is not None
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


def ints(values: list) -> np.ndarray:
    return np.array(values, dtype=np.int64)


# --------------------------------------------------------------------------- fixed kernels

FIXED_1D = {
    "diff": ints([1, -1]),
    "central-diff": np.array([0.5, 0.0, -0.5]),
    "laplacian": ints([1, -2, 1]),
}
FIXED_2D = {
    "laplacian2d": ints([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "sobel-x": ints([[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
    "sobel-y": ints([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]),
    "prewitt-x": ints([[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
    "prewitt-y": ints([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
    "sharpen": ints([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "emboss": ints([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
}


@pytest.mark.parametrize(("name", "expected"), FIXED_1D.items())
def test_1d_kernels_on_a_1d_signal(name, expected):
    assert_same(named_kernel(name, 1), expected)


@pytest.mark.parametrize(("name", "expected"), FIXED_1D.items())
def test_1d_kernels_on_a_2d_signal_are_one_row(name, expected):
    # documented: horizontal direction, shape (1, K)
    assert_same(named_kernel(name, 2), expected.reshape(1, -1))


@pytest.mark.parametrize(("name", "expected"), FIXED_2D.items())
def test_2d_kernels_on_a_2d_signal(name, expected):
    assert_same(named_kernel(name, 2), expected)


@pytest.mark.parametrize("name", FIXED_2D)
def test_2d_kernels_refuse_a_1d_signal(name):
    with pytest.raises(ConvcliError, match=rf"^{name} is a 2-D kernel but the signal is 1-D$"):
        named_kernel(name, 1)


def test_fixed_kernels_act_on_the_last_axes_of_higher_dimensions():
    assert_same(named_kernel("diff", 3), ints([1, -1]).reshape(1, 1, 2))
    assert_same(named_kernel("sobel-x", 3), FIXED_2D["sobel-x"].reshape(1, 3, 3))


def test_sharpen_is_identity_minus_laplacian():
    assert_same(named_kernel("sharpen", 2), named_kernel("identity:3", 2) - FIXED_2D["laplacian2d"])


def test_results_are_fresh_arrays():
    first = named_kernel("diff", 1)
    assert first is not None
    first[0] = 99
    assert_same(named_kernel("diff", 1), ints([1, -1]))


# --------------------------------------------------------------------------- sized kernels


def test_box_values_and_shapes():
    assert_same(named_kernel("box:3", 1), np.full(3, 1 / 3))
    assert_same(named_kernel("box:2", 2), np.full((2, 2), 0.25))
    assert_same(named_kernel("box:1", 3), np.ones((1, 1, 1)))


@given(size=st.integers(1, 30), ndim=st.integers(1, 3))
def test_box_is_a_mean_filter(size, ndim):
    kernel = named_kernel(f"box:{size}", ndim)
    assert kernel is not None
    assert kernel.shape == (size,) * ndim
    assert kernel.dtype == np.float64
    assert np.all(kernel == kernel.flat[0])
    assert math.isclose(kernel.sum(), 1.0, rel_tol=1e-12)


def test_identity_values_and_shapes():
    assert_same(named_kernel("identity:3", 1), ints([0, 1, 0]))
    assert_same(named_kernel("identity:1", 2), ints([[1]]))
    assert_same(named_kernel("identity:3", 2), ints([[0, 0, 0], [0, 1, 0], [0, 0, 0]]))
    # even N: the 1 is at index N//2, just past the middle
    assert_same(named_kernel("identity:4", 1), ints([0, 0, 1, 0]))
    expected = np.zeros((2, 2, 2), dtype=np.int64)
    expected[1, 1, 1] = 1
    assert_same(named_kernel("identity:2", 3), expected)


def test_identity_gives_the_signal_back():
    signal = np.arange(20).reshape(4, 5)
    kernel = named_kernel("identity:3", 2)
    assert_same(convolve(signal, kernel, padding="same"), signal)
    assert_same(correlate(signal, kernel, padding="same"), signal)


def test_gaussian_hand_checked():
    # sigma 1, N 3: exp(-1/2) / (1 + 2 exp(-1/2)) at the ends
    side = math.exp(-0.5) / (1 + 2 * math.exp(-0.5))
    np.testing.assert_allclose(
        named_kernel("gaussian:3:1", 1), [side, 1 - 2 * side, side], rtol=1e-15
    )
    assert_same(named_kernel("gaussian:1", 1), np.array([1.0]))
    assert_same(named_kernel("gaussian:1:7", 2), np.array([[1.0]]))


def test_default_sigma_is_opencvs():
    assert default_sigma(3) == pytest.approx(0.8)
    assert default_sigma(5) == pytest.approx(1.1)
    assert default_sigma(7) == pytest.approx(1.4)
    assert default_sigma(1) == pytest.approx(0.5)
    np.testing.assert_array_equal(named_kernel("gaussian:5", 1), named_kernel("gaussian:5:1.1", 1))
    np.testing.assert_array_equal(named_kernel("gaussian:9", 2), named_kernel("gaussian:9:1.7", 2))


def direct_gaussian(size: int, sigma: float) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


@given(size=st.integers(1, 40), sigma=st.floats(0.2, 50.0), ndim=st.integers(1, 3))
def test_gaussian_matches_the_formula_and_sums_to_one(size, sigma, ndim):
    kernel = named_kernel(f"gaussian:{size}:{sigma!r}", ndim)
    assert kernel is not None
    assert kernel.dtype == np.float64
    assert kernel.shape == (size,) * ndim
    assert math.isclose(kernel.sum(), 1.0, rel_tol=1e-12)
    one = direct_gaussian(size, sigma)
    expected = one if ndim == 1 else np.einsum(",".join("ijk"[:ndim]), *[one] * ndim)
    np.testing.assert_allclose(kernel, expected, rtol=1e-12, atol=1e-300)
    assert kernel_symmetry(kernel) == "symmetric"


def test_gaussian_in_2d_is_the_outer_product():
    one = named_kernel("gaussian:5", 1)
    np.testing.assert_allclose(named_kernel("gaussian:5", 2), np.outer(one, one), rtol=1e-15)


def test_gaussian_extreme_sigmas_stay_finite():
    # a tiny sigma is an impulse at the centre (or the two middle taps), never 0/0
    assert_same(named_kernel("gaussian:5:1e-300", 1), np.array([0.0, 0, 1, 0, 0]))
    assert_same(named_kernel("gaussian:4:1e-300", 1), np.array([0.0, 0.5, 0.5, 0]))
    # a huge sigma is a box
    np.testing.assert_allclose(named_kernel("gaussian:4:1e300", 1), np.full(4, 0.25))


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("spec", ["SOBEL-X", "Sobel-x", " sobel-x ", "sObEl-X"])
def test_names_are_case_insensitive_and_stripped(spec):
    assert_same(named_kernel(spec, 2), FIXED_2D["sobel-x"])


def test_parameterised_names_are_case_insensitive():
    np.testing.assert_array_equal(named_kernel("GAUSSIAN:5:2", 1), named_kernel("gaussian:5:2", 1))
    assert_same(named_kernel("Box:2", 1), np.array([0.5, 0.5]))
    assert_same(named_kernel("IDENTITY:3", 1), ints([0, 1, 0]))


@pytest.mark.parametrize("spec", ["1,2,1", "sobel", "gauss:5", "boxes:3", "", "-", "nan", "x"])
def test_non_names_give_none(spec):
    assert named_kernel(spec, 1) is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("box", r"'box' needs a size: box:N"),
        ("box:", r"'box:': N must be a positive integer"),
        ("box:0", r"'box:0': N must be a positive integer"),
        ("box:-3", r"'box:-3': N must be a positive integer"),
        ("box:2.5", r"'box:2.5': N must be a positive integer"),
        ("box:3:1", r"'box:3:1' has too many parameters"),
        ("identity", r"'identity' needs a size: identity:N"),
        ("identity:0", r"'identity:0': N must be a positive integer"),
        ("gaussian", r"'gaussian' needs a size: gaussian:N\[:SIGMA\]"),
        ("gaussian:x", r"'gaussian:x': N must be a positive integer"),
        ("gaussian:0", r"'gaussian:0': N must be a positive integer"),
        ("gaussian:5:-1", r"'gaussian:5:-1': SIGMA must be a positive number"),
        ("gaussian:5:0", r"'gaussian:5:0': SIGMA must be a positive number"),
        ("gaussian:5:abc", r"'gaussian:5:abc': SIGMA must be a positive number"),
        ("gaussian:5:nan", r"'gaussian:5:nan': SIGMA must be a positive number"),
        ("gaussian:5:inf", r"'gaussian:5:inf': SIGMA must be a positive number"),
        ("gaussian:5:1:2", r"'gaussian:5:1:2' has too many parameters"),
        ("diff:3", r"'diff:3': diff takes no parameters"),
        ("Sobel-X:3", r"'Sobel-X:3': sobel-x takes no parameters"),
        ("laplacian2d:", r"laplacian2d takes no parameters"),
        ("box:4000", r"'box:4000' is too large: in 2-D"),
        ("box:" + "9" * 5000, r"is too large"),
    ],
)
def test_bad_parameters_are_one_line_errors(spec, message):
    with pytest.raises(ConvcliError, match=message) as caught:
        named_kernel(spec, 2)
    assert "\n" not in str(caught.value)


def test_size_limit_depends_on_dimensions():
    side = math.isqrt(MAX_CELLS)
    assert named_kernel(f"box:{side}", 1) is not None
    with pytest.raises(ConvcliError, match="too large"):
        named_kernel(f"box:{side + 1}", 2)


@pytest.mark.parametrize("ndim", [0, -1])
def test_ndim_must_be_positive(ndim):
    with pytest.raises(ConvcliError, match="1 or more dimensions"):
        named_kernel("box:3", ndim)


# --------------------------------------------------------------------------- catalogue

EXPECTED_NAMES = [
    "box:N",
    "gaussian:N[:SIGMA]",
    "diff",
    "central-diff",
    "laplacian",
    "laplacian2d",
    "sobel-x",
    "sobel-y",
    "prewitt-x",
    "prewitt-y",
    "sharpen",
    "emboss",
    "identity:N",
]

EXPECTED_SYMMETRY = {
    "box:N": "symmetric",
    "gaussian:N[:SIGMA]": "symmetric",
    "laplacian": "symmetric",
    "laplacian2d": "symmetric",
    "sharpen": "symmetric",
    "identity:N": "symmetric",
    "diff": "antisymmetric",
    "central-diff": "antisymmetric",
    "sobel-x": "antisymmetric",
    "sobel-y": "antisymmetric",
    "prewitt-x": "antisymmetric",
    "prewitt-y": "antisymmetric",
    "emboss": "none",
}


def test_kernel_names_in_order():
    assert kernel_names() == EXPECTED_NAMES


def test_catalogue_lists_every_name_with_its_verdict():
    infos = catalogue()
    assert all(isinstance(info, KernelInfo) for info in infos)
    assert [info.name for info in infos] == EXPECTED_NAMES
    assert {info.name: info.symmetry for info in infos} == EXPECTED_SYMMETRY
    assert all(info.description and "\n" not in info.description for info in infos)


def test_catalogue_values_are_the_examples_at_their_natural_ndim():
    by_name = {info.name: info for info in catalogue()}
    assert by_name["gaussian:N[:SIGMA]"].example == "gaussian:5"
    for info in by_name.values():
        natural_ndim = 2 if info.name in FIXED_2D else 1
        assert info.values.ndim == natural_ndim
        assert_same(info.values, named_kernel(info.example, natural_ndim))
    assert_same(by_name["box:N"].values, np.full(3, 1 / 3))
    assert_same(by_name["identity:N"].values, ints([0, 1, 0]))
    assert_same(by_name["emboss"].values, FIXED_2D["emboss"])


def test_catalogue_verdicts_match_compare():
    # the verdict decides the relation for every signal: check it on one
    for info in catalogue():
        signal = np.arange(1, 1 + 7**info.values.ndim).reshape((7,) * info.values.ndim) ** 2
        result = compare(signal, info.values)
        assert result.identical == (info.symmetry == "symmetric")
        assert result.negated == (info.symmetry == "antisymmetric")


def test_catalogue_is_read_only():
    info = catalogue()[0]
    with pytest.raises(ValueError, match="read-only"):
        info.values[0] = 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- inputs.read_kernel


def test_read_kernel_resolves_names_against_the_signal_ndim():
    assert_same(inputs.read_kernel("diff", 1), ints([1, -1]))
    assert_same(inputs.read_kernel("diff", 2), ints([[1, -1]]))
    assert_same(inputs.read_kernel("box:2", 2), np.full((2, 2), 0.25))
    assert_same(inputs.read_kernel("Sobel-Y", 2), FIXED_2D["sobel-y"])


def test_read_kernel_still_reads_inline_numbers():
    assert_same(inputs.read_kernel("1,-2,1", 1), ints([1, -2, 1]))
    assert_same(inputs.read_kernel("-1,1", 1), ints([-1, 1]))
    assert_same(inputs.read_kernel("[[1, 2.5], [3, 4]]", 2), np.array([[1, 2.5], [3, 4]]))
    kernel = inputs.read_kernel("nan", 1)
    assert kernel.dtype == np.float64
    assert np.isnan(kernel).all() and kernel.shape == (1,)


def test_read_kernel_reads_files_and_columns(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("a,b\n1,2\n-1,3\n")
    assert_same(inputs.read_kernel(str(path), 2), ints([[1, 2], [-1, 3]]))
    assert_same(inputs.read_kernel(f"{path}:b", 1), ints([2, 3]))


def test_read_kernel_reads_stdin():
    assert_same(inputs.read_kernel("-", 1, stdin=io.BytesIO(b"1\n-1\n")), ints([1, -1]))


def test_a_file_wins_over_a_kernel_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "diff").write_text("7,8,9\n")
    assert_same(inputs.read_kernel("diff", 1), ints([7, 8, 9]))
    # and FILE:COLUMN too: 'box:2' is column 2 of a file named box
    (tmp_path / "box").write_text("x,y\n1,5\n2,6\n")
    assert_same(inputs.read_kernel("box:2", 1), ints([5, 6]))
    # a name that is no file still resolves
    assert_same(inputs.read_kernel("laplacian", 1), ints([1, -2, 1]))


def test_a_file_error_is_not_replaced_by_the_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sobel").write_text("1,abc\n")
    with pytest.raises(
        InputError, match=r"sobel, line 1, column 2: 'abc' is not a number"
    ) as caught:
        inputs.read_kernel("sobel", 2)
    assert "kernels:" not in str(caught.value)


@pytest.mark.parametrize("source", ["sobel", "gaussin:5", "Box3", "j"])
def test_an_unknown_word_lists_the_kernel_names(source):
    with pytest.raises(InputError) as caught:
        inputs.read_kernel(source, 2)
    message = str(caught.value)
    assert message.startswith(f"the kernel {source!r} is not a file, a kernel name or numbers")
    assert "kernels: box:N, gaussian:N[:SIGMA], diff, central-diff" in message
    assert all(name in message for name in EXPECTED_NAMES)
    assert "\n" not in message


def test_other_bad_kernels_keep_their_specific_errors():
    with pytest.raises(InputError, match=r"'abc' is not a number"):
        inputs.read_kernel("1,abc,3", 1)
    with pytest.raises(InputError, match=r"no such file: sobel\.csv"):
        inputs.read_kernel("sobel.csv", 1)
    with pytest.raises(InputError, match=r"line 2 has 1 value\(s\)"):
        inputs.read_kernel("1,2;3", 2)


def test_read_kernel_passes_on_bad_parameters_and_dimensions():
    with pytest.raises(ConvcliError, match="'box:0': N must be a positive integer"):
        inputs.read_kernel("box:0", 1)
    with pytest.raises(ConvcliError, match="sobel-x is a 2-D kernel but the signal is 1-D"):
        inputs.read_kernel("sobel-x", 1)


def test_read_array_is_unchanged_for_names():
    # signals are never kernel names
    with pytest.raises(InputError, match="is not a file, and 'diff' is not a number"):
        inputs.read_array("diff", role="signal")
