"""The notebook views: each result's repr and HTML say what was computed, the options, the
values (read back and compared with the engine's) and the verdict; HTML is well-formed and
escaped; long arrays are shortened as numpy prints them, with the count left out said."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import convcli
from convcli.api import compute
from convcli.options import Options
from convcli.render import notebook
from convcli.render.notebook import Row, View, view_html
from tests.examples import F

H = [1, -1]


def block(text: str, label: str) -> str:
    """The value written after ``label`` in a view's text, continuation lines included."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"  {label}  ") or line == f"  {label}":
            found = [line[len(label) + 2 :]]
            for following in lines[index + 1 :]:
                if not following.startswith("   "):
                    break
                found.append(following)
            return "\n".join(part.strip() for part in found)
    raise AssertionError(f"no row {label!r} in:\n{text}")


def array(text: str) -> np.ndarray:
    """An array as numpy printed it, read back."""
    return np.array(ast.literal_eval(text.replace("\n", " ")))


def cells(text: str, label: str, columns: tuple[str, ...]) -> list[np.ndarray]:
    """The side-by-side cells of a row, each after its column's name."""
    value = block(text, label)
    pattern = "|".join(re.escape(f"{column}: ") for column in columns)
    return [array(part) for part in re.split(pattern, value) if part.strip()]


def html_rows(markup: str) -> dict[str, list[str]]:
    """Each row's label and its cells' text, from well-formed HTML."""
    root = ET.fromstring(markup)
    rows = {}
    for row in root.iter("tr"):
        heading = row.find("th")
        cells_text = ["".join(cell.itertext()) for cell in row.findall("td")]
        if heading is not None and heading.text and cells_text:
            rows[heading.text] = cells_text
    return rows


def html_array(cell: str) -> np.ndarray:
    """An array cell's values (its left-out note dropped)."""
    return array(cell.split("(")[0] if "left out" in cell else cell)


# --------------------------------------------------------------------------- Comparison

COLUMNS = ("convolution f * h", "correlation f \u22c6 h")


def test_comparison_text_says_what_the_options_the_values_and_the_verdict():
    comparison = convcli.compare(F, H, padding="full")
    text = repr(comparison)
    assert text.splitlines()[0] == (
        "Comparison: convolution and correlation of f (5 values) with h (2 values)"
    )
    assert block(text, "options").startswith("padding full (1:1)")
    assert "method direct" in block(text, "options")
    np.testing.assert_array_equal(array(block(text, "signal f")), comparison.signal)
    np.testing.assert_array_equal(array(block(text, "kernel h")), comparison.kernel)
    np.testing.assert_array_equal(array(block(text, "flip(h)")), comparison.flipped_kernel)
    convolution, correlation = cells(text, "output", COLUMNS)
    np.testing.assert_array_equal(convolution, comparison.convolution)
    np.testing.assert_array_equal(correlation, comparison.correlation)
    assert block(text, "verdict").startswith("antisymmetric kernel: flip(h) = -h")
    assert "negatives of each other at all 6 positions" in block(text, "verdict")


def test_comparison_html_is_a_side_by_side_table_with_the_engines_values():
    comparison = convcli.compare([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 2]], padding="same")
    markup = comparison._repr_html_()
    rows = html_rows(markup)
    np.testing.assert_array_equal(html_array(rows["signal f"][0]), comparison.signal)
    convolution, correlation = rows["output"]
    np.testing.assert_array_equal(html_array(convolution), comparison.convolution)
    np.testing.assert_array_equal(html_array(correlation), comparison.correlation)
    headings = ["".join(th.itertext()) for th in ET.fromstring(markup).iter("th") if th.text]
    assert COLUMNS[0] in headings and COLUMNS[1] in headings
    assert "kernel symmetry: none" in markup
    assert "padding same" in markup


def test_a_symmetric_kernel_says_the_results_are_identical():
    text = repr(convcli.compare(F, [1, 2, 1]))
    assert "symmetric kernel: flip(h) = h" in block(text, "verdict")
    assert "identical at all 3 positions" in block(text, "verdict")


def test_a_library_convention_shows_its_calls_escaped_in_html():
    comparison = convcli.compare(F, H, convention="numpy")
    text = repr(comparison)
    assert text.splitlines()[0].endswith("by numpy's rules")
    assert block(text, "convolution call") == 'np.convolve(f, h, mode="valid")'
    markup = comparison._repr_html_()
    assert "mode=&quot;valid&quot;" in markup
    assert html_rows(markup)["convolution call"] == ['np.convolve(f, h, mode="valid")']


# --------------------------------------------------------------------------- shortening


def test_a_long_array_is_shortened_as_numpy_prints_it_with_the_count_left_out():
    signal = np.arange(5000)
    comparison = convcli.compare(signal, [1, 1])
    text = repr(comparison)
    value = block(text, "signal f")
    assert value.splitlines()[0] == np.array2string(signal, separator=", ")
    assert "..." in value
    assert value.splitlines()[-1] == "(4994 of 5000 values left out)"
    assert "(4993 of 4999 values left out)" in block(text, "output")
    rows = html_rows(comparison._repr_html_())
    assert "(4994 of 5000 values left out)" in rows["signal f"][0]


def test_numpy_print_options_decide_the_shortening():
    comparison = convcli.compare(np.arange(30), [1, 1])
    with np.printoptions(threshold=10, edgeitems=2):
        shortened = block(repr(comparison), "signal f")
    assert shortened.startswith("[ 0,  1, ..., 28, 29]")
    assert shortened.endswith("(26 of 30 values left out)")
    with np.printoptions(threshold=100):
        np.testing.assert_array_equal(array(block(repr(comparison), "signal f")), np.arange(30))


@pytest.mark.parametrize(
    ("shape", "threshold", "edges", "hidden"),
    [((10,), 10, 3, 0), ((11,), 10, 3, 5), ((20, 3), 10, 3, 42), ((20, 20), 10, 2, 384)],
)
def test_left_out_counts_what_numpy_leaves_out(shape, threshold, edges, hidden):
    values = np.arange(np.prod(shape)).reshape(shape)
    with np.printoptions(threshold=threshold, edgeitems=edges):
        assert notebook.left_out(values) == hidden
        printed = np.array2string(values, separator=",").replace("...", "").replace("\n", "")
    assert len(re.findall(r"-?\d+", printed)) == values.size - hidden


# --------------------------------------------------------------------------- escaping


def test_html_escapes_every_text_and_stays_well_formed():
    nasty = '<script>alert("x")</script> & more'
    markup = view_html(
        View(
            nasty,
            (Row(nasty, (nasty,)), Row("pair", (nasty, np.array([1])))),
            ("<a>", "&"),
            verdict=nasty,
            notes=(nasty,),
        )
    )
    root = ET.fromstring(markup)  # well-formed XHTML
    assert root.find(".//script") is None
    assert "<script>" not in markup
    texts = list(root.itertext())
    # the title, a label, two cells, the verdict and the note; the headings too
    assert sum(nasty in text for text in texts) == 6
    assert {"<a>", "&"} <= set(texts)


def test_every_result_html_is_well_formed():
    results = [
        convcli.compare(F, H),
        compute(F, H, "convolution", Options()),
        convcli.backward(F, H),
        convcli.layer_terms([[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]], [[[1, -1], [1, 1]]], [10]),
        convcli.layer_backward([[[2, 1, 3, 5, 4]]], [[[1, -1]]]),
        convcli.find_delay([0, 0, 1, 2, 0, 0], [1, 2]),
    ]
    for result in results:
        root = ET.fromstring(result._repr_html_())
        assert root.tag == "div"
        assert root.find("table") is not None


# --------------------------------------------------------------------------- each result


def test_result_shows_its_operation_options_and_values():
    result = compute(F, H, "correlation", Options(padding="same"))
    text = repr(result)
    assert text.splitlines()[0] == "Result: correlation (f \u22c6 h), output shape (5,)"
    assert block(text, "options").startswith("padding same")
    np.testing.assert_array_equal(array(block(text, "correlation")), result.values)
    np.testing.assert_array_equal(
        html_array(html_rows(result._repr_html_())["correlation"][0]), result.values
    )


def test_backward_shows_each_gradient_under_its_formula_and_the_check():
    gradients = convcli.backward(F, H, [1, 2, 3, 4], padding="valid")
    text = repr(gradients)
    assert text.splitlines()[0].startswith("Backward: correlation forward, convolution backward")
    for label, values, formula in (
        ("y", gradients.output, gradients.output_formula),
        ("dL/dx", gradients.grad_signal, gradients.grad_signal_formula),
        ("dL/dw", gradients.grad_kernel, gradients.grad_kernel_formula),
        ("G", gradients.upstream, "G = dL/dy"),
    ):
        first, *rest = block(text, label).splitlines()
        assert first.startswith(formula)
        np.testing.assert_array_equal(array("\n".join(rest)), values)
    assert block(text, "verdict") == (
        "check against the operator matrix (7 gradient cells): largest difference 0"
    )
    rows = html_rows(gradients._repr_html_())
    assert rows["dL/dx"][0] == gradients.grad_signal_formula
    np.testing.assert_array_equal(html_array(rows["dL/dx"][1]), gradients.grad_signal)


def test_layer_terms_shows_the_terms_the_output_and_whether_they_agree():
    terms = convcli.layer_terms([[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]], [[[1, -1], [1, 1]]], [10])
    text = repr(terms)
    assert text.splitlines()[0].startswith("LayerTerms: a layer from 2 to 1 channels")
    np.testing.assert_array_equal(array(block(text, "terms")), terms.terms)
    np.testing.assert_array_equal(array(block(text, "output")), terms.output)
    np.testing.assert_array_equal(array(block(text, "bias")), terms.bias)
    assert block(text, "verdict").startswith("bias + the sum of the terms = the layer's output")
    assert "NOT" not in text


def test_layer_backward_shows_the_three_gradients():
    result = convcli.layer_backward([[[2, 1, 3, 5, 4]]], [[[1, -1]]], bias=[1])
    text = repr(result)
    for label, values in (
        ("dL/dx", result.grad_input),
        ("dL/dw", result.grad_weight),
        ("dL/db", result.grad_bias),
    ):
        np.testing.assert_array_equal(array("\n".join(block(text, label).splitlines()[1:])), values)
    assert "largest difference 0" in block(text, "verdict")


def test_delay_says_what_the_lag_means():
    delay = convcli.find_delay([0, 0, 1, 2, 0, 0], [1, 2])
    text = repr(delay)
    assert text.splitlines()[0] == "Delay: the signal is the reference delayed by 2 sample(s)"
    assert int(block(text, "lag")) == delay.lag
    assert float(block(text, "normalized peak")) == delay.normalized_peak


# --------------------------------------------------------------------------- explanations


def test_explanation_text_writes_out_each_step_as_its_sum():
    explanation = convcli.explain(F, H, operation="convolution").convolution
    text = repr(explanation)
    assert text.splitlines()[0] == (
        "Explanation: convolution of f (5 values) with h (2 values), 4 steps"
    )
    np.testing.assert_array_equal(array(block(text, "flip(h)")), [-1, 1])
    np.testing.assert_array_equal(array(block(text, "g = f * h")), explanation.output)
    assert block(text, "step 0") == "g[0] = (-1)\u00b72 + 1\u00b71 = -1"
    totals = [int(block(text, f"step {n}").rsplit("= ", 1)[1]) for n in range(4)]
    assert totals == explanation.output.tolist()


def test_explanation_text_marks_padding_and_leaves_out_middle_steps():
    explanation = convcli.explain(np.arange(30), [1, 2, 1], padding="same").correlation
    text = repr(explanation)
    assert block(text, "step 0") == "r[0] = 1\u00b7[0] + 2\u00b70 + 1\u00b71 = 1"
    assert block(text, "...") == "(24 of 30 steps left out)"
    assert block(text, "step 29").endswith(f"= {explanation.output[-1]}")
    assert "step 3 " not in text
    assert "note: [ ] marks padding" in text


def test_an_explanation_of_a_range_says_which_steps():
    explanation = convcli.explain(F, H, steps=(1, 3)).convolution
    text = repr(explanation)
    assert text.splitlines()[0].endswith("4 steps, steps 1:3")
    assert [line.split()[:2] for line in text.splitlines() if line.startswith("  step")] == [
        ["step", "1"],
        ["step", "2"],
    ]


def test_walkthrough_text_has_both_explanations_and_the_verdict():
    walkthrough = convcli.explain(F, [-1, 2, -1])
    text = repr(walkthrough)
    assert text.startswith("Walkthrough: convolution and correlation, step by step")
    assert "Explanation: convolution" in text and "Explanation: correlation" in text
    assert text.splitlines()[-1] == (
        "verdict: symmetric kernel: flip(h) = h, so convolution = correlation for every signal"
    )


def test_explanations_embed_the_interactive_page():
    """The page comes from convcli.render.page (the HTML page of convcli explain)."""
    from convcli.render import page

    walkthrough = convcli.explain(F, H)
    assert walkthrough._repr_html_() == page.embedded(
        page.explanation_page(list(walkthrough.explanations)), 860
    )
    one = walkthrough.correlation
    assert one._repr_html_() == page.embedded(page.explanation_page([one]), 860)
    flat = convcli.explain([[1, 2], [3, 4]], [[1]]).convolution
    assert "height: 1100px" in flat._repr_html_()
    assert "<iframe" in one._repr_html_()


def test_an_explanation_too_long_for_a_page_shows_its_table_and_the_limit(monkeypatch):
    from convcli.render import page

    monkeypatch.setattr(page, "PAGE_LIMIT", 1000)
    walkthrough = convcli.explain(np.arange(40), H)
    markup = walkthrough._repr_html_()
    assert "<iframe" not in markup
    assert markup.count('<div class="convcli-result">') == 2
    assert "limit for a page" in markup and "steps=(start, end)" in markup
    rows = html_rows(markup.split("</div>")[0] + "</div>")
    np.testing.assert_array_equal(html_array(rows["g = f * h"][0]), walkthrough.convolution.output)


@pytest.mark.parametrize(
    ("signal", "kernel", "options"),
    [
        ([2**70, 1, 3], [1, -1], {}),
        ([np.nan, 1, np.inf, 2], [1.5, 2], {}),
        ([1 + 2j, 3], [1j], {"padding": "full"}),
        (np.arange(24).reshape(2, 3, 4), "box:2", {}),
        ([1, 2, 3], [1, 1], {"convention": "torch"}),
    ],
)
def test_unusual_values_display_exactly(signal, kernel, options):
    comparison = convcli.compare(signal, kernel, **options)
    text = repr(comparison)
    assert "not drawn" not in text
    if comparison.convolution.dtype.kind in "iO":  # exact integers read back exactly
        convolution, correlation = cells(text, "output", COLUMNS)
        assert convolution.tolist() == comparison.convolution.tolist()
        assert correlation.tolist() == comparison.correlation.tolist()
    ET.fromstring(comparison._repr_html_())


def test_a_step_shows_its_window_and_sum():
    explanation = convcli.explain([[1, 2, 3], [4, 5, 6]], [[1, 0], [0, -1]], padding="full")
    step = explanation.convolution.step((0, 1))
    text = repr(step)
    assert text.splitlines()[0] == f"Step at (0, 1): total {step.total}"
    for label, values in (
        ("reads f at", step.cells),
        ("padding", step.padding),
        ("values", step.values),
        ("weights", step.weights),
        ("products", step.products),
    ):
        np.testing.assert_array_equal(
            array(block(text, label).replace("True", "1").replace("False", "0")), values
        )
    assert block(text, "sum") == f"total = sum(weights * values) = {step.total}"
    one = convcli.explain(F, H, padding="full").correlation.step((0,))
    np.testing.assert_array_equal(array(block(repr(one), "reads f at")), [-1, 0])
    ET.fromstring(step._repr_html_())


def test_a_layer_cell_is_written_out_as_explain_layer_prints_it():
    from convcli.analysis.layers import Layer
    from convcli.analysis.steps import layer_cell

    cell = layer_cell(
        [[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]], [[[1, -1], [1, 1]]], [10], Layer(), (0, 0, 1)
    )
    text = repr(cell)
    assert text.splitlines()[0] == "LayerCell: output cell (0, 0, 1) of a layer, as its sum"
    assert f"y[0,0,1] = 10 + (-2) + 1 = {cell.value}" in text
    assert f"the layer gives {cell.layer_value}" in text
    root = ET.fromstring(cell._repr_html_())
    assert "".join(root.itertext()) == text


def test_a_page_whose_frame_would_pass_the_limit_shows_its_table(monkeypatch):
    """The page is escaped into the frame's srcdoc, which can double it: the notebook's output
    keeps to the page's limit too, not only the page."""
    from convcli.render import page

    walkthrough = convcli.explain(np.arange(40), H)
    framed = len(walkthrough._repr_html_())
    built = len(page.explanation_page(walkthrough.explanations))
    assert built < framed
    monkeypatch.setattr(page, "PAGE_LIMIT", (built + framed) // 2)
    markup = walkthrough._repr_html_()
    assert "<iframe" not in markup
    assert "limit for a page" in markup and "steps=(start, end)" in markup
