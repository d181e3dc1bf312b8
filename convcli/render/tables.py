"""Everything rich: results and comparisons as tables, with the kernel flip and the verdict.

Functions here take finished results (arrays and the engine's dataclasses) and
return renderables; nothing is computed. Colour and width are rich's to decide,
so NO_COLOR, COLUMNS and non-terminal output behave as in any rich program.
Long results show their first and last rows (and columns) unless ``show_all``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from copy import copy
from dataclasses import dataclass, replace
from io import StringIO
from typing import TYPE_CHECKING, TextIO

import numpy as np
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment, Segments
from rich.table import Column, Table
from rich.text import Text

from convcli.render import glyphs

if TYPE_CHECKING:  # for annotations only: importing gradients or kernels would slow start-up
    from rich.columns import Columns

    from convcli.analysis.conventions import Lineup, Row
    from convcli.analysis.gradients import Backward
    from convcli.analysis.kernels import KernelInfo
    from convcli.analysis.xcorr import Delay
    from convcli.engine.core import Comparison, Result
    from convcli.engine.geometry import Geometry
    from convcli.options import Pads

__all__ = [
    "HEADINGS",
    "NAMES",
    "PIECE_ROWS",
    "Display",
    "RowsByPiece",
    "Shown",
    "aligned",
    "array_view",
    "as_rows",
    "backward_view",
    "comparison_view",
    "delay_meaning",
    "delay_view",
    "display_options",
    "format_cell",
    "glyph",
    "heading",
    "indexed_table",
    "kernels_view",
    "lineup_view",
    "options_line",
    "print_view",
    "result_view",
    "shown",
    "side_by_side",
    "symmetry_line",
    "verdict_line",
    "view_text",
]

_SHOWN_SIGNAL_SIZE = 64
_SHOWN_ROWS = 40
_SHOWN_MATRIX_ROWS = 16
_SHOWN_COLUMNS = 12
_LABEL_LENGTH = 40
_SPARKS = "▁▂▃▄▅▆▇█"
_SPARK_WIDTH = 64
_SHADES = "·░▒▓█"
_HEAT_MAP_SIZE = 24
_FILE_WIDTH = 100
_UNWRAPPED_WIDTH = 10_000
_RELATION_MARKS = {
    "both": ("±", "cyan"),
    "equal": ("=", "green"),
    "opposite": ("-", "yellow"),
    "different": ("≠", "red"),
}
_RELATIONS = {
    (True, True): "both",
    (True, False): "equal",
    (False, True): "opposite",
    (False, False): "different",
}
#: The letter of each operation's output in the worked sums: g = f * h, r = f ⋆ h.
NAMES = {"convolution": "g", "correlation": "r"}
#: What each operation does, as the worked sums' headings say it.
HEADINGS = {
    "convolution": "convolution g = f * h: flip h, slide it over f, multiply and add",
    "correlation": "correlation r = f ⋆ h: slide h as given over f, multiply and add",
}
PIECE_ROWS = 1000  # longer tables are drawn in pieces (see RowsByPiece)
_VERDICTS = {
    "symmetric": "[bold green]symmetric kernel[/]: flip(h) = {h}, so convolution = correlation "
    "for every signal",
    "antisymmetric": "[bold yellow]antisymmetric kernel[/]: flip(h) = -{h}, so convolution = "
    "-correlation for every signal",
    "none": "[bold red]kernel symmetry: none[/]: flip(h) ≠ ±{h}",
}

#: Index positions to show along one axis; None marks the gap where the middle is left out.
Shown = list[int | None]
#: The lags of a result's outputs, one array per axis (see convcli.analysis.xcorr.geometry_lags).
Lags = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Display:
    """How views show numbers and glyphs: ``digits`` significant digits for numbers that
    are not whole, and ASCII stand-ins for glyphs the output stream cannot encode."""

    digits: int = 6
    ascii: bool = False


_DISPLAY: ContextVar[Display] = ContextVar("convcli_display", default=Display())  # noqa: B039 (frozen)


@contextmanager
def display_options(digits: int | None = None, ascii: bool | None = None) -> Iterator[Display]:
    """Views built inside use these options (as numpy's ``printoptions``); None keeps one."""
    current = _DISPLAY.get()
    if digits is not None:
        current = replace(current, digits=digits)
    if ascii is not None:
        current = replace(current, ascii=ascii)
    token = _DISPLAY.set(current)
    try:
        yield current
    finally:
        _DISPLAY.reset(token)


def glyph(text: str) -> str:
    """The text as the current display can show it: its glyphs in ASCII where it must."""
    return glyphs.ascii_text(text) if _DISPLAY.get().ascii else text


def _number(value: float, digits: int) -> str:
    """A float rounded to ``digits`` significant digits; whole numbers (below 2**53) in full."""
    value += 0.0  # turns -0 into 0
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return f"{value:.{digits}g}"


def format_cell(value: object) -> str:
    """A number as a person reads it: integers in full, other numbers rounded to the
    display's significant digits (6 unless ``--digits`` says otherwise).

    >>> format_cell(np.int64(-3)), format_cell(0.1 + 0.2), format_cell(complex(1, -0.5))
    ('-3', '0.3', '1-0.5j')
    >>> format_cell(2 / 3), format_cell(1e15), format_cell(float("nan"))
    ('0.666667', '1000000000000000', 'nan')
    """
    digits = _DISPLAY.get().digits
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (complex, np.complexfloating)):
        imaginary = _number(float(value.imag), digits)
        sign = "" if imaginary[0] in "-n" else "+"
        return f"{_number(float(value.real), digits)}{sign}{imaginary}j"
    if isinstance(value, (float, np.floating)):
        return _number(float(value), digits)
    return f"{value:.{digits}g}"


def aligned(cells: list[str]) -> list[str]:
    """A column of numbers padded on the right so that their decimal points line up when
    right-aligned (complex numbers are left as they are).

    >>> aligned(["1.5", "-20", "0.25", "1e-07"])
    ['1.5  ', '-20    ', '0.25 ', '1e-07']
    """
    if any("j" in cell for cell in cells):
        return cells

    def split(cell: str) -> int:
        for index, char in enumerate(cell):
            if char in ".e":
                return index
        return len(cell)

    tail = max((len(cell) - split(cell) for cell in cells), default=0)
    return [cell + " " * (tail - (len(cell) - split(cell))) for cell in cells]


class _Aligned:
    """A number right-aligned in its cell with ``spaces`` after it, so that decimal points
    line up in the column; a cell too narrow for the spaces drops them, and one too narrow
    for the number folds it (rich strips trailing spaces of text it justifies)."""

    def __init__(self, number: str, spaces: int) -> None:
        self.number, self.spaces = number, spaces

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(len(self.number), len(self.number) + self.spaces)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        room = options.max_width - len(self.number)
        if room < 0:
            yield Text(self.number, overflow="fold")
            return
        spaces = min(self.spaces, room)
        yield Segment(" " * (room - spaces) + self.number + " " * spaces)
        yield Segment.line()


def _aligned_column(cells: list[str | Text]) -> list[str | Text]:
    """A column's cells, decimal points lined up (see :func:`aligned`) if all are text."""
    numbers = [cell for cell in cells if isinstance(cell, str)]
    return list(aligned(numbers)) if len(numbers) == len(cells) else cells


def _right_aligned(cell: str | Text) -> RenderableType:
    """A cell of :func:`aligned` for a right-justified column."""
    if isinstance(cell, Text):
        return cell
    number = cell.rstrip(" ")
    return _Aligned(number, len(cell) - len(number)) if number != cell else number


def shown(length: int, limit: int | None) -> Shown:
    """The first and last indices of an axis, with None for the elided middle.

    >>> shown(5, None), shown(10, 4)
    ([0, 1, 2, 3, 4], [0, 1, None, 8, 9])
    """
    if limit is None or length <= limit:
        return list(range(length))
    head = limit // 2
    return [*range(head), None, *range(length - (limit - head), length)]


def _left_out(length: int, shown: Shown, what: str) -> Text | None:
    """A dim note saying how many rows or columns were elided, or None if none were."""
    if None not in shown:
        return None
    hidden = length - (len(shown) - 1)
    return Text(f"{hidden} {what} left out in the middle; --all shows them", style="dim")


def _grid_axes(shape: tuple[int, ...], show_all: bool) -> tuple[Shown, Shown]:
    """The rows and columns a grid of this shape shows."""
    rows = shown(shape[0], None if show_all else _SHOWN_MATRIX_ROWS)
    return rows, shown(shape[1], None if show_all else _SHOWN_COLUMNS)


def _grid_note(shape: tuple[int, ...], show_all: bool) -> RenderableType:
    """What a grid of this shape leaves out, if anything."""
    rows, columns = _grid_axes(shape, show_all)
    notes = [_left_out(shape[0], rows, "rows"), _left_out(shape[1], columns, "columns")]
    return Group(*(note for note in notes if note is not None))


class _Grid:
    """A borderless grid of right-aligned cells, each column as wide as its widest cell.

    Wider than the space it is given, it folds into blocks of columns one under the
    other (headed by the columns' numbers, or by their own headings), so no number is
    ever cut; the row labels, if any, start every block.
    """

    def __init__(
        self,
        columns: list[list[str | Text]],
        keys: Shown,
        headings: list[str] | None = None,
        row_labels: list[str] | None = None,
    ) -> None:
        self.columns = columns
        self.keys = keys
        self.headings = headings
        self.row_labels = row_labels

    def _widths(self) -> tuple[int, list[int]]:
        """The width of the row labels (0 if none) and of each column, padding included."""

        def width(cells: Sequence[str | Text], heading: str = "") -> int:
            return max([len(heading), *(cell_len(str(cell)) for cell in cells)]) + 2

        label = 0 if self.row_labels is None else width(self.row_labels, "lag")
        headings = self.headings or [""] * len(self.columns)
        return label, [width(cells, head) for cells, head in zip(self.columns, headings)]

    def _table(self, chosen: list[int]) -> Table:
        table = Table(
            show_header=self.headings is not None, box=None, padding=(0, 1), header_style="dim"
        )
        if self.row_labels is not None:
            table.add_column("lag", justify="right", style="dim", no_wrap=True)
        for index in chosen:
            heading = "" if self.headings is None else self.headings[index]
            table.add_column(heading, justify="right", no_wrap=True, overflow="fold")
        for row in range(len(self.columns[0]) if self.columns else 0):
            label = [] if self.row_labels is None else [self.row_labels[row]]
            table.add_row(*label, *(_right_aligned(self.columns[index][row]) for index in chosen))
        return table

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        label, widths = self._widths()
        return Measurement(label + max(widths, default=0), label + sum(widths))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        label, widths = self._widths()
        blocks: list[list[int]] = [[]]
        used = label
        for index, width in enumerate(widths):
            if blocks[-1] and used + width > options.max_width:
                blocks.append([])
                used = label
            blocks[-1].append(index)
            used += width
        for block in blocks:
            if len(blocks) > 1 and self.headings is None:
                first, last = (self.keys[block[end]] for end in (0, -1))
                yield Text(glyph(f"columns {_key(first)} to {_key(last)}"), style="dim")
            yield self._table(block)


def _key(index: int | None) -> str:
    """An index as shown, … for the elided middle."""
    return "…" if index is None else str(index)


def _grid(
    shape: tuple[int, int],
    cell: Callable[[int, int], str | Text],
    show_all: bool,
    labels: Lags | None = None,
) -> _Grid:
    """A borderless grid of right-aligned cells (decimal points aligned in each column),
    its middle elided when large; ``labels`` (the row and column lags) head the rows and
    columns, dimmed."""
    rows, columns = _grid_axes(shape, show_all)
    gap, elided = glyph("⋮"), glyph("…")
    cells: list[list[str | Text]] = []
    for column in columns:
        texts = [
            gap if row is None else elided if column is None else cell(row, column) for row in rows
        ]
        cells.append(_aligned_column(texts))
    headings = None
    row_labels = None
    if labels is not None:
        headings = [elided if column is None else str(labels[1][column]) for column in columns]
        row_labels = [gap if row is None else str(labels[0][row]) for row in rows]
    return _Grid(cells, columns, headings, row_labels)


def as_rows(values: np.ndarray) -> np.ndarray:
    """An array of 2 or more dimensions as rows (the first axis) of flattened cells."""
    return values.reshape(values.shape[0], -1)


def array_view(
    values: np.ndarray, show_all: bool = False, lags: Lags | None = None
) -> RenderableType:
    """An array as ``[a, b, c]`` (1-D) or as a grid of rows (2-D and up; a 2-D grid
    headed by its row and column lags if given)."""
    if values.size == 0 and values.ndim > 1:
        return Text(f"[] (empty, shape {'x'.join(map(str, values.shape))})")
    if values.ndim == 1:
        return _line_view(values, show_all)
    rows = as_rows(values)
    labels = lags if lags is not None and values.ndim == 2 else None
    return _grid(rows.shape, lambda row, column: format_cell(rows[row, column]), show_all, labels)


def _line_view(values: np.ndarray, show_all: bool = False) -> Text:
    """A 1-D array as ``[a, b, c]``, its middle elided when long."""
    indices = shown(values.size, None if show_all else _SHOWN_ROWS)
    cells = (glyph("…") if index is None else format_cell(values[index]) for index in indices)
    return Text("[" + ", ".join(cells) + "]")


def _short(label: str) -> str:
    """A source label cut to a readable length (long inline numbers would fill the screen)."""
    return label if len(label) <= _LABEL_LENGTH else label[: _LABEL_LENGTH - 1] + glyph("…")


def options_line(geometry: Geometry, method: str | None = None, normalize: str = "none") -> Text:
    """One dim line naming every option that shaped the result."""
    pads = ",".join(f"{before}:{after}" for before, after in geometry.pads)
    stride = ",".join(map(str, geometry.stride))
    dilation = ",".join(map(str, geometry.dilation))
    return Text(
        glyph(
            f"padding {geometry.padding} ({pads}) · pad mode {geometry.pad_mode} · "
            f"stride {stride} · dilation {dilation}"
            + ("" if method is None else f" · method {method}")
            + ("" if normalize == "none" else f" · normalize {normalize}")
        ),
        style="dim",
    )


def indexed_table(
    columns: list[str],
    length: int,
    cells: Callable[[int], list[str | Text]],
    show_all: bool,
    lags: Lags | None = None,
    index: str = "index",
) -> Group:
    """A table with an index (or, given lags, a lag) column and one row per output, its
    middle elided when long; decimal points line up in each column of numbers. ``index``
    heads the index column."""
    table = Table()
    table.add_column(index if lags is None else "lag", justify="right", style="dim")
    for name in columns:  # a number too wide for the screen folds, never cut short
        table.add_column(name, justify="center" if not name else "right", overflow="fold")
    indices = shown(length, None if show_all else _SHOWN_ROWS)
    gap = glyph("⋮")
    rows = [[gap] * len(columns) if index is None else cells(index) for index in indices]
    aligned_columns = [
        _aligned_column([row[column] for row in rows]) for column in range(len(columns))
    ]
    for index, *row in zip(indices, *aligned_columns):
        label = gap if index is None else str(index if lags is None else lags[0][index])
        table.add_row(label, *map(_right_aligned, row))
    note = _left_out(length, indices, "rows")
    return Group(table) if note is None else Group(table, note)


def result_view(
    result: Result,
    signal_label: str,
    kernel_label: str,
    show_all: bool = False,
    lags: Lags | None = None,
) -> RenderableType:
    """One operation's output: an index (or lag) and value table (1-D) or a matrix (2-D)."""
    title = Text(
        f"{result.operation} of {_short(signal_label)} with {_short(kernel_label)}", style="bold"
    )
    values = result.values
    body: RenderableType
    if values.ndim == 1:
        body = indexed_table(
            [result.operation], values.size, lambda i: [format_cell(values[i])], show_all, lags
        )
    elif values.size == 0:
        body = array_view(values)
    else:
        body = Group(
            array_view(values, show_all, lags), _grid_note(as_rows(values).shape, show_all)
        )
    return Group(
        title,
        *_convention_lines(result),
        body,
        options_line(result.geometry, result.method, result.normalize),
    )


def _convention_lines(result: Result | Comparison) -> list[Text]:
    """For a result computed by a library's rules (convcli.analysis.conventions): each call that
    computes it there, then how the library departs from convcli here."""
    calls = getattr(result, "calls", None) or (getattr(result, "call", None),)
    if not calls[0]:
        return []
    # Only a library's results (ConventionResult, ConventionComparison) have calls and a convention.
    labels = (
        ("convolution", "correlation") if len(calls) == 2 else (getattr(result, "convention", ""),)
    )
    lines = [Text.assemble((f"{label}: ", "bold"), call) for label, call in zip(labels, calls)]
    return lines + [Text(f"note: {note}", style="dim") for note in result.notes]


def _relation(equal: bool, opposite: bool) -> Text:
    """The mark between the two results at one position: = (equal), - (negated), ± (both,
    as zeros are) or ≠."""
    mark, style = _RELATION_MARKS[_RELATIONS[bool(equal), bool(opposite)]]
    return Text(glyph(mark), style=style)


def verdict_line(comparison: Comparison) -> Text:
    """The kernel's symmetry and what it means for these results.

    >>> from convcli.engine.core import compare
    >>> verdict_line(compare([2, 1, 3], [1, 1])).plain  # doctest: +ELLIPSIS
    'symmetric kernel: flip(h) = h, ...; the results are identical at all 2 positions'
    """
    line = symmetry_line(comparison.kernel_symmetry, conjugated=comparison.kernel.dtype.kind == "c")
    total = comparison.equal.size
    if comparison.identical:
        line.append(f"; the results are identical at all {total} positions")
    elif comparison.negated:
        line.append(f"; the results are negatives of each other at all {total} positions")
    else:
        line.append(f"; the results differ at {comparison.differing} of {total} positions")
    return line


def symmetry_line(symmetry: str, kernel: str = "h", conjugated: bool = False) -> Text:
    """compare's verdict on a kernel's symmetry, styled: ``kernel`` names the kernel and
    ``conjugated`` says the comparison is with its conjugate (complex kernels).

    >>> symmetry_line("antisymmetric", "w[0,1]").plain  # doctest: +ELLIPSIS
    'antisymmetric kernel: flip(w[0,1]) = -w[0,1], so convolution = -correlation for every...'
    """
    other = f"conj({kernel})" if conjugated else kernel
    verdict = _VERDICTS[symmetry].replace("flip(h)", f"flip({kernel})").format(h=other)
    return Text.from_markup(glyph(verdict), emoji=False)


def side_by_side(*panes: tuple[str, RenderableType]) -> Columns:
    """Renderables in a row, each under a bold heading; they wrap when the row is too wide."""
    from rich.columns import Columns  # only 2-D views need it

    return Columns(
        [Group(Text(heading, style="bold"), pane) for heading, pane in panes], padding=(0, 4)
    )


def _signal_view(comparison: Comparison, signal_label: str) -> RenderableType:
    """The signal itself when it is small, else its source and shape."""
    if comparison.signal.size <= _SHOWN_SIGNAL_SIZE:
        return array_view(comparison.signal)
    shape = "x".join(map(str, comparison.signal.shape))
    return Text(f"{_short(signal_label)} ({shape} values)")


def _inputs_view(comparison: Comparison, signal_label: str) -> RenderableType:
    """The signal, the kernel as correlation slides it, and the flipped kernel convolution
    slides (or, for a library whose "convolution" does not flip, would slide)."""
    complex_kernel = comparison.kernel.dtype.kind == "c"
    conjugated = "conj(h)" if complex_kernel else "h as given"
    signal, kernel = _signal_view(comparison, signal_label), array_view(comparison.kernel)
    flipped = array_view(comparison.flipped_kernel)
    unflipped = bool(getattr(comparison, "verdict", ""))  # torch's and tensorflow's "conv"
    if comparison.kernel.ndim == 1:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column(overflow="fold")  # a number too long for the screen folds, uncut
        grid.add_column(style="dim")
        grid.add_row("f", signal, Text(_short(signal_label)))
        if unflipped:
            grid.add_row("h", kernel, "both columns slide h as given")
            grid.add_row("flip(h)", flipped, "what a true convolution slides; unused here")
        else:
            grid.add_row("h", kernel, f"correlation slides {conjugated}")
            grid.add_row("flip(h)", flipped, "convolution slides the flipped kernel")
        return grid
    if unflipped:
        headings = ("h (both columns)", "flip(h) (a true convolution; unused here)")
    else:
        correlation = "h (correlation conjugates it)" if complex_kernel else "h (correlation)"
        headings = (correlation, "flip(h) (convolution)")
    return side_by_side(("f", signal), (headings[0], kernel), (headings[1], flipped))


def _results_view(comparison: Comparison, show_all: bool, lags: Lags | None) -> RenderableType:
    """The two results side by side: columns of a table (1-D) or matrices (2-D)."""
    convolution, correlation = comparison.convolution, comparison.correlation
    equal, opposite = comparison.equal, comparison.opposite
    # Zeros are both equal and opposite: marked as the verdict reads (= when the results are
    # identical, - when negated), else ±.
    if comparison.identical:
        opposite = np.zeros_like(opposite)
    elif comparison.negated:
        equal = np.zeros_like(equal)
    if convolution.ndim == 1:
        return indexed_table(
            ["convolution", "correlation", ""],
            convolution.size,
            lambda i: [
                format_cell(convolution[i]),
                format_cell(correlation[i]),
                _relation(equal[i], opposite[i]),
            ],
            show_all,
            lags,
        )
    equal_rows, opposite_rows = as_rows(equal), as_rows(opposite)
    marks = _grid(
        equal_rows.shape,
        lambda row, column: _relation(equal_rows[row, column], opposite_rows[row, column]),
        show_all,
        lags if equal.ndim == 2 else None,
    )
    results = side_by_side(
        ("convolution", array_view(convolution, show_all, lags)),
        ("correlation", array_view(correlation, show_all, lags)),
        ("relation", marks),
    )
    return Group(results, _grid_note(equal_rows.shape, show_all))


def _magnitudes(values: np.ndarray) -> np.ndarray:
    """What a picture shows of each value: itself, or its modulus when complex."""
    return np.abs(values) if values.dtype.kind == "c" else values.astype(np.float64)


def _scale(*arrays: np.ndarray) -> tuple[float, float]:
    """The finite range shared by the arrays drawn on one scale (0, 0 if none is finite)."""
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays])
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)


def _levels(values: np.ndarray, low: float, high: float, count: int) -> list[int | None]:
    """Each value's level from 0 to count - 1 on the scale low..high (the middle one for a
    flat scale); None for nan and infinities."""
    span = high - low
    levels: list[int | None] = []
    for value in values.tolist():
        if not np.isfinite(value):
            levels.append(None)
        elif span == 0:
            levels.append(count // 2)
        else:
            levels.append(min(count - 1, max(0, round((value - low) / span * (count - 1)))))
    return levels


def _sparkline(values: np.ndarray, low: float, high: float) -> Text:
    """A 1-D array as one line of bar glyphs, sampled down to a screen's width."""
    positions = np.linspace(0, values.size - 1, min(values.size, _SPARK_WIDTH)).round()
    # Rising, so repeats are neighbours; not np.unique, whose import of numpy.ma is slow.
    picks = list(dict.fromkeys(positions.astype(int).tolist()))
    levels = _levels(values[picks], low, high, len(_SPARKS))
    return Text(glyph("".join(" " if level is None else _SPARKS[level] for level in levels)))


def _heat_colour(value: float, low: float, high: float) -> str:
    """A rich colour for a heat-map cell: blue below zero, red above, paler near zero."""
    reach = max(abs(low), abs(high)) or 1.0
    strength = min(1.0, abs(value) / reach)
    fade = int(255 * (1 - strength))
    red, blue = (255, fade) if value >= 0 else (fade, 255)
    return f"rgb({red},{fade},{blue})"


def _heat_map(values: np.ndarray, low: float, high: float) -> Table:
    """A small 2-D array as shaded cells: glyph density for the value (readable without
    colour), colour for its sign and size."""
    rows = as_rows(values)
    levels = np.array(_levels(rows.reshape(-1), low, high, len(_SHADES)), dtype=object)
    grid = Table.grid()
    for _ in range(rows.shape[1]):
        grid.add_column()
    for row, row_levels in zip(rows.tolist(), levels.reshape(rows.shape).tolist()):
        grid.add_row(
            *(
                Text("  ")
                if level is None
                else Text(glyph(_SHADES[level] * 2), style=_heat_colour(value, low, high))
                for value, level in zip(row, row_levels)
            )
        )
    return grid


def _pictures(comparison: Comparison) -> RenderableType | None:
    """Sparklines of the signal and both results (1-D), or heat maps of small 2-D results,
    the two results on one shared scale."""
    convolution, correlation = map(_magnitudes, (comparison.convolution, comparison.correlation))
    low, high = _scale(convolution, correlation)
    if convolution.ndim == 1:
        signal = _magnitudes(comparison.signal)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        grid.add_row("f", _sparkline(signal, *_scale(signal)))
        grid.add_row("convolution", _sparkline(convolution, low, high))
        grid.add_row("correlation", _sparkline(correlation, low, high))
        return grid
    if max(as_rows(convolution).shape) > _HEAT_MAP_SIZE:
        return None
    maps = side_by_side(
        ("convolution", _heat_map(convolution, low, high)),
        ("correlation", _heat_map(correlation, low, high)),
    )
    legend = Text(
        f"heat maps on one scale: {_SHADES[0]} low ({format_cell(low)}) to "
        f"{_SHADES[-1]} high ({format_cell(high)})",
        style="dim",
    )
    return Group(maps, legend)


def comparison_view(
    comparison: Comparison, signal_label: str, show_all: bool = False, lags: Lags | None = None
) -> RenderableType:
    """Convolution and correlation side by side, with the flipped kernel, pictures and the
    verdict; ``lags`` label the positions."""
    pictures = _pictures(comparison)
    verdict = getattr(comparison, "verdict", "")
    return Group(
        _inputs_view(comparison, signal_label),
        *_convention_lines(comparison),
        Text(""),
        _results_view(comparison, show_all, lags),
        *([] if pictures is None else [pictures]),
        options_line(comparison.geometry, comparison.method, comparison.normalize),
        Text(verdict, style="bold") if verdict else verdict_line(comparison),
    )


def _labelled_array(label: str, values: np.ndarray, show_all: bool) -> RenderableType:
    """``label = [a, b, c]`` on one line (1-D), or the label over a grid (2-D)."""
    if values.ndim == 1:
        return Text.assemble((label, "bold"), " = ", _line_view(values, show_all))
    return Group(Text(label, style="bold"), array_view(values, show_all))


def backward_view(gradients: Backward, show_all: bool = False) -> RenderableType:
    """The forward result, the upstream gradient and both gradients, each under the
    formula it came from, then the independent check."""
    forward = "correlation" if gradients.forward == "correlation" else "convolution"
    backward_name = "convolution" if forward == "correlation" else "correlation"
    heading = Text(f"{forward} forward, {backward_name} backward", style="bold underline")
    parts: list[RenderableType] = [heading]
    for formula, label, values in (
        (gradients.output_formula, "y", gradients.output),
        ("G = dL/dy, the gradient arriving from above", "G", gradients.upstream),
        (gradients.grad_signal_formula, "dL/dx", gradients.grad_signal),
        (gradients.grad_kernel_formula, "dL/dw", gradients.grad_kernel),
    ):
        parts.extend(
            [Text(formula, style="cyan"), _labelled_array(label, values, show_all), Text("")]
        )
    parts.extend(Text(f"note: {note}", style="dim") for note in gradients.notes)
    parts.append(
        Text(
            f"check against the {gradients.check_method} ({gradients.checked_cells} gradient "
            f"cells): largest difference {format_cell(gradients.largest_difference)}",
            style="green" if gradients.largest_difference == 0 else "",
        )
    )
    parts.append(options_line(gradients.geometry))
    return Group(*parts)


def kernels_view(listing: list[KernelInfo]) -> Table:
    """The named kernels: name, what it does, an example's values and its symmetry."""
    table = Table(title="named kernels (anywhere a KERNEL goes)", title_style="bold")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("what it does")
    table.add_column("example values")
    table.add_column("symmetry")
    styles = {"symmetric": "green", "antisymmetric": "yellow", "none": "red"}
    for info in listing:
        example = info.example if info.example != info.name else ""
        values = array_view(info.values)
        table.add_row(
            info.name,
            Text(info.description),
            Group(Text(example, style="dim"), values) if example else values,
            Text(info.symmetry, style=styles[info.symmetry]),
        )
    return table


_LINEUP_MARKS = {True: ("=", "green"), False: ("≠", "red"), None: ("✗", "dim")}


def _lineup_row(row: Row, show_all: bool) -> list[RenderableType]:
    """One library's cells: name, call, result, mark and why it differs or is refused."""
    from convcli.analysis.conventions import LIBRARIES

    mark, style = _LINEUP_MARKS[row.agrees]
    result: RenderableType
    if row.values is None:
        call, result = Text(row.function, style="dim"), Text("-", style="dim")
    else:
        call, result = Text(row.call), array_view(row.values, show_all)
    reason = Text(row.reason, style="dim" if row.values is None else "")
    return [LIBRARIES[row.convention], call, result, Text(glyph(mark), style=style), reason]


class _Fitted:
    """A wide layout where the space allows it, else a narrow one: the wide layout fits
    when its ``core`` (the columns that must not be squeezed) leaves ``spare`` cells."""

    def __init__(
        self, wide: RenderableType, narrow: RenderableType, core: RenderableType, spare: int
    ) -> None:
        self.wide, self.narrow, self.core, self.spare = wide, narrow, core, spare

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        unlimited = options.update_width(_UNWRAPPED_WIDTH)
        need = Measurement.get(console, unlimited, self.core).maximum + self.spare
        yield self.wide if need <= options.max_width else self.narrow


_LINEUP_COLUMNS = ("library", "call", "result", "", "why it differs")
#: Cells the reason column of the lineup table needs beside the others (else it stacks).
_REASON_WIDTH = 24


def _lineup_table(
    operation: str, rows: list[list[RenderableType]], lines: bool, columns: int
) -> Table:
    """The lineup as a table of the first ``columns`` columns, one row per library."""
    table = Table(title=operation, title_style="bold", title_justify="left", show_lines=lines)
    for name in _LINEUP_COLUMNS[:columns]:
        table.add_column(
            name,
            style="bold" if name == "library" else "",
            no_wrap=name in ("library", "call"),
            justify="center" if not name else "left",
        )
    for row in rows:
        table.add_row(*row[:columns])
    return table


def _lineup_stack(operation: str, rows: list[list[RenderableType]]) -> Group:
    """The lineup for a narrow screen: per library its mark and name, then under the name
    the call, the result and the reason."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for library, call, result, mark, reason in rows:
        shown = [cell for cell in (call, result, reason) if str(cell) not in ("", "-")]
        grid.add_row(mark, library, Group(*shown))
    return Group(Text(operation, style="bold"), grid)


def lineup_view(lineup: Lineup, show_all: bool = False) -> RenderableType:
    """One table per operation: each library's call and result, marked where it differs
    from the majority (=, ≠) or refuses the request (✗), with the reason; on a narrow
    screen each library's call, result and reason stack under its name."""
    parts: list[RenderableType] = []
    lines = lineup.signal.ndim > 1  # a rule between libraries' matrices
    for operation in dict.fromkeys(row.operation for row in lineup.rows):
        rows = [_lineup_row(row, show_all) for row in lineup.rows if row.operation == operation]
        wide = _lineup_table(operation, rows, lines, len(_LINEUP_COLUMNS))
        core = _lineup_table(operation, rows, lines, len(_LINEUP_COLUMNS) - 1)
        parts.append(_Fitted(wide, _lineup_stack(operation, rows), core, _REASON_WIDTH))
    padding: str | Pads = lineup.padding
    if not isinstance(padding, str):
        padding = ",".join(f"{before}:{after}" for before, after in padding)

    def shaped(*axes: int) -> str:
        return "(" + ", ".join(map(str, axes)) + ")"

    f, h = lineup.signal.shape, lineup.kernel.shape
    parts.append(
        Text(
            "np = numpy, signal = scipy.signal, F = torch.nn.functional; f and h are tensors "
            f"shaped {shaped(1, 1, *f)} and {shaped(1, 1, *h)} for torch, {shaped(1, *f, 1)} "
            f"and {shaped(*h, 1, 1)} for TensorFlow",
            style="dim",
        )
    )
    parts.append(
        Text(
            glyph(
                f"padding {padding} · pad mode {lineup.pad_mode} · stride "
                f"{','.join(map(str, lineup.stride))} · dilation "
                f"{','.join(map(str, lineup.dilation))} · method {lineup.method}"
            ),
            style="dim",
        )
    )
    return Group(*parts)


def delay_meaning(delay: Delay, signal: str, reference: str) -> str:
    """What the lag says about the signal and the reference, in words."""
    if delay.peak == 0:
        return f"no lag searched correlates {signal} with {reference}: every sum is 0"
    if delay.lag > 0:
        return f"{signal} is {reference} delayed by {delay.lag} sample(s)"
    if delay.lag < 0:
        return f"{signal} is {reference} advanced by {-delay.lag} sample(s)"
    return f"{signal} and {reference} are aligned"


def delay_view(delay: Delay, signal_label: str, reference_label: str) -> RenderableType:
    """The lag that best aligns the signal with the reference, what its sign means, and the
    peak it was read from."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_column(style="dim")
    table.add_row("lag", str(delay.lag), "samples, the largest |correlation|")
    table.add_row("refined lag", format_cell(delay.refined_lag), "parabola through the peak")
    table.add_row("peak", format_cell(delay.peak), "correlation at the lag")
    table.add_row(
        "normalized peak", format_cell(delay.normalized_peak), "peak / (||signal|| ||reference||)"
    )
    meaning = delay_meaning(delay, _short(signal_label), _short(reference_label))
    searched = "every lag" if delay.max_lag is None else f"lags within ±{delay.max_lag}"
    return Group(
        Text(meaning, style="bold"),
        table,
        Text(glyph(f"searched {searched} · method {delay.method}"), style="dim"),
    )


def heading(title: str, story: str) -> RenderableType:
    """A section heading: a rule with the title, then a sentence or two of explanation."""
    from rich.rule import Rule  # only the demo needs it

    return Group(Text(""), Rule(title, style="bold"), Text(story))


class _Console(Console):
    """A rich Console that leaves a reader gone from its pipe to the command line (rich's
    own handling exits with status 1)."""

    def on_broken_pipe(self) -> None:
        """Raise BrokenPipeError, which convcli.cli.main turns into a quiet exit 0."""
        raise BrokenPipeError


def print_view(view: RenderableType, wide: bool = False, file: TextIO | None = None) -> None:
    """Print to ``file`` (rich's default, standard output, if None), with colour only where
    rich finds a terminal that wants it.

    ``wide`` views (long worked sums) are not wrapped when the output is not a terminal,
    so each line stays one line in a pipe, unless COLUMNS gives a width. Text like
    ``:smile:`` (in a file name, say) is printed as written: no emoji codes, whose table
    would also be slow to import.
    A long table is drawn and written a piece of rows at a time (see RowsByPiece), so its
    first rows appear at once and a reader that stops early (``| head``) ends the command.
    """
    console = _Console(file=file, emoji=False)
    if wide and not console.is_terminal and not os.environ.get("COLUMNS"):
        console = _Console(file=file, width=_UNWRAPPED_WIDTH, emoji=False)
    for part in _parts(view):
        if isinstance(part, Table) and part.row_count > PIECE_ROWS:
            part = RowsByPiece.of(part)
        if isinstance(part, RowsByPiece):
            for lines in part.lines(console):
                console.print(Segments([segment for line in lines for segment in line]), end="")
        else:
            console.print(part)


def _parts(view: RenderableType) -> Iterator[RenderableType]:
    """The renderables of a view in the order they are drawn: those of groups one by one."""
    if isinstance(view, Group):
        for part in view.renderables:
            yield from _parts(part)
    else:
        yield view


class RowsByPiece:
    """A long table, made and drawn PIECE_ROWS rows at a time by print_view.

    rich measures and lays out every cell of a table before drawing its first row
    (minutes for 10^5 rows), so print_view draws each piece as a table of its own,
    without the edges where pieces meet, with the whole table's column widths when
    they are known (``widths``, as rich measures them where the table fits; None for a
    column not known) or else the widest met so far. ``row(index)`` makes a row's cells when its piece is drawn;
    any other console (view_text) gets the whole table at once.
    """

    def __init__(
        self,
        table: Table,
        count: int,
        row: Callable[[int], Sequence[RenderableType]],
        widths: list[int | None] | None = None,
    ) -> None:
        self.table, self.count, self.row, self.widths = table, count, row, widths

    @classmethod
    def of(cls, table: Table) -> RowsByPiece:
        """A table already filled, to be drawn by pieces."""
        cells = [list(column.cells) for column in table.columns]
        widths = [_column_width(column) for column in table.columns]
        return cls(table, table.row_count, lambda index: [cell[index] for cell in cells], widths)

    def piece(self, start: int, end: int) -> Table:
        """A table of rows ``start`` to ``end`` (the header with the first row only)."""
        piece = copy(self.table)
        piece.columns = [column.copy() for column in self.table.columns]
        piece.rows = []
        piece.show_header = self.table.show_header and start == 0
        for index in range(start, end):
            piece.add_row(*self.row(index))
        return piece

    def lines(self, console: Console) -> Iterator[list[list[Segment]]]:
        """The table's lines, a piece at a time."""
        known = self.widths or [None] * len(self.table.columns)
        widest = [0] * len(known)
        edged = self.table.box is not None and self.table.show_edge
        for start in range(0, self.count, PIECE_ROWS):
            end = min(start + PIECE_ROWS, self.count)
            piece = self.piece(start, end)
            for index, (column, width) in enumerate(zip(piece.columns, known)):
                if width is None:
                    widest[index] = max(widest[index], _column_width(column) or 0)
                column.width = width if width is not None else widest[index] or None
            lines = console.render_lines(piece, pad=False, new_lines=True)
            yield lines[int(edged and start > 0) : len(lines) - int(edged and end < self.count)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.piece(0, self.count)


def _column_width(column: Column) -> int | None:
    """The width of a column's widest line of text (its header's too); None if a cell is
    not text."""
    lines = []
    for cell in (column.header, *column.cells):
        if isinstance(cell, str):
            text = Text.from_markup(cell, emoji=False).plain if "[" in cell else cell
        elif isinstance(cell, Text):
            text = cell.plain
        else:
            return None
        lines.extend(text.split("\n"))
    if "".join(lines).isascii():  # one cell per character: the common case, and quick
        return max(map(len, lines))
    return max(map(cell_len, lines))


def view_text(view: RenderableType, wide: bool = False, width: int = _FILE_WIDTH) -> str:
    """The view as plain text (for ``--format table -o FILE``): no colour, ``width``
    columns, or lines never wrapped if ``wide``."""
    buffer = StringIO()
    width = _UNWRAPPED_WIDTH if wide else width
    console = Console(
        file=buffer, width=width, color_system=None, force_terminal=False, emoji=False
    )
    console.print(view)
    return buffer.getvalue()
