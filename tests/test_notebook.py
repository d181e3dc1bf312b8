"""samples/lesson.ipynb: stored clean, and when run in a kernel on this interpreter every
cell gives what the library gives for the same call (its text, and HTML where a result
shows itself as a table or a page), with no errors."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import convcli
from tests.processes import ROOT

LESSON = ROOT / "samples" / "lesson.ipynb"
F, H, H2 = [2, 1, 3, 5, 4], [1, -1], [-1, 2, -1]
TIMEOUT = 60


def image() -> np.ndarray:
    """The notebook's 8x8 image: a bright square with a darker centre."""
    values = np.zeros((8, 8), dtype=int)
    values[2:6, 3:7] = 9
    values[3:5, 4:6] = 5
    return values


def by_tag(notebook) -> dict:
    """The code cells by their tag."""
    return {cell.metadata["tags"][0]: cell for cell in notebook.cells if cell.cell_type == "code"}


def test_the_notebook_is_stored_valid_and_without_outputs():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (test extra)")
    notebook = nbformat.read(LESSON, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert (cell.outputs, cell.execution_count) == ([], None)
            assert len(cell.metadata["tags"]) == 1
    assert "widgets" not in notebook.metadata
    parts = {"example-1", "example-2", "explain", "blur", "layer", "layer-terms", "backward"}
    assert parts <= set(by_tag(notebook))


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """The lesson run from the samples folder in a kernel on the tests' own interpreter."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (test extra)")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (test extra)")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (test extra)")
    # A kernel spec of our own, so the kernel is this interpreter whatever else is installed.
    kernels = tmp_path_factory.mktemp("jupyter") / "kernels" / "convcli-tests"
    kernels.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "convcli tests",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(kernels.parent.parent))
        notebook = nbformat.read(LESSON, as_version=4)
        client = nbclient.NotebookClient(
            notebook,
            kernel_name="convcli-tests",
            timeout=TIMEOUT,
            resources={"metadata": {"path": str(LESSON.parent)}},
        )
        client.execute()
    return by_tag(notebook)


def result(cell, kind: str = "text/plain") -> str:
    """A cell's displayed result of this kind."""
    found = [o.data[kind] for o in cell.outputs if kind in o.get("data", {})]
    assert found, f"no {kind} result from {cell.source!r}"
    return found[0]


@pytest.mark.slow
def test_no_cell_fails_or_writes_to_stderr(ran):
    for tag, cell in ran.items():
        kinds = [output.output_type for output in cell.outputs]
        assert "error" not in kinds, tag
        assert not [o for o in cell.outputs if o.get("name") == "stderr"], tag


@pytest.mark.slow
def test_example_1_gives_the_librarys_values(ran):
    assert result(ran["example-1"]) == repr((convcli.convolve(F, H), convcli.correlate(F, H)))
    assert "array([-1,  2,  2, -1])" in result(ran["example-1"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tag", "call"),
    [
        ("compare-1", lambda: convcli.compare(F, H)),
        ("example-2", lambda: convcli.compare(F, H2)),
        ("blur", lambda: convcli.compare(image(), "gaussian:3", padding="same")),
        ("backward", lambda: convcli.backward(F, H)),
    ],
)
def test_tables_show_as_the_library_draws_them(ran, tag, call):
    expected = call()
    assert result(ran[tag]) == repr(expected)
    assert result(ran[tag], "text/html") == expected._repr_html_()


@pytest.mark.slow
def test_example_2_is_the_same_both_ways(ran):
    text = result(ran["example-2"])
    assert "convolution f * h: [-3,  0,  3]" in text
    assert "correlation f \u22c6 h: [-3,  0,  3]" in text


@pytest.mark.slow
def test_the_explanation_shows_as_the_page_and_its_steps_as_numbers(ran):
    lesson = convcli.explain(F, H)
    assert result(ran["explain"]) == repr(lesson)
    assert result(ran["explain"], "text/html") == lesson._repr_html_()
    assert "<iframe" in result(ran["explain"], "text/html")
    step = lesson.convolution.step((0,))
    assert result(ran["step"]) == repr((step.values, step.weights, step.products, step.total))


@pytest.mark.slow
def test_the_cnn_layer_cells(ran):
    x = np.load(ROOT / "samples" / "rgb8x8.npy")
    w = np.load(ROOT / "samples" / "filters2x3x3x3.npy")
    assert result(ran["layer"]) == repr(convcli.layer(x, w, padding=1).shape)
    terms = convcli.layer_terms(x, w, padding=1)
    assert result(ran["layer-terms"]) == repr(terms)
    assert result(ran["layer-terms"], "text/html") == terms._repr_html_()
    assert result(ran["sobel"]) == repr("antisymmetric")
