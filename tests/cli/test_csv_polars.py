"""Issue 18 end to end: a large CSV goes through polars, and the bytes convcli writes are
the same as with polars hidden (every path Python's), in real processes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convcli.formats.serialise import python_csv
from tests.processes import ROOT, TIMEOUT, assert_clean_stderr, environment, finished

#: The console script, with polars hidden (``import polars`` raises ImportError) if asked.
RUN_MAIN = "import sys; {hide}sys.argv[0] = 'convcli'; from convcli.cli.launch import main; main()"
#: Code that prints, at exit, whether polars was imported (and not hidden).
CHECK_IMPORTED = (
    "import atexit; atexit.register(lambda: print("
    "sys.modules.get('polars') is not None, file=sys.stderr)); "
)


def convcli(*args: str, hidden: bool) -> tuple[bytes, bool]:
    """Standard output of ``convcli args...`` in a fresh interpreter, and whether polars
    was imported; fails if the command fails."""
    hide = "sys.modules['polars'] = None; " if hidden else ""
    code = "import sys; " + CHECK_IMPORTED + RUN_MAIN.format(hide=hide)
    result = finished([sys.executable, "-c", code, *args], text=False)
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 0, stderr[-2000:]
    return result.stdout, stderr.split()[-1] == "True"


def values_of(kind: str, count: int) -> list[np.ndarray]:
    """Columns of int64, float64 (with the floats polars spells otherwise) or complex128."""
    rng = np.random.default_rng(18)
    if kind == "int":
        return [rng.integers(-(10**12), 10**12, count)]
    floats = rng.standard_normal(count) * 10.0 ** rng.integers(-12, 12, count)
    hard = [1e-05, -3e-07, np.nan, -0.0, np.inf, 5e-324, 1.5e-06, 1e16, 1e-4]
    floats[::997] = np.resize(hard, len(floats[::997]))  # few: written with stand-ins
    if kind == "float":
        return [floats]
    complexes = np.empty(count, np.complex128)
    complexes.real, complexes.imag = floats, np.roll(floats, 1)
    return [complexes]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["float", "int", "complex"])
@pytest.mark.parametrize("command", ["conv", "compare"])
def test_a_large_csv_gives_the_same_bytes_with_polars_and_without(tmp_path, kind, command):
    count = {"int": 150_000, "float": 100_000, "complex": 50_000}[kind]
    signal = tmp_path / "big.csv"
    signal.write_text(python_csv(values_of(kind, count)), encoding="ascii")
    assert signal.stat().st_size > 1 << 20  # bulk.READ_BYTES: polars reads it
    kernel = tmp_path / "k.csv"
    kernel.write_text("1\n-2\n0.5\n" if kind != "int" else "1\n-2\n3\n", encoding="ascii")
    args = (command, str(signal), str(kernel), "--format", "csv")
    with_polars, imported = convcli(*args, hidden=False)
    without, not_imported = convcli(*args, hidden=True)
    assert imported and not not_imported
    assert len(with_polars) > 1 << 20
    assert with_polars == without


@pytest.mark.slow
def test_a_large_csv_written_to_a_file_gives_the_same_bytes_with_polars_and_without(tmp_path):
    signal = tmp_path / "big.csv"
    signal.write_text(python_csv(values_of("float", 100_000)), encoding="ascii")
    outputs = []
    for hidden in (False, True):
        out = tmp_path / f"out-{hidden}.csv"
        convcli("corr", str(signal), "1,-1", "--format", "csv", "-o", str(out), hidden=hidden)
        outputs.append(out.read_bytes())
    assert len(outputs[0]) > 1 << 20
    assert outputs[0] == outputs[1]


@pytest.mark.slow
def test_a_bad_cell_in_a_large_csv_gets_the_same_error_with_polars_and_without(tmp_path):
    rows = python_csv([np.arange(120_000) / 7]).splitlines()
    rows[100_000] = "1e400"
    signal = Path(tmp_path / "big.csv")
    signal.write_text("\n".join(rows) + "\n", encoding="ascii")
    errors = []
    for hidden in (False, True):
        hide = "sys.modules['polars'] = None; " if hidden else ""
        code = RUN_MAIN.format(hide=hide)
        result = finished([sys.executable, "-c", code, "conv", str(signal), "1,1"])
        assert result.returncode != 0
        errors.append(result.stderr)
    assert "line 100001" in errors[0]
    assert errors[0] == errors[1]


def columns_file(path: Path, extra: str | None = None) -> Path:
    """A CSV of about 2.5 MB: a header, an int64 column among float columns; ``extra``
    a row put in the middle."""
    count = 60_000
    floats = values_of("float", count)[0]
    text = python_csv([floats, np.arange(count) * 10**12, -floats])
    if extra is not None:
        lines = text.splitlines(keepends=True)
        text = "".join([*lines[: count // 2], extra + "\n", *lines[count // 2 :]])
    path.write_text("a,b,c\n" + text, encoding="ascii")
    assert path.stat().st_size > 1 << 20
    return path


@pytest.mark.slow
@pytest.mark.parametrize("column", ["a", "b", "3"])
def test_a_column_of_a_large_csv_gives_the_same_bytes_with_polars_and_without(tmp_path, column):
    signal = columns_file(tmp_path / "big.csv")
    args = ("conv", f"{signal}:{column}", "1,1", "--format", "csv")
    with_polars, imported = convcli(*args, hidden=False)
    without, _ = convcli(*args, hidden=True)
    assert imported
    if column == "b":  # integers stay integers
        assert b"." not in with_polars and b"e" not in with_polars
    assert with_polars == without


@pytest.mark.slow
@pytest.mark.parametrize("extra", ["1.5,2,3,4", "1.5,2"])
def test_a_ragged_row_in_a_large_csv_column_is_refused_with_polars_as_without(tmp_path, extra):
    signal = columns_file(tmp_path / "big.csv", extra)
    results = []
    for hidden in (False, True):
        hide = "sys.modules['polars'] = None; " if hidden else ""
        code = RUN_MAIN.format(hide=hide)
        results.append(finished([sys.executable, "-c", code, "conv", f"{signal}:a", "1,1"]))
    assert results[1].returncode != 0 and "same length" in results[1].stderr
    assert (results[0].returncode, results[0].stderr) == (results[1].returncode, results[1].stderr)


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("conv", "{floats}", "1,-2,1", "--stream"), id="conv --stream"),
        pytest.param(("corr", "{floats}", "[1j,2]"), id="complex kernel"),
        pytest.param(("conv", "{wide}", "[[1,1],[1,-1]]"), id="wide 2-D"),
        pytest.param(("compare", "{wide}", "[[1,1],[1,-1]]"), id="compare wide 2-D"),
    ],
)
def test_more_large_csv_commands_give_the_same_bytes_with_polars_and_without(tmp_path, args):
    rng = np.random.default_rng(7)
    floats = tmp_path / "floats.csv"
    floats.write_text(python_csv(values_of("float", 100_000)), encoding="ascii")
    wide = rng.standard_normal((2000, 80)) * 10.0 ** rng.integers(-8, 8, (2000, 80))
    wide[::7, 3] = np.nan
    (tmp_path / "wide.csv").write_text(python_csv(list(wide.T)), encoding="ascii")
    paths = {"floats": str(floats), "wide": str(tmp_path / "wide.csv")}
    command = [arg.format(**paths) for arg in args] + ["--format", "csv"]
    with_polars, imported = convcli(*command, hidden=False)
    without, _ = convcli(*command, hidden=True)
    assert imported
    assert len(with_polars) > 1 << 20
    assert with_polars == without


@pytest.mark.slow
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("output", [("-o", "/dev/full"), ()])
def test_a_full_disk_under_polars_rows_is_one_line(tmp_path, output):
    """An OutputError raised in the sink polars writes into comes out as convcli's one line."""
    signal = tmp_path / "big.csv"
    signal.write_text(python_csv(values_of("float", 100_000)), encoding="ascii")
    code = RUN_MAIN.format(hide="")
    with open("/dev/full", "wb") as full:
        result = finished(
            [sys.executable, "-c", code, "conv", str(signal), "1,1", "--format", "csv", *output],
            stdout=full,
            stderr=subprocess.PIPE,
        )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: no space left on device writing ")
    assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("head") is None, reason="needs head")
def test_a_reader_gone_early_ends_polars_rows_quietly(tmp_path):
    signal = tmp_path / "big.csv"
    signal.write_text(python_csv(values_of("complex", 50_000)), encoding="ascii")
    code = RUN_MAIN.format(hide="")
    convcli = subprocess.Popen(
        [sys.executable, "-c", code, "corr", str(signal), "1,2", "--format", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(),
    )
    head = subprocess.run(
        ["head", "-c", "100"], stdin=convcli.stdout, capture_output=True, check=False
    )
    assert convcli.stdout is not None
    convcli.stdout.close()
    convcli.stdout = None
    stderr = convcli.communicate(timeout=TIMEOUT)[1].decode()
    assert len(head.stdout) == 100
    assert convcli.returncode == 0, stderr
    assert_clean_stderr(stderr)
    assert "Error" not in stderr and "polars" not in stderr.lower()


@pytest.mark.slow
@pytest.mark.parametrize("number", [2, 15], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "--stream"])
def test_a_signal_stops_polars_rows_blocked_on_a_reader_that_does_not_read(
    tmp_path, number, stream
):
    """polars' threads write the rows; a reader that stops reading must not keep the run
    from stopping at a signal (it stopped only when the reader read again)."""
    import os
    import time

    signal_file = tmp_path / "big.csv"
    signal_file.write_text(python_csv(values_of("float", 300_000)), encoding="ascii")
    args = ["conv", str(signal_file), "1,-1", "--format", "csv", *(["--stream"] * stream)]
    reading, writing = os.pipe()
    child = subprocess.Popen(
        [sys.executable, "-c", RUN_MAIN.format(hide=""), *args],
        stdout=writing,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(),
    )
    os.close(writing)
    try:
        time.sleep(3)  # it reads the file, writes 64 KB into the pipe, and blocks there
        assert child.poll() is None
        sent = time.monotonic()
        child.send_signal(number)
        code = child.wait(timeout=TIMEOUT)
        took = time.monotonic() - sent
    finally:
        child.kill()
        os.close(reading)
    stderr = child.stderr.read().decode() if child.stderr else ""
    assert code == 128 + number, stderr
    assert took < 1.0, took
    assert "Traceback" not in stderr
