"""Tests for convcli.cli.outputs in-process: choose_format, write_text (atomic, with the umask's
mode), overwritten_input and output_sink (-o files and standard output)."""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

import pytest

from convcli.cli import outputs
from convcli.errors import InputError, OutputError

# --------------------------------------------------------------------------- choose_format


@pytest.mark.parametrize(
    ("requested", "output", "interactive", "expected"),
    [
        ("csv", "out.json", True, "csv"),
        ("json", None, True, "json"),
        ("table", "out.csv", False, "table"),
        ("auto", "out.json", False, "json"),
        ("auto", "OUT.JSON", True, "json"),
        ("auto", "out.csv", True, "csv"),
        ("auto", "out.txt", True, "csv"),
        ("auto", None, True, "table"),
        ("auto", None, False, "csv"),
    ],
)
def test_choose_format(requested, output, interactive, expected):
    assert outputs.choose_format(requested, output, interactive) == expected


@pytest.mark.parametrize(("tty", "expected"), [(True, "table"), (False, "csv")])
def test_choose_format_asks_stdout_when_not_told(monkeypatch, tty, expected):
    monkeypatch.setattr(outputs.sys.stdout, "isatty", lambda: tty)
    assert outputs.choose_format("auto", None) == expected
    assert outputs.choose_format("auto", "x.json") == "json"


@pytest.mark.parametrize(
    ("output", "expected"),
    [("out.json", "json"), ("edges.PNG", "png"), ("out.csv", "csv"), ("out.txt", "csv")],
)
def test_auto_format_follows_the_output_extension(output, expected):
    assert outputs.choose_format("auto", output, interactive=True) == expected
    assert expected in outputs.FORMATS


@pytest.mark.parametrize(
    ("requested", "output", "interactive", "expected"),
    [
        ("auto", "out.npy", True, "npy"),
        ("auto", "OUT.NPY", False, "npy"),
        ("npy", None, False, "npy"),
        ("npy", "x.csv", True, "npy"),
    ],
)
def test_choose_format_npy(requested, output, interactive, expected):
    assert outputs.choose_format(requested, output, interactive) == expected


def test_npy_is_refused_on_a_terminal():
    with pytest.raises(InputError, match=r"binary.*-o FILE\.npy"):
        outputs.choose_format("npy", None, interactive=True)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("steps.md", "markdown"),
        ("Steps.MARKDOWN", "markdown"),
        ("steps.tex", "latex"),
        ("slide.gif", "gif"),
        ("slide.mp4", "mp4"),
    ],
)
def test_the_slides_extensions_choose_their_formats(output, expected):
    assert outputs.choose_format("auto", output, interactive=True, plain="text") == expected


def test_gif_is_refused_on_a_terminal():
    with pytest.raises(InputError, match=r"^GIF is binary data.*-o FILE\.gif"):
        outputs.choose_format("gif", None, interactive=True)
    assert outputs.choose_format("gif", None, interactive=False) == "gif"


# --------------------------------------------------------------------------- write_text


@pytest.mark.parametrize("output", [None, "-"])
def test_write_text_to_stdout(capsys, output):
    outputs.write_text("index,value\n0,1\n", output)
    assert capsys.readouterr().out == "index,value\n0,1\n"


def test_write_text_to_a_file(tmp_path):
    target = tmp_path / "out.csv"
    outputs.write_text("a\r\nb\n1\n", str(target))
    assert target.read_bytes() == b"a\r\nb\n1\n"  # exactly the text, no newline translation
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_write_text_replaces_an_existing_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old old old old\n")
    outputs.write_text("new\n", str(target))
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_write_text_relative_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outputs.write_text("1\n", "rel.csv")
    assert (tmp_path / "rel.csv").read_text() == "1\n"


def test_write_text_unicode(tmp_path):
    target = tmp_path / "u.json"
    outputs.write_text('{"name": "café ✓"}\n', str(target))
    assert target.read_bytes() == '{"name": "café ✓"}\n'.encode()


@pytest.mark.parametrize("existing", [False, True])
def test_write_text_failure_mid_write_leaves_nothing(tmp_path, monkeypatch, existing):
    target = tmp_path / "out.csv"
    if existing:
        target.write_text("precious\n")
    real_write = os.write

    def half_write(descriptor, data):
        real_write(descriptor, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_write)
    with pytest.raises(OutputError, match=r"^no space left on device writing .*out\.csv$"):
        outputs.write_text("1,2,3\n" * 1000, str(target))
    monkeypatch.undo()
    remaining = sorted(p.name for p in tmp_path.iterdir())
    if existing:
        assert remaining == ["out.csv"]
        assert target.read_text() == "precious\n"
    else:
        assert remaining == []


def test_write_text_unencodable_text_leaves_nothing(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    with pytest.raises(UnicodeEncodeError):
        outputs.write_text("1\n2\n\ud800\n", str(target))
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (OSError(errno.EXDEV, "cross-device link"), OutputError),
        (KeyboardInterrupt(), KeyboardInterrupt),
    ],
)
def test_write_text_failed_rename_leaves_nothing(tmp_path, monkeypatch, error, raised):
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    sources = []

    def failing_replace(source, destination):
        sources.append(Path(source))
        raise error

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(raised):
        outputs.write_text("new\n", str(target))
    # the temporary file was next to the target (so the rename is atomic) and is gone
    assert len(sources) == 1
    assert sources[0].parent == tmp_path
    assert sources[0] != target
    assert not sources[0].exists()
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_write_text_mode_follows_umask(tmp_path, umask, mode):
    target = tmp_path / "out.csv"
    previous = os.umask(umask)
    try:
        outputs.write_text("1\n", str(target))
        assert os.umask(umask) == umask  # write_text restored the umask it read
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_write_text_to_a_directory(tmp_path):
    with pytest.raises(OutputError, match="is a directory") as caught:
        outputs.write_text("1\n", str(tmp_path))
    assert str(tmp_path) in str(caught.value)


def test_write_text_missing_parent_directory(tmp_path):
    target = tmp_path / "no" / "such" / "out.csv"
    with pytest.raises(OutputError, match="cannot write to") as caught:
        outputs.write_text("1\n", str(target))
    assert str(target) in str(caught.value)
    assert not target.parent.exists()


def test_output_through_a_symlink_replaces_its_target(tmp_path):
    target = tmp_path / "data.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target.name)
    outputs.write_text("new\n", str(link))
    assert link.is_symlink()
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "link.csv"]


def test_overwritten_input(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("1\n2\n")
    (tmp_path / "link.csv").symlink_to("data.csv")
    os.link(data, tmp_path / "hard.csv")
    other = tmp_path / "other.csv"
    other.write_text("1\n")
    sources = {"signal": "1,2,3", "kernel": f"{data}:1"}
    for output in ("data.csv", "link.csv", "hard.csv", "./sub/../data.csv"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        assert outputs.overwritten_input(str(tmp_path / output), sources) == "kernel"
    assert outputs.overwritten_input(str(other), sources) is None
    assert outputs.overwritten_input(str(tmp_path / "new.csv"), sources) is None
    assert outputs.overwritten_input(None, sources) is None
    assert outputs.overwritten_input("-", {"signal": "-"}) is None


# --------------------------------------------------------------------------- output_sink


def test_output_sink_file_appears_only_when_complete(tmp_path):
    target = tmp_path / "out.csv"
    with outputs.output_sink(str(target)) as write_piece:
        write_piece("1\n")
        assert not target.exists()  # still a temporary file
        write_piece(b"2\n")
    assert target.read_bytes() == b"1\n2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_output_sink_error_leaves_nothing(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    with (
        pytest.raises(InputError, match="bad block"),
        outputs.output_sink(str(target)) as write_piece,
    ):
        write_piece("1\n")
        raise InputError("bad block")
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_output_sink_stdout(capsysbinary):
    with outputs.output_sink(None) as write_piece:
        write_piece("a\n")
        write_piece(b"\x93NUMPY")
        write_piece("b\n")
    assert capsysbinary.readouterr().out == b"a\n\x93NUMPYb\n"


class ClosedPipe(io.StringIO):
    """Standard output whose reader has gone."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_output_sink_reader_gone_ends_quietly(monkeypatch):
    discarded = []
    monkeypatch.setattr(outputs.sys, "stdout", ClosedPipe())
    monkeypatch.setattr(outputs, "discard_stdout", lambda: discarded.append(True))
    written = []
    with outputs.output_sink(None) as write_piece:
        for piece in ("1\n", "2\n"):
            write_piece(piece)
            written.append(piece)
    assert written == [] and discarded == [True]


def test_output_sink_other_broken_pipes_are_not_swallowed(capsys):
    with pytest.raises(BrokenPipeError), outputs.output_sink(None):
        raise BrokenPipeError("not ours")
