"""--convention on conv, corr and compare, and ``convcli conventions``, through click's CliRunner.

Each command's output is parsed and compared with what numpy, scipy and the
library (convcli.analysis.conventions) return for the same request.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import scipy.signal

import convcli
from convcli.analysis.conventions import CONVENTIONS, lineup
from convcli.cli.errors import refusals_in_flag_words
from convcli.options import Options
from tests.cli.runner import (
    IMAGE,
    SAMPLES,
    SOBEL,
    F,
    assert_csv,
    error_line,
    from_json,
    invoke,
    matrix,
    strict_json,
    succeed,
)


@pytest.mark.parametrize("padding", ["full", "same", "valid"])
def test_conv_numpy_csv_is_numpy_convolve(padding):
    result = succeed("conv", "2,1,3,5,4", "1,-1", "--convention", "numpy", "--padding", padding)
    assert_csv(result.stdout, np.convolve(F, [1, -1], padding))


@pytest.mark.parametrize("padding", ["full", "same", "valid"])
def test_corr_numpy_with_a_longer_kernel_is_numpy_correlate(padding):
    kernel = [3, -1, 4, 1, -5, 9]
    result = succeed(
        "corr", "1,2,3,4", ",".join(map(str, kernel)), "--convention", "numpy", "--padding", padding
    )
    assert_csv(result.stdout, np.correlate([1, 2, 3, 4], kernel, padding))


def test_corr_scipy_2d_same():
    h = [[1, 2], [3, 4]]
    result = succeed(
        "corr", str(SAMPLES / "image.csv"), matrix(h), "--convention", "scipy", "--padding", "same"
    )
    assert_csv(result.stdout, scipy.signal.correlate(IMAGE, h, "same"))


def test_conv_torch_gives_the_correlation_column():
    result = succeed("conv", "2,1,3,5,4", "1,-1", "--convention", "torch", "--format", "json")
    document = strict_json(result.stdout)
    assert document["result"] == [1, -2, -2, 1]
    assert document["options"]["convention"] == "torch"
    assert document["options"]["call"] == "F.conv1d(f, h)"
    assert "does not flip the kernel" in document["options"]["notes"][0]


def test_conv_table_shows_the_call_and_the_note():
    result = succeed(
        "conv",
        "2,1,3,5,4",
        "1,-1",
        "--convention",
        "numpy",
        "--padding",
        "same",
        "--format",
        "table",
    )
    assert 'numpy: np.convolve(f, h, mode="same")' in result.stdout
    assert "note: numpy keeps the left centre for even kernels" in result.stdout
    assert "padding same (1:0)" in result.stdout


def test_conv_matlab_valid_with_a_longer_kernel_is_empty():
    result = succeed("conv", "1,2", "1,2,3", "--convention", "matlab", "--format", "json")
    assert strict_json(result.stdout)["result"] == []
    assert succeed("conv", "1,2", "1,2,3", "--convention", "matlab", "--format", "csv").stdout == ""
    table = succeed(
        "conv", "1,2;3,4", "1,1;1,1;1,1", "--convention", "matlab", "--format", "table"
    ).stdout
    assert "[] (empty, shape 0x1)" in table


def test_compare_torch_json():
    result = succeed("compare", "2,1,3,5,4", "1,-1", "--convention", "torch", "--format", "json")
    document = strict_json(result.stdout)
    assert (
        from_json(document["convolution"]) == from_json(document["correlation"]) == [1, -2, -2, 1]
    )
    assert document["identical"] is True
    assert document["options"]["calls"] == {
        "convolution": "F.conv1d(f, h)",
        "correlation": "F.conv1d(f, h)",
    }


def test_compare_torch_table_explains_the_single_function():
    result = succeed("compare", "2,1,3,5,4", "1,-1", "--convention", "torch", "--format", "table")
    assert "convolution: F.conv1d(f, h)" in result.stdout
    assert "both columns are F.conv1d(f, h), a correlation" in result.stdout
    assert "antisymmetric kernel" not in result.stdout


def test_compare_scipy2d_sobel_csv():
    result = succeed(
        "compare", str(SAMPLES / "image.csv"), str(SAMPLES / "kernel3x3.csv"),
        "--convention", "scipy2d",
        "--padding", "same", "--pad-mode", "symmetric", "--format", "csv",
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert lines[0] == "row,col,convolution,correlation"
    convolution = scipy.signal.convolve2d(IMAGE, SOBEL, "same", boundary="symm")
    correlation = scipy.signal.correlate2d(IMAGE, SOBEL, "same", boundary="symm")
    cells = [line.split(",") for line in lines[1:]]
    assert [int(c[2]) for c in cells] == convolution.reshape(-1).tolist()
    assert [int(c[3]) for c in cells] == correlation.reshape(-1).tolist()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["conv", matrix(IMAGE.tolist()), "sobel-x", "--convention", "numpy"],
         "numpy.convolve takes 1-D"),
        (["corr", "2,1,3", "1,1", "--convention", "matlab"], "xcorr has no shape argument"),
        (["conv", "2,1,3", "1,1", "--convention", "torch", "--padding", "same", "--stride", "2"],
         "not supported for strided convolutions"),
        (["conv", "2,1,3", "1j,1", "--convention", "tensorflow"], "takes real tensors only"),
        (["compare", "2,1,3", "1,1", "--convention", "scipy", "--stride", "2"],
         "scipy.signal.convolve has no stride"),
        (["conventions", "2,1,3", "1,1", "--stride", "0"], "stride must be at least 1"),
    ],
)  # fmt: skip
def test_refusals_are_one_line_errors(arguments, message):
    line = error_line(invoke(*arguments))
    assert message in line


def test_stream_keeps_convcli_convention():
    result = invoke("conv", "2,1,3", "1,1", "--stream", "--convention", "numpy")
    assert result.exit_code == 2
    assert "--stream computes convcli's own convention only" in result.stderr


def test_unknown_convention_is_a_usage_error():
    result = invoke("conv", "2,1,3", "1,1", "--convention", "octave")
    assert result.exit_code == 2
    assert "octave" in result.stderr


# ---------------------------------------------------------------- convcli conventions


def test_conventions_json_is_the_lineup():
    result = succeed("conventions", "2,1,3,5,4", "1,-1", "--padding", "same", "--format", "json")
    document = strict_json(result.stdout)
    expected = refusals_in_flag_words(lineup(F, [1, -1], options=Options.parse(padding="same")))
    assert document["options"]["padding"] == "same"
    assert len(document["rows"]) == len(expected.rows) == 12
    for record, row in zip(document["rows"], expected.rows):
        assert record["convention"] == row.convention
        assert record["operation"] == row.operation
        assert record["call"] == row.call
        assert record["agrees"] is row.agrees
        assert record["reason"] == row.reason
        if row.values is None:
            assert record["result"] is None
        else:
            assert from_json(record["result"]) == row.values.tolist()
    numpy_row = document["rows"][1]
    assert numpy_row["result"] == np.convolve(F, [1, -1], "same").tolist()
    assert numpy_row["reason"] == "numpy keeps the left centre for even kernels"


def test_conventions_csv_in_a_pipe():
    result = succeed("conventions", "2,1,3,5,4", "1,-1", "--op", "conv")
    records = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["convention"] for r in records] == [c for c in CONVENTIONS if c != "scipy2d"]
    torch = records[4]
    assert torch["call"] == "F.conv1d(f, h)"
    assert json.loads(torch["result"]) == [1, -2, -2, 1]
    assert torch["agrees"] == "false"
    assert "does not flip" in torch["reason"]


def test_conventions_table_2d():
    result = succeed(
        "conventions",
        str(SAMPLES / "image.csv"),
        "1,2;3,4",
        "--op",
        "corr",
        "--padding",
        "same",
        "--format",
        "table",
    )
    out = result.stdout
    assert 'signal.correlate2d(f, h, mode="same")' in out
    assert "numpy.correlate takes 1-D arrays only" in out
    assert "scipy keeps the left centre for even kernels" in out
    assert "(1, 1, 8, 8)" in out


def test_conventions_complex_marks_torch():
    result = succeed("conventions", "1+1j,2,3-1j", "1j,1", "--op", "corr", "--format", "json")
    rows = {r["convention"]: r for r in strict_json(result.stdout)["rows"]}
    assert rows["torch"]["agrees"] is False
    assert rows["torch"]["reason"] == "PyTorch does not conjugate a complex kernel"
    assert rows["tensorflow"]["agrees"] is None
    expected = np.correlate([1 + 1j, 2, 3 - 1j], [1j, 1], "valid")
    assert from_json(rows["numpy"]["result"]) == expected.tolist()


def test_conventions_writes_a_json_file(tmp_path):
    target = tmp_path / "lineup.json"
    succeed("conventions", "2,1,3,5,4", "1,-1", "-o", str(target))
    document = strict_json(target.read_text(encoding="utf-8"))
    assert document["rows"][0]["result"] == convcli.convolve(F, [1, -1]).tolist()


@pytest.mark.parametrize("command", ["conv", "corr", "compare"])
def test_help_lists_the_conventions(command):
    text = succeed(command, "--help").stdout
    assert "--convention" in text
    for convention in CONVENTIONS:
        assert convention in text


def test_conventions_help_shows_an_example():
    text = succeed("conventions", "--help").stdout
    assert "convcli conventions 2,1,3,5,4 1,-1 --padding same" in text
    for option in ("--op", "--padding", "--stride", "--method", "--format", "-o"):
        assert option in text
