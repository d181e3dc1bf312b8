"""The teaching features of the command line, in-process through click's CliRunner.

``backward``, ``kernels`` and named kernels, the sparklines and heat maps of
``compare``, ``plot``, images in and out (PNG/JPEG) and ``demo``. As in
test_main.py, each command's output is parsed and compared with what the
library returns for the same call; figures and images are opened with Pillow
(or parsed as XML) and their sizes checked. Only a few figures are drawn,
since matplotlib is the slow part.
"""

from __future__ import annotations

import json
import os
import re
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import Result

import convcli
from convcli.analysis.kernels import catalogue, kernel_names, named_kernel
from convcli.cli import inputs, outputs
from convcli.engine import core as engine
from convcli.render import plot
from tests.cli.runner import invoke, succeed

F = [2, 1, 3, 5, 4]
H = [1, -1]
SQUARE = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
GRID = [[3, -1, 4, 1], [-5, 9, 2, -6], [5, 3, -5, 8], [9, -7, 9, 3]]
ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
# an SGR sequence that sets a colour (30-37, 38;..., 39, 40-49, 90-97, 100-107)
COLOUR_ESCAPE = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")
SPARKS = set("▁▂▃▄▅▆▇█")
SHADES = set("·░▒▓█")
DEMO_TITLES = [
    "1. Convolution flips the kernel; correlation does not",
    "2. A symmetric kernel gives the same answer both ways",
    "3. The sums behind example 1",
    "4. In 2-D: a Gaussian blur of a small image",
    "5. Correlation forward, convolution backward",
]


# ---------------------------------------------------------------- helpers


def error_line(result: Result, code: int) -> str:
    """The one ``Error:`` line of a command that failed cleanly with exit ``code``."""
    assert result.exit_code == code, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


def number(cell: str) -> int | float:
    for parse in (int, float):
        try:
            return parse(cell)
        except ValueError:
            pass
    raise AssertionError(f"{cell!r} is not a number")


def is_number(cell: str) -> bool:
    try:
        number(cell)
    except AssertionError:
        return False
    return True


def matrix(rows: list[list[int]]) -> str:
    """A 2-D inline argument: ``1,2;3,4``."""
    return ";".join(",".join(map(str, row)) for row in rows)


def csv_array(text: str) -> np.ndarray:
    """A headerless conv/corr CSV as an array (1-D: one value a line)."""
    rows = [[number(cell) for cell in line.split(",")] for line in text.splitlines()]
    values = np.array(rows)
    return values[:, 0] if values.shape[1] == 1 else values


def assert_exactly(values: object, expected: np.ndarray) -> None:
    """Parsed numbers equal the library's array, ints staying ints."""
    expected = np.asarray(expected)
    got = np.asarray(values)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if expected.dtype.kind in "iu":
        assert got.dtype.kind in "iu", got.dtype
    np.testing.assert_array_equal(got, expected)


def labelled(text: str, label: str) -> tuple[int, list]:
    """Where ``label = [a, b]`` (1-D) or ``label`` over a grid (2-D) is printed, and its values."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"{label} = ["):
            inner = line[len(label) + 4 :].rstrip()
            assert inner.endswith("]"), line
            return index, [number(cell) for cell in inner[:-1].split(", ")]
        if line.strip() == label:
            rows = []
            for row in lines[index + 1 :]:
                cells = row.split()
                if not cells or not all(is_number(cell) for cell in cells):
                    break
                rows.append([number(cell) for cell in cells])
            return index, rows
    raise AssertionError(f"no {label!r} in:\n{text}")


def section(text: str, start: str, end: str | None) -> str:
    """The text from the line holding ``start`` to the line holding ``end`` (or the end)."""
    begin = text.index(start)
    return text[begin:] if end is None else text[begin : text.index(end, begin)]


def table_rows(text: str) -> list[list[str]]:
    """Each line's numbers as strings (box-drawing characters ignored)."""
    return [re.findall(r"-?\d+(?:\.\d+)?", line) for line in text.splitlines()]


def write_png(path: Path, pixels: np.ndarray) -> str:
    """An 8-bit grayscale PNG of ``pixels``, written with Pillow."""
    image_module = pytest.importorskip("PIL.Image")
    image_module.fromarray(np.asarray(pixels, dtype=np.uint8), mode="L").save(path)
    return str(path)


def open_png(path: Path) -> np.ndarray:
    """A PNG file's pixels, after checking Pillow reads it as an 8-bit grayscale PNG."""
    image_module = pytest.importorskip("PIL.Image")
    with image_module.open(path) as image:
        assert image.format == "PNG"
        assert image.mode == "L"
        image.load()
        return np.asarray(image)


PIXELS = np.array(
    [
        [10, 10, 10, 200, 200, 200, 200],
        [10, 20, 10, 200, 220, 200, 200],
        [10, 10, 10, 200, 200, 200, 210],
        [30, 30, 30, 90, 90, 90, 90],
        [30, 40, 30, 90, 99, 90, 90],
        [30, 30, 30, 90, 90, 90, 255],
    ],
    dtype=np.uint8,
)


# ---------------------------------------------------------------- backward: text

BACKWARD_CASES = [
    pytest.param(F, H, [], {}, id="1d-default"),
    pytest.param(F, H, ["--grad", "1,0,2,-1"], {"grad": [1, 0, 2, -1]}, id="1d-grad"),
    pytest.param(
        F,
        H,
        ["--grad", "-1,2,0,3", "--forward", "conv"],
        {"grad": [-1, 2, 0, 3], "forward": "conv"},
        id="1d-conv-negative-grad",
    ),
    pytest.param(
        F,
        H,
        ["--stride", "2", "--padding", "1", "--grad", "1,2,3"],
        {"stride": 2, "padding": "1", "grad": [1, 2, 3]},
        id="1d-stride-padding",
    ),
    pytest.param(
        [3, -1, 4, 1, -5, 9, 2],
        [1, 2, -1],
        ["--dilation", "2", "--padding", "same"],
        {"dilation": 2, "padding": "same"},
        id="1d-dilation-same",
    ),
    pytest.param(SQUARE, [[1, 0], [0, -1]], [], {}, id="2d-default"),
    pytest.param(
        SQUARE,
        [[1, 0], [0, -1]],
        ["--grad", "1,-2;3,0", "--forward", "conv"],
        {"grad": [[1, -2], [3, 0]], "forward": "conv"},
        id="2d-conv-grad",
    ),
    pytest.param(
        GRID,
        [[2, -1], [0, 1]],
        ["--stride", "2,1", "--padding", "1"],
        {"stride": (2, 1), "padding": "1"},
        id="2d-stride-padding",
    ),
]


def as_argument(values: list) -> str:
    return matrix(values) if isinstance(values[0], list) else ",".join(map(str, values))


@pytest.mark.parametrize(("signal", "kernel", "options", "kwargs"), BACKWARD_CASES)
def test_backward_text_shows_formulas_and_library_gradients(signal, kernel, options, kwargs):
    expected = convcli.backward(signal, kernel, **kwargs)
    text = succeed("backward", as_argument(signal), as_argument(kernel), *options).stdout
    assert not ESCAPE.search(text)
    forward, backward = (
        ("correlation", "convolution")
        if expected.forward == "correlation"
        else ("convolution", "correlation")
    )
    assert text.splitlines()[0] == f"{forward} forward, {backward} backward"
    lines = text.splitlines()
    for formula, label, values in [
        (expected.output_formula, "y", expected.output),
        (None, "G", expected.upstream),
        (expected.grad_signal_formula, "dL/dx", expected.grad_signal),
        (expected.grad_kernel_formula, "dL/dw", expected.grad_kernel),
    ]:
        where, shown = labelled(text, label)
        assert_exactly(shown, values)
        if formula is not None:
            # each result sits right under the formula it came from
            assert lines[where - 1] == formula, (label, lines[where - 1])
    for note in expected.notes:
        assert f"note: {note}" in text
    assert expected.largest_difference == 0
    check = (
        f"check against the {expected.check_method} ({expected.checked_cells} gradient cells): "
        "largest difference 0"
    )
    assert check in lines


def test_backward_text_formulas_of_the_classic_example():
    text = succeed("backward", "2,1,3,5,4", "1,-1").stdout
    lines = text.splitlines()
    for line in [
        "y = corr(x, w)",
        "y = [1, -2, -2, 1]",
        "G = [1, 1, 1, 1]",
        "dL/dx = conv_full(G, w)",
        "dL/dx = [1, 0, 0, 0, -1]",
        "dL/dw = corr(x, G)",
        "dL/dw = [11, 13]",
    ]:
        assert line in lines
    assert "operator matrix" in text


def test_backward_strided_formulas_name_the_stride_and_padding():
    text = succeed("backward", "2,1,3,5,4", "1,-1", "--stride", "2", "--padding", "1").stdout
    assert "y = corr(pad(x), w, stride=2)" in text
    assert "dilate(G, 2)" in text
    assert "cropped by padding 1" in text


def test_backward_with_forward_conv_swaps_the_roles():
    text = succeed("backward", "2,1,3,5,4", "1,-1", "--forward", "conv").stdout
    lines = text.splitlines()
    assert lines[0] == "convolution forward, correlation backward"
    assert "y = conv(x, w)" in lines
    assert "dL/dx = corr_full(G, w)" in lines
    assert "dL/dw = flip(corr(x, G))" in lines
    assert "dL/dw = [13, 11]" in lines


def test_backward_accepts_a_named_kernel():
    named = succeed("backward", matrix(GRID), "sobel-x", "--format", "json").stdout
    inline = succeed(
        "backward", matrix(GRID), matrix(named_kernel("sobel-x", 2).tolist()), "--format", "json"
    ).stdout
    assert json.loads(named) == json.loads(inline)


def test_backward_all_shows_every_value():
    signal = [(3 * i) % 7 - 3 for i in range(60)]
    expected = convcli.backward(signal, H)
    text = succeed("backward", as_argument(signal), "1,-1", "--all", COLUMNS=None).stdout
    assert "…" not in text  # and, without COLUMNS, each array on one line in a pipe
    assert_exactly(labelled(text, "dL/dx")[1], expected.grad_signal)
    assert_exactly(labelled(text, "y")[1], expected.output)


# ---------------------------------------------------------------- backward: json, stdin, errors


@pytest.mark.parametrize(("signal", "kernel", "options", "kwargs"), BACKWARD_CASES)
def test_backward_json_equals_the_library(signal, kernel, options, kwargs):
    expected = convcli.backward(signal, kernel, **kwargs)
    text = succeed(
        "backward", as_argument(signal), as_argument(kernel), *options, "--format", "json"
    ).stdout
    document = json.loads(text)
    assert document["forward"] == expected.forward
    for key, values in [
        ("output", expected.output),
        ("upstream", expected.upstream),
        ("grad_signal", expected.grad_signal),
        ("grad_kernel", expected.grad_kernel),
    ]:
        assert_exactly(document[key], values)
    assert document["formulas"] == {
        "output": expected.output_formula,
        "grad_signal": expected.grad_signal_formula,
        "grad_kernel": expected.grad_kernel_formula,
    }
    assert document["check"]["method"] == expected.check_method
    assert document["check"]["largest_difference"] == 0
    assert document["check"]["checked_cells"] == expected.checked_cells
    assert document["notes"] == list(expected.notes)
    assert document["options"]["stride"] == list(expected.geometry.stride)


def test_backward_json_of_floats_round_trips_exactly():
    expected = convcli.backward(F, named_kernel("gaussian:3", 1), [0.5, -1.25, 3.0])
    text = succeed(
        "backward", "2,1,3,5,4", "gaussian:3", "--grad", "0.5,-1.25,3", "--format", "json"
    ).stdout
    document = json.loads(text)
    np.testing.assert_array_equal(document["grad_signal"], expected.grad_signal)
    np.testing.assert_array_equal(document["grad_kernel"], expected.grad_kernel)
    assert document["check"]["largest_difference"] == expected.largest_difference


def test_backward_json_file_by_extension(tmp_path):
    target = tmp_path / "grads.json"
    result = succeed("backward", "2,1,3,5,4", "1,-1", "-o", str(target))
    assert result.stdout == ""
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["grad_kernel"] == [11, 13]
    assert document["grad_signal"] == [1, 0, 0, 0, -1]


def test_backward_grad_from_stdin_and_from_a_file(tmp_path):
    expected = convcli.backward(F, H, [4, -3, 2, 1])
    from_stdin = succeed(
        "backward", "2,1,3,5,4", "1,-1", "--grad", "-", "--format", "json", input="4\n-3\n2\n1\n"
    ).stdout
    grad_file = tmp_path / "g.csv"
    grad_file.write_text("G\n4\n-3\n2\n1\n", encoding="utf-8")
    from_file = succeed(
        "backward", "2,1,3,5,4", "1,-1", "--grad", str(grad_file), "--format", "json"
    ).stdout
    for text in (from_stdin, from_file):
        document = json.loads(text)
        assert_exactly(document["upstream"], expected.upstream)
        assert_exactly(document["grad_kernel"], expected.grad_kernel)
        assert_exactly(document["grad_signal"], expected.grad_signal)


@pytest.mark.parametrize(
    ("signal", "kernel", "grad"),
    [
        ("2,1,3,5,4", "1,-1", "1,2"),
        ("2,1,3,5,4", "1,-1", "1,2,3,4,5"),
        (matrix(SQUARE), "1,0;0,1", "1,2,3,4"),
    ],
)
def test_backward_grad_shape_mismatch_is_a_one_line_error(signal, kernel, grad):
    line = error_line(invoke("backward", signal, kernel, "--grad", grad), 1)
    assert "shape" in line
    assert "G must be shaped like y" in line


@pytest.mark.parametrize(
    "args",
    [["-", "1,-1", "--grad", "-"], ["2,1,3,5,4", "-", "--grad", "-"]],
    ids=["signal", "kernel"],
)
def test_backward_grad_and_an_argument_both_from_stdin_is_a_usage_error(args):
    line = error_line(invoke("backward", *args, input="1\n2\n3\n"), 2)
    assert "stdin" in line or "standard input" in line


# ---------------------------------------------------------------- kernels


def test_kernels_table_lists_every_name_with_its_verdict():
    text = succeed("kernels", "--format", "table").stdout
    assert "named kernels" in text
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if len(cells) == 4 and cells[0]:
            rows[cells[0]] = cells
    names = kernel_names()
    assert len(names) == 13
    for info in catalogue():
        assert info.name in rows, info.name
        assert rows[info.name][3] == info.symmetry, (info.name, rows[info.name])
    assert [name for name in rows if name in names] == names  # in catalogue order


def test_kernels_in_a_pipe_is_json_equal_to_the_catalogue():
    document = json.loads(succeed("kernels").stdout)
    listing = catalogue()
    assert [entry["name"] for entry in document] == kernel_names()
    for entry, info in zip(document, listing):
        assert entry["description"] == info.description
        assert entry["example"] == info.example
        assert entry["symmetry"] == info.symmetry
        assert_exactly(entry["values"], info.values)


def test_kernels_json_file(tmp_path):
    target = tmp_path / "kernels.json"
    assert succeed("kernels", "-o", str(target)).stdout == ""
    document = json.loads(target.read_text(encoding="utf-8"))
    assert {entry["name"]: entry["symmetry"] for entry in document}["emboss"] == "none"


@pytest.mark.parametrize("command", ["backward", "kernels"])
def test_png_output_name_for_a_text_command_is_not_a_fake_png(tmp_path, command):
    """-o NAME.png means PNG for conv/corr/compare; a text view written there is a fake PNG."""
    target = tmp_path / "out.png"
    arguments = ["2,1,3,5,4", "1,-1"] if command == "backward" else []
    result = invoke(command, *arguments, "-o", str(target))
    if result.exit_code == 0:
        assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), target.read_bytes()[:60]
    else:
        assert not target.exists()


# ---------------------------------------------------------------- named kernels as KERNEL


NAMED_CASES = [
    pytest.param("compare", F, "diff", id="compare-diff"),
    pytest.param("conv", [0, 0, 1, 3, 2, 8, 5, 1], "gaussian:5", id="conv-gaussian5"),
    pytest.param("corr", [0, 0, 1, 3, 2, 8, 5, 1], "gaussian:5", id="corr-gaussian5"),
    pytest.param("corr", GRID, "sobel-x", id="corr-sobel-x"),
    pytest.param("conv", GRID, "sobel-x", id="conv-sobel-x"),
    pytest.param("compare", GRID, "sobel-y", id="compare-sobel-y"),
    pytest.param("conv", GRID, "diff", id="conv-diff-along-rows"),
    pytest.param("compare", GRID, "Laplacian2D", id="compare-any-case"),
    pytest.param("conv", F, "gaussian:3:0.5", id="conv-gaussian-sigma"),
]


@pytest.mark.parametrize(("command", "signal", "name"), NAMED_CASES)
def test_named_kernels_give_the_library_results(command, signal, name):
    kernel = named_kernel(name, np.ndim(signal))
    assert kernel is not None
    text = succeed(command, as_argument(signal), name, "--format", "json").stdout
    document = json.loads(text)
    if command == "compare":
        expected = convcli.compare(signal, kernel)
        assert_exactly(document["convolution"], expected.convolution)
        assert_exactly(document["correlation"], expected.correlation)
        assert_exactly(document["kernel"], kernel)
        assert document["kernel_symmetry"] == expected.kernel_symmetry
    else:
        library = convcli.convolve if command == "conv" else convcli.correlate
        assert_exactly(document["result"], library(signal, kernel))


def test_named_kernel_csv_matches_the_library_with_padding():
    kernel = named_kernel("gaussian:5", 1)
    signal = [0, 0, 1, 3, 2, 8, 5, 1]
    text = succeed(
        "conv", as_argument(signal), "gaussian:5", "--padding", "same", "--format", "csv"
    ).stdout
    np.testing.assert_array_equal(csv_array(text), convcli.convolve(signal, kernel, padding="same"))


@pytest.mark.parametrize("command", ["compare", "conv", "corr", "explain", "backward"])
def test_a_name_works_wherever_a_kernel_goes(command):
    named = succeed(command, "2,1,3,5,4", "diff", "--format", "json").stdout
    inline = succeed(command, "2,1,3,5,4", "1,-1", "--format", "json").stdout
    assert json.loads(named) == json.loads(inline)


@pytest.mark.parametrize("command", ["compare", "conv", "corr", "backward"])
@pytest.mark.parametrize("word", ["blur", "sobelx", "gauss:3"])
def test_an_unknown_word_is_refused_listing_the_kernel_names(command, word):
    line = error_line(invoke(command, "2,1,3,5,4", word), 1)
    assert repr(word) in line
    for name in kernel_names():
        assert name in line


@pytest.mark.parametrize("command", ["compare", "conv", "corr", "backward"])
def test_a_2d_kernel_on_a_1d_signal_is_refused(command):
    line = error_line(invoke(command, "2,1,3,5,4", "sobel-x"), 1)
    assert "sobel-x" in line
    assert "2-D" in line
    assert "1-D" in line


@pytest.mark.parametrize("spec", ["box:0", "gaussian:5:-1", "diff:3", "box"])
def test_a_known_name_with_bad_parameters_is_a_clear_error(spec):
    line = error_line(invoke("conv", "2,1,3,5,4", spec), 1)
    assert spec.split(":")[0] in line


@pytest.mark.parametrize(
    ("name", "content", "expected_kernel"),
    [
        ("diff", "1,2,1\n", [1, 2, 1]),
        ("sobel-x", "3\n-1\n", [3, -1]),  # a 2-D name, yet the 1-D file is used
        ("gaussian:3", "0,1,0,2\n", [0, 1, 0, 2]),
    ],
)
def test_a_file_named_like_a_kernel_wins(tmp_path, monkeypatch, name, content, expected_kernel):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(content, encoding="utf-8")
    signal = [2, 1, 3, 5, 4, 0, 7]
    text = succeed("conv", as_argument(signal), name, "--format", "csv").stdout
    assert_exactly(csv_array(text), convcli.convolve(signal, expected_kernel))
    assert not np.array_equal(
        np.asarray(expected_kernel, dtype=float).ravel()[:2],
        np.asarray(named_kernel(name, 2), dtype=float).ravel()[:2],
    )


# ---------------------------------------------------------------- sparklines and heat maps


def picture_lines(text: str) -> dict[str, str]:
    """The sparkline rows of a 1-D compare table: label -> glyphs."""
    found = {}
    for line in text.splitlines():
        label, _, rest = line.strip().partition(" ")
        glyphs = rest.strip()
        if label in ("f", "convolution", "correlation") and glyphs and set(glyphs) <= SPARKS:
            found[label] = glyphs
    return found


def test_compare_table_has_a_sparkline_for_the_signal_and_each_result():
    text = succeed("compare", "2,1,3,5,4", "1,-1", "--format", "table").stdout
    lines = picture_lines(text)
    assert set(lines) == {"f", "convolution", "correlation"}
    # f = [2, 1, 3, 5, 4] on its own scale 1..5
    assert lines["f"] == "▃▁▅█▆"
    # [-1, 2, 2, -1] and [1, -2, -2, 1] on one shared scale -2..2
    assert lines["convolution"] == "▃██▃"
    assert lines["correlation"] == "▆▁▁▆"


def test_sparklines_of_a_long_signal_stay_one_line(tmp_path):
    signal = tmp_path / "long.csv"
    signal.write_text("".join(f"{(i * 7) % 23}\n" for i in range(300)), encoding="utf-8")
    text = succeed("compare", str(signal), "box:5", "--format", "table").stdout
    lines = picture_lines(text)
    assert set(lines) == {"f", "convolution", "correlation"}
    for glyphs in lines.values():
        assert 32 <= len(glyphs) <= 80  # sampled down to a screen's width, not 300
    assert lines["convolution"] == lines["correlation"]  # box is symmetric


@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_pictures_appear_only_in_tables(output_format):
    text = succeed("compare", "2,1,3,5,4", "1,-1", "--format", output_format).stdout
    assert not set(text) & (SPARKS | SHADES)


def heat_rows(text: str) -> list[str]:
    """Lines made only of heat-map shades (and spaces)."""
    return [
        line for line in text.splitlines() if line.strip() and set(line.strip()) <= SHADES | {" "}
    ]


def test_compare_table_shades_a_small_2d_result_as_a_heat_map():
    text = succeed(
        "compare", matrix(SQUARE), "sobel-x", "--padding", "same", "--format", "table"
    ).stdout
    # convolution [[9, 6, -9], [20, 8, -20], [21, 6, -21]] and its negative, on one scale -21..21
    assert [line.split() for line in heat_rows(text)] == [
        ["▓▓▓▓░░", "░░░░▓▓"],
        ["██▓▓··", "··░░██"],
        ["██▓▓··", "··░░██"],
    ]
    assert "heat maps on one scale: · low (-21) to █ high (21)" in text


def test_a_large_2d_result_has_no_heat_map():
    signal = matrix([[(3 * r + 5 * c) % 11 for c in range(30)] for r in range(30)])
    text = succeed("compare", signal, "box:3", "--padding", "same", "--format", "table").stdout
    assert "heat maps" not in text
    assert not heat_rows(text)


def test_pictures_read_the_same_with_and_without_colour():
    args = ("compare", matrix(SQUARE), "sobel-x", "--padding", "same", "--format", "table")
    plain = succeed(*args, NO_COLOR="1").stdout
    coloured = succeed(*args, NO_COLOR=None, FORCE_COLOR="1").stdout
    no_colour_on_a_terminal = succeed(*args, NO_COLOR="1", FORCE_COLOR="1").stdout
    assert not ESCAPE.search(plain)  # NO_COLOR in a pipe: no escapes at all
    assert COLOUR_ESCAPE.search(coloured)  # colour is really on here ...
    assert not COLOUR_ESCAPE.search(no_colour_on_a_terminal)  # ... and off with NO_COLOR
    # the glyphs carry the picture, so all three read the same once escapes are gone
    assert ESCAPE.sub("", coloured) == plain
    assert ESCAPE.sub("", no_colour_on_a_terminal) == plain
    assert set(plain) & SHADES
    one_d = succeed("compare", "2,1,3,5,4", "1,-1", "--format", "table", NO_COLOR="1").stdout
    assert not ESCAPE.search(one_d)
    assert set(one_d) & SPARKS


# ---------------------------------------------------------------- images in and out


def test_a_png_signal_gives_the_same_results_as_the_same_array_inline(tmp_path):
    image = write_png(tmp_path / "photo.png", PIXELS)
    inline = matrix(PIXELS.tolist())
    from_image = json.loads(succeed("compare", image, "sobel-x", "--format", "json").stdout)
    from_text = json.loads(succeed("compare", inline, "sobel-x", "--format", "json").stdout)
    assert from_image == from_text
    expected = convcli.compare(PIXELS.astype(np.int64), named_kernel("sobel-x", 2))
    assert_exactly(from_image["convolution"], expected.convolution)
    assert_exactly(from_image["correlation"], expected.correlation)
    assert_exactly(from_image["signal"], PIXELS.astype(np.int64))


@pytest.mark.parametrize("command", ["conv", "corr"])
def test_a_png_signal_as_csv_matches_the_library(tmp_path, command):
    image = write_png(tmp_path / "photo.PNG", PIXELS)
    text = succeed(command, image, "gaussian:3", "--padding", "same", "--format", "csv").stdout
    library = convcli.convolve if command == "conv" else convcli.correlate
    np.testing.assert_array_equal(
        csv_array(text),
        library(PIXELS.astype(np.int64), named_kernel("gaussian:3", 2), padding="same"),
    )


def test_a_jpeg_signal_is_read_as_grayscale(tmp_path):
    image_module = pytest.importorskip("PIL.Image")
    path = tmp_path / "photo.jpg"
    image_module.fromarray(PIXELS, mode="L").save(path, quality=90)
    with image_module.open(path) as opened:
        expected = np.asarray(opened.convert("L"), dtype=np.int64)
    text = succeed("conv", str(path), "identity:1", "--format", "csv").stdout
    assert_exactly(csv_array(text), expected)


def test_conv_of_an_image_writes_a_png_of_the_result_shape(tmp_path):
    """A blur of 0..255 pixels stays in 0..255: each value rounded to the nearest level."""
    image = write_png(tmp_path / "photo.png", PIXELS)
    target = tmp_path / "out.png"
    result = succeed("conv", image, "gaussian:3", "-o", str(target))
    assert (result.stdout, result.stderr) == ("", "")
    expected = convcli.convolve(PIXELS.astype(np.int64), named_kernel("gaussian:3", 2))
    assert expected.shape == (4, 5)
    pixels = open_png(target)
    assert pixels.shape == expected.shape  # Pillow: (width, height) = (5, 4)
    np.testing.assert_array_equal(pixels, np.floor(expected + 0.5))


def test_an_identity_kernel_gives_back_the_pixels_exactly(tmp_path):
    """Values 40..231 stay 40..231: the default --scale keeps the values' own scale."""
    pixels = np.random.default_rng(5).integers(40, 232, (9, 11))
    pixels[0, :2] = 40, 231
    image = write_png(tmp_path / "photo.png", pixels)
    target = tmp_path / "same.png"
    result = succeed("conv", image, "identity:1", "-o", str(target))
    assert result.stderr == ""
    np.testing.assert_array_equal(open_png(target), pixels)


def test_values_outside_0_to_255_are_clipped_and_counted_on_stderr(tmp_path):
    image = write_png(tmp_path / "photo.png", PIXELS)
    target = tmp_path / "edges.png"
    result = succeed("conv", image, "sobel-x", "-o", str(target))
    expected = convcli.convolve(PIXELS.astype(np.int64), named_kernel("sobel-x", 2))
    outside = int(np.count_nonzero((expected < 0) | (expected > 255)))
    assert 0 < outside < expected.size
    assert result.stderr == (
        f"note: {outside} of {expected.size} values lie outside 0..255 and were clipped to 0 "
        "or 255 (--scale stretch maps their range to 0..255, --scale abs takes magnitudes)\n"
    )
    np.testing.assert_array_equal(open_png(target), np.clip(expected, 0, 255))


@pytest.mark.parametrize("scale", ["clip", "stretch", "abs"])
def test_each_scale_maps_values_to_grey_levels_as_documented(tmp_path, scale):
    image = write_png(tmp_path / "photo.png", PIXELS)
    target = tmp_path / "edges.png"
    result = succeed("conv", image, "sobel-x", "--scale", scale, "-o", str(target))
    values = convcli.convolve(PIXELS.astype(np.int64), named_kernel("sobel-x", 2))
    low, high = int(values.min()), int(values.max())
    expected = {
        "clip": np.clip(values, 0, 255),
        "stretch": [
            [(510 * (v - low) + (high - low)) // (2 * (high - low)) for v in row]
            for row in values.tolist()
        ],
        "abs": np.clip(np.abs(values), 0, 255),
    }[scale]
    np.testing.assert_array_equal(open_png(target), expected)
    assert ("clipped" in result.stderr) == (scale != "stretch")


def test_compare_png_writes_one_image_per_result(tmp_path):
    """-o edges.png: edges.conv.png and edges.corr.png, each the result's own values."""
    image = write_png(tmp_path / "photo.png", PIXELS)
    shift = "0,1;0,0"  # convolution and correlation shift the image opposite ways
    result = succeed(
        "compare", image, shift, "--padding", "same", "-o", str(tmp_path / "edges.png")
    )
    names = tmp_path / "edges.conv.png", tmp_path / "edges.corr.png"
    assert result.stdout == ""
    assert result.stderr == f"note: wrote {names[0]} and {names[1]}\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "edges.conv.png",
        "edges.corr.png",
        "photo.png",
    ]
    kernel = np.array([[0, 1], [0, 0]])
    conv = convcli.convolve(PIXELS.astype(np.int64), kernel, padding="same")
    corr = convcli.correlate(PIXELS.astype(np.int64), kernel, padding="same")
    assert not np.array_equal(conv, corr)
    np.testing.assert_array_equal(open_png(names[0]), conv)
    np.testing.assert_array_equal(open_png(names[1]), corr)


def test_compare_png_counts_what_each_image_clipped_in_its_one_note(tmp_path):
    image = write_png(tmp_path / "photo.png", PIXELS)
    target = tmp_path / "edges.png"
    result = succeed("compare", image, "sobel-x", "-o", str(target))
    both = convcli.compare(PIXELS.astype(np.int64), named_kernel("sobel-x", 2))
    counts = [
        int(np.count_nonzero((r < 0) | (r > 255))) for r in (both.convolution, both.correlation)
    ]
    assert result.stderr == (
        f"note: wrote {tmp_path / 'edges.conv.png'} and {tmp_path / 'edges.corr.png'}: "
        f"{counts[0]} and {counts[1]} of {both.convolution.size} values lie outside 0..255 and "
        "were clipped to 0 or 255 (--scale stretch maps their range to 0..255, --scale abs "
        "takes magnitudes)\n"
    )
    np.testing.assert_array_equal(
        open_png(tmp_path / "edges.corr.png"), np.clip(both.correlation, 0, 255)
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["compare", "1,2;3,4", "identity:1", "--format", "png"], "give -o NAME.png"),
        (
            ["conv", "1,2;3,4", "identity:1", "--scale", "abs", "--format", "csv"],
            "--scale sets how PNG",
        ),
        (["conv", "1,2,3", "1", "--scale", "abs", "--stream"], "--scale sets how PNG"),
    ],
    ids=["compare-png-to-stdout", "scale-with-csv", "scale-with-stream"],
)
def test_png_options_elsewhere_are_usage_errors(args, words):
    result = invoke(*args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr


@pytest.mark.parametrize("command", ["conv", "corr", "compare"])
def test_a_1d_result_to_png_is_a_clear_error(tmp_path, command):
    target = tmp_path / "line.png"
    line = error_line(invoke(command, "2,1,3,5,4", "1,-1", "-o", str(target)), 1)
    assert "2-D" in line
    assert "1-D" in line
    assert not target.exists()


def test_without_pillow_reading_an_image_says_how_to_install_it(tmp_path, monkeypatch):
    image = write_png(tmp_path / "photo.png", PIXELS)
    for name in [key for key in sys.modules if key == "PIL" or key.startswith("PIL.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "PIL", None)
    line = error_line(invoke("conv", image, "gaussian:3"), 1)
    assert "pip install 'convcli[plot]'" in line


# ---------------------------------------------------------------- plot


@pytest.fixture
def matplotlib():
    return pytest.importorskip("matplotlib")


@pytest.mark.slow
def test_plot_png_of_an_image_signal_has_the_documented_size(tmp_path, matplotlib):
    image_module = pytest.importorskip("PIL.Image")
    image = write_png(tmp_path / "photo.png", PIXELS)
    target = tmp_path / "fig.png"
    result = succeed("plot", image, "sobel-x", "-o", str(target), "--title", "edges")
    assert result.stdout == ""
    comparison = engine.compare(PIXELS.astype(np.int64), named_kernel("sobel-x", 2))
    with image_module.open(target) as figure:
        assert figure.format == "PNG"
        figure.verify()
        assert figure.size == plot.figure_size(comparison)


@pytest.mark.slow
def test_plot_1d_png_has_the_documented_size(tmp_path, matplotlib):
    image_module = pytest.importorskip("PIL.Image")
    target = tmp_path / "classic.png"
    succeed("plot", "2,1,3,5,4", "diff", "-o", str(target))
    with image_module.open(target) as figure:
        assert figure.format == "PNG"
        assert figure.size == plot.figure_size(engine.compare(F, H)) == (900, 750)


@pytest.mark.slow
def test_plot_svg_is_an_svg_document(tmp_path, matplotlib):
    target = tmp_path / "fig.svg"
    succeed("plot", matrix(SQUARE), "sobel-x", "--padding", "same", "-o", str(target))
    root = ElementTree.parse(target).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    width, height = plot.figure_inches(engine.compare(SQUARE, named_kernel("sobel-x", 2)))
    assert float(root.get("width").removesuffix("pt")) == pytest.approx(width * 72)
    assert float(root.get("height").removesuffix("pt")) == pytest.approx(height * 72)


def test_plot_without_output_is_a_usage_error():
    line = error_line(invoke("plot", "2,1,3,5,4", "1,-1"), 2)
    assert "-o" in line


@pytest.mark.parametrize("name", ["fig.gif", "fig", "fig.png.txt"])
def test_plot_to_an_unknown_extension_is_a_clear_error(tmp_path, name):
    target = tmp_path / name
    line = error_line(invoke("plot", "2,1,3,5,4", "1,-1", "-o", str(target)), 2)
    assert "figure format" in line
    assert ".png" in line
    assert ".svg" in line
    assert not target.exists()


def test_plot_for_a_slide_has_the_size_asked_for(tmp_path, matplotlib):
    image_module = pytest.importorskip("PIL.Image")
    target = tmp_path / "slide.png"
    for options, size in (
        (["--style", "projector"], (1280, 720)),
        (["--size", "1024x768", "--font-scale", "1.5"], (1024, 768)),
        (["--size", "1280X720", "--dpi", "120"], (1280, 720)),
        (["--dpi", "50"], (450, 375)),
    ):
        succeed("plot", "2,1,3,5,4", "1,-1", "-o", str(target), "--force", *options)
        with image_module.open(target) as figure:
            assert figure.size == size, options


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--size", "1280"], "--size 1280 takes WIDTHxHEIGHT in pixels, each from 100 to 8000"),
        (["--size", "12x720"], "--size 12x720 takes WIDTHxHEIGHT"),
        (["--size", "99999x720"], "--size 99999x720 takes WIDTHxHEIGHT"),
        (["--size", "-5x5"], "--size -5x5 takes WIDTHxHEIGHT"),
        (["--dpi", "0"], "--dpi"),
        (["--font-scale", "0"], "--font-scale"),
        (["--font-scale", "big"], "--font-scale"),
        (["--style", "poster"], "--style"),
    ],
)
def test_plot_bad_sizes_are_one_line_usage_errors(tmp_path, options, fragment):
    target = tmp_path / "slide.png"
    line = error_line(invoke("plot", "2,1,3,5,4", "1,-1", "-o", str(target), *options), 2)
    assert fragment in line
    assert not target.exists()


def test_plot_type_too_large_for_the_size_is_one_line_usage_error(tmp_path, matplotlib):
    target = tmp_path / "slide.png"
    args = ("-o", str(target), "--size", "300x200", "--font-scale", "4")
    line = error_line(invoke("plot", "2,1,3,5,4", "1,-1", *args), 2)
    assert line == (
        "Error: the figure's type does not fit in 300x200 pixels at 100 dpi: give a larger "
        "size, a lower dpi or a smaller font scale"
    )
    assert not target.exists()


def hide_matplotlib(monkeypatch) -> None:
    """Make every ``import matplotlib...`` fail, as if the plot extra were not installed."""
    names = {key for key in sys.modules if key == "matplotlib" or key.startswith("matplotlib.")}
    names |= {"matplotlib", "matplotlib.backends", "matplotlib.backends.backend_agg"}
    names |= {"matplotlib.figure", "matplotlib.ticker"}
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def test_plot_without_matplotlib_says_how_to_install_it(tmp_path, monkeypatch):
    hide_matplotlib(monkeypatch)
    target = tmp_path / "fig.png"
    line = error_line(invoke("plot", "2,1,3,5,4", "1,-1", "-o", str(target)), 1)
    assert "matplotlib" in line
    assert "pip install 'convcli[plot]'" in line
    assert not target.exists()
    # the rest of convcli does not need it
    assert succeed("compare", "2,1,3,5,4", "diff", "--format", "table").stdout


# ---------------------------------------------------------------- demo


def test_demo_in_a_pipe_runs_straight_through():
    result = succeed("demo", input="")
    text = result.stdout
    positions = [text.find(title) for title in DEMO_TITLES]
    assert all(position >= 0 for position in positions), positions
    assert positions == sorted(positions)
    assert "Press a key" not in result.output
    step_1 = section(text, DEMO_TITLES[0], DEMO_TITLES[1])
    rows = table_rows(step_1)
    for index, (convolution, correlation) in enumerate(zip([-1, 2, 2, -1], [1, -2, -2, 1])):
        assert [str(index), str(convolution), str(correlation)] in rows
    step_2 = section(text, DEMO_TITLES[1], DEMO_TITLES[2])
    assert "[-3, 0, 3]" in step_2
    for index, value in enumerate([-3, 0, 3]):
        assert [str(index), str(value), str(value)] in table_rows(step_2)
    step_3 = section(text, DEMO_TITLES[2], DEMO_TITLES[3])
    assert "= -1" in step_3 and "= 2" in step_3
    step_4 = section(text, DEMO_TITLES[3], DEMO_TITLES[4])
    assert "heat maps on one scale" in step_4
    assert "symmetric kernel" in step_4
    step_5 = section(text, DEMO_TITLES[4], None)
    assert "dL/dw = [11, 13]" in step_5
    assert "dL/dx = [1, 0, 0, 0, -1]" in step_5
    assert "dL/dx = conv_full(G, w)" in step_5


@pytest.fixture
def terminal(monkeypatch):
    """Make the demo believe it runs on a terminal; each key press is logged in the output."""
    presses: list[str] = []

    def press(echo: bool = False) -> str:
        presses.append("key")
        click.echo("<KEY>")
        return " "

    monkeypatch.setattr(inputs, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(outputs, "stdout_is_terminal", lambda: True)
    monkeypatch.setattr(click, "getchar", press)
    return presses


def test_demo_on_a_terminal_pauses_after_each_step(terminal):
    text = succeed("demo").stdout
    assert len(terminal) == len(DEMO_TITLES)
    assert text.count("any key: next · b: back · q: quit") == len(DEMO_TITLES) - 1
    assert text.count("b: back · any other key: end") == 1  # after the last step
    # step, key, step, key, ..., step, key: no pause before the first
    pieces = text.split("<KEY>")
    assert len(pieces) == len(DEMO_TITLES) + 1
    for piece, title in zip(pieces, DEMO_TITLES):
        assert title in piece
        assert sum(other in piece for other in DEMO_TITLES) == 1


def test_demo_stops_on_ctrl_c_at_a_pause(monkeypatch):
    """click's getchar turns Ctrl-C into KeyboardInterrupt: exit 130, the demo stops."""

    def interrupt(echo: bool = False) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(inputs, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(outputs, "stdout_is_terminal", lambda: True)
    monkeypatch.setattr(click, "getchar", interrupt)
    result = invoke("demo")
    assert DEMO_TITLES[0] in result.stdout
    assert "Press a key" in result.stdout
    assert DEMO_TITLES[1] not in result.stdout
    assert result.exit_code != 0


def test_compare_png_will_not_write_over_its_input_without_force(tmp_path):
    image = write_png(tmp_path / "edges.conv.png", PIXELS)
    result = invoke("compare", image, "identity:1", "-o", str(tmp_path / "edges.png"))
    assert result.exit_code == 2
    assert "is the file the signal is read from; give --force" in error_line(result, 2)
    np.testing.assert_array_equal(open_png(tmp_path / "edges.conv.png"), PIXELS)
    assert not (tmp_path / "edges.corr.png").exists()


@pytest.mark.parametrize("target", ["/dev/stdout", "/dev/null", "/dev/fd/1", "{tmp}/fifo"])
def test_compare_png_to_a_device_or_pipe_is_refused_not_written_beside_it(tmp_path, target):
    """NAME.conv.png and NAME.corr.png are files beside a file NAME.png: for a device, a
    FIFO or a descriptor there is nowhere to put them (no /dev/null.conv is ever made)."""
    os.mkfifo(tmp_path / "fifo")
    target = target.format(tmp=tmp_path)
    image = write_png(tmp_path / "photo.png", PIXELS)
    before = set(os.listdir(os.path.dirname(target)))
    result = invoke("compare", image, "identity:1", "--format", "png", "-o", target)
    assert error_line(result, 2).startswith("Error: compare writes PNG as two images")
    assert set(os.listdir(os.path.dirname(target))) == before


def test_compare_png_changes_neither_image_when_one_cannot_be_written(tmp_path):
    """The two images are one output: if edges.corr.png cannot be written (here a folder
    stands in its place), edges.conv.png keeps what it held."""
    image = write_png(tmp_path / "photo.png", PIXELS)
    (tmp_path / "edges.conv.png").write_bytes(b"old")
    (tmp_path / "edges.corr.png").mkdir()
    result = invoke("compare", image, "identity:1", "-o", str(tmp_path / "edges.png"))
    assert "edges.corr.png" in error_line(result, 1)
    assert (tmp_path / "edges.conv.png").read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "edges.conv.png",
        "edges.corr.png",
        "photo.png",
    ]
