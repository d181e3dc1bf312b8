"""Text and files in and out: reading SIGNAL/KERNEL arguments, writing CSV and JSON.

This is the only module that touches files and streams. Reading keeps integers
exact (int64) and floats and complex numbers exactly as written; writing uses
the shortest text that reads back to the same value, so a CSV written here and
read again gives the same array, bit for bit.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from convcli.engine import Comparison, Result
from convcli.errors import InputError

if TYPE_CHECKING:  # annotations only: json, pathlib, tempfile, gradients, images, kernels
    # and steps are imported where they are used, to keep start-up fast
    from convcli.gradients import Backward
    from convcli.kernels import KernelInfo
    from convcli.steps import Explanation, Step

__all__ = [
    "FORMATS",
    "backward_json",
    "choose_format",
    "comparison_csv",
    "comparison_json",
    "comparison_png",
    "explanations_json",
    "format_number",
    "kernels_json",
    "parse_delimiter",
    "parse_numbers",
    "read_array",
    "read_kernel",
    "result_csv",
    "result_json",
    "result_png",
    "stdin_is_terminal",
    "stdout_is_terminal",
    "uses_stdin",
    "write_bytes",
    "write_text",
]

FORMATS = ("auto", "table", "csv", "json", "png")
STDIN = "-"
#: Output formats a -o file's extension asks for (anything else is the command's plain text).
_FORMATS_BY_SUFFIX = {
    ".json": "json",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".svg": "svg",
    ".pdf": "pdf",
}
_DELIMITER_NAMES = {"comma": ",", "tab": "\t", "semicolon": ";", "space": None, "whitespace": None}
_INT64 = np.iinfo(np.int64)
_HAS_MAGNITUDE = re.compile(r"\d|inf|nan", re.IGNORECASE)
_LOOKS_LIKE_PATH = re.compile(r"[/\\]|\.[A-Za-z]\w*$")
_BARE_WORD = re.compile(r"[A-Za-z][^\s,;\[\]]*")


@dataclass(frozen=True)
class _Table:
    """Numeric cells of a CSV text, with their line numbers and optional header."""

    header: list[str] | None
    rows: list[list[str]]
    line_numbers: list[int]


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
) -> np.ndarray:
    """Read a SIGNAL or KERNEL argument: a CSV file, ``FILE:COLUMN``, ``-`` (stdin) or inline numbers.

    A file path wins over inline numbers. One row or one column is 1-D; more
    rows and columns are 2-D. A .png or .jpg file is read as a grayscale 2-D
    signal (with the ``plot`` extra). ``role`` names the argument in error messages.

    >>> read_array("2,1,3,5,4")
    array([2, 1, 3, 5, 4])
    >>> read_array("[[1, 2.5], [3, 4]]")
    array([[1. , 2.5],
           [3. , 4. ]])
    """
    path, column = _split_column(source)
    if path is None:
        return _parse_inline(source, role)
    data, name = _read_source_bytes(path, role, stdin)
    from convcli.images import decode_image, is_image_name

    if column is None and is_image_name(path):
        return decode_image(data, name)
    table = _split_csv(_decode_text(data, name), delimiter, name)
    _check_widths(table, name)
    if column is not None:
        index = _column_index(table, column, name)
        cells = [row[index] for row in table.rows]
        positions = [(line, index + 1) for line in table.line_numbers]
        return parse_numbers(cells, positions, name)
    return _to_array(table, name)


def read_kernel(
    source: str,
    signal_ndim: int,
    delimiter: str | None = ",",
    stdin: BinaryIO | None = None,
) -> np.ndarray:
    """Read a KERNEL argument: a file (``FILE:COLUMN``, ``-``), a kernel name, or inline numbers.

    In that order: a file path always wins over a kernel name, and a name over
    numbers. Names (``box:3``, ``sobel-x``, ...; see :mod:`convcli.kernels`)
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
    # Every kernel name starts with a letter: numbers need no look-up (nor convcli.kernels).
    if text[:1].isalpha() and _split_column(source)[0] is None:
        from convcli.kernels import kernel_names, named_kernel

        kernel = named_kernel(source, signal_ndim)
        if kernel is not None:
            return kernel
        if (
            _BARE_WORD.fullmatch(text)
            and not _is_number(text)
            and not _LOOKS_LIKE_PATH.search(text)
        ):
            raise InputError(
                f"the kernel {source!r} is not a file, a kernel name or numbers; "
                f"kernels: {', '.join(kernel_names())}"
            )
    return read_array(source, "kernel", delimiter, stdin)


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


def _read_source_bytes(path: str, role: str, stdin: BinaryIO | None) -> tuple[bytes, str]:
    """The bytes of a file or of standard input, and the name to use in messages."""
    if path == STDIN:
        stream = stdin if stdin is not None else sys.stdin.buffer
        if stream.isatty():
            raise InputError(
                f"the {role} is '-' but standard input is a terminal; pipe data in or give a file"
            )
        data = stream.read()
        name = "standard input"
    else:
        if os.path.isdir(path):
            raise InputError(f"{path} is a directory, not a file of numbers")
        try:
            with open(path, "rb") as stream:
                data = stream.read()
        except OSError as error:
            raise InputError(f"cannot read {path}: {error.strerror or error}") from None
        name = path
    return data, name


def _decode_text(data: bytes, name: str) -> str:
    """CSV bytes as text: BOM removed, UTF-8 or else Latin-1; binary data refused."""
    if b"\x00" in data:
        raise InputError(f"{name} looks like a binary file, not CSV text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _split_cells(line: str, delimiter: str | None) -> list[str]:
    """The cells of one line, stripped of spaces and of surrounding double quotes."""
    cells = [cell.strip().strip('"').strip() for cell in line.split(delimiter)]
    if len(cells) > 1 and cells[-1] == "" and delimiter is not None:
        cells.pop()  # a trailing delimiter, as some spreadsheets write
    return cells


def _split_csv(text: str, delimiter: str | None, name: str) -> _Table:
    """Cells of every non-blank, non-comment line, with the header split off if there is one."""
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            rows.append(_split_cells(stripped, delimiter))
            line_numbers.append(number)
    if not rows:
        raise InputError(f"{name} has no numbers (it is empty or only blank and comment lines)")
    header = None
    if not any(_is_number(cell) for cell in rows[0]):
        header = rows.pop(0)
        line_numbers.pop(0)
        if not rows:
            raise InputError(f"{name} has a header but no rows of numbers")
    return _Table(header, rows, line_numbers)


def _column_index(table: _Table, column: str, name: str) -> int:
    """0-based index of a column given by header name (exact, then any case) or 1-based number."""
    width = len(table.rows[0])
    if table.header is not None:
        if column in table.header:
            return table.header.index(column)
        lowered = [cell.lower() for cell in table.header]
        if column.lower() in lowered:
            return lowered.index(column.lower())
    if column.isdigit() and 1 <= int(column) <= width:
        return int(column) - 1
    known = f"its columns are {', '.join(table.header)}" if table.header else f"it has {width}"
    raise InputError(f"no column {column!r} in {name}; {known} (give a name or a number from 1)")


def _check_widths(table: _Table, name: str) -> None:
    """Refuse ragged rows, naming the first row whose length differs from the first's."""
    width = len(table.rows[0])
    for row, line in zip(table.rows, table.line_numbers):
        if len(row) != width:
            raise InputError(
                f"{name}, line {line} has {len(row)} value(s) but line "
                f"{table.line_numbers[0]} has {width} (rows must all be the same length)"
            )


def _to_array(table: _Table, name: str) -> np.ndarray:
    """All cells as a 1-D array (one row or one column) or a 2-D one."""
    width = len(table.rows[0])
    cells = [cell for row in table.rows for cell in row]
    positions = [(line, column) for line in table.line_numbers for column in range(1, width + 1)]
    values = parse_numbers(cells, positions, name)
    if len(table.rows) == 1 or width == 1:
        return values
    return values.reshape(len(table.rows), width)


def _parse_inline(source: str, role: str) -> np.ndarray:
    """Numbers typed on the command line: ``2,1,3``, ``"2 1 3"``, ``[2, 1, 3]``, ``"1,2;3,4"``, ``[[1,2],[3,4]]``."""
    text = source.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()
        if text.startswith("[") and text.endswith("]"):
            text = re.sub(r"\]\s*,?\s*\[", ";", text[1:-1])
    rows = [row.strip() for row in re.split(r"[;\n]", text)]
    rows = [re.split(r"[,\s]+", row) for row in rows if row]
    if not rows or not all(all(_is_number(cell) for cell in row) for row in rows):
        if _LOOKS_LIKE_PATH.search(source) or not rows:
            raise InputError(f"no such file: {source} (the {role} is neither a file nor numbers)")
        bad = next(cell for row in rows for cell in row if not _is_number(cell))
        raise InputError(
            f"the {role} {source!r} is not a file, and {bad!r} is not a number "
            '(give a CSV file, - for standard input, or numbers like 2,1,3 or "1,2;3,4")'
        )
    table = _Table(None, rows, list(range(1, len(rows) + 1)))
    _check_widths(table, f"the {role} {source!r}")
    return _to_array(table, f"the {role} {source!r}")


def _as_complex_text(cell: str) -> str:
    """MATLAB's ``2+3i`` written as Python's ``2+3j``; other text unchanged."""
    if cell[-1:] in ("i", "I") and not cell.lower().endswith("inf"):
        return cell[:-1] + "j"
    return cell


def _parse_cell(cell: str) -> int | float | complex:
    """One number: an int if it is written as one, else a float, else a complex.

    A lone ``j`` or ``i`` is a column name, not the imaginary unit.
    """
    for parse in (int, float):
        try:
            return parse(cell)
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


def _is_number(cell: str) -> bool:
    """Whether a cell reads as a number."""
    try:
        _parse_cell(cell)
    except ValueError:
        return False
    return True


def parse_numbers(
    cells: list[str], positions: list[tuple[int, int]], name: str = "input"
) -> np.ndarray:
    """Cells as one array: int64 if all are integers, else float64, else complex128.

    ``positions`` gives each cell's (line, column) for error messages.

    >>> parse_numbers(["1", "-2"], [(1, 1), (2, 1)])
    array([ 1, -2])
    >>> parse_numbers(["1", "2.5", "1+2i"], [(1, 1), (2, 1), (3, 1)])
    array([1. +0.j, 2.5+0.j, 1. +2.j])
    """
    values = []
    for cell, (line, column) in zip(cells, positions):
        try:
            value = _parse_cell(cell)
        except ValueError:
            shown = f"{cell!r} is not a number" if cell else "the cell is empty"
            raise InputError(f"{name}, line {line}, column {column}: {shown}") from None
        if isinstance(value, int) and not _INT64.min <= value <= _INT64.max:
            raise InputError(
                f"{name}, line {line}, column {column}: {cell} does not fit in a 64-bit integer; "
                "write it as a float (e.g. 1e20) to compute approximately"
            )
        if not isinstance(value, int) and _overflowed(cell, value):
            raise InputError(
                f"{name}, line {line}, column {column}: {cell} overflows a 64-bit float"
            )
        values.append(value)
    kinds = {type(value) for value in values}
    dtype = np.complex128 if complex in kinds else np.float64 if float in kinds else np.int64
    return np.array(values, dtype=dtype)


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

    >>> print(result_csv(np.array([[1, 2], [3, 4]])), end="")
    1,2
    3,4
    """
    rows = values.reshape(values.shape[0], -1).tolist()
    return "".join(",".join(map(format_number, row)) + "\n" for row in rows)


def comparison_csv(comparison: Comparison) -> str:
    """CSV of a comparison: ``index,convolution,correlation`` (2-D: ``row,col,...``).

    >>> from convcli.engine import compare
    >>> print(comparison_csv(compare([2, 1, 3], [1, -1])), end="")
    index,convolution,correlation
    0,-1,1
    1,2,-2
    """
    convolution, correlation = comparison.convolution, comparison.correlation
    axes = (
        ["index"]
        if convolution.ndim == 1
        else ["row", "col", *map("axis{}".format, range(2, convolution.ndim))]
    )
    lines = [",".join([*axes, "convolution", "correlation"])]
    pairs = zip(convolution.reshape(-1).tolist(), correlation.reshape(-1).tolist())
    for position, pair in zip(np.ndindex(convolution.shape), pairs):
        lines.append(",".join([*map(str, position), *map(format_number, pair)]))
    return "\n".join(lines) + "\n"


def explanations_json(explanations: list[Explanation]) -> str:
    """JSON of ``explain``: every step's cells, values, products and result, per operation."""
    first = explanations[0].setup
    document = {
        "signal": _array_json(first.signal),
        "kernel": _array_json(first.kernel),
        "options": _options_json(explanations[0]),
        "operations": [
            {
                "operation": explanation.operation,
                "weights": _array_json(explanation.setup.weights),
                "output": _array_json(explanation.output),
                "steps": [_step_json(explanation.step(p)) for p in explanation.positions()],
            }
            for explanation in explanations
        ],
    }
    return _json_text(document)


def _step_json(step: Step) -> dict[str, Any]:
    """One step's terms: the signal cells read (padding marked), values, products, result."""
    return {
        "index": list(step.position),
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
    return _json_text(document)


def _json_text(document: Any) -> str:
    """A JSON document as one line of text (no nan or inf: _json_ready spells them out)."""
    import json

    return json.dumps(document, allow_nan=False) + "\n"


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
    return options


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
    return _json_text(document)


def result_json(result: Result) -> str:
    """JSON of one result: the operation, its values, their shape and the options used."""
    document = {
        "operation": result.operation,
        "shape": list(result.values.shape),
        "result": _array_json(result.values),
        "options": _options_json(result),
    }
    return _json_text(document)


def comparison_json(comparison: Comparison) -> str:
    """JSON of a comparison: both results, the verdict, the inputs and the options used."""
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
        "options": _options_json(comparison),
    }
    return _json_text(document)


def choose_format(
    requested: str,
    output: str | None,
    interactive: bool | None = None,
    screen: str = "table",
    plain: str = "csv",
) -> str:
    """Resolve ``--format auto``: JSON for a ``-o`` file ending in .json, ``screen`` on a
    terminal, ``plain`` in a pipe or another file.

    >>> choose_format("auto", "out.json", True), choose_format("auto", None, False)
    ('json', 'csv')
    """
    if requested != "auto":
        return requested
    if output is not None:
        from pathlib import Path

        suffix = Path(output).suffix.lower()
        return _FORMATS_BY_SUFFIX.get(suffix, plain)
    if interactive is None:
        interactive = stdout_is_terminal()
    return screen if interactive else plain


def stdout_is_terminal() -> bool:
    """Whether standard output is a terminal (where tables and animations make sense)."""
    return sys.stdout.isatty()


def stdin_is_terminal() -> bool:
    """Whether standard input is a terminal (someone who can press a key)."""
    return sys.stdin.isatty()


def _current_umask() -> int:
    """The process umask (read by setting and restoring it), so new files get the usual mode."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def result_png(values: np.ndarray) -> bytes:
    """A 2-D result as an 8-bit grayscale PNG, its values min-max scaled to 0..255."""
    from convcli.images import encode_png

    return encode_png(values)


def comparison_png(comparison: Comparison) -> bytes:
    """Both 2-D results in one grayscale PNG, convolution left and correlation right,
    on one shared scale with a black column between them."""
    from convcli.images import encode_png

    convolution, correlation = comparison.convolution, comparison.correlation
    if convolution.ndim != 2:
        return encode_png(convolution)  # refused there with the reason
    gap = np.full((convolution.shape[0], 1), np.nan)
    return encode_png(np.hstack([convolution.astype(float), gap, correlation.astype(float)]))


def write_text(text: str | bytes, output: str | None) -> None:
    """Write to standard output, or atomically to a file: all of it or, on any error, nothing."""
    if output is None or output == STDIN:
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        return
    write_bytes(text.encode("utf-8") if isinstance(text, str) else text, output)


def write_bytes(data: bytes, output: str) -> None:
    """Write a file atomically (a temporary file renamed into place), with the usual mode."""
    import tempfile
    from pathlib import Path

    target = Path(output)
    if target.is_dir():
        raise InputError(f"cannot write to {output}: it is a directory")
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise InputError(f"cannot write to {output}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
