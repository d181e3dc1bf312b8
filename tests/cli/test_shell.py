"""The command line as a newcomer's shell meets it: bare ``convcli``, one-line errors under the
oldest and the newest click the package allows, and shell completion. Real processes throughout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.processes import PYTHON_M, ROOT, TIMEOUT, assert_clean_stderr, environment, finished

#: The oldest click that pyproject's ``click>=8.1`` lets in.
OLDEST_CLICK = "8.1.0"


def _click_version(pythonpath: str | None) -> tuple[int, ...]:
    """The version of the click that a process started with this PYTHONPATH imports."""
    env = environment() if pythonpath is None else environment(PYTHONPATH=pythonpath)
    found = subprocess.run(
        [sys.executable, "-c", "from importlib.metadata import version; print(version('click'))"],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
        check=True,
    )
    return tuple(int(part) for part in found.stdout.strip().split(".")[:2])


@pytest.fixture(scope="session")
def old_click() -> str:
    """A folder holding click OLDEST_CLICK, fetched by pip once and kept in the temporary folder
    between runs; skips the test when pip cannot fetch it (offline, say)."""
    folder = Path(tempfile.gettempdir()) / f"convcli-tests-click-{OLDEST_CLICK}"
    if not (folder / "click").is_dir():
        staging = Path(tempfile.mkdtemp(prefix=folder.name + "."))
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        fetched = subprocess.run(
            [*pip, "--target", str(staging), f"click=={OLDEST_CLICK}"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if fetched.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.skip(
                f"pip could not fetch click {OLDEST_CLICK}: {fetched.stderr.strip()[-200:]}"
            )
        try:
            staging.rename(folder)  # whole or not at all, should another run race this one
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    assert _click_version(str(folder)) == tuple(map(int, OLDEST_CLICK.split(".")[:2]))
    return str(folder)


@pytest.fixture(params=["installed", "oldest"], ids=["click-installed", f"click-{OLDEST_CLICK}"])
def click_path(request) -> str | None:
    """None for the installed click, or a PYTHONPATH putting the oldest allowed click first."""
    return None if request.param == "installed" else request.getfixturevalue("old_click")


def run_with(pythonpath: str | None, *args: str, **changes: str) -> subprocess.CompletedProcess:
    """``python -m convcli ARGS`` with this click first on the path."""
    if pythonpath is not None:
        changes["PYTHONPATH"] = os.pathsep.join([pythonpath, str(ROOT)])
    return subprocess.run(
        [*PYTHON_M, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
        env=environment(**changes),
        check=False,
    )


@pytest.mark.slow
def test_bare_convcli_prints_the_help_as_click_does(click_path):
    """Bare ``convcli``: click's help for a group without a command (on standard output with
    exit 0 before click 8.2, on standard error with exit 2 since), never a traceback."""
    result = run_with(click_path)
    assert_clean_stderr(result.stderr)
    help_text = result.stdout + result.stderr
    assert help_text.startswith("Usage: convcli [OPTIONS] COMMAND [ARGS]...")
    assert "Commands:" in help_text
    assert "conv " in help_text
    if _click_version(click_path) >= (8, 2):
        assert (result.returncode, result.stdout) == (2, "")
    else:
        assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.skipif(shutil.which("convcli") is None, reason="the console script is not installed")
def test_bare_console_script_prints_the_help():
    result = finished(["convcli"])
    assert_clean_stderr(result.stderr)
    assert result.returncode in (0, 2)
    assert "Commands:" in result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["conv", "1,2", "1", "--bogus"], 2, ["No such option", "--bogus"]),
        (["nope"], 2, ["No such command", "nope"]),
        (["conv", "1,2"], 2, ["Missing argument", "KERNEL"]),
        (["conv", "1,2", "1", "--padding", "x"], 2, ["--padding", "'x'"]),
        (["conv", "1,2", "1", "--method", "x"], 2, ["--method", "'x'"]),
        (["conv", "-", "-"], 2, ["only one of SIGNAL and KERNEL"]),
        (["conv", "1,x", "1"], 1, ["'x' is not a number"]),
        (["--bogus"], 2, ["No such option", "--bogus"]),
    ],
    ids=[
        "unknown-option",
        "unknown-command",
        "missing-argument",
        "bad-value",
        "bad-choice",
        "usage-error-in-command",
        "data-error",
        "unknown-group-option",
    ],
)
def test_errors_are_one_line_under_both_clicks(click_path, args, code, words):
    result = run_with(click_path, *args)
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert_clean_stderr(result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for word in words:
        assert word in lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--help"], ["conv", "--help"], ["--version"]])
def test_help_and_version_under_both_clicks(click_path, args):
    result = run_with(click_path, *args)
    assert (result.returncode, result.stderr) == (0, "")
    assert ("convcli, version" if args == ["--version"] else "Usage: convcli") in result.stdout


@pytest.mark.slow
def test_a_result_under_both_clicks(click_path):
    result = run_with(click_path, "conv", "2,1,3", "-1,1", "--padding", "full")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.split() == ["-2", "1", "-2", "3"]


def complete(click_path: str | None, words: str) -> list[tuple[str, str]]:
    """What ``convcli WORDS<TAB>`` offers in bash, as click's completion script asks for it:
    (type, value) pairs. The last word of WORDS is the one being completed."""
    parts = words.split(" ")
    result = run_with(
        click_path,
        _CONVCLI_COMPLETE="bash_complete",
        COMP_WORDS=" ".join(["convcli", *parts]),
        COMP_CWORD=str(len(parts)),
    )
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return [tuple(line.split(",", 1)) for line in result.stdout.splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize(
    "words", ["conv ", "conv 1,2 ", "compare g", "explain samples/ ", "conv --padding full 1,2 "]
)
def test_signal_and_kernel_complete_file_names_and_kernel_names(click_path, words):
    from convcli.analysis.kernels import catalogue

    offered = complete(click_path, words)
    incomplete = words.split(" ")[-1]
    assert ("file", incomplete) in offered
    examples = [info.example for info in catalogue() if info.example.startswith(incomplete)]
    assert examples
    assert [value for kind, value in offered if kind == "plain"] == examples


@pytest.mark.slow
@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("conv 1,2 1 --method ", ["auto", "direct", "fft"]),
        ("conv 1,2 1 --pad-mode r", ["reflect", "replicate"]),
        ("compare 1,2 1 --format j", ["json"]),
        ("", None),
        ("co", ["compare", "completion", "conv", "conventions", "corr"]),
        ("completion ", ["bash", "fish", "zsh"]),
    ],
)
def test_commands_and_option_choices_complete(click_path, words, expected):
    offered = complete(click_path, words)
    values = [value for kind, value in offered if kind == "plain"]
    if expected is None:
        assert {"conv", "corr", "compare", "kernels", "completion"} <= set(values)
    else:
        assert values == expected


@pytest.mark.slow
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script_for_each_shell(shell):
    result = run_with(None, "completion", shell)
    assert (result.returncode, result.stderr) == (0, "")
    assert "_CONVCLI_COMPLETE" in result.stdout
    assert f"{shell}_complete" in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.skipif(
    not (Path(sys.executable).parent / "convcli").exists(), reason="needs the console script"
)
def test_bash_offers_files_and_kernel_names_together(tmp_path):
    """The printed bash script, run in bash: both the files and the kernel names that begin
    with what was typed (click's own script drops the files when anything else matches)."""
    (tmp_path / "sound.csv").write_text("1\n")
    (tmp_path / "samples").mkdir()
    script = run_with(None, "completion", "bash").stdout
    program = f"""
        {script}
        COMP_WORDS=(convcli conv s); COMP_CWORD=2
        _convcli_completion convcli
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    result = subprocess.run(
        ["bash", "-c", program],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        env=environment(
            PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
        ),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    offered = set(result.stdout.split())
    assert {"sound.csv", "samples", "sharpen", "sobel-x", "sobel-y"} <= offered
