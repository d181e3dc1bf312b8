"""The lesson page's data against the engine: every number the page shows is the engine's,
as format_cell displays it, and the page's index arithmetic finds the cells each step reads.

tests/render/test_page_browser.py drives the page itself in Chromium.
"""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest

from convcli.analysis.gradients import backward_pass
from convcli.analysis.layers import layer_terms
from convcli.analysis.steps import Explanation, explain
from convcli.errors import ConvcliError
from convcli.options import Options
from convcli.render import page as render_page
from convcli.render.page import (
    PageTooLarge,
    backward_page,
    embedded,
    explanation_page,
    layer_page,
    page_estimate,
)
from convcli.render.tables import display_options, format_cell
from tests.reference import reference_convolve, reference_correlate, reference_layer

F, H, H2 = [2, 1, 3, 5, 4], [1, -1], [-1, 2, -1]
BOTH = ("convolution", "correlation")
DATA = re.compile(r'<script type="application/json" id="convcli-data">(.*?)</script>', re.S)


def page_data(page: str) -> dict:
    """The JSON a page embeds for its script."""
    found = DATA.findall(page)
    assert len(found) == 1
    return json.loads(found[0])


def explanations(signal: object, kernel: object, options: Options = Options()) -> list:
    return [explain(signal, kernel, operation, options) for operation in BOTH]


def reads(section: dict, position: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The page script's index arithmetic, in Python: the cells of the embedded box that
    each kernel tap reads at ``position``."""
    taps = np.ndindex(tuple(section["weights"]["shape"]))
    return [
        tuple(
            p * s + k * d - o
            for p, s, k, d, o in zip(
                position, section["stride"], tap, section["dilation"], section["origin"]
            )
        )
        for tap in taps
    ]


def assert_section_is_the_engines(section: dict, explanation: Explanation) -> None:
    """Each step's products and total as displayed, and the cells the page lights up hold
    the values the step multiplies."""
    box = np.array(section["padded"]["cells"], dtype=object).reshape(section["padded"]["shape"])
    assert section["first"] == explanation.steps.start
    assert section["weights"]["cells"] == [format_cell(v) for v in explanation.setup.weights.flat]
    positions = list(explanation.positions())
    assert len(section["totals"]) == len(positions) == len(section["products"])
    for number, position in enumerate(positions):
        step = explanation.step(position)
        assert section["totals"][number] == format_cell(step.total)
        assert section["products"][number] == [format_cell(v) for v in step.products.flat]
        shown = [box[cell] for cell in reads(section, position)]
        assert shown == [format_cell(v) for v in step.values.flat]


@pytest.mark.parametrize(
    ("signal", "kernel", "options"),
    [
        (F, H, Options()),
        (F, H2, Options.parse(padding="full")),
        (F, H2, Options.parse(padding="same", pad_mode="reflect")),
        (list(range(11)), [1, 2, 0], Options.parse(padding=3, stride=2, dilation=2)),
        (F, [1j, 2], Options.parse(padding="full", pad_mode="circular")),
        (F, H2, Options.parse(padding=2, pad_mode="constant", pad_value=7)),
        (F, H2, Options.parse(padding="1:2", pad_mode="symmetric")),
        (F, H2, Options.parse(padding=2, pad_mode="replicate")),
        (np.arange(20).reshape(4, 5), [[1, 0], [0, -1]], Options.parse(padding="same")),
        (np.arange(30.0).reshape(5, 6) / 7, np.ones((2, 3)), Options.parse(padding=1, stride=2)),
    ],
)
def test_every_number_on_the_page_is_the_engines(signal, kernel, options):
    chosen = explanations(signal, kernel, options)
    data = page_data(explanation_page(chosen))
    sections = data["steppers"][0]["sections"]
    assert [section["operation"] for section in sections] == list(BOTH)
    for section, explanation in zip(sections, chosen):
        assert_section_is_the_engines(section, explanation)


def test_the_totals_are_the_independent_reference():
    chosen = explanations(F, H2, Options.parse(padding="full"))
    sections = page_data(explanation_page(chosen))["steppers"][0]["sections"]
    for section, reference in zip(sections, (reference_convolve, reference_correlate)):
        assert section["totals"] == [format_cell(v) for v in reference(F, H2, padding="full")]


def test_a_range_of_steps_embeds_only_those_steps_and_the_cells_they_read():
    signal = list(range(1000))
    whole = explanations(signal, H2)
    part = [explanation.only(300, 310) for explanation in whole]
    section = page_data(explanation_page(part))["steppers"][0]["sections"][0]
    assert section["first"] == 300
    assert len(section["totals"]) == 10
    assert section["padded"]["shape"] == [12]  # ten windows of three cells, one apart
    assert_section_is_the_engines(section, part[0])
    data_size = [len(DATA.findall(explanation_page(chosen))[0]) for chosen in (part, whole)]
    assert data_size[0] < data_size[1] / 20


def test_numbers_follow_the_display_digits_with_exact_text_beside_them():
    chosen = explanations([1 / 3, 2 / 3, 1.0], [1.0, 1 / 7])
    with display_options(digits=3):
        section = page_data(explanation_page(chosen))["steppers"][0]["sections"][0]
    assert section["totals"][0] == f"{chosen[0].output[0]:.3g}"
    assert section["exact"][0] == repr(float(chosen[0].output[0]))
    assert section["padded"]["exact"][0] == repr(1 / 3)


def test_integers_carry_no_exact_text():
    section = page_data(explanation_page(explanations(F, H)))["steppers"][0]["sections"][0]
    assert section["exact"] is None
    assert section["padded"]["exact"] is None


@pytest.mark.parametrize(
    ("kernel", "kind"),
    [(H, "antisymmetric"), (H2, "symmetric"), ([1, 2], "none"), ([1j, 1j], "antisymmetric")],
)
def test_the_verdict_is_compares(kernel, kind):
    from convcli.engine.core import compare

    verdict = page_data(explanation_page(explanations(F, kernel)))["verdict"]
    assert verdict["kind"] == kind == compare(F, kernel).kernel_symmetry
    assert kind.split()[0] in verdict["line"] or kind == "none"
    assert "flip(h)" in verdict["why"]


def test_a_complex_kernel_is_compared_with_its_conjugate():
    verdict = page_data(explanation_page(explanations(F, [1j, 1j])))["verdict"]
    assert "conj(h)" in verdict["line"]
    assert "conj(h) = [0-1j, 0-1j]" in verdict["why"]


def test_compares_relation_joins_the_verdict():
    from convcli.engine.core import compare

    data = page_data(explanation_page(explanations(F, H), comparison=compare(F, H)))
    assert (
        data["verdict"]["relation"] == "The results are negatives of each other at all 4 positions."
    )


def test_no_input_can_close_the_script_or_inject_markup():
    title = '</script><script>alert("x")</script> & <b>'
    page = explanation_page(explanations(F, H), title=title)
    assert "<script>alert" not in page
    assert page.count("</script>") == 2  # the data's and the script's own
    assert f"<title>{html.escape(title)}</title>" in page
    assert page_data(page)["title"] == title
    script = DATA.findall(page)[0]
    assert not set("<>&") & set(script)


def test_the_page_is_self_contained():
    page = explanation_page(explanations(F, H))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.I)
    assert "@import" not in page
    assert "default-src 'none'" in page  # the browser itself refuses any request


@pytest.mark.parametrize("kernel", [H, H2])
def test_the_classic_pages_are_small(kernel):
    assert len(explanation_page(explanations(F, kernel)).encode()) <= 200_000


@pytest.mark.parametrize(
    ("signal", "kernel", "options"),
    [
        (F, H, Options()),
        (np.arange(10_002), [1, 2, 1], Options()),
        (np.random.default_rng(1).normal(size=5000), [0.25, 0.5, 0.25], Options()),
        (np.arange(2000) + 1j, [1j, 2], Options.parse(padding="same")),
        (np.random.default_rng(2).normal(size=(40, 40)), np.ones((5, 5)), Options()),
    ],
)
def test_the_estimate_is_a_near_upper_bound(signal, kernel, options):
    chosen = explanations(signal, kernel, options)
    size = len(explanation_page(chosen).encode())
    assert size <= page_estimate(chosen) <= 2 * size


def test_a_page_over_the_limit_is_refused_before_it_is_built(monkeypatch):
    chosen = explanations(np.arange(3000), H2)
    monkeypatch.setattr(render_page, "PAGE_LIMIT", page_estimate(chosen) - 1)
    with pytest.raises(PageTooLarge, match=r"over the .* limit for a page; explain a range"):
        explanation_page(chosen)
    explanation_page([explanation.only(0, 100) for explanation in chosen])


def test_three_axes_are_refused():
    with pytest.raises(ConvcliError, match="1-D and 2-D"):
        explanation_page([explain(np.ones((3, 3, 3)), np.ones((2, 2, 2)), "convolution")])


def test_embedded_escapes_the_whole_page_into_a_sandboxed_frame():
    page = explanation_page(explanations(F, H))
    frame = embedded(page, 500)
    srcdoc = re.fullmatch(
        r'<iframe srcdoc="([^"]*)" sandbox="allow-scripts" [^<>]*></iframe>'
        r"<script>[^<>]*event\.source === frame\.contentWindow[^<>]*</script>",
        frame,
    )  # and the script that fits the frame to the height its page posts
    assert srcdoc is not None
    assert html.unescape(srcdoc.group(1)) == page
    assert "height: 500px" in frame
    assert "allow-same-origin" not in frame


@pytest.mark.parametrize(
    ("forward", "options", "grad"),
    [
        ("corr", Options(), None),
        ("conv", Options.parse(padding=1), [1, 2, 3, 4, 5, 6, 7]),
        ("corr", Options.parse(stride=2, dilation=2, padding=2), None),
        ("corr", Options.parse(padding=1, pad_mode="reflect"), None),
    ],
)
def test_the_backward_page_steps_through_the_gradients(forward, options, grad):
    signal, kernel = [2, 1, 3, 5, 4, 6, 7], [1, -1, 2]
    gradients = backward_pass(signal, kernel, grad, forward, options)
    data = page_data(backward_page(gradients))
    forward_section, input_section, kernel_section = (
        stepper["sections"][0] for stepper in data["steppers"]
    )
    assert forward_section["totals"] == [format_cell(v) for v in gradients.output]
    # dL/dp, cropped by the padding, is dL/dx (zero padding drops the padded cells)
    grad_padded = input_section["totals"]
    before = gradients.geometry.pads[0][0]
    cropped = grad_padded[before : before + len(signal)] == [
        format_cell(v) for v in gradients.grad_signal
    ]
    assert cropped == (options.pad_mode == "zeros")  # reflect adds the padding's back
    grad_kernel = kernel_section["totals"]
    if forward == "conv":
        grad_kernel = grad_kernel[::-1]
    assert grad_kernel == [format_cell(v) for v in gradients.grad_kernel]
    assert data["steppers"][1]["result"]["cells"] == [format_cell(v) for v in gradients.grad_signal]


@pytest.mark.parametrize(
    ("x", "w", "bias", "options"),
    [
        ([[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]], [[[1, -1], [1, 1]], [[2, 0], [0, 1]]], [10, -1], {}),
        (
            np.arange(24).reshape(2, 4, 3),
            np.arange(12).reshape(4, 1, 3) - 5,
            None,
            {"groups": 4, "padding": 1, "pad_mode": "reflect"},
        ),
        (
            np.arange(32).reshape(1, 2, 4, 4) % 7,
            np.array([[[[1, 0], [0, -1]], [[2, 1], [1, 2]]]]),
            [3],
            {"stride": 2, "padding": 1, "pad_mode": "constant", "pad_value": 5},
        ),
        ([[[1.5, -2.0, 0.25, 4.0]]], [[[1j, 2 - 1j]]], [0.5], {"padding": "same", "dilation": 2}),
    ],
)
def test_the_layer_page_is_each_channels_window_and_the_layers_sum(x, w, bias, options):
    """Each (sample, output channel) steps through one window per input channel of its group,
    whose products multiply the weights unconjugated, as the layer does; each cell's total is
    the independent reference layer's, and its terms are layer_terms'."""
    terms = layer_terms(x, w, bias, **options)
    data = page_data(layer_page(terms))
    assert data["kind"] == "steps"
    pairs = list(np.ndindex(terms.output.shape[:2]))
    assert [stepper["label"] for stepper in data["steppers"]] == [f"y[{n},{o}]" for n, o in pairs]
    # the reference pads with zeros or copies: a constant's cells are checked product by product
    reference = None if "pad_value" in options else reference_layer(x, w, bias, **options)
    for stepper, (n, o) in zip(data["steppers"], pairs):
        total = stepper["total"]
        assert total["bias"] == (None if bias is None else format_cell(terms.bias[o]))
        assert total["values"] == [format_cell(v) for v in terms.output[n, o].flat]
        if reference is not None:
            assert total["values"] == [format_cell(v) for v in reference[n, o].flat]
        assert len(stepper["sections"]) == terms.plan.group_in
        for j, section in enumerate(stepper["sections"]):
            c = terms.channel(o, j)
            assert section["names"]["signal"] == f"x[{n},{c}]"
            assert section["weights"]["cells"] == [format_cell(v) for v in terms.weights[o, j].flat]
            assert section["totals"] == [format_cell(v) for v in terms.terms[n, o, j].flat]
            box = np.array(section["padded"]["cells"], dtype=object)
            box = box.reshape(section["padded"]["shape"])
            for number, position in enumerate(np.ndindex(terms.output.shape[2:])):
                values = [box[cell] for cell in reads(section, position)]
                assert len(values) == terms.weights[o, j].size
                expected = [
                    format_cell(weight * value)
                    for weight, value in zip(
                        terms.weights[o, j].flat, _padded_values(terms, n, c, position, options)
                    )
                ]
                assert section["products"][number] == expected


def _padded_values(terms, n, c, position, options) -> list:
    """The input cells (padding as its pad mode fills it) that the kernel's taps meet at
    ``position``, by numpy.pad on the channel and the layer's own geometry."""
    geometry = terms.plan.geometry
    mode = {"zeros": "constant", "replicate": "edge", "circular": "wrap"}.get(
        geometry.pad_mode, geometry.pad_mode
    )
    fill = {"constant_values": options.get("pad_value", 0)} if mode == "constant" else {}
    padded = np.pad(terms.input[n, c], geometry.pads, mode, **fill)
    return [
        padded[
            tuple(
                p * s + k * d
                for p, s, k, d in zip(position, geometry.stride, tap, geometry.dilation)
            )
        ]
        for tap in np.ndindex(terms.weights.shape[2:])
    ]


def test_a_transposed_grouped_layer_page_names_its_terms():
    x = np.arange(12).reshape(1, 4, 3)
    terms = layer_terms(x, np.ones((4, 2, 2), int), groups=2, transposed=True)
    data = page_data(layer_page(terms))
    assert data["term_names"][1] == ["x[0] spread by w[0,1]", "x[1] spread by w[1,1]"]
    assert data["term_names"][2] == ["x[2] spread by w[2,0]", "x[3] spread by w[3,0]"]
    assert [cell[3] for cell in data["cells"]] == [format_cell(v) for v in terms.output.flat]


def test_the_layer_and_backward_pages_say_their_geometry():
    """The options line names the padding rule, pad mode (a constant's value), stride and,
    for an nhwc layer, that the page shows it channels first."""
    terms = layer_terms(
        [[[1], [2], [3], [4]]], [[[1]], [[2]]], layout="nhwc", padding=1, pad_value=2
    )
    options = page_data(layer_page(terms))["options"]
    assert "channels first, as PyTorch (the nhwc input" in options
    assert "padding explicit (1+1); pad mode constant (2)" in options
    spread = layer_terms([[[1, 2, 3]]], [[[1, 1]]], transposed=True, stride=2, output_padding=1)
    assert (
        "stride 2; output padding 1; output (1, 1, 7)" in page_data(layer_page(spread))["options"]
    )
    gradients = backward_pass([2, 1, 3, 5, 4], [1, -1], None, "corr", Options())
    assert page_data(backward_page(gradients))["options"] == "padding valid (0+0)"
