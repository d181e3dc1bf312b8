"""Where ``-o`` writes, in real processes: devices, FIFOs, descriptors, file modes, owners,
hard links, full disks and signals.

The rule under test (docs/commands.md, "Where -o writes"): a regular file is replaced
atomically by a complete copy with its mode and owner; anything else, and a file that cannot
be replaced that way, is written in place as the shell's ``>`` would; what ``>`` would
refuse is refused. Root ignores file modes, so cases about permissions run the command
as root without the capabilities that override them (setpriv); they are skipped elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import convcli
from convcli.formats.serialise import result_csv
from tests.processes import PYTHON_M as CONVCLI
from tests.processes import ROOT, TIMEOUT, environment, finished

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX files and signals")

NOBODY = 65534
#: conv 1,2,3 1,1 and the CSV it writes, from the library and its writer.
SMALL = ["conv", "1,2,3", "1,1"]
SMALL_CSV = result_csv(convcli.convolve([1, 2, 3], [1, 1]))


def run(*args: str, limited: bool = False, **options) -> subprocess.CompletedProcess:
    """``python -m convcli ARGS`` to completion, ``limited`` to file modes if asked."""
    return finished([*(LIMITED if limited else []), *CONVCLI, *args], **options)


needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="needs root to create device nodes and change owners",
)
#: Root without the capabilities that override file modes: bound by them as any user is.
LIMITED = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
needs_limits = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="runs as root limited by setpriv, which root ignoring file modes needs",
)


def owned_by_nobody(path: Path, text: str, mode: int) -> Path:
    path.write_text(text)
    os.chown(path, NOBODY, NOBODY)
    path.chmod(mode)
    return path


def device(directory: Path, name: str, minor: int) -> Path:
    """A copy of the memory device ``1:minor`` (3 null, 7 full) in ``directory``, so the
    system's own nodes are never at stake."""
    path = directory / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("creating device nodes is not permitted here")
    return path


# --------------------------------------------------------------------------- not regular files


@pytest.mark.slow
@needs_root
def test_a_character_device_is_written_into_never_replaced(tmp_path):
    null = device(tmp_path, "null", 3)
    result = run(*SMALL, "-o", str(null))
    assert (result.returncode, result.stderr) == (0, "")
    assert stat.S_ISCHR(null.stat().st_mode)
    assert sorted(os.listdir(tmp_path)) == ["null"]


@pytest.mark.slow
def test_a_fifo_is_written_into_never_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run(*SMALL, "-o", str(fifo))
    if result.returncode != 0:  # the reader is still waiting for a writer: release it
        with contextlib.suppress(OSError), open(fifo, "wb"):
            pass
    reader.join(TIMEOUT)
    assert (result.returncode, result.stderr) == (0, "")
    assert received == [SMALL_CSV.encode()]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(os.listdir(tmp_path)) == ["fifo"]


@pytest.mark.slow
def test_a_socket_is_refused_as_the_shell_refuses_it_never_replaced(tmp_path):
    path = tmp_path / "socket"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        shell = subprocess.run(
            ["sh", "-c", "echo x > socket"], cwd=tmp_path, capture_output=True, check=False
        )
        result = run(*SMALL, "-o", str(path))
    assert shell.returncode != 0  # the reference: > cannot open a socket either
    assert result.returncode == 1
    assert result.stderr == f"Error: cannot write to {path}: No such device or address\n"
    assert stat.S_ISSOCK(path.stat().st_mode)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "descriptor"),
    [("/dev/stdout", 1), ("/dev/stderr", 2), ("/dev/fd/3", 3), ("/proc/self/fd/3", 3)],
)
def test_a_descriptor_path_writes_where_the_shell_opened_it(tmp_path, path, descriptor):
    """Inside ``{ ...; } N> log``, ``-o /dev/stdout`` (or /dev/fd/N) writes on at the
    log's offset, after what came before it, as ``echo`` into the same path would."""
    if not os.path.exists(path.replace("3", "0")):
        pytest.skip(f"{path} does not exist here")
    log = tmp_path / "log"
    command = shlex.join([*CONVCLI, *SMALL, "-o", path])
    script = (
        f"{{ echo first >&{descriptor}; {command}; echo last >&{descriptor}; }} {descriptor}>log"
    )
    result = finished(["bash", "-c", script], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert log.read_text() == f"first\n{SMALL_CSV}last\n"
    assert sorted(os.listdir(tmp_path)) == ["log"]


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/dev/stdout", "fifo"])
def test_a_reader_gone_from_a_pipe_named_by_o_ends_quietly(tmp_path, path):
    """``-o /dev/stdout`` or ``-o FIFO`` whose reader has gone ends as ``| head`` does:
    exit 0, no message (the reader left on purpose)."""
    (tmp_path / "long.csv").write_text("1\n" * 300_000)
    command = shlex.join([*CONVCLI, "conv", "long.csv", "1", "-o", path])
    if path == "fifo":
        os.mkfifo(tmp_path / "fifo")
        script = f"{command} & head -c 1 fifo; wait $!"
    else:
        script = f"{command} | head -c 1; exit ${{PIPESTATUS[0]}}"
    result = finished(["bash", "-c", script], cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")


# --------------------------------------------------------------------------- regular files


@pytest.mark.slow
@needs_root
def test_a_replaced_file_keeps_its_mode_and_owner(tmp_path):
    target = owned_by_nobody(tmp_path / "out.csv", "old\n", 0o600)
    result = run(*SMALL, "-o", str(target))
    assert (result.returncode, result.stderr) == (0, "")
    assert target.read_text() == SMALL_CSV
    status = target.stat()
    assert stat.S_IMODE(status.st_mode) == 0o600
    assert (status.st_uid, status.st_gid) == (NOBODY, NOBODY)


@pytest.mark.slow
def test_hard_links_stay_one_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    other = tmp_path / "other-name.csv"
    os.link(target, other)
    result = run(*SMALL, "-o", str(target))
    assert (result.returncode, result.stderr) == (0, "")
    assert other.read_text() == SMALL_CSV
    assert os.path.samefile(target, other)
    assert target.stat().st_nlink == 2


@pytest.mark.slow
def test_a_file_name_of_255_bytes(tmp_path):
    target = tmp_path / ("é" * 125 + "x.csv")
    assert len(os.fsencode(target.name)) == 255
    target.write_text("old\n")
    result = run(*SMALL, "-o", str(target))
    assert (result.returncode, result.stderr) == (0, "")
    assert target.read_text() == SMALL_CSV
    assert os.listdir(tmp_path) == [target.name]


@pytest.mark.slow
@needs_limits
def test_a_read_only_file_is_refused_as_the_shell_refuses_it(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    target.chmod(0o444)
    shell = subprocess.run(
        [*LIMITED, "sh", "-c", "echo new > out.csv"], cwd=tmp_path, capture_output=True, check=False
    )
    assert shell.returncode != 0  # the reference: > refuses it too
    result = run(*SMALL, "-o", str(target), limited=True)
    assert result.returncode == 1
    assert result.stderr == f"Error: cannot write to {target}: Permission denied\n"
    assert target.read_text() == "precious\n"
    assert sorted(os.listdir(tmp_path)) == ["out.csv"]


@pytest.mark.slow
def test_a_directory_is_refused(tmp_path):
    result = run(*SMALL, "-o", str(tmp_path))
    assert result.returncode == 2  # click's check of the option, as a usage error
    assert result.stderr.endswith(f"'{tmp_path}' is a directory.\n")


@pytest.mark.slow
@needs_limits
def test_a_writable_file_in_a_closed_folder_is_written_in_place(tmp_path):
    """The folder takes no new file (so no temporary), but the file itself is writable:
    ``>`` would write it, and so does -o."""
    folder = tmp_path / "closed"
    folder.mkdir()
    target = folder / "out.csv"
    target.write_text("old\n")
    folder.chmod(0o555)
    try:
        result = run(*SMALL, "-o", str(target), limited=True)
    finally:
        folder.chmod(0o755)
    assert (result.returncode, result.stderr) == (0, "")
    assert target.read_text() == SMALL_CSV
    assert sorted(os.listdir(folder)) == ["out.csv"]


@pytest.mark.slow
def test_a_symlink_loop_is_named(tmp_path):
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop.name)
    result = run(*SMALL, "-o", str(loop))
    assert result.returncode == 1
    assert result.stderr == f"Error: cannot write to {loop}: Too many levels of symbolic links\n"
    assert loop.is_symlink()


@pytest.mark.slow
@needs_limits
def test_a_folder_closed_to_the_user_is_named(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o000)
    target = closed / "out.csv"
    result = run(*SMALL, "-o", str(target), limited=True)
    closed.chmod(0o755)
    assert result.returncode == 1
    assert result.stderr == f"Error: cannot write to {target}: Permission denied\n"


# --------------------------------------------------------------------------- full disks


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        SMALL,
        [*SMALL, "--format", "table"],
        ["demo"],
        ["--help"],
        ["conv", "--help"],
        ["--version"],
        ["completion", "bash"],
        ["kernels"],
    ],
    ids=["csv", "table", "demo", "help", "conv-help", "version", "completion", "kernels"],
)
def test_standard_output_on_a_full_device(args):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [*CONVCLI, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT
        )
    assert result.returncode == 1
    assert result.stderr == "Error: no space left on device writing standard output\n"


@pytest.mark.slow
@needs_root
def test_a_full_device_as_output(tmp_path):
    full = device(tmp_path, "full", 7)
    result = run(*SMALL, "-o", str(full))
    assert result.returncode == 1
    assert result.stderr == f"Error: no space left on device writing {full}\n"
    assert stat.S_ISCHR(full.stat().st_mode)


@pytest.fixture
def full_filesystem(tmp_path) -> Iterator[Path]:
    """A 64 kB tmpfs holding ``out.csv`` (``precious``) and a file filling the rest."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        (mount_point / "out.csv").write_text("precious\n")
        with (
            contextlib.suppress(OSError),
            open(mount_point / "filler", "wb", buffering=0) as filler,
        ):
            while True:
                filler.write(b"\0" * 4096)
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


@pytest.mark.slow
@needs_root
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_a_full_filesystem_keeps_the_old_file(tmp_path, full_filesystem, stream):
    signal_file = tmp_path / "signal.csv"
    signal_file.write_text("1.5\n" * 20000)
    target = full_filesystem / "out.csv"
    extra = ["--stream"] if stream else []
    result = run("conv", str(signal_file), "1,1", "-o", str(target), *extra)
    assert result.returncode == 1
    assert result.stderr == f"Error: no space left on device writing {target}\n"
    assert target.read_text() == "precious\n"
    assert sorted(os.listdir(full_filesystem)) == ["filler", "out.csv"]


# --------------------------------------------------------------------------- signals

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def _default_signals() -> None:
    for number in SIGNALS:
        signal.signal(number, signal.SIG_DFL)


def _signal_when(process: subprocess.Popen, number: int, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not ready():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the command never got ready"
        time.sleep(0.01)
    process.send_signal(number)


@pytest.mark.slow
@pytest.mark.parametrize("number", SIGNALS, ids=lambda number: signal.Signals(number).name)
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_a_signal_while_writing_removes_the_temporary(tmp_path, number, stream):
    """SIGINT, SIGTERM or SIGHUP while the temporary file is being written: exit 128 + the
    signal, no traceback, the old file kept and no temporary left."""
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    target = output_dir / "out.csv"
    target.write_text("precious\n")
    if stream:  # the signal arrives on stdin, slowly: the temporary waits for more
        source = "-"
    else:  # five million outputs take a while to write
        source = str(tmp_path / "signal.npy")
        np.save(source, np.linspace(0.0, 1.0, 5 * 10**6))
    process = subprocess.Popen(
        [*CONVCLI, "conv", source, "1,1", "-o", str(target), *(["--stream"] if stream else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(),
        preexec_fn=_default_signals,
    )
    try:
        if stream:
            process.stdin.write(b"1.5\n" * 100000)
            process.stdin.flush()
        _signal_when(process, number, lambda: len(os.listdir(output_dir)) > 1)
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    message = stderr.decode()
    assert process.returncode == 128 + number, message
    assert "Traceback" not in message
    if number == signal.SIGINT:
        assert message.strip() == ""  # the terminal shows ^C; convcli adds only a line break
    else:
        assert message == f"Error: stopped by {signal.Signals(number).name}\n"
    assert target.read_text() == "precious\n"
    assert os.listdir(output_dir) == ["out.csv"]


@pytest.mark.slow
def test_an_ignored_sighup_stays_ignored(tmp_path):
    """Under ``nohup`` (SIGHUP ignored) a hang-up changes nothing: the run completes."""
    target = tmp_path / "out.csv"
    process = subprocess.Popen(
        [*CONVCLI, "conv", "-", "1,1", "-o", str(target), "--stream"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=environment(),
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    try:
        process.stdin.write(b"1\n2\n")
        process.stdin.flush()
        _signal_when(process, signal.SIGHUP, lambda: len(os.listdir(tmp_path)) > 0)
        process.stdin.write(b"3\n")
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert (process.returncode, stderr) == (0, b"")
    assert target.read_text() == result_csv(convcli.convolve([1, 2, 3], [1, 1]))
