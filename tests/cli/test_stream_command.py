"""``--stream`` end to end: the same bytes as the whole run, from files and pipes, and its refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from convcli.cli.main import cli

#: Longer than Stream's buffer, so the signal really is processed in pieces.
LONG = 400_000


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """The installed command in a child process, as a shell would run it."""
    return subprocess.run(
        [sys.executable, "-m", "convcli", *args], input=stdin, capture_output=True, timeout=120
    )


@pytest.fixture(scope="module")
def long_floats(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-column CSV of LONG floats with a header, a nan and an inf."""
    values = np.random.default_rng(7).standard_normal(LONG)
    values[1234], values[300_000] = np.nan, np.inf
    path = tmp_path_factory.mktemp("stream") / "long.csv"
    path.write_text("voltage\n" + "\n".join(map(repr, values.tolist())) + "\n")
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [
        ["1,2,1"],
        ["box:5", "--padding", "same", "--pad-mode", "reflect"],
        [",".join(map(str, range(-150, 150))), "--padding", "full", "--stride", "3"],
        ["1,-1", "--dilation", "4", "--padding", "2:5", "--pad-mode", "replicate"],
    ],
    ids=["small-kernel", "same-reflect", "fft-full-stride", "dilated-explicit"],
)
def test_stream_writes_the_same_bytes_as_a_whole_run(long_floats: Path, options: list[str]) -> None:
    streamed = run("conv", f"{long_floats}:voltage", *options, "--stream")
    whole = run("conv", f"{long_floats}:voltage", *options, "--format", "csv")
    assert streamed.returncode == whole.returncode == 0, streamed.stderr
    assert streamed.stdout == whole.stdout
    assert streamed.stderr == b""  # no progress bar when stderr is not a terminal


@pytest.mark.slow
def test_stream_from_standard_input_to_a_file(tmp_path: Path) -> None:
    numbers = np.random.default_rng(3).integers(-1000, 1000, LONG)
    text = "\n".join(map(str, numbers.tolist())).encode() + b"\n"
    target = tmp_path / "out.csv"
    streamed = run(
        "corr", "-", "3,-1,4,1,-5", "--stream", "--padding", "full", "-o", str(target), stdin=text
    )
    assert streamed.returncode == 0, streamed.stderr
    expected = np.correlate(numbers, [3, -1, 4, 1, -5], "full")
    assert target.read_text() == "".join(f"{value}\n" for value in expected.tolist())


@pytest.mark.slow
def test_a_reader_that_stops_early_ends_the_stream_quietly(long_floats: Path) -> None:
    shell = subprocess.run(
        f"{sys.executable} -m convcli conv {long_floats}:voltage 1,1 --stream | head -n 3",
        shell=True,
        capture_output=True,
        timeout=120,
    )
    assert len(shell.stdout.splitlines()) == 3
    assert b"Traceback" not in shell.stderr and b"Error" not in shell.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1,2,3", "1,1", "--stream", "--format", "json"], "--stream writes CSV"),
        (["1,2,3", "1,1", "--stream", "-o", "out.json"], "--stream writes CSV"),
        (["1,2,3", "1,1", "--stream", "--padding", "1", "--pad-mode", "circular"], "circular"),
        (["1,2,3,4", "1,1", "--stream", "--padding", "same", "--stride", "2"], "same"),
        (["1,2;3,4", "1,1", "--stream"], "1-D"),
    ],
)
def test_stream_refusals_are_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["conv", *args])
    assert result.exit_code in (1, 2)
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("options", "outputs"),
    [
        (["--padding", str(10**12)], "2,000,000,000,000"),
        (["--dilation", str(10**18), "--padding", "full"], "1,000,000,000,000,000,001"),
    ],
    ids=["padding", "dilation"],
)
def test_a_padding_too_large_to_hold_is_refused_naming_the_result_length(
    options: list[str], outputs: str
) -> None:
    """The stream holds its padding: 10^12 zeros on each side (or a dilated kernel's span of
    10^18) cannot be held on any machine, which one line says before anything is read."""
    result = CliRunner().invoke(cli, ["conv", "1,2,3", "1,1", "--stream", *options])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("Error: --stream would hold ")
    assert f"the result would have at least {outputs} values" in result.stderr
    assert "use a smaller --padding" in result.stderr


def test_the_whole_run_advises_stream_only_where_the_padding_fits() -> None:
    result = CliRunner().invoke(cli, ["conv", "1,2,3", "1,1", "--padding", str(10**12)])
    assert result.exit_code == 1
    assert "needs about" in result.stderr
    assert "--stream" not in result.stderr
