"""Large CSV of plain numbers, read and written by polars' compiled reader and writer.

polars reads decimal text correctly rounded and writes each float's shortest round-trip
digits, as Python's ``float()`` and ``repr()`` do, ten or more times faster. So that the
bytes written and the numbers read never depend on which path ran, this module keeps to
Python's spelling: the cells polars spells otherwise (``NaN``, and exponents -5 to -9,
which ``repr`` writes as ``e-05`` to ``e-09``) are respelled, and convcli.formats.csv
reads again, as Python does, the few cells Python reads otherwise. polars is imported
only for pieces large enough to repay its import (about a tenth of a second), and used
only if it passes a probe of hard cases; without it, every path is Python's: slower, and
byte for byte the same.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from convcli.formats.cells import python_csv

if TYPE_CHECKING:  # imported where used: start-up
    import polars as pl

__all__ = [
    "READ_BYTES",
    "WIDE",
    "WRITE_VALUES",
    "Rows",
    "polars_for",
    "read_plain",
    "write_columns",
]

#: A piece of CSV text at least this long is read by polars.
READ_BYTES = 1 << 19
#: An output of at least this many values is written by polars.
WRITE_VALUES = 1 << 17
#: Rows wider than this are read by Python (polars makes a column of each cell), and
#: written by polars as one column whose line breaks become delimiters.
WIDE = 64
#: Once polars is imported, it takes pieces down to this many values or bytes.
_ONCE_IMPORTED = 1 << 10


def polars_for(size: int, threshold: int) -> ModuleType | None:
    """polars, if a piece of ``size`` (values or bytes) reaches ``threshold`` (or a
    thousand, once polars is imported anyway) and polars is installed and passes the probe.

    >>> polars_for(10, WRITE_VALUES) is None
    True
    """
    imported = "polars" in sys.modules
    if size < threshold and not (imported and size >= _ONCE_IMPORTED):
        return None
    return _usable_polars()


@cache
def _usable_polars() -> ModuleType | None:
    """polars, if installed and it reads and writes the probe's numbers as Python does."""
    try:
        import polars
    except ImportError:
        return None
    return polars if _passes_probe(polars) else None


def _probe_floats() -> np.ndarray:
    """Hard floats for the probe: every decimal exponent, subnormals, the edges of repr's
    positional range, signed zeros, nan and the infinities.

    >>> len(_probe_floats())
    694
    """
    with np.errstate(over="ignore"):
        scaled = 1.2345678901234567 * 10.0 ** np.arange(-323, 309, dtype=np.float64)
    edges = [1e-10, 1e-05, 9.999999999999999e-05, 0.0001, 0.1, 1.0, 9999999999999998.0, 1e16]
    specials = [0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, np.inf, np.nan]
    signed = np.concatenate([edges, specials, scaled[313:330]])  # 1e-10 to 1e6: both signs
    return np.concatenate([scaled, -signed, signed])


def _passes_probe(polars: ModuleType) -> bool:
    """Whether polars writes the probe's floats (through stand-ins) and integers as
    format_number does, and reads that text back to the same bits."""
    floats = _probe_floats()
    respelled = _respelled(floats)
    few = np.ones(_FEW * int(respelled.sum()))  # written with stand-ins
    few[::_FEW] = floats[respelled]
    usual = floats[~respelled]
    integers = np.resize(np.array([0, -1, 7, np.iinfo(np.int64).min, np.iinfo(np.int64).max]), 9)
    if not _writes_as_python(polars, ([few], [usual, usual[::-1]], [integers])):
        return False
    finite = floats[np.isfinite(floats)]
    read = read_plain(polars, write_columns(polars, [finite]), b",", 1, None, False)
    return read is not None and bool(np.array_equal(read[0].view(np.int64), finite.view(np.int64)))


@cache
def _writes_text_as_python(polars: ModuleType) -> bool:
    """Whether polars writes the probe's floats and complex numbers as format_number does
    when they go to it as text (probed when first needed: it takes other code)."""
    floats = _probe_floats()
    complexes = floats[::9].astype(np.complex128)
    complexes.imag = floats[::-9][: len(complexes)]
    return _writes_as_python(polars, ([floats], [complexes]), probing=True)


def _writes_as_python(
    polars: ModuleType, tables: Iterable[list[np.ndarray]], probing: bool = False
) -> bool:
    """Whether polars writes each table of columns as format_number does."""
    return all(
        write_columns(polars, table, probing) == python_csv(table).encode() for table in tables
    )


# ---------------------------------------------------------------------------- reading


def read_plain(
    polars: ModuleType,
    body: bytes,
    separator: bytes,
    width: int,
    index: int | None,
    integers: bool,
) -> tuple[np.ndarray, int, Callable[[np.ndarray], list[str]]] | None:
    """The numbers of ``body``, rows of ``width`` cells split at ``separator`` (b"\\n" for
    one column): every cell row by row or column ``index``'s, as int64 (``integers``) or
    float64; the number of rows; and a function giving the text of the cells at some
    indices of that array. None if a row has another width, or a cell is empty or not such
    a number (polars reads no text that Python's int() and float() refuse, and reads the
    rest as they do): the careful reader then says where.

    >>> import polars
    >>> values, rows, text_of = read_plain(polars, b"1,2.5\\n3,-0", b",", 2, None, False)
    >>> values, rows, text_of(np.array([3]))
    (array([ 1. ,  2.5,  3. , -0. ]), 2, ['-0'])
    """
    if index is not None and not _regular(body, separator, width):
        return None  # polars reads only the chosen column: it would miss a ragged row
    names = [f"column_{number}" for number in range(1, width + 1)]
    chosen = names if index is None else [names[index]]
    kind = polars.Int64 if integers else polars.Float64

    def frame(dtype: object) -> pl.DataFrame:
        schema = {name: dtype if name in chosen else polars.String for name in names}
        return polars.read_csv(
            body,
            has_header=False,
            separator="," if separator == b"\n" else separator.decode(),
            quote_char=None,
            schema=schema,
            columns=chosen,
        )

    try:
        numbers = frame(kind)
    except (polars.exceptions.PolarsError, polars.exceptions.PanicException):
        return None  # the careful reader reads what polars cannot
    if any(numbers.null_count().row(0)):
        return None  # a blank line, an empty cell or a short row
    if len(chosen) == 1:
        values = numbers.to_series().to_numpy()  # no copy: it may be read-only
    else:
        values = numbers.to_numpy(order="c").reshape(-1)

    def text_of(indices: np.ndarray) -> list[str]:
        texts = frame(polars.String)
        rows, columns = np.divmod(indices, len(chosen))
        return [texts[int(row), int(column)] for row, column in zip(rows, columns)]

    return values, numbers.height, text_of


def _regular(body: bytes, separator: bytes, width: int) -> bool:
    """Whether every line of ``body`` has ``width`` cells, none of them an empty last one
    (a trailing delimiter, which the careful reader does not count as a cell).

    >>> _regular(b"1,2\\n3,4\\n", b",", 2), _regular(b"1,2\\n3,4,5", b",", 2)
    (True, False)
    """
    if separator + b"\n" in body or separator + b"\r\n" in body or body.endswith(separator):
        return False
    text = np.frombuffer(body, np.uint8)
    breaks = text[(text == separator[0]) | (text == ord("\n"))]
    return bool(np.array_equal(breaks == ord("\n"), np.arange(1, len(breaks) + 1) % width == 0))


# ---------------------------------------------------------------------------- writing


class Rows:
    """CSV rows of equally long int64, float64 or complex128 columns, each cell as
    format_number writes it, for polars to write straight into a sink (a function taking
    bytes) in pieces of whole rows, about half a megabyte each: no copy of the whole text.

    A float polars would spell otherwise than repr is written as a stand-in, whose text
    is replaced by repr's on its way to the sink; a column with many such floats goes to
    polars as text. An error raised by the sink is raised again as it was.

    >>> import polars
    >>> pieces = []
    >>> Rows(polars, [np.arange(2), np.array([1e-05, float("nan")])])(pieces.append)
    >>> pieces
    [b'0,1e-05\\n1,nan\\n']
    """

    def __init__(
        self, polars: ModuleType, columns: Sequence[np.ndarray], probing: bool = False
    ) -> None:
        self.polars = polars
        self.columns = columns
        self.probing = probing  # text goes to polars unprobed: it is the probe

    def __call__(self, write: Callable[[bytes], None]) -> None:
        polars = self.polars
        columns, width = self.columns, 1
        if len(columns) > WIDE and len({column.dtype for column in columns}) == 1:
            # many columns of one type: one column, whose line breaks become delimiters
            columns, width = [np.stack(columns, axis=1).reshape(-1)], len(columns)
        parts = [part for column in columns for part in _float_parts(column)]
        clash = any((np.abs(part) == _STAND_IN).any() for part in parts)
        series: list[pl.Series] = []
        cells: list[tuple[int, int, str]] = []  # (row, column, repr's text) of each stand-in
        for number, column in enumerate(columns):
            name = f"c{number}"
            where = np.flatnonzero(_respelled(column) if column.dtype.kind == "f" else [])
            as_text = column.dtype.kind == "c" or clash or len(where) > len(column) // _FEW
            if as_text and not (self.probing or _writes_text_as_python(polars)):
                write(python_csv(self.columns).encode())  # polars spells it otherwise
                return
            if column.dtype.kind == "c":
                series.append(_complex_text(polars, column).alias(name))
                continue
            if len(where) and as_text:
                series.append(_float_text(polars, column).alias(name))
                continue
            if len(where):
                cells += [
                    (row, number, repr(value))
                    for row, value in zip(where.tolist(), column[where].tolist())
                ]
                column = column.copy()
                column[where] = _STAND_IN
            series.append(polars.Series(name, column))
        cells.sort()
        stand_in = _stand_in_text(polars) if cells else b""
        sink = _Sink(write, stand_in, [cell[2] for cell in cells], width)
        try:
            polars.DataFrame(series).write_csv(
                sink, include_header=False, line_terminator="\n", quote_style="never"
            )
        except Exception:
            if sink.error is None:
                raise
        if sink.error is not None:
            raise sink.error
        sink.close()


def write_columns(
    polars: ModuleType, columns: Sequence[np.ndarray], probing: bool = False
) -> bytes:
    """:class:`Rows`' text, whole.

    >>> import polars
    >>> write_columns(polars, [np.array([1e-06, 2.5])])
    b'1e-06\\n2.5\\n'
    """
    pieces: list[bytes] = []
    Rows(polars, columns, probing)(pieces.append)
    return b"".join(pieces)


class _Sink:
    """A file for polars to write CSV into: each piece goes on to ``write`` as it comes,
    with each stand-in replaced by the next of ``texts``. An error ``write`` raises is
    kept in ``error`` (polars would wrap it in its own)."""

    def __init__(
        self, write: Callable[[bytes], None], stand_in: bytes, texts: list[str], width: int
    ) -> None:
        self.sink = write
        self.stand_in = stand_in
        self.texts = texts
        self.width = width  # values a row: all but every width-th line break are delimiters
        self.lines = 0  # line breaks written so far
        self.used = 0  # texts put in so far
        self.held = b""  # a last line not yet ended, which could hold part of a stand-in
        self.error: BaseException | None = None

    def write(self, data: bytes) -> int:
        if self.error is not None:
            raise OSError("the sink failed")
        try:
            self._send(bytes(data))
        except BaseException as error:
            self.error = error
            raise OSError("the sink failed") from None
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: each piece has gone on."""

    def close(self) -> None:
        """Send what is held, checking that every stand-in was replaced."""
        self._put_back(self.held)
        assert self.used == len(self.texts), "every stand-in is replaced once"

    def _send(self, data: bytes) -> None:
        if self.width > 1:
            text = np.frombuffer(data, np.uint8).copy()
            breaks = np.flatnonzero(text == ord("\n"))
            inside = (self.lines + np.arange(1, len(breaks) + 1)) % self.width != 0
            text[breaks[inside]] = ord(",")
            self.lines += len(breaks)
            data = text.tobytes()
        if not self.stand_in:
            self.sink(data)
            return
        end = data.rfind(b"\n") + 1
        if not end:
            self.held += data
            return
        ended = self.held + data[:end] if self.held else data[:end]
        self.held = data[end:]
        self._put_back(ended)

    def _put_back(self, data: bytes) -> None:
        if self.stand_in and self.stand_in in data:
            between = data.split(self.stand_in)
            found = len(between) - 1
            texts = self.texts[self.used : self.used + found]
            self.used += found
            joined = [between[0]]
            for text, after in zip(texts, between[1:]):
                joined += [text.encode(), after]
            data = b"".join(joined)
        if data:
            self.sink(data)


#: A float that stands for the cells polars spells otherwise than repr while it writes
#: (e times 10**300, which a column rarely holds; where one does, its floats go as text).
_STAND_IN = 2.718281828459045e300
#: A column is written with stand-ins if at most one cell in this many needs one.
_FEW = 64


@cache
def _stand_in_text(polars: ModuleType) -> bytes:
    """The stand-in as polars writes it (its own spelling, whatever repr's is)."""
    text = polars.DataFrame({"stand-in": [_STAND_IN]}).write_csv(include_header=False)
    return str(text).rstrip("\n").encode()


def _float_parts(column: np.ndarray) -> list[np.ndarray]:
    """The floats a column's text is made of: its own, its parts', or none."""
    if column.dtype.kind == "c":
        return [column.real, column.imag]
    return [column] if column.dtype.kind == "f" else []


def _complex_text(polars: ModuleType, values: np.ndarray) -> pl.Series:
    """Complex numbers as format_number writes them, in a polars string Series."""
    real = _float_text(polars, values.real)
    imaginary = _float_text(polars, values.imag)
    sign = (
        polars.when(imaginary.str.starts_with("-")).then(polars.lit("")).otherwise(polars.lit("+"))
    )
    joined = polars.concat_str([polars.lit(real), sign, polars.lit(imaginary), polars.lit("j")])
    return polars.select(joined).to_series()


def _respelled(values: np.ndarray) -> np.ndarray:
    """Where polars spells a float otherwise than repr: nan (``NaN``) and magnitudes from
    1e-10 to 1e-4 (``0.00001``, ``1e-6`` for repr's ``1e-05``, ``1e-06``)."""
    magnitude = np.abs(values)
    return np.isnan(values) | ((magnitude < 1e-4) & (magnitude >= 1e-10))


def _float_text(polars: ModuleType, values: np.ndarray) -> pl.Series:
    """Floats as repr writes them, in a polars string Series: polars' text, with the cells
    it spells otherwise respelled by its string functions."""
    text = polars.Series(values).cast(polars.String)
    where = np.flatnonzero(_respelled(values))
    if not len(where):
        return text
    fixed = (
        text.gather(where)
        .str.replace(r"^(-?)0\.0000([1-9])(\d+)$", "${1}${2}.${3}e-05")
        .str.replace(r"^(-?)0\.0000([1-9])$", "${1}${2}e-05")
        .str.replace(r"e-(\d)$", "e-0${1}")
        .str.replace(r"^-?NaN$", "nan")
    )
    return text.scatter(where, fixed)
