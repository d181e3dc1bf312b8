"""Tests for convcli.options: the one Options object, and the parsing of the padding and of
the per-axis forms of stride and dilation."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli import ConvcliError, convolve
from convcli.engine.geometry import plan
from convcli.options import CONVENTIONS, METHODS, PAD_MODES, Options, parse_padding, parse_per_axis

# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("valid", "valid"),
        ("same", "same"),
        ("full", "full"),
        (" full ", "full"),
        ("0", ((0, 0),)),
        ("2", ((2, 2),)),
        ("1:2", ((1, 2),)),
        ("1,2", ((1, 1), (2, 2))),
        ("0:1,1:0", ((0, 1), (1, 0))),
        ("0:1,2", ((0, 1), (2, 2))),
        ("1, 2:3", ((1, 1), (2, 3))),
        (3, ((3, 3),)),
        (np.int64(3), ((3, 3),)),
        ([(1, 2)], ((1, 2),)),
        ([1, (0, 2)], ((1, 1), (0, 2))),
        (((0, 1), (2, 3), (4, 5)), ((0, 1), (2, 3), (4, 5))),
    ],
)
def test_parse_padding(spec, expected):
    assert parse_padding(spec) == expected


@pytest.mark.parametrize("spec", ["-1", "1:-1", "wide", "1:2:3", "1;2", "", ",", -3, [(1, 2, 3)]])
def test_parse_padding_rejects(spec):
    with pytest.raises(ConvcliError, match="padding"):
        parse_padding(spec)


@pytest.mark.parametrize("spec", [[], None, 1.5, {"same": 1}])
def test_padding_of_a_wrong_type_is_a_type_error(spec):
    with pytest.raises(TypeError, match="padding"):
        parse_padding(spec)


@pytest.mark.slow
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=4))
def test_parse_padding_round_trips_strings(pairs):
    text = ",".join(f"{b}:{a}" for b, a in pairs)
    assert parse_padding(text) == tuple(pairs)
    assert parse_padding(list(pairs)) == tuple(pairs)
    same = ",".join(str(b) for b, _ in pairs)
    assert parse_padding(same) == tuple((b, b) for b, _ in pairs)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, (1,)),
        (np.int32(4), (4,)),
        ("2", (2,)),
        ("2,1", (2, 1)),
        (" 3 , 1 ", (3, 1)),
        ((1, 2, 3), (1, 2, 3)),
        ([5], (5,)),
    ],
)
def test_parse_per_axis(value, expected):
    assert parse_per_axis(value, "stride") == expected
    assert parse_per_axis(value, "dilation") == expected


@pytest.mark.parametrize("value", [0, -1, "0", "1,0", "", "1,,2", "a"])
@pytest.mark.parametrize("name", ["stride", "dilation"])
def test_parse_per_axis_rejects(value, name):
    with pytest.raises(ConvcliError, match=name):
        parse_per_axis(value, name)


@pytest.mark.parametrize("value", [2.0, True, None, [], [1, "2"]])
@pytest.mark.parametrize("name", ["stride", "dilation"])
def test_parse_per_axis_wrong_types_are_type_errors(value, name):
    with pytest.raises(TypeError, match=name):
        parse_per_axis(value, name)


# --------------------------------------------------------------------------- Options


@pytest.mark.parametrize(
    ("given_padding", "parsed"),
    [
        ("valid", "valid"),
        (" SAME ", "same"),
        ("full", "full"),
        (2, ((2, 2),)),
        (np.int64(2), ((2, 2),)),
        ("1:2", ((1, 2),)),
        ("1,0:3", ((1, 1), (0, 3))),
        ([1, (0, 3)], ((1, 1), (0, 3))),
    ],
)
def test_every_padding_form_parses_to_a_name_or_pairs(given_padding, parsed):
    assert Options.parse(padding=given_padding).padding == parsed


@pytest.mark.parametrize(
    ("name", "value"), [("stride", "2,1"), ("stride", [2, 1]), ("dilation", (2, 1))]
)
def test_per_axis_forms_parse_to_tuples(name, value):
    assert getattr(Options.parse(**{name: value}), name) == (2, 1)


@given(
    padding=st.sampled_from(["valid", "same", "full", 0, 3, "1:2"]),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 4),
    pad_mode=st.sampled_from(list(PAD_MODES)),
    method=st.sampled_from(METHODS),
    convention=st.sampled_from(CONVENTIONS),
)
def test_equal_requests_give_equal_hashable_options(
    padding, stride, dilation, pad_mode, method, convention
):
    """Text and numbers that mean the same give equal Options, usable as a cache key."""
    first = Options.parse(
        padding=padding,
        stride=stride,
        dilation=dilation,
        pad_mode=pad_mode,
        method=method,
        convention=convention,
    )
    second = Options.parse(
        padding=padding,
        stride=str(stride),
        dilation=[dilation],
        pad_mode=pad_mode,
        method=method,
        convention=convention,
    )
    assert first == second
    assert hash(first) == hash(second)
    assert {first: 1}[second] == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"padding": "middle"}, "padding 'middle'"),
        ({"padding": -1}, "negative"),
        ({"stride": 0}, "stride must be at least 1"),
        ({"dilation": "2,x"}, "dilation '2,x'"),
        ({"pad_mode": "mirror"}, "pad_mode='mirror'"),
        ({"method": "fast"}, "method='fast'"),
        ({"convention": "octave"}, "convention='octave'"),
    ],
)
def test_bad_values_are_refused_naming_the_option(options, message):
    with pytest.raises(ConvcliError, match=message):
        Options.parse(**options)


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"stride": 2}, TypeError, "stride takes a tuple"),
        ({"dilation": (0,)}, TypeError, "dilation takes a tuple"),
        ({"padding": "nope"}, TypeError, "padding takes"),
        ({"padding": ((1, -1),)}, TypeError, "padding takes"),
        ({"method": "x"}, ConvcliError, "method='x'"),
        ({"pad_mode": None}, TypeError, "pad_mode must be a string"),
        ({"multiply_padding": 1}, TypeError, "multiply_padding"),
    ],
)
def test_options_made_directly_are_checked(fields, error, message):
    with pytest.raises(error, match=message):
        Options(**fields)
    with pytest.raises(error, match=message):
        Options().replace(**fields)


def test_options_take_keywords_only():
    with pytest.raises(TypeError):
        Options("same")  # type: ignore[misc]
    with pytest.raises(TypeError):
        Options.parse("same")  # type: ignore[misc]


def test_options_are_frozen_and_replace_makes_a_copy():
    options = Options()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.method = "fft"  # type: ignore[misc]
    changed = options.replace(method="fft")
    assert (options.method, changed.method) == ("auto", "fft")


def test_one_options_object_means_the_same_to_plan_and_to_the_api():
    options = Options.parse(padding="same", stride=2, dilation=2, pad_mode="reflect")
    values = convolve(
        np.arange(9.0), [1.0, 2.0, 4.0], padding="same", stride=2, dilation=2, pad_mode="reflect"
    )
    assert values.shape == plan((9,), (3,), options).output_shape


def test_options_import_no_numpy():
    code = "import sys, convcli.options; assert 'numpy' not in sys.modules, 'numpy imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --------------------------------------------------------------------------- axes and pad_value


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, None),
        (1, (1,)),
        ("0,2", (0, 2)),
        (" -1 ", (-1,)),
        ([2, 0], (2, 0)),
        (np.int64(1), (1,)),
    ],
)
def test_parse_axes(spec, expected):
    assert Options.parse(axes=spec).axes == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("0,0", "axes='0,0' lists an axis twice"),
        ([], "axes=[] lists no axis"),
        ("x", "axes='x' is not an integer or integers separated by commas"),
    ],
)
def test_parse_axes_refuses(spec, message):
    with pytest.raises(ConvcliError) as error:
        Options.parse(axes=spec)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("spec", [1.5, {"a": 1}, [1.0]])
def test_axes_of_a_wrong_type_is_a_type_error(spec):
    with pytest.raises(TypeError, match="axes"):
        Options.parse(axes=spec)


@pytest.mark.parametrize(
    ("value", "mode", "expected"),
    [
        (2.5, "constant", 2.5),
        ("2.5", "constant", 2.5),
        ("-3", "constant", -3),
        ("1+2j", "constant", 1 + 2j),
        (np.int64(4), "constant", 4),
        (7, "zeros", 7),  # a value alone implies constant padding, as numpy.pad and scipy do
    ],
)
def test_parse_pad_value(value, mode, expected):
    options = Options.parse(pad_value=value, pad_mode=mode)
    assert options.pad_mode == "constant"
    assert options.pad_value == expected and type(options.pad_value) is type(expected)


def test_pad_value_with_another_pad_mode_is_an_option_error():
    from convcli.errors import OptionError

    with pytest.raises(OptionError, match="pad_value=2 is what constant padding holds"):
        Options.parse(pad_value=2, pad_mode="reflect")


@pytest.mark.parametrize("value", [True, [1], None.__class__])
def test_pad_value_of_a_wrong_type_is_a_type_error(value):
    with pytest.raises(TypeError, match="pad_value"):
        Options.parse(pad_value=value)


def test_new_options_stay_hashable_and_default_is_unchanged():
    options = Options.parse(axes="0,1", pad_value=2.5)
    assert hash(options) == hash(Options.parse(axes=(0, 1), pad_value=2.5))
    assert Options.parse() == Options()
    assert Options().axes is None and Options().pad_value == 0
