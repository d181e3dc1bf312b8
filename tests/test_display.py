"""convcli.display: the mixin draws through the installed renderer, and never raises."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import convcli
from convcli import display
from convcli.display import Displayed

SOURCE = Path(display.__file__)


class Thing(Displayed):
    """A displayed object for these tests."""


class Printer:
    """What IPython's pretty printer gives ``_repr_pretty_``: text goes to ``text``."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def text(self, text: str) -> None:
        self.written.append(text)


@pytest.fixture
def renderer(monkeypatch):
    """Install a renderer for the test; the package's is back afterwards."""

    def install(function):
        monkeypatch.setattr(display, "_renderer", function)

    return install


def test_the_package_installs_its_renderer_on_import():
    assert display._renderer is convcli._render


def test_repr_and_html_come_from_the_renderer(renderer):
    renderer(lambda value, kind: f"<{kind} of {type(value).__name__}>")
    assert repr(Thing()) == "<text of Thing>"
    assert Thing()._repr_html_() == "<html of Thing>"


def test_a_failing_renderer_gives_a_plain_repr_and_no_html(renderer):
    def fail(value, kind):
        raise RuntimeError("broken")

    renderer(fail)
    assert repr(Thing()) == f"<{__name__}.Thing object (not drawn: RuntimeError)>"
    assert Thing()._repr_html_() is None  # Jupyter falls back to the text


def test_without_a_renderer_the_repr_says_so(renderer):
    renderer(None)
    assert "no renderer installed" in repr(Thing())
    assert Thing()._repr_html_() is None


def test_repr_pretty_writes_the_repr_or_the_class_name_in_a_cycle(renderer):
    renderer(lambda value, kind: "line one\nline two")
    printer = Printer()
    Thing()._repr_pretty_(printer, cycle=False)
    Thing()._repr_pretty_(printer, cycle=True)
    assert printer.written == ["line one\nline two", "Thing(...)"]


def test_ipython_pretty_prints_a_result_as_its_repr():
    pretty = pytest.importorskip("IPython.lib.pretty", reason="IPython is not installed")
    comparison = convcli.compare([2, 1, 3, 5, 4], [1, -1])
    assert pretty.pretty(comparison) == repr(comparison)
    assert pretty.pretty([comparison]) == f"[{comparison!r}]"


def test_display_imports_only_the_standard_library():
    """It sits below every layer, and import convcli stays free of numpy."""
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
        )
    }
    assert imported <= {"__future__", "collections", "typing"}
