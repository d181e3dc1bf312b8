"""ASCII stand-ins for the Unicode glyphs convcli prints, for streams that cannot encode them.

A Windows code page (cp437, cp1252) or ``PYTHONIOENCODING=ascii`` lacks ``≠``,
``⋮`` or the sparkline bars. Views built for such a stream use :func:`ascii_text`
where alignment matters (table cells); :func:`protect` makes every other write
(prose, file names, error messages) fall back the same way instead of raising
UnicodeEncodeError.
"""

from __future__ import annotations

import codecs
from typing import TextIO

__all__ = ["ASCII", "ascii_text", "fits", "protect"]

#: Each glyph and what stands in for it in ASCII.
ASCII = {
    "…": "...",
    "⋮": ":",
    "·": ".",
    "≠": "!=",
    "±": "+-",
    "⋆": "(*)",
    "✗": "x",
    "←": "<-",
    "→": "->",
    "Σ": "sum",
    "▁": "_",
    "▂": ".",
    "▃": ",",
    "▄": "-",
    "▅": "=",
    "▆": "+",
    "▇": "*",
    "█": "#",
    "░": ":",
    "▒": "+",
    "▓": "%",
}
_TABLE: dict[int, str | int | None] = {ord(glyph): text for glyph, text in ASCII.items()}
_ERRORS = "convcli-ascii"


def ascii_text(text: str) -> str:
    """The text with every glyph of :data:`ASCII` replaced by its stand-in.

    >>> ascii_text("3 ≠ 4 …")
    '3 != 4 ...'
    """
    return text.translate(_TABLE)


def fits(encoding: str | None) -> bool:
    """Whether text in this encoding can hold every glyph convcli prints."""
    try:
        "".join(ASCII).encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _fall_back(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: glyphs as their stand-ins, other characters as ``\\u`` escapes."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return (
        "".join(
            ASCII.get(char) or char.encode("ascii", "backslashreplace").decode() for char in bad
        ),
        error.end,
    )


codecs.register_error(_ERRORS, _fall_back)


def protect(stream: TextIO | None) -> None:
    """Let a text stream that cannot hold the glyphs write their stand-ins instead of failing."""
    if stream is not None and not fits(getattr(stream, "encoding", None)):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=_ERRORS)
