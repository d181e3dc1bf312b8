"""The options every operation takes, as one frozen object, and the parsing of their forms.

No numpy here: the command line and the library both build an :class:`Options` before
any array exists, and ``import convcli.options`` stays instant.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from typing import Literal

from convcli.errors import ConvcliError

Symmetry = Literal["symmetric", "antisymmetric", "none"]
Operation = Literal["convolution", "correlation"]
Pads = tuple[tuple[int, int], ...]
PaddingSpec = str | int | Sequence[int | Sequence[int]]
PerAxis = int | str | Sequence[int]

NAMED_PADDINGS = ("valid", "same", "full")
#: convcli's pad modes and the numpy.pad mode that implements each.
PAD_MODES: dict[str, str] = {
    "zeros": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}
METHODS = ("auto", "direct", "fft")
#: Scalings of correlation outputs (convcli.analysis.xcorr): MATLAB xcorr's and zero-normalized.
NORMALIZATIONS = ("none", "biased", "unbiased", "coeff", "zncc")
OPERATIONS = ("convolution", "correlation")
#: Whose rules a result follows: convcli's own, or a library's (see convcli/conventions.py).
CONVENTIONS = ("convcli", "numpy", "scipy", "scipy2d", "matlab", "torch", "tensorflow")
#: How PNG output makes values grey levels (see convcli.formats.images.gray_levels).
PNG_SCALES = ("clip", "stretch", "abs")


def parse_padding(spec: PaddingSpec) -> str | Pads:
    """Normalise a padding spec to a name or to (before, after) pairs.

    Accepts what ``--padding`` accepts: ``"valid"``, ``"same"``, ``"full"``, an
    int for every side, ``"1:2"`` for before:after, and a comma between axes
    (``"1,2"``, ``"0:1,1:0"``); also an int or a sequence of ints or pairs. One
    pair applies to every axis; otherwise there is one pair per axis.

    >>> parse_padding("same")
    'same'
    >>> parse_padding("0:1,2")
    ((0, 1), (2, 2))
    """
    if isinstance(spec, str):
        text = spec.strip().lower()
        if text in NAMED_PADDINGS:
            return text
        if not re.fullmatch(r"\s*-?\d+\s*(:\s*-?\d+\s*)?(,\s*-?\d+\s*(:\s*-?\d+\s*)?)*", text):
            raise ConvcliError(
                f"padding {spec!r} is not valid, same, full, an integer, "
                "BEFORE:AFTER, or one of those per axis separated by commas"
            )
        axes = [tuple(int(n) for n in axis.split(":")) for axis in text.split(",")]
    elif isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
        axes = [(int(spec),)]
    elif isinstance(spec, Sequence) and len(spec) > 0:
        axes = [_as_pad_pair(axis) for axis in spec]
    else:
        raise ConvcliError(f"padding {spec!r} is not a name, an integer or a sequence of them")
    pairs = tuple((axis[0], axis[-1]) for axis in axes)
    if any(n < 0 for pair in pairs for n in pair):
        raise ConvcliError(
            f"padding {spec!r} is negative; padding adds cells, it cannot remove them"
        )
    return pairs


def _as_pad_pair(axis: object) -> tuple[int, ...]:
    """One axis of a padding sequence: an int, or a (before, after) pair."""
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return (int(axis),)
    if (
        isinstance(axis, Sequence)
        and len(axis) == 2
        and all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in axis)
    ):
        return (int(axis[0]), int(axis[1]))
    raise ConvcliError(f"padding entry {axis!r} is not an integer or a (before, after) pair")


def parse_per_axis(value: PerAxis, name: str) -> tuple[int, ...]:
    """Normalise a stride or dilation (an int, ``"2,1"``, or a sequence) to positive ints.

    >>> parse_per_axis("2,1", "stride")
    (2, 1)
    """
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")]
        if not all(re.fullmatch(r"[+-]?\d+", part) for part in parts):
            raise ConvcliError(
                f"{name} {value!r} is not an integer or integers separated by commas"
            )
        counts = tuple(int(part) for part in parts)
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        counts = (int(value),)
    elif (
        isinstance(value, Sequence)
        and len(value) > 0
        and all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in value)
    ):
        counts = tuple(int(n) for n in value)
    else:
        raise ConvcliError(f"{name} {value!r} is not an integer or a sequence of integers")
    if any(n < 1 for n in counts):
        raise ConvcliError(f"{name} must be at least 1, got {value!r}")
    return counts


def check_choice(value: str, choices: Sequence[str], name: str) -> None:
    """Refuse a value that is not one of the choices, naming them.

    >>> check_choice("fft", METHODS, "method")
    """
    if value not in choices:
        raise ConvcliError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
