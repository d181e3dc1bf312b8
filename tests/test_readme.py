"""The README's tour: every ``$ convcli ...`` example prints what the README shows."""

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcli.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONSOLE_BLOCKS = re.findall(r"```console\n(.*?)```", README, flags=re.DOTALL)


def _examples() -> list[tuple[str, str]]:
    """(command line, expected output) for each console block of the README."""
    examples = []
    for block in CONSOLE_BLOCKS:
        command, _, output = block.partition("\n")
        assert command.startswith("$ convcli "), command
        examples.append((command[2:], output))
    return examples


def _run_pipeline(command: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run ``convcli A | convcli B ...`` in-process, each stage reading the previous one's output."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")
    output = None
    for stage in command.split(" | "):
        words = shlex.split(stage)
        assert words[0] == "convcli"
        result = CliRunner().invoke(cli, words[1:], input=output)
        assert result.exit_code == 0, result.output
        output = result.stdout
    return output


def test_readme_has_a_tour():
    assert len(_examples()) >= 4


@pytest.mark.parametrize(("command", "expected"), _examples(), ids=lambda value: value[:60])
def test_readme_example_prints_what_it_shows(command, expected, monkeypatch):
    printed = _run_pipeline(command, monkeypatch)
    assert [line.rstrip() for line in printed.splitlines()] == expected.splitlines()


def test_quick_start_block_is_what_ci_runs():
    block = re.search(r"<!-- quick-start.*?```bash\n(.*?)```", README, flags=re.DOTALL)
    assert block is not None
    commands = block.group(1).splitlines()
    assert commands == [
        "pip install . && convcli compare samples/f.csv samples/h.csv",
        "pip install '.[test]' && pytest",
    ]
    assert "quick-start" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
