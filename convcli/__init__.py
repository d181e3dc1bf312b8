"""convcli: convolution and cross-correlation side by side, exactly.

>>> from convcli import convolve, correlate
>>> convolve([2, 1, 3, 5, 4], [1, -1]), correlate([2, 1, 3, 5, 4], [1, -1])
(array([-1,  2,  2, -1]), array([ 1, -2, -2,  1]))
>>> from convcli import explain
>>> explain([2, 1, 3, 5, 4], "diff").convolution.step((0,)).products  # -1*2 + 1*1
array([-2,  1])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcli import display as _display

if TYPE_CHECKING:
    from convcli.analysis.gradients import Backward, backward
    from convcli.analysis.layer_gradients import LayerBackward, layer_backward
    from convcli.analysis.layers import LayerTerms, layer, layer_terms
    from convcli.analysis.steps import Explanation, Walkthrough
    from convcli.analysis.xcorr import Delay, correlation_lags, find_delay, normalized_correlate
    from convcli.api import compare, convolve, correlate, explain
    from convcli.engine.core import Comparison, kernel_symmetry
    from convcli.errors import ConvcliError, InputError, LayerError, OptionError, OutputError
    from convcli.options import Options

__all__ = [
    "Backward",
    "Comparison",
    "ConvcliError",
    "Delay",
    "Explanation",
    "InputError",
    "LayerBackward",
    "LayerError",
    "LayerTerms",
    "OptionError",
    "Options",
    "OutputError",
    "Walkthrough",
    "backward",
    "compare",
    "convolve",
    "correlate",
    "correlation_lags",
    "explain",
    "find_delay",
    "kernel_symmetry",
    "layer",
    "layer_backward",
    "layer_terms",
    "normalized_correlate",
]

#: The package version, the same as pyproject.toml's (read here rather than through
#: importlib.metadata, which is slow to import, so ``convcli --version`` starts fast).
__version__ = "0.1.0"

#: The module of each public name. Each is imported on first use, so ``import convcli``
#: is instant and the ``convcli`` command can tune start-up before numpy loads
#: (convcli.cli.launch).
_HOMES = {
    "Backward": "analysis.gradients",
    "backward": "analysis.gradients",
    "Comparison": "engine.core",
    "compare": "api",
    "convolve": "api",
    "correlate": "api",
    "explain": "api",
    "Explanation": "analysis.steps",
    "Walkthrough": "analysis.steps",
    "kernel_symmetry": "engine.core",
    "ConvcliError": "errors",
    "InputError": "errors",
    "LayerBackward": "analysis.layer_gradients",
    "layer_backward": "analysis.layer_gradients",
    "LayerError": "errors",
    "LayerTerms": "analysis.layers",
    "layer": "analysis.layers",
    "layer_terms": "analysis.layers",
    "OptionError": "errors",
    "Options": "options",
    "OutputError": "errors",
    "Delay": "analysis.xcorr",
    "correlation_lags": "analysis.xcorr",
    "find_delay": "analysis.xcorr",
    "normalized_correlate": "analysis.xcorr",
}


def _render(value: object, kind: _display.Kind) -> str:
    """Draw a result for repr or Jupyter, importing the renderer on the first display
    (it imports numpy and rich, which ``import convcli`` does not)."""
    from convcli.render import notebook

    return notebook.render(value, kind)


# The engine and the analysis cannot import render (it is above them): their results
# display through the renderer installed here, before any of them is imported.
_display.install(_render)


def __getattr__(name: str) -> Any:
    """A public name such as ``convcli.convolve``, importing its module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # __import__ rather than importlib.import_module, so -X importtime shows the import.
    home = __import__(f"convcli.{_HOMES[name]}", fromlist=[name])
    value = getattr(home, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy ones included."""
    return sorted({*globals(), *_HOMES})
