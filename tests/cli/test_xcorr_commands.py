"""--lags, --normalize and ``delay`` on the command line: what each format prints, checked
against the library, and every refusal as one line with its exit code."""

from __future__ import annotations

import numpy as np
import pytest

from convcli import correlation_lags, find_delay, normalized_correlate
from convcli.options import Options
from tests.cli.runner import error_line, from_json, invoke, number, strict_json, succeed
from tests.processes import ROOT

SAMPLES = ROOT / "samples"
RECORDING, PATTERN = str(SAMPLES / "recording.csv"), str(SAMPLES / "pattern.csv")


def csv_table(text: str) -> tuple[list[str], list[list[int | float | complex]]]:
    """A CSV with a header: its column names and its rows of numbers."""
    header, *lines = text.splitlines()
    return header.split(","), [[number(cell) for cell in line.split(",")] for line in lines]


# --------------------------------------------------------------------------- --lags


def test_corr_lags_csv_has_a_lag_column():
    result = succeed("corr", "2,1,3,5,4", "1,-1", "--padding", "full", "--lags", "--format", "csv")
    names, rows = csv_table(result.stdout)
    assert names == ["lag", "correlation"]
    assert [row[0] for row in rows] == [-1, 0, 1, 2, 3, 4]
    assert [row[1] for row in rows] == [-2, 1, -2, -2, 1, 4]
    assert all(type(row[0]) is int for row in rows)


def test_corr_lags_in_2d_are_per_axis_in_csv_and_json():
    image, kernel = "1,2,3;4,5,6;7,8,9", "1,0;0,-1"
    result = succeed("corr", image, kernel, "--padding", "1:0,0:1", "--lags", "--format", "csv")
    names, rows = csv_table(result.stdout)
    assert names == ["row_lag", "col_lag", "correlation"]
    rows_lags, column_lags = correlation_lags((3, 3), (2, 2), padding=[(1, 0), (0, 1)])
    assert [row[:2] for row in rows] == [[r, c] for r in rows_lags for c in column_lags]
    document = strict_json(
        succeed("corr", image, kernel, "--padding", "1:0,0:1", "--lags", "--format", "json").stdout
    )
    assert document["lags"] == [rows_lags.tolist(), column_lags.tolist()]
    assert [row[2] for row in rows] == np.array(document["result"]).reshape(-1).tolist()


def test_corr_lags_json_with_stride_and_dilation():
    args = ("corr", "1,2,3,4,5,6,7", "1,1", "--padding", "full", "--stride", "2", "--dilation", "2")
    document = strict_json(succeed(*args, "--lags", "--format", "json").stdout)
    assert document["lags"] == [
        correlation_lags(7, 2, padding="full", stride=2, dilation=2).tolist()
    ]
    assert document["lags"] == [[-2, 0, 2, 4, 6]]
    assert "lags" not in strict_json(succeed(*args, "--format", "json").stdout)


def test_lags_in_tables():
    one = succeed("corr", "2,1,3,5,4", "1,-1", "--padding", "full", "--lags", "--format", "table")
    assert "┃ lag ┃ correlation ┃" in one.stdout and "│  -1 │" in one.stdout
    two = succeed(
        "corr", "1,2,3;4,5,6;7,8,9", "1,0;0,-1", "--padding", "full", "--lags", "--format", "table"
    )
    lines = two.stdout.splitlines()
    assert lines[1].split() == ["lag", "-1", "0", "1", "2"]
    assert [line.split()[0] for line in lines[2:6]] == ["-1", "0", "1", "2"]
    compared = succeed(
        "compare", "2,1,3,5,4", "1,-1", "--padding", "same", "--lags", "--format", "table"
    )
    assert "┃ lag ┃ convolution ┃ correlation ┃" in compared.stdout


def test_compare_lags_csv_and_json():
    result = succeed(
        "compare", "2,1,3,5,4", "1,-1", "--padding", "full", "--lags", "--format", "csv"
    )
    names, rows = csv_table(result.stdout)
    assert names == ["lag", "convolution", "correlation"]
    assert [row[0] for row in rows] == list(range(-1, 5))
    document = strict_json(
        succeed(
            "compare", "2,1,3,5,4", "1,-1", "--padding", "full", "--lags", "--format", "json"
        ).stdout
    )
    assert document["lags"] == [list(range(-1, 5))]


def test_compare_without_lags_keeps_its_index_column():
    names, rows = csv_table(succeed("compare", "2,1,3", "1,-1", "--format", "csv").stdout)
    assert names == ["index", "convolution", "correlation"]
    assert rows == [[0, -1, 1], [1, 2, -2]]


# --------------------------------------------------------------------------- --normalize


@pytest.mark.parametrize("scale", ["biased", "unbiased", "coeff"])
def test_corr_normalize_matches_the_library(scale):
    result = succeed(
        "corr", "1,2,3", "1,2,3", "--padding", "full", "--normalize", scale, "--format", "json"
    )
    document = strict_json(result.stdout)
    expected = normalized_correlate([1, 2, 3], [1, 2, 3], normalize=scale, padding="full")
    assert document["result"] == expected.tolist()
    assert document["options"]["normalize"] == scale
    assert result.stderr == ""


def test_zncc_template_matching_with_lags_and_a_flat_window_note():
    result = succeed(
        "corr", "5,5,5,1,2,3", "1,2,3", "--normalize", "zncc", "--lags", "--format", "csv"
    )
    names, rows = csv_table(result.stdout)
    assert names == ["lag", "correlation"]
    expected = normalized_correlate([5, 5, 5, 1, 2, 3], [1, 2, 3], normalize="zncc")
    assert [row[1] for row in rows] == expected.tolist()
    assert all(type(row[1]) is float for row in rows)
    assert result.stderr == "note: 1 of 4 windows are flat (no variation), so their zncc is 0\n"


def test_zncc_finds_the_pattern_in_the_sample_recording():
    result = succeed("corr", RECORDING, PATTERN, "--normalize", "zncc", "--format", "json")
    values = from_json(strict_json(result.stdout)["result"])
    assert int(np.argmax(values)) == 23
    assert max(values) > 0.99  # the recording is noisy


def test_compare_normalizes_both_columns_and_names_it():
    result = succeed("compare", "2,1,3,5,4", "1,-1", "--normalize", "zncc", "--format", "table")
    assert "normalize zncc" in result.stdout
    assert "negatives of each other at all 4 positions" in result.stdout
    document = strict_json(
        succeed("compare", "2,1,3,5,4", "1,2", "--normalize", "zncc", "--format", "json").stdout
    )
    assert (
        document["correlation"]
        == normalized_correlate([2, 1, 3, 5, 4], [1, 2], normalize="zncc").tolist()
    )
    assert (
        document["convolution"]
        == normalized_correlate([2, 1, 3, 5, 4], [2, 1], normalize="zncc").tolist()
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("conv", "1,2,3", "1,1", "--normalize", "coeff"), 2, "apply to correlation outputs"),
        (("conv", "1,2,3", "1,1", "--lags"), 2, "use corr, or compare"),
        (("corr", "1,2,3", "1,1", "--lags", "--stream"), 2, "--stream writes plain values"),
        (("corr", "1,2,3", "1,1", "--lags", "--format", "npy", "-o", "x.npy"), 2, "--lags labels"),
        (("corr", "1,2,3,4", "1,1", "--normalize", "biased"), 1, "same shape, as MATLAB's xcorr"),
        (("corr", "1,2", "1,1", "--normalize", "unbiased", "--padding", "2"), 1, "beyond lag ±1"),
        (("corr", "1,2", "1,1", "--normalize", "unit"), 2, "'unit' is not one of"),
    ],
)
def test_refusals(args, code, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == code
    assert message in error_line(result)
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- delay


def test_delay_csv_and_json_say_what_find_delay_says():
    args = ("delay", RECORDING, PATTERN)
    expected = find_delay(np.loadtxt(RECORDING, comments="#", dtype=np.int64), [3, 6, -4, 8, 2])
    names, rows = csv_table(succeed(*args, "--format", "csv").stdout)
    assert names == ["lag", "refined_lag", "peak", "normalized_peak"]
    assert rows == [[expected.lag, expected.refined_lag, expected.peak, expected.normalized_peak]]
    assert expected.lag == 23
    document = strict_json(succeed(*args, "--format", "json").stdout)
    assert document == {
        "lag": 23,
        "refined_lag": expected.refined_lag,
        "peak": expected.peak,
        "normalized_peak": expected.normalized_peak,
        "options": {"max_lag": None, "method": expected.method},
    }


def test_delay_sign_convention_on_the_command_line():
    reference = "1,2,1,0,0,0,0"
    later = succeed("delay", "0,0,0,1,2,1,0", reference, "--format", "table").stdout
    assert "0,0,0,1,2,1,0 is 1,2,1,0,0,0,0 delayed by 3 sample(s)" in later
    earlier = succeed("delay", reference, "0,0,0,1,2,1,0", "--format", "csv").stdout
    assert earlier.splitlines()[1].split(",")[0] == "-3"
    inverted = strict_json(
        succeed("delay", "0,0,0,-1,-2,-1,0", reference, "--format", "json").stdout
    )
    assert (inverted["lag"], inverted["normalized_peak"]) == (3, -1.0)


def test_delay_max_lag_and_its_refusals():
    found = strict_json(
        succeed("delay", "0,0,0,0,0,1,2,1", "1,2,1", "--max-lag", "2", "--format", "json").stdout
    )
    assert (found["lag"], found["peak"], found["options"]["max_lag"]) == (0, 0, 2)
    table = succeed("delay", "0,0,0,0,0,1,2,1", "1,2,1", "--max-lag", "2", "--format", "table")
    assert "no lag searched correlates" in table.stdout
    assert (
        strict_json(
            succeed(
                "delay", "0,0,0,0,0,1,2,1", "1,2,1", "--max-lag", "5", "--format", "json"
            ).stdout
        )["lag"]
        == 5
    )
    negative = invoke("delay", "1,2,3", "1,2", "--max-lag", "-1")
    assert negative.exit_code == 2 and "--max-lag" in error_line(negative)
    flat = invoke("delay", "1,2,3", "0,0")
    assert flat.exit_code == 1
    assert error_line(flat) == "Error: the reference is all zeros: there is nothing to align"
    matrix = invoke("delay", "1,2;3,4", "1,2;3,4")
    assert matrix.exit_code == 1 and "1-D" in error_line(matrix)


def test_labelled_csv_of_a_long_result_is_the_cell_by_cell_text():
    from convcli.formats.serialise import format_number, labelled_csv

    values = np.random.default_rng(2).normal(size=(30, 40)) * 1e3
    lags = (np.arange(30) - 7, np.arange(40) * 2 - 3)
    expected = "row_lag,col_lag,correlation\n" + "".join(
        f"{lags[0][r]},{lags[1][c]},{format_number(float(values[r, c]))}\n"
        for r in range(30)
        for c in range(40)
    )
    assert labelled_csv({"correlation": values}, lags) == expected


# --------------------------------------------------------------------------- explain and plot


def test_explain_labels_each_sum_with_its_lag():
    text = succeed(
        "explain", "2,1,3,5,4", "1,-1", "--op", "corr", "--padding", "full", "--lags"
    ).stdout
    assert "r[0] (lag -1) = 1*[0] + (-1)*2 = -2" in text
    assert "r[5] (lag 4) = 1*4 + (-1)*[0]" in text
    assert "(lag" not in succeed("explain", "2,1,3,5,4", "1,-1", "--op", "corr").stdout
    args = ("explain", "1,2,3,4,5,6,7", "1,1", "--op", "corr", "--padding", "2:1", "--stride", "3")
    document = strict_json(succeed(*args, "--lags", "--format", "json").stdout)
    steps = document["operations"][0]["steps"]
    assert [step["lag"] for step in steps] == [
        [m] for m in correlation_lags(7, 2, padding="2:1", stride=3)
    ]
    grid = succeed("explain", "1,2;3,4", "1,0;0,1", "--op", "corr", "--padding", "full", "--lags")
    assert "r[2,1] (lag 1,0) = sum of the products = 3" in grid.stdout


@pytest.mark.slow
def test_plot_labels_the_results_with_lags(tmp_path):
    pytest.importorskip("matplotlib")
    from convcli.engine.geometry import plan
    from convcli.render.plot import lag_label

    geometry = plan((8, 8), (3, 3), Options.parse(padding=[(1, 2), (0, 0)], stride=(2, 1)))
    assert [lag_label(geometry, 0)(i, None) for i in range(3)] == ["\u22121", "1", "3"]
    assert [lag_label(geometry, 1)(float(i), None) for i in range(3)] == ["0", "1", "2"]
    target = tmp_path / "figure.png"
    succeed("plot", "2,1,3,5,4", "1,-1", "--padding", "full", "--lags", "-o", str(target))
    plain = tmp_path / "plain.png"
    succeed("plot", "2,1,3,5,4", "1,-1", "--padding", "full", "-o", str(plain))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.read_bytes() != plain.read_bytes()  # the result axes read lags, not indices


@pytest.mark.parametrize("command", ["corr", "compare"])
@pytest.mark.parametrize("option", [["--lags"], ["--normalize", "coeff"]])
def test_lags_and_normalize_refuse_another_convention(command, option):
    refused = invoke(
        command, "1,2,3", "1,2,3", "--padding", "full", "--convention", "numpy", *option
    )
    assert refused.exit_code == 2
    assert "--convention numpy" in error_line(refused)
    plain = succeed(command, "1,2,3", "1,2,3", "--padding", "full", *option, "--format", "json")
    assert strict_json(plain.stdout)["options"].get("convention") is None
