"""Standard streams as a shell hands them over: a reader that goes away early (``| head -1``)
and streams closed before the start (``<&-``, ``>&-``, ``2>&-``). Real processes throughout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.processes import PYTHON_M, ROOT, TIMEOUT, assert_clean_stderr, environment, finished

#: Seconds a command may take, from its start, to end once its reader has gone: enough for a
#: loaded machine to start Python and read the input, far less than writing every row takes.
PROMPTLY = 20

#: Every command and every output format, writing into a pipe whose reader has gone.
SMALL_COMMANDS = [
    ["--help"],
    ["--version"],
    ["conv", "--help"],
    ["kernels"],
    ["kernels", "--format", "table"],
    ["kernels", "--format", "json"],
    ["demo"],
    ["conventions", "1,2,3", "1,-1"],
    ["conventions", "1,2,3", "1,-1", "--format", "table"],
    ["conventions", "1,2,3", "1,-1", "--format", "json"],
    ["delay", "1,2,3,4", "2,3"],
    ["delay", "1,2,3,4", "2,3", "--format", "table"],
    ["delay", "1,2,3,4", "2,3", "--format", "json"],
    ["backward", "1,2,3", "1,-1"],
    ["backward", "1,2,3", "1,-1", "--format", "json"],
    ["explain", "1,2,3", "1,-1"],
    ["explain", "1,2,3", "1,-1", "--format", "json"],
    ["conv", "1,2,3", "1,-1"],
    ["conv", "1,2,3", "1,-1", "--format", "table"],
    ["conv", "1,2,3", "1,-1", "--format", "json"],
    ["conv", "1,2,3", "1,-1", "--format", "npy"],
    ["conv", "1,2,3", "1,-1", "--stream"],
    ["corr", "1,2,3", "1,-1", "--lags", "--format", "table"],
    ["compare", "1,2,3", "1,-1"],
    ["compare", "1,2,3", "1,-1", "--format", "table"],
    ["compare", "1,2,3", "1,-1", "--format", "json"],
    ["compare", "1,2;3,4", "1,-1;1,1", "--format", "table"],
]


@pytest.mark.slow
@pytest.mark.parametrize("args", SMALL_COMMANDS, ids=" ".join)
def test_a_reader_gone_before_the_start_ends_the_command_quietly(args):
    """Standard output is a pipe whose reader has already closed it: every write fails
    (EPIPE), and the command ends at once with exit 0 and nothing on standard error."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [*PYTHON_M, *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
            cwd=ROOT,
            env=environment(COLUMNS="80"),
            check=False,
        )
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.fixture(scope="module")
def big_signal(tmp_path_factory) -> str:
    """A CSV file of 200,000 values: writing its table in full takes minutes."""
    path = tmp_path_factory.mktemp("pipes") / "big.csv"
    path.write_text("".join(f"{(i * 7919) % 19 - 9}\n" for i in range(200_000)))
    return str(path)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("head") is None, reason="needs head")
@pytest.mark.parametrize(
    "args",
    [
        ["compare", "{big}", "1,-1", "--format", "table", "--all"],
        ["conv", "{big}", "1,-1", "--format", "table", "--all"],
        ["corr", "{big}", "1,-1", "--lags", "--format", "table", "--all"],
        ["explain", "{big}", "1,-1", "--all"],
        ["explain", "{big}", "1,-1", "--format", "json", "| head -c 100"],
        ["compare", "{big}", "1,-1", "--format", "csv"],
        ["compare", "{big}", "1,-1", "--format", "json"],
        ["conv", "{big}", "1,-1", "--stream"],
        ["conventions", "{big}", "1,-1", "--format", "table"],
        ["backward", "{big}", "1,-1", "--all"],
    ],
    ids=" ".join,
)
def test_head_1_ends_a_long_output_promptly(big_signal, args):
    """``convcli … | head -1`` on a long output: head gets its line and leaves, and convcli
    ends promptly with exit 0 and nothing on standard error, as ``seq 1e9 | head -1`` does.
    (explain's JSON is one line, so there head takes its first 100 bytes instead.)"""
    reader = ["head", "-1"]
    if args[-1].startswith("| "):
        args, reader = args[:-1], args[-1][2:].split()
    started = time.monotonic()
    convcli = subprocess.Popen(
        [*PYTHON_M, *(arg.format(big=big_signal) for arg in args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(COLUMNS="100"),
    )
    try:
        head = subprocess.run(
            reader, stdin=convcli.stdout, capture_output=True, timeout=PROMPTLY, check=False
        )
        convcli.stdout.close()  # head held the only other reading end, and it has gone
        convcli.stdout = None
        stderr = convcli.communicate(timeout=max(0, started + PROMPTLY - time.monotonic()))[1]
    except subprocess.TimeoutExpired:
        convcli.kill()
        convcli.communicate()
        pytest.fail(f"no line and no end within {PROMPTLY} s")
    took = time.monotonic() - started
    stderr = stderr.decode()
    assert head.stdout.strip(), head.stdout
    assert_clean_stderr(stderr)
    assert (convcli.returncode, stderr) == (0, "")
    assert took < PROMPTLY


def run_closed(args: list[str], closed: tuple[int, ...], **kwargs) -> subprocess.CompletedProcess:
    """``python -m convcli ARGS`` started with these standard descriptors closed (as the
    shell's ``<&-``, ``>&-`` and ``2>&-`` do); the open ones are captured."""

    def close() -> None:
        for descriptor in closed:
            os.close(descriptor)

    return finished(
        [*PYTHON_M, *args],
        stdin=None if 0 in closed else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL if 1 in closed else subprocess.PIPE,
        stderr=subprocess.DEVNULL if 2 in closed else subprocess.PIPE,
        preexec_fn=close,
        **kwargs,
    )


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX descriptors")
@pytest.mark.parametrize(
    ("args", "role"),
    [
        (["conv", "-", "1"], "signal"),
        (["conv", "-", "1", "--stream"], "signal"),
        (["corr", "1,2,3", "-"], "kernel"),
        (["conv", "-:1", "1"], "signal"),
    ],
    ids=["whole", "stream", "kernel", "column"],
)
def test_closed_standard_input_is_one_line(args, role):
    result = run_closed(args, closed=(0,))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: the {role} is '-' but standard input is closed; pipe data in or give a file\n"
    )


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX descriptors")
def test_closed_standard_input_is_no_matter_when_it_is_not_read():
    result = run_closed(["conv", "1,2,3", "1,1"], closed=(0,))
    assert (result.returncode, result.stdout, result.stderr) == (0, "3\n5\n", "")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX descriptors")
@pytest.mark.parametrize(
    "args",
    [
        ["conv", "1,2", "1"],
        ["conv", "1,2", "1", "--format", "table"],
        ["conv", "1,2", "1", "--stream"],
        ["compare", "1,2", "1"],
        ["explain", "1,2", "1"],
        ["kernels"],
        ["demo"],
    ],
    ids=" ".join,
)
def test_closed_standard_output_is_one_line(args):
    result = run_closed(args, closed=(1,))
    assert result.returncode == 1
    assert result.stderr == (
        "Error: standard output is closed; redirect it (> FILE) or give -o FILE\n"
    )


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX descriptors")
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_closed_standard_output_does_not_matter_with_o(tmp_path, stream):
    """-o does not need standard output; the file opened for it must not take descriptor 1."""
    out = tmp_path / "out.csv"
    result = run_closed(["conv", "1,2,3", "1,1", "-o", str(out), *(["--stream"] * stream)], (1,))
    assert (result.returncode, result.stderr) == (0, "")
    assert out.read_text() == "3\n5\n"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX descriptors")
@pytest.mark.parametrize(
    ("args", "code", "stdout"),
    [
        (["conv", "1,2,3", "1,1"], 0, "3\n5\n"),
        (["conv", "1,x", "1"], 1, ""),
        (["conv", "1,2", "1", "--stride", "0"], 2, ""),
        (["conv", "1,nan,3", "1"], 0, "1.0\nnan\n3.0\n"),
    ],
    ids=["result", "data-error", "usage-error", "note"],
)
def test_closed_standard_error_keeps_the_exit_code_and_standard_output_clean(args, code, stdout):
    """With nowhere to say it, a message is dropped: never written to standard output."""
    result = run_closed(args, closed=(2,))
    assert (result.returncode, result.stdout) == (code, stdout)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX descriptors")
@pytest.mark.parametrize(
    ("args", "code"), [(["conv", "1,2", "1"], 1), (["conv", "-", "1"], 1), (["--help"], 0)]
)
def test_every_standard_stream_closed(args, code):
    result = run_closed(args, closed=(0, 1, 2))
    assert result.returncode == code


@pytest.mark.skipif(not os.path.isdir("/"), reason="needs a root folder")
def test_a_directory_as_standard_input_stops_python_before_convcli():
    """``convcli conv - 1 < /``: Python refuses a directory as standard input before any of
    convcli runs (docs/errors.md, "Closed standard streams"); it fails, one way, never as
    convcli's internal error."""
    folder = os.open("/", os.O_RDONLY)
    try:
        result = finished([*PYTHON_M, "conv", "-", "1"], stdin=folder)
    finally:
        os.close(folder)
    assert result.returncode == 1
    assert "<stdin> is a directory" in result.stderr
    assert "internal error" not in result.stderr
