"""CSV text and inline numbers to arrays, exactly: the CSV reader, inline parsing, cells.

Integers stay exact (int64) and floats and complex numbers are read exactly as written.
:class:`CsvReader` takes CSV bytes in pieces of whole lines, so a caller can read a file
or a pipe of any length a piece at a time (convcli.cli.inputs does). Plain numbers in
regular rows take a fast path (polars' compiled reader for large pieces, see
:mod:`convcli.formats.bulk`), with the same numbers, bit for bit, as the careful
cell-by-cell reader, which takes over for anything unusual and names the line and column
of a bad cell.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from convcli.errors import InputError

__all__ = [
    "CsvReader",
    "excerpt",
    "is_number",
    "looks_like_path",
    "parse_delimiter",
    "parse_inline",
    "parse_numbers",
    "read_channels",
]

_DELIMITER_NAMES = {"comma": ",", "tab": "\t", "semicolon": ";", "space": None, "whitespace": None}
_INT64 = np.iinfo(np.int64)
_BEYOND_INT64 = int(_INT64.max) + 1  # stands for an integer too long for int() to read
_HAS_MAGNITUDE = re.compile(r"\d|inf|nan", re.IGNORECASE)
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_LOOKS_LIKE_PATH = re.compile(r"[/\\]|\.[A-Za-z]\w*$")
_BOM = b"\xef\xbb\xbf"
#: A piece the fast reader refuses is read in halves down to about this many bytes.
_HALVED = 1 << 18
#: The number types a column may hold, narrowest first, as Python and numpy name them.
_KINDS = (
    (int, np.dtype(np.int64), "integer"),
    (float, np.dtype(np.float64), "decimal"),
    (complex, np.dtype(np.complex128), "complex number"),
)


def parse_delimiter(name: str) -> str | None:
    r"""The delimiter a name or a character stands for; ``None`` means runs of whitespace.

    >>> parse_delimiter("tab"), parse_delimiter(";"), parse_delimiter("space")
    ('\t', ';', None)
    """
    if name.lower() in _DELIMITER_NAMES:
        return _DELIMITER_NAMES[name.lower()]
    if name == "\\t":
        return "\t"
    if len(name) != 1 or name in '"#' or name.isalnum() or name in ".+-":
        raise InputError(
            f"delimiter {name!r} is not one character (or comma, tab, semicolon, space) "
            "that cannot be part of a number"
        )
    return name


class CsvReader:
    """CSV text read in pieces of whole lines; what the first rows say holds for the rest.

    The file's first non-blank, non-comment row is a header if none of its
    cells is a number; the first row of numbers sets the width every row, and
    the header, must have. Cells are split as Python's csv module splits them
    (RFC 4180 quotes, a quoted cell may hold the delimiter or a line break);
    lines end at ``\n``, ``\r\n`` or ``\r`` only. Each piece goes to the fast
    reader (plain numbers in regular rows) or, if anything in it is unusual, to
    the careful one, which reports a bad cell by line and column. Both give the
    same numbers for the same text.
    """

    def __init__(
        self, delimiter: str | None, column: str | None, name: str, decimal: str = "."
    ) -> None:
        self.delimiter = delimiter
        self.decimal = decimal
        self.column = column
        self.name = name
        self.header: list[str] | None = None
        self.header_line = 0  # the header's line number
        self.width = 0  # cells in the first row of numbers; 0 until it is read
        self.width_line = 0  # that row's line number
        self.lines = 0  # lines read so far
        self.rows = 0  # rows of numbers read so far
        self.started = False
        self.pending = ""  # a record whose quoted cell goes on in the next piece

    def feed(self, data: bytes) -> np.ndarray:
        """The numbers in a piece of whole lines: every cell, row by row, or the column's.

        A large piece the fast reader refuses (a comment or a blank line in it, say) is
        read in halves, so that the careful reader reads only a small piece around it.
        """
        if not self.started:
            self.started = True
            data = data.removeprefix(_BOM)
        if b"\x00" in data:
            raise InputError(f"{self.name} looks like a binary file, not CSV text")
        values = None if self.pending else self._fast(data)
        if values is not None:
            return values
        middle = data.rfind(b"\n", 0, len(data) // 2) + 1
        if self.pending or len(data) < _HALVED or not middle:
            return self._careful(data)
        first = self.feed(data[:middle])
        return np.concatenate([first, self.feed(data[middle:])])

    def finish(self) -> np.ndarray:
        """The numbers of a record left open at the end (a quote never closed reads to the
        end, as in the csv module); refuse text without a row of numbers."""
        values = self._careful(b"", final=True) if self.pending else np.zeros(0, np.int64)
        if not self.rows:
            if self.header is not None:
                raise InputError(f"{self.name} has a header but no rows of numbers")
            raise InputError(
                f"{self.name} has no numbers (it is empty or only blank and comment lines)"
            )
        return values

    def channels(self, values: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """The numbers this reader gave, ``values``, one channel per column: a (C, L) array,
        channels first as PyTorch's (C_in, L), and the channels' names: the header's, or
        ``c0``, ``c1``, ... (their indices) without one; the column's alone if one was chosen.

        >>> reader = CsvReader(",", None, "f.csv")
        >>> reader.channels(np.concatenate([reader.feed(b"x,y\\n1,2\\n3,4\\n"), reader.finish()]))
        (array([[1, 3],
               [2, 4]]), ['x', 'y'])
        """
        names = self.header or [f"c{index}" for index in range(self.width)]
        if self.column is not None:
            index = _column_index(self.header, self.width, self.column, self.name)
            return values.reshape(1, -1), [names[index]]
        return np.ascontiguousarray(values.reshape(self.rows, self.width).T), names

    def wider_cell(
        self, pending: str, data: bytes, lines_before: int, kind: np.dtype
    ) -> tuple[int, str, str, str]:
        """Where a piece, read after ``lines_before`` lines and the ``pending`` text of a
        record left open, holds a number wider than ``kind`` (a decimal among integers,
        say): its line, its text, and the names of its type and of ``kind``.

        >>> reader = CsvReader(",", None, "f.csv")
        >>> reader.feed(b"1\\n2\\n")
        array([1, 2])
        >>> reader.wider_cell("", b"3\\n2.5\\n", 2, np.dtype(np.int64))
        (4, '2.5', 'decimal', 'integer')
        """
        rank = next(i for i, (_, dtype, _) in enumerate(_KINDS) if dtype == kind)
        text = pending + _decode_text(data.removeprefix(_BOM))
        rows, line_numbers, _, _ = _records(text, self.delimiter, lines_before, self.name)
        index = 0
        if self.column is not None:
            index = _column_index(self.header, self.width, self.column, self.name)
        line, cell, wider = next(
            (line, row[index], word)
            for row, line in zip(rows, line_numbers)
            if is_number(row[index], self.decimal)
            for python_type, _, word in _KINDS[rank + 1 :]
            if isinstance(_parse_cell(row[index], self.decimal), python_type)
        )
        return line, cell, wider, _KINDS[rank][2]

    def _first_rows(self, data: bytes) -> tuple[list[str] | None, int, int, int, int] | None:
        """For the fast reader: the header and its line, the first row of numbers' width and
        line, and where that row starts in ``data``; None if the piece has no such row, or
        odd lines (quotes among them)."""
        header, header_line, line, position = self.header, self.header_line, self.lines, 0
        while position < len(data):
            end = data.find(b"\n", position)
            stop = len(data) if end < 0 else end + 1
            raw = data[position:stop]
            line += 1
            text = raw.decode("ascii") if raw.isascii() else ""
            if not text or len(text.splitlines()) > 1 or '"' in text:
                return None  # decoding, line breaks and quotes are the careful reader's
            stripped = text.strip()
            if stripped and not stripped.startswith("#"):
                cells = _split_cells(stripped, self.delimiter)
                if header is not None or any(is_number(cell, self.decimal) for cell in cells):
                    return header, header_line, len(cells), line, position
                header, header_line = cells, line
            position = stop
        return None

    def _fast(self, data: bytes) -> np.ndarray | None:
        """The numbers of a piece of plain numbers in regular rows; None if it is anything else."""
        header, header_line = self.header, self.header_line
        width, width_line, start = self.width, self.width_line, 0
        if not width:
            found = self._first_rows(data)
            if found is None:
                return None
            header, header_line, width, width_line, start = found
            if header is not None and len(header) != width:
                return None  # the careful reader refuses it
        end = len(data)
        while end > start and data[end - 1] in b" \t\r\n":
            end -= 1
        # the body, with the piece's last line break if that is all that follows: no copy
        whole = start == 0 < end and data[end:] == b"\n"
        body = data if whole else data[start:end]
        if self.decimal != ".":  # decimal commas read as points; a "." is the careful reader's
            if b"." in body:
                return None
            body = body.replace(self.decimal.encode(), b".")
        separator = _delimiter_byte(self.delimiter)
        if not body or separator is None:
            return None
        if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
            return None  # a lone \r ends a line too, for the careful reader
        if b'"' in body:
            return None  # a quoted cell may hold a delimiter or a line break
        if self.delimiter is None and (b" " in body or b"\t" in body):
            return None
        index = None
        if self.column is not None:
            try:
                index = _column_index(header, width, self.column, self.name)
            except InputError:
                return None  # the careful reader says which problem comes first
        read = _plain_numbers(body, separator, width, index)
        if read is not None:
            values, rows = read
            self.header, self.header_line = header, header_line
            self.width, self.width_line = width, width_line
            # lines: those before the body, the body's, and the blank ones after it
            self.lines += data.count(b"\n", 0, start) + rows - 1 + data.count(b"\n", end)
            self.rows += rows
            return values
        return None

    def _careful(self, data: bytes, final: bool = False) -> np.ndarray:
        """The numbers of a piece, cell by cell, with errors naming line and column."""
        text = self.pending + _decode_text(data)
        rows, line_numbers, lines, self.pending = _records(
            text, self.delimiter, self.lines, self.name, final
        )
        self.lines += lines
        if rows and not self.width:
            if self.header is None and not any(is_number(cell, self.decimal) for cell in rows[0]):
                self.header = rows.pop(0)
                self.header_line = line_numbers.pop(0)
            if rows:
                self.width, self.width_line = len(rows[0]), line_numbers[0]
                if self.header is not None and len(self.header) != self.width:
                    raise InputError(
                        f"{self.name}, line {self.header_line} (the header) has "
                        f"{len(self.header)} name(s) but line {self.width_line} has "
                        f"{self.width} value(s) (give one name per column)"
                        + _semicolon_hint([self.header, rows[0]], self.delimiter)
                    )
        _check_widths(rows, line_numbers, self.width, self.width_line, self.name, self.delimiter)
        self.rows += len(rows)
        if self.column is not None and rows:
            index = _column_index(self.header, self.width, self.column, self.name)
            cells = [row[index] for row in rows]
            positions = [(line, index + 1) for line in line_numbers]
        else:
            cells = [cell for row in rows for cell in row]
            positions = [
                (line, column) for line in line_numbers for column in range(1, self.width + 1)
            ]
        return parse_numbers(cells, positions, self.name, self.decimal)


def read_channels(
    text: str | bytes, name: str = "input", delimiter: str | None = ",", decimal: str = "."
) -> tuple[np.ndarray, list[str]]:
    """CSV text of a multi-channel 1-D signal, one column per channel, as a (C, L) array and
    the channels' names (:meth:`CsvReader.channels`); read as every CSV is, ``name`` naming
    it in errors.

    >>> read_channels("left,right\\n1,10\\n2,20\\n3,30\\n")
    (array([[ 1,  2,  3],
           [10, 20, 30]]), ['left', 'right'])
    """
    reader = CsvReader(delimiter, None, name, decimal)
    data = text.encode() if isinstance(text, str) else text
    return reader.channels(np.concatenate([reader.feed(data), reader.finish()]))


def _delimiter_byte(delimiter: str | None) -> bytes | None:
    """The delimiter as the one byte the fast reader splits on (b"\\n" for whitespace, where
    it reads one column); None if it is not one ASCII character."""
    if delimiter is None:
        return b"\n"
    return delimiter.encode() if delimiter.isascii() else None


#: Bytes that only a decimal, not an integer, may hold (those of nan and inf among them).
_DECIMAL_MARKS = (b".", b"e", b"E", b"n", b"N", b"i", b"I")


def _plain_numbers(
    body: bytes, separator: bytes, width: int, index: int | None
) -> tuple[np.ndarray, int] | None:
    """The numbers of a body of plain cells in rows of ``width`` split at ``separator``,
    every cell row by row or column ``index``'s, as parse_numbers gives them, and the
    number of rows; None if a row has another width or a cell is not a number
    parse_numbers takes (the careful reader then says where and why).

    polars reads large bodies (:mod:`convcli.formats.bulk`), Python small ones; both read
    a decimal as float() does, and the cells they read otherwise than parse_numbers
    (an integer among decimals, which it reads with int(): ``-0`` is 0.0, and one beyond
    int64 an error; a decimal that overflows) are read again as it reads them.
    """
    from convcli.formats import bulk  # here, not at the top: start-up

    integers = not any(mark in body for mark in _DECIMAL_MARKS)
    # a column of integers among columns of decimals: integers are tried first
    kinds = (True, False) if index is not None and width > 1 and not integers else (integers,)
    polars = bulk.polars_for(len(body), bulk.READ_BYTES) if width <= bulk.WIDE else None
    blanks = b" " if separator == b"\t" else b" \t"
    if polars is not None and any(blank in body for blank in blanks):
        unblanked = _without_blanks(body, separator)  # polars reads no blanks around a number
        if unblanked is None:
            return None
        body = unblanked
    for integers in kinds:
        read = (
            _python_plain(body, separator, width, index, integers)
            if polars is None
            else bulk.read_plain(polars, body, separator, width, index, integers)
        )
        if read is not None:
            break
    if read is None:
        return None
    values, rows, text_of = read
    if integers:
        return values, rows
    magnitude = np.abs(values)
    odd = np.flatnonzero(~(magnitude < 2.0**63) | ((values == 0) & np.signbit(values)))
    if not len(odd):
        return values, rows
    values = values.copy()
    for position, cell in zip(odd, text_of(odd)):
        try:
            value = _parse_cell(cell)
        except ValueError:
            return None
        if isinstance(value, complex) or _out_of_range(value) or _overflowed(cell, value):
            return None
        values[position] = value
    return values, rows


def _without_blanks(body: bytes, separator: bytes) -> bytes | None:
    """A body without the spaces and tabs around its cells (``1, 2`` is ``1,2``); None if
    one stands inside a cell (``1 2``), which the careful reader refuses.

    >>> _without_blanks(b" 1 ,\\t2\\n3, 4", b","), _without_blanks(b"1 2,3", b",")
    (b'1,2\\n3,4', None)
    """
    text = np.frombuffer(body, np.uint8)
    blank = text == ord(" ")
    if separator != b"\t":
        blank |= text == ord("\t")
    ends = (text == separator[0]) | (text == ord("\n")) | (text == ord("\r"))
    cell = ~(blank | ends)

    def cells(inside: np.ndarray) -> int:  # how many runs of cell characters
        return int(inside[0]) + int(np.count_nonzero(inside[1:] & ~inside[:-1]))

    kept = cell[~blank]
    if not len(kept) or cells(cell) != cells(kept):
        return None
    body = body.replace(b" ", b"")
    return body if separator == b"\t" else body.replace(b"\t", b"")


def _python_plain(
    body: bytes, separator: bytes, width: int, index: int | None, integers: bool
) -> tuple[np.ndarray, int, Callable[[np.ndarray], list[str]]] | None:
    """bulk.read_plain's numbers, read by Python's int() or float() a cell at a time."""
    lines = body.rstrip(b"\n").split(b"\n")
    if width == 1:
        cells = lines
    else:
        if any(line.count(separator) != width - 1 for line in lines):
            return None
        cells = separator.join(lines).split(separator)
        if index is not None:
            cells = cells[index::width]
    try:
        values = np.array(
            list(map(int if integers else float, cells)), np.int64 if integers else np.float64
        )
    except (ValueError, OverflowError):
        return None
    return values, len(lines), lambda indices: [cells[i].decode("latin-1") for i in indices]


def _decode_text(data: bytes) -> str:
    """CSV bytes as text: UTF-8, or else Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _split_cells(line: str, delimiter: str | None) -> list[str]:
    """The cells of one line without quotes, stripped of spaces."""
    cells = line.split(delimiter) if delimiter is not None else _BLANKS.split(line)
    return _without_trailing_empty([cell.strip() for cell in cells])


#: What separates cells when the delimiter is whitespace: runs of spaces and tabs.
_BLANKS = re.compile(r"[ \t]+")


def _records(
    text: str, delimiter: str | None, lines_before: int, name: str, final: bool = True
) -> tuple[list[list[str]], list[int], int, str]:
    """The cells of every non-blank, non-comment record of ``text`` as Python's csv module
    splits them, stripped of spaces; each record's first line number (after
    ``lines_before``); how many lines the complete records and the lines between them take;
    and, unless ``final``, the text of a last record whose quoted cell is still open. Each
    line goes to the csv module as :func:`_line_for_csv` rewrites it.

    >>> _records('a,"b,c"\\n# note\\n1,2\\n', ",", 0, "f.csv")
    ([['a', 'b,c'], ['1', '2']], [1, 3], 3, '')
    """
    import csv
    from io import StringIO

    rows: list[list[str]] = []
    line_numbers: list[int] = []
    line = lines_before
    at_start = True  # the next line read begins a record
    start = (0, 0)  # where the record being read begins: line number and offset in text
    offset = 0
    open_at_end = False  # the text ended inside a quoted cell

    def lines() -> Iterator[str]:
        nonlocal line, at_start, start, offset, open_at_end
        unfollowed: list[str] = []  # the record's lines whose quotes are not followed yet
        quoted = False  # the record's lines before those end inside a quoted cell
        for raw in StringIO(text, newline=""):  # lines end at \n, \r\n or \r only
            line += 1
            offset += len(raw)
            if at_start:
                stripped = raw.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                at_start, start = False, (line, offset - len(raw))
                raw, unfollowed, quoted = raw.lstrip(), [], False
            content = raw.rstrip("\r\n")
            if content[-1:] in (" ", "\t") or (delimiter != "\t" and "\t" in content):
                for earlier in unfollowed:  # followed only when a line changes: it takes time
                    quoted = _line_for_csv(earlier, delimiter, quoted)[1]
                unfollowed = []
                raw, quoted = _line_for_csv(raw, delimiter, quoted)
            else:  # a line without tabs or blanks at its end stays as it is
                unfollowed.append(raw)
            yield raw
        open_at_end = not at_start

    reader = csv.reader(lines(), delimiter=delimiter or " ", skipinitialspace=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:  # the only one it raises unless strict: a cell past its size limit
            quoted = '"' in text[start[1] :].split("\n", 1)[0]
            raise InputError(
                f"{name}, line {start[0]}: a cell longer than {csv.field_size_limit()} characters"
                + (" (a quote never closed?)" if quoted else "")
            ) from None
        if open_at_end and not final:
            line = start[0] - 1
            return rows, line_numbers, line - lines_before, text[start[1] :]
        rows.append(_without_trailing_empty([cell.strip() for cell in cells]))
        line_numbers.append(start[0])
        at_start = True
    return rows, line_numbers, line - lines_before, ""


#: The text of a quoted cell up to its closing quote or the line's end ("" stands for ").
_QUOTED_TEXT = re.compile(r'[^"]*(?:""[^"]*)*')
#: The spaces the csv module skips where a cell starts.
_SPACES = re.compile(" *")


def _line_for_csv(raw: str, delimiter: str | None, quoted: bool) -> tuple[str, bool]:
    r"""One line as the csv module is to read it, and whether it ends inside a quoted cell
    (``quoted``: it begins inside one). Outside quoted cells, tabs count as spaces unless
    they are the delimiter (so a quote after one opens a cell) and blanks ending the line
    make no cells; quoted text, a line break and the blanks before it too, stays as written.

    >>> _line_for_csv('1,\t"a\tb" \n', ",", False)
    ('1, "a\tb"\n', False)
    >>> _line_for_csv('1,"a \n', ",", False), _line_for_csv('b"\t\n', ",", True)
    (('1,"a \n', True), ('b"\n', False))
    """
    content = raw.rstrip("\r\n")
    spaced = content if delimiter == "\t" else content.replace("\t", " ")
    if not quoted and '"' not in content:
        return spaced.rstrip(" \t") + raw[len(content) :], False
    separator = delimiter or " "
    pieces = []
    start = position = 0  # where the text not yet in pieces starts, and the scan is
    while True:
        if quoted:  # up to the closing quote, then the rest of the cell (quotes there are text)
            position = _matched_end(_QUOTED_TEXT, content, position)
            pieces.append(content[start:position])
            start = position
            if position == len(content):
                return "".join(pieces) + raw[len(content) :], True
            position = spaced.find(separator, position + 1)
            quoted = False
        else:  # a cell starts: quoted if a quote follows its spaces
            position = _matched_end(_SPACES, spaced, position)
            if spaced.startswith('"', position):
                position += 1
                pieces.append(spaced[start:position])
                start, quoted = position, True
                continue
            position = spaced.find(separator, position)
        if position < 0:
            pieces.append(spaced[start:])
            return "".join(pieces).rstrip(" \t") + raw[len(content) :], False
        position += 1


def _matched_end(pattern: re.Pattern[str], text: str, position: int) -> int:
    """Where a match of ``pattern``, which matches empty text too, at ``position`` ends."""
    match = pattern.match(text, position)
    assert match is not None  # it matches the empty text
    return match.end()


def _column_index(header: list[str] | None, width: int, column: str, name: str) -> int:
    """0-based index of a column given by header name (exact, then any case) or 1-based number."""
    if header is not None:
        if column in header:
            return header.index(column)
        lowered = [cell.lower() for cell in header]
        if column.lower() in lowered:
            return lowered.index(column.lower())
    if column.isdigit() and 1 <= int(column) <= width:
        return int(column) - 1
    known = f"its columns are {', '.join(header)}" if header else f"it has {width}"
    raise InputError(f"no column {column!r} in {name}; {known} (give a name or a number from 1)")


def _check_widths(
    rows: list[list[str]],
    line_numbers: list[int],
    width: int,
    width_line: int,
    name: str,
    delimiter: str | None = None,
) -> None:
    """Refuse ragged rows, naming the first row whose length differs from the first row's."""
    for row, line in zip(rows, line_numbers):
        if len(row) != width:
            raise InputError(
                f"{name}, line {line} has {len(row)} value(s) but line "
                f"{width_line} has {width} (rows must all be the same length)"
                + _semicolon_hint([row, rows[0]], delimiter)
            )


def _semicolon_hint(rows: list[list[str]], delimiter: str | None) -> str:
    """For rows of unequal lengths read with the comma delimiter: if a cell holds a ``;``,
    the hint that the text is European (``1,5;2,5``, split at its decimal commas)."""
    if delimiter == "," and any(";" in cell for row in rows for cell in row):
        return "; cells separated by ';' with decimal commas? give delimiter=';' decimal=','"
    return ""


def parse_inline(source: str, role: str, decimal: str = ".") -> np.ndarray:
    """Numbers typed on the command line: ``2,1,3``, ``"2 1 3"``, ``[2, 1, 3]``, ``"1,2;3,4"``,
    ``[[1,2],[3,4]]``, ``[[[1,2,3],[0,1,0]]]``; with a decimal comma, cells are separated by
    spaces: ``"0,5 1,5"``.

    Brackets within brackets and ``;`` write a matrix, of one row or one column too
    (``[[1,1]]`` is 1x2, ``"1;1"`` 2x1); otherwise one row or one column is 1-D, as in a
    file, and so are the cell rules: an empty cell is an error, a trailing comma is not.
    Three or more levels of brackets write an array of that many dimensions
    (:func:`_parse_nested`).

    >>> parse_inline("[[[1,2,3],[0,1,0]]]", "signal").shape
    (1, 2, 3)
    """
    text = source.strip()
    if _NESTED.match(text):
        start = len(source) - len(source.lstrip())
        return _parse_nested(text, start, f"the {role} {excerpt(source)}", decimal)
    matrix = ";" in text
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()
        if text.startswith("[") and text.endswith("]"):
            text = re.sub(r"\]\s*,?\s*\[", ";", text[1:-1])
            matrix = True
        if not text.strip():
            raise InputError(f"the {role} {excerpt(source)} is empty; give at least one number")
    cells = _INLINE_CELLS[decimal == "."]
    lines = [line.strip() for line in _INLINE_ROWS.split(text)]
    rows = [_without_trailing_empty(cells.split(line)) for line in lines if line]
    bad = next((cell for row in rows for cell in row if not is_number(cell, decimal)), None)
    if not rows or (bad and looks_like_path(source)):
        shown = excerpt(source, quote=False, limit=4096)
        raise InputError(f"no such file: {shown} (the {role} is neither a file nor numbers)")
    if bad:
        if decimal != "." and "." in bad:
            raise InputError(f"the {role} {excerpt(source)}: {_not_a_number(bad, decimal)}")
        raise InputError(
            f"the {role} {excerpt(source)} is not a file, and {excerpt(bad)} is not a number "
            '(give a CSV file, - for standard input, or numbers like 2,1,3 or "1,2;3,4")'
        )
    name, width = f"the {role} {excerpt(source)}", len(rows[0])
    line_numbers = list(range(1, len(rows) + 1))
    _check_widths(rows, line_numbers, width, 1, name)
    flat = [cell for row in rows for cell in row]
    positions = [(line, column) for line in line_numbers for column in range(1, width + 1)]
    values = parse_numbers(flat, positions, name, decimal)
    if matrix or (len(rows) > 1 and width > 1):
        return values.reshape(len(rows), width)
    return values


def _parse_nested(text: str, start: int, name: str, decimal: str) -> np.ndarray:
    """Nested lists typed inline (``[[[1,2],[3,4]]]``, or numpy's printout: ``[[[1 2] [3 4]]]``)
    as an array of their depth, shaped as numpy shapes the same lists; ``text`` begins at
    character ``start`` of the argument ``name`` shows. Lists of unequal lengths or depths
    are refused, naming the first list (by its indices) that differs from the first one at
    its depth; cells follow :func:`parse_inline`'s rules.

    >>> _parse_nested("[[[1, 2], [3, 4.5]]]", 0, "x", ".")
    array([[[1. , 2. ],
            [3. , 4.5]]])
    """
    tree = _nested_lists(text, start, name, decimal)
    shape = [len(tree)]
    node = tree
    while node and isinstance(node[0], list):
        node = node[0]
        shape.append(len(node))
    cells: list[str] = []
    _nested_cells(tree, tuple(shape), (), cells, name, decimal)
    if not cells:
        raise InputError(f"{name} is empty; give at least one number")
    values = _numbers(cells, lambda i: "at " + _indices(np.unravel_index(i, shape)), name, decimal)
    return values.reshape(shape)


#: Three brackets open a nested list of three or more dimensions.
_NESTED = re.compile(r"\[\s*\[\s*\[")
#: What separates lists and cells in nested lists: blanks and line breaks.
_NESTED_BLANKS = " \t\r\n"
#: Cells of nested lists: as _INLINE_CELLS, line breaks being blanks there.
_NESTED_CELLS = {
    True: re.compile(r"[ \t\r\n]*,[ \t\r\n]*|[ \t\r\n]+"),
    False: re.compile(r"[ \t\r\n]+"),
}
#: The most dimensions a numpy array has.
_MAX_NDIM = 64


def _nested_lists(text: str, start: int, name: str, decimal: str) -> list[Any]:
    """The outermost list of ``text`` (which begins with its ``[``) as Python lists of lists
    and cells (text); refused if brackets do not pair up or text follows the last one."""
    stack: list[list[Any]] = []
    opened: list[int] = []  # where each list on the stack opens
    position = 0
    for match in _BRACKETS.finditer(text):
        if stack:
            after_list = text[position - 1] == "]"
            _add_cells(stack[-1], text[position : match.start()], after_list, decimal)
        position = match.end()
        if match.group() == "[":
            if len(stack) == _MAX_NDIM:
                raise InputError(
                    f"{name} is nested {_MAX_NDIM + 1} deep; numpy arrays have at most "
                    f"{_MAX_NDIM} dimensions"
                )
            stack.append([])
            opened.append(match.start())
            continue
        closed = stack.pop()
        opened.pop()
        if stack:
            stack[-1].append(closed)
            continue
        rest = text[position:].strip()
        if rest.startswith("]"):
            raise InputError(
                f"{name}: its brackets do not pair up (the ']' at character "
                f"{start + position + text[position:].index(']') + 1} closes no '[')"
            )
        if rest:
            raise InputError(f"{name}: {excerpt(rest)} follows the array's closing ']'")
        return closed
    raise InputError(
        f"{name}: its brackets do not pair up (the '[' at character {start + opened[0] + 1} "
        "is never closed)"
    )


_BRACKETS = re.compile(r"[\[\]]")


def _add_cells(items: list[Any], text: str, after_list: bool, decimal: str) -> None:
    """Add to a nested list's ``items`` the cells of ``text``, found between two of its
    brackets; the comma after a list (``after_list``) and one ending the text separate, as a
    trailing comma does in a file."""
    text = text.strip(_NESTED_BLANKS)
    if after_list and text.startswith(","):
        text = text[1:].lstrip(_NESTED_BLANKS)
    if text:
        items.extend(_without_trailing_empty(_NESTED_CELLS[decimal == "."].split(text)))


def _nested_cells(
    items: list[Any],
    shape: tuple[int, ...],
    indices: tuple[int, ...],
    cells: list[str],
    name: str,
    decimal: str,
) -> None:
    """Add to ``cells`` the cells of the nested list ``items`` (at ``indices`` in the
    outermost one), refusing one whose depth or length is not the ``shape`` of the first."""
    depth = len(indices)
    innermost = depth == len(shape) - 1
    kinds = [isinstance(item, list) for item in items]
    if innermost in kinds:
        index = kinds.index(innermost)
        where = _indices((*indices, index))
        if not innermost:  # a cell among lists: a bad one is named as such
            _numbers([items[index]], lambda _: "at " + where, name, decimal)
        found, first = ("a list", "a number") if innermost else ("a number", "a list")
        raise InputError(
            f"{name}, {where} is {found} but {_indices((0,) * (depth + 1))} is {first} "
            "(lists must be nested as deep everywhere)"
        )
    if len(items) != shape[depth]:
        raise InputError(
            f"{name}, {_indices(indices)} has {len(items)} {'value' if innermost else 'list'}(s) "
            f"but {_indices((0,) * depth)} has {shape[depth]} "
            "(lists at one depth must all be as long)"
        )
    if innermost:
        cells.extend(items)
        return
    for index, item in enumerate(items):
        _nested_cells(item, shape, (*indices, index), cells, name, decimal)


def _indices(indices: Iterable[int | np.integer[Any]]) -> str:
    """Indices as Python writes them into nested lists.

    >>> _indices((0, 2))
    '[0][2]'
    """
    return "".join(f"[{index}]" for index in indices)


#: Inline rows end at ``;`` or a line break (only those a CSV file's lines end at).
_INLINE_ROWS = re.compile(r";|\r\n|\r|\n")

#: Inline cells: by a comma or spaces and tabs ([True]); by spaces and tabs with a decimal comma.
_INLINE_CELLS = {True: re.compile(r"[ \t]*,[ \t]*|[ \t]+"), False: re.compile(r"[ \t]+")}


def _without_trailing_empty(cells: list[str]) -> list[str]:
    """Cells without the empty one a trailing delimiter leaves, as some spreadsheets write."""
    return cells[:-1] if len(cells) > 1 and cells[-1] == "" else cells


def _as_complex_text(cell: str) -> str:
    """MATLAB's ``2+3i`` written as Python's ``2+3j``; other text unchanged."""
    if cell[-1:] in ("i", "I") and not cell.lower().endswith("inf"):
        return cell[:-1] + "j"
    return cell


def _parse_cell(cell: str, decimal: str = ".") -> int | float | complex:
    """One number: an int if it is written as one, else a float, else a complex.

    A lone ``j`` or ``i`` is a column name, not the imaginary unit. With a
    decimal comma, ``1,5`` is 1.5 and a cell holding a ``.`` is refused: there
    it may be a thousands separator (``1.500``), which must not read as 1.5.
    """
    if decimal != ".":
        if "." in cell:
            raise ValueError(f"{cell!r} has a '.' but the decimal mark is {decimal!r}")
        cell = cell.replace(decimal, ".")
    try:
        return int(cell)
    except ValueError:
        if _INTEGER.fullmatch(cell):  # past int()'s 4300 digits, so far past int64 too
            return _BEYOND_INT64
    try:
        return float(cell)
    except ValueError:
        pass
    if not _HAS_MAGNITUDE.search(cell):
        raise ValueError(f"{cell!r} has no digits")
    return complex(_as_complex_text(cell))


def _out_of_range(value: int | float | complex) -> bool:
    """Whether a number is an integer beyond int64."""
    return isinstance(value, int) and not _INT64.min <= value <= _INT64.max


def _overflowed(cell: str, value: float | complex) -> bool:
    """Whether a float or complex came out infinite where the text wrote no ``inf``."""
    parts = (value.real, value.imag) if isinstance(value, complex) else (value,)
    infinite = sum(1 for part in parts if np.isinf(part))
    return infinite > cell.lower().count("inf")


def looks_like_path(text: str) -> bool:
    """Whether text that is not numbers looks like a file name (a folder or an extension).

    >>> looks_like_path("data/f.csv"), looks_like_path("signal.csv"), looks_like_path("abc")
    (True, True, False)
    """
    return _LOOKS_LIKE_PATH.search(text) is not None


def is_number(cell: str, decimal: str = ".") -> bool:
    """Whether a cell reads as a number."""
    try:
        _parse_cell(cell, decimal)
    except ValueError:
        return False
    return True


def excerpt(text: str, quote: bool = True, limit: int = 60) -> str:
    r"""Text for an error message: quoted as repr() does (or, unquoted, with control
    characters escaped as repr() does), and cut short past ``limit`` characters, so that even
    a bad cell of a megabyte makes a one-line message.

    >>> excerpt("x"), excerpt("7" * 500, quote=False), excerpt("a\rb", quote=False)
    ("'x'", '777777777777777777777777777777… (500 characters)', 'a\\rb')
    """
    if not quote and not text.isprintable():
        text = repr(text)[1:-1]
    if len(text) <= limit:
        return repr(text) if quote else text
    start = repr(text[: limit // 2]) if quote else text[: limit // 2]
    return f"{start}… ({len(text)} characters)"


def _not_a_number(cell: str, decimal: str) -> str:
    """Why a cell is not a number, with a hint where the decimal mark or delimiter is the cause.

    >>> _not_a_number("1.500", ",")
    "'1.500' has a '.' but the decimal mark is ',' (decimal=','), where '.' may group thousands"
    """
    if not cell:
        return "the cell is empty"
    if decimal != "." and "." in cell:
        return (
            f"{excerpt(cell)} has a '.' but the decimal mark is {decimal!r} (decimal={decimal!r}), "
            "where '.' may group thousands"
        )
    if ";" in cell:
        return (
            f"{excerpt(cell)} is not a number (cells separated by ';'? give delimiter=';', "
            "and decimal=',' if commas mark decimals)"
        )
    return f"{excerpt(cell)} is not a number"


def parse_numbers(
    cells: list[str], positions: list[tuple[int, int]], name: str = "input", decimal: str = "."
) -> np.ndarray:
    """Cells as one array: int64 if all are integers, else float64, else complex128.

    ``positions`` gives each cell's (line, column) for error messages;
    ``decimal`` is the decimal mark (``.`` or ``,``).

    >>> parse_numbers(["1", "-2"], [(1, 1), (2, 1)])
    array([ 1, -2])
    >>> parse_numbers(["1", "2.5", "1+2i"], [(1, 1), (2, 1), (3, 1)])
    array([1. +0.j, 2.5+0.j, 1. +2.j])
    """
    return _numbers(cells, lambda i: "line {}, column {}".format(*positions[i]), name, decimal)


def _numbers(cells: list[str], where: Callable[[int], str], name: str, decimal: str) -> np.ndarray:
    """parse_numbers' array, with ``where(i)`` saying where cell ``i`` is in an error."""
    values = []
    for i, cell in enumerate(cells):
        try:
            value = _parse_cell(cell, decimal)
        except ValueError:
            shown = _not_a_number(cell, decimal)
            raise InputError(f"{name}, {where(i)}: {shown}") from None
        if _out_of_range(value):
            raise InputError(
                f"{name}, {where(i)}: {excerpt(cell, quote=False)} does not fit "
                "in a 64-bit integer; "
                "write it as a float (e.g. 1e20) to compute approximately"
            )
        if not isinstance(value, int) and _overflowed(cell, value):
            raise InputError(
                f"{name}, {where(i)}: {excerpt(cell, quote=False)} overflows a 64-bit float"
            )
        values.append(value)
    kinds = {type(value) for value in values}
    dtype = np.complex128 if complex in kinds else np.float64 if float in kinds else np.int64
    return np.array(values, dtype=dtype)
