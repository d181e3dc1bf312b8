"""Text and files in and out: reading SIGNAL/KERNEL arguments, writing CSV, JSON and .npy.

This is the only module that touches files and streams. Reading keeps integers
exact (int64) and floats and complex numbers exactly as written; writing uses
the shortest text that reads back to the same value, so a CSV written here and
read again gives the same array, bit for bit.

Large CSV files take a fast path: plain numbers are read and written a block
at a time by :mod:`convcli.formats.numtext` (numpy instead of one Python call per
number), with the same results, byte for byte and bit for bit, as the careful
cell-by-cell reader, which takes over for anything unusual and names the line
and column of a bad cell. ``.npy`` files hold arrays of any shape;
:func:`iter_signal_blocks` and :func:`output_sink` read and write a long 1-D
signal a block at a time (``--stream``).
"""

from __future__ import annotations

import errno
import math
import os
import re
import signal
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn, TextIO

import numpy as np

from convcli.engine.core import Comparison, Result
from convcli.engine.numbers import as_numeric
from convcli.errors import ConvcliError, InputError, OutputError

if TYPE_CHECKING:  # imported where used, to keep start-up fast
    from convcli.analysis.conventions import Lineup
    from convcli.analysis.gradients import Backward
    from convcli.analysis.kernels import KernelInfo
    from convcli.analysis.steps import Explanation, Step
    from convcli.analysis.xcorr import Delay

__all__ = [
    "CSV_PIECE_VALUES",
    "FORMATS",
    "PNG_SCALES",
    "InputTooLarge",
    "Stopped",
    "background_reader_alive",
    "backward_json",
    "check_kernel",
    "check_output_folder",
    "choose_format",
    "column_hint",
    "comparison_csv",
    "comparison_json",
    "comparison_npy",
    "comparison_png_names",
    "delay_csv",
    "delay_json",
    "exit_now",
    "explanations_json",
    "format_number",
    "iter_signal_blocks",
    "kernels_json",
    "labelled_csv",
    "lineup_csv",
    "lineup_json",
    "names_a_file",
    "output_sink",
    "overwritten_input",
    "parse_delimiter",
    "parse_numbers",
    "read_ahead",
    "read_array",
    "read_kernel",
    "reads_data",
    "result_csv",
    "result_csv_pieces",
    "result_json",
    "result_npy",
    "result_png",
    "source_size",
    "standard_output_errors",
    "stderr_is_terminal",
    "stdin_is_terminal",
    "stdout_is_terminal",
    "stopping_signals",
    "uses_stdin",
    "write_bytes",
    "write_text",
]

FORMATS = ("auto", "table", "csv", "json", "png", "npy")
#: How PNG output makes values grey levels (see convcli.formats.images.gray_levels); clip first.
PNG_SCALES = ("clip", "stretch", "abs")
STDIN = "-"
#: Output formats a -o file's extension asks for (anything else is the command's plain text).
_FORMATS_BY_SUFFIX = {
    ".json": "json",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".svg": "svg",
    ".pdf": "pdf",
    ".npy": "npy",
}
_DELIMITER_NAMES = {"comma": ",", "tab": "\t", "semicolon": ";", "space": None, "whitespace": None}
_INT64 = np.iinfo(np.int64)
_BEYOND_INT64 = int(_INT64.max) + 1  # stands for an integer too long for int() to read
_HAS_MAGNITUDE = re.compile(r"\d|inf|nan", re.IGNORECASE)
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_LOOKS_LIKE_PATH = re.compile(r"[/\\]|\.[A-Za-z]\w*$")
_BARE_WORD = re.compile(r"[A-Za-z][^\s,;\[\]]*")
_BOM = b"\xef\xbb\xbf"
_NPY_MAGIC = b"\x93NUMPY"
#: The bytes a CSV body may hold for the fast reader (with the delimiter): anything else,
#: such as quotes, comment lines or non-ASCII text, goes to the careful reader.
_PLAIN = b"0123456789+-.eE naifNAIFtyTY\t\r\n"
_CHUNK = 1 << 21  # bytes of CSV read at a time (then up to the end of the line)
#: Values formatted at a time by result_csv_pieces (a block per processor; larger pieces
#: only hold more text in memory at once).
CSV_PIECE_VALUES = 1 << 17
#: Characters encoded at a time by output_sink.
_WRITE_PIECE = 1 << 20


def parse_delimiter(name: str) -> str | None:
    r"""The delimiter a ``--delimiter`` value names; ``None`` means runs of whitespace.

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


def read_array(
    source: str,
    role: str = "signal",
    delimiter: str | None = ",",
    stdin: BinaryIO | None = None,
    decimal: str = ".",
) -> np.ndarray:
    """Read a SIGNAL or KERNEL argument: a CSV or .npy file, ``FILE:COLUMN``, ``-`` (stdin)
    or inline numbers.

    A file path wins over inline numbers. In CSV, one row or one column is
    1-D and more rows and columns are 2-D. A .npy file (or standard input
    holding one) gives its array, of any shape, as integers, floats or
    complex numbers. A .png or .jpg file is read as a grayscale 2-D signal
    (with the ``plot`` extra). ``role`` names the argument in error messages.
    ``decimal=","`` reads European numbers (``1,5``); inline cells are then
    separated by spaces.

    >>> read_array("2,1,3,5,4")
    array([2, 1, 3, 5, 4])
    >>> read_array("[[1, 2.5], [3, 4]]")
    array([[1. , 2.5],
           [3. , 4. ]])
    """
    path, column = _split_column(source)
    if path is None:
        return _parse_inline(source, role, decimal)
    from convcli.formats.images import decode_image, is_image_name

    with _open_source(path, role, stdin) as (stream, name):
        guard = _ReadGuard(role, name)
        first = _next_chunk(stream, _CHUNK, guard)
        if column is None and is_image_name(path):
            return decode_image(first + _read_rest(stream, guard, len(first)), name)
        if path.lower().endswith(".npy") or first.startswith(_NPY_MAGIC):
            if column is not None:
                raise InputError(f"{name} is a .npy file, which has no named columns")
            return _read_npy(stream, first, guard)
        reader = _CsvReader(delimiter, column, name, decimal)
        pieces = []
        chunk = first
        while chunk:
            pieces.append(reader.feed(chunk))
            guard.keep(pieces[-1].nbytes, column is not None or reader.width <= 1)
            chunk = _next_chunk(stream, _CHUNK, guard)
        pieces.append(reader.finish())
    values = np.concatenate(pieces)
    if column is None and reader.rows > 1 and reader.width > 1:
        return values.reshape(reader.rows, reader.width)
    return values


def read_kernel(
    source: str,
    signal_ndim: int,
    delimiter: str | None = ",",
    stdin: BinaryIO | None = None,
    decimal: str = ".",
) -> np.ndarray:
    """Read a KERNEL argument: a file (``FILE:COLUMN``, ``-``), a kernel name, or inline numbers.

    In that order: a file path always wins over a kernel name, and a name over
    numbers. Names (``box:3``, ``sobel-x``, ...; see :mod:`convcli.analysis.kernels`)
    resolve against the signal's ``signal_ndim`` dimensions. A single word that
    is none of these is refused with the list of kernel names.

    >>> read_kernel("sobel-y", 2)
    array([[ 1,  2,  1],
           [ 0,  0,  0],
           [-1, -2, -1]])
    >>> read_kernel("diff", 1), read_kernel("1,-2,1", 1)
    (array([ 1, -1]), array([ 1, -2,  1]))
    """
    text = source.strip()
    if _split_column(source)[0] is None and text[:1].isalpha():  # names start with a letter
        from convcli.analysis.kernels import kernel_names, named_kernel

        kernel = named_kernel(source, signal_ndim)
        if kernel is not None:
            return kernel
        if (
            _BARE_WORD.fullmatch(text)
            and not _is_number(text)
            and not _LOOKS_LIKE_PATH.search(text)
        ):
            raise InputError(
                f"the kernel {_shown(source)} is not a file, a kernel name or numbers; "
                f"kernels: {', '.join(kernel_names())}"
            )
    return read_array(source, "kernel", delimiter, stdin, decimal)


def check_kernel(source: str) -> None:
    """Refuse, before any file is read, a KERNEL argument that is a bad kernel name or bad
    inline numbers (what read_kernel would refuse after reading the signal).

    >>> check_kernel("box:3"), check_kernel("1,-1")
    (None, None)
    """
    if reads_data(source):
        return
    if source.strip()[:1].isalpha():
        from convcli.analysis.kernels import named_kernel

        try:  # a name fits a 1-D signal (box:100000), a 2-D one (sobel-x) or neither
            named = named_kernel(source, 1)
        except ConvcliError:
            named = named_kernel(source, 2)
        if named is not None:
            return
    read_kernel(source, 1)


def reads_data(source: str) -> bool:
    """Whether a SIGNAL/KERNEL argument is read from a file or standard input (not typed).

    >>> reads_data("-"), reads_data("1,2,3")
    (True, False)
    """
    return _split_column(source)[0] is not None


def column_hint(source: str, values: np.ndarray) -> str:
    """For a 2-D signal from a CSV file read whole: how to take one of its columns instead;
    "" for any other input.

    >>> column_hint("1,2;3,4", np.ones((2, 2)))
    ''
    """
    path, column = _split_column(source)
    if path in (None, STDIN) or column is not None or values.ndim != 2:
        return ""
    from convcli.formats.images import is_image_name

    if path.lower().endswith(".npy") or is_image_name(path):
        return ""
    return f"use {path}:COLUMN to take one of its {values.shape[1]} columns"


def check_output_folder(output: str | None) -> None:
    """Refuse, before any input is read, an output file whose folder does not exist (or is
    not a folder), as the shell's ``>`` would refuse it."""
    if output is None or output == STDIN or _exists(output):
        return
    folder = os.path.dirname(output) or "."
    try:
        if os.path.isdir(folder):
            return
        os.stat(folder)
        problem = os.strerror(errno.ENOTDIR)
    except OSError as error:
        problem = error.strerror or str(error)
    raise OutputError(f"cannot write to {output}: {problem}")


def uses_stdin(source: str) -> bool:
    """Whether a SIGNAL/KERNEL argument reads standard input (``-`` or ``-:COLUMN``).

    >>> uses_stdin("-"), uses_stdin("-:2"), uses_stdin("-1,1")
    (True, True, False)
    """
    return _split_column(source)[0] == STDIN


def _split_column(source: str) -> tuple[str | None, str | None]:
    """Which file (or stdin) a source names, and the column after ``:`` if any; (None, None) for inline text."""
    if source == STDIN or _exists(source):
        return source, None
    path, colon, column = source.rpartition(":")
    if colon and column and (path == STDIN or _exists(path)):
        return path, column
    return None, None


def _exists(path: str) -> bool:
    """Whether a path names something on disk; text too long to be a path names nothing."""
    try:
        return os.path.exists(path)
    except (OSError, ValueError):
        return False


@contextmanager
def _open_source(path: str, role: str, stdin: BinaryIO | None) -> Iterator[tuple[BinaryIO, str]]:
    """A file or standard input opened for reading bytes, and the name to use in messages.

    Failing to open or to read it (no permission, an I/O error, a directory on
    standard input) is an InputError naming it.
    """
    if path != STDIN:
        if os.path.isdir(path):
            raise InputError(f"{path} is a directory, not a file of numbers")
        with _read_errors(path):
            stream = open(path, "rb")  # noqa: SIM115 (closed below)
        with stream, _read_errors(path):
            yield stream, path
        return
    if stdin is None and sys.stdin is None:  # Python's mark for a descriptor closed at start
        raise InputError(
            f"the {role} is '-' but standard input is closed; pipe data in or give a file"
        )
    stream = stdin if stdin is not None else sys.stdin.buffer
    if stream.isatty():
        raise InputError(
            f"the {role} is '-' but standard input is a terminal; pipe data in or give a file"
        )
    with _read_errors("standard input"):
        yield stream, "standard input"


@contextmanager
def _read_errors(name: str) -> Iterator[None]:
    """Turn an operating system error while opening or reading ``name`` into an InputError."""
    try:
        yield
    except OSError as error:
        raise InputError(f"cannot read {name}: {error.strerror or error}") from None


class InputTooLarge(InputError):
    """An input larger than the memory available, refused while it is read."""

    def __init__(self, message: str, role: str, streamable: bool) -> None:
        super().__init__(message)
        self.role = role
        self.streamable = streamable  # a 1-D signal so far, which --stream could read


class _ReadGuard:
    """Stops reading an input (a signal from an endless pipe, say) as soon as what it
    holds, and what reading it needs on top, could not fit in the memory available."""

    def __init__(self, role: str, name: str, streaming: bool = False) -> None:
        self.role = role
        self.name = name
        self.streaming = streaming  # values are handed on, not kept: only a line can grow
        self.kept = 0  # bytes of the values read so far
        self.streamable = True

    def keep(self, size: int, streamable: bool = True) -> None:
        """Count ``size`` more bytes of values kept (1-D so far if ``streamable``)."""
        self.kept += size
        self.streamable = streamable

    def check(self, text: int, needed: int | None = None) -> None:
        """Refuse if the values kept and ``text`` bytes read and not yet parsed leave too
        little room: ``needed`` more bytes, by default parsing the text and joining the
        values."""
        from convcli.cli import limits

        if needed is None:
            needed = self.kept + 4 * text + _READ_WORK
        usable = limits.usable_memory(needed, self.kept + text)
        if usable is None:
            return
        what = f"the {self.role} ({self.name})"
        line = self.streaming or text > 2 * _CHUNK  # longer than a piece and its last line
        if line:
            what = f"a line of {what}"
        raise InputTooLarge(
            f"{what} is larger than the memory available ({limits.human_bytes(usable)})",
            self.role,
            self.streamable and not line,
        )


#: Bytes of work that parsing one piece of CSV may take, beyond its text and values.
_READ_WORK = 32 << 20


def _next_chunk(stream: BinaryIO, size: int, guard: _ReadGuard) -> bytes:
    """About ``size`` bytes of a stream, up to the end of a line (b"" at the end).

    A long line is read a piece at a time, checked against the memory available, and
    no further than a NUL byte (binary data, which the CSV reader refuses).
    """
    pieces = [stream.read(size)]
    read = len(pieces[0])
    guard.check(read)
    while pieces[-1] and not pieces[-1].endswith(b"\n") and b"\x00" not in pieces[-1]:
        pieces.append(stream.readline(_CHUNK))
        read += len(pieces[-1])
        guard.check(read)
    return b"".join(pieces)


def _read_rest(stream: BinaryIO, guard: _ReadGuard, read: int, size: int = -1) -> bytes:
    """The rest of a stream (or its next ``size`` bytes), a piece at a time, checked
    against the memory available."""
    pieces = []
    while size < 0 or read < size:
        piece = stream.read(_CHUNK if size < 0 else min(_CHUNK, size - read))
        if not piece:
            break
        pieces.append(piece)
        read += len(piece)
        guard.keep(len(piece), guard.streamable)
        guard.check(0, guard.kept)  # and a copy of it
    return b"".join(pieces)


def _read_npy(stream: BinaryIO, first: bytes, guard: _ReadGuard) -> np.ndarray:
    """The numbers of a .npy file whose first bytes are ``first``, as the engine takes them:
    as many bytes as its header declares, refused before reading them if the file is
    shorter (truncated or corrupt) or the memory available too small."""
    from io import BytesIO

    from numpy.lib import format as npy_format

    name, role = guard.name, guard.role
    header = BytesIO(first)
    try:
        version = npy_format.read_magic(header)
        read_header = {(1, 0): npy_format.read_array_header_1_0}.get(
            version, npy_format.read_array_header_2_0
        )
        shape, fortran_order, dtype = read_header(header)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError):
        dtype = None  # np.load says what is wrong
    if dtype is None or dtype.hasobject:
        return _npy_array(first + _read_rest(stream, guard, len(first)), name, role)
    count = math.prod(shape)
    start = header.tell()
    size = start + count * dtype.itemsize
    on_disk = _regular_file_size(stream)
    if on_disk is not None and on_disk < size:
        raise InputError(
            f"{name} is truncated or corrupt: its header declares {count} values of {dtype} "
            f"({size} bytes with the header) but the file has {on_disk} bytes"
        )
    guard.streamable = len(shape) == 1
    converted = 0 if dtype in _ENGINE_DTYPES else count * (16 if dtype.kind == "c" else 8)
    guard.check(len(first), size - len(first) + converted)
    data = first[:size] + _read_rest(stream, guard, len(first), size)
    if len(data) < size:
        raise InputError(
            f"{name} is truncated: its .npy header declares {size} bytes but it ends after "
            f"{len(data)}"
        )
    array = np.frombuffer(data, dtype, count, start)
    return _npy_numbers(array.reshape(shape, order="F" if fortran_order else "C"), name, role)


#: The dtypes the engine computes with, which a .npy array keeps without a copy.
_ENGINE_DTYPES = (np.dtype(np.int64), np.dtype(np.float64), np.dtype(np.complex128))


def _regular_file_size(stream: BinaryIO) -> int | None:
    """The size of the regular file a stream reads; None for a pipe or a device."""
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _npy_array(data: bytes, name: str, role: str) -> np.ndarray:
    """The numbers of a .npy file's content (never unpickling anything), as the engine takes them."""
    from io import BytesIO

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
    return _npy_numbers(array, name, role)


def _npy_numbers(array: np.ndarray, name: str, role: str) -> np.ndarray:
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


class _CsvReader:
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
        """The numbers in a piece of whole lines: every cell, row by row, or the column's."""
        if not self.started:
            self.started = True
            data = data.removeprefix(_BOM)
        if b"\x00" in data:
            raise InputError(f"{self.name} looks like a binary file, not CSV text")
        values = None if self.pending else self._fast(data)
        return self._careful(data) if values is None else values

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
                if header is not None or any(_is_number(cell, self.decimal) for cell in cells):
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
        body = data[start:].rstrip(b" \t\r\n")
        if self.decimal != ".":  # decimal commas read as points; a "." is the careful reader's
            if b"." in body:
                return None
            body = body.replace(self.decimal.encode(), b".")
        separator = _delimiter_byte(self.delimiter)
        if not body or separator is None or body.translate(None, _PLAIN + separator):
            return None
        if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
            return None  # a lone \r ends a line too, for the careful reader
        if self.delimiter is None and (b" " in body or b"\t" in body):
            return None
        bounds = _cell_bounds(body, separator, width)
        if bounds is None:
            return None
        starts, ends = bounds
        rows = len(ends) // width
        if self.column is not None:
            try:
                index = _column_index(header, width, self.column, self.name)
            except InputError:
                return None  # the careful reader says which problem comes first
            starts, ends = starts[index::width], ends[index::width]
        values = _plain_numbers(body, starts, ends)
        if values is not None:
            self.header, self.header_line = header, header_line
            self.width, self.width_line = width, width_line
            # lines: those before the body, the body's, and the blank ones after it
            self.lines += (
                data.count(b"\n", 0, start) + rows - 1 + data.count(b"\n", start + len(body))
            )
            self.rows += rows
        return values

    def _careful(self, data: bytes, final: bool = False) -> np.ndarray:
        """The numbers of a piece, cell by cell, with errors naming line and column."""
        text = self.pending + _decode_text(data)
        rows, line_numbers, lines, self.pending = _records(
            text, self.delimiter, self.lines, self.name, final
        )
        self.lines += lines
        if rows and not self.width:
            if self.header is None and not any(_is_number(cell, self.decimal) for cell in rows[0]):
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


def _delimiter_byte(delimiter: str | None) -> bytes | None:
    """The delimiter as the one byte the fast reader splits on (b"\\n" for whitespace, where
    it reads one column); None if it is not one ASCII character."""
    if delimiter is None:
        return b"\n"
    return delimiter.encode() if delimiter.isascii() else None


def _cell_bounds(body: bytes, separator: bytes, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Where each cell of a body of ``width``-cell rows starts and ends (a line's \\r left
    out); None if some row has another number of cells or a cell is empty."""
    text = np.frombuffer(body, np.uint8)
    breaks = text == ord("\n")
    if separator != b"\n":
        breaks |= text == separator[0]
    stops = np.flatnonzero(breaks)
    if (len(stops) + 1) % width or not np.array_equal(
        text[stops] == ord("\n"), (np.arange(1, len(stops) + 1) % width) == 0
    ):
        return None
    starts = np.concatenate([[0], stops + 1])
    ends = np.concatenate([stops, [len(body)]])
    ends -= text[ends - 1] == ord("\r")
    if (ends <= starts).any():
        return None
    return starts, ends


def _plain_numbers(body: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """The numbers in ``body[starts[i]:ends[i]]`` as parse_numbers gives them; None if a cell
    is not a number parse_numbers takes (the careful reader then says where and why)."""
    from convcli.formats import numtext  # here, not at the top: start-up

    values, unread = numtext.parse_cells(body, starts, ends)
    if len(unread):
        cells = [body[starts[i] : ends[i]].decode("ascii") for i in unread]
        try:
            parsed = parse_numbers(cells, [(0, 0)] * len(cells))
        except InputError:
            return None
        values = values.astype(np.result_type(values, parsed))
        values[unread] = parsed
    return values


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
    and, unless ``final``, the text of a last record whose quoted cell is still open. Tabs
    count as spaces (unless they are the delimiter), so a quote after one opens a cell too.

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
        for raw in StringIO(text, newline=""):  # lines end at \n, \r\n or \r only
            line += 1
            offset += len(raw)
            if at_start:
                stripped = raw.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                at_start, start = False, (line, offset - len(raw))
                raw = raw.lstrip()
            content = raw.rstrip("\r\n")
            raw = content.rstrip(" \t") + raw[len(content) :]  # blanks at the end: no cells
            yield raw if delimiter == "\t" else raw.replace("\t", " ")
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
        return "; cells separated by ';' with decimal commas? give --delimiter ';' --decimal ,"
    return ""


def _parse_inline(source: str, role: str, decimal: str = ".") -> np.ndarray:
    """Numbers typed on the command line: ``2,1,3``, ``"2 1 3"``, ``[2, 1, 3]``, ``"1,2;3,4"``,
    ``[[1,2],[3,4]]``; with a decimal comma, cells are separated by spaces: ``"0,5 1,5"``.

    Brackets within brackets and ``;`` write a matrix, of one row or one column too
    (``[[1,1]]`` is 1x2, ``"1;1"`` 2x1); otherwise one row or one column is 1-D, as in a
    file, and so are the cell rules: an empty cell is an error, a trailing comma is not.
    """
    text = source.strip()
    matrix = ";" in text
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()
        if text.startswith("[") and text.endswith("]"):
            text = re.sub(r"\]\s*,?\s*\[", ";", text[1:-1])
            matrix = True
        if not text.strip():
            raise InputError(f"the {role} {_shown(source)} is empty; give at least one number")
    cells = _INLINE_CELLS[decimal == "."]
    rows = [row.strip() for row in _INLINE_ROWS.split(text)]
    rows = [_without_trailing_empty(cells.split(row)) for row in rows if row]
    bad = next((cell for row in rows for cell in row if not _is_number(cell, decimal)), None)
    if not rows or (bad and _LOOKS_LIKE_PATH.search(source)):
        shown = _shown(source, quote=False, limit=4096)
        raise InputError(f"no such file: {shown} (the {role} is neither a file nor numbers)")
    if bad:
        if decimal != "." and "." in bad:
            raise InputError(f"the {role} {_shown(source)}: {_not_a_number(bad, decimal)}")
        raise InputError(
            f"the {role} {_shown(source)} is not a file, and {_shown(bad)} is not a number "
            '(give a CSV file, - for standard input, or numbers like 2,1,3 or "1,2;3,4")'
        )
    name, width = f"the {role} {_shown(source)}", len(rows[0])
    line_numbers = list(range(1, len(rows) + 1))
    _check_widths(rows, line_numbers, width, 1, name)
    flat = [cell for row in rows for cell in row]
    positions = [(line, column) for line in line_numbers for column in range(1, width + 1)]
    values = parse_numbers(flat, positions, name, decimal)
    if matrix or (len(rows) > 1 and width > 1):
        return values.reshape(len(rows), width)
    return values


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


def _overflowed(cell: str, value: float | complex) -> bool:
    """Whether a float or complex came out infinite where the text wrote no ``inf``."""
    parts = (value.real, value.imag) if isinstance(value, complex) else (value,)
    infinite = sum(1 for part in parts if np.isinf(part))
    return infinite > cell.lower().count("inf")


def _is_number(cell: str, decimal: str = ".") -> bool:
    """Whether a cell reads as a number."""
    try:
        _parse_cell(cell, decimal)
    except ValueError:
        return False
    return True


def _shown(text: str, quote: bool = True, limit: int = 60) -> str:
    r"""Text for an error message: quoted as repr() does (or, unquoted, with control
    characters escaped as repr() does), and cut short past ``limit`` characters, so that even
    a bad cell of a megabyte makes a one-line message.

    >>> _shown("x"), _shown("7" * 500, quote=False), _shown("a\rb", quote=False)
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
    "'1.500' has a '.' but the decimal mark is ',' (--decimal ,), where '.' may group thousands"
    """
    if not cell:
        return "the cell is empty"
    if decimal != "." and "." in cell:
        return (
            f"{_shown(cell)} has a '.' but the decimal mark is {decimal!r} (--decimal {decimal}), "
            "where '.' may group thousands"
        )
    if ";" in cell:
        return (
            f"{_shown(cell)} is not a number (cells separated by ';'? give --delimiter ';', "
            "and --decimal , if commas mark decimals)"
        )
    return f"{_shown(cell)} is not a number"


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
    values = []
    for cell, (line, column) in zip(cells, positions):
        try:
            value = _parse_cell(cell, decimal)
        except ValueError:
            shown = _not_a_number(cell, decimal)
            raise InputError(f"{name}, line {line}, column {column}: {shown}") from None
        if isinstance(value, int) and not _INT64.min <= value <= _INT64.max:
            raise InputError(
                f"{name}, line {line}, column {column}: {_shown(cell, quote=False)} does not fit "
                "in a 64-bit integer; "
                "write it as a float (e.g. 1e20) to compute approximately"
            )
        if not isinstance(value, int) and _overflowed(cell, value):
            raise InputError(
                f"{name}, line {line}, column {column}: {_shown(cell, quote=False)} overflows a "
                "64-bit float"
            )
        values.append(value)
    kinds = {type(value) for value in values}
    dtype = np.complex128 if complex in kinds else np.float64 if float in kinds else np.int64
    return np.array(values, dtype=dtype)


def iter_signal_blocks(
    source: str,
    block_size: int,
    delimiter: str | None = ",",
    stdin: BinaryIO | None = None,
    decimal: str = ".",
) -> Iterator[tuple[np.ndarray, int]]:
    """Read a 1-D signal a block at a time: (about ``block_size`` values, bytes read so far).

    For ``--stream``: a one-column CSV file, ``FILE:COLUMN`` or ``-`` (standard
    input) is read in pieces of whole lines, so memory does not grow with the
    file; the rules and messages are read_array's (header, comments, bad cells
    by line and column), and the blocks joined are read_array's array. A 1-D
    .npy file is read through a memory map; inline numbers come as one block.

    The number type is fixed by the first block, since output is written
    before the rest is read: integers stay int64 only if every value is an
    integer, so integers followed later by a decimal such as ``2.5`` are
    refused (write them as ``1.0``, or do without ``--stream``); decimals
    followed by integers give floats, as read_array does.

    >>> from io import BytesIO
    >>> [block for block, _ in iter_signal_blocks("-", 2, stdin=BytesIO(b"v\\n1\\n2\\n3\\n"))]
    [array([1, 2, 3])]
    """
    path, column = _split_column(source)
    if path is None:
        values = read_array(source, "signal", delimiter, decimal=decimal)
        yield _one_dimensional(values, source), 0
        return
    with _open_source(path, "signal", stdin) as (stream, name):
        if path.lower().endswith(".npy"):
            yield from _npy_blocks(path, block_size, column)
            return
        guard = _ReadGuard("signal", name, streaming=True)
        first = _next_chunk(stream, block_size * 12, guard)
        if first.startswith(_NPY_MAGIC):
            guard.streaming = False  # read whole
            values = _read_npy(stream, first, guard)
            yield _one_dimensional(values, name), values.nbytes
            return
        reader = _CsvReader(delimiter, column, name, decimal)
        kind, seen, read = None, 0, 0
        chunk = first
        while True:
            lines_before, pending = reader.lines, reader.pending
            read += len(chunk)
            values = reader.feed(chunk) if chunk else reader.finish()
            if column is None and reader.width > 1:
                raise InputError(
                    f"{name} has {reader.width} columns; --stream reads one value a line "
                    "(choose a column as FILE:COLUMN)"
                )
            if len(values):
                if kind is None:
                    kind = values.dtype
                elif np.result_type(values, kind) != kind:
                    raise _switch_error(pending, chunk, lines_before, reader, kind)
                seen += len(values)
                yield values.astype(kind, copy=False), read
            if not chunk:
                return
            chunk = _next_chunk(stream, block_size * max(1, -(-read // max(seen, 1))), guard)


def read_ahead(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """The items of ``items`` in order, each read by a background thread while the caller
    works on the ones before (up to ``depth`` ahead); an error is raised where its item
    would have come. For --stream: reading and parsing the next block overlaps computing
    and writing this one (about a twentieth faster on two processors).

    >>> list(read_ahead(iter([1, 2, 3])))
    [1, 2, 3]
    """
    import queue
    import threading

    handoff: queue.Queue[tuple[Any, Exception | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()  # the caller has stopped reading: so does the thread

    def offer(entry: tuple[Any, Exception | None]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((item, None)):
                    return
        except Exception as error:  # raised again in the caller's thread, in its place
            offer((_END, error))
            return
        offer((_END, None))

    reader = threading.Thread(target=produce, name="convcli-read-ahead", daemon=True)
    _background_readers[:] = [*filter(threading.Thread.is_alive, _background_readers), reader]
    reader.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()


#: Marks the end of read_ahead's items.
_END = object()

#: read_ahead's threads that were running when the last one started, and that one.
_background_readers: list[Any] = []


def background_reader_alive() -> bool:
    """Whether a read_ahead thread may still be blocked reading (standard input from a slow
    writer, after an error or Ctrl-C). Python cannot then shut down normally: closing
    standard input waits for the lock that thread holds, and ends in a fatal error.

    >>> background_reader_alive()
    False
    """
    return any(reader.is_alive() for reader in _background_readers)


def exit_now(code: int) -> NoReturn:
    """End the process with ``code`` at once, after flushing standard output and error,
    without the interpreter's shutdown (for when background_reader_alive)."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError, AttributeError):  # a closed pipe or stream (None)
            stream.flush()
    os._exit(code)


class Stopped(BaseException):
    """SIGTERM or SIGHUP: raised where the run is, so that it unwinds as from Ctrl-C (a
    temporary -o file is removed); not an Exception, so no ``except Exception`` takes it."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number
        self.name = signal.Signals(number).name


#: The signals stopping_signals has caught, in order.
_caught: list[int] = []


@contextmanager
def stopping_signals() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise Stopped and SIGINT KeyboardInterrupt,
    where the main thread is and again before any more output is written: a handler's
    exception can be lost in library code that swallows errors (compiling a module, say),
    and the output must not then be completed. A signal ignored (nohup) stays ignored."""
    numbers = [getattr(signal, name) for name in _STOPPING if hasattr(signal, name)]
    replaced = {
        number: signal.signal(number, _catch)
        for number in numbers
        if signal.getsignal(number) in (signal.SIG_DFL, signal.default_int_handler)
    }
    try:
        yield
    finally:
        for number, handler in replaced.items():
            signal.signal(number, handler)


#: The signals stopping_signals handles.
_STOPPING = ("SIGINT", "SIGTERM", "SIGHUP")


def _catch(number: int, frame: object) -> None:
    _caught.append(number)
    _stop_if_caught()


def _stop_if_caught() -> None:
    """Raise for the first signal stopping_signals caught, if any."""
    if _caught:
        raise KeyboardInterrupt if _caught[0] == signal.SIGINT else Stopped(_caught[0])


def _one_dimensional(values: np.ndarray, name: str) -> np.ndarray:
    """A signal for --stream, which reads 1-D signals only."""
    if values.ndim != 1:
        raise InputError(f"{name} is {values.ndim}-D; --stream reads a 1-D signal")
    return values


def _npy_blocks(path: str, block_size: int, column: str | None) -> Iterator[tuple[np.ndarray, int]]:
    """Blocks of a 1-D .npy file read through a memory map, converted as read_array does."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError):
        array = None  # read_array says what is wrong with it
    if column is not None or array is None or array.dtype.kind not in "biufc" or not array.size:
        values = read_array(path if column is None else f"{path}:{column}")
        yield _one_dimensional(values, path), os.path.getsize(path)
        return
    _one_dimensional(array, path)
    if array.dtype.kind == "u" and array.max() > _INT64.max:
        raise InputError(f"{path} holds integers beyond int64; --stream cannot keep them exact")
    total = os.path.getsize(path)
    for start in range(0, len(array), block_size):
        block = as_numeric(np.asarray(array[start : start + block_size]), "signal")
        yield block, total - array.nbytes + array.itemsize * (start + len(block))


#: The number types a stream may hold, narrowest first, as Python and numpy name them.
_KINDS = (
    (int, np.dtype(np.int64), "integer"),
    (float, np.dtype(np.float64), "decimal"),
    (complex, np.dtype(np.complex128), "complex number"),
)


def _switch_error(
    pending: str, chunk: bytes, lines_before: int, reader: _CsvReader, kind: np.dtype
) -> InputError:
    """The error for a number wider than the first block's type (a decimal after integers,
    say) in ``chunk`` (after the ``pending`` text of an open record), naming its line."""
    rank = next(i for i, (_, dtype, _) in enumerate(_KINDS) if dtype == kind)
    text = pending + _decode_text(chunk.removeprefix(_BOM))
    rows, line_numbers, _, _ = _records(text, reader.delimiter, lines_before, reader.name)
    index = 0
    if reader.column is not None:
        index = _column_index(reader.header, reader.width, reader.column, reader.name)
    line, cell, wider = next(
        (line, row[index], word)
        for row, line in zip(rows, line_numbers)
        if _is_number(row[index], reader.decimal)
        for python_type, _, word in _KINDS[rank + 1 :]
        if isinstance(_parse_cell(row[index], reader.decimal), python_type)
    )
    return InputError(
        f"{reader.name}, line {line}: {_shown(cell, quote=False)} is a {wider}, but --stream "
        "already wrote the "
        f"numbers before it as {_KINDS[rank][2]}s; write every number as a {wider} "
        "or run without --stream"
    )


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


def result_csv(values: np.ndarray) -> str:
    """CSV of one result, no header: one value a line (1-D) or one row a line (2-D).

    Each cell is format_number's text. Rows are written independently, so
    the CSV of consecutive blocks of rows, joined, is the CSV of the whole
    array (``--stream`` relies on it). This is result_csv_pieces, joined.

    >>> print(result_csv(np.array([[1, 2], [3, 4]])), end="")
    1,2
    3,4
    """
    return "".join(
        piece if isinstance(piece, str) else piece.decode("ascii")
        for piece in result_csv_pieces(values)
    )


def result_csv_pieces(values: np.ndarray) -> Iterator[str | bytes]:
    """result_csv's text in pieces of whole rows, each made as it is asked for, so that a
    large result is written without its whole text in memory at once.

    Large int64, float64 and complex128 arrays are written by
    :func:`convcli.formats.numtext.format_cells` (ASCII bytes), a block of rows at a time.

    >>> list(result_csv_pieces(np.array([1.5, -2.0])))
    ['1.5\\n-2.0\\n']
    """
    if not values.size:
        return
    rows = values.reshape(values.shape[0], -1)
    if values.size < _SMALL_ARRAY or values.dtype not in _FAST_DTYPES:
        yield "".join(",".join(map(format_number, row)) + "\n" for row in rows.tolist())
        return
    from convcli.formats import numtext  # here, not at the top: start-up

    width = rows.shape[1]
    flat = rows.reshape(-1)
    step = max(1, CSV_PIECE_VALUES // width) * width  # whole rows at a time
    for start in range(0, flat.size, step):
        yield numtext.format_cells(flat[start : start + step], width)


#: Below this many values, text one value at a time (numtext's set-up costs more).
_SMALL_ARRAY = 64
#: The dtypes numtext.format_cells writes (results are these, or object arrays of big ints).
_FAST_DTYPES = (np.dtype(np.int64), np.dtype(np.float64), np.dtype(np.complex128))


def comparison_csv(comparison: Comparison, lags: tuple[np.ndarray, ...] | None = None) -> str:
    """CSV of a comparison: ``index,convolution,correlation`` (2-D: ``row,col,...``), or
    with ``lags`` (see :func:`labelled_csv`) ``lag,convolution,correlation``.

    >>> from convcli import compare
    >>> print(comparison_csv(compare([2, 1, 3], [1, -1])), end="")
    index,convolution,correlation
    0,-1,1
    1,2,-2
    """
    columns = {"convolution": comparison.convolution, "correlation": comparison.correlation}
    return labelled_csv(columns, lags)


def labelled_csv(columns: dict[str, np.ndarray], lags: tuple[np.ndarray, ...] | None = None) -> str:
    """CSV with a header, one row per output: its position, then one cell per column.

    The position is the index (``index``; ``row,col,axis2,...`` for 2-D and up) or,
    given the lags along each axis, the lag (``lag``; ``row_lag,col_lag,...``).

    >>> print(labelled_csv({"correlation": np.array([1, -2])}, (np.array([-1, 0]),)), end="")
    lag,correlation
    -1,1
    0,-2
    """
    shape = next(iter(columns.values())).shape
    names = (
        ["index"]
        if len(shape) == 1
        else ["row", "col", *map("axis{}".format, range(2, len(shape)))]
    )
    if lags is None:
        lags = tuple(np.arange(n) for n in shape)
    else:
        names = ["lag"] if len(shape) == 1 else [f"{name}_lag" for name in names]
    grids = np.meshgrid(*lags, indexing="ij")
    positions = result_csv(np.stack([grid.reshape(-1) for grid in grids], axis=1)).splitlines()
    cells = result_csv(np.stack([c.reshape(-1) for c in columns.values()], axis=1)).splitlines()
    header = ",".join([*names, *columns])
    return header + "\n" + "".join(f"{a},{b}\n" for a, b in zip(positions, cells))


def _dumps(document: Any) -> str:
    """A document as one line of strict JSON (no NaN or Infinity tokens)."""
    import json

    return json.dumps(document, allow_nan=False) + "\n"


def explanations_json(explanations: list[Explanation], lags: bool = False) -> Iterator[str]:
    """JSON of ``explain``: every step's cells, values, products and result, per operation;
    with ``lags``, each step's lag too. Written a step at a time (the same text as one
    ``json.dumps``), so a long signal's first steps go out before its last are made."""
    import json

    def opened(document: dict[str, Any], key: str) -> str:
        """The document's JSON, left open after a last key ``key`` holding a list."""
        return _dumps(document)[: -len("}\n")] + f", {json.dumps(key)}: ["

    first = explanations[0].setup
    yield opened(
        {
            "signal": _array_json(first.signal),
            "kernel": _array_json(first.kernel),
            "options": _options_json(explanations[0]),
        },
        "operations",
    )
    for number, explanation in enumerate(explanations):
        operation = {
            "operation": explanation.operation,
            "weights": _array_json(explanation.setup.weights),
            "output": _array_json(explanation.output),
        }
        yield (", " if number else "") + opened(operation, "steps")
        for count, position in enumerate(explanation.positions()):
            step = _step_json(explanation.step(position), explanation, lags)
            yield (", " if count else "") + _dumps(step)[:-1]
        yield "]}"
    yield "]}\n"


def _step_json(step: Step, explanation: Explanation, lags: bool) -> dict[str, Any]:
    """One step's terms: the signal cells read (padding marked), values, products, result."""
    lag = {"lag": list(explanation.lag(step.position))} if lags else {}
    return {
        "index": list(step.position),
        **lag,
        "cells": step.cells.tolist(),
        "padding": step.padding.tolist(),
        "values": _array_json(step.values),
        "products": _array_json(step.products),
        "result": _json_ready(step.total),
    }


def kernels_json(listing: list[KernelInfo]) -> str:
    """JSON of ``convcli kernels``: each name with its description, example, values and verdict."""
    document = [
        {
            "name": info.name,
            "description": info.description,
            "example": info.example,
            "values": _array_json(info.values),
            "symmetry": info.symmetry,
        }
        for info in listing
    ]
    return _dumps(document)


def _json_ready(value: Any) -> Any:
    """Nested lists of JSON values: complex numbers and nan/inf as strings complex()/float() read."""
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    if isinstance(value, complex) or (isinstance(value, float) and not np.isfinite(value)):
        return format_number(value)
    return value


def _array_json(values: np.ndarray) -> Any:
    """An array as nested JSON lists (tolist gives Python numbers, whose repr round-trips)."""
    return _json_ready(values.tolist())


def _options_json(result: Result | Comparison | Explanation | Backward) -> dict[str, Any]:
    """The options a result was computed with, as JSON values."""
    geometry = result.geometry
    options: dict[str, Any] = {
        "padding": geometry.padding,
        "pads": [list(pair) for pair in geometry.pads],
        "pad_mode": geometry.pad_mode,
        "stride": list(geometry.stride),
        "dilation": list(geometry.dilation),
    }
    method = getattr(result, "method", None)  # a Backward has none
    if method is not None:
        options["method"] = method
    convention = getattr(result, "convention", None)  # set by convcli.analysis.conventions
    if convention is not None:
        options["convention"] = convention
        calls = getattr(result, "calls", None)
        if calls is None:
            options["call"] = result.call
        else:
            options["calls"] = dict(zip(("convolution", "correlation"), calls))
        options["notes"] = list(result.notes)
    normalize = getattr(result, "normalize", "none")
    if normalize != "none":
        options["normalize"] = normalize
    return options


def _lineup_records(lineup: Lineup) -> list[dict[str, Any]]:
    """One record per library and operation of ``convcli conventions``."""
    return [
        {
            "operation": row.operation,
            "convention": row.convention,
            "function": row.function,
            "call": row.call,
            "shape": None if row.values is None else list(row.values.shape),
            "result": None if row.values is None else _array_json(row.values),
            "agrees": row.agrees,
            "reason": row.reason,
        }
        for row in lineup.rows
    ]


def lineup_json(lineup: Lineup) -> str:
    """JSON of ``convcli conventions``: the inputs, the options and one record per row
    (``agrees`` null and ``result`` null where the library refuses the request)."""
    padding = lineup.padding
    document = {
        "signal": _array_json(lineup.signal),
        "kernel": _array_json(lineup.kernel),
        "options": {
            "padding": padding if isinstance(padding, str) else [list(p) for p in padding],
            "pad_mode": lineup.pad_mode,
            "stride": list(lineup.stride),
            "dilation": list(lineup.dilation),
            "method": lineup.method,
        },
        "rows": _lineup_records(lineup),
    }
    return _dumps(document)


def lineup_csv(lineup: Lineup) -> str:
    """CSV of ``convcli conventions``: one line per library and operation; the result is
    its JSON text (nested lists), empty where the library refuses the request."""
    import csv
    import json
    from io import StringIO

    buffer = StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = ["operation", "convention", "function", "call", "agrees", "shape", "result"]
    writer.writerow([*columns, "reason"])
    for record in _lineup_records(lineup):
        cells = [record[name] for name in columns]
        writer.writerow(
            [
                "" if cell is None else json.dumps(cell) if isinstance(cell, (list, bool)) else cell
                for cell in cells
            ]
            + [record["reason"]]
        )
    return buffer.getvalue()


def _lags_json(lags: tuple[np.ndarray, ...] | None) -> dict[str, Any]:
    """``{"lags": [[...] per axis]}`` when lags are asked for, else nothing."""
    return {} if lags is None else {"lags": [axis.tolist() for axis in lags]}


def backward_json(gradients: Backward) -> str:
    """JSON of ``backward``: the forward result, both gradients, their formulas and the check."""
    document = {
        "forward": gradients.forward,
        "output": _array_json(gradients.output),
        "upstream": _array_json(gradients.upstream),
        "grad_signal": _array_json(gradients.grad_signal),
        "grad_kernel": _array_json(gradients.grad_kernel),
        "formulas": {
            "output": gradients.output_formula,
            "grad_signal": gradients.grad_signal_formula,
            "grad_kernel": gradients.grad_kernel_formula,
        },
        "check": {
            "method": gradients.check_method,
            "largest_difference": _json_ready(gradients.largest_difference),
            "checked_cells": gradients.checked_cells,
        },
        "notes": list(gradients.notes),
        "options": _options_json(gradients),
    }
    return _dumps(document)


def result_json(result: Result, lags: tuple[np.ndarray, ...] | None = None) -> str:
    """JSON of one result: the operation, its values, their shape, the lags along each axis
    (if given) and the options used."""
    document = {
        "operation": result.operation,
        "shape": list(result.values.shape),
        "result": _array_json(result.values),
        **_lags_json(lags),
        "options": _options_json(result),
    }
    return _dumps(document)


def comparison_json(comparison: Comparison, lags: tuple[np.ndarray, ...] | None = None) -> str:
    """JSON of a comparison: both results, the verdict, the inputs, the lags along each
    axis (if given) and the options used."""
    document = {
        "convolution": _array_json(comparison.convolution),
        "correlation": _array_json(comparison.correlation),
        "kernel_symmetry": comparison.kernel_symmetry,
        "identical": comparison.identical,
        "negated": comparison.negated,
        "differing": comparison.differing,
        "shape": list(comparison.convolution.shape),
        "signal": _array_json(comparison.signal),
        "kernel": _array_json(comparison.kernel),
        "flipped_kernel": _array_json(comparison.flipped_kernel),
        **_lags_json(lags),
        "options": _options_json(comparison),
    }
    return _dumps(document)


def delay_json(delay: Delay) -> str:
    """JSON of ``delay``: the lag, refined lag, peak and normalized peak, and the options."""
    document = {
        "lag": delay.lag,
        "refined_lag": delay.refined_lag,
        "peak": _json_ready(delay.peak),
        "normalized_peak": _json_ready(delay.normalized_peak),
        "options": {"max_lag": delay.max_lag, "method": delay.method},
    }
    return _dumps(document)


def delay_csv(delay: Delay) -> str:
    """CSV of ``delay``: a header and one row, ``lag,refined_lag,peak,normalized_peak``."""
    cells = (delay.lag, delay.refined_lag, delay.peak, delay.normalized_peak)
    return "lag,refined_lag,peak,normalized_peak\n" + ",".join(map(format_number, cells)) + "\n"


def result_npy(values: np.ndarray) -> bytes:
    """A result, of any shape, as the content of a .npy file (int64, float64 or complex128).

    >>> from io import BytesIO
    >>> np.load(BytesIO(result_npy(np.array([[1, 2], [3, 4]]))))
    array([[1, 2],
           [3, 4]])
    """
    from io import BytesIO

    if values.dtype == object:  # exact Python ints: fine if they all fit in int64
        try:
            values = values.astype(np.int64)
        except OverflowError:
            raise InputError(
                "the result has integers beyond 64 bits, which .npy cannot hold without "
                "pickling; write CSV or JSON instead (-o result.csv)"
            ) from None
    buffer = BytesIO()
    np.save(buffer, values, allow_pickle=False)
    return buffer.getvalue()


def comparison_npy(comparison: Comparison) -> bytes:
    """Both results of a comparison in one .npy array: ``[0]`` the convolution and ``[1]``
    the correlation (the order of comparison_csv's columns), each of the results' shape.

    >>> from io import BytesIO
    >>> from convcli import compare
    >>> np.load(BytesIO(comparison_npy(compare([2, 1, 3], [1, -1]))))
    array([[-1,  2],
           [ 1, -2]])
    """
    return result_npy(np.stack([comparison.convolution, comparison.correlation]))


def choose_format(
    requested: str,
    output: str | None,
    interactive: bool | None = None,
    screen: str = "table",
    plain: str = "csv",
) -> str:
    """Resolve ``--format auto``: by a ``-o`` file's extension (.json, .npy, ...), else
    ``screen`` on a terminal and ``plain`` in a pipe or another file.

    NPY is binary, so it is refused on a terminal (give ``-o FILE.npy`` or redirect).

    >>> choose_format("auto", "out.json", True), choose_format("auto", None, False)
    ('json', 'csv')
    """
    if output is not None and output != STDIN:
        chosen = requested
        if requested == "auto":
            chosen = _FORMATS_BY_SUFFIX.get(os.path.splitext(output)[1].lower(), plain)
        return chosen
    if interactive is None:
        interactive = stdout_is_terminal()
    if requested == "auto":
        return screen if interactive else plain
    if requested == "npy" and interactive:
        raise InputError(
            "NPY is binary data, not for a terminal; write it to a file with -o FILE.npy "
            "or redirect standard output to one"
        )
    return requested


def stdout_is_terminal() -> bool:
    """Whether standard output is a terminal (where tables and animations make sense)."""
    return sys.stdout is not None and sys.stdout.isatty()


def stdin_is_terminal() -> bool:
    """Whether standard input is a terminal (someone who can press a key)."""
    return sys.stdin is not None and sys.stdin.isatty()


def stderr_is_terminal() -> bool:
    """Whether standard error is a terminal (where a progress bar can be drawn)."""
    return sys.stderr is not None and sys.stderr.isatty()


def drop_messages_if_stderr_closed() -> None:
    """Give a process started with standard error closed (``2>&-``) a null one: its
    messages are dropped (click would write them to standard output), its exit codes kept."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (the process's)


def standard_output() -> TextIO:
    """Standard output, to write a result to; an OutputError if the process started with it
    closed (``>&-``), when Python leaves ``sys.stdout`` None."""
    if sys.stdout is None:
        raise OutputError("standard output is closed; redirect it (> FILE) or give -o FILE")
    return sys.stdout


def source_size(source: str) -> int | None:
    """The size in bytes of the file a SIGNAL argument names; None for stdin or inline numbers.

    >>> source_size("-") is None, source_size("1,2,3") is None
    (True, True)
    """
    path, _ = _split_column(source)
    if path is None or path == STDIN:
        return None
    return os.path.getsize(path)


def _current_umask() -> int:
    """The process umask (read by setting and restoring it), so new files get the usual mode."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def result_png(values: np.ndarray, scale: str = "clip") -> bytes:
    """A 2-D result as an 8-bit grayscale PNG, its values made grey levels by ``scale``
    (see :func:`convcli.formats.images.gray_levels`)."""
    from convcli.formats.images import encode_png

    return encode_png(values, scale)


def names_a_file(output: str) -> bool:
    """Whether ``output`` names a regular file or none yet: not a device, a FIFO or a
    descriptor the shell opened (``/dev/stdout``), beside which no other file belongs.

    >>> names_a_file("out/edges.png"), names_a_file("/dev/null"), names_a_file("/dev/fd/1")
    (True, False, False)
    """
    if _DESCRIPTOR_PATH.fullmatch(output):
        return False
    try:
        return stat.S_ISREG(os.stat(output).st_mode)
    except OSError:  # nothing there yet (or nothing reachable: writing will say why)
        return True


def comparison_png_names(output: str) -> tuple[str, str]:
    """The files compare writes for ``-o NAME.png``, one per result: NAME.conv.png and
    NAME.corr.png.

    >>> comparison_png_names("out/edges.png")
    ('out/edges.conv.png', 'out/edges.corr.png')
    """
    stem, suffix = os.path.splitext(output)
    return f"{stem}.conv{suffix}", f"{stem}.corr{suffix}"


def write_text(text: str | bytes | Iterable[str | bytes], output: str | None) -> None:
    """Write text, bytes or a series of pieces of either to standard output, or to a file as
    output_sink does (a regular file: all of it or, on any error, nothing)."""
    with output_sink(output) as write:
        for piece in (text,) if isinstance(text, (str, bytes)) else text:
            write(piece)


def write_bytes(data: bytes, output: str) -> None:
    """Write the file ``output`` as output_sink does."""
    with _output_file(output) as write:
        write(data)


def overwritten_input(output: str | None, sources: dict[str, str | None]) -> str | None:
    """Which input (a key of ``sources``, whose values are SIGNAL/KERNEL arguments) the file
    ``output`` is, compared as files on disk (so through symlinks and hard links); None if none.

    >>> overwritten_input(os.devnull, {"signal": "1,2,3", "kernel": f"{os.devnull}:2"})
    'kernel'
    """
    if output is None or output == STDIN or not _exists(output):
        return None
    for role, source in sources.items():
        path = None if source is None else _split_column(source)[0]
        if path is not None and path != STDIN:
            with suppress(OSError):
                if os.path.samefile(path, output):
                    return role
    return None


@contextmanager
def output_sink(output: str | None) -> Iterator[Callable[[str | bytes], None]]:
    """A function writing text (or bytes) in pieces to standard output or to the file ``output``.

    A regular file is written atomically: into a temporary file next to it,
    renamed into place when the ``with`` block ends, and removed instead if it
    ends with an error, so the file is all of the output or untouched (other
    files are written in place: see _output_file). On standard output, a reader
    that stops early (``| head``) ends the block quietly.

    >>> with output_sink(None) as write:
    ...     write("1\\n")
    ...     write("2\\n")
    1
    2
    """
    if output is not None and output != STDIN:
        with _output_file(output) as write_raw:

            def write_file(text: str | bytes) -> None:
                for piece in _pieces(text):
                    write_raw(piece.encode("utf-8") if isinstance(piece, str) else piece)

            yield write_file
        return
    stdout = standard_output()
    closed = False  # set when standard output's reader has gone

    def guarded(action: Callable[[], object]) -> None:
        nonlocal closed
        try:
            with standard_output_errors():
                action()
        except BrokenPipeError:
            closed = True
            raise

    def write(text: str | bytes) -> None:
        _stop_if_caught()
        if isinstance(text, bytes):
            guarded(stdout.flush)
            guarded(lambda: stdout.buffer.write(text))
        else:
            for piece in _pieces(text):
                guarded(lambda piece=piece: stdout.write(piece))

    try:
        yield write
        guarded(stdout.flush)
    except BrokenPipeError:
        if not closed:
            raise
        discard_stdout()


@contextmanager
def standard_output_errors() -> Iterator[None]:
    """Turn an error writing standard output, other than a closed pipe, into an OutputError
    (a full disk: "no space left on device writing standard output"). What is left in its
    buffer is dropped: it could not be written either."""
    try:
        with _write_errors("standard output"):
            yield
    except OutputError:
        discard_stdout()
        raise


def _pieces(text: str | bytes) -> Iterator[str | bytes]:
    """Long text in pieces of a mebibyte, so that it is never encoded all at once."""
    if isinstance(text, bytes) or len(text) <= _WRITE_PIECE:
        yield text
        return
    for start in range(0, len(text), _WRITE_PIECE):
        yield text[start : start + _WRITE_PIECE]


def discard_stdout() -> None:
    """Point standard output at the null device, so that nothing more fails to reach a reader
    that has gone (Python would otherwise report the pipe at exit)."""
    with suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


#: Paths that name a descriptor the process has open (the shell's redirections): written
#: through that descriptor at its offset, never opened again (which would truncate a file
#: the shell opened, or replace it).
_DESCRIPTOR_PATH = re.compile(r"/dev/(stdin|stdout|stderr)|/dev/fd/(\d+)|/proc/self/fd/(\d+)")
_STANDARD_DESCRIPTORS = {"stdin": 0, "stdout": 1, "stderr": 2}
#: Opening a file to write bytes as they are (Windows would otherwise translate line ends).
_WRITE_ONLY = os.O_WRONLY | getattr(os, "O_BINARY", 0)


@contextmanager
def _output_file(output: str) -> Iterator[Callable[[bytes], None]]:
    """A function writing bytes to ``output`` where the shell's ``>`` would write them, never
    replacing what is there by something else (README, "Where -o writes").

    A new file, or a regular file with one link, is written into a temporary file beside it
    with its mode and owner, synced and renamed into place when the ``with`` block ends, or
    removed if the block ends with an error: the file is all of the output or as it was. A
    regular file with several links (every name must see the output), or one whose folder
    takes no temporary file or whose owner cannot be kept, is written in place as ``>``
    would. Anything else (a device, a FIFO, ``/dev/stdout``) is written into, never
    replaced. What ``>`` could not open (a read-only file) is refused.
    """
    named = _DESCRIPTOR_PATH.fullmatch(output)
    if named:
        number = _STANDARD_DESCRIPTORS.get(named[1] or "")
        with _write_errors(output):
            descriptor = os.dup(int(named[2] or named[3]) if number is None else number)
    else:
        with _write_errors(output):
            try:
                status: os.stat_result | None = os.stat(output)  # through symlinks, as > goes
            except FileNotFoundError:
                status = None
            if status is not None and stat.S_ISDIR(status.st_mode):
                raise IsADirectoryError(errno.EISDIR, "it is a directory")
            if status is not None and stat.S_ISREG(status.st_mode):  # refused where > would be
                os.close(os.open(output, _WRITE_ONLY))  # (truncating nothing)
        flags = _WRITE_ONLY  # a device or a FIFO: written into
        if status is None or stat.S_ISREG(status.st_mode):
            target = os.path.realpath(output)
            temporary: list[str] = []  # its path, known before it exists: no signal leaks it
            try:
                with _write_errors(output):
                    replacement = _replacement(target, status, temporary)
                if replacement is not None:
                    with _descriptor_writer(replacement, output, sync=True) as write:
                        yield write
                    _stop_if_caught()
                    with _write_errors(output):
                        os.replace(temporary[0], target)
                    return
            except BaseException:
                for path in temporary:
                    with suppress(FileNotFoundError):
                        os.unlink(path)
                raise
            flags |= os.O_TRUNC  # a regular file that cannot be replaced: rewritten in place
        with _write_errors(output):
            descriptor = os.open(output, flags)
    with _descriptor_writer(descriptor, output) as write:
        yield write


def _replacement(target: str, status: os.stat_result | None, temporary: list[str]) -> int | None:
    """A descriptor of a new temporary file beside ``target`` (its path put in
    ``temporary``) that can take its place: the old file's mode and owner (``status``; None
    for a new file, which gets the usual mode). None where the old file must be written in
    place instead: it has other hard links, its folder takes no new file, or its owner
    cannot be given to the temporary."""
    if status is not None and status.st_nlink > 1:
        return None
    directory, name = os.path.split(target)
    prefix = os.path.join(directory, _temporary_prefix(directory, name))
    flags = _WRITE_ONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        temporary[:] = [f"{prefix}{os.urandom(4).hex()}.tmp"]
        try:
            descriptor = os.open(temporary[0], flags, 0o600)
            break
        except FileExistsError:  # another file has that name: not ours to remove
            temporary.clear()
        except PermissionError:
            temporary.clear()
            if status is None:  # a new file needs the folder: > would fail too
                raise
            return None
    try:
        if status is None:
            os.chmod(temporary[0], 0o666 & ~_current_umask())
            return descriptor
        made = os.fstat(descriptor)
        if (made.st_uid, made.st_gid) != (status.st_uid, status.st_gid):
            os.fchown(descriptor, status.st_uid, status.st_gid)
        os.chmod(temporary[0], stat.S_IMODE(status.st_mode))  # after chown, which clears setuid
        return descriptor
    except BaseException as error:
        os.close(descriptor)
        if status is None or not isinstance(error, PermissionError):
            raise
        os.unlink(temporary.pop())  # the owner cannot be kept: in place, then
        return None


def _temporary_prefix(directory: str, name: str) -> str:
    """``.NAME.``, with NAME shortened so that the temporary's name (the prefix, eight
    random characters and ``.tmp``) fits the folder's name limit."""
    limit = 255
    with suppress(OSError, ValueError):
        limit = os.pathconf(directory or ".", "PC_NAME_MAX")
    room = limit - len("..") - 8 - len(".tmp")
    return f".{os.fsdecode(os.fsencode(name)[: max(room, 0)])}."


@contextmanager
def _descriptor_writer(
    descriptor: int, output: str, sync: bool = False
) -> Iterator[Callable[[bytes], None]]:
    """A function writing bytes to the open ``descriptor`` (closed at the end), synced to
    the disk at the end of the ``with`` block if ``sync``."""

    def write(data: bytes) -> None:
        _stop_if_caught()
        with _write_errors(output):
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]

    try:
        yield write
        with _write_errors(output):
            if sync:
                os.fsync(descriptor)
    finally:
        with suppress(OSError):  # Linux closes the descriptor even when close fails
            os.close(descriptor)


def _write_error(output: str, error: OSError) -> OutputError:
    """The one-line error for an operating system error writing ``output``."""
    if error.errno == errno.ENOSPC:
        return OutputError(f"no space left on device writing {output}")
    return OutputError(f"cannot write to {output}: {error.strerror or error}")


@contextmanager
def _write_errors(output: str) -> Iterator[None]:
    """Turn an operating system error while writing ``output`` (a full disk, say) into an
    OutputError naming it; a pipe whose reader has gone (``-o /dev/stdout | head``) stays a
    BrokenPipeError, which ends the command quietly as on standard output."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        raise _write_error(output, error) from None
