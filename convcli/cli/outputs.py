"""Where results go: standard output, or the -o file written as the shell's ``>`` would.

A regular file is replaced atomically (a temporary file beside it, renamed into place
at the end, removed on any error or stopping signal), so it holds all of the output or
what it held before; devices, FIFOs and the shell's descriptors (``/dev/stdout``) are
written into. A reader of standard output that goes early (``| head``) ends the command
quietly. Errors writing either become one-line OutputErrors naming the file.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO

from convcli.cli.inputs import STDIN, exists, split_source
from convcli.cli.signals import stop_if_signalled
from convcli.errors import InputError, OutputError

if TYPE_CHECKING:
    from convcli.formats.serialise import Piece

__all__ = [
    "FORMATS",
    "check_output_folder",
    "choose_format",
    "comparison_png_names",
    "discard_stdout",
    "drop_messages_if_stderr_closed",
    "names_a_file",
    "output_file",
    "output_sink",
    "overwritten_input",
    "standard_output",
    "standard_output_errors",
    "stderr_is_terminal",
    "stdout_is_terminal",
    "write_bytes",
    "write_text",
]

#: What --format may ask of the commands that write results.
FORMATS = ("auto", "table", "csv", "json", "png", "npy")

#: Output formats a -o file's extension asks for (anything else is the command's plain text).
_FORMATS_BY_SUFFIX = {
    ".json": "json",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".svg": "svg",
    ".pdf": "pdf",
    ".npy": "npy",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".tex": "latex",
    ".gif": "gif",
    ".mp4": "mp4",
}
#: Formats of binary data, refused on a terminal.
_BINARY_FORMATS = ("npy", "gif")
#: Characters encoded at a time by output_sink.
_WRITE_PIECE = 1 << 20


def output_file(output: str | None) -> str | None:
    """The file an -o value names; None for standard output (no -o at all, or ``-o -``).

    >>> output_file("out.csv"), output_file("-"), output_file(None)
    ('out.csv', None, None)
    """
    return None if output == STDIN else output


def choose_format(
    requested: str,
    output: str | None,
    interactive: bool | None = None,
    screen: str = "table",
    plain: str = "csv",
) -> str:
    """Resolve ``--format auto``: by a ``-o`` file's extension (.json, .npy, ...), else
    ``screen`` on a terminal and ``plain`` in a pipe or another file.

    NPY and GIF are binary, so they are refused on a terminal (give ``-o FILE.npy`` or
    redirect).

    >>> choose_format("auto", "out.json", True), choose_format("auto", None, False)
    ('json', 'csv')
    """
    path = output_file(output)
    if path is not None:
        chosen = requested
        if requested == "auto":
            chosen = _FORMATS_BY_SUFFIX.get(os.path.splitext(path)[1].lower(), plain)
        return chosen
    if interactive is None:
        interactive = stdout_is_terminal()
    if requested == "auto":
        return screen if interactive else plain
    if requested in _BINARY_FORMATS and interactive:
        raise InputError(
            f"{requested.upper()} is binary data, not for a terminal; write it to a file with "
            f"-o FILE.{requested} or redirect standard output to one"
        )
    return requested


def stdout_is_terminal() -> bool:
    """Whether standard output is a terminal (where tables and animations make sense)."""
    return sys.stdout is not None and sys.stdout.isatty()


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


def check_output_folder(output: str | None) -> None:
    """Refuse, before any input is read, an output file whose folder does not exist (or is
    not a folder), as the shell's ``>`` would refuse it."""
    path = output_file(output)
    if path is None or exists(path):
        return
    folder = os.path.dirname(path) or "."
    try:
        if os.path.isdir(folder):
            return
        os.stat(folder)
        problem = os.strerror(errno.ENOTDIR)
    except OSError as error:
        problem = error.strerror or str(error)
    raise OutputError(f"cannot write to {path}: {problem}")


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


def write_text(text: str | bytes | Iterable[Piece], output: str | None) -> None:
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
    path = output_file(output)
    if path is None or not exists(path):
        return None
    for role, source in sources.items():
        read = None if source is None else split_source(source)[0]
        if read is not None and read != STDIN:
            with suppress(OSError):
                if os.path.samefile(read, path):
                    return role
    return None


@contextmanager
def output_sink(output: str | None) -> Iterator[Callable[[Piece], None]]:
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
    path = output_file(output)
    if path is not None:
        with _output_file(path) as write_raw:

            def write_file(text: Piece) -> None:
                if isinstance(text, bytes):
                    write_raw(text)
                elif isinstance(text, str):
                    for piece in _pieces(text):
                        write_raw(piece.encode("utf-8"))
                else:
                    _write_in_thread(text, write_raw)

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

    def write_bytes(data: bytes) -> None:
        stop_if_signalled()
        guarded(lambda: stdout.buffer.write(data))

    def write(text: Piece) -> None:
        stop_if_signalled()
        if isinstance(text, str):
            for piece in _pieces(text):
                guarded(partial(stdout.write, piece))
            return
        guarded(stdout.flush)
        if isinstance(text, bytes):
            write_bytes(text)
        else:
            _write_in_thread(text, write_bytes)

    try:
        yield write
        guarded(stdout.flush)
    except BrokenPipeError:
        if not closed:
            raise
        discard_stdout()


def _write_in_thread(
    piece: Callable[[Callable[[bytes], None]], None], write: Callable[[bytes], None]
) -> None:
    """Have a piece that writes itself (polars' rows, which polars' threads hand to the
    function they are given) write into a thread of its own, and ``write`` what it hands
    over here, in the main thread: a signal, a closed pipe or a full disk then stops the
    run at once, as anywhere else, even while a write is blocked on a reader that has
    stopped reading."""
    import queue
    import threading

    handoff: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=4)
    stop = threading.Event()  # this thread has stopped taking pieces: so does the writer

    def offer(item: bytes | BaseException | None) -> None:
        while not stop.is_set():
            with suppress(queue.Full):
                handoff.put(item, timeout=0.1)
                return
        raise _Abandoned

    def produce() -> None:
        try:
            piece(offer)
            offer(None)
        except _Abandoned:
            return
        except BaseException as error:  # raised again in the main thread, in its place
            with suppress(_Abandoned):
                offer(error)

    writer = threading.Thread(target=produce, name="convcli-write", daemon=True)
    _writers[:] = [*filter(threading.Thread.is_alive, _writers), writer]
    writer.start()
    try:
        while (item := handoff.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            write(item)
    finally:
        stop.set()
        writer.join(timeout=1)  # it stops at its next piece, well within a second


class _Abandoned(Exception):
    """The main thread stopped taking what a writing thread hands over."""


#: _write_in_thread's threads that were running when the last one started, and that one.
_writers: list[Any] = []


def background_writer_alive() -> bool:
    """Whether a _write_in_thread thread is still in polars' writer (it did not stop when
    the run did). Python cannot then shut down normally: polars' threads would call back
    into an interpreter that is going away, which aborts the process.

    >>> background_writer_alive()
    False
    """
    return any(writer.is_alive() for writer in _writers)


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


def _pieces(text: str) -> Iterator[str]:
    """Long text in pieces of a mebibyte, so that it is never encoded all at once."""
    if len(text) <= _WRITE_PIECE:
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
                    stop_if_signalled()
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


def _current_umask() -> int:
    """The process umask (read by setting and restoring it), so new files get the usual mode."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def _descriptor_writer(
    descriptor: int, output: str, sync: bool = False
) -> Iterator[Callable[[bytes], None]]:
    """A function writing bytes to the open ``descriptor`` (closed at the end), synced to
    the disk at the end of the ``with`` block if ``sync``."""

    def write(data: bytes) -> None:
        stop_if_signalled()
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
