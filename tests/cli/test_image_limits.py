"""Images whose pixels would not fit in memory (decompression bombs): refused from the size
their header declares, before a pixel is decoded, in real processes whose available memory
the test lowers (as tests/cli/test_limits.py does in-process) under a cap on their address space."""

from __future__ import annotations

import re
import resource
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.processes import PYTHON_M, environment, finished

pytest.importorskip("PIL.Image")
if not sys.platform.startswith("linux"):
    pytest.skip(
        "caps the child's address space and reads its peak memory (Linux)", allow_module_level=True
    )

TIMEOUT = 120
#: Address space the child may take: far less than decoding the bomb takes in plot.
ADDRESS_SPACE = 4 << 30
#: convcli's command line with limits.available_memory reporting argv[2] bytes, writing its
#: peak resident kilobytes (VmHWM) to the file argv[1] as it exits. The process's own peak:
#: ru_maxrss of a forked child also counts the parent's pages it held until exec.
RUNNER = (
    "import atexit, sys\n"
    "peak_file = sys.argv.pop(1)\n"
    "def report():\n"
    "    with open('/proc/self/status') as status, open(peak_file, 'w') as out:\n"
    "        out.write(next(line for line in status if line.startswith('VmHWM')).split()[1])\n"
    "atexit.register(report)\n"
    "from convcli.cli import limits, main\n"
    "available = int(sys.argv.pop(1))\n"
    "limits.available_memory = lambda *args, **kwargs: available\n"
    "sys.argv[0] = 'convcli'\n"
    "main.main()\n"
)


def bomb_png(width: int, height: int) -> bytes:
    """A bilevel (1-bit) PNG of zeros, compressed row by row so it is never whole in memory:
    13000x13000 takes about 20 kB."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = bytes(1 + (width + 7) // 8)  # filter type 0 and the row's packed bits
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grayscale
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def run_limited(available: int, *args: str, cwd: Path) -> tuple[int, str, int]:
    """Exit code, stderr and peak resident kilobytes of convcli run with ``available`` bytes."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    peak = cwd.parent / f"{cwd.name}-peak.txt"
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(peak), str(available), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=environment(),
        preexec_fn=cap,
        timeout=TIMEOUT,
        check=False,
        text=True,
    )
    kilobytes = int(peak.read_text())
    peak.unlink()
    return result.returncode, result.stderr, kilobytes


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bomb")
    (folder / "bomb.png").write_bytes(bomb_png(13000, 13000))
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["conv", "bomb.png", "identity:1"],
        ["compare", "bomb.png", "sobel-x", "-o", "edges.png"],
        ["plot", "bomb.png", "sobel-x", "-o", "figure.png"],
    ],
    ids=["conv", "compare", "plot"],
)
def test_a_decompression_bomb_is_refused_from_its_header(bomb, args):
    """A 20 kB PNG declaring 13000x13000 pixels: one line naming the pixels and the memory
    they need, no Pillow warning, and no memory taken (nothing decoded)."""
    assert (bomb / "bomb.png").stat().st_size < 50_000
    code, stderr, peak_kb = run_limited(1_200_000_000, *args, cwd=bomb)
    assert code == 1, stderr
    assert re.fullmatch(
        r"Error: bomb\.png is 13000x13000 = 169,000,000 pixels; that needs about [\d.]+ GB, "
        r"more than the 1\.2 GB available\n",
        stderr,
    ), stderr
    assert peak_kb < 400_000, f"{peak_kb} kB resident"
    assert sorted(path.name for path in bomb.iterdir()) == ["bomb.png"]


@pytest.mark.slow
def test_an_image_that_fits_is_read_without_pillows_warning(tmp_path):
    """10000x10000 pixels pass Pillow's own 89-million-pixel warning line; where the memory
    allows them, convcli reads them and says nothing about it."""
    (tmp_path / "wide.png").write_bytes(bomb_png(10000, 10000))
    code, stderr, _ = run_limited(
        20_000_000_000, "conv", "wide.png", "identity:1", "--stride", "5000", cwd=tmp_path
    )
    assert (code, stderr) == (0, "")


@pytest.mark.slow
def test_a_header_declaring_a_trillion_pixels_is_refused_at_once(tmp_path):
    """A 74-byte header declaring 1,000,000x1,000,000 pixels: the check reads the header's
    numbers, never a value per pixel (which took minutes and could not be interrupted)."""
    from tests.cli.test_main import declared_png

    (tmp_path / "huge.png").write_bytes(declared_png(10**6, 10**6))
    result = finished([*PYTHON_M, "conv", str(tmp_path / "huge.png"), "identity:1"], timeout=20)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(
        f"Error: {tmp_path / 'huge.png'} is 1000000x1000000 = 1,000,000,000,000 pixels;"
    ), result.stderr
