"""``--format html`` (or ``-o NAME.html``): explain, compare, backward and layer write the
lesson page; a page over the size limit is refused in one line, before anything is written.

tests/render/test_page.py checks the page's numbers; here, the commands around it.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from convcli.analysis.gradients import backward_pass
from convcli.analysis.layers import layer_terms
from convcli.analysis.steps import explain
from convcli.engine.core import compare
from convcli.options import Options
from convcli.render import page as render_page
from convcli.render.page import backward_page, explanation_page, layer_page
from convcli.render.tables import display_options
from tests.cli.runner import invoke, succeed

F, H = "2,1,3,5,4", "1,-1"
BOTH = ("convolution", "correlation")
DATA = re.compile(r'<script type="application/json" id="convcli-data">(.*?)</script>', re.S)


def page_data(page: str) -> dict:
    return json.loads(DATA.findall(page)[0])


def explanations(options: Options = Options(), operations=("convolution", "correlation")):
    return [explain([2, 1, 3, 5, 4], [1, -1], operation, options) for operation in operations]


def error_line(result) -> str:
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.rstrip("\n")


def test_explain_writes_the_library_page_to_standard_output():
    page = succeed("explain", F, H, "--format", "html").stdout
    assert page == explanation_page(explanations())


@pytest.mark.parametrize("name", ["lesson.html", "LESSON.HTM"])
def test_an_html_file_chooses_the_page(tmp_path, name):
    succeed("explain", F, H, "--op", "corr", "--padding", "full", "-o", str(tmp_path / name))
    written = (tmp_path / name).read_text(encoding="utf-8")
    chosen = explanations(Options.parse(padding="full"), ("correlation",))
    assert written == explanation_page(chosen)


def test_the_page_honours_steps_and_digits():
    result = succeed(
        "explain", "0.5,1,2,4,8", "0.3333,1", "--steps", "1:3", "--digits", "2", "--format", "html"
    )
    section = page_data(result.stdout)["steppers"][0]["sections"][0]
    chosen = explain([0.5, 1, 2, 4, 8], [0.3333, 1], "convolution").only(1, 3)
    with display_options(digits=2):
        expected = page_data(explanation_page([chosen]))["steppers"][0]["sections"][0]
    assert section == expected
    assert section["first"] == 1 and len(section["totals"]) == 2
    assert section["totals"][0] == f"{chosen.output[1]:.2g}"


def test_compare_writes_both_operations_with_its_verdict():
    page = succeed("compare", F, H, "--format", "html").stdout
    expected = explanation_page(explanations(), comparison=compare([2, 1, 3, 5, 4], [1, -1]))
    assert page == expected
    assert page_data(page)["verdict"]["kind"] == "antisymmetric"


def test_backward_and_layer_write_their_pages(tmp_path):
    page = succeed("backward", F, "1,-1,2", "--stride", "2", "--format", "html").stdout
    gradients = backward_pass([2, 1, 3, 5, 4], [1, -1, 2], None, "corr", Options.parse(stride=2))
    assert page == backward_page(gradients)
    x, w = "[[[2,1,3,5,4],[0,1,0,1,0]]]", "[[[1,-1],[1,1]]]"
    succeed("layer", x, w, "--bias", "10", "-o", str(tmp_path / "layer.html"))
    terms = layer_terms([[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]], [[[1, -1], [1, 1]]], [10])
    assert (tmp_path / "layer.html").read_text(encoding="utf-8") == layer_page(terms)


@pytest.mark.parametrize(
    ("args", "advice"),
    [
        (("explain",), "write part of it with --steps START:END"),
        (
            ("compare",),
            "write part of it with convcli explain SIGNAL KERNEL --format html --steps START:END",
        ),
    ],
)
def test_a_page_over_the_limit_is_refused_and_the_file_left_alone(
    tmp_path, monkeypatch, args, advice
):
    signal = ",".join(map(str, range(1002)))
    estimate = render_page.page_estimate(
        [
            explain(np.arange(1002), [1, -1], operation)
            for operation in ("convolution", "correlation")
        ]
    )
    monkeypatch.setattr(render_page, "PAGE_LIMIT", estimate - 1)
    target = tmp_path / "lesson.html"
    target.write_text("the old lesson")
    result = invoke(*args, signal, H, "-o", str(target))
    assert result.exit_code == 1
    message = error_line(result)
    fits = re.fullmatch(
        rf"Error: the page would be about {estimate / 1e6:.2f} MB, over the "
        rf"{(estimate - 1) / 1e6:.2f} MB limit for a page; {re.escape(advice)} "
        r"\(0:(\d+) fits, of 1001 steps\)",
        message,
    )
    assert fits, message
    assert target.read_text() == "the old lesson"
    if args == ("explain",):  # the range it says fits does, and one step more does not
        end = int(fits.group(1))
        succeed(*args, signal, H, "--steps", f"0:{end}", "-o", str(target))
        assert len(page_data(target.read_text())["steppers"][0]["sections"][0]["totals"]) == end
        assert invoke(*args, signal, H, "--steps", f"0:{end + 1}", "-o", str(target)).exit_code == 1


def test_the_layer_page_has_a_limit_too(monkeypatch):
    monkeypatch.setattr(render_page, "PAGE_LIMIT", 1000)
    result = invoke("layer", "[[[2,1,3,5,4]]]", "[[[1,-1]]]", "--format", "html")
    assert result.exit_code == 1
    assert "limit for a page; give a smaller layer" in error_line(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("explain", F, H, "--lags", "--format", "html"),
            "--lags labels text, table, CSV and JSON output, not a page",
        ),
        (
            ("compare", F, H, "--lags", "-o", "x.html"),
            "--lags labels text, table, CSV and JSON output, not a page",
        ),
        (("explain", F, H, "--animate", "-o", "x.html"), "--animate plays the steps on a terminal"),
        (
            ("compare", F, H, "--normalize", "coeff", "--format", "html"),
            "--normalize scales table, CSV and JSON",
        ),
        (
            ("explain", "[[1,2,3]]", "[[[1,1]]]", "--layer", "-o", "x.html"),
            "explain --layer writes one cell",
        ),
        (("conv", F, H, "-o", "x.html"), "this command cannot write HTML"),
        (
            ("compare", F, H, "--convention", "torch", "-o", "x.html"),
            "a page (--format html) writes out convcli's own sums",
        ),
        (
            ("compare", "1,2,3;4,5,6", "1,-1;2,-2", "--axes", "1", "-o", "x.html"),
            "a page (--format html) slides the kernel along every axis; --axes broadcasts",
        ),
    ],
)
def test_what_a_page_cannot_show_is_a_usage_error(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in error_line(result)
    assert not (tmp_path / "x.html").exists()


def test_constant_padding_reaches_the_page_and_backward_through_pad_value():
    """explain and backward take --pad-value as conv does: its cells are terms of the sums."""
    page = succeed(
        "explain", "2,1,3", "1,-1", "--padding", "1", "--pad-value", "9", "--format", "html"
    )
    expected = [
        explain([2, 1, 3], [1, -1], op, Options.parse(padding=1, pad_value=9)) for op in BOTH
    ]
    assert page.output == explanation_page(expected)
    assert expected[0].output.tolist() == [-7, -1, 2, 6]
    gradients = backward_pass(
        [2, 1, 3, 5, 4], [1, -1, 2], None, "corr", Options.parse(padding=2, pad_value=3)
    )
    shown = succeed(
        "backward", "2,1,3,5,4", "1,-1,2", "--padding", "2", "--pad-value", "3", "--format", "html"
    )
    assert shown.output == backward_page(gradients)
