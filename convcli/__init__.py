"""convcli: convolution and cross-correlation side by side, exactly.

>>> from convcli import convolve, correlate
>>> convolve([2, 1, 3, 5, 4], [1, -1]), correlate([2, 1, 3, 5, 4], [1, -1])
(array([-1,  2,  2, -1]), array([ 1, -2, -2,  1]))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcli.engine import Comparison, compare, convolve, correlate, kernel_symmetry
from convcli.errors import ConvcliError, InputError

if TYPE_CHECKING:
    from convcli.gradients import Backward, backward

__all__ = [
    "Backward",
    "Comparison",
    "ConvcliError",
    "InputError",
    "backward",
    "compare",
    "convolve",
    "correlate",
    "kernel_symmetry",
]

#: The package version, the same as pyproject.toml's (read here rather than through
#: importlib.metadata, which is slow to import, so ``convcli --version`` starts fast).
__version__ = "0.1.0"

#: Public names of convcli.gradients, imported on first use to keep ``import convcli`` fast.
_LAZY = ("Backward", "backward")


def __getattr__(name: str) -> Any:
    """``convcli.backward`` and ``convcli.Backward``, importing convcli.gradients on first use."""
    if name in _LAZY:
        from convcli import gradients  # an import statement, so -X importtime shows it

        value = getattr(gradients, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, the lazy ones included."""
    return sorted({*globals(), *_LAZY})
