"""Rich views of ``convcli explain``: each output written out as a sum of products.

Like :mod:`convcli.render`, this only formats: the windows, products and sums
come from :mod:`convcli.steps`. The static listing works anywhere; the
animation slides the window across the signal on a terminal.
"""

from __future__ import annotations

import time

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from convcli.render import (
    PIECE_ROWS,
    RowsByPiece,
    Shown,
    as_rows,
    format_cell,
    options_line,
    shown,
    side_by_side,
)
from convcli.steps import Explanation, Step

__all__ = ["animate", "explanation_view", "explanations_view"]

_SHOWN_STEPS_1D = 6
_SHOWN_STEPS_2D = 3
_SHOWN_CELLS = 40
_NAMES = {"convolution": "g", "correlation": "r"}
_HEADINGS = {
    "convolution": "convolution g = f * h: flip h, slide it over f, multiply and add",
    "correlation": "correlation r = f ⋆ h: slide h as given over f, multiply and add",
}
_WINDOW_STYLE = "reverse bold"
_PAD_STYLE = "dim italic"


def _term(value: object, padding: bool = False) -> str:
    """One number in a sum: negatives and complex numbers in parentheses, padding in brackets."""
    text = format_cell(value)
    if padding:
        return f"[{text}]"
    if text.startswith("-") or isinstance(value, (complex, np.complexfloating)):
        return f"({text})"
    return text


def _index(position: tuple[int, ...]) -> str:
    return ",".join(map(str, position))


def _label(explanation: Explanation, step: Step, lags: bool) -> str:
    """``r[0]``, and with ``lags`` the lag of that output too: ``r[0] (lag -1)``."""
    label = f"{_NAMES[explanation.operation]}[{_index(step.position)}]"
    return f"{label} (lag {_index(explanation.lag(step.position))})" if lags else label


def _reads(step: Step) -> str:
    """Which signal cells a 1-D step reads, padding shown as ``pad``."""
    cells = [
        "pad" if pad else str(cell[0])
        for cell, pad in zip(step.cells.tolist(), step.padding.tolist())
    ]
    return "reads f[" + " ".join(cells) + "]"


def _sum_row(explanation: Explanation, step: Step, lags: bool = False) -> list[Text]:
    """``g[0] =``, ``(-1)*2 + 1*1``, ``= -1`` and the cells read, for a 1-D step."""
    expression = Text()
    terms = zip(step.weights.tolist(), step.values.tolist(), step.padding.tolist())
    for number, (weight, value, padding) in enumerate(terms):
        if number:
            expression.append(" + ")
        expression.append(f"{_term(weight)}*")
        expression.append(_term(value, padding), style=_PAD_STYLE if padding else "")
    return [
        Text(_label(explanation, step, lags)),
        Text("="),
        expression,
        Text(f"= {format_cell(step.total)}", style="bold"),
        Text(_reads(step), style="dim"),
    ]


def _sum_table() -> Table:
    """The grid that lines up 1-D steps: name, =, products, = total, cells read."""
    table = Table.grid(padding=(0, 1))
    for justify in ("right", "center", "left", "left", "left"):
        table.add_column(justify=justify)
    return table


def _left_out(count: int) -> Text:
    step_word = "step" if count == 1 else "steps"
    return Text(f"… {count} {step_word} left out; --all prints every step", style="dim")


def _cells_grid(rows: list[list[str | Text]]) -> Table:
    """Rows of ready-made cells as a borderless, right-aligned grid."""
    grid = Table(show_header=False, box=None, padding=(0, 1))
    for _ in range(len(rows[0])):
        grid.add_column(justify="right")
    for row in rows:
        grid.add_row(*row)
    return grid


def _cell(value: object, padding: bool = False, lit: bool = False) -> Text:
    """One signal cell: padding in brackets, the current window lit up."""
    return Text(
        _term(value, True) if padding else format_cell(value), style=_WINDOW_STYLE if lit else ""
    )


def _window_grid(values: np.ndarray, padding: np.ndarray, lit: np.ndarray | None = None) -> Table:
    """A 2-D array as a grid, padded cells in brackets, lit cells highlighted."""
    lit = np.zeros(values.shape, dtype=bool) if lit is None else lit
    return _cells_grid(
        [
            [_cell(value, pad, on) for value, pad, on in zip(*row)]
            for row in zip(values.tolist(), padding.tolist(), lit.tolist())
        ]
    )


def _plain_grid(values: np.ndarray) -> Table:
    """A 2-D array as a grid."""
    return _window_grid(values, np.zeros(values.shape, dtype=bool))


def _block(explanation: Explanation, step: Step, lags: bool = False) -> RenderableType:
    """A 2-D step: the window, the kernel as slid and their products, then the sum."""
    kernel_name = "flip(h)" if explanation.operation == "convolution" else "h"
    if explanation.setup.kernel.dtype.kind == "c" and explanation.operation == "correlation":
        kernel_name = "conj(h)"
    total = Text(
        f"{_label(explanation, step, lags)} = sum of the products = {format_cell(step.total)}",
        style="bold",
    )
    panes = side_by_side(
        ("window of f", _window_grid(step.values, step.padding)),
        (kernel_name, _plain_grid(step.weights)),
        ("products", _plain_grid(step.products)),
    )
    return Group(total, panes)


def _inputs(explanation: Explanation) -> RenderableType:
    """The signal (padded, if it is), the kernel and the kernel as slid."""
    prepared = explanation.setup
    lines = Table.grid(padding=(0, 1))
    lines.add_column(style="bold")
    lines.add_column()
    rows: list[tuple[str, np.ndarray, np.ndarray | None]] = [("f", prepared.signal, None)]
    if not prepared.in_signal.all():
        rows.append(("padded f", prepared.padded, ~prepared.in_signal))
    rows.append(("h", prepared.kernel, None))
    if explanation.operation == "convolution":
        rows.append(("flip(h)", prepared.weights, None))
    elif prepared.kernel.dtype.kind == "c":
        rows.append(("conj(h)", prepared.weights, None))
    for name, values, padding in rows:
        padding = np.zeros(values.shape, dtype=bool) if padding is None else padding
        if values.ndim == 1:
            cells = (
                "…"
                if i is None
                else _term(values[i], True)
                if padding[i]
                else format_cell(values[i])
                for i in shown(values.size, _SHOWN_CELLS)
            )
            lines.add_row(name, "[" + ", ".join(cells) + "]")
        else:
            lines.add_row(name, _window_grid(as_rows(values), as_rows(padding)))
    return lines


def explanation_view(
    explanation: Explanation, show_all: bool = False, lags: bool = False
) -> RenderableType:
    """The worked example: inputs, then one line (1-D) or block (2-D) per output, each
    labelled with its lag too if ``lags``."""
    one_dimensional = explanation.output.ndim == 1
    limit = None if show_all else _SHOWN_STEPS_1D if one_dimensional else _SHOWN_STEPS_2D
    positions = list(explanation.positions())
    chosen: Shown = shown(len(positions), limit)
    parts: list[RenderableType] = [Text(_HEADINGS[explanation.operation], style="bold underline")]
    parts.append(_inputs(explanation))
    if not explanation.setup.in_signal.all():
        parts.append(Text("[ ] marks padding", style="dim"))
    lines, notes = _sum_table(), []
    listing: RenderableType = lines
    if one_dimensional and len(chosen) > PIECE_ROWS and None not in chosen:
        # Every step of a long signal: each row is made as it is printed (RowsByPiece).
        ends = (explanation.step(positions[0]), explanation.step(positions[-1]))
        label = max(len(_label(explanation, step, lags)) for step in ends)  # the widest
        listing = RowsByPiece(
            lines,
            len(chosen),
            lambda i: _sum_row(explanation, explanation.step(positions[i]), lags),
            [label, None, None, None, None],
        )
        chosen = []
    for index in chosen:
        if index is None:
            note = _left_out(len(positions) - (len(chosen) - 1))
            if one_dimensional:
                lines.add_row("⋮", "", "⋮")
            notes.append(note)
            if not one_dimensional:
                parts.append(note)
        elif one_dimensional:
            lines.add_row(*_sum_row(explanation, explanation.step(positions[index]), lags))
        else:
            parts.append(_block(explanation, explanation.step(positions[index]), lags))
    if one_dimensional:
        parts.extend([listing, *notes])
    parts.append(options_line(explanation.geometry, explanation.method))
    return Group(*parts)


def explanations_view(
    explanations: list[Explanation], show_all: bool = False, lags: bool = False
) -> RenderableType:
    """The worked steps of one or more operations, one after the other."""
    views = [explanation_view(explanation, show_all, lags) for explanation in explanations]
    spaced = [part for view in views for part in (view, Text(""))][:-1]
    return Group(*spaced)


def _frame(explanation: Explanation, step: Step, done: int, lags: bool = False) -> RenderableType:
    """One frame of the animation: the window lit up over the signal, the kernel under it,
    the products, and the output filled in up to this step."""
    prepared = explanation.setup
    lit = np.zeros(prepared.padded.shape, dtype=bool)
    taps = tuple(np.moveaxis(step.cells, -1, 0) + _before(explanation))
    lit[taps] = True
    name = _NAMES[explanation.operation]
    filled = [format_cell(v) if i < done else "·" for i, v in enumerate(explanation.output.flat)]
    if prepared.padded.ndim == 1:
        signal = list(map(_cell, prepared.padded.tolist(), (~prepared.in_signal).tolist(), lit))
        weights, products = [""] * lit.size, [""] * lit.size
        for cell, weight, product in zip(
            taps[0].tolist(), step.weights.tolist(), step.products.tolist()
        ):
            weights[cell], products[cell] = format_cell(weight), format_cell(product)
        picture: RenderableType = _cells_grid(
            [["f", *signal], ["kernel", *weights], ["products", *products]]
        )
        expression: RenderableType = _sum_table()
        expression.add_row(*_sum_row(explanation, step, lags))
        result: RenderableType = Text(f"{name} = [" + ", ".join(filled) + "]")
    else:
        picture = side_by_side(
            ("f", _window_grid(prepared.padded, ~prepared.in_signal, lit)),
            ("kernel as slid", _plain_grid(step.weights)),
        )
        expression = _block(explanation, step, lags)
        columns = explanation.output.reshape(explanation.output.shape[0], -1).shape[1]
        rows = [filled[start : start + columns] for start in range(0, len(filled), columns)]
        result = side_by_side((name, _cells_grid(rows)))
    heading = Text(_HEADINGS[explanation.operation], style="bold underline")
    return Group(heading, picture, expression, result)


def _before(explanation: Explanation) -> np.ndarray:
    """The padding before each axis, shaped to add to a step's cells."""
    pads = [pad[0] for pad in explanation.geometry.pads]
    return np.array(pads).reshape((-1,) + (1,) * len(pads))


def animate(explanation: Explanation, delay: float, lags: bool = False) -> None:
    """Slide the window across the signal on the terminal, one output per ``delay`` seconds
    (each sum labelled with its lag too if ``lags``)."""
    console = Console()
    positions = list(explanation.positions())
    with Live(console=console, auto_refresh=False, transient=False) as live:
        for done, position in enumerate(positions, start=1):
            live.update(_frame(explanation, explanation.step(position), done, lags), refresh=True)
            time.sleep(delay)
