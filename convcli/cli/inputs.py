"""SIGNAL and KERNEL arguments resolved and read: files, FILE:COLUMN, standard input, inline text.

A source is a file (CSV, .npy or an image), a column of a CSV file (``FILE:COLUMN``),
``-`` for standard input or numbers typed inline; a file path wins over inline numbers.
Files and pipes are read a piece of whole lines at a time, each piece parsed by
:mod:`convcli.formats` as it comes, and reading stops as soon as what is held would not
fit in the memory available (an endless pipe, say). :func:`iter_signal_blocks` reads a
long 1-D signal a block at a time (``--stream``), and :func:`read_ahead` reads the next
block in a background thread while the current one is computed and written.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import numpy as np

from convcli.engine.numbers import as_numeric
from convcli.errors import ConvcliError, InputError, OptionError
from convcli.formats import npy
from convcli.formats.csv import CsvReader, excerpt, is_number, looks_like_path, parse_inline

__all__ = [
    "STDIN",
    "InputTooLarge",
    "background_reader_alive",
    "check_kernel",
    "check_one_stdin",
    "column_hint",
    "exists",
    "iter_signal_blocks",
    "load_tensor",
    "read_ahead",
    "read_array",
    "read_kernel",
    "reads_data",
    "source_size",
    "split_source",
    "stdin_is_terminal",
    "uses_stdin",
]

#: The source that names standard input.
STDIN = "-"
#: A kernel name, or a word meant as one: a letter, then anything but blanks and , ; [ ].
_BARE_WORD = re.compile(r"[A-Za-z][^\s,;\[\]]*")
_CHUNK = 1 << 21  # bytes of CSV read at a time (then up to the end of the line)
#: Bytes of CSV read at a time after the first piece, where the memory available takes
#: them: pieces large enough for polars' reader to repay its set-up (convcli.formats.bulk).
_LARGE_CHUNK = 1 << 23
#: Bytes of work that parsing one piece of CSV may take, beyond its text and values.
_READ_WORK = 32 << 20


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
    values, reader = _read_source(source, role, delimiter, stdin, decimal)
    if reader is not None and reader.column is None and reader.rows > 1 and reader.width > 1:
        return values.reshape(reader.rows, reader.width)
    return values


def load_tensor(
    source: str,
    role: str = "input",
    delimiter: str | None = ",",
    stdin: BinaryIO | None = None,
    decimal: str = ".",
) -> tuple[np.ndarray, list[str] | None]:
    """Read a layer's INPUT or WEIGHTS: an array of any shape, and its channels' names if
    the source names them.

    A .npy file (or standard input holding one) gives its array and inline
    numbers theirs (nested lists of any depth), with no names. A CSV file is
    a multi-channel 1-D signal, one column per channel: a (C, L) array,
    channels first as PyTorch's (C_in, L), named by its header (``c0``,
    ``c1``, ... without one); ``FILE:COLUMN`` is that one channel, (1, L).
    Sources and their rules are read_array's.

    >>> load_tensor("[[[1,2,3],[0,1,0]]]")
    (array([[[1, 2, 3],
            [0, 1, 0]]]), None)
    """
    values, reader = _read_source(source, role, delimiter, stdin, decimal)
    if reader is None:
        return values, None
    return reader.channels(values)


def _read_source(
    source: str, role: str, delimiter: str | None, stdin: BinaryIO | None, decimal: str
) -> tuple[np.ndarray, CsvReader | None]:
    """The numbers of a source as read_array reads them, a CSV file's in one row (as its
    CsvReader gave them); and that reader, or None if the source was no CSV text."""
    path, column = split_source(source)
    if path is None:
        return parse_inline(source, role, decimal), None
    from convcli.formats.images import decode_image, is_image_name

    with _open_source(path, role, stdin) as (stream, name):
        guard = _ReadGuard(role, name)
        first = _next_chunk(stream, _CHUNK, guard)
        if column is None and is_image_name(path):
            from convcli.cli.limits import check_image

            data = first + _read_rest(stream, guard, len(first))
            return decode_image(data, name, check_image), None
        if path.lower().endswith(".npy") or first.startswith(npy.NPY_MAGIC):
            if column is not None:
                raise InputError(f"{name} is a .npy file, which has no named columns")
            return _read_npy(stream, first, guard), None
        reader = CsvReader(delimiter, column, name, decimal)
        pieces = []
        chunk = first
        while chunk:
            pieces.append(reader.feed(chunk))
            guard.keep(pieces[-1].nbytes, column is not None or reader.width <= 1)
            chunk = _next_chunk(stream, guard.piece_size(), guard)
        pieces.append(reader.finish())
    return np.concatenate(pieces), reader


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
    if split_source(source)[0] is None and text[:1].isalpha():  # names start with a letter
        from convcli.analysis.kernels import kernel_names, named_kernel

        kernel = named_kernel(source, signal_ndim)
        if kernel is not None:
            return kernel
        if _BARE_WORD.fullmatch(text) and not is_number(text) and not looks_like_path(text):
            raise InputError(
                f"the kernel {excerpt(source)} is not a file, a kernel name or numbers; "
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
    return split_source(source)[0] is not None


def column_hint(source: str, values: np.ndarray) -> str:
    """For a 2-D signal from a CSV file read whole: how to take one of its columns instead;
    "" for any other input.

    >>> column_hint("1,2;3,4", np.ones((2, 2)))
    ''
    """
    path, column = split_source(source)
    if path in (None, STDIN) or column is not None or values.ndim != 2:
        return ""
    from convcli.formats.images import is_image_name

    if path.lower().endswith(".npy") or is_image_name(path):
        return ""
    return f"use {path}:COLUMN to take one of its {values.shape[1]} columns"


def uses_stdin(source: str) -> bool:
    """Whether a SIGNAL/KERNEL argument reads standard input (``-`` or ``-:COLUMN``).

    >>> uses_stdin("-"), uses_stdin("-:2"), uses_stdin("-1,1")
    (True, True, False)
    """
    return split_source(source)[0] == STDIN


def check_one_stdin(sources: dict[str, str | None]) -> None:
    """Refuse arguments of which more than one reads standard input, which can be read only
    once; ``sources`` maps each argument's name in the message to its value (None if it
    was not given).

    >>> check_one_stdin({"SIGNAL": "-", "KERNEL": "1,-1"})
    >>> check_one_stdin({"SIGNAL": "-", "KERNEL": "-:2"})
    Traceback (most recent call last):
    convcli.errors.OptionError: only one of SIGNAL and KERNEL can be read from standard input
    """
    given = {name: source for name, source in sources.items() if source is not None}
    if sum(map(uses_stdin, given.values())) > 1:
        *others, last = given
        raise OptionError(
            f"only one of {', '.join(others)} and {last} can be read from standard input"
        )


def split_source(source: str) -> tuple[str | None, str | None]:
    """Which file (or ``-``, standard input) a SIGNAL/KERNEL argument names, and the column
    after ``:`` if any; (None, None) for inline text.

    >>> split_source("-:2"), split_source("1,2,3")
    (('-', '2'), (None, None))
    """
    if source == STDIN or exists(source):
        return source, None
    path, colon, column = source.rpartition(":")
    if colon and column and (path == STDIN or exists(path)):
        return path, column
    return None, None


def exists(path: str) -> bool:
    """Whether a path names something on disk; text too long to be a path names nothing.

    >>> exists(os.devnull), exists("1,2,3"), exists("7" * 100_000)
    (True, False, False)
    """
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
            file = open(path, "rb")  # noqa: SIM115 (closed below)
        with file, _read_errors(path):
            yield file, path
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

    def piece_size(self) -> int:
        """Bytes to read next: a large piece if the memory available takes one, else a
        small one."""
        from convcli.cli import limits

        fits = limits.usable_memory(self._needed(_LARGE_CHUNK), self.kept) is None
        return _LARGE_CHUNK if fits else _CHUNK

    def _needed(self, text: int) -> int:
        """Bytes that parsing ``text`` bytes and joining the values take."""
        return self.kept + 4 * text + _READ_WORK

    def check(self, text: int, needed: int | None = None, piece: int = _CHUNK) -> None:
        """Refuse if the values kept and ``text`` bytes read and not yet parsed (asked for
        in pieces of ``piece`` bytes) leave too little room: ``needed`` more bytes, by
        default parsing the text and joining the values."""
        from convcli.cli import limits

        needed = self._needed(text) if needed is None else needed
        usable = limits.usable_memory(needed, self.kept + text)
        if usable is None:
            return
        what = f"the {self.role} ({self.name})"
        line = self.streaming or text > 2 * piece  # longer than a piece and its last line
        if line:
            what = f"a line of {what}"
        raise InputTooLarge(
            f"{what} is larger than the memory available ({limits.human_bytes(usable)})",
            self.role,
            self.streamable and not line,
        )


def _next_chunk(stream: BinaryIO, size: int, guard: _ReadGuard) -> bytes:
    """About ``size`` bytes of a stream, up to the end of a line (b"" at the end).

    A long line is read a piece at a time, checked against the memory available, and
    no further than a NUL byte (binary data, which the CSV reader refuses).
    """
    pieces = [stream.read(size)]
    read = len(pieces[0])
    guard.check(read, piece=size)
    while pieces[-1] and not pieces[-1].endswith(b"\n") and b"\x00" not in pieces[-1]:
        pieces.append(stream.readline(_CHUNK))
        read += len(pieces[-1])
        guard.check(read, piece=size)
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
    name, role = guard.name, guard.role
    header = npy.read_header(first)
    if header is None:  # np.load says what is wrong
        return npy.load(first + _read_rest(stream, guard, len(first)), name, role)
    on_disk = _regular_file_size(stream)
    if on_disk is not None and on_disk < header.size:
        raise InputError(
            f"{name} is truncated or corrupt: its header declares {header.count} values of "
            f"{header.dtype} ({header.size} bytes with the header) but the file has "
            f"{on_disk} bytes"
        )
    guard.streamable = len(header.shape) == 1
    guard.check(len(first), header.size - len(first) + header.conversion_bytes)
    data = first[: header.size] + _read_rest(stream, guard, len(first), header.size)
    return npy.decode(data, header, name, role)


def _regular_file_size(stream: BinaryIO) -> int | None:
    """The size of the regular file a stream reads; None for a pipe or a device."""
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


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
    path, column = split_source(source)
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
        if first.startswith(npy.NPY_MAGIC):
            guard.streaming = False  # read whole
            values = _read_npy(stream, first, guard)
            yield _one_dimensional(values, name), values.nbytes
            return
        reader = CsvReader(delimiter, column, name, decimal)
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
                    raise _switch_error(reader, pending, chunk, lines_before, kind)
                seen += len(values)
                yield values.astype(kind, copy=False), read
            if not chunk:
                return
            chunk = _next_chunk(stream, block_size * max(1, -(-read // max(seen, 1))), guard)


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
    if array.dtype.kind == "u" and array.max() > np.iinfo(np.int64).max:
        raise InputError(f"{path} holds integers beyond int64; --stream cannot keep them exact")
    total = os.path.getsize(path)
    for start in range(0, len(array), block_size):
        block = as_numeric(np.asarray(array[start : start + block_size]), "signal")
        yield block, total - array.nbytes + array.itemsize * (start + len(block))


def _switch_error(
    reader: CsvReader, pending: str, chunk: bytes, lines_before: int, kind: np.dtype
) -> InputError:
    """The error for a number wider than the first block's type (a decimal after integers,
    say) in ``chunk`` (after the ``pending`` text of an open record), naming its line."""
    line, cell, wider, narrower = reader.wider_cell(pending, chunk, lines_before, kind)
    return InputError(
        f"{reader.name}, line {line}: {excerpt(cell, quote=False)} is a {wider}, but --stream "
        f"already wrote the numbers before it as {narrower}s; write every number as a {wider} "
        "or run without --stream"
    )


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


def stdin_is_terminal() -> bool:
    """Whether standard input is a terminal (someone who can press a key)."""
    return sys.stdin is not None and sys.stdin.isatty()


def source_size(source: str) -> int | None:
    """The size in bytes of the file a SIGNAL argument names; None for stdin or inline numbers.

    >>> source_size("-") is None, source_size("1,2,3") is None
    (True, True)
    """
    path, _ = split_source(source)
    if path is None or path == STDIN:
        return None
    return os.path.getsize(path)
