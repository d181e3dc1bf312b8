"""What a person sees, in real processes: terminals that cannot show Unicode, the
animation and the demo on a pseudo-terminal, and tables at a fixed width."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import PYTHON_M, ROOT, TIMEOUT, environment

ENCODINGS = [
    pytest.param({"PYTHONIOENCODING": "ascii"}, "ascii", id="ascii"),
    pytest.param({"PYTHONIOENCODING": "cp1252"}, "cp1252", id="cp1252"),
    pytest.param({"PYTHONIOENCODING": "cp437"}, "cp437", id="cp437"),
    pytest.param({"LANG": "C", "LC_ALL": "C"}, "utf-8", id="LANG=C"),
]
SHOWING = [
    ["compare", "2,1,3,5,4", "1,-1", "--format", "table"],
    ["compare", "samples/image.csv", "sobel-x", "--format", "table"],
    ["compare", "samples/recording.csv", "samples/pattern.csv", "--format", "table"],
    ["compare", "2,1,3,5,4", "1,-1", "--convention", "torch", "--format", "table"],
    ["conv", "0.5,1.25,3", "1,2", "--format", "table"],
    ["explain", "2,1,3,5,4", "1,-1"],
    ["explain", "samples/image.csv", "1,0;0,-1", "--op", "corr"],
    ["explain", "2,1,3,5,4", "1,-1", "--animate", "--delay", "0"],
    ["conventions", "2,1,3,5,4", "1,-1", "--format", "table"],
    ["kernels", "--format", "table"],
    ["backward", "2,1,3,5,4", "1,-1"],
    ["delay", "0,0,0,1,2,1,0", "1,2,1,0,0,0,0", "--format", "table"],
    ["demo"],
]


# Every view in ASCII and in cp1252; a few in cp437 and the C locale too.
CASES = [
    pytest.param(args, *encoding.values, id=f"{' '.join(args)} {encoding.id}")
    for args in SHOWING
    for encoding in ENCODINGS
    if encoding.id in ("ascii", "cp1252") or (args[0] in ("compare", "demo") and len(args) < 6)
]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "changes", "encoding"), CASES)
def test_output_fits_the_streams_encoding(args, changes, encoding):
    """Every view prints in the encoding it is given (ASCII glyphs where it lacks Unicode)."""
    result = subprocess.run(
        [*PYTHON_M, *args],
        capture_output=True,
        cwd=ROOT,
        env=environment(COLUMNS="80", **changes),
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stderr == b""
    text = result.stdout.decode(encoding)  # strict: every byte is the encoding's
    assert "\\u" not in text and "\\x" not in text  # glyphs replaced, not escaped
    assert len(text.splitlines()) > 3


@pytest.mark.slow
@pytest.mark.parametrize(("changes", "encoding"), ENCODINGS[:2])
def test_error_messages_fit_the_streams_encoding(changes, encoding):
    """An error message holding a Unicode glyph (±) reaches an ASCII stderr readably."""
    result = subprocess.run(
        [*PYTHON_M, "corr", "1,2,3", "1,2,3", "--padding", "5", "--normalize", "unbiased"],
        capture_output=True,
        cwd=ROOT,
        env=environment(**changes),
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    message = result.stderr.decode(encoding)
    assert message.startswith("Error: unbiased normalization")
    assert "lag +-2" in message or "lag ±2" in message
    assert len(message.splitlines()) == 1


def invoke(*args: str) -> str:
    from click.testing import CliRunner

    from convcli.cli.main import cli

    result = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1"}).invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["compare", "0.1,0.2,0.3", "1,1/3"],
        ["conv", "0.1,0.2,0.3", "1,0.3333333333333"],
        ["corr", "0.1,0.2,0.3", "1,0.3333333333333"],
        ["conventions", "0.1,0.2,0.3", "1,0.3333333333333"],
        ["delay", "0.1,0.2,0.3,0.7", "0.3,0.7"],
    ],
    ids=lambda command: command[0],
)
@pytest.mark.parametrize("machine", ["csv", "json"])
def test_digits_leaves_csv_and_json_exact(command, machine):
    if command[0] == "compare":
        command = [command[0], command[1], "1,0.3333333333333"]
    plain = invoke(*command, "--format", machine)
    assert invoke(*command, "--format", machine, "--digits", "2") == plain


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["compare", "0.1,0.2,0.3", "1,0.3333333333333", "--format", "table"],
        ["conv", "0.1,0.2,0.3", "1,0.3333333333333", "--format", "table"],
        ["explain", "0.1,0.2,0.3", "1,0.3333333333333"],
        ["backward", "0.1,0.2,0.3", "1,0.3333333333333"],
        ["conventions", "0.1,0.2,0.3", "1,0.3333333333333", "--format", "table"],
    ],
    ids=lambda command: command[0],
)
def test_digits_rounds_tables_and_explanations(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("third.csv").write_text("1\n0.3333333333333\n")
    command = [word.replace("1,0.3333333333333", "third.csv") for word in command]
    default, three = invoke(*command), invoke(*command, "--digits", "3")
    # f * h and f ⋆ h hold 0.1/3 + 0.2, 0.2/3 + 0.3 and 0.1 + 0.2/3 (and 1/3 itself)
    assert any(value in default for value in ("0.233333", "0.366667", "0.166667"))
    assert not re.search(r"\d\.\d{7}", default)  # 6 significant digits by default
    assert any(value in three for value in ("0.233", "0.367", "0.167"))
    assert not re.search(r"\d\.\d{4}", three)


def test_digits_rounds_the_delay_table():
    text = invoke("delay", "0,1,2,1,0,0", "1,2,1.1", "--format", "table", "--digits", "3")
    refined = next(line for line in text.splitlines() if line.startswith("refined lag"))
    value = refined.split()[2]
    assert len(value.replace("-", "").replace(".", "").lstrip("0")) <= 3


# ---------------------------------------------------------------- conventions at 80 columns


@pytest.mark.slow
@pytest.mark.parametrize("columns", ["60", "80"])
@pytest.mark.parametrize(
    "command",
    [["2,1,3,5,4", "1,-1"], ["samples/image.csv", "sobel-x", "--op", "corr"]],
    ids=["1-D", "2-D"],
)
def test_conventions_table_fits_columns_in_a_pipe(command, columns, monkeypatch):
    """A narrow table stacks each library's call, result and reason; nothing is cut."""
    from click.testing import CliRunner

    from convcli.cli.main import cli

    monkeypatch.chdir(ROOT)
    runner = CliRunner(env={"COLUMNS": columns, "NO_COLOR": "1"})
    result = runner.invoke(cli, ["conventions", *command, "--format", "table"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= int(columns)
    text = result.stdout
    for library in ("convcli", "SciPy", "MATLAB", "PyTorch", "TensorFlow"):
        assert library in text
    assert "…" not in text
    if command[0] == "2,1,3,5,4":
        assert "[-1, 2, 2, -1]" in text and "[1, -2, -2, 1]" in text
        assert "does not flip the kernel: a correlation" in " ".join(text.split())
    else:
        assert " ".join(text.split()).count("0 -27 -23 4 -4 23") >= 3


def test_conventions_table_is_a_table_where_it_fits():
    from click.testing import CliRunner

    from convcli.cli.main import cli

    runner = CliRunner(env={"COLUMNS": "120", "NO_COLOR": "1"})
    text = runner.invoke(cli, ["conventions", "2,1,3,5,4", "1,-1", "--format", "table"]).stdout
    assert "why it differs" in text
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 120


# ---------------------------------------------------------------- the demo on a terminal


def read_some(controller: int, seen: bytearray, seconds: float) -> bool:
    """Add what the terminal shows within ``seconds`` to ``seen``; False if nothing came
    (or the child closed the terminal)."""
    import select

    ready, _, _ = select.select([controller], [], [], seconds)
    if not ready:
        return False
    try:
        chunk = os.read(controller, 65536)
    except OSError:  # EIO: the child closed the terminal
        return False
    seen.extend(chunk)
    return bool(chunk)


def press(controller: int, key: bytes, seen: bytearray, deadline: float) -> None:
    """Press ``key`` at the next prompt. Entering raw mode flushes keys typed before it, so
    a key that brings no answer within a second is pressed again."""
    prompts = seen.count(b"Press a key")
    while seen.count(b"Press a key") == prompts:
        assert time.monotonic() < deadline, bytes(seen[-500:])
        read_some(controller, seen, 1)
    while True:
        assert time.monotonic() < deadline, bytes(seen[-500:])
        os.write(controller, key)
        if read_some(controller, seen, 1):
            return


def demo_with_keys(keys: list[bytes]) -> tuple[int, str]:
    """Run ``convcli demo`` on a pseudo-terminal, pressing each key at the next prompt."""
    import pty
    import termios

    controller, terminal = pty.openpty()
    attributes = termios.tcgetattr(terminal)
    attributes[3] &= ~termios.ECHO  # a key typed too early is not echoed as if answered
    termios.tcsetattr(terminal, termios.TCSANOW, attributes)
    process = subprocess.Popen(
        [*PYTHON_M, "demo"],
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(NO_COLOR="1", TERM="xterm", COLUMNS="100", LINES="40"),
    )
    os.close(terminal)
    seen = bytearray()
    deadline = time.monotonic() + TIMEOUT
    try:
        for key in keys:
            press(controller, key, seen, deadline)
        code = process.wait(timeout=TIMEOUT)
        while read_some(controller, seen, 0.1):
            pass
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
        process.stderr.close()
    return code, re.sub(r"\x1b\[[0-9;]*m", "", seen.decode("utf-8", errors="replace"))


STEP_1, STEP_2 = "1. Convolution flips the kernel", "2. A symmetric kernel"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_demo_quits_on_q():
    code, text = demo_with_keys([b"q"])
    assert code == 0
    assert STEP_1 in text and STEP_2 not in text
    assert "q: quit" in text


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("back", [b"b", b"\x1b[D"], ids=["b", "left arrow"])
def test_demo_goes_back_a_step(back):
    code, text = demo_with_keys([b" ", back, b"q"])
    assert code == 0
    assert text.count(STEP_1) == 2  # step 1, step 2, step 1 again, then q
    assert text.count(STEP_2) == 1
    assert text.index(STEP_2) < text.rindex(STEP_1)


ANIMATE = ["--animate", "--op", "conv", "--delay", "0"]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("encoding", ["ascii", "cp437"])
def test_animation_on_a_terminal_that_cannot_show_unicode(encoding):
    import pty

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*PYTHON_M, "explain", "samples/recording.csv", "samples/pattern.csv", *ANIMATE],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(TERM="xterm", COLUMNS="80", LINES="40", PYTHONIOENCODING=encoding),
    )
    os.close(terminal)
    seen = bytearray()
    deadline = time.monotonic() + TIMEOUT
    try:
        while read_some(controller, seen, 1) or process.poll() is None:
            assert time.monotonic() < deadline
        stderr = process.stderr.read()
    finally:
        os.close(controller)
        process.stderr.close()
    assert process.wait(timeout=TIMEOUT) == 0, stderr
    text = seen.decode(encoding)  # strict: every byte is the encoding's
    assert "flip(h)" in text and "g = [" in text
    assert "..." in text  # the output row's cut ends, as ASCII
