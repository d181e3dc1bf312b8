"""explain's Markdown and LaTeX: valid of their kind, and the engine's numbers in them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from markdown_it import MarkdownIt

from convcli.analysis.steps import Explanation, explain
from convcli.options import Options
from convcli.render import handout
from convcli.render.tables import display_options, format_cell
from tests.processes import ROOT

F = [2, 1, 3, 5, 4]
H = [1, -1]
CASES = [
    (F, H, Options()),
    (F, [1, 2, 1], Options(padding="same", pad_mode="reflect")),
    (list(range(12)), [1, 0, -1], Options(padding="full", stride=(2,), dilation=(2,))),
    ([1 + 2j, 3, 0.5], [1j, 1], Options(padding="full")),
    (np.arange(1, 17).reshape(4, 4), [[1, 0], [0, -1]], Options(padding="same")),
    ([0.1, 2 / 3, 1e20, -5e-7], [1.5, -0.25], Options()),
]


def both(signal: object, kernel: object, options: Options) -> list[Explanation]:
    return [explain(signal, kernel, op, options) for op in ("convolution", "correlation")]


def table_rows(text: str) -> list[list[str]]:
    """The body cells of every table, as CommonMark with GitHub's tables parses them."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows, row, inside_body = [], [], False
    for token in tokens:
        if token.type == "tbody_open":
            inside_body = True
        elif token.type == "tbody_close":
            inside_body = False
        elif inside_body and token.type == "tr_open":
            row = []
        elif inside_body and token.type == "inline":
            row.append(token.content)
        elif inside_body and token.type == "tr_close":
            rows.append(row)
    return rows


def code(cell: str) -> str:
    """A cell's code span's text."""
    assert cell.startswith("`") and cell.endswith("`"), cell
    return cell[1:-1]


@pytest.mark.parametrize(("signal", "kernel", "options"), CASES)
def test_markdown_tables_hold_every_step(signal, kernel, options):
    explanations = both(signal, kernel, options)
    text = "".join(handout.markdown(explanations, digits=4))
    rows = table_rows(text)
    with display_options(4):
        expected = [
            (number, "g" if e.operation == "convolution" else "r", e.step(position))
            for e in explanations
            for number, position in zip(e.steps, e.positions())
        ]
        assert len(rows) == len(expected)
        for row, (number, name, step) in zip(rows, expected):
            assert len(row) == 5, row  # no cell split by a stray pipe
            assert int(row[0]) == number
            assert row[1] == f"{name}\\[{','.join(map(str, step.position))}\\]"
            products = code(row[3]).split(" + ")
            assert len(products) == step.products.size
            for term, pad in zip(products, step.padding.flat):
                assert term.split("*", 1)[1].startswith("[") == bool(pad)
            assert row[4].replace("\\", "") == format_cell(step.total)
    assert text.count("### ") == 2


def test_markdown_escapes_what_markdown_would_read():
    text = "".join(handout.markdown(both(F, H, Options(padding="full")), lags=True))
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<h3>convolution g = f * h: flip h, slide it over f, multiply and add</h3>" in html
    assert "<td>g[0] (lag -1)</td>" in html  # brackets escaped, shown as written
    assert "<code>(-1)*[0] + 1*2</code>" in html
    assert handout._markdown_cell("`a|b`") == "`a\\|b`"


def test_markdown_honours_steps():
    explanations = [e.only(1, 3) for e in both(F, H, Options())]
    rows = table_rows("".join(handout.markdown(explanations)))
    assert [row[0] for row in rows] == ["1", "2", "1", "2"]
    assert [row[4] for row in rows] == ["2", "2", "-2", "-2"]


STEP = re.compile(
    r"^  (?P<label>[gr]\[[\d,]+\].*?) &= (?P<sum>.*?)(?: = (?P<value>[^=]*?))?(?: \\\\)?$"
)


def align_lines(text: str) -> list[list[str]]:
    """The lines of each align* environment."""
    blocks = re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", text, re.S)
    return [block.split("\n") for block in blocks]


@pytest.mark.parametrize(("signal", "kernel", "options"), CASES)
def test_latex_has_a_line_per_step_with_its_value(signal, kernel, options):
    explanations = both(signal, kernel, options)
    text = "".join(handout.latex(explanations, digits=4))
    for environment in ("align*", "array"):
        assert text.count(f"\\begin{{{environment}}}") == text.count(f"\\end{{{environment}}}")
    blocks = align_lines(text)
    assert len(blocks) == 2 * len(explanations)  # inputs, then steps, per operation
    with display_options(4):
        for explanation, lines in zip(explanations, blocks[1::2]):
            steps = [line for line in lines if not line.startswith("  &\\quad")]
            assert len(steps) == explanation.count
            for line, position in zip(steps, explanation.positions()):
                name = "g" if explanation.operation == "convolution" else "r"
                assert line.startswith(f"  {name}[{','.join(map(str, position))}] &= ")
                assert line.count("&") == 1
            values = [line.rstrip(" \\").rsplit(" = ", 1)[1] for line in lines if " = " in line]
            expected = [
                handout.tex_number(explanation.step(p).total) for p in explanation.positions()
            ]
            assert values == expected
            products = " ".join(lines).count("\\cdot")
            assert products == sum(
                explanation.step(p).products.size for p in explanation.positions()
            )


@pytest.mark.parametrize(("signal", "kernel", "options"), CASES)
def test_latex_math_is_what_mathtext_reads(signal, kernel, options):
    """matplotlib's mathtext (a subset of TeX's math) takes every step's line and every
    heading; there is no TeX installed to compile with."""
    mathtext = pytest.importorskip("matplotlib.mathtext")
    parser = mathtext.MathTextParser("path")
    text = "".join(handout.latex(both(signal, kernel, options)))
    for lines in align_lines(text)[1::2]:
        for line in lines:
            math = line.replace("&", "").removesuffix("\\\\").strip()
            parser.parse(f"${math}$")
    for heading in re.findall(r"\$[^$]+\$", text):
        parser.parse(heading)


def test_latex_writes_numbers_as_mathematics():
    text = "".join(handout.latex([explain([1 + 2j, 3], [1j, 1], "correlation")]))
    assert r"r[0] &= (-i)\cdot (1 + 2i) + 1\cdot 3 = 5 - i" in text
    text = "".join(handout.latex([explain([1e20, 0.5], [-2.0], "convolution")]))
    assert r"g[0] &= (-2)\cdot 10^{20} = -2\times 10^{20}" in text


def test_latex_marks_padding_and_escapes_text():
    text = "".join(handout.latex([explain(F, H, "convolution", Options(padding="full"))]))
    assert r"g[0] &= (-1)\cdot [0] + 1\cdot 2 = 2" in text
    assert "$[\\,]$ marks padding" in text
    outside_math = re.sub(r"\$[^$]*\$|\\begin\{align\*\}.*?\\end\{align\*\}", "", text, flags=re.S)
    outside_math = re.sub(r"^%.*$", "", outside_math, flags=re.M)
    assert not re.search(r"(?<!\\)[&%#_^~]", outside_math)
    assert handout.tex_text("50% & a_b #1 {x} ~ ^ \\") == (
        r"50\% \& a\_b \#1 \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )


def test_a_long_sum_goes_on_over_lines():
    text = "".join(handout.latex([explain(list(range(40)), list(range(1, 31)), "correlation")]))
    lines = align_lines(text)[1]
    assert lines[1].startswith("  &\\quad + ") and lines[2].startswith("  &\\quad + ")
    assert 1 < lines[0].count("\\cdot") < 30
    first = [line for line in lines if line.startswith("  r[")][:2]
    assert first[0].startswith("  r[0] &= ") and first[1].startswith("  r[1] &= ")


# ---------------------------------------------------------------- compiled by pdflatex

PDFLATEX = shutil.which("pdflatex")
needs_pdflatex = pytest.mark.skipif(
    PDFLATEX is None,
    reason="pdflatex is not installed (Debian: texlive-latex-base); the mathtext test above "
    "still reads the math",
)
IMAGE32 = np.loadtxt(ROOT / "samples" / "image32.csv", delimiter=",")
SOBEL = np.loadtxt(ROOT / "samples" / "kernel3x3.csv", delimiter=",")
COMPILED = [
    (F, H, Options(), None),
    (np.arange(1, 145).reshape(12, 12), SOBEL, Options(padding="full"), (0, 3)),
    (IMAGE32, SOBEL, Options(), (0, 1)),
    ([1 + 2j, 3, 0.5], [1j, 1], Options(padding="full"), None),
    (list(range(12)), [1, 0, -1], Options(padding="same", pad_mode="reflect"), None),
]


def compiled(body: str, folder: Path, document: str = "article") -> str:
    """pdflatex's log of ``body`` in a document of class ``document`` with amsmath; fails
    with the log's end if it does not compile."""
    (folder / "doc.tex").write_text(
        f"\\documentclass{{{document}}}\n\\usepackage{{amsmath}}\n\\begin{{document}}\n"
        f"{body}\n\\end{{document}}\n"
    )
    done = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = (folder / "doc.log").read_text(errors="replace")
    assert done.returncode == 0 and (folder / "doc.pdf").exists(), log[-3000:]
    return log


@needs_pdflatex
@pytest.mark.parametrize(("signal", "kernel", "options", "span"), COMPILED)
def test_latex_compiles(tmp_path, signal, kernel, options, span):
    explanations = both(signal, kernel, options)
    if span is not None:
        explanations = [explanation.only(*span) for explanation in explanations]
    compiled("".join(handout.latex(explanations)), tmp_path)


@needs_pdflatex
@pytest.mark.parametrize(
    ("signal", "kernel"),
    [
        (list(range(1, 101)), H),
        (list(range(1, 31)), "gaussian:7"),
        ([0.123456789 * n for n in range(30)], [1.23456789e-5 * n for n in range(1, 20)]),
        (np.arange(1, 145).reshape(12, 12) * 1001, SOBEL),
    ],
)
def test_latex_fits_the_width_of_a4(tmp_path, signal, kernel):
    from convcli.analysis.kernels import named_kernel

    if isinstance(kernel, str):
        kernel = named_kernel(kernel, 1)
    explanations = [explanation.only(0, 3) for explanation in both(signal, kernel, Options())]
    log = compiled("".join(handout.latex(explanations)), tmp_path)
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)
