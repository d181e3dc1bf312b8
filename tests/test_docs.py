"""The documentation's examples: every ``$ convcli ...`` block in README.md and
samples/README.md prints what it shows, and the quick start is what CI runs.

After changing the output on purpose, ``python tests/test_docs.py`` rewrites the
shown outputs from real runs; review the diff before committing it.
"""

import os
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from convcli.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "samples" / "README.md"]
CONSOLE_BLOCK = re.compile(r"```console\n(\$ [^\n]*)\n(.*?)```", flags=re.DOTALL)
ENVIRONMENT = {"COLUMNS": "80", "NO_COLOR": "1"}


def _examples(document: Path) -> list[tuple[str, str]]:
    """(command line, expected output) for each console block of a document."""
    return [
        (command[2:], output)
        for command, output in CONSOLE_BLOCK.findall(document.read_text(encoding="utf-8"))
    ]


def _run(command: str) -> str:
    """Run ``convcli A | convcli B ...`` in-process from the project folder, each stage
    reading the previous one's output; lines lose trailing spaces as in the docs."""
    output = None
    for stage in command.split(" | "):
        words = shlex.split(stage)
        assert words[0] == "convcli", f"not a convcli command: {stage}"
        result = CliRunner(env=ENVIRONMENT).invoke(cli, words[1:], input=output)
        assert result.exit_code == 0, result.output
        output = result.stdout
    return "".join(line.rstrip() + "\n" for line in output.splitlines())


ALL_EXAMPLES = [
    pytest.param(command, expected, id=f"{document.parent.name}/{document.name}: {command[:50]}")
    for document in DOCUMENTS
    for command, expected in _examples(document)
]


def test_every_document_has_examples():
    assert all(len(_examples(document)) >= 4 for document in DOCUMENTS)


@pytest.mark.parametrize(("command", "expected"), ALL_EXAMPLES)
def test_example_prints_what_it_shows(command, expected, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert _run(command) == expected


def test_quick_start_block_is_what_ci_runs():
    readme = DOCUMENTS[0].read_text(encoding="utf-8")
    block = re.search(r"<!-- quick-start.*?```bash\n(.*?)```", readme, flags=re.DOTALL)
    assert block is not None
    assert block.group(1).splitlines() == [
        "pip install . && convcli compare samples/f.csv samples/h.csv",
        "pip install '.[test]' && pytest",
    ]
    assert "quick-start" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _update(document: Path) -> None:
    """Rewrite the outputs shown in a document from real runs."""
    text = document.read_text(encoding="utf-8")
    updated = CONSOLE_BLOCK.sub(
        lambda match: f"```console\n{match.group(1)}\n{_run(match.group(1)[2:])}```", text
    )
    document.write_text(updated, encoding="utf-8")


if __name__ == "__main__":
    os.chdir(ROOT)
    for path in DOCUMENTS:
        _update(path)


def test_test_extra_does_not_pull_torch():
    """torch (gigabytes of CUDA libraries on Linux) is its own extra, never part of `test`."""
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert not any(r.startswith("torch") for r in extras["test"])
    assert any(r.startswith("torch") for r in extras["torch"])
