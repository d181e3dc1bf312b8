"""The rich views of layers: when a layer is shown as its terms, the summary of a large
one, and the backward view's word on dL/dx."""

from __future__ import annotations

import numpy as np

from convcli.analysis.layer_gradients import layer_backward
from convcli.analysis.layers import Layer, plan_layer
from convcli.render import layers as render_layers
from convcli.render.tables import view_text


def test_terms_are_shown_up_to_the_threshold() -> None:
    """(C_in/groups + 1) cells per output cell: 999 outputs of one term fit, 1001 do not."""
    spec = Layer()
    fits = plan_layer((1, 1, 1000), (1, 1, 2), None, spec)  # 999 outputs, 2 cells each
    over = plan_layer((1, 1, 1002), (1, 1, 2), None, spec)
    assert 2 * 999 <= render_layers.TERM_CELLS < 2 * 1001
    assert render_layers.shows_terms(fits)
    assert not render_layers.shows_terms(over)


def test_summary_of_a_complex_layer_shows_magnitudes() -> None:
    spec = Layer()
    layer_plan = plan_layer((2, 3), (2, 2, 2), None, spec)
    output = np.array([[3 + 4j, 0], [1, -2j]])
    text = view_text(
        render_layers.layer_summary_view(output, layer_plan, spec, ((2, 3), (2, 2, 2), None))
    )
    assert "min |y|" in text and "max |y|" in text
    rows = [line.replace("│", " ").split() for line in text.splitlines() if "│" in line]
    assert rows[0][:3] == ["0", "0", "5"]  # output channel 0: |0| to |3+4j|
    assert rows[1][:3] == ["1", "1", "2"]


def test_backward_view_says_when_no_layer_call_is_dx() -> None:
    """With a pad mode that copies cells, dL/dx folds the padding's gradient back: no layer
    call gives it, and the view says so instead of claiming a check."""
    gradients = layer_backward([[[2, 1, 3, 5, 4]]], [[[1, -1]]], padding=1, pad_mode="reflect")
    assert gradients.transpose_agrees is None
    text = " ".join(view_text(render_layers.layer_backward_view(gradients), wide=True).split())
    assert "folded back, which no layer call does" in text
    assert "checked that it is" not in text
