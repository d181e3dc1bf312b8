"""Tests for convcli.engine.direct: direct sums in pieces give the same bits as in one piece,
and return to Python between pieces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convcli
from convcli.engine import direct
from convcli.engine.cost import compiled_cost
from tests.engine.test_fft import Case, cases, check_every_method

# --------------------------------------------------------------------------- long direct sums


@pytest.mark.slow
@settings(deadline=None, max_examples=60)
@given(cases(), st.integers(1, 3), st.sampled_from([1, 2, 8192]))
def test_direct_sums_in_pieces_are_the_same_bits(case: Case, calls_per_piece: int, row: int):
    """Long direct sums run in pieces that return to Python (for Ctrl-C), and long kernels
    in runs of ``BLAS_ROW`` taps (BLAS keeps those on one thread): tiny pieces give every
    output the same bits as one piece, and both match the reference."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(direct, "BLAS_ROW", row)
        patch.setattr(direct, "_ONE_PIECE_MACS", 0)  # every sum by the pieces' route
        whole = case.run("direct").values  # in one piece
        patch.setattr(direct, "PIECE_NS", 1e-9 * calls_per_piece)  # a row or output a piece
        patch.setattr(direct, "ONE_CALL_NS", 0.0)
        patch.setattr(direct, "NS_PER_VECTOR_MAC", dict.fromkeys("ifcO", 1e-9))
        pieces = case.run("direct").values
        check_every_method(case)
    if whole.dtype.kind in "fc":
        np.testing.assert_array_equal(pieces.view(np.uint8), whole.view(np.uint8))
    else:
        assert [int(v) for v in pieces.flat] == [int(v) for v in whole.flat]


def test_long_direct_sum_returns_to_python_between_pieces(monkeypatch):
    """The cost model sizes the pieces: a sum it prices at 3.9 PIECE_NS takes 4 calls (past
    ONE_CALL_NS, which is larger than that in use)."""
    calls = []
    convolve = np.convolve
    monkeypatch.setattr(np, "convolve", lambda *a: calls.append(1) or convolve(*a))
    rng = np.random.default_rng(1)
    signal, kernel = rng.normal(size=200_000), rng.normal(size=300)
    outputs = signal.size - kernel.size + 1
    monkeypatch.setattr(direct, "PIECE_NS", compiled_cost(300, "f") * outputs / 3.9)
    monkeypatch.setattr(direct, "ONE_CALL_NS", direct.PIECE_NS)
    values = convcli.convolve(signal, kernel, method="direct")
    assert len(calls) == 4
    np.testing.assert_array_equal(values, convolve(signal, kernel, "valid"))
    calls.clear()
    monkeypatch.setattr(direct, "BLAS_ROW", 100)  # three runs of taps a piece
    values = convcli.convolve(signal, kernel, method="direct")
    assert len(calls) == 12
    np.testing.assert_allclose(values, convolve(signal, kernel, "valid"), rtol=1e-12, atol=1e-12)
