"""Inputs without an end, in real processes: refused while they are read, as soon as they
outgrow the memory available, and never waited for when another argument is wrong.

The memory is lowered for the child alone: by an address-space limit (RLIMIT_AS, which
convcli counts as ``ulimit -v``), or, where reading as much as the limit leaves would take
long, by replacing what convcli.cli.limits reports. Endless inputs come from ``yes``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from tests.processes import PYTHON_M, ROOT, environment

TIMEOUT = 30

#: convcli with the memory available reported as 20 MB.
LOW_MEMORY = [
    sys.executable,
    "-c",
    "import sys; from convcli.cli import limits, main; limits.available_memory = lambda: 20_000_000;"
    " sys.argv[0] = 'convcli'; main.main()",
]

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="needs /dev/fd and POSIX pipes"),
    pytest.mark.skipif(shutil.which("yes") is None, reason="needs yes"),
]


@contextmanager
def endless(text: str = "1"):
    """A pipe that ``yes TEXT`` keeps writing to; yields the reading end's descriptor."""
    read_end, write_end = os.pipe()
    writer = subprocess.Popen(["yes", text], stdout=write_end, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        yield read_end
    finally:
        writer.kill()
        writer.wait()
        os.close(read_end)


def run(command: list[str], *args: str, limit: int | None = None, **kwargs):
    """Run convcli, an address-space limit of ``limit`` bytes on it if given; the result and
    the seconds it took."""
    import resource

    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    start = time.monotonic()
    result = subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
        preexec_fn=None if limit is None else lower,
        check=False,
        **{"env": environment(), **kwargs},
    )
    return result, time.monotonic() - start


def error_line(result) -> str:
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


@pytest.mark.slow
def test_an_endless_line_stops_at_the_address_space_limit():
    """One line that never ends (digits without a newline), under ``ulimit -v``: refused by
    convcli with the memory it could use, not by a failed allocation."""
    with endless("1") as pipe:
        tr = subprocess.Popen(["tr", "-d", "\\n"], stdin=pipe, stdout=subprocess.PIPE)
        result, _ = run(PYTHON_M, "conv", "-", "1", stdin=tr.stdout, limit=600 << 20)
        tr.kill()
        tr.wait()
        tr.stdout.close()
    assert result.returncode == 1
    line = error_line(result)
    assert line.startswith("Error: a line of the signal (standard input) is larger than the memory")
    assert "--stream" not in line  # reading in blocks would not help a line


def test_endless_values_on_standard_input_stop_at_the_memory_available():
    with endless("1") as pipe:
        result, _ = run(LOW_MEMORY, "conv", "-", "1", stdin=pipe)
    assert result.returncode == 1
    assert re.fullmatch(
        r"Error: the signal \(standard input\) is larger than the memory available "
        r"\([\d.]+ MB\); use --stream",
        error_line(result),
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", ["compare", "explain"])
def test_stream_is_advised_only_where_it_helps(command):
    with endless("1") as pipe:
        result, _ = run(LOW_MEMORY, command, "-", "1", stdin=pipe)
    assert result.returncode == 1
    assert re.search(r"is larger than the memory available \([\d.]+ MB\)$", error_line(result))


@pytest.mark.parametrize("source", ["/dev/fd/{fd}", "/dev/fd/{fd}:1"])
def test_an_endless_kernel_file_is_named(source):
    with endless("1") as pipe:
        path = source.format(fd=pipe)
        result, _ = run(LOW_MEMORY, "conv", "1,2,3", path, pass_fds=(pipe,))
    assert result.returncode == 1
    assert re.fullmatch(
        rf"Error: the kernel \(/dev/fd/{pipe}\) is larger than the memory available \([\d.]+ MB\)",
        error_line(result),
    )


def test_an_endless_signal_column_is_named():
    with endless("1,2") as pipe:
        result, _ = run(LOW_MEMORY, "conv", f"/dev/fd/{pipe}:2", "1", pass_fds=(pipe,))
    assert result.returncode == 1
    assert re.fullmatch(
        rf"Error: the signal \(/dev/fd/{pipe}\) is larger than the memory available "
        r"\([\d.]+ MB\); use --stream",
        error_line(result),
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["/dev/zero", "1"], None),
        (["1,2,3", "/dev/zero"], None),
        (["-", "1"], "/dev/zero"),
        (["/dev/zero:1", "1"], None),
        (["-", "1", "--stream"], "/dev/zero"),
    ],
    ids=["signal", "kernel", "stdin", "column", "stream"],
)
def test_dev_zero_is_refused_at_once(args, stdin):
    """/dev/zero never ends a line: reading stops at its first NUL, binary data."""
    with open(stdin or os.devnull, "rb") as source:
        result, seconds = run(PYTHON_M, "conv", *args, stdin=source, limit=1 << 30)
    assert result.returncode == 1
    assert error_line(result).endswith("looks like a binary file, not CSV text")
    assert seconds < 10


@pytest.mark.slow
def test_a_npy_header_declaring_more_than_the_memory_is_refused_before_its_data(tmp_path):
    """10^13 float64 values declared, 64 bytes given: through a pipe, whose length is
    unknown, too large for the memory; from a file, truncated or corrupt."""
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000000,), }"
    header += b" " * (63 - len(header)) + b"\n"
    data = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(64)
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    try:
        result, _ = run(PYTHON_M, "conv", "-", "1", stdin=read_end)
    finally:
        os.close(read_end)
    assert result.returncode == 1
    assert error_line(result).startswith(
        "Error: the signal (standard input) is larger than the memory available"
    )
    (tmp_path / "huge.npy").write_bytes(data)
    with open(tmp_path / "huge.npy", "rb") as stdin:
        result, _ = run(PYTHON_M, "conv", "-", "1", stdin=stdin)
    assert result.returncode == 1
    assert error_line(result).startswith("Error: standard input is truncated or corrupt")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["conv", "-", "nosuchkernel"],
            "Error: the kernel 'nosuchkernel' is not a file, a kernel name or numbers; kernels:",
        ),
        (["conv", "-", "box:0"], "Error: "),
        (["conv", "-", "1,x"], "Error: the kernel '1,x' is not a file, and 'x' is not a number"),
        (["compare", "-", "1", "-o", "nowhere/out.csv"], "Error: cannot write to nowhere/out.csv"),
        (["conv", "-", "1", "--lags"], "Error: --lags and --normalize apply to correlation"),
        (["delay", "-", "1,x"], "Error: the reference '1,x' is not a file"),
        (["backward", "-", "1", "--grad", "1,x"], "Error: the gradient '1,x' is not a file"),
        (["corr", "-", "1", "--lags", "--format", "npy", "-o", "x.npy"], "Error: --lags labels"),
        (["compare", "-", "1", "--lags", "-o", "x.png"], "Error: --lags labels"),
        (["conv", "-", "1", "--convention", "numpy", "--stride", "2"], "Error: numpy.convolve"),
        (["corr", "-", "1", "--convention", "numpy", "--padding", "5"], "Error: numpy.correlate"),
        (["compare", "-", "1", "--convention", "matlab", "--padding", "same"], "Error: "),
        (
            ["conv", "-", "1", "--convention", "torch", "--padding", "same", "--stride", "2"],
            "Error: ",
        ),
    ],
)
def test_what_needs_no_reading_is_checked_before_standard_input(args, message):
    """Standard input that never ends (nothing written, never closed): the mistake in another
    argument is reported at once."""
    read_end, write_end = os.pipe()
    try:
        result, seconds = run(PYTHON_M, *args, stdin=read_end)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert seconds < 10
    assert result.returncode in (1, 2)
    assert error_line(result).startswith(message)


@pytest.mark.slow
def test_a_bad_kernel_name_beats_a_terminal_on_standard_input():
    import pty

    controller, terminal = pty.openpty()
    try:
        result, _ = run(PYTHON_M, "conv", "-", "nosuchkernel", stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 1
    assert "the kernel 'nosuchkernel' is not a file" in error_line(result)


@pytest.mark.slow
def test_an_address_space_limit_lowers_the_memory_available():
    """available_memory counts RLIMIT_AS: under a 1 GB limit it reports less than 1 GB."""
    script = "from convcli.cli import limits; print(limits.available_memory())"
    result, _ = run([sys.executable, "-c", script], limit=1 << 30)
    assert result.returncode == 0, result.stderr
    assert 0 < int(result.stdout) < 1 << 30
