"""The documentation's examples: every ``$ convcli ...`` block in README.md,
samples/README.md and docs/*.md prints what it shows, every ``>>>`` example in docs/*.md
gives what it shows (README.md's run as pytest's doctests), the quick start is what CI runs,
and README.md stays a front page.

After changing the output on purpose, ``python tests/test_docs.py`` rewrites the
shown outputs from real runs; review the diff before committing it.
"""

import doctest
import os
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcli.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
GUIDES = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, ROOT / "samples" / "README.md", *GUIDES]
PROSE = [README, ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", *GUIDES]
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
    pytest.param(command, expected, id=f"{document.relative_to(ROOT)}: {command[:50]}")
    for document in DOCUMENTS
    for command, expected in _examples(document)
]


def test_the_documents_have_examples():
    """The front page shows three commands, the classroom page and the guides many more."""
    assert len(_examples(README)) >= 3
    assert len(_examples(ROOT / "samples" / "README.md")) >= 4
    assert sum(len(_examples(guide)) for guide in GUIDES) >= 10


@pytest.mark.slow
@pytest.mark.parametrize(("command", "expected"), ALL_EXAMPLES)
def test_example_prints_what_it_shows(command, expected, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert _run(command) == expected


def test_quick_start_block_is_what_ci_runs():
    readme = README.read_text(encoding="utf-8")
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


def test_test_extra_does_not_pull_torch():
    """torch (gigabytes of CUDA libraries on Linux) is its own extra, never part of `test`."""
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert not any(r.startswith(("torch", "tensorflow")) for r in extras["test"])
    assert any(r.startswith("torch") for r in extras["test-torch"])
    assert any(r.startswith("tensorflow-cpu") for r in extras["test-tensorflow"])


def test_readme_is_a_front_page():
    """README.md introduces and points on; the details live in docs/."""
    assert README.stat().st_size <= 10_240
    for guide in GUIDES:
        assert f"docs/{guide.name}" in README.read_text(encoding="utf-8"), guide.name


@pytest.mark.parametrize("guide", GUIDES, ids=lambda path: path.name)
def test_guide_python_examples(guide, monkeypatch):
    """The ``>>>`` examples of a guide in docs/ give what they show."""
    monkeypatch.chdir(ROOT)
    failed, _ = doctest.testfile(
        str(guide), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert failed == 0


def _long_lines(document: Path) -> list[str]:
    """Lines over 200 characters outside tables and code blocks: prose is one sentence a line."""
    long, in_code = [], False
    for line in document.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and not line.startswith("|") and len(line) > 200:
            long.append(line[:60])
    return long


@pytest.mark.parametrize("document", PROSE, ids=lambda path: path.name)
def test_prose_is_one_sentence_a_line(document):
    assert document.exists()
    assert _long_lines(document) == []


if __name__ == "__main__":
    os.chdir(ROOT)
    for path in DOCUMENTS:
        _update(path)
