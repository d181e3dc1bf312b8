"""The command line as a shell runs it: real processes, pipes, exit codes and a terminal.

Each Python start costs a fraction of a second, so these tests are few; the
in-process tests in test_main.py cover the options and the errors in detail.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from importlib.metadata import version

import pytest

import convcli
from tests.processes import PYTHON_M, ROOT, TIMEOUT, assert_clean_stderr, environment, finished

SAMPLES = ROOT / "samples"
SCRIPT = shutil.which("convcli")
COLOUR_CODE = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")
COMMANDS = [pytest.param(PYTHON_M, id="python-m")] + (
    [pytest.param([SCRIPT], id="console-script")] if SCRIPT else []
)


def run(command: list[str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return finished([*command, *args], **kwargs)


@pytest.mark.slow
def test_pipe_conv_into_corr_through_stdin():
    """``convcli conv ... --format csv | convcli corr - ...``, the second in auto format (a pipe: CSV)."""
    first_command = [SCRIPT] if SCRIPT else PYTHON_M
    first = subprocess.Popen(
        [*first_command, "conv", "2,1,3,5,4", "-1,2,-1", "--padding", "full", "--format", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(),
    )
    second = finished([*PYTHON_M, "corr", "-", "1,-1"], stdin=first.stdout)
    first.stdout.close()
    assert first.wait(timeout=TIMEOUT) == 0, first.stderr.read()
    first.stderr.close()
    assert second.returncode == 0, second.stderr
    middle = convcli.convolve([2, 1, 3, 5, 4], [-1, 2, -1], padding="full")
    expected = convcli.correlate(middle, [1, -1])
    assert second.stdout == "".join(f"{value}\n" for value in expected.tolist())
    assert second.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["conv", "samples/missing.csv", "1,-1"], 1, ["missing.csv"]),
        (["conv", "2,1,3,5,4", "1,-1", "--stride", "0"], 2, ["stride"]),
    ],
    ids=["data-error", "usage-error"],
)
def test_errors_exit_code_and_one_stderr_line(args, code, words):
    result = run(PYTHON_M, *args)
    assert result.returncode == code
    assert result.stdout == ""
    assert_clean_stderr(result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for word in words:
        assert word in lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_version(command):
    result = run(command, "--version")
    assert result.returncode == 0
    assert version("convcli") in result.stdout
    assert result.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "single"),
    [
        (["conv", "{big}", "1,-1"], True),
        (["compare", "{big}", "1,-1"], False),
    ],
    ids=["conv", "compare"],
)
def test_reader_closing_the_pipe_early(tmp_path, args, single):
    """``convcli conv big.csv 1,-1 | head -1``: no traceback when the reader goes away."""
    values = [(i * 7919) % 19 - 9 for i in range(200_000)]
    big = tmp_path / "big.csv"
    big.write_text("\n".join(map(str, values)) + "\n")
    process = subprocess.Popen(
        [*PYTHON_M, *(arg.format(big=big) for arg in args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(COLUMNS="100"),
    )
    line = process.stdout.readline().decode()
    process.stdout.close()
    try:
        stderr = process.stderr.read().decode()
        process.wait(timeout=TIMEOUT)
    finally:
        process.kill()
    # auto format in a pipe is CSV; convolving with 1,-1 gives f[i+1] - f[i]
    if single:
        assert line == f"{values[1] - values[0]}\n"
    else:
        assert line == "index,convolution,correlation\n"
    assert_clean_stderr(stderr)
    assert process.returncode in (0, 1, 141, -13), (process.returncode, stderr)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_auto_format_is_a_table_on_a_terminal_and_no_color_is_respected():
    import pty

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*PYTHON_M, "compare", "2,1,3,5,4", "1,-1"],
        stdout=terminal,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(NO_COLOR="1", TERM="xterm-256color", COLUMNS="100"),
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=TIMEOUT) == 0
    process.stderr.close()
    out = b"".join(chunks).decode("utf-8")
    assert "index,convolution" not in out  # not CSV
    assert "flip(h)" in out
    assert "antisymmetric" in out
    header = next(
        line for line in out.splitlines() if "convolution" in line and "correlation" in line
    )
    assert header.index("convolution") < header.index("correlation")
    assert not COLOUR_CODE.search(out), repr(out)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX pipes")
def test_stream_leaves_quietly_while_its_writer_keeps_stdin_open():
    """``producer | convcli conv - 1,1 --stream | head -1`` with a producer that has not
    finished: convcli leaves quietly, although its read-ahead thread is still blocked
    reading standard input (Python's shutdown would abort on that thread's lock)."""
    process = subprocess.Popen(
        [*PYTHON_M, "conv", "-", "1,1", "--stream"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(),
    )
    # a first block and part of a second: the reader waits for the rest of the second
    producer = threading.Thread(target=process.stdin.write, args=(b"1\n" * 500_000,))
    producer.start()
    try:
        line = process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read().decode()
        process.wait(timeout=TIMEOUT)
    finally:
        process.kill()
        producer.join(TIMEOUT)
        process.stdin.close()
    assert line == b"2\n"
    assert_clean_stderr(stderr)
    assert stderr == ""
    assert process.returncode in (0, 1, 141, -13), (process.returncode, stderr)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("head") is None, reason="bash")
def test_head_3_in_a_shell_pipeline_exits_quietly(tmp_path):
    """``convcli conv big.csv h | head -3`` under pipefail: three lines, nothing on stderr,
    and convcli's own exit status 0 (the reader leaving early is not an error)."""
    big = tmp_path / "big.csv"
    big.write_text("\n".join(str(i % 13) for i in range(300_000)) + "\n")
    convcli = " ".join(PYTHON_M)
    result = run(["bash", "-c", f"set -o pipefail; {convcli} conv '{big}' 1,-1 | head -3"])
    assert result.stdout == "1\n1\n1\n"
    assert result.stderr == ""
    assert result.returncode == 0


def _interrupt_when(process: subprocess.Popen, ready) -> None:
    """Send SIGINT (Ctrl-C) to the process once ``ready()`` holds."""
    deadline = time.monotonic() + TIMEOUT
    while not ready():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the command never got ready"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_ctrl_c_exits_130_without_a_traceback_or_a_partial_file(tmp_path, stream):
    """Ctrl-C while the signal is still arriving on stdin: exit 130, nothing on stderr but
    at most a newline, the existing -o file untouched and no temporary file left."""
    output = tmp_path / "out.csv"
    output.write_text("precious\n")
    process = subprocess.Popen(
        [*PYTHON_M, "conv", "-", "1,1", "-o", str(output), *(["--stream"] if stream else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        process.stdin.write(b"1\n2\n3\n" * 1000)
        process.stdin.flush()
        if stream:  # the run is writing: its temporary file is there
            _interrupt_when(process, lambda: len(os.listdir(tmp_path)) > 1)
        else:  # still reading: give it time to start and block on stdin
            started = time.monotonic()
            _interrupt_when(process, lambda: _reading_stdin(process.pid, started))
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert_clean_stderr(stderr.decode())
    assert "KeyboardInterrupt" not in stderr.decode()
    assert stderr.strip() == b""
    assert output.read_text() == "precious\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def _reading_stdin(pid: int, started: float) -> bool:
    """Whether the process is asleep reading a pipe (Linux /proc), or has had three seconds
    to get there where /proc does not say."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/wchan") as wchan:
        if "pipe" in wchan.read():
            return True
    return time.monotonic() - started > 3


@pytest.mark.slow
def test_too_large_a_result_is_refused_not_killed():
    """A padding of 10^5 around a 2x2 matrix asks for a 200002x200002 result (320 GB of
    float64 alone): refused at once with the size on the real machine, never started."""
    result = run(PYTHON_M, "conv", "1.5,2;3,4", "identity:1", "--padding", "100000")
    assert result.returncode == 1
    assert_clean_stderr(result.stderr)
    assert re.fullmatch(
        r"Error: the 200002x200002 result needs about [\d.]+ TB of memory but [\d.]+ [MGT]B "
        r"is available; use --stream .*\n",
        result.stderr,
    )


#: Ctrl-C at the moment numpy starts to load, as the console script runs convcli: an import
#: hook raises KeyboardInterrupt there, as Python's handler would.
_CTRL_C_WHILE_LOADING = """
import sys

class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            raise KeyboardInterrupt

sys.meta_path.insert(0, Interrupt())
from convcli.cli.launch import main
main()
"""


def test_ctrl_c_while_loading_exits_130_without_a_traceback():
    """Ctrl-C before the command line handles signals, while numpy, click and convcli load,
    ends the run as Ctrl-C later does."""
    result = finished([sys.executable, "-c", _CTRL_C_WHILE_LOADING, "compare", "1,2", "1"])
    assert result.returncode == 130, result.stderr
    assert result.stderr == ""


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
@pytest.mark.parametrize(
    ("number", "code", "message"),
    [(signal.SIGINT, 130, ""), (signal.SIGTERM, 143, "Error: stopped by SIGTERM\n")],
)
def test_a_signal_a_library_turned_into_its_own_error_still_stops_the_run(
    monkeypatch, capsys, number, code, message
):
    """A library that swallows the handler's exception and raises another (matplotlib does)
    must not turn Ctrl-C or SIGTERM into an internal error."""
    from convcli.cli import main as command_line
    from convcli.cli import signals

    def swallowed(*args, **kwargs):
        signals._caught.append(number)
        raise ValueError("Invalid bounding box")

    monkeypatch.setattr(signals, "_caught", [])
    monkeypatch.setattr(command_line.cli, "main", swallowed)
    assert command_line._run() == code
    assert capsys.readouterr().err == message
