"""Tests for convcli.cli.inputs: resolving SIGNAL/KERNEL sources (files, FILE:COLUMN, '-', inline
text), read errors, --stream's blocks and the read-ahead thread."""

from __future__ import annotations

import errno
import io
import os
import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli.cli import inputs
from convcli.errors import ConvcliError, InputError
from convcli.formats import serialise
from tests.cli.runner import succeed
from tests.examples import assert_identical, big_floats, write


class TTYStream(io.BytesIO):
    """A binary stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


# --------------------------------------------------------------------------- sources


def test_file_wins_over_inline_numbers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "1,2", "7\n8\n9\n")
    assert_identical(inputs.read_array("1,2"), np.array([7, 8, 9], dtype=np.int64))


def test_inline_that_looks_like_a_path_is_a_missing_file():
    with pytest.raises(InputError, match=r"no such file: data\.csv") as caught:
        inputs.read_array("data.csv", role="signal")
    assert "signal" in str(caught.value)


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="no such file") as caught:
        inputs.read_array(path)
    assert path in str(caught.value)


def test_missing_file_with_column(tmp_path):
    path = str(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="no such file") as caught:
        inputs.read_array(f"{path}:value")
    assert "nope.csv" in str(caught.value)


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory") as caught:
        inputs.read_array(str(tmp_path))
    assert str(tmp_path) in str(caught.value)


@pytest.mark.parametrize(
    ("source", "expected"),
    [("-", True), ("-:2", True), ("-:y", True), ("-1,1", False), ("1,2", False)],
)
def test_uses_stdin(source, expected):
    assert inputs.uses_stdin(source) is expected


def test_check_kernel_accepts_a_name_that_fits_some_signal():
    """box:100000 is too large for a 2-D signal but a fine 1-D kernel: checked before the
    signal is read, it must not be refused as if the signal were 2-D."""
    assert inputs.check_kernel("box:100000") is None
    assert inputs.check_kernel("sobel-x") is None  # a 2-D kernel only
    with pytest.raises(ConvcliError, match="too large"):
        inputs.check_kernel("box:100000000")


# --------------------------------------------------------------------------- FILE:COLUMN


@pytest.fixture
def table_csv(tmp_path):
    return write(tmp_path, "t.csv", "time,Value,other\n0,10,-1\n1,20,-2\n2,30,-3\n")


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("Value", [10, 20, 30]),
        ("value", [10, 20, 30]),
        ("VALUE", [10, 20, 30]),
        ("time", [0, 1, 2]),
        ("1", [0, 1, 2]),
        ("2", [10, 20, 30]),
        ("3", [-1, -2, -3]),
    ],
)
def test_column_by_name_or_index(table_csv, column, expected):
    actual = inputs.read_array(f"{table_csv}:{column}")
    assert_identical(actual, np.array(expected, dtype=np.int64))


def test_exact_column_name_wins_over_case_insensitive(tmp_path):
    path = write(tmp_path, "f.csv", "a,A\n1,2\n3,4\n")
    assert_identical(inputs.read_array(f"{path}:A"), np.array([2, 4], dtype=np.int64))
    assert_identical(inputs.read_array(f"{path}:a"), np.array([1, 3], dtype=np.int64))


def test_column_by_index_without_header(tmp_path):
    path = write(tmp_path, "f.csv", "1,2\n3,4\n5,6\n")
    assert_identical(inputs.read_array(f"{path}:2"), np.array([2, 4, 6], dtype=np.int64))


def test_column_of_mixed_file_keeps_that_columns_dtype(tmp_path):
    path = write(tmp_path, "f.csv", "n,x\n1,0.5\n2,1.5\n")
    assert_identical(inputs.read_array(f"{path}:n"), np.array([1, 2], dtype=np.int64))
    assert_identical(inputs.read_array(f"{path}:x"), np.array([0.5, 1.5]))


def test_unknown_column_lists_the_columns(table_csv):
    with pytest.raises(InputError) as caught:
        inputs.read_array(f"{table_csv}:speed")
    message = str(caught.value)
    assert "'speed'" in message
    assert "time, Value, other" in message


@pytest.mark.parametrize("column", ["0", "3", "x"])
def test_unknown_column_without_header_gives_the_width(tmp_path, column):
    path = write(tmp_path, "f.csv", "1,2\n3,4\n")
    with pytest.raises(InputError, match="it has 2") as caught:
        inputs.read_array(f"{path}:{column}")
    assert f"no column {column!r}" in str(caught.value)


# --------------------------------------------------------------------------- standard input


def test_stdin():
    stream = io.BytesIO(b"2\n1\n3\n5\n4\n")
    assert_identical(
        inputs.read_array("-", stdin=stream), np.array([2, 1, 3, 5, 4], dtype=np.int64)
    )


def test_stdin_2d_crlf_and_bom():
    stream = io.BytesIO(b"\xef\xbb\xbf1,2\r\n3,4\r\n")
    assert_identical(
        inputs.read_array("-", stdin=stream), np.array([[1, 2], [3, 4]], dtype=np.int64)
    )


def test_stdin_column():
    stream = io.BytesIO(b"t,y\n0,1.5\n1,2.5\n")
    assert_identical(inputs.read_array("-:y", stdin=stream), np.array([1.5, 2.5]))


def test_stdin_with_delimiter():
    stream = io.BytesIO(b"1\t2\n3\t4\n")
    actual = inputs.read_array("-", delimiter="\t", stdin=stream)
    assert_identical(actual, np.array([[1, 2], [3, 4]], dtype=np.int64))


def test_stdin_terminal_is_refused():
    with pytest.raises(InputError, match="terminal") as caught:
        inputs.read_array("-", role="kernel", stdin=TTYStream(b"1,2\n"))
    assert "kernel" in str(caught.value)


def test_empty_stdin():
    with pytest.raises(InputError, match="standard input has no numbers"):
        inputs.read_array("-", stdin=io.BytesIO(b""))


def test_bad_cell_on_stdin_names_standard_input():
    with pytest.raises(InputError, match=r"^standard input, line 2, column 1: 'x'"):
        inputs.read_array("-", stdin=io.BytesIO(b"1\nx\n"))


# --------------------------------------------------------------------------- read errors


@pytest.mark.skipif(os.name != "posix", reason="needs a Unix socket")
def test_unopenable_file_is_a_clean_error(tmp_path):
    """A file that exists but cannot be opened (a Unix socket: this fails even as root)."""
    import socket

    path = tmp_path / "s.csv"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(InputError, match=r"^cannot read .*s\.csv: ") as caught:
            inputs.read_array(str(path))
    finally:
        server.close()
    assert "\n" not in str(caught.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_a_clean_error(tmp_path):
    path = tmp_path / "secret.csv"
    path.write_text("1\n2\n")
    path.chmod(0)
    with pytest.raises(InputError, match=r"cannot read .*secret\.csv: Permission denied"):
        inputs.read_array(str(path))


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux /proc")
def test_read_error_after_opening_is_a_clean_error():
    """/proc/self/mem opens but fails to read at offset 0 (an I/O error), even for root."""
    with pytest.raises(InputError, match=r"^cannot read /proc/self/mem: "):
        inputs.read_array("/proc/self/mem")


def test_read_error_on_stdin_is_a_clean_error():
    class Failing(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(InputError, match=r"^cannot read standard input: Input/output error$"):
        inputs.read_array("-", stdin=Failing())


# --------------------------------------------------------------------------- stream blocks


def blocks_of(source: str, block_size: int, stdin: io.BytesIO | None = None) -> list:
    return list(inputs.iter_signal_blocks(source, block_size, stdin=stdin))


@pytest.mark.slow
@given(
    st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=300)
    | st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=300),
    st.integers(1, 50),
    st.sampled_from(["", "value\n", "# note\n\nvalue\n", "\ufeffv\r\n"]),
)
def test_stream_blocks_joined_are_read_array(values, block_size, head):
    text = (head + "".join(f"{serialise.format_number(v)}\n" for v in values)).encode()
    blocks = blocks_of("-", block_size, io.BytesIO(text))
    joined = np.concatenate([block for block, _ in blocks])
    assert_identical(joined, inputs.read_array("-", stdin=io.BytesIO(text)))
    read = [count for _, count in blocks]
    assert read == sorted(read)
    assert read[-1] == len(text)
    assert len({block.dtype for block, _ in blocks}) == 1


@pytest.mark.slow
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=30))
def test_fuzz_stream_blocks_agree_with_the_whole_file(tmp_path_factory, values):
    """Written floats read back in blocks: the blocks joined are read_array's array."""
    path = write(tmp_path_factory.mktemp("blocks"), "f.csv", serialise.result_csv(np.array(values)))
    blocks = [block for block, _ in inputs.iter_signal_blocks(path, 4)]
    assert_identical(np.concatenate(blocks), inputs.read_array(path))


def test_stream_block_sizes_are_about_the_size_asked(tmp_path):
    path = write(tmp_path, "f.csv", "".join(f"{v!r}\n" for v in big_floats(8, 20_000).tolist()))
    sizes = [len(block) for block, _ in blocks_of(path, 1000)]
    assert sum(sizes) == 20_000
    assert all(250 <= size <= 4000 for size in sizes[:-1])


def test_stream_a_column_by_name(tmp_path):
    path = write(tmp_path, "t.csv", "t,y\n" + "".join(f"{i},{i / 4}\n" for i in range(1000)))
    joined = np.concatenate([block for block, _ in blocks_of(f"{path}:y", 64)])
    assert_identical(joined, np.arange(1000) / 4)


def test_decimal_comma_stream_blocks(tmp_path):
    path = write(tmp_path, "eu.csv", "value\n" + "".join(f"{i},5\n" for i in range(100)))
    blocks = [block for block, _ in inputs.iter_signal_blocks(path, 8, ";", decimal=",")]
    assert_identical(np.concatenate(blocks), np.arange(100) + 0.5)


def test_stream_decimals_after_integers_refused_with_the_line(tmp_path):
    path = write(tmp_path, "f.csv", "v\n" + "1\n" * 5000 + "2.5\n")
    stream = inputs.iter_signal_blocks(path, 100)
    first, _ = next(stream)
    assert first.dtype == np.int64
    with pytest.raises(InputError, match=r"f\.csv, line 5002: 2\.5 is a decimal.*integers"):
        list(stream)


def test_stream_integers_after_decimals_become_floats():
    text = b"0.5\n" + b"7\n" * 3000
    blocks = blocks_of("-", 10, io.BytesIO(text))
    assert {block.dtype for block, _ in blocks} == {np.dtype(np.float64)}
    assert_identical(np.concatenate([b for b, _ in blocks]), np.array([0.5] + [7.0] * 3000))


@pytest.mark.slow
def test_stream_refuses_tables_and_keeps_error_lines():
    with pytest.raises(InputError, match=r"2 columns.*FILE:COLUMN"):
        blocks_of("-", 10, io.BytesIO(b"1,2\n3,4\n"))
    with pytest.raises(InputError, match=r"line 3001, column 1: 'x' is not a number"):
        blocks_of("-", 10, io.BytesIO(b"1\n" * 3000 + b"x\n"))


def test_stream_npy_through_a_memory_map(tmp_path):
    path = tmp_path / "s.npy"
    np.save(path, np.arange(1000, dtype=np.int16))
    blocks = blocks_of(str(path), 300)
    assert [len(block) for block, _ in blocks] == [300, 300, 300, 100]
    assert_identical(np.concatenate([b for b, _ in blocks]), np.arange(1000))
    assert blocks[-1][1] == path.stat().st_size
    np.save(path, np.zeros((2, 2)))
    with pytest.raises(InputError, match="2-D; --stream reads a 1-D signal"):
        blocks_of(str(path), 10)


def test_stream_inline_numbers_are_one_block():
    assert [block.tolist() for block, _ in blocks_of("1,2,3", 2)] == [[1, 2, 3]]


# --------------------------------------------------------------------------- tensors


@pytest.mark.parametrize(
    ("source", "shape"),
    [
        ("[[[1,2,3],[0,1,0]]]", (1, 2, 3)),
        ("[[[[1]], [[2]]]]", (1, 2, 1, 1)),
        ("[[[[[0.5]]]]]", (1, 1, 1, 1, 1)),
        ("[[1,2],[3,4]]", (2, 2)),
        ("1,2,3", (3,)),
    ],
)
def test_inline_arrays_of_any_depth(source, shape):
    """Nested lists give an array of their depth, for every command (read_array) and for
    layers (load_tensor, which names no channels for typed numbers)."""
    assert inputs.read_array(source).shape == shape
    values, names = inputs.load_tensor(source)
    assert_identical(values, inputs.read_array(source))
    assert names is None


@pytest.mark.parametrize(
    "command", ["conv", "corr", "compare", "explain", "backward", "conventions"]
)
def test_every_command_takes_a_3d_inline_array_as_it_takes_the_npy_file(tmp_path, command):
    signal, kernel = "[[[1,2,3],[0,1,0]],[[4,5,6],[1,1,1]]]", "[[[1,-1]]]"
    np.save(tmp_path / "s.npy", inputs.read_array(signal))
    np.save(tmp_path / "k.npy", inputs.read_array(kernel))
    typed = succeed(command, signal, kernel, "--format", "json").stdout
    from_files = succeed(
        command, str(tmp_path / "s.npy"), str(tmp_path / "k.npy"), "--format", "json"
    )
    assert typed == from_files.stdout


@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.int16).reshape(2, 3, 2, 2),
        np.linspace(-1, 1, 32).reshape(1, 2, 2, 2, 2, 2),
        np.array([[[1 + 2j]]]),
        np.full((2, 1, 3), 2.5, dtype=np.float32),
    ],
)
def test_npy_tensors_of_any_shape_from_a_file_and_from_standard_input(tmp_path, array):
    path = tmp_path / "t.npy"
    np.save(path, array)
    expected = inputs.read_array(str(path))
    assert expected.shape == array.shape
    for source, stdin in ((str(path), None), ("-", io.BytesIO(path.read_bytes()))):
        values, names = inputs.load_tensor(source, "weights", stdin=stdin)
        assert_identical(values, expected)
        assert names is None


@pytest.fixture
def channels_csv(tmp_path):
    return write(tmp_path, "two.csv", "left,right\n1,10\n2,20\n3,30\n")


def test_csv_tensor_is_one_channel_per_column(channels_csv):
    """(C, L), channels first as PyTorch's (C_in, L), named by the header: the transpose of
    the table read_array gives."""
    values, names = inputs.load_tensor(channels_csv)
    assert_identical(values, np.array([[1, 2, 3], [10, 20, 30]]))
    assert names == ["left", "right"]
    assert_identical(values, inputs.read_array(channels_csv).T)


def test_csv_tensor_without_a_header_names_channels_by_index(tmp_path):
    path = write(tmp_path, "f.csv", "1,10,100\n2,20,200\n")
    values, names = inputs.load_tensor(path)
    assert_identical(values, np.array([[1, 2], [10, 20], [100, 200]]))
    assert names == ["c0", "c1", "c2"]
    values, names = inputs.load_tensor(write(tmp_path, "g.csv", "1,2,3\n"))
    assert values.shape == (3, 1) and names == ["c0", "c1", "c2"]


@pytest.mark.parametrize(
    ("column", "name"), [("right", "right"), ("RIGHT", "right"), ("2", "right")]
)
def test_csv_tensor_column_is_one_channel(channels_csv, column, name):
    values, names = inputs.load_tensor(f"{channels_csv}:{column}")
    assert_identical(values, np.array([[10, 20, 30]]))
    assert names == [name]
    with pytest.raises(InputError, match="no column 'up'"):
        inputs.load_tensor(f"{channels_csv}:up")


def test_csv_tensor_from_standard_input_with_bom_crlf_comments_and_blank_lines():
    data = b"\xef\xbb\xbf# two channels\r\na;b\r\n\r\n0,5;1\r\n# more\r\n2;-1,5\r\n"
    values, names = inputs.load_tensor("-", delimiter=";", decimal=",", stdin=io.BytesIO(data))
    assert_identical(values, np.array([[0.5, 2.0], [1.0, -1.5]]))
    assert names == ["a", "b"]
    values, names = inputs.load_tensor("-:b", delimiter=";", decimal=",", stdin=io.BytesIO(data))
    assert_identical(values, np.array([[1.0, -1.5]]))
    assert names == ["b"]


def test_csv_tensor_read_in_pieces_is_the_same(tmp_path, monkeypatch):
    rows = np.arange(600).reshape(200, 3)
    text = "x,y,z\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows.tolist())
    path = write(tmp_path, "long.csv", text)
    whole = inputs.load_tensor(path)
    monkeypatch.setattr(inputs, "_CHUNK", 7)
    values, names = inputs.load_tensor(path)
    assert_identical(values, rows.T)
    assert_identical(whole[0], values)
    assert names == whole[1] == ["x", "y", "z"]


def test_csv_tensor_errors_are_the_readers(tmp_path):
    with pytest.raises(InputError, match=r"r\.csv, line 3 has 1 value\(s\) but line 2 has 2"):
        inputs.load_tensor(write(tmp_path, "r.csv", "a,b\n1,2\n3\n"))
    with pytest.raises(InputError, match="terminal"):
        inputs.load_tensor("-", "weights", stdin=TTYStream(b"1,2\n"))
    with pytest.raises(InputError, match=r"no such file: w\.csv"):
        inputs.load_tensor("w.csv", "weights")


def test_tensor_larger_than_the_memory_is_refused_while_read(channels_csv, monkeypatch):
    from convcli.cli import limits

    monkeypatch.setattr(limits, "_ALWAYS_FITS", 0)
    monkeypatch.setattr(limits, "available_memory", lambda: 1000)
    with pytest.raises(inputs.InputTooLarge, match=r"^the weights \(.*two\.csv\) is larger"):
        inputs.load_tensor(channels_csv, "weights")


# --------------------------------------------------------------------------- read_ahead


@pytest.mark.slow
@given(st.lists(st.integers(), max_size=50), st.integers(1, 4))
def test_read_ahead_gives_every_item_in_order(items, depth):
    assert list(inputs.read_ahead(iter(items), depth)) == items


def test_read_ahead_raises_an_error_where_its_item_would_have_come():
    def blocks():
        yield 1
        yield 2
        raise InputError("line 3: bad cell")

    seen = []
    with pytest.raises(InputError, match="line 3"):
        for item in inputs.read_ahead(blocks()):
            seen.append(item)
    assert seen == [1, 2]


def test_background_reader_alive_while_a_read_ahead_thread_is_blocked():
    """As on a standard input whose writer has gone quiet: the thread is alive until
    its read returns, and the command line must then end the process by exit_now."""
    released = threading.Event()

    def blocks():
        yield 1
        released.wait(10)
        yield 2

    ahead = inputs.read_ahead(blocks())
    assert next(ahead) == 1
    time.sleep(0.05)  # the thread is now waiting in blocks()
    assert inputs.background_reader_alive()
    ahead.close()
    released.set()
    deadline = time.monotonic() + 10
    while inputs.background_reader_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not inputs.background_reader_alive()


@pytest.mark.slow
def test_read_ahead_stops_reading_when_the_caller_stops():
    pulled = []

    def blocks():
        for number in range(1000):
            pulled.append(number)
            yield number

    ahead = inputs.read_ahead(blocks(), depth=2)
    assert next(ahead) == 0
    ahead.close()  # as a consumer does when its pipe closes or it fails
    time.sleep(0.3)  # the thread notices within its 0.1 s wait to hand an item over
    settled = len(pulled)
    time.sleep(0.3)
    assert len(pulled) == settled <= 5  # one handed over, two queued, one waiting, no more
