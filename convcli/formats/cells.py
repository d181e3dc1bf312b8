"""Numbers as text one at a time, as Python writes them: the text every CSV path writes.

:func:`format_number` is Python's ``repr`` (complex numbers as ``complex()`` reads them);
polars writes large CSV (:mod:`convcli.formats.bulk`) to the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["format_number", "python_csv"]


def format_number(value: int | float | complex) -> str:
    """The shortest text that Python's int(), float() or complex() reads back to the same value.

    >>> format_number(3), format_number(0.1), format_number(-1e300), format_number(1 - 0.5j)
    ('3', '0.1', '-1e+300', '1.0-0.5j')
    """
    if isinstance(value, complex):
        imaginary = repr(value.imag)
        sign = "" if imaginary.startswith("-") else "+"
        return f"{value.real!r}{sign}{imaginary}j"
    return repr(value)


def python_csv(columns: Sequence[np.ndarray]) -> str:
    """CSV rows of equally long 1-D columns written by Python, a format_number a cell.

    >>> python_csv([np.array([1, 2]), np.array([0.5, -0.0])])
    '1,0.5\\n2,-0.0\\n'
    """
    cells = [map(format_number, column.tolist()) for column in columns]
    return "".join(",".join(row) + "\n" for row in zip(*cells))
