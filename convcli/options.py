"""The options every operation takes, as one frozen object, and the parsing of their forms.

No numpy here: the command line and the library both build an :class:`Options` before
any array exists, and ``import convcli.options`` stays instant.
"""

from __future__ import annotations

import dataclasses
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, cast

from convcli.errors import ConvcliError, OptionError

__all__ = [
    "CONVENTIONS",
    "METHODS",
    "NAMED_PADDINGS",
    "NORMALIZATIONS",
    "OPERATIONS",
    "PAD_MODES",
    "PNG_SCALES",
    "ChosenMethod",
    "Convention",
    "Method",
    "Normalization",
    "Operation",
    "Options",
    "PadMode",
    "Padding",
    "PaddingSpec",
    "Pads",
    "PerAxis",
    "Symmetry",
    "check_choice",
    "parse_padding",
    "parse_per_axis",
]

Symmetry = Literal["symmetric", "antisymmetric", "none"]
Operation = Literal["convolution", "correlation"]
PadMode = Literal["zeros", "reflect", "symmetric", "replicate", "circular"]
Method = Literal["auto", "direct", "fft"]
#: The method a sum ran by: what ``auto`` resolved to.
ChosenMethod = Literal["direct", "fft"]
Convention = Literal["convcli", "numpy", "scipy", "scipy2d", "matlab", "torch", "tensorflow"]
Normalization = Literal["none", "biased", "unbiased", "coeff", "zncc"]
#: (before, after) cells of padding per axis.
Pads = tuple[tuple[int, int], ...]
#: A padding rule by name, or explicit (before, after) pairs (one pair: every axis).
Padding = Literal["valid", "same", "full"] | Pads
#: What a caller may give as padding: a name, ``"1:2,0"``, an int, or ints and pairs.
PaddingSpec = str | int | Sequence[int | Sequence[int]]
#: What a caller may give as a stride or a dilation: an int, ``"2,1"``, or ints.
PerAxis = int | str | Sequence[int]

NAMED_PADDINGS: tuple[str, ...] = ("valid", "same", "full")
#: convcli's pad modes and the numpy.pad mode that implements each.
PAD_MODES: dict[PadMode, Literal["constant", "reflect", "symmetric", "edge", "wrap"]] = {
    "zeros": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}
METHODS: tuple[Method, ...] = ("auto", "direct", "fft")
#: Scalings of correlation outputs (convcli.analysis.xcorr): MATLAB xcorr's and zero-normalized.
NORMALIZATIONS: tuple[Normalization, ...] = ("none", "biased", "unbiased", "coeff", "zncc")
OPERATIONS: tuple[Operation, ...] = ("convolution", "correlation")
#: Whose rules a result follows: convcli's own, or a library's (convcli/analysis/conventions.py).
CONVENTIONS: tuple[Convention, ...] = (
    "convcli",
    "numpy",
    "scipy",
    "scipy2d",
    "matlab",
    "torch",
    "tensorflow",
)
#: How PNG output makes values grey levels (see convcli.formats.images.gray_levels).
PNG_SCALES = ("clip", "stretch", "abs")


@dataclass(frozen=True, kw_only=True)
class Options:
    """Where the kernel stops and how the sums are taken: the one object every layer passes.

    Fields hold parsed values (a padding name or pairs, strides and dilations as
    tuples of one entry or one per axis), checked when the object is made, so an
    ``Options`` is hashable and sound; :meth:`parse` builds one from the forms a caller
    may write (``"1:2"``, ``2``, ``[2, 1]``).
    ``multiply_padding`` makes zero padding a term of the sum (0 * inf is nan), as
    PyTorch and TensorFlow compute; the conventions set it, convcli's rules do not.

    >>> Options.parse(padding="1:2", stride=2)
    Options(padding=((1, 2),), stride=(2,), dilation=(1,), pad_mode='zeros', method='auto', \
convention='convcli', multiply_padding=False)
    >>> Options().replace(method="fft").method
    'fft'
    >>> Options(stride=2)
    Traceback (most recent call last):
    TypeError: stride takes a tuple of positive ints, not 2 (Options.parse takes the other forms)
    """

    padding: Padding = "valid"
    stride: tuple[int, ...] = (1,)
    dilation: tuple[int, ...] = (1,)
    pad_mode: PadMode = "zeros"
    method: Method = "auto"
    convention: Convention = "convcli"
    multiply_padding: bool = False

    def __post_init__(self) -> None:
        """Refuse fields that are not parsed values, naming the field."""
        check_choice(self.pad_mode, tuple(PAD_MODES), "pad_mode")
        check_choice(self.method, METHODS, "method")
        check_choice(self.convention, CONVENTIONS, "convention")
        for name in ("stride", "dilation"):
            value = getattr(self, name)
            if not (isinstance(value, tuple) and value and all(_count(n, 1) for n in value)):
                raise TypeError(
                    f"{name} takes a tuple of positive ints, not {value!r} "
                    "(Options.parse takes the other forms)"
                )
        padding = self.padding
        if padding not in NAMED_PADDINGS and not (
            isinstance(padding, tuple)
            and padding
            and all(
                isinstance(pair, tuple) and len(pair) == 2 and all(_count(n, 0) for n in pair)
                for pair in padding
            )
        ):
            raise TypeError(
                f"padding takes 'valid', 'same', 'full' or (before, after) pairs of ints, not "
                f"{padding!r} (Options.parse takes the other forms)"
            )
        if not isinstance(self.multiply_padding, bool):
            raise TypeError(f"multiply_padding takes a bool, not {self.multiply_padding!r}")

    @classmethod
    def parse(
        cls,
        *,
        padding: PaddingSpec = "valid",
        stride: PerAxis = 1,
        dilation: PerAxis = 1,
        pad_mode: str = "zeros",
        method: str = "auto",
        convention: str = "convcli",
    ) -> Options:
        """Options from the forms a caller writes, each checked and named if wrong."""
        given = (padding, stride, dilation, pad_mode, method, convention)
        try:  # hashable forms (ints, strings, tuples) are parsed once per process
            return _parsed(*given)
        except TypeError:  # a list or another unhashable form
            return _parse(*given)

    def replace(self, **changes: object) -> Options:
        """A copy with some fields changed (fields take parsed values)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _parse(
    padding: PaddingSpec,
    stride: PerAxis,
    dilation: PerAxis,
    pad_mode: str,
    method: str,
    convention: str,
) -> Options:
    """:meth:`Options.parse`'s work (the choices are checked by :class:`Options` itself)."""
    return Options(
        padding=parse_padding(padding),
        stride=parse_per_axis(stride, "stride"),
        dilation=parse_per_axis(dilation, "dilation"),
        pad_mode=cast(PadMode, pad_mode),
        method=cast(Method, method),
        convention=cast(Convention, convention),
    )


#: _parse for plain ints and strings, remembered: on small arrays checking the options
#: would cost more than the sum itself.
_parsed = lru_cache(maxsize=256, typed=True)(_parse)


def parse_padding(spec: PaddingSpec) -> Padding:
    """Normalise a padding spec to a name or to (before, after) pairs.

    Accepts ``"valid"``, ``"same"``, ``"full"``, an
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
            return cast(Padding, text)
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
        raise TypeError(f"padding {spec!r} is not a name, an integer or a sequence of them")
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


def parse_per_axis(value: PerAxis, name: str, least: int = 1) -> tuple[int, ...]:
    """Normalise a stride or dilation (an int, ``"2,1"``, or a sequence) to ints of at least
    ``least``.

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
        raise TypeError(f"{name} {value!r} is not an integer or a sequence of integers")
    if any(n < least for n in counts):
        raise ConvcliError(f"{name} must be at least {least}, got {value!r}")
    return counts


def check_choice(value: object, choices: Sequence[str], name: str) -> None:
    """Refuse a value that is not one of the choices, naming the parameter and the choices.

    >>> check_choice("fft", METHODS, "method")
    >>> check_choice("fast", METHODS, "method")
    Traceback (most recent call last):
    convcli.errors.OptionError: method='fast' is not one of auto, direct, fft
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if value not in choices:
        raise OptionError(f"{name}={value!r} is not one of {', '.join(choices)}")


def _count(value: object, least: int) -> bool:
    """Whether a value is an int (not a bool) of at least ``least``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least
