"""The command line, in-process through click's CliRunner.

Most tests run a command and compare what it prints (parsed from CSV or JSON)
with what the library returns for the same call, as sqlite-utils' tests do;
the rest check every option form, the three formats, ``-o``, standard input,
``FILE:COLUMN`` and every error with its exit code and message.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shlex
import struct
import subprocess
import sys
import zlib
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

import convcli
from convcli.cli.main import cli
from tests.cli.runner import (
    IMAGE,
    SAMPLES,
    SOBEL,
    F,
    assert_csv,
    assert_same,
    csv_rows,
    error_line,
    from_json,
    invoke,
    matrix,
    number,
    strict_json,
    succeed,
)
from tests.examples import assert_identical
from tests.processes import ROOT

H = [1, -1]
H2 = [-1, 2, -1]
LIBRARY = {"conv": convcli.convolve, "corr": convcli.correlate}
COLOUR_CODE = re.compile(r"\x1b\[[0-9;]*m")


# ---------------------------------------------------------------- helpers


def assert_comparison_json(document: dict, expected: convcli.Comparison) -> None:
    """A compare JSON document says what the library's Comparison says."""
    assert_same(from_json(document["convolution"]), expected.convolution)
    assert_same(from_json(document["correlation"]), expected.correlation)
    assert document["kernel_symmetry"] == expected.kernel_symmetry
    assert document["identical"] is expected.identical
    assert document["negated"] is expected.negated
    assert document["differing"] == expected.differing
    options = document["options"]
    geometry = expected.geometry
    assert options["padding"] == geometry.padding
    assert options["pads"] == [list(pair) for pair in geometry.pads]
    assert options["pad_mode"] == geometry.pad_mode
    assert options["stride"] == list(geometry.stride)
    assert options["dilation"] == list(geometry.dilation)
    assert options["method"] == expected.method


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# ------------------------------------------------------- the worked example


def test_worked_example_convolution():
    assert succeed("conv", "2,1,3,5,4", "1,-1", "--format", "csv").stdout == "-1\n2\n2\n-1\n"


def test_worked_example_correlation():
    assert succeed("corr", "2,1,3,5,4", "1,-1", "--format", "csv").stdout == "1\n-2\n-2\n1\n"


def test_worked_example_compare_csv():
    result = succeed("compare", "2,1,3,5,4", "1,-1", "--format", "csv")
    assert result.stdout == ("index,convolution,correlation\n0,-1,1\n1,2,-2\n2,2,-2\n3,-1,1\n")


def test_worked_example_compare_json_antisymmetric():
    document = strict_json(succeed("compare", "2,1,3,5,4", "1,-1", "--format", "json").stdout)
    assert document["convolution"] == [-1, 2, 2, -1]
    assert document["correlation"] == [1, -2, -2, 1]
    assert document["kernel_symmetry"] == "antisymmetric"
    assert document["identical"] is False
    assert document["negated"] is True
    assert document["differing"] == 4
    assert_comparison_json(document, convcli.compare(F, H))


def test_worked_example_compare_json_symmetric():
    document = strict_json(succeed("compare", "2,1,3,5,4", "-1,2,-1", "--format", "json").stdout)
    assert document["convolution"] == document["correlation"] == [-3, 0, 3]
    assert document["kernel_symmetry"] == "symmetric"
    assert document["identical"] is True
    assert document["differing"] == 0
    assert_comparison_json(document, convcli.compare(F, H2))


def test_sample_files_give_the_worked_example():
    f, h, h2 = (str(SAMPLES / name) for name in ("f.csv", "h.csv", "h2.csv"))
    assert succeed("conv", f, h, "--format", "csv").stdout == "-1\n2\n2\n-1\n"
    assert succeed("corr", f, h, "--format", "csv").stdout == "1\n-2\n-2\n1\n"
    document = strict_json(succeed("compare", f, h2, "--format", "json").stdout)
    assert document["convolution"] == document["correlation"] == [-3, 0, 3]
    assert document["kernel_symmetry"] == "symmetric"


# ------------------------------------------- the CLI agrees with the library

CASES_1D = [
    ((), {}),
    (("--padding", "valid"), {"padding": "valid"}),
    (("--padding", "same"), {"padding": "same"}),
    (("--padding", "full"), {"padding": "full"}),
    (("--padding", "2"), {"padding": 2}),
    (("--padding", "1:3"), {"padding": [(1, 3)]}),
    (("--padding", "FULL"), {"padding": "full"}),
    (("--stride", "2"), {"stride": 2}),
    (("--stride", "3", "--padding", "full"), {"stride": 3, "padding": "full"}),
    (("--dilation", "2"), {"dilation": 2}),
    (("--dilation", "2", "--padding", "same"), {"dilation": 2, "padding": "same"}),
    (("--method", "auto"), {"method": "auto"}),
    (("--method", "direct"), {"method": "direct"}),
    *(
        (("--padding", "2", "--pad-mode", mode), {"padding": 2, "pad_mode": mode})
        for mode in ("zeros", "reflect", "symmetric", "replicate", "circular")
    ),
    (
        ("--padding=full", "--stride=2", "--dilation=2"),
        {"padding": "full", "stride": 2, "dilation": 2},
    ),
]
SIGNAL_1D = [3, -1, 4, 1, -5, 9, 2, -6, 5, 3]
KERNEL_1D = [2, 7, -1]


@pytest.mark.parametrize("command", ["conv", "corr"])
@pytest.mark.parametrize(("options", "kwargs"), CASES_1D)
def test_1d_options_match_library(command, options, kwargs):
    result = succeed(command, "3,-1,4,1,-5,9,2,-6,5,3", "2,7,-1", *options, "--format", "csv")
    assert_csv(result.stdout, LIBRARY[command](SIGNAL_1D, KERNEL_1D, **kwargs))


CASES_2D = [
    ((), {}),
    (("--padding", "same"), {"padding": "same"}),
    (("--padding", "full"), {"padding": "full"}),
    (("--padding", "1,2"), {"padding": [1, 2]}),
    (("--padding", "0:1,1:0"), {"padding": [(0, 1), (1, 0)]}),
    (("--stride", "2"), {"stride": 2}),
    (("--stride", "2,1"), {"stride": (2, 1)}),
    (("--dilation", "2"), {"dilation": 2}),
    (("--dilation", "2,1"), {"dilation": (2, 1)}),
    *(
        (("--padding", "same", "--pad-mode", mode), {"padding": "same", "pad_mode": mode})
        for mode in ("zeros", "reflect", "symmetric", "replicate", "circular")
    ),
    (
        ("--padding", "full", "--stride", "1,3", "--dilation", "1,2"),
        {"padding": "full", "stride": (1, 3), "dilation": (1, 2)},
    ),
]


@pytest.mark.parametrize("command", ["conv", "corr"])
@pytest.mark.parametrize(("options", "kwargs"), CASES_2D)
def test_2d_options_match_library(command, options, kwargs):
    image, kernel = str(SAMPLES / "image.csv"), str(SAMPLES / "kernel3x3.csv")
    result = succeed(command, image, kernel, *options, "--format", "csv")
    assert_csv(result.stdout, LIBRARY[command](IMAGE, SOBEL, **kwargs))


@pytest.mark.parametrize(
    ("options", "kwargs"),
    [
        ((), {}),
        (
            ("--padding", "same", "--pad-mode", "circular"),
            {"padding": "same", "pad_mode": "circular"},
        ),
        (("--padding", "full", "--stride", "2"), {"padding": "full", "stride": 2}),
        (("--dilation", "2", "--method", "direct"), {"dilation": 2, "method": "direct"}),
    ],
)
def test_compare_json_matches_library(options, kwargs):
    result = succeed("compare", "3,-1,4,1,-5,9,2,-6,5,3", "2,7,-1", *options, "--format", "json")
    assert_comparison_json(
        strict_json(result.stdout), convcli.compare(SIGNAL_1D, KERNEL_1D, **kwargs)
    )


def test_compare_json_2d_matches_library():
    image, kernel = str(SAMPLES / "image.csv"), str(SAMPLES / "kernel3x3.csv")
    result = succeed(
        "compare", image, kernel, "--padding", "0:1,1:0", "--stride", "2,1", "--format", "json"
    )
    expected = convcli.compare(IMAGE, SOBEL, padding=[(0, 1), (1, 0)], stride=(2, 1))
    document = strict_json(result.stdout)
    assert_comparison_json(document, expected)
    assert document["kernel_symmetry"] == "antisymmetric"
    assert document["negated"] is True


def test_compare_csv_1d_matches_library():
    expected = convcli.compare(SIGNAL_1D, KERNEL_1D, padding="full")
    lines = succeed(
        "compare", "3,-1,4,1,-5,9,2,-6,5,3", "2,7,-1", "--padding", "full", "--format", "csv"
    ).stdout.splitlines()
    assert lines[0] == "index,convolution,correlation"
    rows = [[number(cell) for cell in line.split(",")] for line in lines[1:]]
    assert [row[0] for row in rows] == list(range(expected.convolution.size))
    assert_same([row[1] for row in rows], expected.convolution)
    assert_same([row[2] for row in rows], expected.correlation)


def test_compare_csv_2d_matches_library():
    image, kernel = str(SAMPLES / "image.csv"), str(SAMPLES / "kernel3x3.csv")
    expected = convcli.compare(IMAGE, SOBEL, padding="same")
    lines = succeed(
        "compare", image, kernel, "--padding", "same", "--format", "csv"
    ).stdout.splitlines()
    assert lines[0] == "row,col,convolution,correlation"
    rows = [[number(cell) for cell in line.split(",")] for line in lines[1:]]
    assert len(rows) == expected.convolution.size
    for row, col, convolution, correlation in rows:
        assert convolution == expected.convolution[row, col]
        assert correlation == expected.correlation[row, col]
    assert {(row, col) for row, col, *_ in rows} == set(np.ndindex(expected.convolution.shape))


# -------------------------------------------------------- SIGNAL and KERNEL


@pytest.mark.parametrize(
    "signal", ["2,1,3,5,4", "2 1 3 5 4", "[2,1,3,5,4]", "[2, 1, 3, 5, 4]", " 2, 1, 3, 5, 4 "]
)
def test_inline_signal_forms(signal):
    assert succeed("conv", signal, "1,-1", "--format", "csv").stdout == "-1\n2\n2\n-1\n"


@pytest.mark.parametrize("signal", ["1,2,3;4,5,6;7,8,9", "[[1,2,3],[4,5,6],[7,8,9]]"])
def test_inline_2d_signal_forms(signal):
    result = succeed("corr", signal, "1,0;0,-1", "--format", "csv")
    expected = convcli.correlate([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0], [0, -1]])
    assert_csv(result.stdout, expected)
    assert result.stdout == "-4,-4\n-4,-4\n"


@pytest.mark.parametrize(
    "args",
    [
        ["conv", "2,1,3,5,4", "-1,1"],
        ["conv", "--padding", "valid", "2,1,3,5,4", "-1,1"],
        ["conv", "2,1,3,5,4", "--padding", "valid", "-1,1"],
        ["conv", "2,1,3,5,4", "-1,1", "--padding", "valid"],
        ["conv", "--format", "csv", "2,1,3,5,4", "-1,1", "--stride", "1"],
        ["conv", "2,1,3,5,4", "-1 1"],
        ["conv", "2,1,3,5,4", "[-1,1]"],
        ["conv", "--", "2,1,3,5,4", "-1,1"],
    ],
)
def test_negative_kernel_as_argument(args):
    # flip([-1, 1]) = [1, -1], so convolving with -1,1 is correlating with 1,-1
    command, *rest = args
    assert succeed(command, "--format", "csv", *rest).stdout == "1\n-2\n-2\n1\n"


@pytest.mark.parametrize(
    ("signal", "kernel", "expected_signal", "expected_kernel"),
    [
        ("-2,1,-3", "-1", [-2, 1, -3], [-1]),
        ("-2,-1,-3,-5", "-1,-1", [-2, -1, -3, -5], [-1, -1]),
        ("-.5,1.5,2", "-0.25,.5", [-0.5, 1.5, 2.0], [-0.25, 0.5]),
        ("-1,0;0,1", "-1,2;3,-4", [[-1, 0], [0, 1]], [[-1, 2], [3, -4]]),
        ("-1e3,2,3", "-2", [-1e3, 2.0, 3.0], [-2]),
    ],
)
@pytest.mark.parametrize("command", ["conv", "corr"])
def test_negative_signal_and_kernel(command, signal, kernel, expected_signal, expected_kernel):
    for args in (
        [command, signal, kernel],
        [command, "--padding", "full", signal, kernel],
        [command, signal, kernel, "--padding", "full"],
    ):
        result = succeed(*args, "--format", "csv")
        padding = "valid" if len(args) == 3 else "full"
        assert_csv(
            result.stdout, LIBRARY[command](expected_signal, expected_kernel, padding=padding)
        )


def test_output_file_name_starting_with_minus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    succeed("conv", "2,1,3,5,4", "-1,1", "-o", "-1.csv")
    assert (tmp_path / "-1.csv").read_text() == "1\n-2\n-2\n1\n"


def test_csv_file_with_header_and_comment_equals_inline():
    from_file = succeed("compare", str(SAMPLES / "f.csv"), "1,2,3", "--format", "json").stdout
    inline = succeed("compare", "2,1,3,5,4", "1,2,3", "--format", "json").stdout
    assert strict_json(from_file)["convolution"] == strict_json(inline)["convolution"]
    assert strict_json(from_file)["correlation"] == strict_json(inline)["correlation"]


@pytest.mark.parametrize("column", ["b", "B", "2"])
def test_file_column(tmp_path, column):
    path = write(tmp_path / "table.csv", "a,b,c\n1,2,3\n4,-5,6\n7,8,9\n10,11,12\n")
    result = succeed("conv", f"{path}:{column}", "1,-1", "--format", "csv")
    assert_csv(result.stdout, convcli.convolve([2, -5, 8, 11], [1, -1]))


def test_file_column_for_the_kernel(tmp_path):
    path = write(tmp_path / "kernels.csv", "h,h2\n1,-1\n-1,2\n0,-1\n")
    result = succeed("compare", "2,1,3,5,4", f"{path}:h2", "--format", "json")
    assert strict_json(result.stdout)["convolution"] == [-3, 0, 3]


def test_sample_file_column_by_name():
    result = succeed("corr", f"{SAMPLES / 'f.csv'}:f", "1,-1", "--format", "csv")
    assert result.stdout == "1\n-2\n-2\n1\n"


def test_signal_from_stdin():
    result = succeed("conv", "-", "1,-1", "--format", "csv", input="2\n1\n3\n5\n4\n")
    assert result.stdout == "-1\n2\n2\n-1\n"


def test_kernel_from_stdin():
    result = succeed("compare", "2,1,3,5,4", "-", "--format", "json", input="-1,2,-1\n")
    document = strict_json(result.stdout)
    assert document["convolution"] == [-3, 0, 3]
    assert document["kernel_symmetry"] == "symmetric"


def test_2d_signal_from_stdin():
    text = (SAMPLES / "image.csv").read_text()
    result = succeed("corr", "-", str(SAMPLES / "kernel3x3.csv"), "--format", "csv", input=text)
    assert_csv(result.stdout, convcli.correlate(IMAGE, SOBEL))


def test_stdin_column():
    result = succeed("conv", "-:b", "1,1", "--format", "csv", input="a,b\n1,2\n3,4\n5,6\n")
    assert_csv(result.stdout, convcli.convolve([2, 4, 6], [1, 1]))


@pytest.mark.parametrize(
    ("delimiter", "separator"),
    [("tab", "\t"), ("\\t", "\t"), (";", ";"), ("semicolon", ";"), ("space", " "), ("|", "|")],
)
def test_delimiter(tmp_path, delimiter, separator):
    path = write(
        tmp_path / "image.txt", "\n".join(separator.join(map(str, row)) for row in IMAGE.tolist())
    )
    kernel = matrix(SOBEL.tolist())  # inline numbers: --delimiter is for files only
    result = succeed("conv", path, kernel, "--delimiter", delimiter, "--format", "csv")
    assert_csv(result.stdout, convcli.convolve(IMAGE, SOBEL))


# ---------------------------------------------------------- number formats


def test_floats_are_shortest_round_trip():
    result = succeed("conv", "0.1,0.2,0.7", "1,1", "--format", "csv")
    assert result.stdout == "0.30000000000000004\n0.8999999999999999\n"
    assert_csv(result.stdout, convcli.convolve([0.1, 0.2, 0.7], [1, 1]))


def test_ints_stay_ints_even_beyond_int64():
    big = 2**62
    result = succeed("conv", f"{big},{big}", "2,2", "--format", "csv")
    assert result.stdout == f"{2**64}\n"
    document = strict_json(succeed("conv", f"{big},{big}", "2,2", "--format", "json").stdout)
    assert document["result"] == [2**64]


def test_integer_results_have_no_decimal_point():
    result = succeed("compare", "2,1,3,5,4", "1,-1", "--padding", "full", "--format", "csv")
    assert "." not in result.stdout


def test_complex_values_read_back_with_complex():
    result = succeed("conv", "1+2j,3,-1j", "1j,2", "--format", "csv")
    expected = convcli.convolve([1 + 2j, 3, -1j], [1j, 2])
    assert_csv(result.stdout, expected)
    document = strict_json(succeed("corr", "1+2j,3,-1j", "1j,2", "--format", "json").stdout)
    assert_same(from_json(document["result"]), convcli.correlate([1 + 2j, 3, -1j], [1j, 2]))


def test_complex_compare_conjugates_for_correlation():
    document = strict_json(succeed("compare", "1,2,3", "1j,1j", "--format", "json").stdout)
    expected = convcli.compare([1, 2, 3], [1j, 1j])
    assert_comparison_json(document, expected)
    assert document["kernel_symmetry"] == "antisymmetric"  # flip(h) = h = -conj(h)


@pytest.mark.parametrize("special", ["inf", "-inf", "nan"])
def test_nonfinite_input_is_accepted_with_a_note(special):
    result = succeed("conv", f"1,{special},3,4", "1,1", "--format", "csv")
    assert "nan/inf" in result.stderr
    assert "note" in result.stderr.lower()
    assert_csv(result.stdout, convcli.convolve([1.0, float(special), 3.0, 4.0], [1, 1]))


def test_nonfinite_json_is_strict_json():
    result = succeed("conv", "1,inf,3,4", "1,1", "--format", "json")
    document = strict_json(result.stdout)
    assert from_json(document["result"]) == [float("inf"), float("inf"), 7.0]


def test_finite_input_has_no_note():
    assert succeed("conv", "1.5,2,3", "1,1", "--format", "csv").stderr == ""


# ----------------------------------------------------------------- formats


def test_auto_format_is_csv_when_not_a_terminal():
    # CliRunner's stdout is not a terminal, so auto means CSV
    auto = succeed("compare", "2,1,3,5,4", "1,-1").stdout
    assert auto == succeed("compare", "2,1,3,5,4", "1,-1", "--format", "csv").stdout
    assert succeed("conv", "2,1,3,5,4", "1,-1", "--format", "auto").stdout == "-1\n2\n2\n-1\n"


@pytest.mark.parametrize("command", ["conv", "corr"])
def test_json_of_one_operation(command):
    document = strict_json(
        succeed(
            command, "3,-1,4,1,-5,9,2,-6,5,3", "2,7,-1", "--padding", "same", "--format", "json"
        ).stdout
    )
    expected = LIBRARY[command](SIGNAL_1D, KERNEL_1D, padding="same")
    assert document["operation"] == {"conv": "convolution", "corr": "correlation"}[command]
    assert_same(from_json(document["result"]), expected)
    assert document["shape"] == list(expected.shape)


def test_json_2d_result_is_nested_rows():
    document = strict_json(
        succeed(
            "corr", str(SAMPLES / "image.csv"), str(SAMPLES / "kernel3x3.csv"), "--format", "json"
        ).stdout
    )
    assert document["result"] == convcli.correlate(IMAGE, SOBEL).tolist()


def table_lines(text: str) -> list[list[str]]:
    """Each line's numbers (integers, maybe negative) as strings."""
    return [re.findall(r"-?\d+(?:\.\d+)?", line) for line in text.splitlines()]


def test_compare_table_1d_antisymmetric():
    text = succeed("compare", "2,1,3,5,4", "1,-1", "--format", "table").stdout
    assert not COLOUR_CODE.search(text)
    header = next(
        line for line in text.splitlines() if "convolution" in line and "correlation" in line
    )
    assert "index" in header
    assert header.index("index") < header.index("convolution") < header.index("correlation")
    rows = table_lines(text)
    for index, (convolution, correlation) in enumerate(zip([-1, 2, 2, -1], [1, -2, -2, 1])):
        assert [str(index), str(convolution), str(correlation)] in rows
    flip_line = next(line for line in text.splitlines() if "flip(h)" in line)
    assert "[-1, 1]" in flip_line
    assert "antisymmetric" in text


def test_compare_table_1d_symmetric():
    text = succeed("compare", "2,1,3,5,4", "-1,2,-1", "--format", "table").stdout
    rows = table_lines(text)
    for index, value in enumerate([-3, 0, 3]):
        assert [str(index), str(value), str(value)] in rows
    assert "symmetric" in text
    assert "antisymmetric" not in text
    assert "flip(h)" in text


def test_compare_table_verdict_none_counts_differences():
    expected = convcli.compare([1, 2, 1, 5, 4], [1, 0, 2])
    assert expected.differing == 2  # equal at index 0 only
    text = succeed("compare", "1,2,1,5,4", "1,0,2", "--format", "table").stdout
    flat = " ".join(text.split())
    assert "none" in flat
    assert "symmetric kernel" not in flat
    assert "2 of 3" in flat
    flip_line = next(line for line in text.splitlines() if "flip(h)" in line)
    assert "[2, 0, 1]" in flip_line


def test_compare_table_2d_side_by_side():
    result = convcli.compare(IMAGE, SOBEL)
    text = succeed(
        "compare", str(SAMPLES / "image.csv"), str(SAMPLES / "kernel3x3.csv"), "--format", "table"
    ).stdout
    lines = text.splitlines()
    assert any("convolution" in line and "correlation" in line for line in lines)
    rows = table_lines(text)
    for convolution, correlation in zip(result.convolution.tolist(), result.correlation.tolist()):
        assert list(map(str, convolution + correlation)) in rows
    assert "flip(h)" in text
    # the kernel and the flipped kernel appear side by side, after the signal's row
    for signal_row, kernel_row, flipped_row in zip(
        IMAGE.tolist(), SOBEL.tolist(), np.flip(SOBEL).tolist()
    ):
        assert list(map(str, signal_row + kernel_row + flipped_row)) in rows
    assert "antisymmetric" in text


def test_conv_table_shows_index_and_values():
    text = succeed("conv", "2,1,3,5,4", "1,-1", "--format", "table").stdout
    assert "convolution" in text
    rows = table_lines(text)
    for index, value in enumerate([-1, 2, 2, -1]):
        assert [str(index), str(value)] in rows


def test_table_names_the_options_used():
    text = succeed(
        "compare",
        "3,-1,4,1,-5,9,2,-6,5,3",
        "2,7,-1",
        "--padding",
        "same",
        "--pad-mode",
        "reflect",
        "--stride",
        "2",
        "--dilation",
        "2",
        "--format",
        "table",
    ).stdout
    flat = " ".join(text.split())
    for word in ("same", "reflect", "stride 2", "dilation 2"):
        assert word in flat


# ------------------------------------------------------------------ -o FILE


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("out.csv", "csv"),
        ("out.txt", "csv"),
        ("out", "csv"),
        ("out.json", "json"),
        ("OUT.JSON", "json"),
    ],
)
def test_output_format_by_extension(tmp_path, name, kind):
    target = tmp_path / name
    result = succeed("compare", "2,1,3,5,4", "1,-1", "-o", str(target))
    assert result.stdout == ""
    expected = succeed("compare", "2,1,3,5,4", "1,-1", "--format", kind).stdout
    assert target.read_text() == expected
    assert sorted(os.listdir(tmp_path)) == [name]  # no temporary file left behind


@pytest.mark.parametrize("command", ["conv", "corr"])
def test_output_json_for_one_operation(tmp_path, command):
    target = tmp_path / "result.json"
    succeed(command, "2,1,3,5,4", "1,-1", "--output", str(target))
    document = strict_json(target.read_text())
    assert_same(from_json(document["result"]), LIBRARY[command](F, H))


def test_explicit_format_beats_extension(tmp_path):
    target = tmp_path / "out.csv"
    succeed("compare", "2,1,3,5,4", "1,-1", "--format", "json", "-o", str(target))
    assert strict_json(target.read_text())["kernel_symmetry"] == "antisymmetric"
    target = tmp_path / "out.json"
    succeed("conv", "2,1,3,5,4", "1,-1", "--format", "csv", "-o", str(target))
    assert target.read_text() == "-1\n2\n2\n-1\n"


@pytest.mark.parametrize("dimensions", [1, 2])
def test_output_table_is_plain_text(tmp_path, dimensions):
    target = tmp_path / "view.txt"
    args = (
        ("2,1,3,5,4", "1,-1")
        if dimensions == 1
        else (str(SAMPLES / "image.csv"), str(SAMPLES / "kernel3x3.csv"))
    )
    result = succeed("compare", *args, "--format", "table", "-o", str(target))
    assert result.stdout == ""
    text = target.read_text(encoding="utf-8")
    assert "\x1b" not in text
    assert "flip(h)" in text
    assert "antisymmetric" in text
    assert "convolution" in text and "correlation" in text


def test_output_overwrites_existing_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old contents that are longer than the new ones\n" * 10)
    succeed("conv", "2,1,3,5,4", "1,-1", "-o", str(target))
    assert target.read_text() == "-1\n2\n2\n-1\n"
    assert os.listdir(tmp_path) == ["out.csv"]


# ------------------------------------------------------------------ errors

DATA_ERRORS = [
    # (arguments, files to create, words the message must contain)
    (["conv", "{tmp}/missing.csv", "1,-1"], {}, ["missing.csv"]),
    (["conv", "{tmp}/empty.csv", "1,-1"], {"empty.csv": ""}, ["empty.csv"]),
    (["conv", "{tmp}/comments.csv", "1"], {"comments.csv": "# nothing\n\n"}, ["comments.csv"]),
    (
        ["conv", "{tmp}/bad.csv", "1"],
        {"bad.csv": "1,2\n3,4\n5,x\n"},
        ["bad.csv", "line 3", "column 2", "x"],
    ),
    (
        ["corr", "1", "{tmp}/bad.csv"],
        {"bad.csv": "1\n\n2\nabc\n"},
        ["bad.csv", "line 4", "column 1", "abc"],
    ),
    (["conv", "{tmp}/ragged.csv", "1"], {"ragged.csv": "1,2,3\n4,5\n"}, ["ragged.csv", "line 2"]),
    (["conv", "1,2,3;4,5", "1"], {}, ["line 2"]),
    (["conv", "1,2", "1,2,3"], {}, ["kernel", "padding"]),
    (["compare", "1,2;3,4", "1,2,3;4,5,6;7,8,9"], {}, ["kernel", "padding"]),
    (["conv", "{tmp}/t.csv:zzz", "1"], {"t.csv": "a,b\n1,2\n"}, ["zzz", "t.csv"]),
    (["conv", "{tmp}/t.csv:3", "1"], {"t.csv": "a,b\n1,2\n"}, ["'3'", "t.csv"]),
    (["conv", "1,2;3,4", "1,1"], {}, ["dimension"]),
    (["compare", "1,2,3", "1,0;0,1"], {}, ["dimension"]),
    (["conv", "1,2,abc", "1"], {}, ["abc"]),
    (["conv", "{tmp}/huge.csv", "1"], {"huge.csv": "1\n1e400\n"}, ["line 2", "1e400", "overflows"]),
    (["conv", "1,1e400", "1"], {}, ["1e400", "overflows"]),
    (["conv", "1,2", "[]"], {}, ["kernel", "empty"]),
    (["conv", "{tmp}", "1"], {}, ["directory"]),
    (["conv", "{tmp}/eu.csv", "1", "--decimal", ","], {"eu.csv": "1,5\n1.500\n"}, ["'1.500'"]),
    (["conv", "{tmp}/eu.csv", "1"], {"eu.csv": "1,5;2\n"}, ["--delimiter ';'", "--decimal ,"]),
]


@pytest.mark.parametrize(("args", "files", "words"), DATA_ERRORS)
def test_data_errors_exit_1(tmp_path, args, files, words):
    for name, text in files.items():
        write(tmp_path / name, text)
    result = invoke(*(arg.format(tmp=tmp_path) for arg in args))
    assert result.exit_code == 1, result.output
    line = error_line(result)
    for word in words:
        assert word in line


def test_empty_stdin_is_a_data_error():
    result = invoke("conv", "-", "1", input="")
    assert result.exit_code == 1
    assert "standard input" in error_line(result)


USAGE_ERRORS = [
    (["conv", "1,2,3", "1", "--stride", "0"], ["stride"]),
    (["conv", "1,2,3", "1", "--stride", "-1"], ["stride", "-1"]),
    (["conv", "--stride", "-2", "1,2,3", "1"], ["stride", "-2"]),
    (["conv", "1,2,3", "1", "--stride", "1,0"], ["stride"]),
    (["corr", "1,2,3", "1", "--dilation", "0"], ["dilation"]),
    (["corr", "1,2,3", "1", "--dilation", "-1"], ["dilation", "-1"]),
    (["compare", "1,2,3", "1", "--padding", "-1"], ["padding", "negative"]),
    (["compare", "1,2,3", "1", "--padding", "1:-1"], ["padding", "negative"]),
    (["compare", "1,2,3", "1", "--padding", "sideways"], ["padding", "sideways"]),
    (["conv", "1,2,3", "1", "--pad-mode", "mirror"], ["mirror"]),
    (["conv", "1,2,3", "1", "--method", "winograd"], ["winograd"]),
    (["conv", "1,2,3", "1", "--format", "xml"], ["xml"]),
    (["conv", "1,2,3", "1", "--bogus"], ["--bogus"]),
    (["conv", "1,2,3", "1", "-q"], ["-q"]),
    (["conv", "-", "-"], ["standard input"]),
    (["conv", "1,2,3"], ["KERNEL"]),
    (["conv", "1,2,3", "1", "--stride"], ["--stride"]),
    (["conv", "1,2,3", "1", "--delimiter", "ab"], ["delimiter"]),
    (["conv", "1,2,3", "1", "--decimal", ",", "--delimiter", ","], ["--decimal", "--delimiter"]),
    (["conv", "1,2,3", "1", "--decimal", ";"], ["--decimal", "';'"]),
]


@pytest.mark.parametrize(("args", "words"), USAGE_ERRORS)
def test_usage_errors_exit_2(args, words):
    result = invoke(*args, input="1\n2\n")
    assert result.exit_code == 2, result.output
    line = error_line(result)
    for word in words:
        assert word in line


ONE_LINE_CASES = [
    DATA_ERRORS[0][0],  # missing file
    ["conv", "1,2,3", "1", "--stride", "0"],  # bad option value
    ["conv", "1,2,3", "1", "--pad-mode", "mirror"],  # not one of the choices
    ["conv", "1,2,3", "1", "--bogus"],  # unknown option
    ["conv", "-", "-"],  # both from standard input
]


@pytest.mark.parametrize("args", ONE_LINE_CASES, ids=" ".join)
def test_errors_are_one_line(tmp_path, args):
    result = invoke(*(arg.format(tmp=tmp_path) for arg in args), input="1\n2\n")
    assert result.exit_code in (1, 2)
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Error: ")


def test_unknown_command_is_a_usage_error():
    result = invoke("convolve", "1,2", "1")
    assert result.exit_code == 2
    assert "convolve" in error_line(result)


# ---------------------------------------------- no partial file on failure

FAILING = [
    ["conv", "{tmp}/missing.csv", "1,-1"],
    ["conv", "1,2,x", "1"],
    ["conv", "1,2", "1,2,3"],
    ["conv", "1,2;3,4", "1,1"],
    ["conv", "1,2,3", "1", "--stride", "0"],
    ["compare", "1,2,3", "1", "--pad-mode", "mirror"],
]


@pytest.mark.parametrize("args", FAILING)
@pytest.mark.parametrize("name", ["out.csv", "out.json", "out.txt"])
def test_failure_leaves_existing_output_untouched(tmp_path, args, name):
    target = tmp_path / name
    target.write_text("precious\n")
    before = sorted(os.listdir(tmp_path))
    result = invoke(*(arg.format(tmp=tmp_path) for arg in args), "-o", str(target))
    assert result.exit_code in (1, 2)
    error_line(result)
    assert target.read_text() == "precious\n"
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("args", FAILING)
def test_failure_creates_no_output_file(tmp_path, args):
    result = invoke(*(arg.format(tmp=tmp_path) for arg in args), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code in (1, 2)
    assert os.listdir(tmp_path) == []


def test_failure_while_writing_leaves_no_partial_or_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("precious\n")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    monkeypatch.setattr(os, "rename", disk_full)
    result = invoke("conv", "2,1,3,5,4", "1,-1", "-o", str(target))
    assert result.exit_code == 1
    assert error_line(result) == f"Error: no space left on device writing {target}"
    assert target.read_text() == "precious\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_output_in_missing_directory(tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "out.csv"
    result = invoke("conv", "2,1,3,5,4", "1,-1", "-o", str(target))
    assert result.exit_code == 1
    assert "out.csv" in error_line(result)
    assert not (tmp_path / "no").exists()


def test_output_is_a_directory(tmp_path):
    result = invoke("conv", "2,1,3,5,4", "1,-1", "-o", str(tmp_path))
    assert result.exit_code in (1, 2)
    assert str(tmp_path) in error_line(result)
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------- version and help


def test_version():
    result = succeed("--version")
    assert version("convcli") in result.stdout
    assert "convcli" in result.stdout


@pytest.mark.parametrize("command", [[], ["compare"], ["conv"], ["corr"]])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_shows_an_example(command, flag):
    text = succeed(*command, flag).stdout
    assert "Example" in text
    name = command[0] if command else "compare"
    assert re.search(rf"convcli {name} \S+ \S+", text), text


@pytest.mark.parametrize("command", ["compare", "conv", "corr"])
def test_help_lists_every_option(command):
    text = succeed(command, "--help").stdout
    for option in (
        "--padding",
        "--pad-mode",
        "--stride",
        "--dilation",
        "--method",
        "--delimiter",
        "--decimal",
        "--format",
        "-o",
        "--force",
    ):
        assert option in text
    for mode in ("zeros", "reflect", "symmetric", "replicate", "circular"):
        assert mode in text


# ------------------------------------------------------------ hostile input

CSV_CHARACTERS = '0123456789+-.eEjin ,;\t\r\n"#x\ufeff'


@pytest.mark.slow
@given(
    text=st.text(alphabet=st.sampled_from(CSV_CHARACTERS), max_size=80) | st.text(max_size=40),
    options=st.sampled_from([[], ["--decimal", ","], ["--delimiter", ";"], ["--stream"]]),
)
def test_fuzz_stdin_gives_output_or_one_line_error(text, options):
    """Whatever arrives on standard input: CSV output (exit 0) or one Error line (exit 1)."""
    result = invoke("conv", "-", "1", "--format", "csv", *options, input=text)
    assert result.exit_code in (0, 1), (result.exit_code, result.exception)
    if result.exit_code == 0:
        assert result.stderr.startswith("note:") or result.stderr == ""
        assert csv_rows(result.stdout)
    else:
        error_line(result)
        assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize(
    "data", [b"\x7fELF\x02\x01\x01\x00\x00", os.urandom(64) + b"\x00", b"\x89PNG\r\n\x1a\n"]
)
def test_binary_garbage_is_a_data_error(tmp_path, data):
    path = tmp_path / "blob.csv"
    path.write_bytes(data)
    result = invoke("conv", str(path), "1")
    assert result.exit_code == 1
    assert "blob.csv" in error_line(result)


@pytest.mark.parametrize("shape", [(0,), (2, 0)])
def test_kernel_with_a_zero_dimension_is_a_data_error(tmp_path, shape):
    kernel = tmp_path / "k.npy"
    np.save(kernel, np.zeros(shape))
    signal = "1,2,3" if len(shape) == 1 else "1,2;3,4"
    result = invoke("conv", signal, str(kernel))
    assert result.exit_code == 1
    line = error_line(result)
    assert "kernel is empty" in line and str(shape) in line


def test_decimal_comma_end_to_end(tmp_path):
    data = write(tmp_path / "eu.csv", "\ufeffZeit;Wert\r\n0;1,5\r\n1;-2,25\r\n2;4\r\n")
    result = succeed("conv", f"{data}:Wert", "0,5 0,5", "--decimal", ",", "--format", "csv")
    assert csv_rows(result.stdout) == [[-0.375], [0.875]]
    tabbed = write(tmp_path / "eu.tsv", "1,5\t2\n")
    result = succeed("corr", tabbed, "1", "--decimal", ",", "--delimiter", "tab")
    assert csv_rows(result.stdout) == [[1.5], [2.0]]


def test_decimal_comma_stream(tmp_path):
    data = write(tmp_path / "eu.csv", "".join(f"{i},5\n" for i in range(50)))
    whole = succeed("conv", data, "1 -1", "--decimal", ",", "--format", "csv").stdout
    streamed = succeed("conv", data, "1 -1", "--decimal", ",", "--stream").stdout
    assert streamed == whole == "1.0\n" * 49


INT64_PAIRS = [
    # signal, kernel: products or sums past int64 from int64 inputs
    ([2**62, 2**62, 3], [2, 1]),
    ([-(2**63), 5, 2**63 - 1], [3, -1]),
    ([2**40] * 9, [2**23 + 1] * 5),
]


@pytest.mark.parametrize(("signal", "kernel"), INT64_PAIRS)
@pytest.mark.parametrize("method", ["direct", "fft", "auto"])
@pytest.mark.parametrize("stream", [False, True])
def test_int64_overflow_exact_on_the_command_line(signal, kernel, method, stream):
    """Never a wrapped number: every method and the stream path write the exact integers."""
    arguments = ["conv", ",".join(map(str, signal)), ",".join(map(str, kernel))]
    options = ["--method", method, "--padding", "full", "--format", "csv"]
    result = succeed(*arguments, *options, *(["--stream"] if stream else []))
    expected = [
        sum(signal[i - k] * kernel[k] for k in range(len(kernel)) if 0 <= i - k < len(signal))
        for i in range(len(signal) + len(kernel) - 1)
    ]
    assert [int(line) for line in result.stdout.splitlines()] == expected
    assert all(re.fullmatch(r"-?\d+", line) for line in result.stdout.splitlines())


@pytest.mark.slow
def test_int64_overflow_exact_in_a_long_stream(tmp_path):
    """Past the stream's buffer, with blocks summed by FFT where int64 is safe."""
    values = [(i % 7 - 3) * 2**60 for i in range(300_000)]
    data = write(tmp_path / "big.csv", "\n".join(map(str, values)) + "\n")
    streamed = succeed("corr", data, "4,4,1", "--stream", "--padding", "1:1").stdout.splitlines()
    padded = [0, *values, 0]
    for index in (0, 1, 12345, len(values) - 1):
        window = padded[index : index + 3]
        assert int(streamed[index]) == 4 * window[0] + 4 * window[1] + window[2]
    assert len(streamed) == len(values)


# ------------------------------------------------------------ -o and its inputs


@pytest.mark.parametrize("command", ["conv", "compare", "explain", "backward"])
def test_output_refuses_to_replace_an_input(tmp_path, command):
    data = write(tmp_path / "data.csv", "2\n1\n3\n5\n4\n")
    result = invoke(command, data, "1,-1", "-o", data)
    assert result.exit_code == 2
    line = error_line(result)
    assert "data.csv" in line and "signal" in line and "--force" in line
    assert Path(data).read_text() == "2\n1\n3\n5\n4\n"
    assert sorted(os.listdir(tmp_path)) == ["data.csv"]


def test_output_refuses_an_input_through_a_symlink_or_a_column(tmp_path):
    kernel = write(tmp_path / "k.csv", "a,b\n1,-1\n")
    link = tmp_path / "out.csv"
    link.symlink_to("k.csv")
    result = invoke("corr", "2,1,3", f"{kernel}:a", "-o", str(link))
    assert result.exit_code == 2
    assert "kernel" in error_line(result)
    grad = write(tmp_path / "g.csv", "1\n1\n")
    result = invoke("backward", "2,1,3", "1,-1", "--grad", grad, "-o", grad)
    assert result.exit_code == 2
    assert "--grad" in error_line(result)


def test_force_replaces_an_input(tmp_path):
    data = write(tmp_path / "data.csv", "2\n1\n3\n5\n4\n")
    succeed("conv", data, "1,-1", "-o", data, "--force")
    assert Path(data).read_text() == "-1\n2\n2\n-1\n"
    streamed = write(tmp_path / "s.csv", "2\n1\n3\n5\n4\n")
    succeed("conv", streamed, "1,-1", "-o", streamed, "--force", "--stream")
    assert Path(streamed).read_text() == "-1\n2\n2\n-1\n"
    assert sorted(os.listdir(tmp_path)) == ["data.csv", "s.csv"]


def test_kernels_has_no_force_option():
    assert invoke("kernels", "--force").exit_code == 2


# ------------------------------------------------------------ limits


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["conv", "{big}", "{big}", "--padding", "full"], ["3999x3999", "--stream", "--padding"]),
        (["compare", "{big}", "1,1;1,1"], ["1999x1999"]),
        (["conv", "{long}", "{long}", "--padding", "full"], ["1999999 result"]),
    ],
)
def test_too_large_for_the_memory_is_refused_before_computing(tmp_path, monkeypatch, args, words):
    """With 50 MB available (as the machine would say), a few hundred MB is refused at once:
    one line naming the size, the memory available and what to try instead."""
    from convcli.cli import limits
    from convcli.engine import core as engine

    monkeypatch.setattr(limits, "available_memory", lambda: 50_000_000)

    def never(*args, **kwargs):
        raise AssertionError("computed although refused")

    monkeypatch.setattr(engine, "compute", never)
    monkeypatch.setattr(engine, "compare", never)
    big, long = tmp_path / "big.npy", tmp_path / "long.npy"
    np.save(big, np.ones((2000, 2000)))
    np.save(long, np.ones(1_000_000))
    result = invoke(*(arg.format(big=big, long=long) for arg in args))
    assert result.exit_code == 1
    line = error_line(result)
    assert re.search(r"needs about [\d.]+ [MG]B of memory but 50 MB is available", line), line
    for word in words:
        assert word in line


@pytest.mark.slow
def test_plot_counts_the_figure_in_its_memory_check(tmp_path, monkeypatch):
    """Drawing a 3000x3000 comparison took 870 MB (peak RSS over start-up) for matplotlib's
    copies of three panels, more than the results alone: 900 MB available is refused."""
    from convcli.cli import limits
    from convcli.render import plot

    pytest.importorskip("matplotlib")
    monkeypatch.setattr(limits, "available_memory", lambda: 900_000_000)

    def never(*args, **kwargs):
        raise AssertionError("drawn although refused")

    monkeypatch.setattr(plot, "figure_bytes", never)
    signal = tmp_path / "big.npy"
    np.save(signal, np.zeros((3000, 3000), dtype=np.int64))
    result = invoke("plot", str(signal), "identity:1", "-o", str(tmp_path / "figure.png"))
    assert result.exit_code == 1
    line = error_line(result)
    assert re.search(r"needs about [\d.]+ GB of memory but 900 MB is available", line), line
    assert "--stream" not in line


def test_small_runs_never_ask_for_the_memory(monkeypatch):
    from convcli.cli import limits

    def unknown():
        raise AssertionError("asked")

    monkeypatch.setattr(limits, "available_memory", unknown)
    assert succeed("conv", "2,1,3,5,4", "1,-1").stdout == "-1\n2\n2\n-1\n"


# ------------------------------------------------------------ long tables


@pytest.mark.parametrize("command", ["conv", "compare"])
def test_a_table_of_a_million_rows_shows_both_ends(tmp_path, command):
    signal = tmp_path / "long.npy"
    np.save(signal, np.arange(1_000_001))
    result = succeed(command, str(signal), "1,-1", "--format", "table")
    lines = result.stdout.splitlines()
    assert len(lines) < 80
    assert re.search(r"\b999960 rows left out in the middle; --all shows them", result.stdout)
    rows = [line for line in lines if re.match(r"[│|]\s+\d+ [│|]", line)]
    indices = [int(re.findall(r"\d+", row)[0]) for row in rows]
    assert indices[:3] == [0, 1, 2] and indices[-1] == 999_999


def test_all_prints_every_row(tmp_path):
    result = succeed("conv", ",".join(["1"] * 300), "1,-1", "--format", "table", "--all")
    assert "left out" not in result.stdout
    rows = [line for line in result.stdout.splitlines() if re.match(r"[│|]\s+\d+ [│|]", line)]
    assert [int(re.findall(r"\d+", row)[0]) for row in rows] == list(range(299))


# ------------------------------------------------------------ docs/errors.md's error table

ERRORS_DOC = ROOT / "docs" / "errors.md"


def declared_png(width: int, height: int) -> bytes:
    """The start of an 8-bit grayscale PNG declaring width x height pixels (its data cut off)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(bytes(100))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)


TABLE_FILES: dict[str, str | bytes] = {
    "data.csv": "1,2\n3,4\n5,x\n",
    "ragged.csv": "1,2,3\n4,5\n",
    "huge.csv": "1\n1e400\n",
    "big.csv": "1\n99999999999999999999\n",
    "eu.csv": "1,5;2\n3;4,25\n",
    "eu2.csv": "1;2\n3;1.500\n",
    "blob.bin": b"\x7fELF\x00\x01",
    "bomb.png": declared_png(100_000, 100_000),
    "table.csv": "1,2,3\n4,5,6\n",
    "wide.csv": "a,b,c\n1,2\n3,4\n",
    "eu3.csv": "1,5;2,5\n3;4,25\n",
}


def npy_header(shape: tuple[int, ...]) -> bytes:
    """The header of a .npy file of float64 values of this shape (without the values)."""
    from io import BytesIO

    buffer = BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def error_table() -> list[tuple[str, str, int]]:
    """(example command, first `code` span of the message cell, exit code) per table row."""
    text = ERRORS_DOC.read_text(encoding="utf-8")
    table = text.split("<!-- error-table", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[3:]:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        command = re.fullmatch(r"`(convcli .*)`", cells[1]).group(1)
        message = re.search(r"`([^`]*)`", cells[2]).group(1)
        rows.append((command, message, int(cells[3])))
    return rows


def test_the_error_table_is_there():
    assert len(error_table()) >= 20


@pytest.mark.slow
@pytest.mark.parametrize(("command", "message", "code"), error_table(), ids=lambda v: str(v)[:40])
def test_documented_error_table(tmp_path, monkeypatch, command, message, code):
    """Each row of docs/errors.md's table: the example gives the message shown and exit code."""
    from convcli.cli import limits

    if "/proc/" in command and not os.path.exists("/proc/self/mem"):
        pytest.skip("needs Linux /proc")
    if "/dev/full" in command and not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(limits, "available_memory", lambda: 24_200_000_000)
    for name, content in TABLE_FILES.items():
        data = content.encode() if isinstance(content, str) else content
        (tmp_path / name).write_bytes(data)
    (tmp_path / "folder").mkdir()
    np.save(tmp_path / "k.npy", np.zeros((3, 0)))
    (tmp_path / "cut.npy").write_bytes(npy_header((10**13,)) + bytes(64))
    with open(tmp_path / "long.npy", "wb") as sparse:  # 32 GB, with no disk space behind it
        header = npy_header((4 * 10**9,))
        sparse.write(header)
        sparse.truncate(len(header) + 32 * 10**9)
    if re.search(r"[<>]&-", command):  # a closed descriptor: only a real process has one
        shell = command.replace("convcli", f"{shlex.quote(sys.executable)} -m convcli", 1)
        done = subprocess.run(
            ["bash", "-c", shell],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
        assert (done.returncode, done.stderr) == (code, f"{message}\n")
        return
    result = invoke(*shlex.split(command)[1:], input="")
    assert result.exit_code == code, result.output
    if code == 0:
        assert message in result.stdout.split()
    else:
        assert error_line(result) == message


def test_a_file_name_with_a_newline_still_makes_one_error_line(tmp_path):
    bad = tmp_path / "a\nb.csv"
    bad.write_text("1\nx\n")
    result = invoke("conv", str(bad), "1")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert error_line(result).endswith("a\\nb.csv, line 2, column 1: 'x' is not a number")


def test_delay_reads_decimal_commas_and_guards_its_reference(tmp_path):
    reference = write(tmp_path / "ref.csv", "0,5\n2\n0,5\n0\n0\n0\n")
    signal = write(tmp_path / "sig.csv", "0\n0\n0,5\n2\n0,5\n0\n")
    result = succeed("delay", signal, reference, "--decimal", ",", "--format", "json")
    assert json.loads(result.stdout)["lag"] == 2
    refused = invoke("delay", signal, reference, "-o", reference)
    assert refused.exit_code == 2
    assert "reference" in error_line(refused)


def test_memory_check_lets_another_convention_swap_a_longer_kernel(monkeypatch):
    """numpy's convention takes a kernel longer than the signal; the check must not refuse it."""
    from convcli.cli import limits

    monkeypatch.setattr(limits, "available_memory", lambda: 10**6)
    result = succeed("conv", "1,2", ",".join(["1"] * 30_000), "--convention", "numpy")
    assert result.stdout.splitlines() == ["3"] * 29_999


# ------------------------------------------------------------ option combinations


def test_a_value_option_ending_the_line_says_it_needs_a_value():
    result = invoke("conv", "1,2", "1", "--padding")
    assert result.exit_code == 2
    assert error_line(result) == "Error: Option '--padding' requires an argument."
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["conv", "1,2,3", "1", "--convention", "numpy", "--stride", "2"],
        ["conv", "1,2,3", "1", "--convention", "numpy", "--pad-mode", "circular"],
        ["conv", "1,2,3", "1", "--convention", "scipy", "--padding", "1"],
        ["corr", "1,2,3", "1", "--convention", "matlab", "--padding", "same"],
        ["conv", "1,2,3", "1", "--convention", "torch", "--padding", "same", "--stride", "2"],
        ["conv", "1,2,3", "1", "--convention", "tensorflow", "--stride", "2", "--dilation", "2"],
        ["conv", "1,2,3", "1,1", "--stream", "--padding", "1", "--pad-mode", "circular"],
        ["conv", "1,2,3,4", "1,1", "--stream", "--padding", "same", "--stride", "2"],
        [
            "corr",
            "1,2,3",
            "1,1,2",
            "--normalize",
            "coeff",
            "--padding",
            "full",
            "--pad-mode",
            "reflect",
        ],
        ["corr", "1,2,3", "1,1,2", "--normalize", "biased", "--padding", "full", "--dilation", "2"],
        ["explain", "1,2,3", "1,1", "-o", "steps.npy"],
        ["plot", "1,2,3", "1,1", "-o", "figure.txt"],
    ],
    ids=lambda args: " ".join(args[3:]),
)
def test_options_that_cannot_go_together_are_usage_errors(args):
    """Options that cannot be combined whatever the data exit 2, as docs/errors.md's table says."""
    result = invoke(*args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    error_line(result)


def test_notes_are_not_printed_when_the_command_then_fails():
    failed = invoke("conv", "1,nan,3", "1,1,1,1,1")
    assert failed.exit_code == 1
    assert failed.stderr.count("\n") == 1, failed.stderr
    assert "kernel spans 5 cells" in error_line(failed)
    done = succeed("conv", "1,nan,3", "1", "--format", "csv")
    assert done.stderr.startswith("note: the signal holds 1 nan/inf value(s)")


def test_control_characters_in_usage_errors_are_escaped():
    result = invoke("conv", "1,2", "1", "a\nb\x1b[31m")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert error_line(result) == "Error: Got unexpected extra argument (a\\nb\\x1b[31m)"


FUZZ_OPTIONS = {
    "--padding": ["valid", "same", "full", "2", "0:3", "1,2", "-1", "x", "--", "1e3", "a\tb"],
    "--stride": ["1", "2", "0", "2,1", "x"],
    "--dilation": ["1", "3", "0", "1,2", "\x00"],
    "--pad-mode": ["zeros", "reflect", "circular", "symmetric", "bogus"],
    "--method": ["auto", "direct", "fft", "slow"],
    "--convention": ["convcli", "numpy", "scipy", "matlab", "torch", "tensorflow", "x"],
    "--format": ["csv", "json", "table", "npy", "png", "svg"],
    "--normalize": ["none", "coeff", "zncc", "biased", "unbiased", "z"],
    "--delimiter": [",", ";", "tab", "ab"],
    "--decimal": [".", ",", ";"],
    "--scale": ["clip", "stretch", "abs", "log"],
    "--stream": [],
    "--lags": [],
    "--all": [],
    "--bogus": [],
}
FUZZ_INPUTS = ["1,2,3,4,5", "1,nan,3", "1,2;3,4", "1,1", "sobel-x", "box:3", "[]", "a\nb", "-1,1"]


@pytest.mark.slow
@example(command="conv", inputs=["1,nan,3", "1,1,1,1,1"], options=[])
@example(command="conv", inputs=["1,2", "1", "a\nb"], options=[])
@example(command="conv", inputs=["1,2", "1"], options=[["--padding"]])
@given(
    command=st.sampled_from(["conv", "corr", "compare", "explain", "conventions"]),
    inputs=st.lists(st.sampled_from(FUZZ_INPUTS) | st.text(max_size=6), max_size=3),
    options=st.lists(
        st.sampled_from(sorted(FUZZ_OPTIONS)).flatmap(
            lambda name: (
                st.just([name])
                if not FUZZ_OPTIONS[name]
                else (st.sampled_from(FUZZ_OPTIONS[name]) | st.text(max_size=4)).map(
                    lambda value: [name, value]
                )
                | st.just([name])
            )
        ),
        max_size=4,
    ),
)
def test_fuzzed_option_combinations_fail_in_one_line(command, inputs, options):
    """Any mix of options, values and arguments: output (exit 0) or exactly one Error line
    (exit 1 or 2), never a traceback or a note before the error."""
    args = [command, *inputs, *(token for option in options for token in option)]
    result = invoke(*args, input="")
    assert isinstance(result.exception, (SystemExit, type(None))), (args, result.exception)
    if result.exit_code == 0:
        return
    assert result.exit_code in (1, 2), (args, result.exit_code, result.stderr)
    assert result.stderr.count("\n") == 1, (args, result.stderr)
    assert result.stderr.startswith("Error: "), (args, result.stderr)


@pytest.mark.parametrize("command", ["conv", "compare", "explain"])
def test_a_multi_column_file_with_a_1d_kernel_is_told_to_take_a_column(tmp_path, command):
    table = write(tmp_path / "data.csv", "t,x,y\n1,2,3\n4,5,6\n")
    result = invoke(command, table, "1,1")
    assert result.exit_code == 1
    assert error_line(result) == (
        "Error: the kernel has 1 dimension(s) but the signal has 2; "
        f"use {table}:COLUMN to take one of its 3 columns"
    )
    assert succeed(command, f"{table}:x", "1,1").exit_code == 0


@pytest.mark.parametrize("signal", ["1,2;3,4", "{npy}"])
def test_other_2d_signals_get_no_column_hint(tmp_path, signal):
    npy = tmp_path / "m.npy"
    np.save(npy, np.ones((2, 2)))
    result = invoke("conv", signal.format(npy=npy), "1,1")
    assert error_line(result).endswith("; they must match")


def test_an_inline_row_kernel_slides_along_the_rows_of_a_2d_signal():
    """[[1,-1]] is a 1x2 kernel and "1;-1" a 2x1 one, typed inline (the named diff is 1x2)."""
    signal = "1,2,4;8,16,32"
    rows = csv_rows(succeed("conv", signal, "[[1,-1]]").stdout)
    assert rows == csv_rows(succeed("conv", signal, "diff").stdout) == [[1, 2], [8, 16]]
    assert csv_rows(succeed("conv", signal, "1;-1").stdout) == [[7, 14, 28]]


def test_cli_writes_npy_files(tmp_path):
    runner = CliRunner()
    out = tmp_path / "out.npy"
    result = runner.invoke(cli, ["conv", "1,2,3,4", "1,-1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert_identical(np.load(out), np.array([1, 1, 1]))
    result = runner.invoke(cli, ["compare", "1,2,3,4", "1,-1", "--format", "npy"])
    assert result.exit_code == 0
    stacked = np.load(io.BytesIO(result.stdout_bytes))
    assert stacked.tolist() == [[1, 1, 1], [-1, -1, -1]]
    result = runner.invoke(cli, ["explain", "1,2,3", "1,1", "-o", str(tmp_path / "x.npy")])
    assert result.exit_code == 2
    assert "cannot write NPY" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npy"]


# --------------------------------------------------------------------------- --axes and --pad-value


@pytest.mark.parametrize("command", ["conv", "corr", "compare"])
def test_axes_and_pad_value_flags_give_the_library_result(tmp_path, command):
    rng = np.random.default_rng(8)
    f, h = rng.integers(-9, 9, (3, 12)), rng.integers(-3, 3, (3, 4))
    np.save(tmp_path / "f.npy", f)
    np.save(tmp_path / "h.npy", h)
    flags = ["--axes", "-1", "--padding", "full", "--stride", "2", "--pad-value", "-2"]
    out = tmp_path / "out.npy"
    succeed(command, str(tmp_path / "f.npy"), str(tmp_path / "h.npy"), *flags, "-o", str(out))
    options = {"axes": -1, "padding": "full", "stride": 2, "pad_value": -2}
    if command == "compare":
        expected = convcli.compare(f, h, **options)
        saved = np.load(out)
        np.testing.assert_array_equal(saved[0], expected.convolution)
        np.testing.assert_array_equal(saved[1], expected.correlation)
        return
    function = convcli.convolve if command == "conv" else convcli.correlate
    np.testing.assert_array_equal(np.load(out), function(f, h, **options))


def test_pad_value_alone_pads_with_that_value():
    assert succeed(
        "conv", "1,2", "1,1", "--padding", "1", "--pad-value", "0.5", "--format", "csv"
    ).stdout == ("1.5\n3.0\n2.5\n")
    assert succeed(
        "conv", "1,2", "1,1", "--padding", "1", "--pad-mode", "constant", "--format", "csv"
    ).stdout == ("1\n3\n2\n")


def test_axes_with_lags_is_a_usage_error():
    result = invoke("corr", "1,2,3;4,5,6", "1,1", "--axes", "1", "--lags")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --lags and --normalize label and scale sums along every axis over zeros or the "
        "signal's own cells: leave out --axes and --pad-value\n"
    )


def test_commands_without_constant_padding_do_not_offer_it():
    """The line-up of other libraries' rules has no constant padding to line up."""
    result = invoke("conventions", "1,2,3", "1,1", "--pad-mode", "constant")
    assert result.exit_code == 2 and "'constant' is not one of" in result.stderr
