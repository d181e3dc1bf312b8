"""Tests for convcli.options: parsing of the padding, and of the per-axis forms of stride and
dilation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli import ConvcliError
from convcli.options import parse_padding, parse_per_axis

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


@pytest.mark.parametrize("spec", ["-1", "1:-1", "wide", "1:2:3", "1;2", "", ",", -3, [], None])
def test_parse_padding_rejects(spec):
    with pytest.raises(ConvcliError, match="padding"):
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


@pytest.mark.parametrize("value", [0, -1, "0", "1,0", "", "1,,2", "a", 2.0, True, [], [1, "2"]])
@pytest.mark.parametrize("name", ["stride", "dilation"])
def test_parse_per_axis_rejects(value, name):
    with pytest.raises(ConvcliError, match=name):
        parse_per_axis(value, name)
