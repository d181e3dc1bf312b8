"""The lesson as one self-contained HTML page: step through each output in a browser.

Everything the page shows is computed here, by the engine, and embedded as JSON
(numbers as the strings :func:`~convcli.render.tables.format_cell` displays, exact text
beside them where rounding shows); the page's script (``assets/lesson.js``) only moves
an index over those strings, so it cannot disagree with the engine. CSS and script are
inline: the page needs no server, no network and no other file.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from convcli.analysis.steps import Explanation, explain
from convcli.engine.core import kernel_symmetry
from convcli.errors import ConvcliError
from convcli.options import Operation, Options
from convcli.render.tables import HEADINGS, NAMES, format_cell, symmetry_line

if TYPE_CHECKING:
    from convcli.analysis.gradients import Backward
    from convcli.analysis.layers import LayerTerms
    from convcli.engine.core import Comparison
    from convcli.engine.geometry import Geometry

__all__ = [
    "LIBRARY_ADVICE",
    "PAGE_LIMIT",
    "PageTooLarge",
    "TooLarge",
    "backward_page",
    "check_page_size",
    "embedded",
    "explanation_page",
    "layer_page",
    "page_estimate",
    "steps_that_fit",
]

#: The largest page written, in bytes (an estimate made before the page is built): a
#: browser opens a few megabytes at once, and a lesson longer than this is better split
#: into ranges of steps.
PAGE_LIMIT = 8_000_000
#: Bytes the JSON spends on one number besides its text: quotes and a comma.
_PER_NUMBER = 3
#: What a library caller can do about a page too long.
LIBRARY_ADVICE = (
    "explain a range of steps: convcli.explain(..., steps=(start, end)), or "
    "Explanation.only(start, end)"
)


class TooLarge(ConvcliError):
    """Output estimated over its size limit, refused before it is written: ``estimate``
    bytes of ``kind`` ("page", "Markdown", "LaTeX") over ``limit``. ``advice`` says what to
    do instead, and ``fits`` (with the ``count`` of steps) which range of steps would fit.
    """

    def __init__(
        self,
        estimate: int,
        advice: str,
        *,
        kind: str = "page",
        limit: int | None = None,
        fits: tuple[int, int] | None = None,
        count: int = 0,
    ) -> None:
        self.estimate = estimate
        limit = PAGE_LIMIT if limit is None else limit
        within = "a page" if kind == "page" else kind
        span = "" if fits is None else f" ({fits[0]}:{fits[1]} fits, of {count} steps)"
        super().__init__(
            f"the {kind} would be about {_megabytes(estimate)}, over the {_megabytes(limit)} "
            f"limit for {within}; {advice}{span}"
        )


class PageTooLarge(TooLarge):
    """A page would exceed :data:`PAGE_LIMIT`; ``estimate`` is its size in bytes."""


def _megabytes(size: int) -> str:
    """Bytes as megabytes, to two decimals (one would show 8.04 MB as the 8.0 MB limit)."""
    return f"{size / 1e6:.2f} MB"


@cache
def _asset(name: str) -> str:
    """One of the page's assets (CSS or script), as shipped in the package."""
    return (
        resources.files("convcli.render")
        .joinpath("assets")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )


def _exact(value: object) -> str:
    """A number as Python reads it back exactly (the tooltip beside a rounded one)."""
    if isinstance(value, (complex, np.complexfloating)):
        value = complex(value)
        imaginary = repr(value.imag)
        return f"{value.real!r}{'' if imaginary.startswith('-') else '+'}{imaginary}j"
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, float) else str(value)


def _texts(values: np.ndarray) -> list[str]:
    """Every value of an array as displayed, in row-major order."""
    return [format_cell(value) for value in values.ravel().tolist()]


def _exact_texts(values: np.ndarray) -> list[str] | None:
    """The exact text of every value, or None when the displayed text already is exact."""
    if values.dtype.kind not in "fc":
        return None
    shown, exact = _texts(values), [_exact(value) for value in values.ravel().tolist()]
    return exact if shown != exact else None


def _grid(values: np.ndarray) -> dict[str, Any]:
    """A small array for the page: its shape and its cells as displayed."""
    return {"shape": list(values.shape), "cells": _texts(values)}


def _box(explanation: Explanation) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The part of the padded signal that the chosen steps read: its first cell and shape."""
    geometry, chosen = explanation.geometry, explanation.steps
    positions = np.array(np.unravel_index(np.array(chosen), explanation.output.shape))
    spans = [(k - 1) * d + 1 for k, d in zip(explanation.setup.weights.shape, geometry.dilation)]
    starts = positions.min(axis=1) * np.array(geometry.stride)
    ends = positions.max(axis=1) * np.array(geometry.stride) + np.array(spans)
    return tuple(int(s) for s in starts), tuple(int(e - s) for s, e in zip(starts, ends))


def _section(explanation: Explanation, names: dict[str, str] | None = None) -> dict[str, Any]:
    """One stepped operation: the padded signal the chosen steps read, the kernel as slid,
    and each step's products and total, all as displayed text."""
    setup, geometry = explanation.setup, explanation.geometry
    if explanation.output.ndim not in (1, 2):
        raise ConvcliError(
            f"a page shows 1-D and 2-D signals; this one has {explanation.output.ndim} axes"
        )
    origin, shape = _box(explanation)
    box = tuple(slice(o, o + n) for o, n in zip(origin, shape))
    padded = setup.padded[box]
    chosen = explanation.steps
    _, all_products = explanation.all_products()
    products = [_texts(step) for step in all_products]
    outputs = explanation.output.reshape(-1)[chosen.start : chosen.stop].tolist()
    totals = [format_cell(total) for total in outputs]
    exact_totals = [_exact(total) for total in outputs]
    operation = explanation.operation
    slid = "flip(h)" if operation == "convolution" else "h"
    if operation == "correlation" and setup.kernel.dtype.kind == "c":
        slid = "conj(h)"
    words = {
        "signal": "f",
        "kernel": "h",
        "slid": slid,
        "output": NAMES[operation],
        "heading": _sentence(HEADINGS[operation]),
    } | (names or {})
    return {
        "names": words,
        "operation": operation,
        "pads": [list(pad) for pad in geometry.pads],
        "pad_mode": geometry.pad_mode,
        "signal_shape": list(setup.signal.shape),
        "origin": list(origin),
        "padded": {**_grid(padded), "exact": _exact_texts(padded)},
        "weights": _grid(setup.weights),
        "stride": list(geometry.stride),
        "dilation": list(geometry.dilation),
        "output_shape": list(explanation.output.shape),
        "first": chosen.start,
        "products": products,
        "totals": totals,
        "exact": exact_totals if totals != exact_totals else None,
    }


def _sentence(text: str) -> str:
    """``text`` with a capital first letter, as a page's headings begin."""
    return text[:1].upper() + text[1:]


def _number_width(explanation: Explanation) -> int:
    """The characters of the widest number a step of this explanation likely shows."""
    setup = explanation.setup
    samples: list[object] = [explanation.output.reshape(-1)[explanation.steps.start]]
    for values in (setup.padded, setup.weights, explanation.output):
        if values.size and values.dtype != object:
            samples.extend(values.ravel()[[int(np.argmax(np.abs(values))), 0]].tolist())
        elif values.size:
            samples.append(max(values.ravel().tolist(), key=abs))
    width = max(len(format_cell(value)) for value in samples)
    if setup.padded.dtype.kind in "fc":
        width = 2 * width  # an exact text too, of about as many characters
    return width + _PER_NUMBER


def page_estimate(explanations: Sequence[Explanation]) -> int:
    """The page's size in bytes, estimated before it is built: the fixed part (styles,
    script, inputs) plus, per step, its products and total, plus the signal it reads.

    >>> page_estimate([explain([2, 1, 3, 5, 4], [1, -1], "convolution")]) < 100_000
    True
    """
    fixed = len(_asset("lesson.css")) + len(_asset("lesson.js")) + 4_000
    size = fixed
    for explanation in explanations:
        width = _number_width(explanation)
        steps = len(explanation.steps)
        _, box = _box(explanation)
        size += (steps * (explanation.setup.weights.size + 2) + int(np.prod(box))) * width
        size += explanation.setup.signal.size * width if explanation.setup.signal.size <= 64 else 0
    return size


def steps_that_fit(explanations: Sequence[Explanation]) -> int:
    """How many steps, from the first written out, a page of these explanations can hold
    within :data:`PAGE_LIMIT` (at least 1).

    >>> steps_that_fit([explain(list(range(10)), [1, -1], "convolution")])
    9
    """
    first = explanations[0].steps
    count = len(first)
    while count > 1:
        part = [e.only(first.start, first.start + count) for e in explanations]
        if page_estimate(part) <= PAGE_LIMIT:
            break
        over = page_estimate(part) / PAGE_LIMIT
        count = min(count - 1, int(count / over))
    return max(count, 1)


def check_page_size(explanations: Sequence[Explanation], advice: str) -> None:
    """Raise :class:`PageTooLarge` (with ``advice``) if the page would exceed the limit."""
    estimate = page_estimate(explanations)
    if estimate > PAGE_LIMIT:
        start = explanations[0].steps.start
        fits = (start, start + steps_that_fit(explanations))
        raise PageTooLarge(estimate, advice, fits=fits, count=explanations[0].count)


def _verdict(kernel: np.ndarray, axes: tuple[int, ...] | None) -> dict[str, str]:
    """compare's verdict on the kernel, and a paragraph on why it holds."""
    symmetry = kernel_symmetry(kernel, axes)
    conjugated = kernel.dtype.kind == "c"
    h = "conj(h)" if conjugated else "h"
    flipped = np.flip(kernel, axis=axes)
    slides = (
        f"Convolution slides flip(h) = {_inline(flipped)} over the signal; correlation slides "
        f"{h} = {_inline(np.conj(kernel) if conjugated else kernel)}."
    )
    why = {
        "symmetric": "The two are the same weights, so every window meets the same weights in "
        "both and every output is the same: convolution = correlation for every signal.",
        "antisymmetric": "Each weight of one is minus the other's, so every product, and every "
        "sum, changes sign: convolution = -correlation for every signal.",
        "none": f"flip(h) is neither {h} nor -{h}, so the windows meet different weights and "
        "the outputs differ in general (for some signals they may still agree).",
    }[symmetry]
    return {
        "kind": symmetry,
        "line": symmetry_line(symmetry, conjugated=conjugated).plain,
        "why": f"{slides} {why}",
    }


def _inline(values: np.ndarray) -> str:
    """A small array as a line: ``[1, -1]`` or ``[[1, 2], [3, 4]]``."""
    if values.ndim == 1:
        return "[" + ", ".join(_texts(values)) + "]"
    return "[" + ", ".join(_inline(row) for row in values) + "]"


def _relation(comparison: Comparison) -> str:
    """How compare found the two results, position by position."""
    total = comparison.equal.size
    if comparison.identical:
        return f"The results are identical at all {total} positions."
    if comparison.negated:
        return f"The results are negatives of each other at all {total} positions."
    return f"The results differ at {comparison.differing} of {total} positions."


def _options_text(geometry: Geometry, fill: str | None = None) -> str:
    """The geometry in a line: padding, stride, dilation and pad mode (with ``fill``, the
    constant's value).

    >>> _options_text(explain([2, 1, 3], [1, -1], "convolution", Options.parse(padding=1)).geometry)
    'padding explicit (1+1); pad mode zeros'
    """
    pads = ", ".join(f"{before}+{after}" for before, after in geometry.pads)
    padded = any(before or after for before, after in geometry.pads)
    name = geometry.padding if padded or geometry.padding != "explicit" else "valid"  # 0 is valid
    parts = [f"padding {name} ({pads})"]
    if any(s != 1 for s in geometry.stride):
        parts.append("stride " + ",".join(map(str, geometry.stride)))
    if any(d != 1 for d in geometry.dilation):
        parts.append("dilation " + ",".join(map(str, geometry.dilation)))
    if padded:
        value = f" ({fill})" if geometry.pad_mode == "constant" and fill is not None else ""
        parts.append(f"pad mode {geometry.pad_mode}{value}")
    return "; ".join(parts)


def _fill(explanation: Explanation) -> str | None:
    """What constant padding holds, as displayed (None where nothing is padded)."""
    padding = explanation.setup.padded[~explanation.setup.in_signal]
    return format_cell(padding[0]) if padding.size else None


def _inputs(explanation: Explanation) -> list[dict[str, Any]]:
    """The signal (when small enough to read), the kernel, and the kernel as each
    operation slides it."""
    setup = explanation.setup
    rows: list[dict[str, Any]] = []
    if setup.signal.size <= 64:
        rows.append({"name": "f", "note": "the signal", **_grid(setup.signal)})
    else:
        shape = "\u00d7".join(map(str, setup.signal.shape))
        rows.append({"name": "f", "note": f"the signal: {shape} values", "shape": [0], "cells": []})
    rows.append(
        {"name": "h", "note": "the kernel, as correlation slides it", **_grid(setup.kernel)}
    )
    axes = _slide_axes(explanation)
    rows.append(
        {
            "name": "flip(h)",
            "note": "as convolution slides it",
            **_grid(np.flip(setup.kernel, axis=axes)),
        }
    )
    if setup.kernel.dtype.kind == "c":
        rows[1]["note"] = "the kernel"
        rows.append(
            {"name": "conj(h)", "note": "as correlation slides it", **_grid(np.conj(setup.kernel))}
        )
    return rows


def _slide_axes(explanation: Explanation) -> tuple[int, ...]:
    batch = explanation.geometry.batch_axes
    return tuple(axis for axis in range(explanation.setup.kernel.ndim) if axis not in batch)


def _script_json(data: object) -> str:
    """JSON that can sit inside a ``<script>`` element: no ``<``, ``>`` or ``&`` in it."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    for character, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(character, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _document(title: str, data: dict[str, Any]) -> str:
    """The whole page: styles, the data and the script that shows it, all inline."""
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            '<meta name="color-scheme" content="light dark">\n',
            # no request leaves the page: scripts and styles are inline, images data: URLs
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n",
            f"<title>{html.escape(title)}</title>\n<style>\n{_asset('lesson.css')}</style>\n",
            "</head>\n<body>\n",
            '<noscript><p class="noscript">This page steps through the lesson with JavaScript;'
            " turn it on to see the steps.</p></noscript>\n",
            '<main id="lesson"></main>\n',
            f'<script type="application/json" id="convcli-data">{_script_json(data)}</script>\n',
            f"<script>\n{_asset('lesson.js')}</script>\n</body>\n</html>\n",
        ]
    )


def explanation_page(
    explanations: Sequence[Explanation],
    *,
    title: str | None = None,
    comparison: Comparison | None = None,
) -> str:
    """The whole HTML page of one or two explanations (side by side, stepped together),
    with the kernel's verdict; ``comparison`` adds how compare found the results.

    >>> page = explanation_page([explain([2, 1, 3, 5, 4], [1, -1], "convolution")])
    >>> page.startswith("<!DOCTYPE html>"), "cdn" in page.lower()
    (True, False)
    """
    if not explanations:
        raise ConvcliError("a page needs at least one explanation")
    check_page_size(explanations, LIBRARY_ADVICE)
    first = explanations[0]
    verdict = _verdict(first.setup.kernel, _slide_axes(first))
    if comparison is not None:
        verdict["relation"] = _relation(comparison)
    title = title or "Convolution and correlation, step by step"
    data = {
        "kind": "steps",
        "title": title,
        "options": _options_text(first.geometry, _fill(first)),
        "inputs": _inputs(first),
        "verdict": verdict,
        "steppers": [
            {
                "label": "the steps",
                "sections": [_section(explanation) for explanation in explanations],
            }
        ],
    }
    return _document(title, data)


def backward_page(gradients: Backward, *, title: str | None = None) -> str:
    """The backward pass as a page: the forward operation, then dL/dx (the full
    convolution of the stride-spread G with w, cropped by the padding) and dL/dw, each
    stepped output by output.

    >>> from convcli.analysis.gradients import backward_pass
    >>> page = backward_page(backward_pass([2, 1, 3, 5, 4], [1, -1], None, "corr", Options()))
    >>> "dL/dx" in page
    True
    """
    from convcli.engine.geometry import spread_by

    geometry, forward = gradients.geometry, gradients.forward
    backward_operation: Operation = "convolution" if forward == "correlation" else "correlation"
    short = {"convolution": "conv", "correlation": "corr"}
    options = Options(
        padding=geometry.pads,
        stride=geometry.stride,
        dilation=geometry.dilation,
        pad_mode=geometry.pad_mode,
    )
    forward_steps = explain(gradients.signal, gradients.kernel, forward, options)
    spread = spread_by(gradients.upstream, geometry.stride)
    input_steps = explain(
        spread,
        gradients.kernel,
        backward_operation,
        Options(padding="full", dilation=geometry.dilation),
    )
    covered = tuple(
        slice(0, padded - gap) for padded, gap in zip(geometry.padded_shape, gradients.uncovered)
    )
    kernel_steps = explain(
        forward_steps.setup.padded[covered],
        gradients.upstream,
        "correlation",
        Options(stride=geometry.dilation, dilation=geometry.stride),
    )
    explanations = [forward_steps, input_steps, kernel_steps]
    check_page_size(explanations, "give a shorter signal")
    spread_name = "dilate(G)" if any(s > 1 for s in geometry.stride) else "G"
    flipped = forward == "convolution"
    title = title or "The backward pass, step by step"
    steppers = [
        {
            "label": "forward",
            "note": gradients.output_formula,
            "sections": [
                _section(
                    forward_steps,
                    {
                        "signal": "x",
                        "kernel": "w",
                        "slid": "flip(w)" if forward == "convolution" else "w",
                        "output": "y",
                        "heading": f"Forward: {gradients.output_formula}",
                    },
                )
            ],
        },
        {
            "label": "dL/dx",
            "note": gradients.grad_signal_formula,
            "sections": [
                _section(
                    input_steps,
                    {
                        "signal": spread_name,
                        "kernel": "w",
                        "slid": "flip(w)" if backward_operation == "convolution" else "w",
                        "output": "dL/dp",
                        "heading": f"Backward to the input: dL/dp = full "
                        f"{short[backward_operation]}({spread_name}, w); dL/dx is dL/dp "
                        + _cropped(geometry.pad_mode),
                    },
                )
            ],
            "result": {"name": "dL/dx", **_grid(gradients.grad_signal)},
        },
        {
            "label": "dL/dw",
            "note": gradients.grad_kernel_formula,
            "sections": [
                _section(
                    kernel_steps,
                    {
                        "signal": "pad(x)",
                        "kernel": spread_name,
                        "slid": spread_name,
                        "output": "flip(dL/dw)" if flipped else "dL/dw",
                        "heading": f"Backward to the kernel: {gradients.grad_kernel_formula}",
                    },
                )
            ],
            "result": {"name": "dL/dw", **_grid(gradients.grad_kernel)},
        },
    ]
    data = {
        "kind": "steps",
        "title": title,
        "options": _options_text(gradients.geometry, _fill(forward_steps)),
        "inputs": [
            {"name": "x", "note": "the signal", **_grid(gradients.signal)},
            {"name": "w", "note": "the kernel", **_grid(gradients.kernel)},
            {"name": "G", "note": "the upstream gradient dL/dy", **_grid(gradients.upstream)},
        ],
        "notes": list(gradients.notes),
        "steppers": steppers,
    }
    return _document(title, data)


def _cropped(pad_mode: str) -> str:
    """How dL/dp becomes dL/dx (see convcli.analysis.gradients): cropped, or folded back."""
    if pad_mode in ("zeros", "constant"):
        return "cropped by the padding"
    return "cropped, each padded cell's gradient added onto the signal cell it copies"


def _layer_cells(terms: LayerTerms) -> Iterator[list[Any]]:
    """Every output cell of a layer as [its index, its output channel, the window sum of
    each input channel of its group, the total], as displayed."""
    output = terms.output
    group_in = terms.terms.shape[2]
    for cell in np.ndindex(output.shape):
        sample, out, *position = cell
        sums = []
        for j in range(group_in):
            index = (sample, out, j, *position)
            sums.append(format_cell(terms.terms[index]))
        yield [",".join(map(str, cell)), out, sums, format_cell(output[cell])]


def _term_names(terms: LayerTerms) -> list[list[str]]:
    """Per output channel, what each of its terms is: ``x[c] ⋆ w[o,j]`` (the correlation of
    input channel c with a kernel), or for a transposed layer ``x[c] spread by w[c,o]``."""
    plan, transposed = terms.plan, terms.spec.transposed
    names = []
    for out in range(terms.output.shape[1]):
        local = out % plan.group_out
        names.append(
            [
                f"x[{c}] spread by w[{c},{local}]" if transposed else f"x[{c}] \u22c6 w[{out},{j}]"
                for j, c in ((j, terms.channel(out, j)) for j in range(plan.group_in))
            ]
        )
    return names


def _layer_inputs(terms: LayerTerms) -> list[dict[str, Any]]:
    """The input, weights and bias as the page's header shows them: each 1-D or 2-D slice
    of a channel (when the whole array is small enough to read)."""
    kernels = "per input and output channel" if terms.spec.transposed else "per output channel"
    rows: list[dict[str, Any]] = []
    for name, values, note in (
        ("x", terms.input, "the input, per sample and channel"),
        ("w", terms.weights, f"the weights, {kernels} and the channel they read"),
    ):
        if values.size > _SHOWN_LAYER_CELLS or values.ndim > 4:
            continue
        for first, second in np.ndindex(values.shape[:2]):
            rows.append(
                {"name": f"{name}[{first},{second}]", "note": note, **_grid(values[first, second])}
            )
            note = ""
    if terms.bias is not None and terms.bias.size <= _SHOWN_LAYER_CELLS:
        rows.append({"name": "bias", "note": "one per output channel", **_grid(terms.bias)})
    return rows


#: The largest input or weights the layer page shows in full at its top.
_SHOWN_LAYER_CELLS = 256
#: Bytes the page spends on a layer's cell besides its numbers.
_LAYER_CELL_BYTES = 24


def layer_page(terms: LayerTerms, *, title: str | None = None) -> str:
    """A CNN layer as a page. A forward layer steps through each (sample, output channel)
    with one window per input channel, stepped together (that channel's correlation with
    its kernel, unconjugated as the layer multiplies), and each cell's bias plus those
    window sums; a transposed layer, whose input cells spread rather than slide, steps
    through each cell as its bias plus one sum per input channel.

    >>> from convcli.analysis.layers import layer_terms
    >>> page = layer_page(layer_terms([[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]], [[[1, -1], [1, 1]]]))
    >>> "x[0,1]" in page
    True
    """
    output = terms.output
    spec = terms.spec
    layout = (
        "channels first, as PyTorch (the nhwc input and weights moved to that order)"
        if spec.layout == "nhwc"
        else "channels first"
    )
    extra = [f"output padding {','.join(map(str, spec.output_padding))}"] if spec.transposed else []
    options_text = "; ".join(
        [
            f"cells indexed (sample, output channel, position), {layout}",
            f"input {tuple(terms.input.shape)}, weights {tuple(terms.weights.shape)}, "
            f"groups {spec.groups}" + (", transposed" if spec.transposed else ""),
            _options_text(terms.plan.geometry, format_cell(spec.options.pad_value)),
            *extra,
            f"output {tuple(output.shape)}",
        ]
    )
    title = title or "A convolution layer, cell by cell"
    common: dict[str, Any] = {
        "title": title,
        "options": options_text,
        "inputs": _layer_inputs(terms),
    }
    if not terms.spec.transposed:
        return _document(title, {"kind": "steps", **common, "steppers": _layer_steppers(terms)})
    if output.size:
        width = max(len(format_cell(v)) for v in (output.ravel()[0], terms.terms.ravel()[0])) + 8
    else:
        width = 0
    estimate = (
        len(_asset("lesson.css"))
        + len(_asset("lesson.js"))
        + output.size * ((terms.terms.shape[2] * 2 + 2) * width + _LAYER_CELL_BYTES)
    )
    if estimate > PAGE_LIMIT:
        raise PageTooLarge(estimate, _LAYER_ADVICE)
    data: dict[str, Any] = {
        "kind": "layer",
        **common,
        "term_names": _term_names(terms),
        "biases": None if terms.bias is None else _texts(terms.bias),
        "cells": list(_layer_cells(terms)),
        "agrees": bool(terms.agrees),
    }
    return _document(title, data)


_LAYER_ADVICE = "give a smaller layer (fewer channels or a smaller input)"


def _layer_steppers(terms: LayerTerms) -> list[dict[str, Any]]:
    """A forward layer's steppers: per sample and output channel, the window of each
    input channel of its group over that channel, and each cell's total."""
    geometry = terms.plan.geometry
    options = Options(
        padding=geometry.pads,
        stride=geometry.stride,
        dilation=geometry.dilation,
        pad_mode=geometry.pad_mode,
        pad_value=terms.spec.options.pad_value,
        multiply_padding=terms.spec.options.multiply_padding,
    )
    pairs = list(np.ndindex(terms.output.shape[:2]))
    kernels = {
        (out, j): np.conj(terms.kernel(out, j))  # the engine's correlation conjugates it back
        for out in range(terms.output.shape[1])
        for j in range(terms.plan.group_in)
    }
    windows = {
        (sample, out): [
            explain(
                terms.input[sample, terms.channel(out, j)], kernels[out, j], "correlation", options
            )
            for j in range(terms.plan.group_in)
        ]
        for sample, out in pairs
    }
    every = [explanation for group in windows.values() for explanation in group]
    check_page_size(every, _LAYER_ADVICE)
    steppers: list[dict[str, Any]] = []
    for sample, out in pairs:
        name = f"y[{sample},{out}]"
        sections = []
        for j, explanation in enumerate(windows[sample, out]):
            x, w = f"x[{sample},{terms.channel(out, j)}]", f"w[{out},{j}]"
            words: dict[str, str] = {"signal": x, "kernel": w, "slid": w}
            words["output"] = f"({x}\u22c6{w})"
            heading = f"{x} \u22c6 {w}: input channel {terms.channel(out, j)} with its kernel"
            sections.append(_section(explanation, words | {"heading": heading}))
        bias = None if terms.bias is None else format_cell(terms.bias[out])
        plus_bias = "" if bias is None else f"bias[{out}] + "
        steppers.append(
            {
                "label": name,
                "note": f"{name} = {plus_bias}the window sums below, one per input channel "
                "of its group",
                "sections": sections,
                "total": {
                    "name": "y",
                    "cell": [sample, out],
                    "bias": bias,
                    "values": _texts(terms.output[sample, out]),
                },
                "result": {"name": name, **_grid(terms.output[sample, out])},
            }
        )
    return steppers


def embedded(page: str, height: int | None = None) -> str:
    """The page inside a sandboxed ``<iframe>`` (scripts only: no same-origin access, no
    forms, no pop-ups), its whole text escaped into ``srcdoc``, for a notebook to show.

    >>> embedded("<p>\\"hi\\" & bye</p>", 120)  # doctest: +ELLIPSIS
    '<iframe srcdoc="&lt;p&gt;&quot;hi&quot; &amp; bye&lt;/p&gt;" sandbox="allow-scripts" ...'
    """
    tall = 640 if height is None else int(height)
    return (
        f'<iframe srcdoc="{html.escape(page, quote=True)}" sandbox="allow-scripts" '
        f'style="width: 100%; height: {tall}px; border: 0" '
        'title="convcli lesson" loading="lazy"></iframe>' + _FIT_FRAME
    )


#: Fits the frame just before it to the height its page posts (``height`` stays where
#: scripts do not run); only a number from that frame is taken, nothing else crosses.
_FIT_FRAME = (
    "<script>(function (frame) {"
    ' window.addEventListener("message", function (event) {'
    " var tall = event.data && event.data.convcliHeight;"
    ' if (event.source === frame.contentWindow && typeof tall === "number")'
    ' frame.style.height = Math.min(Math.max(Math.ceil(tall), 100), 20000) + "px";'
    " });"
    "})(document.currentScript.previousElementSibling);</script>"
)
