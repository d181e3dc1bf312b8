"""``convcli layer``: a CNN layer on the command line, as a sum of per-channel
cross-correlations (small layers) or as shapes and a summary (large ones), and every
output format; ``explain --layer`` writes one output cell out as its sum.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from convcli.analysis.layer_gradients import layer_backward
from convcli.analysis.layers import layer
from tests.cli.runner import error_line, invoke, normalised, strict_json, succeed
from tests.processes import PYTHON_M, finished

#: N=1, C_in=2, L=5; C_out=2 with kernels of 2 taps; the bias.
X = np.array([[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]])
W = np.array([[[1, -1], [1, 1]], [[1, 2], [0, 1]]])
B = np.array([10, 0])
CLOSING = (
    "cross-correlation (PyTorch and TensorFlow call it convolution); the same layer as a "
    "convolution takes the flipped weights"
)


@pytest.fixture
def files(tmp_path, monkeypatch):
    """x.npy, w.npy and b.npy (the small 1-D layer) in the working folder."""
    monkeypatch.chdir(tmp_path)
    for name, values in (("x", X), ("w", W), ("b", B)):
        np.save(tmp_path / f"{name}.npy", values)
    return tmp_path


def save(folder, name: str, values: np.ndarray) -> str:
    np.save(folder / name, values)
    return str(folder / name)


def text_of(*args: str) -> str:
    """The layer command's table without its vertical rules, lines with their padding
    collapsed, as one string."""
    shown = succeed("layer", *args, "--format", "table").stdout
    return "\n".join(normalised(shown.translate({ord("│"): " ", ord("┃"): " "})))


# ------------------------------------------------------------------ small layers: the terms


def test_small_layer_shows_each_output_channel_as_its_terms(files):
    text = text_of("x.npy", "w.npy", "--bias", "b.npy")
    # output channel 0: x[0] corr [1, -1] and x[1] corr [1, 1], plus 10
    assert "output channel 0 = x[0] ⋆ w[0,0] + x[1] ⋆ w[0,1] + bias[0]" in text
    assert "index x[0] ⋆ w[0,0] x[1] ⋆ w[0,1] bias y" in text
    rows = [line for line in text.splitlines() if line.startswith(("0 ", "1 ", "2 ", "3 "))]
    assert rows[:4] == ["0 1 1 10 12", "1 -2 1 10 9", "2 -2 1 10 9", "3 1 1 10 12"]
    assert rows[4:8] == ["0 4 1 0 5", "1 7 0 0 7", "2 13 1 0 14", "3 13 0 0 13"]
    assert "w[0,0] = [1, -1]: antisymmetric kernel" in text
    assert "w[0,1] = [1, 1]: symmetric kernel" in text
    assert "w[1,0] = [1, 2]: kernel symmetry: none" in text
    assert "the terms add up to the layer's output at all 8 cells" in text
    assert text.splitlines()[-1] == CLOSING


def test_the_table_matches_the_library(files):
    expected = layer(X, W, B, padding=1, stride=2)
    shown = text_of("x.npy", "w.npy", "--bias", "b.npy", "--padding", "1", "--stride", "2")
    rows = [line.split() for line in shown.splitlines() if line[:1].isdigit()]
    assert [int(row[-1]) for row in rows] == expected[0].reshape(-1).tolist()
    terms = [[int(cell) for cell in row[1:3]] for row in rows]
    assert np.sum(terms, axis=1).tolist() == (expected[0] - B[:, None]).reshape(-1).tolist()


def test_transposed_layer_says_what_it_computes(files, tmp_path):
    wt = save(tmp_path, "wt.npy", np.array([[[1, 1]], [[1, -1]]]))  # C_in=2, C_out=1
    text = text_of("x.npy", wt, "--transposed", "--stride", "2", "--output-padding", "1")
    assert "\ntransposed convolution (PyTorch's conv_transpose): each input cell" in text
    assert text.replace("\n", " ").endswith("or a cross-correlation with the flipped weights")
    assert "the terms add up to the layer's output at all 11 cells" in text


def test_channel_names_from_a_csv_header_label_the_terms(files):
    (files / "stereo.csv").write_text("left,right\n2,0\n1,1\n3,0\n5,1\n4,0\n")
    text = text_of("stereo.csv", "w.npy")
    assert "left ⋆ w[0,0]" in text and "right ⋆ w[0,1]" in text


def test_a_bias_from_a_csv_column(files):
    (files / "b.csv").write_text("bias\n10\n0\n")
    assert text_of("x.npy", "w.npy", "--bias", "b.csv") == text_of(
        "x.npy", "w.npy", "--bias", "b.npy"
    )


def test_inline_nested_lists_are_a_layer(files):
    text = text_of("[[[2,1,3,5,4],[0,1,0,1,0]]]", "[[[1,-1],[1,1]]]", "--bias", "10")
    assert "0 1 1 10 12" in text


def test_two_dimensional_layer_shows_grids_side_by_side(files, tmp_path):
    rng = np.random.default_rng(0)
    image = save(tmp_path, "rgb.npy", rng.integers(0, 9, (3, 5, 5)))
    filters = save(tmp_path, "f.npy", rng.integers(-1, 2, (2, 3, 3, 3)))
    text = text_of(image, filters)
    assert "output channel 1 = x[0] ⋆ w[1,0] + x[1] ⋆ w[1,1] + x[2] ⋆ w[1,2]" in text
    assert text.splitlines()[-1] == CLOSING


# ------------------------------------------------------------------ large layers: a summary


def test_large_layer_prints_shapes_and_a_summary(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 40, 40))
    w = rng.standard_normal((8, 3, 3, 3))
    save(tmp_path, "x.npy", x)
    save(tmp_path, "w.npy", w)
    assert len(succeed("layer", "x.npy", "w.npy", "--format", "table").stdout) < 6000
    text = text_of("x.npy", "w.npy", "--padding", "same")
    assert "input (2, 3, 40, 40) · weights (8, 3, 3, 3) → output (2, 8, 40, 40)" in text
    assert "y[n, o] = Σ_c x[n, c] ⋆ w[o, c]" in text
    expected = layer(x, w, padding="same")
    low, high = expected[:, 7].min(), expected[:, 7].max()
    row = next(line for line in text.splitlines() if line.startswith("7 "))
    assert row.split()[1:3] == [f"{low:.6g}", f"{high:.6g}"]
    assert "-o out.npy" in text
    assert text.splitlines()[-1] == CLOSING


# ------------------------------------------------------------------ formats


def test_json_is_exact(files):
    document = strict_json(
        succeed("layer", "x.npy", "w.npy", "--bias", "b.npy", "--format", "json").stdout
    )
    assert document["output"] == layer(X, W, B).tolist()
    assert document["shape"] == [1, 2, 4]
    assert document["input_shape"] == [1, 2, 5]
    assert document["weights_shape"] == [2, 2, 2]
    assert document["options"]["groups"] == 1
    assert document["options"]["transposed"] is False


def test_csv_of_a_one_dimensional_layer_is_one_column_per_output_channel(files):
    text = succeed("layer", "x.npy", "w.npy", "--bias", "b.npy", "--format", "csv").stdout
    assert text.splitlines() == ["y0,y1", "12,5", "9,7", "9,14", "12,13"]


def test_csv_refused_for_a_two_dimensional_layer(files, tmp_path):
    image = save(tmp_path, "rgb.npy", np.ones((3, 5, 5)))
    filters = save(tmp_path, "f.npy", np.ones((2, 3, 3, 3)))
    result = invoke("layer", image, filters, "--format", "csv")
    assert result.exit_code == 1
    line = error_line(result)
    assert "(2, 3, 3)" in line and "npy" in line and "json" in line


def test_npy_to_a_file_round_trips_the_whole_tensor(tmp_path):
    rng = np.random.default_rng(2)
    x = save(tmp_path, "x.npy", rng.standard_normal((2, 4, 30, 30)))
    w = save(tmp_path, "w.npy", rng.standard_normal((6, 2, 3, 3)))
    out = tmp_path / "out.npy"
    done = finished(
        [*PYTHON_M, "layer", x, w, "--groups", "2", "--stride", "2", "-o", str(out)], text=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    expected = layer(np.load(x), np.load(w), groups=2, stride=2)
    np.testing.assert_array_equal(np.load(out), expected)


def test_npy_through_a_pipe(files):
    done = finished(
        [*PYTHON_M, "layer", "x.npy", "w.npy", "--format", "npy"], cwd=files, text=False
    )
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(np.load(io.BytesIO(done.stdout)), layer(X, W))


def test_a_pipe_gets_json_by_default(files):
    assert strict_json(succeed("layer", "x.npy", "w.npy").stdout)["output"] == layer(X, W).tolist()


def test_nhwc_layout(files, tmp_path):
    x = save(tmp_path, "xl.npy", np.moveaxis(X, 1, -1))
    w = save(tmp_path, "wl.npy", W.transpose(2, 1, 0))
    document = strict_json(succeed("layer", x, w, "--layout", "nhwc", "--format", "json").stdout)
    assert document["output"] == np.moveaxis(layer(X, W), 1, -1).tolist()


def test_a_nan_in_the_input_is_noted(files):
    nan = save(files, "nan.npy", np.array([[[2.0, np.nan, 3, 5, 4], [0, 1, 0, 1, 0]]]))
    result = succeed("layer", nan, "w.npy", "--format", "json")
    assert result.stderr == (
        "note: the input holds 1 nan/inf value(s); only the outputs whose window covers them "
        "are affected\n"
    )


def test_the_choices_are_the_library_s():
    from convcli.analysis import layers
    from convcli.cli import main

    assert main.LAYOUT_CHOICES == layers.LAYOUTS
    assert main.LAYER_CONVENTION_CHOICES == layers.LAYER_CONVENTIONS


@pytest.mark.slow
def test_layer_csv_imports_no_rich(files):
    from tests.test_startup import assert_not_imported, command_imports

    importers = command_imports(
        "layer", str(files / "x.npy"), str(files / "w.npy"), "--format", "csv"
    )
    assert "convcli.analysis.layers" in importers
    assert_not_imported(importers, ("rich", "convcli.render.tables", "convcli.render.layers"))


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("x.npy", "[[[1,1]]]"), 1, "has 2 channels but the weights (1, 1, 2) take 1"),
        (("x.npy", "w.npy", "--bias", "1,2,3"), 1, "the bias must have shape (2,)"),
        (("x.npy", "w.npy", "--groups", "2"), 1, "--groups 2"),
        (
            ("x.npy", "w.npy", "--output-padding", "1"),
            2,
            "--output-padding applies to transposed layers only (--transposed)",
        ),
        (("x.npy", "w.npy", "--layout", "nchwc"), 2, "'--layout'"),
        (("x.npy", "w.npy", "--convention", "numpy"), 2, "'--convention'"),
        (("x.npy", "w.npy", "--groups", "0"), 2, "'--groups'"),
        (("x.npy", "w.npy", "--transposed", "--output-padding", "2"), 1, "--output-padding 2"),
    ],
)
def test_errors_are_one_line(files, args, code, fragment):
    result = invoke("layer", *args)
    assert result.exit_code == code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert fragment in error_line(result)


def test_memory_is_checked_before_computing(files, monkeypatch):
    from convcli.cli import limits

    monkeypatch.setattr(limits, "available_memory", lambda: 150_000_000)
    big = save(files, "big.npy", np.zeros((1, 1, 3000, 3000), dtype=np.float32))
    one = save(files, "one.npy", np.ones((1, 1, 1, 1)))
    result = invoke("layer", big, one, "--padding", "2000")
    assert result.exit_code == 1
    assert "needs about" in error_line(result)


def test_shapes_and_memory_are_checked_from_npy_headers_before_reading(files, monkeypatch):
    """A .npy header declares the shapes: a mismatch or a layer too large is refused before
    the file's values are read (here there are none behind the header)."""
    from convcli.cli import inputs, limits
    from tests.cli.test_main import npy_header

    with open(files / "huge.npy", "wb") as sparse:
        header = npy_header((1, 3, 30000, 30000))
        sparse.write(header)
        sparse.truncate(len(header) + 8 * 3 * 30000**2)
    load_tensor = inputs.load_tensor

    def load(source: str, *args, **kwargs):
        assert source != "huge.npy", "the values of huge.npy were read"
        return load_tensor(source, *args, **kwargs)

    monkeypatch.setattr(inputs, "load_tensor", load)
    mismatch = invoke("layer", "huge.npy", "[[[[1]]]]")
    assert "has 3 channels but the weights (1, 1, 1, 1) take 1" in error_line(mismatch)
    monkeypatch.setattr(limits, "available_memory", lambda: 10**9)
    too_large = invoke("layer", "huge.npy", "[[[[1]],[[1]],[[1]]]]", "--padding", "1")
    assert "the layer's (1, 1, 30002, 30002) output needs about" in error_line(too_large)


# ------------------------------------------------------------------ explain --layer


def test_explain_writes_one_cell_as_its_sum(files):
    text = "\n".join(
        normalised(
            succeed(
                "explain", "x.npy", "w.npy", "--layer", "--bias", "b.npy", "--cell", "0,0,1"
            ).stdout
        )
    )
    assert "y[0,0,1] = bias[0] + Σ_c Σ_k x[0,c,1+k] · w[0,c,k]" in text
    assert "channel 0: 1*1 + (-1)*3 = -2" in text
    assert "channel 1: 1*1 + 1*0 = 1" in text
    assert "y[0,0,1] = 10 + (-2) + 1 = 9" in text
    assert "the layer gives 9" in text


def test_explain_a_padded_transposed_cell(files):
    wt = save(files, "wt.npy", np.array([[[1, 1]], [[1, -1]]]))
    expected = layer(X, np.load(wt), transposed=True, stride=2, padding=1)
    document = strict_json(
        succeed(
            "explain",
            "x.npy",
            wt,
            "--layer",
            "--transposed",
            "--stride",
            "2",
            "--padding",
            "1",
            "--cell",
            "0,0,3",
            "--format",
            "json",
        ).stdout
    )
    assert document["value"] == expected[0, 0, 3]
    assert document["layer_value"] == expected[0, 0, 3]


def test_explain_refuses_a_cell_outside_the_output(files):
    result = invoke("explain", "x.npy", "w.npy", "--layer", "--cell", "0,2,0")
    assert result.exit_code == 1
    assert "(1, 2, 4)" in error_line(result)


def test_layer_options_without_layer_are_a_usage_error(files):
    result = invoke("explain", "2,1,3", "1,1", "--groups", "2")
    assert result.exit_code == 2
    assert "--layer" in error_line(result)


# ------------------------------------------------------------------ backward --layer


def test_backward_of_a_layer_says_dx_is_the_transposed_layer_of_g(files):
    text = "\n".join(
        normalised(
            succeed(
                "backward",
                "x.npy",
                "w.npy",
                "--layer",
                "--bias",
                "b.npy",
                "--stride",
                "2",
                "--padding",
                "1",
                "--format",
                "table",
            ).stdout
        )
    )
    assert "dL/dx = layer(G, w, transposed=True, stride=2, padding=1, output_padding=1)" in text
    assert (
        "dL/dx is the transposed convolution of G with the weights; checked that it is "
        "layer(G, w, transposed=True, stride=2, padding=1, output_padding=1): equal"
    ) in text
    assert "check against the operator matrix (18 gradient cells): largest difference 0" in text
    assert "dL/db (2)\n[3, 3]" in text


def test_backward_of_a_layer_as_json_is_the_library_s(files):
    grad = "[[[1,0,2],[0,-1,1]]]"
    document = strict_json(
        succeed(
            "backward",
            "x.npy",
            "w.npy",
            "--layer",
            "--stride",
            "2",
            "--padding",
            "1",
            "--grad",
            grad,
            "--format",
            "json",
        ).stdout
    )
    expected = layer_backward(X, W, [[[1, 0, 2], [0, -1, 1]]], stride=2, padding=1)
    assert document["grad_input"] == expected.grad_input.tolist()
    assert document["grad_weight"] == expected.grad_weight.tolist()
    assert document["grad_bias"] == expected.grad_bias.tolist()
    assert document["check"]["transpose_agrees"] is True
    assert document["check"]["largest_difference"] == 0


def test_backward_of_a_transposed_layer(files):
    wt = save(files, "wt.npy", np.array([[[1, 1]], [[1, -1]]]))
    text = "\n".join(
        normalised(
            succeed("backward", "x.npy", wt, "--layer", "--transposed", "--stride", "2").stdout
        )
    )
    assert "dL/dx is the forward layer of G with the same weights" in text
    assert "dL/dx = layer(G, w, stride=2)" in text


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--layer", "--forward", "conv"), "--forward does not go with --layer"),
        (("--groups", "2"), "--groups is an option of a layer: add --layer"),
    ],
)
def test_backward_refuses_options_of_the_other_kind(files, args, fragment):
    result = invoke("backward", "x.npy", "w.npy", *args)
    assert result.exit_code == 2
    assert fragment in error_line(result)


def test_a_complex_kernel_is_judged_as_the_layer_multiplies_it(files):
    """A layer does not conjugate: [1j, 1j] equals its flip, so the layer is the same as its
    convolution twin, whatever compare says of the kernel (which conjugates)."""
    text = text_of("[[1,2,3]]", "[[[1j,1j]]]")
    assert "w[0,0] = [0+1j, 0+1j]: symmetric kernel" in text


def test_o_with_a_csv_extension_writes_csv(files):
    succeed("layer", "x.npy", "w.npy", "-o", "y.csv")
    assert (files / "y.csv").read_text().splitlines()[0] == "y0,y1"


def test_channels_last_takes_a_csv_as_length_by_channels(files):
    (files / "stereo.csv").write_text("left,right\n2,0\n1,1\n3,0\n5,1\n4,0\n")
    save(files, "w_last.npy", np.transpose(W, (2, 1, 0)))  # (k, C_in, C_out)
    got = strict_json(succeed("layer", "stereo.csv", "w_last.npy", "--layout", "nhwc").stdout)
    expected = np.moveaxis(layer(X[0], W), 0, -1)
    assert got["output"] == expected.tolist()


def test_a_kernel_longer_than_the_input_names_both_shapes(files):
    save(files, "long.npy", np.ones((2, 2, 7)))
    line = error_line(invoke("layer", "x.npy", "long.npy"))
    assert "(1, 2, 5)" in line and "(2, 2, 7)" in line and "--padding same" in line


def test_a_batch_names_each_sample_s_channels(files):
    text = text_of("[[[1,2,3]],[[4,5,6]]]", "[[[1,1]]]")
    assert "sample 0 · output channel 0 = x[0,0] ⋆ w[0,0]" in text
    assert "sample 1 · output channel 0 = x[1,0] ⋆ w[0,0]" in text


def test_explain_in_channels_last_layout_says_its_indices_are_channels_first():
    result = succeed(
        "explain",
        "[[[1,2],[3,4],[5,6]]]",
        "[[[1],[1]],[[1],[0]]]",
        "--layer",
        "--layout",
        "nhwc",
        "--cell",
        "0,0,0",
        "--format",
        "text",
    )
    text = " ".join(result.stdout.split())
    assert "y[0,0,0] = 4 + 2 = 6" in text
    assert "x[n,c,i] is the nhwc input's [n,i,c], and w[a,b,k] the filter's [k,b,a]" in text


def test_compare_on_layer_shapes_points_at_the_layer_command(files):
    """The issue's first try: compare with a (2, 3, 8, 8) input and (4, 3, 3, 3) weights."""
    save(files, "x4.npy", np.ones((2, 3, 8, 8)))
    save(files, "w4.npy", np.ones((4, 3, 3, 3)))
    result = invoke("compare", "x4.npy", "w4.npy")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("note: shapes (2, 3, 8, 8) and (4, 3, 3, 3) look like a CNN layer")
    assert "`convcli layer` sums over the channels" in lines[0]
    assert lines[-1].startswith("Error: the kernel spans 4 cells on axis 0")
    # where the shapes fit, the note comes with the result
    save(files, "w2.npy", np.ones((1, 3, 3, 3)))
    assert "look like a CNN layer" in succeed("conv", "x4.npy", "w2.npy").stderr
