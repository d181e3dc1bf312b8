"""How results show themselves in Python, IPython and Jupyter, without knowing how to draw.

The result classes of the engine and the analysis inherit :class:`Displayed`. Its
``__repr__``, ``_repr_pretty_`` and ``_repr_html_`` hand the object to the renderer that
the package's ``__init__`` installs, which imports :mod:`convcli.render.notebook` on the
first display. So the lower layers never import the renderer (the dependency points
down), and ``import convcli`` stays fast. Nothing here imports numpy or any of convcli.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

__all__ = ["Displayed", "Kind", "Renderer", "install", "shown"]

#: ``text`` for repr and IPython's pretty printer, ``html`` for Jupyter.
Kind = Literal["text", "html"]
#: What draws an object: its text or its HTML.
Renderer = Callable[[object, Kind], str]

_renderer: Renderer | None = None


def install(renderer: Renderer) -> None:
    """Make ``renderer`` draw every :class:`Displayed` object from now on."""
    global _renderer
    _renderer = renderer


def _fallback(value: object, reason: str) -> str:
    """The plain repr of an object the renderer could not draw, with why."""
    return f"<{type(value).__module__}.{type(value).__qualname__} object ({reason})>"


def shown(value: object, kind: Kind) -> str | None:
    """``value`` drawn as ``kind`` by the installed renderer; never raises (a repr must not).

    Text falls back to the class name and the reason; HTML to None, so that Jupyter
    shows the text instead.

    >>> class Thing(Displayed):  # a class no renderer knows
    ...     pass
    >>> repr(Thing()), Thing()._repr_html_()  # doctest: +ELLIPSIS
    ('<...Thing object (not drawn: TypeError)>', None)
    """
    renderer = _renderer
    if renderer is None:
        return _fallback(value, "no renderer installed") if kind == "text" else None
    try:
        return renderer(value, kind)
    except Exception as error:  # a repr that raises hides the object and the error
        if kind == "html":
            return None
        return _fallback(value, f"not drawn: {type(error).__name__}")


class Displayed:
    """A mixin for result classes: a readable repr, and rich display in IPython and Jupyter.

    Dataclasses that inherit it need ``repr=False``, or the dataclass's own repr wins.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        """A multi-line plain-text summary: what was computed, the options, the values."""
        return shown(self, "text") or _fallback(self, "no text")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's pretty printer: the same text, or the bare class name in a cycle."""
        printer.text(f"{type(self).__name__}(...)" if cycle else repr(self))

    def _repr_html_(self) -> str | None:
        """Jupyter's rich display: a compact HTML view (None: show the text instead)."""
        return shown(self, "html")
