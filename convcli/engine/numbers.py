"""Inputs as the numbers the engine computes in: int64, float64, complex128, or exact
Python ints where int64 could overflow."""

from __future__ import annotations

from numbers import Number

import numpy as np

from convcli.errors import ConvcliError

_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)
FLOAT64 = np.dtype(np.float64)
_MACHINE_FLOATS = (FLOAT64, np.dtype(np.complex128))


def as_numeric(values: object, role: str) -> np.ndarray:
    """The values as int64, float64 or complex128, with a clear error for anything else.

    Integers that do not fit in int64 (or lists whose Python ints numpy would
    turn into floats) become an object array of Python ints, which stays exact.
    Something that is no array at all (a string, None, a dict, a set) is a
    TypeError naming ``role``, as a wrong argument type is in Python; an array of
    the wrong contents (ragged rows, text, a single number) is a ConvcliError,
    which is a ValueError, as numpy's own error for ragged lists is.

    >>> as_numeric("1,2,3", "signal")
    Traceback (most recent call last):
    TypeError: signal must be an array or a sequence of numbers, not str
    """
    if (
        type(values) is np.ndarray
        and values.dtype in _MACHINE_FLOATS
        and values.ndim
        and values.size
    ):
        return values  # the common case of a library call, with no conversion to do
    try:
        array = np.asarray(values)
    except (ValueError, TypeError, OverflowError):
        raise ConvcliError(f"the {role} must be a rectangular array of numbers") from None
    if (
        array.ndim == 0
        and array.dtype.kind not in "biufc"
        and not isinstance(values, (Number, np.ndarray))
    ):
        raise TypeError(
            f"{role} must be an array or a sequence of numbers, not {type(values).__name__}"
        )
    if not isinstance(values, np.ndarray) and array.dtype.kind in "fuO":
        array = _python_ints(values, array)
    if array.ndim == 0:
        raise ConvcliError(f"the {role} must have at least one dimension, got a single number")
    if array.size == 0:
        raise ConvcliError(f"the {role} is empty (shape {array.shape})")
    kind = array.dtype.kind
    if kind in "buiO":
        if kind == "O" and not all(isinstance(v, (int, np.integer)) for v in array.flat):
            raise ConvcliError(f"the {role} must be numbers, not {array.dtype} values")
        return _exact_integers(array)
    if kind not in "fc":
        raise ConvcliError(f"the {role} must be numbers, not {array.dtype} values")
    return array.astype(np.complex128 if kind == "c" else np.float64, copy=False)


def _python_ints(values: object, array: np.ndarray) -> np.ndarray:
    """Nested Python ints as an object array, where numpy made floats or uint64 of them."""
    try:
        cells = np.array(values, dtype=object)
    except (ValueError, TypeError):
        return array
    if cells.shape == array.shape and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, np.floating) for v in cells.flat
    ):
        return cells
    return array


def _exact_integers(array: np.ndarray) -> np.ndarray:
    """Integers (of any dtype) as int64 where they fit, else as exact Python ints."""
    low, high = int(array.min()), int(array.max())
    if low >= _INT64_MIN and high <= _INT64_MAX:
        return array.astype(np.int64, copy=False)
    return np.array([int(v) for v in array.flat], dtype=object).reshape(array.shape)


def working_dtype(
    signal: np.ndarray, kernel: np.ndarray, pad_value: int | float | complex = 0
) -> np.dtype | type:
    """The dtype the sum is computed in: exact integers where both inputs (and the value of
    constant padding, ``pad_value``) are integers.

    int64 unless the largest possible output, max|f| * sum|h|, might not fit,
    in which case Python's unbounded ints (an object array) keep it exact.

    >>> working_dtype(np.array([1, 2]), np.array([3])), working_dtype(np.ones(1), np.ones(1), 1j)
    (<class 'numpy.int64'>, <class 'numpy.complex128'>)
    """
    kinds = {signal.dtype.kind, kernel.dtype.kind}
    if isinstance(pad_value, (float, complex)):
        kinds.add("c" if isinstance(pad_value, complex) else "f")
    if "c" in kinds:
        return np.complex128
    if "f" in kinds:
        return np.float64
    if "O" in kinds:  # values past int64 already; a sum of them may be anything
        return object
    pad = abs(pad_value) if isinstance(pad_value, int) else 0  # an int: the kinds say so
    signal_max = max(abs(int(signal.max())), abs(int(signal.min())), pad)
    kernel_sum = float(np.abs(kernel.astype(np.float64)).sum())
    if signal_max * kernel_sum < 2.0**62:
        return np.int64
    exact_sum = sum(abs(int(v)) for v in kernel.flat)
    return np.int64 if signal_max * exact_sum <= _INT64_MAX else object
