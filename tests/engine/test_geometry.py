"""Tests for convcli.engine.geometry: the padded extents and output shapes of plan(), by hand."""

from __future__ import annotations

import pytest

from convcli.engine.geometry import plan
from convcli.options import Options


@pytest.mark.parametrize(
    ("args", "kwargs", "pads", "padded", "output"),
    [
        (((5,), (2,)), {"padding": "same"}, ((0, 1),), (6,), (5,)),
        (((5,), (3,)), {"padding": "same"}, ((1, 1),), (7,), (5,)),
        (((7,), (3,)), {"padding": "full", "stride": 2}, ((2, 2),), (11,), (5,)),
        (((7,), (3,)), {"padding": "full", "dilation": 2}, ((4, 4),), (15,), (11,)),
        (((7,), (3,)), {"padding": "same", "stride": 2}, ((1, 1),), (9,), (4,)),
        (((5,), (2,)), {}, ((0, 0),), (5,), (4,)),
        (
            ((5, 5), (3, 3)),
            {"padding": "1:0,0:2", "stride": "2,1", "dilation": "1,2"},
            ((1, 0), (0, 2)),
            (6, 7),
            (2, 3),
        ),
        (((4, 6), (2, 3)), {"padding": "1"}, ((1, 1), (1, 1)), (6, 8), (5, 6)),
        (((4, 6), (2, 3)), {"padding": "full", "stride": 3}, ((1, 1), (2, 2)), (6, 10), (2, 3)),
    ],
)
def test_plan_by_hand(args, kwargs, pads, padded, output):
    named = dict(zip(("padding", "stride", "dilation", "pad_mode"), args[2:]))
    geometry = plan(*args[:2], Options.parse(**named, **kwargs))
    assert geometry.pads == pads
    assert geometry.padded_shape == padded
    assert geometry.output_shape == output


def test_plan_normalises_per_axis_options():
    geometry = plan(
        (4, 6), (2, 3), Options.parse(stride=2, dilation="1,2", pad_mode="reflect", padding="same")
    )
    assert geometry.stride == (2, 2)
    assert geometry.dilation == (1, 2)
    assert geometry.pad_mode == "reflect"
    assert geometry.output_shape == (2, 3)
