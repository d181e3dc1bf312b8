"""Tests for convcli.render.explain: the animation of explain, frame by frame, on a rich
Console forced to be a terminal and writing to a StringIO."""

from __future__ import annotations

import re
from io import StringIO

import numpy as np
import pytest
from rich.console import Console

from convcli.analysis import steps
from convcli.options import Options
from convcli.render import explain as render_steps
from tests.cli.runner import normalised
from tests.processes import ROOT

COLOUR_CODE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RECORDING = "samples/recording.csv"
_NAME = {"convolution": "g", "correlation": "r"}


def terminal(buffer: StringIO) -> Console:
    return Console(file=buffer, force_terminal=True, width=120, color_system="standard")


def test_animate_slides_over_a_terminal(monkeypatch) -> None:
    buffer = StringIO()
    monkeypatch.setattr(render_steps, "Console", lambda *a, **k: terminal(buffer))
    explanation = steps.explain(
        [2, 1, 3, 5, 4], [1, 2, 1], "correlation", Options.parse(padding="same")
    )
    render_steps.animate(explanation, 0)
    raw = buffer.getvalue()
    assert "\x1b[7m" in raw or "\x1b[1;7m" in raw  # reverse video: the lit window
    text = COLOUR_CODE.sub("", raw)
    for done in range(1, 6):
        values = [5, 7, 12, 17, 13]
        row = ", ".join([f"{v:>2}" for v in values[:done]] + [" ·"] * (5 - done))
        assert f"r = [{row}]" in text  # each output as wide as the widest
    assert "r[4] = 1*5 + 2*4 + 1*[0] = 13" in " ".join(text.split())


def test_animate_sleeps_delay_per_step(monkeypatch) -> None:
    slept = []
    monkeypatch.setattr(render_steps, "Console", lambda *a, **k: terminal(StringIO()))
    monkeypatch.setattr(render_steps.time, "sleep", slept.append)
    explanation = steps.explain([2, 1, 3, 5, 4], [1, -1], "convolution")
    render_steps.animate(explanation, 0.125)
    assert slept == [0.125] * 4


def reversed_segments(renderable: object) -> list[str]:
    """The text of every segment drawn in reverse video (the lit window), stripped."""
    console = terminal(StringIO())
    return [
        segment.text.strip()
        for segment in console.render(renderable)
        if segment.style is not None and segment.style.reverse and segment.text.strip()
    ]


def plain_lines(renderable: object) -> list[str]:
    console = Console(file=StringIO(), width=120, color_system=None)
    console.print(renderable)
    return console.file.getvalue().splitlines()


def test_frame_1d_lights_the_window_and_aligns_the_kernel() -> None:
    explanation = steps.explain(
        [2, 1, 3, 5, 4], [1, -1], "correlation", Options.parse(stride=2, dilation=2)
    )
    step = explanation.step((1,))  # reads f[2] and f[4]
    frame = render_steps._frame(explanation, step, 2)
    assert reversed_segments(frame) == ["3", "4"]
    lines = plain_lines(frame)
    [signal_line] = [line for line in lines if line.strip().startswith("f ")]
    [kernel_line] = [line for line in lines if line.strip().startswith("h ")]
    [product_line] = [line for line in lines if line.strip().startswith("products")]
    ends = [m.end() for m in re.finditer(r"\S+", signal_line)][1:]  # one per signal cell
    assert [m.group() for m in re.finditer(r"\S+", kernel_line)][1:] == ["1", "-1"]
    assert [m.end() for m in re.finditer(r"\S+", kernel_line)][1:] == [ends[2], ends[4]]
    assert [m.group() for m in re.finditer(r"\S+", product_line)][1:] == ["3", "-4"]
    assert [m.end() for m in re.finditer(r"\S+", product_line)][1:] == [ends[2], ends[4]]
    assert "r = [-1, -1]" in lines
    assert "r[1] = 1*3 + (-1)*4 = -1 reads f[2 4]" in normalised("\n".join(lines))


def test_frame_1d_output_filled_up_to_the_step() -> None:
    explanation = steps.explain(
        [2, 1, 3, 5, 4], [1, 2, 1], "convolution", Options.parse(padding="same")
    )
    frame = render_steps._frame(explanation, explanation.step((0,)), 1)
    assert reversed_segments(frame) == ["[0]", "2", "1"]  # padding lit too
    assert "g = [ 5,  ·,  ·,  ·,  ·]" in plain_lines(frame)


def test_frame_2d_lights_the_window_and_fills_the_output() -> None:
    f = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    explanation = steps.explain(f, [[1, 0], [0, -1]], "convolution", Options.parse(padding=1))
    frame = render_steps._frame(explanation, explanation.step((1, 2)), 7)
    assert reversed_segments(frame) == ["2", "3", "5", "6"]
    lines = normalised("\n".join(plain_lines(frame)))
    output = explanation.output.tolist()
    assert output[1][2] == 4
    at = lines.index("g")
    shown = [line.split() for line in lines[at + 1 : at + 5]]
    flat = [v for row in output for v in row]
    expected = [str(v) if i < 7 else "·" for i, v in enumerate(flat)]
    assert [cell for row in shown for cell in row] == expected
    assert "g[1,2] = sum of the products = 4" in lines


def frame_lines(explanation, position: tuple[int, ...], done: int, width: int) -> list[str]:
    frame = render_steps._frame(explanation, explanation.step(position), done, width=width)
    console = Console(file=StringIO(), width=width, color_system=None)
    console.print(frame)
    return console.file.getvalue().splitlines()


@pytest.mark.slow
@pytest.mark.parametrize("operation", ["convolution", "correlation"])
def test_frames_of_a_long_signal_scroll_with_fixed_columns(operation, monkeypatch) -> None:
    """recording.csv (40 values) under pattern.csv at 80 columns: every frame shows the
    window lit over the signal, the kernel as slid under it, in columns that never move."""
    from convcli.cli import inputs

    monkeypatch.chdir(ROOT)
    f = inputs.read_array(RECORDING, "signal")
    h = inputs.read_array("samples/pattern.csv", "kernel")
    explanation = steps.explain(f, h, operation)
    slid = np.flip(h) if operation == "convolution" else h
    name = "flip(h)" if operation == "convolution" else "h"
    ends, output_lengths = set(), set()
    for done, position in enumerate(explanation.positions(), start=1):
        step = explanation.step(position)
        frame = render_steps._frame(explanation, step, done, width=80)
        assert reversed_segments(frame) == [str(int(v)) for v in step.values]
        lines = frame_lines(explanation, position, done, 80)
        assert max(map(len, lines)) <= 80
        [ruler] = [line for line in lines if line.startswith(" n ")]
        [kernel] = [line for line in lines if line.startswith(f" {name} ")]
        assert kernel.split()[1:] == [str(int(v)) for v in slid]
        shown = [int(cell) for cell in ruler.split()[1:]]
        window = step.cells[:, 0].tolist()
        assert shown[0] <= window[0] and window[-1] <= shown[-1]
        ends.add(tuple(m.end() for m in re.finditer(r"\S+", ruler))[1:])
        [output] = [line for line in lines if line.startswith(f"{_NAME[operation]} = [")]
        output_lengths.add(len(output))
        assert len(output) <= 80
    assert len(ends) == 1  # every cell of every frame ends in the same column
    assert len(output_lengths) == 1


def test_frame_of_a_2d_output_keeps_its_cell_width() -> None:
    explanation = steps.explain(
        [[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0], [0, -10]], "correlation"
    )
    widths = set()
    for done, position in enumerate(explanation.positions(), start=1):
        lines = frame_lines(explanation, position, done, 80)
        at = lines.index(next(line for line in lines if line.strip() == "r"))
        widths.add(tuple(len(line.rstrip()) for line in lines[at + 1 : at + 3]))
    assert len(widths) == 1
