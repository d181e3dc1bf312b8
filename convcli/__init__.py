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
    from convcli.xcorr import Delay, correlation_lags, find_delay, normalized_correlate

__all__ = [
    "Backward",
    "Comparison",
    "ConvcliError",
    "Delay",
    "InputError",
    "backward",
    "compare",
    "convolve",
    "correlate",
    "correlation_lags",
    "find_delay",
    "kernel_symmetry",
    "normalized_correlate",
]

#: The package version, the same as pyproject.toml's (read here rather than through
#: importlib.metadata, which is slow to import, so ``convcli --version`` starts fast).
__version__ = "0.1.0"

#: Public names of convcli.gradients and convcli.xcorr, imported on first use to keep
#: ``import convcli`` fast.
_LAZY = ("Backward", "backward")
_LAZY_XCORR = ("Delay", "correlation_lags", "find_delay", "normalized_correlate")


def __getattr__(name: str) -> Any:
    """``convcli.backward``, ``convcli.find_delay`` and the other lazy names, importing their
    module on first use."""
    if name in _LAZY:
        from convcli import gradients as module  # an import statement, so -X importtime shows it
    elif name in _LAZY_XCORR:
        from convcli import xcorr as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy ones included."""
    return sorted({*globals(), *_LAZY, *_LAZY_XCORR})
