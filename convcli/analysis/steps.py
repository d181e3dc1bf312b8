"""The terms behind every output: what ``convcli explain`` writes out, step by step.

Pure numpy, like the engine it builds on. Each output of a convolution or a
correlation is a dot product of one window of the padded signal with the kernel
as slid (flipped, or conjugated); a :class:`Step` holds that window, the
weights, their products and the output, so a renderer only has to format them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from convcli.engine import core as engine
from convcli.engine.geometry import Geometry
from convcli.options import Operation, Options

__all__ = ["Explanation", "Step", "explain"]


@dataclass(frozen=True, eq=False)
class Step:
    """One output as a sum of products: ``total = sum(weights * values)``.

    ``cells`` gives, for each kernel tap, the signal index it reads (an index
    of the unpadded signal, so padding shows as -1 or N and beyond), ``padding``
    marks the taps that read padding rather than the signal.
    """

    position: tuple[int, ...]
    cells: np.ndarray
    padding: np.ndarray
    values: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    total: object


@dataclass(frozen=True, eq=False)
class Explanation:
    """One operation on one signal and kernel, ready to be explained output by output."""

    setup: engine.Setup
    output: np.ndarray
    method: str

    @property
    def operation(self) -> Operation:
        """``convolution`` or ``correlation``."""
        return self.setup.operation

    @property
    def geometry(self) -> Geometry:
        """The padding, stride and dilation shared by every step."""
        return self.setup.geometry

    @property
    def count(self) -> int:
        """How many steps (outputs) there are."""
        return int(self.output.size)

    def positions(self) -> Iterator[tuple[int, ...]]:
        """Every output position, in row-major order."""
        return np.ndindex(self.output.shape)

    def lag(self, position: tuple[int, ...]) -> tuple[int, ...]:
        """The lag of the output at ``position``, per axis (see :mod:`convcli.analysis.xcorr`).

        >>> explain([2, 1, 3, 5, 4], [1, -1], "correlation", Options(padding="full")).lag((0,))
        (-1,)
        """
        from convcli.analysis.xcorr import output_lags  # here, not at the top: start-up

        return output_lags(self.geometry, position)

    def step(self, position: tuple[int, ...]) -> Step:
        """The window, weights, products and total of the output at ``position``.

        >>> explanation = explain([2, 1, 3, 5, 4], [1, -1], "convolution")
        >>> step = explanation.step((0,))
        >>> step.weights, step.values, step.products, step.total
        (array([-1,  1]), array([2, 1]), array([-2,  1]), -1)
        """
        geometry, prepared = self.geometry, self.setup
        taps = np.indices(prepared.weights.shape)
        padded_cells = tuple(
            start * stride + tap * dilation
            for start, stride, dilation, tap in zip(
                position, geometry.stride, geometry.dilation, taps
            )
        )
        values = prepared.padded[padded_cells]
        before = np.array([pad[0] for pad in geometry.pads]).reshape((-1,) + (1,) * len(position))
        return Step(
            position=tuple(position),
            cells=np.moveaxis(np.array(padded_cells) - before, 0, -1),
            padding=~prepared.in_signal[padded_cells],
            values=values,
            weights=prepared.weights,
            products=prepared.weights * values,
            total=_python_number(self.output[tuple(position)]),
        )


def _python_number(value: object) -> object:
    """A numpy scalar as the Python number it holds (object arrays already hold those)."""
    return value.item() if isinstance(value, np.generic) else value


def explain(
    signal: object, kernel: object, operation: Operation, options: Options = Options()
) -> Explanation:
    """Set up one operation so that each output can be explained as a sum of products.

    >>> explanation = explain([2, 1, 3, 5, 4], [1, -1], "correlation")
    >>> explanation.output, explanation.count
    (array([ 1, -2, -2,  1]), 4)
    """
    prepared = engine.setup(signal, kernel, operation, options)
    result = engine.compute(prepared.signal, prepared.kernel, operation, options)
    return Explanation(prepared, result.values, result.method)
