"""Named kernels: ``box:N``, ``gaussian:N[:SIGMA]``, ``sobel-x`` and the like.

Text in, numbers out: nothing here reads files or draws tables. A name resolves
against the number of dimensions of the signal it will slide over:

- ``box:N``, ``gaussian:N[:SIGMA]`` and ``identity:N`` are built in that many
  dimensions, shape ``(N,) * ndim``;
- the 1-D kernels ``diff``, ``central-diff`` and ``laplacian`` act along the
  last axis, so for a 2-D signal they are one row, shape ``(1, K)``: the
  horizontal direction;
- the 2-D kernels (``laplacian2d``, ``sobel-x``, ...) need a signal of at least
  two dimensions and act on the last two axes.

Names are case-insensitive. Integer kernels are int64, so results stay exact;
the others are float64.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

import numpy as np

from convcli.engine.core import kernel_symmetry
from convcli.engine.geometry import listed_axes
from convcli.engine.numbers import as_numeric
from convcli.errors import ConvcliError
from convcli.options import Symmetry

__all__ = [
    "MAX_CELLS",
    "KernelInfo",
    "catalogue",
    "default_sigma",
    "kernel_argument",
    "kernel_names",
    "named_kernel",
]

#: The most cells a sized kernel (``box:N`` ...) may have: N**ndim <= MAX_CELLS.
#: Far more than any signal convcli reads, and a kernel cannot be larger than its signal.
MAX_CELLS = 10_000_000

_FIXED_1D: dict[str, list[int] | list[float]] = {
    "diff": [1, -1],
    "central-diff": [0.5, 0.0, -0.5],
    "laplacian": [1, -2, 1],
}
_FIXED_2D: dict[str, list[list[int]]] = {
    "laplacian2d": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "sobel-x": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "sobel-y": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "prewitt-x": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "prewitt-y": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}


@dataclass(frozen=True, eq=False)
class KernelInfo:
    """One named kernel, as ``convcli kernels`` lists it.

    Attributes
    ----------
    name : str
        The name as typed, with its parameters, e.g. ``"gaussian:N[:SIGMA]"``.
    description : str
        What the kernel does, in one line.
    example : str
        A spec that resolves, e.g. ``"gaussian:5"``.
    values : numpy.ndarray
        The example's values at its natural number of dimensions (1 for the
        sized and the 1-D kernels, 2 for the 2-D ones); read-only.
    symmetry : {"symmetric", "antisymmetric", "none"}
        The example's verdict from :func:`convcli.engine.kernel_symmetry`.
    """

    name: str
    description: str
    example: str
    values: np.ndarray
    symmetry: Symmetry


@dataclass(frozen=True)
class _Entry:
    """How one name is shown and built: ``build(parameters, ndim, spec)``."""

    usage: str
    description: str
    example: str
    build: Callable[[list[str], int, str], np.ndarray]


def default_sigma(size: int) -> float:
    """The Gaussian width ``gaussian:N`` uses when no SIGMA is given.

    OpenCV's ``getGaussianKernel`` rule: ``0.3 * ((N - 1) * 0.5 - 1) + 0.8``.

    Parameters
    ----------
    size : int
        The number of taps N (positive).

    Returns
    -------
    float
        The standard deviation in cells.

    Examples
    --------
    >>> default_sigma(3), default_sigma(5), round(default_sigma(7), 12)
    (0.8, 1.1, 1.4)
    """
    return 0.3 * ((size - 1) * 0.5 - 1) + 0.8


def _box(size: int, ndim: int) -> np.ndarray:
    """The mean filter: every weight 1 / N**ndim."""
    return np.full((size,) * ndim, 1.0 / size**ndim)


def _gaussian_1d(size: int, sigma: float) -> np.ndarray:
    """Samples of exp(-x**2 / (2 sigma**2)) at x = i - (N-1)/2, scaled to sum 1.

    The exponent is taken relative to the centre taps (which then weigh
    exp(0) = 1), so a very small sigma gives a unit impulse, not 0/0.
    """
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    squares = x * x
    with np.errstate(over="ignore"):  # far taps of a tiny sigma: exp(-inf) = 0
        exponent = (squares - squares.min()) / (2.0 * sigma) / sigma
    weights = np.exp(-exponent)
    return weights / weights.sum()


def _gaussian(size: int, sigma: float, ndim: int) -> np.ndarray:
    """The isotropic Gaussian: the outer product of ndim 1-D ones."""
    one = _gaussian_1d(size, sigma)
    return reduce(np.multiply.outer, [one] * ndim)


def _identity(size: int, ndim: int) -> np.ndarray:
    """Zeros with a 1 at index N//2 on every axis."""
    kernel = np.zeros((size,) * ndim, dtype=np.int64)
    kernel[(size // 2,) * ndim] = 1
    return kernel


def _parse_size(text: str, usage: str, spec: str, ndim: int) -> int:
    """N of a sized kernel: a positive integer whose kernel has at most MAX_CELLS cells."""
    example = usage.split(":")[0] + ":3"
    if not re.fullmatch(r"\+?\d+", text):
        raise ConvcliError(
            f"kernel {spec!r}: N must be a positive integer, as in {example} ({usage})"
        )
    digits = text.lstrip("+").lstrip("0") or "0"
    size = int(digits) if len(digits) <= 18 else MAX_CELLS + 1
    if size < 1:
        raise ConvcliError(
            f"kernel {spec!r}: N must be a positive integer, as in {example} ({usage})"
        )
    if size > MAX_CELLS or size**ndim > MAX_CELLS:
        raise ConvcliError(
            f"kernel {spec!r} is too large: in {ndim}-D it would have {text}**{ndim} cells, "
            f"more than {MAX_CELLS:,}"
        )
    return size


def _parse_sigma(text: str, spec: str) -> float:
    """SIGMA of ``gaussian:N:SIGMA``: a positive, finite number."""
    try:
        sigma = float(text)
    except ValueError:
        sigma = math.nan
    if not (math.isfinite(sigma) and sigma > 0):
        raise ConvcliError(
            f"kernel {spec!r}: SIGMA must be a positive number, as in gaussian:5:1.5"
        )
    return sigma


def _sized(
    usage: str, make: Callable[[int, int], np.ndarray]
) -> Callable[[list[str], int, str], np.ndarray]:
    """A builder for a kernel that takes exactly one parameter, N."""

    def build(parameters: list[str], ndim: int, spec: str) -> np.ndarray:
        if len(parameters) != 1:
            _wrong_count(parameters, usage, spec)
        return make(_parse_size(parameters[0], usage, spec, ndim), ndim)

    return build


def _build_gaussian(parameters: list[str], ndim: int, spec: str) -> np.ndarray:
    """``gaussian:N`` or ``gaussian:N:SIGMA``."""
    usage = "gaussian:N[:SIGMA]"
    if len(parameters) not in (1, 2):
        _wrong_count(parameters, usage, spec)
    size = _parse_size(parameters[0], usage, spec, ndim)
    sigma = _parse_sigma(parameters[1], spec) if len(parameters) == 2 else default_sigma(size)
    return _gaussian(size, sigma, ndim)


def _wrong_count(parameters: list[str], usage: str, spec: str) -> None:
    """Refuse a sized kernel given no size or too many parameters."""
    example = usage.split(":")[0] + ":3"
    if not parameters:
        raise ConvcliError(f"kernel {spec!r} needs a size: {usage}, e.g. {example}")
    raise ConvcliError(f"kernel {spec!r} has too many parameters: {usage}, e.g. {example}")


def _fixed(
    name: str, values: list, natural_ndim: int
) -> Callable[[list[str], int, str], np.ndarray]:
    """A builder for a kernel without parameters, placed on the signal's last axes."""

    def build(parameters: list[str], ndim: int, spec: str) -> np.ndarray:
        if parameters:
            raise ConvcliError(f"kernel {spec!r}: {name} takes no parameters; write {name}")
        if ndim < natural_ndim:
            raise ConvcliError(f"{name} is a {natural_ndim}-D kernel but the signal is {ndim}-D")
        kernel = np.array(values)
        return kernel.reshape((1,) * (ndim - natural_ndim) + kernel.shape)

    return build


_DESCRIPTIONS_1D = {
    "diff": "first difference: convolution gives f[i+1] - f[i] (numpy.diff)",
    "central-diff": "central difference: convolution gives (f[i+1] - f[i-1]) / 2",
    "laplacian": "second difference: f[i-1] - 2 f[i] + f[i+1]",
}
_DESCRIPTIONS_2D = {
    "laplacian2d": "5-point Laplacian: the four neighbours minus 4 times the centre",
    "sobel-x": "Sobel x-gradient (vertical edges): convolution gives right minus left",
    "sobel-y": "Sobel y-gradient (horizontal edges): convolution gives lower minus upper",
    "prewitt-x": "Prewitt x-gradient: like sobel-x with equal row weights",
    "prewitt-y": "Prewitt y-gradient: like sobel-y with equal column weights",
    "sharpen": "sharpen: the centre minus the Laplacian (identity:3 - laplacian2d)",
    "emboss": "emboss: diagonal relief; neither symmetric nor antisymmetric",
}

_ENTRIES: dict[str, _Entry] = {
    "box": _Entry(
        "box:N",
        "mean filter: N cells per axis, each weighing 1/N**ndim",
        "box:3",
        _sized("box:N", _box),
    ),
    "gaussian": _Entry(
        "gaussian:N[:SIGMA]",
        "sampled Gaussian, sum 1; SIGMA defaults to 0.3*((N-1)/2 - 1) + 0.8 (OpenCV)",
        "gaussian:5",
        _build_gaussian,
    ),
    **{
        name: _Entry(name, _DESCRIPTIONS_1D[name], name, _fixed(name, values, 1))
        for name, values in _FIXED_1D.items()
    },
    **{
        name: _Entry(name, _DESCRIPTIONS_2D[name], name, _fixed(name, values, 2))
        for name, values in _FIXED_2D.items()
    },
    "identity": _Entry(
        "identity:N",
        "a 1 at the centre (index N//2): gives the signal back",
        "identity:3",
        _sized("identity:N", _identity),
    ),
}


def named_kernel(spec: str, ndim: int) -> np.ndarray | None:
    """The kernel a name gives for a signal of ``ndim`` dimensions, or None if it is no name.

    Sized kernels take the signal's dimensions: ``box:N`` is the mean filter
    (``ones / N**ndim``), ``gaussian:N[:SIGMA]`` the sampled Gaussian scaled to
    sum 1 (the outer product of the 1-D one in every axis; SIGMA defaults to
    :func:`default_sigma`, OpenCV's rule, but unlike OpenCV's
    ``getGaussianKernel`` the sampled formula is used for every N, including
    the fixed tables OpenCV keeps for N <= 7), and ``identity:N`` zeros with a
    1 at index ``N // 2`` on every axis (for an even N that cell is just past
    the middle, so the kernel is a shift by half a cell and not symmetric).

    The 1-D kernels are ``diff`` ``[1, -1]``, ``central-diff``
    ``[0.5, 0, -0.5]`` and ``laplacian`` ``[1, -2, 1]``; for a 2-D signal they
    are one row, shape ``(1, K)``, so they act in the horizontal direction.

    The 2-D kernels are ``laplacian2d``, ``sobel-x``, ``sobel-y``,
    ``prewitt-x``, ``prewitt-y``, ``sharpen`` and ``emboss``. The Sobel and
    Prewitt kernels are in the textbook convolution form (``sobel-x`` is
    ``[[1, 0, -1], [2, 0, -2], [1, 0, -1]]``, so convolution gives right minus
    left); OpenCV's ``Sobel`` writes the flip, ``[[-1, 0, 1], [-2, 0, 2],
    [-1, 0, 1]]``, and correlates with it, which gives the same numbers.
    Axis 0 (rows) is y, pointing down.

    Parameters
    ----------
    spec : str
        The name, with ``:``-separated parameters if it takes any; any letter
        case, surrounding spaces ignored.
    ndim : int
        The number of dimensions of the signal (1 or more).

    Returns
    -------
    numpy.ndarray or None
        int64 for integer kernels (box and gaussian are float64, as is
        central-diff); None when ``spec`` names no kernel, so the caller can
        read it as numbers.

    Raises
    ------
    ConvcliError
        For a known name with missing, extra or bad parameters (``box:0``,
        ``gaussian:5:-1``, ``diff:3``), and for a 2-D kernel asked for a 1-D
        signal.

    Examples
    --------
    >>> named_kernel("diff", 1)
    array([ 1, -1])
    >>> named_kernel("Laplacian", 2)
    array([[ 1, -2,  1]])
    >>> named_kernel("box:2", 2)
    array([[0.25, 0.25],
           [0.25, 0.25]])
    >>> named_kernel("gaussian:3:1", 1).round(4)
    array([0.2741, 0.4519, 0.2741])
    >>> named_kernel("1,2,1", 1) is None
    True
    >>> named_kernel("sobel-x", 1)
    Traceback (most recent call last):
    ...
    convcli.errors.ConvcliError: sobel-x is a 2-D kernel but the signal is 1-D
    """
    text = spec.strip()
    name, *parameters = (part.strip() for part in text.lower().split(":"))
    entry = _ENTRIES.get(name)
    if entry is None:
        return None
    if isinstance(ndim, bool) or not isinstance(ndim, (int, np.integer)) or ndim < 1:
        raise ConvcliError(f"kernel {text!r}: the signal must have 1 or more dimensions")
    return entry.build(parameters, int(ndim), text)


def kernel_argument(kernel: object, signal: object, axes: tuple[int, ...] | None = None) -> object:
    """A library call's kernel: a name (``"gaussian:5"``) built for the signal, anything else
    as given.

    The name takes the signal's number of dimensions, or with ``axes`` the number of axes
    listed, its axes laid along them in order (size 1 along the others). A string that is
    no kernel name is a ConvcliError saying where the names are listed; a string signal
    stays the TypeError that names it.

    >>> kernel_argument("laplacian", [2, 1, 3]), kernel_argument([1, -1], "ignored")
    (array([ 1, -2,  1]), [1, -1])
    >>> kernel_argument("diff", [[1, 2], [3, 4]], axes=(0,))
    array([[ 1],
           [-1]])
    """
    if not isinstance(kernel, str):
        return kernel
    ndim = as_numeric(signal, "signal").ndim
    slid = listed_axes(axes, ndim)
    named = named_kernel(kernel, len(slid))
    if named is None:
        raise ConvcliError(
            f"the kernel {kernel!r} is neither a kernel name nor numbers; the names are "
            f"{', '.join(kernel_names())} (convcli.analysis.kernels.catalogue() describes "
            "each, as `convcli kernels` does); give numbers as a list or an array"
        )
    if len(slid) == ndim:
        return named
    spread = named.reshape(named.shape + (1,) * (ndim - len(slid)))
    return np.moveaxis(spread, range(len(slid)), slid)


def kernel_names() -> list[str]:
    """Every kernel name as typed, with its parameters, for help and error messages.

    Returns
    -------
    list of str
        In the order ``convcli kernels`` lists them.

    Examples
    --------
    >>> kernel_names()[:3]
    ['box:N', 'gaussian:N[:SIGMA]', 'diff']
    >>> len(kernel_names())
    13
    """
    return [entry.usage for entry in _ENTRIES.values()]


def catalogue() -> list[KernelInfo]:
    """Every named kernel with a description, an example, its values and its symmetry.

    The values are the example's at its natural number of dimensions: 1 for
    the sized kernels (``box:3``, ``gaussian:5``, ``identity:3``) and the 1-D
    ones, 2 for the 2-D ones.

    Returns
    -------
    list of KernelInfo
        In the order of :func:`kernel_names`.

    Examples
    --------
    >>> info = {kernel.name: kernel for kernel in catalogue()}
    >>> info["sobel-x"].values
    array([[ 1,  0, -1],
           [ 2,  0, -2],
           [ 1,  0, -1]])
    >>> info["sobel-x"].symmetry, info["box:N"].symmetry, info["emboss"].symmetry
    ('antisymmetric', 'symmetric', 'none')
    """
    infos = []
    for entry in _ENTRIES.values():
        natural_ndim = 2 if entry.example in _FIXED_2D else 1
        _, *parameters = entry.example.split(":")
        values = entry.build(parameters, natural_ndim, entry.example)
        values.flags.writeable = False
        infos.append(
            KernelInfo(
                entry.usage, entry.description, entry.example, values, kernel_symmetry(values)
            )
        )
    return infos
