"""``convcli explain`` for slides and handouts: the worked steps as Markdown or LaTeX.

Plain text to paste, no rich: a heading per operation, its inputs, then one table row
(Markdown) or one ``align*`` line (LaTeX) per step, each the sum of products of the
window with the kernel as slid, padding in brackets as the text output marks it. The
numbers come from :mod:`convcli.analysis.steps`; nothing is computed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from convcli.analysis.steps import Explanation, Step
from convcli.render.explain import slid_name, step_label, sum_term
from convcli.render.page import LIBRARY_ADVICE, TooLarge
from convcli.render.tables import (
    HEADINGS,
    as_rows,
    display_options,
    format_cell,
    options_line,
    shown,
)

__all__ = [
    "HANDOUT_LIMIT",
    "check_size",
    "latex",
    "markdown",
    "products_text",
    "tex_number",
    "tex_text",
]

#: Most bytes of Markdown or LaTeX written at once (as for a page): more is no handout.
HANDOUT_LIMIT = 8_000_000
#: Steps written out to estimate a handout's size.
_SAMPLE_STEPS = 20

#: Cells of an input written out along each axis before its middle is left out (…).
_SHOWN_CELLS = 40
#: Width of a line of LaTeX math that fits A4's text width (345 pt in a 10 pt article), in
#: the units _tex_width counts (about a digit, 5 pt).
_LINE_WIDTH = 58
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_HEADINGS = {
    "convolution": r"Convolution $g = f * h$: flip $h$, slide it over $f$, multiply and add.",
    "correlation": r"Correlation $r = f \star h$: slide $h$ as given over $f$, multiply and add.",
}
_TEX_NAMES = {
    "padded f": r"\text{padded } f",
    "flip(h)": r"\operatorname{flip}(h)",
    "conj(h)": r"\overline{h}",
}


def markdown(
    explanations: list[Explanation], lags: bool = False, digits: int | None = None
) -> Iterator[str]:
    """GitHub-flavoured Markdown of the explanations: per operation a heading, the inputs,
    and a table of its steps (number, output, window, sum of products, value), written a
    step at a time. Numbers have ``digits`` significant digits (6 by default).

    >>> from convcli.analysis.steps import explain
    >>> print("".join(markdown([explain([2, 1, 3], [1, -1], "convolution")])).splitlines()[-4])
    | 0 | g\\[0\\] | `[2, 1]` | `(-1)*2 + 1*1` | -1 |
    """
    with display_options(digits):
        for number, explanation in enumerate(explanations):
            yield "\n" if number else ""
            yield f"### {_markdown_text(HEADINGS[explanation.operation])}\n\n"
            for name, values, padding in _inputs(explanation):
                yield f"- {name} = `{_cells(values, padding)}`\n"
            if not explanation.setup.in_signal.all():
                yield "\n`[ ]` marks padding.\n"
            yield "\n| step | output | window of f | sum of products | value |\n"
            yield "| ---: | --- | --- | --- | ---: |\n"
            for count, position in zip(explanation.steps, explanation.positions()):
                step = explanation.step(position)
                label = _markdown_text(step_label(explanation, step, lags))
                window = _markdown_cell(f"`{_cells(step.values, step.padding)}`")
                products = _markdown_cell(f"`{products_text(step)}`")
                value = _markdown_text(format_cell(step.total))
                yield f"| {count} | {label} | {window} | {products} | {value} |\n"
            yield f"\n*{_markdown_text(_options(explanation))}*\n"


def latex(
    explanations: list[Explanation], lags: bool = False, digits: int | None = None
) -> Iterator[str]:
    r"""LaTeX of the explanations (needs ``\usepackage{amsmath}``): per operation a line
    saying what it does, its inputs, and an ``align*`` environment with one line per step,
    ``g[0] &= (-1)\cdot 2 + 1\cdot 1 = -1``; written a step at a time.

    >>> from convcli.analysis.steps import explain
    >>> print("".join(latex([explain([2, 1, 3], [1, -1], "convolution")])).splitlines()[-4])
      g[0] &= (-1)\cdot 2 + 1\cdot 1 = -1 \\
    """
    with display_options(digits):
        yield "% convcli explain: the worked steps; needs \\usepackage{amsmath}\n"
        for explanation in explanations:
            yield f"\n\\noindent {_TEX_HEADINGS[explanation.operation]}\n"
            yield "\\begin{align*}\n"
            lines = [
                f"  {_TEX_NAMES.get(name, name)} &= {_tex_array(values, padding)}"
                for name, values, padding in _inputs(explanation)
            ]
            yield " \\\\\n".join(lines) + "\n\\end{align*}\n"
            yield "\\begin{align*}\n"
            for count, position in enumerate(explanation.positions()):
                yield (" \\\\\n" if count else "") + _tex_step(
                    explanation, explanation.step(position), lags
                )
            yield "\n\\end{align*}\n"
            marks = "; $[\\,]$ marks padding" if not explanation.setup.in_signal.all() else ""
            options = tex_text(_options(explanation).replace(" · ", "; "))
            yield f"{{\\small {options}{marks}}}\n"


def check_size(
    explanations: list[Explanation],
    kind: str,
    advice: str = LIBRARY_ADVICE,
    lags: bool = False,
    digits: int | None = None,
) -> None:
    """Refuse Markdown (``kind`` "markdown") or LaTeX ("latex") of the explanations over
    :data:`HANDOUT_LIMIT`, estimated from their first steps, before any is written; the
    error gives ``advice`` and a range of steps that fits.

    >>> from convcli.analysis.steps import explain
    >>> check_size([explain(list(range(100_000)), [1, 2, 3, 4], "convolution")], "markdown")
    Traceback (most recent call last):
    convcli.render.page.TooLarge: the Markdown would be about 9.51 MB, over the 8.00 MB limit for Markdown; explain a range of steps: convcli.explain(..., steps=(start, end)), or Explanation.only(start, end) (0:84077 fits, of 99997 steps)
    """
    write = {"markdown": markdown, "latex": latex}[kind]
    first = explanations[0].steps.start
    count = len(explanations[0].steps)
    sample = min(count, _SAMPLE_STEPS)
    shown = [explanation.only(first, first + sample) for explanation in explanations]
    per_step = len("".join(write(shown, lags, digits)).encode()) / sample
    estimate = round(per_step * count)
    if estimate > HANDOUT_LIMIT:
        fit = max(int(HANDOUT_LIMIT // per_step), 1)
        raise TooLarge(
            estimate,
            advice,
            kind={"markdown": "Markdown", "latex": "LaTeX"}[kind],
            limit=HANDOUT_LIMIT,
            fits=(first, first + fit),
            count=explanations[0].count,
        )


def _inputs(explanation: Explanation) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """The arrays shown before the steps: f, padded f (if padded), h and h as slid."""
    prepared = explanation.setup
    rows: list[tuple[str, np.ndarray, np.ndarray | None]] = [("f", prepared.signal, None)]
    if not prepared.in_signal.all():
        rows.append(("padded f", prepared.padded, ~prepared.in_signal))
    rows.append(("h", prepared.kernel, None))
    slid = slid_name(explanation)
    if slid != "h":
        rows.append((slid, prepared.weights, None))
    return rows


def _options(explanation: Explanation) -> str:
    """The line naming every option that shaped the steps, as the text output ends."""
    return options_line(explanation.geometry, explanation.method).plain


def _cells(values: np.ndarray, padding: np.ndarray | None) -> str:
    """An array as nested lists, padding in brackets, long axes cut in the middle (…)."""
    marks = np.zeros(values.shape, dtype=bool) if padding is None else padding
    if values.ndim == 1:
        cells = (
            "…" if i is None else sum_term(values[i], True) if marks[i] else format_cell(values[i])
            for i in shown(values.size, _SHOWN_CELLS)
        )
        return "[" + ", ".join(cells) + "]"
    rows = (
        "…" if i is None else _cells(values[i], marks[i])
        for i in shown(values.shape[0], _SHOWN_CELLS)
    )
    return "[" + ", ".join(rows) + "]"


def products_text(step: Step) -> str:
    """The sum of products as the text output writes it, padding in brackets.

    >>> from convcli.analysis.steps import explain
    >>> from convcli.options import Options
    >>> products_text(explain([2, 1], [1, -1], "convolution", Options(padding="full")).step((0,)))
    '(-1)*[0] + 1*2'
    """
    terms = zip(step.weights.flat, step.values.flat, step.padding.flat)
    return " + ".join(f"{sum_term(w)}*{sum_term(v, bool(pad))}" for w, v, pad in terms)


def _markdown_text(text: str) -> str:
    """Text that Markdown shows as it is: its special characters escaped.

    >>> _markdown_text("f * h | g[0]")
    'f \\\\* h \\\\| g\\\\[0\\\\]'
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _markdown_cell(text: str) -> str:
    """A table cell (a code span may hold any character but the pipe, which ends the cell)."""
    return text.replace("|", "\\|")


def tex_text(text: str) -> str:
    """Plain text as LaTeX text: its special characters escaped.

    >>> tex_text("100% of a_b & c")
    '100\\\\% of a\\\\_b \\\\& c'
    """
    return "".join(_TEX_SPECIAL.get(char, char) for char in text)


def tex_number(value: object) -> str:
    r"""A number in LaTeX math: complex as ``a + bi`` (a zero part left out), exponents as
    powers of ten.

    >>> tex_number(-3), tex_number(complex(1, -0.5)), tex_number(1j), tex_number(3 + 0j)
    ('-3', '1 - 0.5i', 'i', '3')
    >>> tex_number(2e20 + 0.5), tex_number(float("-inf"))
    ('2\\times 10^{20}', '-\\infty')
    """
    if not isinstance(value, (complex, np.complexfloating)):
        return _tex_real(format_cell(value))
    real = _tex_real(format_cell(float(value.real)))
    imaginary = _tex_real(format_cell(float(value.imag)))
    if imaginary == "0":
        return real
    sign, magnitude = ("-", imaginary[1:]) if imaginary.startswith("-") else ("+", imaginary)
    magnitude = "" if magnitude == "1" else magnitude
    if real == "0":
        return f"{'-' if sign == '-' else ''}{magnitude}i"
    return f"{real} {sign} {magnitude}i"


def _tex_real(text: str) -> str:
    """format_cell's text of a real number in LaTeX math."""
    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    if body == "inf":
        return f"{sign}\\infty"
    if body == "nan":
        return "\\mathrm{nan}"
    mantissa, exponent = body.partition("e")[::2]
    if exponent:
        body = f"{'' if mantissa == '1' else mantissa + chr(92) + 'times '}10^{{{int(exponent)}}}"
    return sign + body


def _tex_term(value: object, padding: bool = False) -> str:
    """One factor of a product: padding in brackets, negatives and sums (complex numbers)
    in parentheses."""
    text = tex_number(value)
    if padding:
        return f"[{text}]"
    if text.startswith("-") or " " in text:
        return f"({text})"
    return text


def _tex_array(values: np.ndarray, padding: np.ndarray | None) -> str:
    r"""A 1-D array as a tuple going on over lines of :data:`_LINE_WIDTH`, a 2-D one as a
    matrix in parentheses with as many columns as fit (the middle ones left out, ``\cdots``),
    padding in brackets (an ``array``, not amsmath's ``pmatrix``, which takes at most 10
    columns)."""
    marks = np.zeros(values.shape, dtype=bool) if padding is None else padding

    def cell(number: object, padded: bool, braced: bool = False) -> str:
        text = tex_number(number)
        if not padded:
            return text
        return f"{{[{text}]}}" if braced else f"[{text}]"  # \\ [ would read an option

    if values.ndim == 1:
        cells = [
            r"\dots" if i is None else cell(values[i], bool(marks[i]))
            for i in shown(values.size, _SHOWN_CELLS)
        ]
        pieces = [f"{text}," for text in cells[:-1]] + cells[-1:]
        return "(" + " \\\\\n  &\\quad ".join(_tex_lines(pieces, " ", 12)) + ")"
    grid, grid_marks = as_rows(values), as_rows(marks)
    widest = max(_tex_width(cell(v, bool(m))) for v, m in zip(grid.flat, grid_marks.flat))
    fit = max(int((_LINE_WIDTH - 6) // (widest + 2)), 2)
    columns = shown(grid.shape[1], min(fit, _SHOWN_CELLS))
    rows = []
    for i in shown(grid.shape[0], _SHOWN_CELLS):
        if i is None:
            rows.append(" & ".join(r"\vdots" for _ in columns))
            continue
        rows.append(
            " & ".join(
                r"\cdots" if j is None else cell(grid[i, j], bool(grid_marks[i, j]), True)
                for j in columns
            )
        )
    return (
        f"\\left(\\begin{{array}}{{{'c' * len(columns)}}} "
        + r" \\ ".join(rows)
        + r" \end{array}\right)"
    )


def _tex_width(math: str) -> int:
    r"""About how wide LaTeX math is, in digits: a command or a character counts one, a
    space (an operator's spacing) one, braces and superscripts nothing.

    >>> _tex_width(r"(-1)\cdot 2"), _tex_width(r"2\times 10^{20}")
    (6, 6)
    """
    return len(re.sub(r"\\[a-zA-Z]+ ?", "#", re.sub(r"[{}^]", "", math)))


def _tex_lines(pieces: list[str], joint: str, first: int = 0) -> list[str]:
    """Pieces joined by ``joint`` into lines of at most :data:`_LINE_WIDTH` (the first
    ``first`` less, the others less ``\\quad``); a piece wider than a line has one to itself."""
    lines: list[list[str]] = [[]]
    room, used = _LINE_WIDTH - first, 0
    for piece in pieces:
        width = _tex_width(piece + joint)
        if lines[-1] and used + width > room:
            lines.append([])
            room, used = _LINE_WIDTH - 6, 0
        lines[-1].append(piece)
        used += width
    return [joint.join(line) for line in lines]


def _tex_label(explanation: Explanation, step: Step, lags: bool) -> str:
    """``g[0]``, or ``g[0]\\ (\\text{lag } -1)`` with ``lags``."""
    label = step_label(explanation, step, False)
    if not lags:
        return label
    lag = ",".join(map(str, explanation.lag(step.position)))
    return f"{label}\\ (\\text{{lag }} {lag})"


def _tex_step(explanation: Explanation, step: Step, lags: bool) -> str:
    """One step as lines of ``align*``: the sum of products, then its value; a long sum goes
    on over lines of :data:`_LINE_WIDTH`."""
    terms = [
        f"{_tex_term(w)}\\cdot {_tex_term(v, bool(pad))}"
        for w, v, pad in zip(step.weights.flat, step.values.flat, step.padding.flat)
    ]
    label = _tex_label(explanation, step, lags)
    total = f" = {tex_number(step.total)}"
    pieces = [*terms[:-1], terms[-1] + total] if terms else ["0" + total]
    lines = _tex_lines(pieces, " + ", _tex_width(label) + 2)
    return f"  {label} &= " + " \\\\\n  &\\quad + ".join(lines)
