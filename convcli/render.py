"""Everything rich: results and comparisons as tables, with the kernel flip and the verdict.

Functions here take finished results (arrays and the engine's dataclasses) and
return renderables; nothing is computed. Colour and width are rich's to decide,
so NO_COLOR, COLUMNS and non-terminal output behave as in any rich program.
"""

from __future__ import annotations

from io import StringIO

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcli.engine import Comparison, Geometry, Result

__all__ = ["comparison_view", "print_view", "result_view", "view_text"]

_SHOWN_SIGNAL_SIZE = 64
_RELATION_MARKS = {"equal": ("=", "green"), "opposite": ("-", "yellow"), "different": ("≠", "red")}
_VERDICTS = {
    "symmetric": "[bold green]symmetric kernel[/]: flip(h) = {h}, so convolution = correlation "
    "for every signal",
    "antisymmetric": "[bold yellow]antisymmetric kernel[/]: flip(h) = -{h}, so convolution = "
    "-correlation for every signal",
    "none": "[bold red]kernel symmetry: none[/]: flip(h) ≠ ±{h}",
}


def format_cell(value: object) -> str:
    """A number as a person reads it: integers in full, floats to 10 significant digits.

    >>> format_cell(np.int64(-3)), format_cell(0.1 + 0.2), format_cell(complex(1, -0.5))
    ('-3', '0.3', '1-0.5j')
    """
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (complex, np.complexfloating)):
        return f"{value.real:.10g}{value.imag:+.10g}j"
    return f"{value:.10g}"


def _vector(values: np.ndarray) -> str:
    """A 1-D array as ``[a, b, c]``."""
    return "[" + ", ".join(format_cell(v) for v in values.tolist()) + "]"


def _matrix(values: np.ndarray) -> Table:
    """A 2-D array as a borderless grid of right-aligned numbers."""
    grid = Table(show_header=False, box=None, padding=(0, 1))
    for _ in range(values.shape[1]):
        grid.add_column(justify="right")
    for row in values.tolist():
        grid.add_row(*map(format_cell, row))
    return grid


def _array_view(values: np.ndarray) -> RenderableType:
    """A small array as a line (1-D) or a grid (2-D and up, shown as rows)."""
    if values.ndim == 1:
        return Text(_vector(values))
    return _matrix(values.reshape(values.shape[0], -1))


def _options_line(geometry: Geometry, method: str) -> Text:
    """One dim line naming every option that shaped the result."""
    pads = ",".join(f"{before}:{after}" for before, after in geometry.pads)
    stride = ",".join(map(str, geometry.stride))
    dilation = ",".join(map(str, geometry.dilation))
    return Text(
        f"padding {geometry.padding} ({pads}) · pad mode {geometry.pad_mode} · "
        f"stride {stride} · dilation {dilation} · method {method}",
        style="dim",
    )


def result_view(result: Result, signal_label: str, kernel_label: str) -> RenderableType:
    """One operation's output: an index/value table (1-D) or a matrix (2-D)."""
    title = f"{result.operation} of {signal_label} with {kernel_label}"
    values = result.values
    if values.ndim == 1:
        table = Table(title=title, title_style="bold")
        table.add_column("index", justify="right", style="dim")
        table.add_column(result.operation, justify="right")
        for index, value in enumerate(values.tolist()):
            table.add_row(str(index), format_cell(value))
        body: RenderableType = table
    else:
        body = Group(Text(title, style="bold"), _array_view(values))
    return Group(body, _options_line(result.geometry, result.method))


def _relation(equal: bool, opposite: bool) -> Text:
    """The mark between the two results at one position: = (equal), - (negated) or ≠."""
    key = "equal" if equal else "opposite" if opposite else "different"
    mark, style = _RELATION_MARKS[key]
    return Text(mark, style=style)


def _verdict(comparison: Comparison) -> Text:
    """The kernel's symmetry and what it means for these results."""
    conjugate = "conj(h)" if comparison.kernel.dtype.kind == "c" else "h"
    line = Text.from_markup(_VERDICTS[comparison.kernel_symmetry].format(h=conjugate))
    total = comparison.equal.size
    if comparison.identical:
        line.append(f"; the results are identical at all {total} positions")
    elif comparison.negated:
        line.append(f"; the results are negatives of each other at all {total} positions")
    else:
        line.append(f"; the results differ at {comparison.differing} of {total} positions")
    return line


def _side_by_side(*panes: tuple[str, RenderableType]) -> Table:
    """Renderables in a row, each under a bold heading."""
    row = Table(box=None, header_style="bold", padding=(0, 3, 0, 0))
    for heading, _ in panes:
        row.add_column(heading)
    row.add_row(*(pane for _, pane in panes))
    return row


def _signal_view(comparison: Comparison, signal_label: str) -> RenderableType:
    """The signal itself when it is small, else its source and shape."""
    if comparison.signal.size <= _SHOWN_SIGNAL_SIZE:
        return _array_view(comparison.signal)
    shape = "x".join(map(str, comparison.signal.shape))
    return Text(f"{signal_label} ({shape} values)")


def _inputs_view(comparison: Comparison, signal_label: str) -> RenderableType:
    """The signal, the kernel as correlation slides it, and the flipped kernel convolution slides."""
    complex_kernel = comparison.kernel.dtype.kind == "c"
    conjugated = "conj(h)" if complex_kernel else "h as given"
    signal, kernel = _signal_view(comparison, signal_label), _array_view(comparison.kernel)
    flipped = _array_view(comparison.flipped_kernel)
    if comparison.kernel.ndim == 1:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        grid.add_column(style="dim")
        grid.add_row("f", signal, signal_label)
        grid.add_row("h", kernel, f"correlation slides {conjugated}")
        grid.add_row("flip(h)", flipped, "convolution slides the flipped kernel")
        return grid
    return _side_by_side(
        ("f", signal),
        ("h (correlation conjugates it)" if complex_kernel else "h (correlation)", kernel),
        ("flip(h) (convolution)", flipped),
    )


def _results_view(comparison: Comparison) -> RenderableType:
    """The two results side by side: columns of a table (1-D) or matrices (2-D)."""
    convolution, correlation = comparison.convolution, comparison.correlation
    if convolution.ndim == 1:
        table = Table()
        table.add_column("index", justify="right", style="dim")
        table.add_column("convolution", justify="right")
        table.add_column("correlation", justify="right")
        table.add_column("", justify="center")
        for index in range(convolution.size):
            table.add_row(
                str(index),
                format_cell(convolution[index]),
                format_cell(correlation[index]),
                _relation(comparison.equal[index], comparison.opposite[index]),
            )
        return table
    rows = convolution.shape[0]
    marks = Table(show_header=False, box=None, padding=(0, 1))
    for equal, opposite in zip(
        comparison.equal.reshape(rows, -1).tolist(), comparison.opposite.reshape(rows, -1).tolist()
    ):
        marks.add_row(*map(_relation, equal, opposite))
    return _side_by_side(
        ("convolution", _array_view(convolution)),
        ("correlation", _array_view(correlation)),
        ("relation", marks),
    )


def comparison_view(comparison: Comparison, signal_label: str, kernel_label: str) -> RenderableType:
    """Convolution and correlation side by side, with the flipped kernel and the verdict."""
    return Group(
        _inputs_view(comparison, signal_label),
        Text(""),
        _results_view(comparison),
        _options_line(comparison.geometry, comparison.method),
        _verdict(comparison),
    )


def print_view(view: RenderableType) -> None:
    """Print to standard output, with colour only where rich finds a terminal that wants it."""
    Console().print(view)


def view_text(view: RenderableType, width: int = 100) -> str:
    """The view as plain text (for ``--format table -o FILE``): no colour, a fixed width."""
    buffer = StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False).print(view)
    return buffer.getvalue()
