"""Runs at the edges of the engine, as a shell runs them: values near float64's limits
(no library warning on stderr) and sums long enough to need Ctrl-C and a time estimate."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.processes import PYTHON_M, environment, finished

TIMEOUT = 30


@pytest.mark.slow
@pytest.mark.parametrize("method", ["auto", "fft", "direct"])
def test_huge_values_print_no_library_warning(tmp_path, method):
    """A signal with one value of 1e308 (its FFT overflowed, and numpy's RuntimeWarnings
    reached stderr under auto too): exit 0, and stderr holds at most convcli's own note."""
    rng = np.random.default_rng(4)
    signal = rng.normal(size=20_000)
    signal[40] = 1e308
    path = tmp_path / "signal.csv"
    path.write_text("\n".join(map(repr, signal.tolist())) + "\n")
    kernel = ",".join(repr(v) for v in rng.normal(size=300).tolist())
    result = subprocess.run(
        [*PYTHON_M, "conv", str(path), kernel, "--method", method, "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=environment(PYTHONWARNINGS="default"),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    assert len(result.stderr.splitlines()) <= 1, result.stderr
    values = np.array([float(line) for line in result.stdout.split()])
    with np.errstate(over="ignore", invalid="ignore"):
        expected = np.convolve(signal, np.array([float(v) for v in kernel.split(",")]), "valid")
    assert np.array_equal(np.isfinite(values), np.isfinite(expected))


def _start_long_sum(tmp_path: Path, length: int, taps: int, **streams) -> subprocess.Popen:
    """``convcli conv`` of ``length`` random values with a box of ``taps`` taps by the
    direct sum, Ctrl-C acting as in a shell."""
    path = tmp_path / "signal.npy"
    np.save(path, np.random.default_rng(2).normal(size=length))
    command = [*PYTHON_M, "conv", str(path), f"box:{taps}", "--method", "direct"]
    return subprocess.Popen(
        [*command, "--format", "csv"],
        stdout=subprocess.DEVNULL,
        env=environment(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **streams,
    )


def _cpu_seconds(pid: int) -> float:
    """User and system time the process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _interrupt_while_summing(process: subprocess.Popen) -> float:
    """SIGINT once the process has computed for about a second (its start-up and reading
    take less); the seconds it then took to exit."""
    deadline = time.monotonic() + TIMEOUT
    while _cpu_seconds(process.pid) < 1.5:
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    try:
        process.wait(timeout=TIMEOUT)
    finally:
        process.kill()
    return time.monotonic() - sent


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_stops_a_long_direct_sum_within_a_second(tmp_path):
    """2e6 values with 1e5 taps by the direct sum (half a minute in one numpy call, which
    Ctrl-C could not stop): it runs in pieces, so SIGINT ends it at once, exit 130."""
    process = _start_long_sum(tmp_path, 2 * 10**6, 10**5, stderr=subprocess.PIPE)
    waited = _interrupt_while_summing(process)
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.returncode == 130, stderr
    assert waited < 1.5, f"took {waited:.2f} s to stop"
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) <= 1, stderr


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, needs a pty")
def test_long_run_estimate_on_a_terminal_only(tmp_path):
    """A run the cost model prices at minutes says so first, on a terminal; in a pipe it
    says nothing."""
    import pty

    controller, terminal = pty.openpty()
    process = _start_long_sum(tmp_path, 3 * 10**6, 10**6, stderr=terminal)
    os.close(terminal)
    try:
        line, deadline = b"", time.monotonic() + TIMEOUT
        while b"\n" not in line:
            ready, _, _ = select.select([controller], [], [], max(deadline - time.monotonic(), 0))
            assert ready, "no line on the terminal"
            line += os.read(controller, 4096)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=TIMEOUT)
        finally:
            process.kill()
            os.close(controller)
    text = line.decode().strip()
    assert re.fullmatch(
        r"note: about \d+ min with --method direct; --method auto would take under a second",
        text,
    ), text
    assert process.returncode == 130

    process = _start_long_sum(tmp_path, 3 * 10**6, 10**6, stderr=subprocess.PIPE)
    _interrupt_while_summing(process)
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.returncode == 130
    assert "about" not in stderr, stderr


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a pty")
@pytest.mark.parametrize(
    "args",
    [
        ["explain", "2,1,3", "1,-1"],
        ["backward", "2,1,3", "1,-1"],
        ["compare", "2,1,3", "1,-1"],
        ["conventions", "2,1,3", "1,-1"],
        ["delay", "2,1,3", "1,-1"],
        ["plot", "2,1,3", "1,-1", "-o", "{tmp}/figure.svg"],
    ],
    ids=lambda args: args[0],
)
def test_every_command_runs_with_standard_error_on_a_terminal(tmp_path, args):
    """What a terminal on standard error changes (the long-run note) works for every
    command, not only for those that take --method."""
    if args[0] == "plot":
        pytest.importorskip("matplotlib")
    import pty

    controller, terminal = pty.openpty()
    try:
        result = finished(
            [*PYTHON_M, *(arg.format(tmp=tmp_path) for arg in args)],
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=False,
        )
        os.set_blocking(controller, False)
        try:
            stderr = os.read(controller, 65536).decode()
        except BlockingIOError:
            stderr = ""
    finally:
        os.close(terminal)
        os.close(controller)
    assert (result.returncode, stderr) == (0, ""), stderr
