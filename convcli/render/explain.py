"""Rich views of ``convcli explain``: each output written out as a sum of products.

Like :mod:`convcli.render.tables`, this only formats: the windows, products and sums
come from :mod:`convcli.analysis.steps`. The static listing works anywhere; the
animation slides the window across the signal on a terminal.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from convcli.analysis.steps import CellTerm, Explanation, LayerCell, Step
from convcli.errors import ConvcliError
from convcli.render.tables import (
    HEADINGS,
    NAMES,
    PIECE_ROWS,
    RowsByPiece,
    Shown,
    as_rows,
    format_cell,
    glyph,
    options_line,
    shown,
    side_by_side,
)

__all__ = [
    "animate",
    "explanation_view",
    "explanations_view",
    "layer_cell_view",
    "slid_name",
    "step_label",
    "sum_term",
    "visible_cells",
]

#: Lines the steps of one explanation may fill before the middle ones are left out (a
#: terminal's height is passed in instead where there is one).
SCREEN_LINES = 24
_SHOWN_CELLS = 40
_WINDOW_STYLE = "reverse bold"
_PAD_STYLE = "dim italic"


def sum_term(value: object, padding: bool = False) -> str:
    """One number in a sum: negatives and complex numbers in parentheses, padding in brackets."""
    text = format_cell(value)
    if padding:
        return f"[{text}]"
    if text.startswith("-") or isinstance(value, (complex, np.complexfloating)):
        return f"({text})"
    return text


def _index(position: tuple[int, ...]) -> str:
    return ",".join(map(str, position))


def step_label(explanation: Explanation, step: Step, lags: bool) -> str:
    """``r[0]``, and with ``lags`` the lag of that output too: ``r[0] (lag -1)``."""
    label = f"{NAMES[explanation.operation]}[{_index(step.position)}]"
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
        expression.append(f"{sum_term(weight)}*")
        expression.append(sum_term(value, padding), style=_PAD_STYLE if padding else "")
    return [
        Text(step_label(explanation, step, lags)),
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
    return Text(glyph(f"… {count} {step_word} left out; --all prints every step"), style="dim")


def _cells_grid(
    rows: Sequence[Sequence[str | Text]], width: int | None = None, labelled: bool = False
) -> Table:
    """Rows of ready-made cells as a borderless, right-aligned grid, each column ``width``
    cells wide if given; ``labelled`` rows start with a bold label."""
    grid = Table(show_header=False, box=None, padding=(0, 1))
    for column in range(len(rows[0])):
        if labelled and column == 0:
            grid.add_column(style="bold", no_wrap=True)
        else:
            grid.add_column(justify="right", width=width, no_wrap=width is not None)
    for row in rows:
        grid.add_row(*row)
    return grid


def _cell(value: object, padding: bool = False, lit: bool = False) -> Text:
    """One signal cell: padding in brackets, the current window lit up."""
    return Text(
        sum_term(value, True) if padding else format_cell(value), style=_WINDOW_STYLE if lit else ""
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
    kernel_name = slid_name(explanation)
    total = Text(
        f"{step_label(explanation, step, lags)} = sum of the products = {format_cell(step.total)}",
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
                glyph("…")
                if i is None
                else sum_term(values[i], True)
                if padding[i]
                else format_cell(values[i])
                for i in shown(values.size, _SHOWN_CELLS)
            )
            lines.add_row(name, "[" + ", ".join(cells) + "]")
        else:
            lines.add_row(name, _window_grid(as_rows(values), as_rows(padding)))
    return lines


def _step_limit(explanation: Explanation, lines: int) -> int:
    """How many steps fit in ``lines``: one line each in 1-D; in 2-D a block of the sum's
    line, the panes' headings and the taller of window and kernel (at least 3 steps)."""
    if explanation.output.ndim == 1:
        return max(lines, 6)
    return max(lines // (len(as_rows(explanation.setup.weights)) + 2), 3)


def explanation_view(
    explanation: Explanation,
    show_all: bool = False,
    lags: bool = False,
    lines: int | None = None,
) -> RenderableType:
    """The worked example: inputs, then one line (1-D) or block (2-D) per output, each
    labelled with its lag too if ``lags``; steps beyond ``lines`` lines (default
    :data:`SCREEN_LINES`) are left out in the middle unless ``show_all``."""
    dims = explanation.output.ndim
    if dims > 2:
        raise ConvcliError(
            f"explain writes out 1-D and 2-D signals as text; this one has {dims} axes: "
            "write it as JSON, Markdown or LaTeX instead"
        )
    one_dimensional = dims == 1
    limit = None if show_all else _step_limit(explanation, lines or SCREEN_LINES)
    positions = list(explanation.positions())
    chosen: Shown = shown(len(positions), limit)
    heading = Text(glyph(HEADINGS[explanation.operation]), style="bold underline")
    parts: list[RenderableType] = [heading]
    parts.append(_inputs(explanation))
    if not explanation.setup.in_signal.all():
        parts.append(Text("[ ] marks padding", style="dim"))
    sums, notes = _sum_table(), []
    listing: RenderableType = sums
    if one_dimensional and len(chosen) > PIECE_ROWS and None not in chosen:
        # Every step of a long signal: each row is made as it is printed (RowsByPiece).
        ends = (explanation.step(positions[0]), explanation.step(positions[-1]))
        label = max(len(step_label(explanation, step, lags)) for step in ends)  # the widest
        listing = RowsByPiece(
            sums,
            len(chosen),
            lambda i: _sum_row(explanation, explanation.step(positions[i]), lags),
            [label, None, None, None, None],
        )
        chosen = []
    for index in chosen:
        if index is None:
            note = _left_out(len(positions) - (len(chosen) - 1))
            if one_dimensional:
                sums.add_row(glyph("⋮"), "", glyph("⋮"))
            notes.append(note)
            if not one_dimensional:
                parts.append(note)
        elif one_dimensional:
            sums.add_row(*_sum_row(explanation, explanation.step(positions[index]), lags))
        else:
            parts.append(_block(explanation, explanation.step(positions[index]), lags))
    if one_dimensional:
        parts.extend([listing, *notes])
    parts.append(options_line(explanation.geometry, explanation.method))
    return Group(*parts)


def explanations_view(
    explanations: list[Explanation],
    show_all: bool = False,
    lags: bool = False,
    lines: int | None = None,
) -> RenderableType:
    """The worked steps of one or more operations, one after the other (each showing up to
    ``lines`` lines of steps, :data:`SCREEN_LINES` if None)."""
    views = [explanation_view(explanation, show_all, lags, lines) for explanation in explanations]
    spaced = [part for view in views for part in (view, Text(""))][:-1]
    return Group(*spaced)


def slid_name(explanation: Explanation) -> str:
    """What the kernel is as slid: flip(h) for convolution, h (conj(h) if complex) else."""
    if explanation.operation == "convolution":
        return "flip(h)"
    return "conj(h)" if explanation.setup.kernel.dtype.kind == "c" else "h"


@dataclass(frozen=True)
class _Layout:
    """What stays fixed from frame to frame: the width of every signal cell (the widest
    value, weight or product of any step) and of every output."""

    cell: int
    output: int


def _layout(explanation: Explanation) -> _Layout:
    """The fixed widths of an animation of ``explanation``, from every step."""
    prepared = explanation.setup
    texts = [
        sum_term(value, pad) for value, pad in zip(prepared.padded.flat, (~prepared.in_signal).flat)
    ]
    texts += [format_cell(value) for value in prepared.weights.flat]
    if prepared.padded.ndim == 1:
        for position in explanation.positions():
            texts += [format_cell(value) for value in explanation.step(position).products.flat]
        texts += [str(-prepared.geometry.pads[0][0]), str(prepared.signal.size)]  # the ruler
    outputs = [format_cell(value) for value in explanation.output.flat]
    return _Layout(max(map(len, texts)), max(map(len, outputs), default=1))


def visible_cells(total: int, room: int, first: int, last: int) -> range:
    """The ``room`` cells of ``total`` that show cells ``first`` to ``last``, centred."""
    if total <= room:
        return range(total)
    start = min(max(first - (room - (last - first + 1)) // 2, 0), total - room)
    return range(start, start + room)


def _output_line(name: str, outputs: list[str], done: int, width: int, size: int) -> Text:
    """``g = [5, 7, ·, ·]``, each output ``size`` wide; when the whole list is wider than
    ``width``, a window of it around the latest output, … standing for the cut ends."""
    blank, cut = glyph("·").rjust(size), glyph("…").rjust(size)
    cells = [text.rjust(size) if index < done else blank for index, text in enumerate(outputs)]
    room = max((width - len(name) - 5) // (size + 2), 3)
    window = visible_cells(len(cells), room, done - 1, done - 1)
    shown_cells = cells[window.start : window.stop]
    if window.start > 0:
        shown_cells[0] = cut
    if window.stop < len(cells):
        shown_cells[-1] = cut
    return Text(f"{name} = [" + ", ".join(shown_cells) + "]")


def _frame(
    explanation: Explanation,
    step: Step,
    done: int,
    lags: bool = False,
    width: int = 80,
    layout: _Layout | None = None,
) -> RenderableType:
    """One frame of the animation, ``width`` cells wide: the window lit up over the signal
    (a part of it that fits, scrolled to the window), the kernel as slid under it, the
    products, and the output filled in up to this step. Cells keep one width throughout."""
    layout = layout or _layout(explanation)
    prepared = explanation.setup
    lit = np.zeros(prepared.padded.shape, dtype=bool)
    taps = tuple(np.moveaxis(step.cells, -1, 0) + _before(explanation))
    lit[taps] = True
    name = NAMES[explanation.operation]
    outputs = [format_cell(value) for value in explanation.output.flat]
    kernel_name = slid_name(explanation)
    if prepared.padded.ndim == 1:
        labels = ["n", "f", kernel_name, "products"]
        room = max((width - max(map(len, labels)) - 2) // (layout.cell + 2), 1)  # padding 1+1
        cells = visible_cells(lit.size, room, int(taps[0].min()), int(taps[0].max()))
        seen = slice(cells.start, cells.stop)
        padding = ~prepared.in_signal[seen]
        signal = list(map(_cell, prepared.padded[seen].tolist(), padding.tolist(), lit[seen]))
        weights, products = [""] * len(cells), [""] * len(cells)
        for cell, weight, product in zip(
            taps[0].tolist(), step.weights.tolist(), step.products.tolist()
        ):
            if cell in cells:  # a kernel wider than the screen shows in part
                at = cell - cells.start
                weights[at], products[at] = format_cell(weight), format_cell(product)
        before = explanation.geometry.pads[0][0]
        ruler = [Text(str(index - before), style="dim") for index in cells]
        shown_rows: tuple[Sequence[str | Text], ...] = (ruler, signal, weights, products)
        rows = [[label, *row] for label, row in zip(labels, shown_rows)]
        picture: RenderableType = _cells_grid(rows, layout.cell, labelled=True)
        table = _sum_table()
        table.add_row(*_sum_row(explanation, step, lags))
        expression: RenderableType = table
        result: RenderableType = _output_line(name, outputs, done, width, layout.output)
    else:
        picture = side_by_side(
            ("f", _window_grid(prepared.padded, ~prepared.in_signal, lit)),
            (kernel_name, _plain_grid(step.weights)),
        )
        expression = _block(explanation, step, lags)
        filled = [text if index < done else glyph("·") for index, text in enumerate(outputs)]
        columns = as_rows(explanation.output).shape[1]
        grid = [filled[start : start + columns] for start in range(0, len(filled), columns)]
        result = side_by_side((name, _cells_grid(grid, layout.output)))
    heading = Text(glyph(HEADINGS[explanation.operation]), style="bold underline")
    return Group(heading, picture, expression, result)


def _before(explanation: Explanation) -> np.ndarray:
    """The padding before each axis, shaped to add to a step's cells."""
    pads = [pad[0] for pad in explanation.geometry.pads]
    return np.array(pads).reshape((-1,) + (1,) * len(pads))


def animate(explanation: Explanation, delay: float, lags: bool = False) -> None:
    """Slide the window across the signal on the terminal, one output per ``delay`` seconds
    (each sum labelled with its lag too if ``lags``)."""
    console = Console()
    layout = _layout(explanation)
    positions = list(explanation.positions())
    with Live(console=console, auto_refresh=False, transient=False) as live:
        for done, position in enumerate(positions, start=1):
            step = explanation.step(position)
            frame = _frame(explanation, step, done, lags, console.width, layout)
            live.update(frame, refresh=True)
            time.sleep(delay)


def _axis_index(start: int, dilation: int, tap: str) -> str:
    """The input index a tap reads along one axis: ``1+k``, ``2k-1``, ``k``."""
    step = tap if dilation == 1 else f"{dilation}{tap}"
    if start == 0:
        return step
    return f"{start}+{step}" if start > 0 else f"{step}{start}"


def _cell_formula(cell: LayerCell) -> str:
    """The sum an output cell is, in symbols: which input cells meet which kernel taps."""
    layer_plan, spec = cell.plan, cell.spec
    geometry = layer_plan.geometry
    dims = layer_plan.dims
    taps = ["k"] if dims == 1 else [f"k{a}" for a in range(dims)]
    first = cell.output_channel // layer_plan.group_out * layer_plan.group_in
    channel = "c" if first == 0 else f"c-{first}"
    sample = f"{cell.sample}," if layer_plan.batched else ""
    bias = "" if cell.bias is None else f"bias[{cell.output_channel}] + "
    head = f"y[{_index(cell.cell)}] = {bias}Σ_c Σ_{','.join(taps)} "
    if spec.transposed:
        local = cell.output_channel % layer_plan.group_out
        spread = ", ".join(
            f"m{'' if dims == 1 else a}*{s} + {_axis_index(0, d, tap)} = {p + before}"
            for a, (p, s, d, tap, (before, _)) in enumerate(
                zip(cell.position, geometry.stride, geometry.dilation, taps, geometry.pads)
            )
        )
        inputs = ",".join("m" if dims == 1 else f"m{a}" for a in range(dims))
        return (
            f"{head}x[{sample}c,{inputs}] · w[c,{local},{','.join(taps)}] over the cells m "
            f"and taps k with {spread}"
        )
    reads = ",".join(
        _axis_index(p * s - before, d, tap)
        for p, s, d, tap, (before, _) in zip(
            cell.position, geometry.stride, geometry.dilation, taps, geometry.pads
        )
    )
    return f"{head}x[{sample}c,{reads}] · w[{cell.output_channel},{channel},{','.join(taps)}]"


def _cell_reads(term: CellTerm) -> str:
    """The input cells a term reads, ``pad`` for padding."""
    cells = [
        "pad" if pad else ",".join(map(str, index))
        for index, pad in zip(term.input_cells.tolist(), term.padding.tolist())
    ]
    return "reads " + (
        " ".join(cells) if len(term.input_cells[0]) == 1 else "(" + ") (".join(cells) + ")"
    )


def layer_cell_view(cell: LayerCell, names: list[str] | None = None) -> RenderableType:
    """One output cell of a layer written out: per input channel of its group the products
    of the kernel's taps with the input cells they meet, then the bias plus their sums,
    checked against the layer computed whole."""
    table = Table.grid(padding=(0, 1))
    for justify in ("left", "left", "left", "left"):
        table.add_column(justify=justify)
    for term in cell.terms:
        name = f"channel {term.channel}"
        if names is not None and term.channel < len(names):
            name += f" ({names[term.channel]})"
        expression = Text()
        parts = zip(term.weights.tolist(), term.values.tolist(), term.padding.tolist())
        for number, (weight, value, padding) in enumerate(parts):
            if number:
                expression.append(" + ")
            expression.append(f"{sum_term(weight)}*")
            expression.append(sum_term(value, padding), style=_PAD_STYLE if padding else "")
        if not term.products.size:
            expression.append("no tap reaches this cell", style="dim")
        reads = _cell_reads(term) if term.products.size else ""
        table.add_row(
            Text(f"{name}:"),
            expression,
            Text(f"= {format_cell(term.total)}", style="bold"),
            Text(reads, style="dim"),
        )
    addends = ([] if cell.bias is None else [cell.bias]) + [term.total for term in cell.terms]
    total = Text(
        f"y[{_index(cell.cell)}] = {' + '.join(sum_term(value) for value in addends)} = "
        f"{format_cell(cell.value)}",
        style="bold",
    )
    agrees = cell.agrees
    check = Text(
        f"the layer gives {format_cell(cell.layer_value)}"
        + ("" if agrees else ": the written-out sum differs (a bug, please report it)"),
        style="green" if agrees else "red",
    )
    notes = []
    if cell.spec.layout == "nhwc":
        notes.append(
            Text(
                "x and w indexed channels-first, as PyTorch: x[n,c,i] is the nhwc input's "
                "[n,i,c], and w[a,b,k] the filter's [k,b,a]",
                style="dim",
            )
        )
    return Group(
        Text(glyph(_cell_formula(cell)), style="cyan"),
        table,
        total,
        check,
        *notes,
        options_line(cell.plan.geometry),
    )
