"""Results in IPython and Jupyter: the text of their repr and their HTML.

``convcli/__init__.py`` installs :func:`render` as :mod:`convcli.display`'s renderer, so
``Comparison``, ``Result``, the explanations, ``Backward``, the layer results and
``Delay`` draw themselves through here on their first display. Each is described once
as a :class:`View` (a title, rows of labelled values, a verdict, notes), which is then
written as text or as a compact HTML table, so the two always say the same. Arrays are
written by numpy's own printing, under the caller's ``numpy.printoptions``: a long one
shows its ends, as numpy does, and says how many values it leaves out. An explanation's
HTML is the interactive page of ``convcli explain --format html``, in an iframe.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from convcli.display import Kind
from convcli.render.tables import (
    NAMES,
    delay_meaning,
    format_cell,
    options_line,
    symmetry_line,
    verdict_line,
)

if TYPE_CHECKING:
    from convcli.analysis.gradients import Backward
    from convcli.analysis.layer_gradients import LayerBackward
    from convcli.analysis.layers import LayerPlan, LayerTerms
    from convcli.analysis.steps import Explanation, LayerCell, Step, Walkthrough
    from convcli.analysis.xcorr import Delay
    from convcli.engine.core import Comparison, Result

__all__ = [
    "FRAME_HEIGHTS",
    "SHOWN_STEPS",
    "Row",
    "View",
    "array_text",
    "left_out",
    "render",
    "step_text",
    "view_html",
    "view_text",
]

#: Steps an explanation's text writes out before it leaves out the middle ones.
SHOWN_STEPS = 10
#: The frame's height for a 1-D lesson and for one in 2 or more dimensions.
FRAME_HEIGHTS = (860, 1100)
_SIGNS = {"convolution": "f * h", "correlation": "f \u22c6 h"}
_LEFT = "text-align:left"


@dataclass(frozen=True)
class Row:
    """One labelled line: a single cell spans the view; more cells stand side by side,
    under the view's ``columns``. A cell is text or an array."""

    label: str
    cells: tuple[object, ...]


@dataclass(frozen=True)
class View:
    """What a result says, before it is written as text or HTML."""

    title: str
    rows: tuple[Row, ...]
    columns: tuple[str, ...] = ()
    verdict: str = ""
    notes: tuple[str, ...] = ()
    verdict_label: str = "verdict"


def left_out(values: np.ndarray) -> int:
    """How many values numpy's printing leaves out of ``values`` under the current print
    options (none up to ``threshold`` values; beyond, ``edgeitems`` at each end of every
    longer axis).

    >>> left_out(np.arange(10)), left_out(np.arange(2000)), left_out(np.zeros((2000, 4)))
    (0, 1994, 7976)
    """
    options = np.get_printoptions()
    if values.size <= options["threshold"]:
        return 0
    ends = 2 * options["edgeitems"]
    return int(values.size - math.prod(min(n, ends) for n in values.shape))


def array_text(values: np.ndarray) -> str:
    """An array as numpy prints it (its ends only if long), with the count left out said.

    >>> array_text(np.array([2, 1, 3]))
    '[2, 1, 3]'
    >>> print(array_text(np.arange(2000)))
    [   0,    1,    2, ..., 1997, 1998, 1999]
    (1994 of 2000 values left out)
    """
    text = np.array2string(values, separator=", ")
    hidden = left_out(values)
    return text if not hidden else f"{text}\n({hidden} of {values.size} values left out)"


def _cell_text(cell: object) -> str:
    """A cell's text: an array as :func:`array_text` writes it, text as it is."""
    return array_text(cell) if isinstance(cell, np.ndarray) else str(cell)


def _indented(text: str, indent: int) -> str:
    """Every line after the first moved right by ``indent`` spaces."""
    return text.replace("\n", "\n" + " " * indent)


def view_text(view: View) -> str:
    """The view as plain text: the title, then one label and value per line, indented.

    >>> print(view_text(View("Thing", (Row("a", (np.array([1, 2]),)),), verdict="fine")))
    Thing
      a        [1, 2]
      verdict  fine
    """
    labels = [row.label for row in view.rows] + [view.verdict_label] * bool(view.verdict)
    width = max(map(len, labels), default=0) + 2
    lines = [view.title]
    for row in view.rows:
        cells = []
        for column, cell in zip(view.columns if len(row.cells) > 1 else ("",), row.cells):
            prefix = f"{column}: " if column else ""
            cells.append(prefix + _indented(_cell_text(cell), len(prefix)))
        lines.append("  " + row.label.ljust(width) + _indented("\n".join(cells), width + 2))
    if view.verdict:
        lines.append("  " + view.verdict_label.ljust(width) + _indented(view.verdict, width + 2))
    lines.extend(f"  note: {note}" for note in view.notes)
    return "\n".join(lines)


#: Characters of an array's line in HTML before numpy wraps it.
_HTML_LINE = 10_000


def _cell_html(cell: object, span: int = 1) -> str:
    """A table cell: an array in a ``pre`` block, its count left out below in small type."""
    attributes = f' colspan="{span}"' if span > 1 else ""
    if not isinstance(cell, np.ndarray):
        return f'<td{attributes} style="{_LEFT}">{html.escape(str(cell))}</td>'
    # one line a row however wide (a notebook scrolls the block): numpy's 75-character
    # lines would break the rows of a small image in two
    text = np.array2string(cell, separator=", ", max_line_width=_HTML_LINE)
    hidden = left_out(cell)
    note = f"<br/><small>({hidden} of {cell.size} values left out)</small>" if hidden else ""
    return (
        f'<td{attributes} style="{_LEFT}"><pre style="margin:0;{_LEFT}">'
        f"{html.escape(text)}</pre>{note}</td>"
    )


def view_html(view: View) -> str:
    """The view as a compact HTML table (XHTML, every text escaped): side-by-side cells
    under their column headings, the verdict and notes below."""
    span = max((len(row.cells) for row in view.rows), default=1)
    parts = [
        '<div class="convcli-result">',
        f'<table><caption style="{_LEFT}"><b>{html.escape(view.title)}</b></caption><tbody>',
    ]
    headed = False
    for row in view.rows:
        if len(row.cells) > 1 and not headed and any(view.columns):
            headings = "".join(f'<th style="{_LEFT}">{html.escape(c)}</th>' for c in view.columns)
            parts.append(f"<tr><th></th>{headings}</tr>")
            headed = True
        cells = (
            _cell_html(row.cells[0], span)
            if len(row.cells) == 1
            else "".join(_cell_html(cell) for cell in row.cells)
        )
        parts.append(f'<tr><th style="{_LEFT}">{html.escape(row.label)}</th>{cells}</tr>')
    parts.append("</tbody></table>")
    if view.verdict:
        parts.append(f"<p><b>{html.escape(view.verdict)}</b></p>")
    parts.extend(f"<p><small>note: {html.escape(note)}</small></p>" for note in view.notes)
    parts.append("</div>")
    return "\n".join(parts)


def _shape(values: np.ndarray) -> str:
    """A shape as ``3x3``, or ``5 values`` for one axis."""
    if values.ndim == 1:
        return f"{values.size} values"
    return "x".join(map(str, values.shape))


def _options(geometry: Any, method: str | None = None, normalize: str = "none") -> Row:
    """The options row: every option that shaped the result."""
    return Row("options", (options_line(geometry, method, normalize).plain,))


def _convention_rows(result: Result | Comparison) -> list[Row]:
    """For a result by a library's rules: the call (or calls) that computes it there."""
    calls = getattr(result, "calls", None) or (getattr(result, "call", ""),)
    if not calls[0]:
        return []
    labels = ("convolution call", "correlation call") if len(calls) == 2 else ("call",)
    return [Row(label, (call,)) for label, call in zip(labels, calls)]


def comparison_view(comparison: Comparison) -> View:
    """Convolution and correlation side by side, with the inputs and the verdict."""
    f, h = comparison.signal, comparison.kernel
    convention = getattr(comparison, "convention", "convcli")
    rules = "" if convention == "convcli" else f", by {convention}'s rules"
    return View(
        f"Comparison: convolution and correlation of f ({_shape(f)}) with h ({_shape(h)})" + rules,
        (
            _options(comparison.geometry, comparison.method, comparison.normalize),
            *_convention_rows(comparison),
            Row("signal f", (f,)),
            Row("kernel h", (h,)),
            Row("flip(h)", (comparison.flipped_kernel,)),
            Row("output", (comparison.convolution, comparison.correlation)),
        ),
        columns=(f"convolution {_SIGNS['convolution']}", f"correlation {_SIGNS['correlation']}"),
        verdict=getattr(comparison, "verdict", "") or verdict_line(comparison).plain,
        notes=comparison.notes,
    )


def result_view(result: Result) -> View:
    """One operation's output, with the options that shaped it."""
    convention = getattr(result, "convention", "convcli")
    rules = "" if convention == "convcli" else f", by {convention}'s rules"
    return View(
        f"Result: {result.operation} ({_SIGNS[result.operation]}), "
        f"output shape {result.values.shape}{rules}",
        (
            _options(result.geometry, result.method, result.normalize),
            *_convention_rows(result),
            Row(result.operation, (result.values,)),
        ),
        notes=result.notes,
    )


def _term(value: object, padding: bool) -> str:
    """One number of a sum, as the explain listing writes it: negatives and complex numbers
    in parentheses, padding in brackets."""
    text = format_cell(value)
    if padding:
        return f"[{text}]"
    complex_number = isinstance(value, (complex, np.complexfloating))
    return f"({text})" if text.startswith("-") or complex_number else text


def step_text(explanation: Explanation, step: Step) -> str:
    """One step as its sum: ``g[0] = (-1)·2 + 1·1 = -1``, padding in brackets."""
    name = NAMES[explanation.operation]
    index = ",".join(map(str, step.position))
    terms = " + ".join(
        f"{_term(weight, False)}\u00b7{_term(value, pad)}"
        for weight, value, pad in zip(
            step.weights.ravel(), step.values.ravel(), step.padding.ravel()
        )
    )
    return f"{name}[{index}] = {terms} = {format_cell(step.total)}"


def _step_rows(explanation: Explanation) -> list[Row]:
    """The steps written out, by number, the middle ones left out past :data:`SHOWN_STEPS`."""
    numbered: list[tuple[int, tuple[int, ...]] | None] = list(
        zip(explanation.steps, explanation.positions())
    )
    total = len(numbered)
    if total > SHOWN_STEPS:
        ends = np.get_printoptions()["edgeitems"]
        numbered = [*numbered[:ends], None, *numbered[-ends:]]
    rows = []
    for entry in numbered:
        if entry is None:
            rows.append(Row("...", (f"({total - len(numbered) + 1} of {total} steps left out)",)))
        else:
            number, position = entry
            rows.append(
                Row(f"step {number}", (step_text(explanation, explanation.step(position)),))
            )
    return rows


def explanation_view(explanation: Explanation) -> View:
    """One operation written out as sums of products, step by step."""
    setup = explanation.setup
    operation = explanation.operation
    written = explanation.steps
    span = "" if written == range(explanation.count) else f", steps {written.start}:{written.stop}"
    rows = [_options(explanation.geometry, explanation.method), Row("signal f", (setup.signal,))]
    if not setup.in_signal.all():
        rows.append(Row("padded f", (setup.padded,)))
    rows.append(Row("kernel h", (setup.kernel,)))
    if operation == "convolution":
        rows.append(Row("flip(h)", (setup.weights,)))
    elif setup.kernel.dtype.kind == "c":
        rows.append(Row("conj(h)", (setup.weights,)))
    rows.append(Row(f"{NAMES[operation]} = {_SIGNS[operation]}", (explanation.output,)))
    return View(
        f"Explanation: {operation} of f ({_shape(setup.signal)}) with h ({_shape(setup.kernel)}), "
        f"{explanation.count} steps{span}",
        (*rows, *_step_rows(explanation)),
        notes=("[ ] marks padding",) if not setup.in_signal.all() else (),
    )


def walkthrough_text(walkthrough: Walkthrough) -> str:
    """Each explanation's text, then the kernel's verdict."""
    conjugated = walkthrough.kernel.dtype.kind == "c"
    verdict = symmetry_line(walkthrough.kernel_symmetry, conjugated=conjugated).plain
    operations = " and ".join(e.operation for e in walkthrough.explanations)
    parts = [view_text(explanation_view(e)) for e in walkthrough.explanations]
    return "\n\n".join([f"Walkthrough: {operations}, step by step", *parts, f"verdict: {verdict}"])


def backward_view(gradients: Backward) -> View:
    """The forward result and both gradients, each with the formula it came from, and
    their check."""
    forward = gradients.forward
    backward_name = "convolution" if forward == "correlation" else "correlation"
    return View(
        f"Backward: {forward} forward, {backward_name} backward, L = sum(G * y)",
        (
            _options(gradients.geometry),
            Row("x", (gradients.signal,)),
            Row("w", (gradients.kernel,)),
            Row("y", (gradients.output_formula, gradients.output)),
            Row("G", ("G = dL/dy, the gradient arriving from above", gradients.upstream)),
            Row("dL/dx", (gradients.grad_signal_formula, gradients.grad_signal)),
            Row("dL/dw", (gradients.grad_kernel_formula, gradients.grad_kernel)),
        ),
        columns=("", ""),
        verdict=_check_text(
            gradients.check_method, gradients.checked_cells, gradients.largest_difference
        ),
        notes=gradients.notes,
    )


def _check_text(method: str, cells: int, largest: float) -> str:
    """A gradient check in one line."""
    return f"check against the {method} ({cells} gradient cells): largest difference {largest:g}"


def _layer_title(kind: str, plan: LayerPlan) -> str:
    """What a layer is, in one line."""
    transposed = "transposed " if plan.transposed else ""
    return (
        f"{kind}: a {transposed}layer from {plan.in_channels} to {plan.out_channels} channels "
        f"in {plan.groups} group(s), kernel shape {plan.kernel_shape}, "
        f"batch {plan.batch}, output shape {plan.output_shape}"
    )


def _layer_options(plan: LayerPlan, spec: Any) -> Row:
    """The options row of a layer: the sliding geometry, then the layer's own."""
    return Row("options", (f"{options_line(plan.geometry).plain} \u00b7 layout {spec.layout}",))


def _agreement(agrees: bool, what: str) -> str:
    """``what`` said to hold, or not."""
    return what if agrees else f"NOT: {what}"


def layer_terms_view(terms: LayerTerms) -> View:
    """A layer as a sum of one-channel correlations, and whether the sum is the layer."""
    plan = terms.plan
    twin = "twin (flipped weights, as convolutions)"
    return View(
        _layer_title("LayerTerms", plan),
        (
            _layer_options(plan, terms.spec),
            Row("input", (terms.input,)),
            Row("weights", (terms.weights,)),
            Row("bias", ("none" if terms.bias is None else terms.bias,)),
            Row("terms", (terms.terms,)),
            Row("output", (terms.output,)),
        ),
        verdict="; ".join(
            (
                _agreement(terms.agrees, "bias + the sum of the terms = the layer's output"),
                _agreement(terms.twin_agrees, f"the {twin} gives it too"),
            )
        ),
        notes=("terms[n, o, j] is input channel j of output channel o's group, slid by w[o, j]",),
    )


def layer_backward_view(result: LayerBackward) -> View:
    """A layer's output and its three gradients, each with its formula, and their check."""
    plan = result.plan
    transpose = {
        True: "dL/dx equals the layer its formula names",
        False: "NOT: dL/dx equals the layer its formula names",
        None: "",
    }[result.transpose_agrees]
    check = _check_text(result.check_method, result.checked_cells, result.largest_difference)
    return View(
        _layer_title("LayerBackward", plan),
        (
            _layer_options(plan, result.spec),
            Row("y", (result.output_formula, result.output)),
            Row("G", ("G = dL/dy, the gradient arriving from above", result.upstream)),
            Row("dL/dx", (result.grad_input_formula, result.grad_input)),
            Row("dL/dw", (result.grad_weight_formula, result.grad_weight)),
            Row("dL/db", (result.grad_bias_formula, result.grad_bias)),
        ),
        columns=("", ""),
        verdict="; ".join(part for part in (check, transpose) if part),
    )


def delay_view(delay: Delay) -> View:
    """The lag that best aligns a signal with a reference, and the peak it was read from."""
    searched = "every lag" if delay.max_lag is None else f"lags within \u00b1{delay.max_lag}"
    return View(
        f"Delay: {delay_meaning(delay, 'the signal', 'the reference')}",
        (
            Row("lag", (delay.lag,)),
            Row("refined lag", (delay.refined_lag,)),
            Row("peak", (delay.peak,)),
            Row("normalized peak", (delay.normalized_peak,)),
            Row("searched", (f"{searched} \u00b7 method {delay.method}",)),
        ),
    )


def step_view(step: Step) -> View:
    """One output as its sum: the cells the window reads, the values there, the kernel as
    slid and the products."""
    one_axis = step.cells.shape[-1] == 1  # a signal index per tap, not an index tuple
    return View(
        f"Step at {step.position}: total {format_cell(step.total)}",
        (
            Row("reads f at", (step.cells[..., 0] if one_axis else step.cells,)),
            Row("padding", (step.padding,)),
            Row("values", (step.values,)),
            Row("weights", (step.weights,)),
            Row("products", (step.products,)),
        ),
        verdict=f"total = sum(weights * values) = {format_cell(step.total)}",
        notes=("weights are the kernel as slid: flipped for convolution",),
        verdict_label="sum",
    )


def layer_cell_text(cell: LayerCell) -> str:
    """One output cell of a layer written out, as ``convcli explain --layer`` prints it."""
    from convcli.render.explain import layer_cell_view
    from convcli.render.tables import view_text as rich_text

    listing = rich_text(layer_cell_view(cell), wide=True).rstrip()
    return f"LayerCell: output cell {cell.cell} of a layer, as its sum\n{listing}"


def _frame_height(explanations: Sequence[Explanation]) -> int:
    """The frame's height where scripts do not run (elsewhere the page posts its own): a
    1-D lesson whole (the page is about 750 to 850 tall) and most of a 2-D one."""
    return FRAME_HEIGHTS[explanations[0].output.ndim > 1]


def _page(explanations: Sequence[Explanation]) -> str:
    """The interactive page of these explanations in an iframe; past the page's size
    limit, their tables, with the limit and what to do instead."""
    from convcli.render import page

    try:
        framed = page.embedded(page.explanation_page(explanations), _frame_height(explanations))
    except page.PageTooLarge as error:
        advice = str(error)
    else:
        if len(framed) <= page.PAGE_LIMIT:
            return framed
        # escaped into the frame's srcdoc, a page under the limit can double
        advice = str(page.PageTooLarge(len(framed), page.LIBRARY_ADVICE))
    views = [explanation_view(explanation) for explanation in explanations]
    views[-1] = replace(views[-1], notes=(*views[-1].notes, advice))
    return "\n".join(view_html(view) for view in views)


_VIEWS: dict[str, Callable[[Any], View]] = {
    "Comparison": comparison_view,
    "Result": result_view,
    "Explanation": explanation_view,
    "Backward": backward_view,
    "LayerTerms": layer_terms_view,
    "LayerBackward": layer_backward_view,
    "Delay": delay_view,
    "Step": step_view,
}


def render(value: object, kind: Kind) -> str:
    """``value`` (one of convcli's results) as text or HTML; a TypeError for anything else.

    >>> from convcli.engine.core import compare
    >>> print(render(compare([2, 1, 3, 5, 4], [1, -1]), "text"))  # doctest: +ELLIPSIS
    Comparison: convolution and correlation of f (5 values) with h (2 values)
      options   padding valid (0:0) ... method direct
      signal f  [2, 1, 3, 5, 4]
      kernel h  [ 1, -1]
      flip(h)   [-1,  1]
      output    convolution f * h: [-1,  2,  2, -1]
                correlation f ⋆ h: [ 1, -2, -2,  1]
      verdict   antisymmetric kernel: flip(h) = -h, ...
    """
    # By class name, so that showing a Comparison imports no analysis module.
    names = [cls.__name__ for cls in type(value).__mro__ if cls.__module__.startswith("convcli.")]
    if "Walkthrough" in names:
        walkthrough = cast("Walkthrough", value)
        if kind == "html":
            return _page(walkthrough.explanations)
        return walkthrough_text(walkthrough)
    if "LayerCell" in names:
        text = layer_cell_text(cast("LayerCell", value))
        if kind == "html":
            return f'<div class="convcli-result"><pre>{html.escape(text)}</pre></div>'
        return text
    if "Explanation" in names and kind == "html":
        return _page([cast("Explanation", value)])
    for name in names:
        if name in _VIEWS:
            view = _VIEWS[name](value)
            return view_html(view) if kind == "html" else view_text(view)
    raise TypeError(f"convcli has no display for {type(value).__name__}")
