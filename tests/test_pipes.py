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

from tests.test_cli_subprocess import PYTHON_M, ROOT, TIMEOUT, assert_clean_stderr, environment

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


@pytest.mark.skipif(shutil.which("head") is None, reason="needs head")
@pytest.mark.parametrize(
    "args",
    [
        ["compare", "{big}", "1,-1", "--format", "table", "--all"],
        ["conv", "{big}", "1,-1", "--format", "table", "--all"],
        ["corr", "{big}", "1,-1", "--lags", "--format", "table", "--all"],
        ["explain", "{big}", "1,-1", "--all"],
        ["explain", "{big}", "1,-1", "--format", "json"],
        ["compare", "{big}", "1,-1", "--format", "csv"],
        ["compare", "{big}", "1,-1", "--format", "json"],
        ["conv", "{big}", "1,-1", "--stream"],
        ["conventions", "{big}", "1,-1", "--format", "table", "--all"],
        ["conventions", "{big}", "1,-1", "--format", "csv"],
        ["backward", "{big}", "1,-1", "--all"],
    ],
    ids=" ".join,
)
def test_head_1_ends_a_long_output_promptly(big_signal, args):
    """``convcli … | head -1`` on a long output: head gets its line and leaves, and convcli
    ends promptly with exit 0 and nothing on standard error, as ``seq 1e9 | head -1`` does."""
    started = time.monotonic()
    convcli = subprocess.Popen(
        [*PYTHON_M, *(arg.format(big=big_signal) for arg in args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(COLUMNS="100"),
    )
    head = subprocess.run(["head", "-1"], stdin=convcli.stdout, capture_output=True, check=False)
    convcli.stdout.close()  # head held the only other reading end, and it has gone
    convcli.stdout = None
    try:
        stderr = convcli.communicate(timeout=max(0, started + PROMPTLY - time.monotonic()))[1]
    except subprocess.TimeoutExpired:
        convcli.kill()
        convcli.communicate()
        pytest.fail(f"still running {PROMPTLY} s after its start, its reader long gone")
    took = time.monotonic() - started
    stderr = stderr.decode()
    assert head.stdout.strip(), head.stdout
    assert_clean_stderr(stderr)
    assert (convcli.returncode, stderr) == (0, "")
    assert took < PROMPTLY
