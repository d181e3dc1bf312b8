"""Rich views of ``convcli layer``: a small layer as its per-channel terms, a large one as
its shapes and a summary, and what every layer computes.

Like :mod:`convcli.render.tables`, this only formats: the terms, sums and checks come
from :mod:`convcli.analysis.layers`. Arrays there are channels-first, so the views
name weights channels-first too (``w[o,c]``, whatever the layout).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text

from convcli.engine.core import kernel_symmetry
from convcli.render.tables import (
    array_view,
    format_cell,
    glyph,
    indexed_table,
    options_line,
    side_by_side,
    symmetry_line,
)

if TYPE_CHECKING:
    from convcli.analysis.layer_gradients import LayerBackward
    from convcli.analysis.layers import Layer, LayerPlan, LayerTerms

__all__ = [
    "CLOSING",
    "TERM_CELLS",
    "closing_line",
    "layer_backward_view",
    "layer_summary_view",
    "layer_terms_view",
    "shows_terms",
]

#: What a layer computes, said last.
CLOSING = {
    False: "cross-correlation (PyTorch and TensorFlow call it convolution); the same layer as "
    "a convolution takes the flipped weights",
    True: "transposed convolution (PyTorch's conv_transpose): each input cell spreads "
    "through the kernel; the same as a full convolution of the stride-spread input with "
    "the weights, or a cross-correlation with the flipped weights",
}
#: A layer is shown as its terms when they and its output hold at most this many cells
#: (a screenful or two); larger ones get their shapes and a summary.
TERM_CELLS = 2000


def shows_terms(layer_plan: LayerPlan) -> bool:
    """Whether a table shows this layer as its terms (else as a summary)."""
    per_output = layer_plan.group_in + 1
    cells = layer_plan.batch * layer_plan.out_channels * math.prod(layer_plan.output_spatial)
    return cells * per_output <= TERM_CELLS


def closing_line(spec: Layer) -> Text:
    """The line that says what the layer computes."""
    return Text(CLOSING[spec.transposed], style="bold")


def _channel(names: list[str] | None, channel: int, sample: int | None = None) -> str:
    """An input channel as the views name it: its CSV header name, or ``x[c]`` (``x[n,c]``
    in a batch)."""
    if names is not None and channel < len(names):
        return names[channel]
    return f"x[{channel}]" if sample is None else f"x[{sample},{channel}]"


def _term_name(spec: Layer, channel: str, kernel: tuple[int, int]) -> str:
    """One term's heading: ``x[0] ⋆ w[1,0]``, or ``convT(x[0], w[0,1])`` when transposed."""
    weights = f"w[{kernel[0]},{kernel[1]}]"
    return f"convT({channel}, {weights})" if spec.transposed else glyph(f"{channel} ⋆ {weights}")


def _kernel_line(name: str, kernel: np.ndarray) -> Text:
    """``w[0,1] = [1, -1]: `` (a 1-D kernel) or ``w[0,1] (3x3): ``, then compare's verdict."""
    if kernel.ndim == 1 and kernel.size <= 8:
        shown_kernel = "[" + ", ".join(format_cell(value) for value in kernel.tolist()) + "]"
        head = f"{name} = {shown_kernel}: "
    else:
        head = f"{name} ({'x'.join(map(str, kernel.shape))}): "
    # a layer multiplies the weights as they are: its verdict compares flip(w) with w
    return Text.assemble(head, symmetry_line(kernel_symmetry(kernel, conjugate=False), name))


def layer_terms_view(
    terms: LayerTerms, names: list[str] | None = None, show_all: bool = False
) -> RenderableType:
    """Each output channel as its per-input-channel terms side by side, the bias and the
    sum (per sample of a batch), the verdict on each term's kernel, whether the terms add
    up to the layer, and what the layer computes."""
    layer_plan, spec = terms.plan, terms.spec
    parts: list[RenderableType] = []
    for o in range(layer_plan.out_channels):
        kernels = [
            (terms.channel(o, j), (terms.channel(o, j), o % layer_plan.group_out))
            if spec.transposed
            else (terms.channel(o, j), (o, j))
            for j in range(layer_plan.group_in)
        ]
        for n in range(layer_plan.batch):
            sample = n if layer_plan.batch > 1 else None
            headings = [
                _term_name(spec, _channel(names, c, sample), kernel) for c, kernel in kernels
            ]
            sum_text = " + ".join(headings) + ("" if terms.bias is None else f" + bias[{o}]")
            prefix = "" if sample is None else f"sample {n} · "
            parts.append(Text(glyph(f"{prefix}output channel {o} = {sum_text}"), style="bold"))
            parts.append(_channel_body(terms, n, o, headings, show_all))
        for j, (_, kernel) in enumerate(kernels):
            parts.append(_kernel_line(f"w[{kernel[0]},{kernel[1]}]", terms.kernel(o, j)))
        parts.append(Text(""))
    parts.extend(_checks(terms))
    if spec.layout == "nhwc":
        parts.append(
            Text(
                "weights named channels-first: w[o,c] is the nhwc filter's [..., c, o] "
                "(transposed: w[c,o] is [..., o, c])",
                style="dim",
            )
        )
    parts.append(options_line(layer_plan.geometry))
    parts.append(closing_line(spec))
    return Group(*parts)


def _channel_body(
    terms: LayerTerms, n: int, o: int, headings: list[str], show_all: bool
) -> RenderableType:
    """One sample's output channel: a table of positions (1-D) or grids side by side."""
    values = [terms.terms[n, o, j] for j in range(len(headings))]
    output = terms.output[n, o]
    bias = None if terms.bias is None else terms.bias[o]
    if output.ndim == 1:
        columns = [*headings, *([] if bias is None else ["bias"]), "y"]

        def cells(i: int) -> list[str | Text]:
            row = [format_cell(term[i]) for term in values]
            return [*row, *([] if bias is None else [format_cell(bias)]), format_cell(output[i])]

        return indexed_table(columns, output.size, cells, show_all)
    panes = [(heading, array_view(term, show_all)) for heading, term in zip(headings, values)]
    if bias is not None:
        panes.append(("bias", Text(format_cell(bias))))
    panes.append(("y", array_view(output, show_all)))
    return side_by_side(*panes)


def _checks(terms: LayerTerms) -> list[Text]:
    """Whether the terms add up to the layer computed whole, and the twin too."""
    cells = terms.output.size
    twin = (
        "full cross-correlations of the stride-spread input with the flipped weights"
        if terms.spec.transposed
        else "convolutions with the flipped weights"
    )
    if terms.agrees:
        line = Text(
            f"the terms add up to the layer's output at all {cells} cells "
            "(the layer computed whole)",
            style="green",
        )
    else:
        line = Text(
            "the terms do not add up to the layer's output: a bug, please report it", style="red"
        )
    lines = [line]
    if terms.twin_agrees:
        lines.append(Text(f"the same layer as {twin}: equal at all {cells} cells", style="dim"))
    else:
        lines.append(Text(f"the layer as {twin} differs: a bug, please report it", style="red"))
    return lines


def _shape(shape: tuple[int, ...]) -> str:
    """A shape as Python writes a tuple."""
    return str(tuple(shape))


def layer_summary_view(
    output: np.ndarray,
    layer_plan: LayerPlan,
    spec: Layer,
    shapes: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...] | None],
    show_all: bool = False,
) -> RenderableType:
    """A large layer: its shapes, the sum each output channel is, each output channel's
    range and mean, and where its values go instead of the screen. ``shapes`` are the
    input's, the weights' and the bias's as given."""
    input_shape, weight_shape, bias_shape = shapes
    bias = "" if bias_shape is None else f" · bias {_shape(bias_shape)}"
    heading = glyph(
        f"layer: input {_shape(input_shape)} · weights {_shape(weight_shape)}{bias} → "
        f"output {_shape(layer_plan.output_shape)}"
    )
    kernel = "x".join(map(str, layer_plan.kernel_shape))
    per_group = layer_plan.group_in
    offset = "" if bias_shape is None else "bias[o] + "
    if spec.transposed:
        formula = f"y[n, o] = {offset}Σ_c convT(x[n, c], w[c, o])"
        what = f"{per_group} transposed convolutions with {kernel} kernels"
    else:
        formula = f"y[n, o] = {offset}Σ_c x[n, c] ⋆ w[o, c]"
        what = f"{per_group} cross-correlations with {kernel} kernels"
    group = (
        f"groups {layer_plan.groups}: each output channel reads the {per_group} input channels "
        "of its group"
        if layer_plan.groups > 1
        else "every output channel reads every input channel"
    )
    channels_axis = -1 if spec.layout == "nhwc" else (1 if layer_plan.batched else 0)
    by_channel = np.moveaxis(output, channels_axis, 0).reshape(layer_plan.out_channels, -1)
    magnitudes = np.abs(by_channel) if by_channel.dtype.kind == "c" else by_channel
    low, high = magnitudes.min(axis=1), magnitudes.max(axis=1)
    mean = by_channel.astype(np.complex128 if by_channel.dtype.kind == "c" else np.float64).mean(
        axis=1
    )
    names = ("min |y|", "max |y|") if by_channel.dtype.kind == "c" else ("min", "max")
    table = indexed_table(
        [*names, "mean"],
        layer_plan.out_channels,
        lambda o: [format_cell(low[o]), format_cell(high[o]), format_cell(mean[o])],
        show_all,
        index="output channel",
    )
    left = (
        f"the {output.size:,} output values are not shown: -o out.npy writes the whole tensor "
        "(--format json too, and csv for a 1-D layer of one sample)"
    )
    return Group(
        Text(heading, style="bold"),
        Text(glyph(f"{formula}: {what} per output channel; {group}")),
        table,
        Text(left, style="dim"),
        options_line(layer_plan.geometry),
        closing_line(spec),
    )


def _labelled(label: str, values: np.ndarray, show_all: bool) -> RenderableType:
    """``label (shape)`` over the values: a line (1-D) or a grid with a row per index of
    the axes before the last."""
    shape = "x".join(map(str, values.shape))
    if values.ndim > 2:
        rows = values.reshape(-1, values.shape[-1])
        return Group(
            Text.assemble((f"{label} ({shape})", "bold"), (", a row per leading index", "dim")),
            array_view(rows, show_all),
        )
    return Group(Text(f"{label} ({shape})", style="bold"), array_view(values, show_all))


def layer_backward_view(gradients: LayerBackward, show_all: bool = False) -> RenderableType:
    """A layer's forward output, the upstream gradient and the three gradients, each under
    the formula it came from; that dL/dx is a layer call (the transposed one of a forward
    layer), and the check against the operator's matrix."""
    spec = gradients.spec
    if spec.transposed:
        title = "transposed layer forward, forward layer backward"
    else:
        title = "layer forward (cross-correlation), transposed convolution backward"
    parts: list[RenderableType] = [Text(title, style="bold underline")]
    for formula, label, values in (
        (gradients.output_formula, "y", gradients.output),
        ("G = dL/dy, the gradient arriving from above", "G", gradients.upstream),
        (gradients.grad_input_formula, "dL/dx", gradients.grad_input),
        (gradients.grad_weight_formula, "dL/dw", gradients.grad_weight),
        (gradients.grad_bias_formula, "dL/db", gradients.grad_bias),
    ):
        parts.extend([Text(formula, style="cyan"), _labelled(label, values, show_all), Text("")])
    if spec.transposed:
        said = "dL/dx is the forward layer of G with the same weights (a cross-correlation)"
    else:
        said = "dL/dx is the transposed convolution of G with the weights"
    if gradients.transpose_agrees is None:
        parts.append(
            Text(
                f"{said}, on the padded grid; the {spec.options.pad_mode} padding's cells "
                "are folded back, which no layer call does",
                style="dim",
            )
        )
    else:
        call = gradients.grad_input_formula.split(" = ", 1)[1]
        same = "equal" if gradients.transpose_agrees else "they differ: a bug, please report it"
        parts.append(
            Text(
                f"{said}; checked that it is {call}: {same}",
                style="green" if gradients.transpose_agrees else "red",
            )
        )
    difference = gradients.largest_difference
    parts.append(
        Text(
            f"check against the {gradients.check_method} ({gradients.checked_cells} gradient "
            f"cells): largest difference {format_cell(difference)}",
            style="green" if difference == 0 else "",
        )
    )
    parts.append(options_line(gradients.plan.geometry))
    return Group(*parts)
