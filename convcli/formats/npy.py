"""The content of .npy files as arrays the engine takes: integers, floats or complex numbers.

Bytes in, arrays out, never unpickling anything. A reader of a file or a pipe reads the
header first (:func:`read_header`), so that it knows how many bytes follow, and how much
memory they take, before it reads them (convcli.cli.inputs does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from io import BytesIO
from typing import Literal

import numpy as np

from convcli.engine.numbers import as_numeric
from convcli.errors import ConvcliError, InputError

__all__ = ["NPY_MAGIC", "NpyHeader", "decode", "load", "read_header"]

#: The first bytes of every .npy file.
NPY_MAGIC = b"\x93NUMPY"
#: The dtypes the engine computes with, which a .npy array keeps without a copy.
_ENGINE_DTYPES = (np.dtype(np.int64), np.dtype(np.float64), np.dtype(np.complex128))


@dataclass(frozen=True)
class NpyHeader:
    """What a .npy header declares: the array's shape, order and dtype, and where its
    values start."""

    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    start: int

    @property
    def count(self) -> int:
        """How many values the array holds."""
        return math.prod(self.shape)

    @property
    def size(self) -> int:
        """Bytes of the whole file: the header and the values."""
        return self.start + self.count * self.dtype.itemsize

    @property
    def conversion_bytes(self) -> int:
        """Bytes that converting the values to a dtype the engine computes with takes."""
        if self.dtype in _ENGINE_DTYPES:
            return 0
        return self.count * (16 if self.dtype.kind == "c" else 8)


def read_header(first: bytes) -> NpyHeader | None:
    """The header at the start of ``first``, the first bytes of a .npy file; None if numpy
    cannot read it or it declares Python objects (:func:`load` then says what is wrong).

    >>> buffer = BytesIO()
    >>> np.save(buffer, np.arange(3))
    >>> header = read_header(buffer.getvalue())
    >>> header.shape, header.dtype, header.size == len(buffer.getvalue())
    ((3,), dtype('int64'), True)
    """
    from numpy.lib import format as npy_format

    stream = BytesIO(first)
    try:
        version = npy_format.read_magic(stream)
        read = {(1, 0): npy_format.read_array_header_1_0}.get(
            version, npy_format.read_array_header_2_0
        )
        shape, fortran_order, dtype = read(stream)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError):
        return None
    if dtype.hasobject:
        return None
    return NpyHeader(shape, fortran_order, dtype, stream.tell())


def decode(data: bytes, header: NpyHeader, name: str, role: str) -> np.ndarray:
    """The numbers of a .npy file's content ``data`` as ``header`` (its own) declares them,
    as the engine takes them; refused if ``data`` ends before the header's size.

    ``name`` names the file and ``role`` the argument (signal, kernel) in error messages.

    >>> buffer = BytesIO()
    >>> np.save(buffer, np.array([[1, 2], [3, 4]], dtype=np.int8))
    >>> decode(buffer.getvalue(), read_header(buffer.getvalue()), "f.npy", "signal")
    array([[1, 2],
           [3, 4]])
    """
    if len(data) < header.size:
        raise InputError(
            f"{name} is truncated: its .npy header declares {header.size} bytes but it ends "
            f"after {len(data)}"
        )
    array = np.frombuffer(data, header.dtype, header.count, header.start)
    order: Literal["C", "F"] = "F" if header.fortran_order else "C"
    return _numbers(array.reshape(header.shape, order=order), name, role)


def load(data: bytes, name: str, role: str) -> np.ndarray:
    """The numbers of a .npy file's content by numpy's own reader (never unpickling
    anything), as the engine takes them; for content whose header read_header refuses,
    whose error this gives.

    >>> load(NPY_MAGIC + b"\\x01\\x00", "f.npy", "signal")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    convcli.errors.InputError: f.npy is not a readable .npy file (EOF: ...)
    """
    try:
        array = np.load(BytesIO(data), allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise InputError(
                f"{name} holds Python objects, which convcli does not unpickle; "
                "save numbers (integers, floats or complex)"
            ) from None
        raise InputError(f"{name} is not a readable .npy file ({error})") from None
    except (OSError, EOFError, SyntaxError, TypeError) as error:
        raise InputError(f"{name} is not a readable .npy file ({error})") from None
    if not isinstance(array, np.ndarray):
        raise InputError(f"{name} is an .npz archive, not one .npy array")
    return _numbers(array, name, role)


def _numbers(array: np.ndarray, name: str, role: str) -> np.ndarray:
    """A .npy file's array as the engine takes it, refused unless it holds numbers."""
    if array.dtype.kind not in "biufc":
        raise InputError(
            f"{name} holds {array.dtype} values; convcli reads .npy arrays of booleans, "
            "integers, floats or complex numbers"
        )
    try:
        return as_numeric(array, role)
    except ConvcliError as error:
        raise InputError(f"{name}: {error}") from None
