"""The rich views: values, the flipped kernel and the verdict, in plain text and on a terminal."""

from __future__ import annotations

import re

import numpy as np
import pytest

import convcli
from convcli.api import comparison_of
from convcli.engine import core as engine
from convcli.options import Options
from convcli.render import tables as render
from tests.examples import IMAGE, SOBEL_X, F
from tests.processes import ROOT

ESCAPE = "\x1b"
COLOUR_CODE = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def compare_text(signal, kernel, width: int = 200, **options) -> str:
    comparison = convcli.compare(signal, kernel, **options)
    return render.view_text(render.comparison_view(comparison, "f.csv"), width=width)


def numbers(line: str) -> list[str]:
    """The numbers on a line, as written."""
    return re.findall(r"-?\d+(?:\.\d+)?", line)


def rows_of_numbers(text: str) -> list[list[str]]:
    return [numbers(line) for line in text.splitlines()]


def line_with(text: str, needle: str) -> str:
    matches = [line for line in text.splitlines() if needle in line]
    assert matches, f"no line contains {needle!r}:\n{text}"
    return matches[0]


def flat(text: str) -> str:
    """Whitespace (including rich's line wrapping) collapsed to single spaces."""
    return " ".join(text.split())


# ------------------------------------------------------ comparison_view, 1-D


def test_antisymmetric_worked_example():
    text = compare_text(F, [1, -1])
    assert "[2, 1, 3, 5, 4]" in line_with(text, "f.csv")
    assert "[1, -1]" in text
    assert "[-1, 1]" in line_with(text, "flip(h)")
    header = line_with(text, "convolution ┃")
    assert header.index("index") < header.index("convolution") < header.index("correlation")
    rows = rows_of_numbers(text)
    for index, (convolution, correlation) in enumerate(zip([-1, 2, 2, -1], [1, -2, -2, 1])):
        assert [str(index), str(convolution), str(correlation)] in rows
    assert "antisymmetric" in text
    assert "negatives of each other at all 4 positions" in flat(text)


def test_symmetric_worked_example():
    text = compare_text(F, [-1, 2, -1])
    assert "[-1, 2, -1]" in line_with(text, "flip(h)")
    rows = rows_of_numbers(text)
    for index, value in enumerate([-3, 0, 3]):
        assert [str(index), str(value), str(value)] in rows
    assert "symmetric kernel" in text
    assert "antisymmetric" not in text
    assert "identical at all 3 positions" in flat(text)


def test_verdict_none_says_how_many_positions_differ():
    comparison = convcli.compare([1, 2, 1, 5, 4], [1, 0, 2])
    assert (comparison.differing, comparison.convolution.size) == (2, 3)
    text = flat(render.view_text(render.comparison_view(comparison, "f"), width=200))
    assert "none" in text
    assert "symmetric kernel" not in text
    assert "differ at 2 of 3 positions" in text
    assert "[2, 0, 1]" in text  # the flipped kernel


def test_relation_marks_per_position():
    comparison = convcli.compare([1, 2, 1, 5, 4], [1, 0, 2])
    text = render.view_text(render.comparison_view(comparison, "f"), width=200)
    table_rows = [line for line in text.splitlines() if line.startswith("│")]
    assert len(table_rows) == 3
    assert table_rows[0].rstrip("│ ").endswith("=")  # 3 == 3
    assert all(row.rstrip("│ ").endswith("≠") for row in table_rows[1:])
    antisymmetric = compare_text(F, [1, -1])
    marks = [line.rstrip("│ ")[-1] for line in antisymmetric.splitlines() if line.startswith("│")]
    assert marks == ["-"] * 4


def test_options_used_are_shown():
    text = flat(compare_text(F, [1, -1], padding="full", stride=2, dilation=2, pad_mode="reflect"))
    for words in ("padding full", "pad mode reflect", "stride 2", "dilation 2", "method direct"):
        assert words in text


def test_complex_kernel_mentions_the_conjugate():
    comparison = convcli.compare([1, 2, 3], [1j, 2])
    text = render.view_text(render.comparison_view(comparison, "f"), width=200)
    assert "conj(h)" in text
    for value in comparison.convolution.tolist() + comparison.correlation.tolist():
        assert render.format_cell(value) in text


def test_float_results_are_shown_readably():
    text = compare_text([0.1, 0.2, 0.7], [1, 1])
    assert "0.3" in text
    assert "0.30000000000000004" not in text  # tables round; CSV and JSON are exact
    assert "0.9" in text


def test_long_signal_is_not_dumped_in_full():
    signal = np.arange(300)
    text = compare_text(signal, [1, -1], width=200)
    assert "f.csv" in text
    assert ["298", "1", "-1"] in rows_of_numbers(text)  # every output is still listed
    assert "[0, 1, 2, 3" not in text


# ------------------------------------------------------ comparison_view, 2-D


def test_2d_results_side_by_side():
    comparison = convcli.compare(IMAGE, SOBEL_X)
    text = render.view_text(render.comparison_view(comparison, "image.csv"), width=200)
    assert any("convolution" in line and "correlation" in line for line in text.splitlines())
    rows = rows_of_numbers(text)
    for convolution, correlation in zip(
        comparison.convolution.tolist(), comparison.correlation.tolist()
    ):
        assert list(map(str, convolution + correlation)) in rows
    assert "antisymmetric" in text
    assert "36 positions" in flat(text)


def test_2d_kernel_and_flipped_kernel_shown():
    comparison = convcli.compare(IMAGE, SOBEL_X)
    text = render.view_text(render.comparison_view(comparison, "image.csv"), width=200)
    assert "flip(h)" in text
    rows = rows_of_numbers(text)
    flipped = np.flip(SOBEL_X).tolist()
    assert flipped == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    for image_row, kernel_row, flipped_row in zip(IMAGE.tolist(), SOBEL_X.tolist(), flipped):
        assert list(map(str, image_row + kernel_row + flipped_row)) in rows


def test_2d_symmetric_verdict():
    laplacian = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    text = flat(compare_text(IMAGE, laplacian, padding="same"))
    assert "symmetric kernel" in text
    assert "antisymmetric" not in text
    assert "identical at all 64 positions" in text


# ------------------------------------------------------------ result_view


@pytest.mark.parametrize("operation", ["convolution", "correlation"])
def test_result_view_1d(operation):
    result = engine.compute(F, [1, -1], operation, Options.parse(padding="full"))
    text = render.view_text(render.result_view(result, "f.csv", "h.csv"))
    assert operation in text
    assert "f.csv" in text and "h.csv" in text
    rows = rows_of_numbers(text)
    for index, value in enumerate(result.values.tolist()):
        assert [str(index), str(value)] in rows
    assert "padding full" in text


def test_result_view_2d():
    result = engine.compute(IMAGE, SOBEL_X, "correlation", Options.parse(stride=(2, 1)))
    text = render.view_text(render.result_view(result, "image.csv", "kernel3x3.csv"))
    assert "correlation" in text
    rows = rows_of_numbers(text)
    for row in result.values.tolist():
        assert list(map(str, row)) in rows
    assert "stride 2,1" in text


# ---------------------------------------------------------- plain and colour


@pytest.mark.parametrize("kernel", [[1, -1], [-1, 2, -1], [1, 2]])
def test_view_text_is_plain(kernel):
    assert ESCAPE not in compare_text(F, kernel)
    result = engine.compute(F, kernel, "convolution")
    assert ESCAPE not in render.view_text(render.result_view(result, "f", "h"))


def test_view_text_width():
    text = compare_text(np.arange(30), [1, 2, 3], width=60)
    assert max(map(len, text.splitlines())) <= 60


@pytest.fixture
def terminal(monkeypatch):
    """Make rich believe standard output is a colour terminal."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)


def test_print_view_uses_colour_on_a_terminal(terminal, capsys):
    render.print_view(render.comparison_view(convcli.compare(F, [1, -1]), "f"))
    out = capsys.readouterr().out
    assert COLOUR_CODE.search(out), out  # the check below can fail
    assert "antisymmetric" in out


def test_print_view_respects_no_color(terminal, monkeypatch, capsys):
    monkeypatch.setenv("NO_COLOR", "1")
    for kernel in ([1, -1], [-1, 2, -1], [1, 2]):
        render.print_view(render.comparison_view(convcli.compare(F, kernel), "f"))
    out = capsys.readouterr().out
    assert not COLOUR_CODE.search(out), repr(out[:500])
    assert "flip(h)" in out


def test_print_view_in_a_pipe_is_plain(monkeypatch, capsys):
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    render.print_view(render.comparison_view(convcli.compare(F, [1, -1]), "f"))
    out = capsys.readouterr().out
    assert ESCAPE not in out
    assert "[-1, 1]" in out


# ------------------------------------------------------------- format_cell


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (-3, "-3"),
        (np.int64(-3), "-3"),
        (2**70, "1180591620717411303424"),
        (2.0, "2"),
        (np.float64(2.5), "2.5"),
        (0.1 + 0.2, "0.3"),
        (1 / 3, "0.333333"),
        (-1 / 3, "-0.333333"),
        (1e20, "1e+20"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (float("nan"), "nan"),
        (complex(1, -0.5), "1-0.5j"),
        (np.complex128(2 + 3j), "2+3j"),
        (complex(0, 1), "0+1j"),
    ],
)
def test_format_cell(value, text):
    assert render.format_cell(value) == text


# ---------------------------------------------------------------- number display


def test_a_2d_float_grid_wider_than_the_screen_folds_instead_of_cutting_numbers():
    rng = np.random.default_rng(7)
    signal = rng.uniform(0, 255, (20, 20))
    result = engine.compute(signal, np.full((3, 3), 1 / 9), "convolution")
    text = render.view_text(render.result_view(result, "f", "h"), width=80)
    assert not re.search(r"\d…|…\d", text)  # no number cut short
    assert max(map(len, text.splitlines())) <= 80
    shown = {float(token) for token in re.findall(r"-?\d+\.\d+", text)}
    corners = result.values[:2, :2].ravel().tolist() + result.values[-2:, -2:].ravel().tolist()
    assert {float(f"{value:.6g}") for value in corners} <= shown


def test_numbers_are_rounded_to_the_digits_asked_for():
    assert render.format_cell(2 / 3) == "0.666667"
    with render.display_options(digits=3):
        assert render.format_cell(2 / 3) == "0.667"
        assert render.format_cell(123456.0) == "123456"  # whole numbers in full
        assert render.format_cell(np.int64(-12345)) == "-12345"
        assert render.format_cell(1e-9 / 3) == "3.33e-10"
    assert render.format_cell(2 / 3) == "0.666667"


def test_decimal_points_line_up_in_a_column():
    result = engine.compute([0.5, 12.25, -3.0, 100.125], [1], "convolution")
    text = render.view_text(render.result_view(result, "f", "h"))
    rows = [line for line in text.splitlines() if re.match(r"│\s+\d+ │", line)]
    cells = [row.split("│")[2] for row in rows]
    assert [cell.strip() for cell in cells] == ["0.5", "12.25", "-3", "100.125"]
    points = {cell.index(".") for cell in cells if "." in cell}
    assert len(points) == 1
    integer = cells[2]
    assert integer.index("3") + 1 == points.pop()  # -3 ends where the others' points are


def test_ascii_glyphs_keep_the_columns_aligned():
    """In ASCII a mark of two characters (!= for ≠) widens its column for every row."""
    comparison = convcli.compare([0, 1, 0, 0, 2], [1, 0, -2], padding="full")
    with render.display_options(ascii=True):
        text = render.view_text(render.comparison_view(comparison, "f"), width=100)
    assert not set(text) - set(map(chr, range(128))) - set("┏━┳┓┃┡╇┩│└┴┘─")  # rich boxes
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert len({len(row) for row in rows}) == 1
    assert any(row.rstrip(" │").endswith("!=") for row in rows)
    assert any(row.rstrip(" │").endswith("+-") for row in rows)  # 0 and 0: both


# ---------------------------------------------------------------- no contradictions


@pytest.mark.parametrize("convention", ["torch", "tensorflow"])
@pytest.mark.parametrize(("signal", "kernel"), [(F, [1, -1]), (IMAGE, SOBEL_X)], ids=["1-D", "2-D"])
def test_a_library_whose_conv_does_not_flip_is_not_said_to_slide_the_flipped_kernel(
    convention, signal, kernel
):
    comparison = comparison_of(signal, kernel, Options.parse(convention=convention))
    text = flat(render.view_text(render.comparison_view(comparison, "f"), width=200))
    assert "does not flip the kernel" in text
    assert "convolution slides the flipped kernel" not in text
    assert "flip(h) (convolution)" not in text
    assert "unused here" in text


def relation_marks(text: str) -> list[str]:
    return [line.split("│")[4].strip() for line in text.splitlines() if re.match(r"│\s+\d", line)]


def test_zeros_of_negated_results_are_marked_as_the_verdict_reads():
    """An antisymmetric kernel: 0 and 0 are negatives of each other too, so every mark is -."""
    comparison = engine.compare([0, 0, 0, 1, 0, 0], [1, 0, -1], Options.parse(padding="full"))
    text = render.view_text(render.comparison_view(comparison, "f"), width=200)
    assert "negatives of each other at all 8 positions" in flat(text)
    assert relation_marks(text) == ["-"] * 8


def test_zeros_are_marked_both_equal_and_opposite_where_the_results_differ():
    comparison = engine.compare([0, 1, 0, 0, 2], [1, 0, -2], Options.parse(padding="full"))
    text = render.view_text(render.comparison_view(comparison, "f"), width=200)
    zeros = [
        mark
        for mark, a, b in zip(relation_marks(text), comparison.convolution, comparison.correlation)
        if a == 0 and b == 0
    ]
    assert zeros == ["±"] * 3
    assert "differ at 4 of 7 positions" in flat(text)


def test_the_template_matching_sample_says_what_its_table_shows():
    """samples/README.md §6: both results peak at index 23 (convolution 125, correlation 130)."""

    from convcli.cli import inputs

    root = ROOT
    recording = inputs.read_array(str(root / "samples/recording.csv"), "signal")
    pattern = inputs.read_array(str(root / "samples/pattern.csv"), "kernel")
    comparison = engine.compare(recording, pattern)
    peaks = [int(np.argmax(values)) for values in (comparison.convolution, comparison.correlation)]
    assert peaks == [23, 23]
    highs = [int(comparison.convolution[23]), int(comparison.correlation[23])]
    section = (root / "samples/README.md").read_text(encoding="utf-8").split("## 6.")[1]
    story = section.split("```")[0]
    assert "no such peak" not in story
    assert "index 23 too" in story
    assert f"({highs[0]})" in story and f"{highs[1]})" in story
