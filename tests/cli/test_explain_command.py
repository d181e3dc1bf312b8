"""``convcli explain``: the worked steps on the command line.

CliRunner runs the command in-process (standard output is not a terminal, so
--animate falls back to the static listing); tests/render/test_explain.py runs the
animation itself.
"""

from __future__ import annotations

import os
import re
import sys

import numpy as np
import pytest
from click.testing import CliRunner, Result

from convcli import convolve, correlate
from convcli.analysis import steps
from convcli.cli.main import cli
from convcli.options import Options
from convcli.render import explain as render_steps
from tests.cli.runner import error_line, invoke, normalised, strict_json, succeed
from tests.processes import PYTHON_M, finished

F = "2,1,3,5,4"
H = "1,-1"
CONVOLUTION_LINES = [
    "g[0] = (-1)*2 + 1*1 = -1",
    "g[1] = (-1)*1 + 1*3 = 2",
    "g[2] = (-1)*3 + 1*5 = 2",
    "g[3] = (-1)*5 + 1*4 = -1",
]
CORRELATION_LINES = [
    "r[0] = 1*2 + (-1)*1 = 1",
    "r[1] = 1*1 + (-1)*3 = -2",
    "r[2] = 1*3 + (-1)*5 = -2",
    "r[3] = 1*5 + (-1)*4 = 1",
]
STEP_LINE = re.compile(r"^(?P<sum>[gr]\[[\d,]+\] = .*) reads f\[(?P<reads>[^\]]*)\]$")
# ---------------------------------------------------------------- helpers


def step_lines(text: str) -> dict[str, str]:
    """The 1-D step lines: the written-out sum (``g[0] = ... = -1``) -> the cells it reads."""
    found = {}
    for line in normalised(text):
        match = STEP_LINE.match(line)
        if match:
            found[match["sum"]] = match["reads"]
    return found


def from_json(value: object) -> object:
    """JSON values back to numbers: complex numbers arrive as strings."""
    if isinstance(value, list):
        return [from_json(item) for item in value]
    if isinstance(value, str):
        return complex(value)
    return value


def assert_one_line_error(result: Result, exit_code: int, fragment: str) -> None:
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error:"), lines[0]
    assert fragment in lines[0], lines[0]


# ---------------------------------------------------------------- the worked example


def test_worked_example_both_operations() -> None:
    result = succeed("explain", F, H)
    found = step_lines(result.stdout)
    assert list(found) == CONVOLUTION_LINES + CORRELATION_LINES
    assert list(found.values()) == ["0 1", "1 2", "2 3", "3 4"] * 2
    lines = normalised(result.stdout)
    assert "flip(h) [-1, 1]" in lines
    assert "h [1, -1]" in lines
    assert "f [2, 1, 3, 5, 4]" in lines
    assert lines[0].startswith("convolution g = f * h")
    assert any(line.startswith("correlation r = f ⋆ h") for line in lines)
    assert result.stderr == ""


def test_first_line_is_exactly_the_blackboard_sum() -> None:
    lines = normalised(succeed("explain", F, H, "--op", "conv").stdout)
    [line] = [line for line in lines if line.startswith("g[0]")]
    assert line.split(" reads ")[0] == "g[0] = (-1)*2 + 1*1 = -1"


def test_op_conv_only() -> None:
    result = succeed("explain", F, H, "--op", "conv")
    assert list(step_lines(result.stdout)) == CONVOLUTION_LINES
    assert "correlation" not in result.stdout
    assert "flip(h) [-1, 1]" in normalised(result.stdout)


def test_op_corr_only_shows_no_flip() -> None:
    result = succeed("explain", F, H, "--op", "corr")
    assert list(step_lines(result.stdout)) == CORRELATION_LINES
    assert "convolution" not in result.stdout
    assert "flip(h)" not in result.stdout


def test_negative_values_in_parentheses() -> None:
    result = succeed("explain", "-2,3", "1", "--op", "conv")
    assert list(step_lines(result.stdout)) == ["g[0] = 1*(-2) = -2", "g[1] = 1*3 = 3"]


# ---------------------------------------------------------------- options


def test_padding_marked_with_brackets_and_legend() -> None:
    result = succeed("explain", F, "1,2,1", "--op", "corr", "--padding", "same")
    lines = normalised(result.stdout)
    assert "padded f [[0], 2, 1, 3, 5, 4, [0]]" in lines
    assert "[ ] marks padding" in lines
    found = step_lines(result.stdout)
    assert found == {
        "r[0] = 1*[0] + 2*2 + 1*1 = 5": "pad 0 1",
        "r[1] = 1*2 + 2*1 + 1*3 = 7": "0 1 2",
        "r[2] = 1*1 + 2*3 + 1*5 = 12": "1 2 3",
        "r[3] = 1*3 + 2*5 + 1*4 = 17": "2 3 4",
        "r[4] = 1*5 + 2*4 + 1*[0] = 13": "3 4 pad",
    }


def test_no_padding_no_legend() -> None:
    result = succeed("explain", F, H)
    assert "marks padding" not in result.stdout
    assert "padded f" not in result.stdout
    assert "*[" not in result.stdout
    assert "pad" not in "".join(step_lines(result.stdout).values())


@pytest.mark.parametrize(
    ("pad_mode", "first", "last"),
    [
        ("replicate", "r[0] = 1*[2] + 2*2 + 1*1 = 7", "r[4] = 1*5 + 2*4 + 1*[4] = 17"),
        ("reflect", "r[0] = 1*[1] + 2*2 + 1*1 = 6", "r[4] = 1*5 + 2*4 + 1*[5] = 18"),
        ("circular", "r[0] = 1*[4] + 2*2 + 1*1 = 9", "r[4] = 1*5 + 2*4 + 1*[2] = 15"),
    ],
)
def test_pad_modes_mark_copied_cells(pad_mode: str, first: str, last: str) -> None:
    result = succeed(
        "explain", F, "1,2,1", "--op", "corr", "--padding", "same", "--pad-mode", pad_mode
    )
    found = step_lines(result.stdout)
    assert found[first] == "pad 0 1"
    assert found[last] == "3 4 pad"
    assert "[ ] marks padding" in normalised(result.stdout)


def test_stride_and_dilation_read_the_right_cells() -> None:
    result = succeed("explain", F, H, "--op", "corr", "--stride", "2", "--dilation", "2")
    assert step_lines(result.stdout) == {
        "r[0] = 1*2 + (-1)*3 = -1": "0 2",
        "r[1] = 1*3 + (-1)*4 = -1": "2 4",
    }
    assert "stride 2" in result.stdout and "dilation 2" in result.stdout


def test_stride_with_padding_reads_padding_and_signal() -> None:
    result = succeed("explain", F, "1,1,1", "--op", "conv", "--padding", "full", "--stride", "3")
    assert step_lines(result.stdout) == {
        "g[0] = 1*[0] + 1*[0] + 1*2 = 2": "pad pad 0",
        "g[1] = 1*1 + 1*3 + 1*5 = 9": "1 2 3",
        "g[2] = 1*4 + 1*[0] + 1*[0] = 4": "4 pad pad",
    }


def test_2d_one_block_per_output() -> None:
    result = succeed("explain", "1,2,3;4,5,6;7,8,9", "1,0;0,-1", "--op", "conv", "--all")
    lines = normalised(result.stdout)
    headings = [line for line in lines if "sum of the products" in line]
    assert headings == [
        "g[0,0] = sum of the products = 4",
        "g[0,1] = sum of the products = 4",
        "g[1,0] = sum of the products = 4",
        "g[1,1] = sum of the products = 4",
    ]
    # Each block: the window, flip(h) and the products side by side.
    for heading, window in zip(headings, ([1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9])):
        at = lines.index(heading)
        assert lines[at + 1] == "window of f flip(h) products"
        a, b, c, d = window
        assert lines[at + 2] == f"{a} {b} -1 0 {-a} 0"
        assert lines[at + 3] == f"{c} {d} 0 1 0 {d}"
    assert "left out" not in result.stdout


def test_2d_correlation_with_padding() -> None:
    result = succeed(
        "explain", "1,2;3,4", "1,1;1,1", "--op", "corr", "--padding", "1:0,0:1", "--all"
    )
    lines = normalised(result.stdout)
    at = lines.index("r[0,1] = sum of the products = 2")
    assert lines[at + 1] == "window of f h products"
    assert lines[at + 2] == "[0] [0] 1 1 0 0"
    assert lines[at + 3] == "2 [0] 1 1 2 0"
    assert "[ ] marks padding" in lines


def test_complex_values() -> None:
    result = succeed("explain", "1+2j,3,-1j", "1j,2")
    lines = normalised(result.stdout)
    assert "conj(h) [0-1j, 2+0j]" in lines
    assert "flip(h) [2+0j, 0+1j]" in lines
    found = step_lines(result.stdout)
    assert "g[0] = (2+0j)*(1+2j) + (0+1j)*(3+0j) = 2+7j" in found
    assert "r[0] = (0-1j)*(1+2j) + (2+0j)*(3+0j) = 8-1j" in found
    assert len(found) == 4


LONG_F = "1.123456,2.25,3.5,-4.75,5.125,6,7,8,9,10"
LONG_H = "0.125,-0.25,0.5,1.75,-2.5,3"


def assert_every_step_on_one_line(text: str) -> None:
    """Each of the five steps of LONG_F * LONG_H is one whole line: six products, the total."""
    expected = convolve(
        [1.123456, 2.25, 3.5, -4.75, 5.125, 6, 7, 8, 9, 10], [0.125, -0.25, 0.5, 1.75, -2.5, 3]
    )
    found = step_lines(text)
    assert len(found) == 5, text
    for line, total in zip(found, expected):
        assert line.count("*") == 6, line
        assert float(line.rsplit("= ", 1)[1]) == pytest.approx(total, rel=1e-5)  # 6 digits


def test_long_sums_stay_on_one_line_in_a_pipe() -> None:
    """Off a terminal (a pipe: rich's default width of 80) no step may wrap."""
    runner = CliRunner(env={"COLUMNS": None, "LINES": None, "NO_COLOR": "1"})
    result = runner.invoke(cli, ["explain", LONG_F, LONG_H, "--op", "conv"])
    assert result.exit_code == 0, result.stderr
    assert_every_step_on_one_line(result.stdout)


def test_long_sums_stay_on_one_line_in_a_text_file(tmp_path) -> None:
    target = tmp_path / "steps.txt"
    succeed("explain", LONG_F, LONG_H, "--op", "conv", "-o", str(target))
    assert_every_step_on_one_line(target.read_text())


# ---------------------------------------------------------------- long runs


def test_long_run_elides_the_middle_beyond_a_screenful() -> None:
    """Off a terminal a screenful is render_steps.SCREEN_LINES (24) steps of one line."""
    signal = ",".join(map(str, range(1, 41)))
    result = succeed("explain", signal, H, "--op", "conv")
    found = step_lines(result.stdout)
    names = [line.split(" =")[0] for line in found]
    assert names == [f"g[{i}]" for i in [*range(12), *range(27, 39)]]
    assert "… 15 steps left out; --all prints every step" in normalised(result.stdout)
    assert "⋮" in result.stdout


@pytest.mark.parametrize(
    ("signal", "kernel", "steps"),
    [
        ("1,2,3,4,5,6,7,8,9,10", H, 9),
        (",".join(map(str, range(25))), H, 24),
        ("1,2,3;4,5,6;7,8,9", "1,0;0,-1", 4),
        ("1,2,3,4;5,6,7,8;9,10,11,12", "1,1;1,1", 6),
    ],
    ids=["1-D 9 steps", "1-D 24 steps", "2-D 4 steps", "2-D 6 steps"],
)
def test_small_examples_show_every_step(signal, kernel, steps) -> None:
    result = succeed("explain", signal, kernel, "--op", "conv")
    assert "left out" not in result.stdout
    shown = len(step_lines(result.stdout)) or result.stdout.count("sum of the products")
    assert shown == steps


def test_a_terminal_shows_the_steps_its_height_holds(monkeypatch) -> None:
    monkeypatch.setattr("convcli.cli.outputs.stdout_is_terminal", lambda: True)
    signal = ",".join(map(str, range(20)))
    runner = CliRunner(env={"COLUMNS": "200", "LINES": "10", "NO_COLOR": "1"})
    result = runner.invoke(cli, ["explain", signal, H, "--op", "conv"])
    assert result.exit_code == 0, result.output
    assert len(step_lines(result.stdout)) == 10
    assert "… 9 steps left out" in result.stdout


def test_all_prints_every_step() -> None:
    signal = ",".join(map(str, range(1, 21)))
    result = succeed("explain", signal, H, "--op", "conv", "--all")
    found = step_lines(result.stdout)
    assert [line.split(" =")[0] for line in found] == [f"g[{i}]" for i in range(19)]
    assert all(line.endswith("= 1") for line in found)
    assert "left out" not in result.stdout
    assert "⋮" not in result.stdout


@pytest.mark.slow
def test_2d_long_run_elides_blocks() -> None:
    """Blocks of a 2x2 kernel take 4 lines: 6 fit in 24, of the 5x5 = 25 steps here."""
    signal = ";".join(",".join(map(str, range(row, row + 6))) for row in range(6))
    result = succeed("explain", signal, "1,1;1,1", "--op", "corr")
    lines = normalised(result.stdout)
    blocks = [line for line in lines if "sum of the products" in line]
    assert len(blocks) == 6
    assert "… 19 steps left out; --all prints every step" in lines
    every = normalised(succeed("explain", signal, "1,1;1,1", "--op", "corr", "--all").stdout)
    assert len([line for line in every if "sum of the products" in line]) == 25
    assert not any("left out" in line for line in every)


def test_one_step_left_out_is_singular() -> None:
    result = succeed("explain", ",".join(map(str, range(26))), H, "--op", "conv")
    # 25 outputs, 24 shown
    assert "… 1 step left out; --all prints every step" in normalised(result.stdout)


# ---------------------------------------------------------------- JSON


def check_json_against_library(document: dict, f: object, h: object, **options: object) -> None:
    names = {"convolution": convolve, "correlation": correlate}
    assert [op["operation"] for op in document["operations"]] == list(names)
    for entry in document["operations"]:
        explanation = steps.explain(f, h, entry["operation"], Options.parse(**options))
        expected = names[entry["operation"]](f, h, **options)
        assert np.array_equal(np.array(from_json(entry["output"])), expected)
        assert np.array_equal(np.array(from_json(entry["weights"])), explanation.setup.weights)
        assert len(entry["steps"]) == explanation.count
        for position, step_json in zip(explanation.positions(), entry["steps"]):
            step = explanation.step(position)
            assert tuple(step_json["index"]) == position
            assert step_json["cells"] == step.cells.tolist()
            assert step_json["padding"] == step.padding.tolist()
            values = np.array(from_json(step_json["values"]))
            products = np.array(from_json(step_json["products"]))
            assert np.array_equal(values, step.values)
            assert np.array_equal(products, step.products)
            assert np.array_equal(products, explanation.setup.weights * values)
            assert from_json(step_json["result"]) == expected[position] == step.total
            assert np.sum(products) == step.total


def test_json_worked_example() -> None:
    result = succeed("explain", F, H, "--format", "json")
    document = strict_json(result.stdout)
    assert document["signal"] == [2, 1, 3, 5, 4]
    assert document["kernel"] == [1, -1]
    first = document["operations"][0]["steps"][0]
    assert first == {
        "index": [0],
        "cells": [[0], [1]],
        "padding": [False, False],
        "values": [2, 1],
        "products": [-2, 1],
        "result": -1,
    }
    check_json_against_library(document, [2, 1, 3, 5, 4], [1, -1])


def test_json_with_every_option() -> None:
    args = ["--padding", "2:1", "--pad-mode", "reflect", "--stride", "2", "--dilation", "2"]
    result = succeed("explain", "3,-1,4,1,-5,9,2", "1,2,-3", "--format", "json", *args)
    document = strict_json(result.stdout)
    assert document["options"]["pads"] == [[2, 1]]
    assert document["options"]["pad_mode"] == "reflect"
    assert any(any(s["padding"]) for op in document["operations"] for s in op["steps"])
    check_json_against_library(
        document,
        [3, -1, 4, 1, -5, 9, 2],
        [1, 2, -3],
        padding="2:1",
        pad_mode="reflect",
        stride=2,
        dilation=2,
    )


def test_json_2d_and_complex() -> None:
    result = succeed("explain", "1,2j,3;4,5,-6j", "1,-1j;2,0", "--padding", "1", "--format", "json")
    document = strict_json(result.stdout)
    f = [[1, 2j, 3], [4, 5, -6j]]
    h = [[1, -1j], [2, 0]]
    check_json_against_library(document, f, h, padding=1)
    correlation = document["operations"][1]
    assert from_json(correlation["weights"]) == [[1, 1j], [2, 0]]  # conj(h)


def test_output_file_json_by_extension(tmp_path) -> None:
    target = tmp_path / "out.json"
    result = succeed("explain", F, H, "-o", str(target))
    assert result.stdout == ""
    document = strict_json(target.read_text())
    check_json_against_library(document, [2, 1, 3, 5, 4], [1, -1])


def test_output_file_text_otherwise(tmp_path) -> None:
    target = tmp_path / "out.txt"
    result = succeed("explain", F, H, "-o", str(target))
    assert result.stdout == ""
    assert list(step_lines(target.read_text())) == CONVOLUTION_LINES + CORRELATION_LINES


# ---------------------------------------------------------------- --animate


def test_animate_off_a_terminal_gives_the_static_listing(monkeypatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("animate called without a terminal")

    monkeypatch.setattr(render_steps, "animate", refuse)
    static = succeed("explain", F, "1,2,1", "--padding", "same")
    animated = succeed("explain", F, "1,2,1", "--padding", "same", "--animate", "--delay", "0")
    assert animated.stdout == static.stdout
    assert "r[4] = 1*5 + 2*4 + 1*[0] = 13" in step_lines(animated.stdout)


def test_animate_on_a_terminal_animates_each_operation(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr("convcli.cli.outputs.stdout_is_terminal", lambda: True)
    monkeypatch.setattr(
        render_steps, "animate", lambda e, delay, lags=False: calls.append((e, delay))
    )
    result = succeed("explain", F, H, "--animate", "--delay", "0.25")
    assert result.stdout == ""
    assert [(e.operation, delay) for e, delay in calls] == [
        ("convolution", 0.25),
        ("correlation", 0.25),
    ]
    assert calls[0][0].output.tolist() == [-1, 2, 2, -1]


@pytest.mark.parametrize(
    ("shown", "written"),
    [
        (["--format", "json"], "JSON"),
        (["-o", "steps.json"], "JSON"),
        (["-o", "steps.md"], "Markdown"),
        (["-o", "steps.tex"], "LaTeX"),
        (["--format", "html"], "a page"),
    ],
)
def test_animate_is_refused_where_it_does_nothing(tmp_path, monkeypatch, shown, written) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("explain", F, H, "--animate", *shown)
    assert_one_line_error(result, 2, "--animate plays the steps on a terminal or writes a GIF")
    assert written in result.stderr and not list(tmp_path.iterdir())


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("args", "exit_code", "fragment"),
    [
        (["1,x,3", "1"], 1, "signal"),
        (["1,2", "1,2,3"], 1, "kernel spans"),
        (["1,2;3,4", "1,2"], 1, "dimension"),
        (["1,2,3", "1", "--op", "sum"], 2, "--op"),
        (["1,2,3", "1", "--delay", "-1"], 2, "--delay"),
        (["1,2,3", "1", "--delay", "nan"], 2, "--delay nan takes"),
        (["1,2,3", "1", "--delay", "inf", "--animate"], 2, "--delay inf takes"),
        (["1,2,3", "1", "--stride", "0"], 2, "stride"),
        (["1,2,3", "1", "--padding", "-1"], 2, "padding"),
        (["1,2,3", "1", "--format", "csv"], 2, "--format"),
        (["1,2,3", "1", "--steps", "2"], 2, "--steps 2 takes START:END"),
        (["1,2,3", "1", "--steps", "a:b"], 2, "--steps a:b takes START:END"),
        (["1,2,3", "1", "--steps", "1:9"], 1, "steps 1:9 are not within the 3 steps"),
        (["1,2,3", "1", "--steps", "0:1", "--layer"], 2, "--steps does not go with --layer"),
        (["1,2,3"], 2, "KERNEL"),
    ],
)
def test_bad_input_is_one_line_error(args: list[str], exit_code: int, fragment: str) -> None:
    assert_one_line_error(invoke("explain", *args), exit_code, fragment)


@pytest.mark.parametrize(("span", "numbers"), [("1:3", [1, 2]), (":1", [0]), ("3:", [3])])
def test_steps_writes_out_that_range_of_each_operation(span: str, numbers: list[int]) -> None:
    lines = succeed("explain", F, H, "--steps", span).output.splitlines()
    sums = [STEP_LINE.match(line).group("sum") for line in lines if STEP_LINE.match(line)]
    assert sums == [CONVOLUTION_LINES[n] for n in numbers] + [CORRELATION_LINES[n] for n in numbers]
    document = strict_json(succeed("explain", F, H, "--steps", span, "--format", "json").output)
    for operation in document["operations"]:
        assert [step["index"] for step in operation["steps"]] == [[n] for n in numbers]


# ---------------------------------------------------------------- for slides: Markdown, LaTeX, GIF


def test_markdown_and_latex_by_format_or_by_extension(tmp_path) -> None:
    markdown = succeed("explain", F, H, "--format", "markdown").stdout
    assert "| 0 | g\\[0\\] | `[2, 1]` | `(-1)*2 + 1*1` | -1 |" in markdown.splitlines()
    latex = succeed("explain", F, H, "--format", "latex").stdout
    assert "  g[0] &= (-1)\\cdot 2 + 1\\cdot 1 = -1 \\\\" in latex.splitlines()
    for name, text in (("steps.md", markdown), ("steps.tex", latex)):
        succeed("explain", F, H, "-o", str(tmp_path / name))
        assert (tmp_path / name).read_text() == text


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("markdown", "| 0 | g\\[0\\] | `[0.12]` | `1*0.12` | 0.12 |"),
        ("latex", "  g[0] &= 1\\cdot 0.12 = 0.12"),
    ],
)
def test_markdown_and_latex_honour_digits_op_and_steps(shown: str, expected: str) -> None:
    args = ("0.123456,2.5", "1", "--op", "conv", "--digits", "2", "--steps", "0:1")
    text = succeed("explain", *args, "--format", shown).stdout
    assert expected in text.splitlines()
    assert "g[1]" not in text.replace("\\", "") and "correlation" not in text.lower()


@pytest.mark.parametrize(("shown", "name"), [("markdown", "Markdown"), ("latex", "LaTeX")])
def test_markdown_and_latex_over_the_size_limit_are_refused_with_a_range(
    tmp_path, monkeypatch, shown: str, name: str
) -> None:
    from convcli.render import handout

    monkeypatch.setattr(handout, "HANDOUT_LIMIT", 20_000)
    out = tmp_path / "steps.out"
    args = ("explain", ",".join(map(str, range(2000))), H, "--steps", "100:1999")
    result = invoke(*args, "--format", shown, "-o", str(out))
    assert_one_line_error(result, 1, f"the {name} would be about")
    assert "over the 0.0 MB limit" not in result.stderr
    assert not out.exists()
    suggested = re.search(r"\((100):(\d+) fits, of 1999 steps\)", result.stderr)
    assert suggested, result.stderr
    succeed(*args[:3], "--steps", f"{suggested[1]}:{suggested[2]}", "--format", shown)
    written = succeed(*args[:3], "--steps", "0:10", "--format", shown).stdout
    assert len(written.encode()) < handout.HANDOUT_LIMIT


def gif_frames(path) -> tuple[int, tuple[int, int], int]:
    image = pytest.importorskip("PIL.Image").open(path)
    return image.n_frames, image.size, image.info["duration"]


def test_animate_to_a_gif_file(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "slide.gif"
    succeed("explain", F, H, "--animate", "--delay", "0.3", "-o", str(out))
    assert gif_frames(out) == (4, (1280, 720), 300)
    succeed("explain", F, H, "--op", "corr", "--steps", "1:3", "--format", "gif", "-o", str(out))
    assert gif_frames(out)[0] == 2
    piped = succeed("explain", F, H, "--format", "gif").stdout_bytes  # standard output: a pipe
    out.write_bytes(piped)
    assert piped.startswith(b"GIF89a") and gif_frames(out)[:2] == (4, (1280, 720))


def test_a_gif_of_too_many_steps_is_refused_with_a_range_to_pick(tmp_path) -> None:
    out = tmp_path / "slide.gif"
    result = invoke("explain", ",".join(["1"] * 300), H, "-o", str(out))
    assert_one_line_error(result, 1, "the animation would have 299 frames, over its limit of 200")
    assert "--steps START:END" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("delay", ["164", "1000"])
def test_a_delay_too_long_for_a_gif_is_refused_before_drawing(tmp_path, monkeypatch, delay) -> None:
    from convcli.render import animation

    def never(*args: object) -> bytes:
        raise AssertionError("drew the frames")

    monkeypatch.setattr(animation, "gif_bytes", never)
    out = tmp_path / "d.gif"
    result = invoke("explain", F, H, "--delay", delay, "-o", str(out))
    assert_one_line_error(result, 2, f"--delay {delay} is longer than a GIF's frames can last")
    assert "at most 163.8375 seconds" in result.stderr and not out.exists()


def test_the_longest_delay_a_gif_takes_is_written(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from convcli.render import animation

    out = tmp_path / "d.gif"
    succeed(
        "explain", F, H, "--op", "conv", "--delay", str(animation.LONGEST_DELAY), "-o", str(out)
    )
    assert 0 <= animation.LONGEST_DELAY * 1000 - gif_frames(out)[2] < 10  # in 1/100 s


def test_a_gif_where_it_cannot_be_written_is_refused_before_drawing(tmp_path, monkeypatch) -> None:
    from convcli.render import animation

    def never(*args: object) -> bytes:
        raise AssertionError("drew the frames")

    monkeypatch.setattr(animation, "gif_bytes", never)
    if os.path.isdir("/proc"):  # a folder that takes no new file, even from root
        result = invoke("explain", F, H, "-o", "/proc/slide.gif")
        assert_one_line_error(result, 1, "cannot write to /proc/slide.gif")
    if os.geteuid() != 0:  # root writes into a read-only folder
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        result = invoke("explain", F, H, "-o", str(locked / "slide.gif"))
        assert_one_line_error(result, 1, "cannot write")


def test_a_gif_refused_for_its_frames_suggests_a_range_from_the_start_asked(tmp_path) -> None:
    result = invoke(
        "explain", ",".join(["1"] * 1600), H, "--steps", "1000:1500", "-o", str(tmp_path / "s.gif")
    )
    assert_one_line_error(result, 1, "the animation would have 500 frames")
    assert "(--steps 1000:1200)" in result.stderr


def test_an_mp4_is_refused_for_a_gif(tmp_path) -> None:
    result = invoke("explain", F, H, "--animate", "-o", str(tmp_path / "slide.mp4"))
    assert_one_line_error(result, 2, "an MP4 needs ffmpeg, which convcli does not use")
    assert "-o FILE.gif" in result.stderr


@pytest.mark.parametrize("hidden", ["matplotlib", "PIL"])
def test_a_gif_without_the_plot_extra_says_how_to_install_it(tmp_path, hidden: str) -> None:
    out = tmp_path / "slide.gif"
    script = (
        f"import sys; sys.modules[{hidden!r}] = None; from convcli.cli.main import main; "
        "sys.argv = ['convcli', 'explain', '2,1,3', '1,-1', '-o', sys.argv[1]]; main()"
    )
    done = finished([sys.executable, "-c", script, str(out)])
    assert (done.returncode, done.stderr) == (
        1,
        "Error: a GIF needs matplotlib and Pillow: pip install 'convcli[plot]'\n",
    )
    assert not out.exists()


def test_help_states_the_gif_bounds() -> None:
    from convcli.render import animation

    text = " ".join(succeed("explain", "--help").stdout.split())
    assert f"{animation.WIDTH}x{animation.HEIGHT} GIF" in text
    assert f"at most {animation.MAX_FRAMES} frames" in text


def test_steps_help_says_what_it_takes() -> None:
    text = " ".join(succeed("explain", "--help").stdout.split())
    assert "Python slice" not in text  # -2: and : are refused, and END must be within the steps
    assert "START:END, START: or :END" in text and "no negative numbers" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "explain writes out 1-D and 2-D signals as text; this one has 3 axes"),
        (("-o", "steps.gif"), "a GIF shows 1-D and 2-D signals; this one has 3 axes"),
    ],
)
def test_a_3d_signal_is_refused_as_text_and_as_a_gif(tmp_path, monkeypatch, args, message):
    """JSON, Markdown and LaTeX write out a 3-D explanation; text and a GIF draw only 1-D and
    2-D, and say so in one line rather than failing inside."""
    monkeypatch.chdir(tmp_path)
    cube = "[[[1,2],[3,4]],[[5,6],[7,8]]]"
    result = invoke("explain", cube, "[[[1]]]", *args)
    assert result.exit_code == 1
    assert message in error_line(result)
    assert not (tmp_path / "steps.gif").exists()
    assert strict_json(succeed("explain", cube, "[[[1]]]", "--format", "json").output)


@pytest.mark.slow
@pytest.mark.parametrize("output", [(), ("--format", "html"), ("--format", "markdown")])
def test_overflowing_products_show_inf_without_a_python_warning(output):
    """In a real process, where a RuntimeWarning would reach stderr (pytest keeps it)."""
    result = finished([*PYTHON_M, "explain", "1e300,1e300,2", "1e10,1", *output])
    assert result.returncode == 0
    assert "inf" in result.stdout
    assert result.stderr == ""
