"""convcli run in-process through click's CliRunner, and readers of what it prints; shared by the
command tests in tests/cli/ (tests/processes.py is the same for real processes)."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner, Result

from convcli.cli.main import cli
from tests.processes import ROOT

SAMPLES = ROOT / "samples"
F = [2, 1, 3, 5, 4]
IMAGE = np.loadtxt(SAMPLES / "image.csv", delimiter=",", dtype=np.int64)
SOBEL = np.loadtxt(SAMPLES / "kernel3x3.csv", delimiter=",", dtype=np.int64)


def invoke(*args: str, input: str | bytes | None = None, **env: str | None) -> Result:
    """Run ``convcli ARGS`` in-process with a wide screen and no colour (unless ``env`` says)."""
    environment = {"COLUMNS": "200", "NO_COLOR": "1", "FORCE_COLOR": None, **env}
    return CliRunner(env=environment).invoke(cli, list(args), input=input)


def succeed(*args: str, input: str | bytes | None = None, **env: str | None) -> Result:
    """Run a command that must succeed, showing its stderr if it does not."""
    result = invoke(*args, input=input, **env)
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    return result


def number(cell: str) -> int | float | complex:
    """One CSV cell or JSON string as the number Python reads it as."""
    for parse in (int, float, complex):
        try:
            return parse(cell)
        except ValueError:
            pass
    raise AssertionError(f"{cell!r} is not a number int(), float() or complex() reads")


def from_json(value: object) -> object:
    """JSON values back to numbers: complex and nan/inf arrive as strings."""
    if isinstance(value, list):
        return [from_json(item) for item in value]
    if isinstance(value, str):
        return number(value)
    return value


def strict_json(text: str) -> dict:
    """Parse JSON, refusing the non-standard NaN/Infinity literals."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def assert_same(values: list, expected: np.ndarray) -> None:
    """Parsed output equals the library's array, values and kind (ints stay ints)."""
    expected = np.asarray(expected)
    flat = np.asarray(values, dtype=object).reshape(-1).tolist()
    assert len(flat) == expected.size
    if expected.dtype.kind in "iuO":
        assert all(type(v) is int for v in flat), flat
    got = np.array(flat, dtype=expected.dtype).reshape(expected.shape)
    np.testing.assert_array_equal(got, expected)


def csv_rows(text: str) -> list[list[int | float | complex]]:
    """A headerless CSV text as rows of numbers."""
    assert text.endswith("\n")
    return [[number(cell) for cell in line.split(",")] for line in text.splitlines()]


def assert_csv(text: str, expected: np.ndarray) -> None:
    """A conv/corr CSV: one value a line (1-D) or one row a line (2-D), no header."""
    expected = np.asarray(expected)
    rows = csv_rows(text)
    width = 1 if expected.ndim == 1 else expected.shape[1]
    assert [len(row) for row in rows] == [width] * expected.shape[0], text
    assert_same(rows, expected)


def error_line(result: Result) -> str:
    """The ``Error:`` line of a failed command, after checking it failed cleanly."""
    assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    assert lines[-1].startswith("Error: "), result.stderr
    return lines[-1]


def matrix(rows: list[list[int]]) -> str:
    """A 2-D inline argument: ``1,2;3,4``."""
    return ";".join(",".join(map(str, row)) for row in rows)


def normalised(text: str) -> list[str]:
    """Every line with runs of spaces (column padding) collapsed and the ends stripped."""
    return [" ".join(line.split()) for line in text.splitlines()]
