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


@pytest.mark.parametrize(
    ("shapes", "kwargs", "pads", "stride", "output", "batch"),
    [
        # axis 0 broadcast: no padding, stride or dilation there; the options are axis 1's
        (
            ((3, 10), (1, 3)),
            {"padding": "full", "stride": 2, "axes": 1},
            ((0, 0), (2, 2)),
            (1, 2),
            (3, 6),
            (0,),
        ),
        (
            ((3, 10), (3, 3)),
            {"padding": "same", "axes": -1},
            ((0, 0), (1, 1)),
            (1, 1),
            (3, 10),
            (0,),
        ),
        (((1, 10), (4, 3)), {"axes": (1,)}, ((0, 0), (0, 0)), (1, 1), (4, 8), (0,)),
        # listed axes take per-axis values in the order axes lists them
        (
            ((4, 5, 6), (1, 2, 3)),
            {"padding": "1,2", "stride": "2,1", "axes": (2, 1)},
            ((0, 0), (2, 2), (1, 1)),
            (1, 1, 2),
            (4, 8, 3),
            (0,),
        ),
        (
            ((4, 6), (2, 3)),
            {"padding": "full", "axes": (0, 1)},
            ((1, 1), (2, 2)),
            (1, 1),
            (5, 8),
            (),
        ),
    ],
)
def test_plan_with_axes(shapes, kwargs, pads, stride, output, batch):
    geometry = plan(*shapes, Options.parse(**kwargs))
    assert (geometry.pads, geometry.stride, geometry.output_shape) == (pads, stride, output)
    assert geometry.batch_axes == batch


@pytest.mark.parametrize(
    ("shapes", "kwargs", "message"),
    [
        (
            ((3, 100), (2, 5)),
            {"axes": 1},
            "signal shape (3, 100) and kernel shape (2, 5) cannot broadcast along axis 0 (not in "
            "axes=(1,)): sizes must match or one be 1",
        ),
        (
            ((3, 100), (3, 5)),
            {"axes": 2},
            "axes=(2,) names axis 2 but the signal has 2 axes (0 to 1, or -2 to -1)",
        ),
        (((3, 100), (3, 5)), {"axes": (1, -1)}, "axes=(1, -1) lists axis 1 twice"),
        (
            ((3, 100), (3, 5)),
            {"axes": 1, "stride": "1,2"},
            "stride gives 2 values but axes=(1,) lists 1 axis",
        ),
        (
            ((3, 4), (3, 5)),
            {"axes": 1},
            "the kernel spans 5 cells on axis 1 but the padded signal has only 4",
        ),
    ],
)
def test_plan_with_axes_refuses(shapes, kwargs, message):
    from convcli.errors import ConvcliError

    with pytest.raises(ConvcliError) as error:
        plan(*shapes, Options.parse(**kwargs))
    assert str(error.value).startswith(message)


def test_pad_signal_constant():
    import numpy as np

    from convcli.engine.geometry import pad_signal

    padded = pad_signal(np.array([1, 2]), ((1, 2),), "constant", 7)
    assert padded.tolist() == [7, 1, 2, 7, 7]
    np.testing.assert_array_equal(
        pad_signal(np.arange(6.0).reshape(2, 3), ((1, 0), (0, 2)), "constant", -1.5),
        np.pad(np.arange(6.0).reshape(2, 3), ((1, 0), (0, 2)), constant_values=-1.5),
    )
