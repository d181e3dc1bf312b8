"""Benchmark convcli against numpy, scipy, torch and CSV scripts, and check the targets.

Run it from the project folder, with convcli installed (``pip install '.[bench]'`` brings
scipy, pyarrow and pandas; polars is convcli's own dependency (issue 18); torch is measured
too whenever it is importable, never installed; an editable install starts more slowly)::

    python benchmarks/run.py                 # the full run: about 18 minutes on 2 cores
    python benchmarks/run.py --quick         # small sizes, under a minute: a smoke test
    python benchmarks/run.py --only 'N=1e6' --repeats 9
    python benchmarks/run.py --methods auto,direct,fft   # also rows with a forced method

The report goes to standard output as markdown, its tables ready for docs/performance.md;
progress goes to standard error. ``--json FILE`` also saves every measurement.

What is measured, and how:

* Engine: ``convcli.convolve(signal, kernel, padding=, stride=, dilation=, method=)``
  (valid unless a case names ``same`` or ``full``: 2-D images of 500x500 to 4000x4000
  and 128**3 volumes, each under every padding) on float64 random data, against
  ``numpy.convolve``, ``scipy.signal.convolve`` (method auto), ``scipy.signal.oaconvolve``,
  ``scipy.signal.fftconvolve`` and ``torch.nn.functional.conv1d``/``conv2d``/``conv3d``
  (float64 tensors of the same data, kernel flipped, since torch computes a correlation). Where a reference has no stride or
  dilation (numpy, scipy), it computes what a user would write: the full valid result
  then a slice, or a zero-stuffed kernel. Each implementation runs in two worker
  processes: one call as a warm-up in each, then up to ``--repeats`` timed samples (each
  long enough to time reliably), alternating between the two, stopping early once a
  time budget is spent; a time is the median sample. Two processes, because the same
  call ran up to a third slower in one process than in another for minutes on end (much
  of it the core each ran on; see below).
  The samples are taken in rounds, one of every implementation per round, so that a
  spell in which a shared machine runs slower weighs on all of them alike; each sample
  follows one untimed call, which brings the caches back from the implementation that
  ran before (without it, whichever ran after torch or numpy.convolve paid for them),
  and a sample of torch is followed by a pause of a tenth of a second, in which its
  threads stop spinning (without it, the next sample took up to twice its time). The
  single-threaded workers (numpy, scipy, convcli) all run on one core, the same for
  every one: on a shared machine one core ran the same call a third slower than the
  other for many seconds at a time, by turns. torch keeps every core for its threads.
  convcli's times, like the references', come from workers that serve every case (a
  fresh process per case ran the same calls up to a third slower: its memory was new).
  Its peak memory is measured in a fresh process per case: the rise of that process's
  peak resident set size (VmHWM, reset through ``/proc/self/clear_refs`` after imports
  and data creation) during its first call, so it counts the output array too.
* Command line on CSV, end to end: ``convcli conv|corr|compare signal.csv kernel.csv
  --format csv > out.csv`` on files of 10^6 and 10^7 random floats written with ``repr``
  and a 31-tap kernel, against reference scripts (benchmarks/scripts.py), each a fresh
  process that reads both files with one library, computes with numpy
  (``convolve``/``correlate``, valid; both for compare) and writes what convcli writes (for
  compare a header and the columns index, convolution, correlation): ``numpy.loadtxt`` +
  ``numpy.savetxt('%.17g')``; ``polars.read_csv`` + ``polars.DataFrame.write_csv``;
  ``pyarrow.csv.read_csv`` + ``pyarrow.csv.write_csv``; ``pandas.read_csv`` (C engine,
  round-trip floats) + ``DataFrame.to_csv``. A script whose library is not installed is
  skipped, and the table says so. They run in interleaved rounds, one run of convcli and of
  every script per round, after a warm-up round that is discarded, up to ``--repeats``
  rounds (at least three, then until the rounds have lasted the time budget of each
  command), every process pinned to the same core; a time is the median wall-clock. Each
  script's output is read back whole (with polars where installed, else numpy) and
  compared with convcli's, every value to 1e-12 relative (``!`` where one differs). Start-up:
  ``convcli conv 1,2,3 1,1 --format csv`` and ``convcli compare 1,2,3 1,1 --format table``
  against ``python -c "import numpy"``, median of interleaved runs. Every command is a
  subprocess; its peak memory is the whole process's ``ru_maxrss`` from ``os.wait4``
  (started by a small launcher process: a child's ``ru_maxrss`` counts its parent's memory
  at the fork).
* Pinned: ``convolve(method=auto)`` against ``fft`` and ``direct`` in one process whose
  every thread is pinned to one core after its imports, as a container's CPU quota or
  ``xargs -P`` leave a process whose libraries started a thread per core (a
  multi-threaded BLAS call in auto's FFT guard made auto ten times slower than either
  method there). Interleaved rounds of one sample of each method; medians and ratios.
* Stream: ``convcli conv - kernel.csv --stream --format csv > /dev/null`` reading 10^8
  values piped from a generator process, one run, with its peak memory and throughput
  (values a second) against a polars script doing the same job on the same pipe
  (``polars.read_csv`` on pieces of whole lines of standard input, ``numpy.convolve`` on
  each piece after the previous one's last K - 1 values, ``write_csv`` of each piece's
  outputs), and against the non-streamed ``conv`` CSV row at 10^7 values. Unlike the CSV
  rows, nothing is pinned: the baseline of the stream's target (2.7 million values a
  second) was measured so, and both readers use a second thread.

Columns of the engine table:

* ``convcli``: median time of ``convolve`` (``*``: one cold run only, the first call
  took longer than the time budget).
* ``peak MB``: convcli's peak memory as above, in 10^6 bytes.
* one column per reference: convcli's time divided by the reference's time, so below
  1x means convcli is faster. ``-`` is a reference skipped as too slow or too big
  (numpy.convolve predicted over 10 s, torch's float64 im2col buffer over 3 GB),
  ``n/a`` one that does not apply (numpy.convolve is 1-D only), ``!`` a result that
  differs from convcli's.
* ``best``: convcli's time divided by the fastest reference's.

The CSV table has the same columns, one per reference script (convcli's time over the
script's; ``best`` against the fastest script whose output agrees), and a second table
gives every process's time and peak memory; the start-up and stream tables give times,
peak memory and ratios the same way. The report ends with each target (met, MISSED or not
measured in this run) and a one-line tally; those of issue 18: conv, corr and compare on
CSV at 10^6 and 10^7 values at most 1.0x the polars script's time (stretch 0.7x) and at
most its peak memory, and the stream of 10^8 values at least 27 million values a second
under 100 MB. ``--quick`` runs smaller sizes (1-D up to 10^5, 2-D 300x300, 3-D 32**3, CSV
of 10^5 values, a stream of 10^6), so most targets are not measured by it. Select rows
with ``--only``: ``'CLI (conv|corr|compare) CSV N=1e6'``, ``'start-up'``, ``'stream'``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import re
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from signal import SIGKILL
from typing import IO, Any

import layers
import numpy as np
import scripts
from machine import cpu_model

ROOT = Path(__file__).resolve().parent.parent
SEED = 20240604

#: Reference columns of the engine table: name -> (library, header).
REFERENCES: dict[str, tuple[str, str]] = {
    "numpy": ("numpy", "numpy.convolve"),
    "scipy": ("scipy", "scipy auto"),
    "oaconvolve": ("scipy", "oaconvolve"),
    "fftconvolve": ("scipy", "fftconvolve"),
    "torch": ("torch", "torch conv"),
}
#: The references of the N-D target: scipy's three ways.
SCIPY = ("scipy", "oaconvolve", "fftconvolve")
NUMPY_LIMIT_SECONDS = 10.0  # skip numpy.convolve where it is predicted to take longer
TORCH_LIMIT_BYTES = 3e9  # skip torch where its float64 im2col buffer would be larger
MIN_SAMPLE_SECONDS = 0.05  # a timed sample loops the call until it lasts this long
#: Libraries whose worker threads keep a core busy for a while after a call (torch's
#: thread pool): after each of their samples the next waits this long. Without the wait,
#: the sample right after torch's took up to twice its time (N=1e5, K=31).
THREADED_LIBRARIES = {"torch"}
SETTLE_SECONDS = 0.1
STREAM_KERNEL = 31  # kernel length of the command-line and stream cases


# ---------------------------------------------------------------- settings and cases


@dataclass(frozen=True)
class Settings:
    """How much to run: sizes, repeats, time budgets and the case filter."""

    quick: bool
    repeats: int
    budget: float  # seconds of timed samples per implementation and case
    engine_timeout: float
    process_timeout: float
    stream_timeout: float
    startup_runs: int
    cli_sizes: tuple[int, ...]
    stream_values: int
    methods: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    def selected(self, name: str) -> bool:
        """Whether ``--only`` selects a case of this name (every case without it)."""
        return not self.patterns or any(pattern.search(name) for pattern in self.patterns)


@dataclass(frozen=True)
class EngineCase:
    """One engine measurement: signal and kernel shapes, padding, stride and dilation."""

    shape: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: int = 1
    dilation: int = 1
    padding: str = "valid"

    @property
    def name(self) -> str:
        if len(self.shape) == 1:
            name = f"1-D N={count(self.shape[0])} K={count(self.kernel[0])}"
        else:
            shape, kernel = "x".join(map(str, self.shape)), "x".join(map(str, self.kernel))
            name = f"{len(self.shape)}-D {shape} K={kernel}"
        if self.padding != "valid":
            name += f" {self.padding}"
        if self.stride != 1:
            name += f" stride={self.stride}"
        if self.dilation != 1:
            name += f" dilation={self.dilation}"
        return name

    @property
    def cells(self) -> int:
        return math.prod(self.shape)

    @property
    def reach(self) -> tuple[int, ...]:
        """The dilated kernel's extent per axis."""
        return tuple(self.dilation * (k - 1) + 1 for k in self.kernel)

    @property
    def full_output(self) -> tuple[int, ...]:
        """The output's shape before the stride's slice."""
        grow = {"valid": 1, "same": 0, "full": -1}[self.padding]  # in units of reach - 1
        return tuple(n - grow * (r - 1) for n, r in zip(self.shape, self.reach))

    @property
    def output(self) -> tuple[int, ...]:
        return tuple((n - 1) // self.stride + 1 for n in self.full_output)

    def spec(self, impl: str, method: str) -> dict[str, Any]:
        """What a worker process prepares and times."""
        return {
            "impl": impl,
            "shape": self.shape,
            "kernel": self.kernel,
            "stride": self.stride,
            "dilation": self.dilation,
            "padding": self.padding,
            "method": method,
        }


def count(n: int) -> str:
    """10**k as 1ek, anything else as it is."""
    exponent = round(math.log10(n)) if n > 0 else 0
    return f"1e{exponent}" if n >= 1000 and 10**exponent == n else str(n)


#: The N-D grid, (side, kernel sides) by every padding: square images and cubic volumes.
SQUARES = ((500, (3, 7, 15, 31, 101)), (1000, (3, 7, 15, 31, 101)), (2000, (3, 15, 101)))
SQUARES_LARGE = ((4000, (3, 15, 101)),)
CUBES = ((128, (3, 7, 15)),)
PADDINGS = ("valid", "same", "full")


def engine_cases(quick: bool) -> list[EngineCase]:
    """1-D sizes by kernel sizes, strided and dilated 1-D, then the 2-D and 3-D grids."""
    lengths = [10**e for e in (range(3, 6) if quick else range(3, 8))]
    kernels = (3, 31, 1000) if quick else (3, 31, 1000, 10_000)
    cases = [EngineCase((n,), (k,)) for n in lengths for k in kernels if k <= n]
    n, sizes = (10**5, (31,)) if quick else (10**6, (31, 1000))
    for k in sizes:
        cases += [EngineCase((n,), (k,), stride=s) for s in (2, 4)]
        cases += [EngineCase((n,), (k,), dilation=d) for d in (2, 8)]
    if quick:  # a smoke test of each padding and of 3-D
        cases.append(EngineCase((300, 300), (3, 3)))
        cases += [EngineCase((300, 300), (15, 15), padding=padding) for padding in PADDINGS]
        return [*cases, EngineCase((32, 32, 32), (5, 5, 5), padding="same")]
    for ndim, grid in ((2, SQUARES + SQUARES_LARGE), (3, CUBES)):
        for side, sides in grid:
            cases += [
                EngineCase((side,) * ndim, (k,) * ndim, padding=padding)
                for k in sides
                for padding in PADDINGS
            ]
    return cases


# ---------------------------------------------------------------- worker side


def worker_main() -> None:
    """Answer each JSON request line on stdin with one JSON line of results.

    Every worker first frees one untouched 16 MiB array, as convcli does before
    large work (convcli/engine/memory.py), so that malloc keeps freed arrays for every
    implementation alike: without it the references would pay page faults on
    each call that convcli does not, and their times would depend on which
    cases the worker happened to run before.
    """
    sys.path.insert(0, str(ROOT))
    np.empty(1 << 24, np.uint8)
    protocol, sys.stdout = sys.stdout, sys.stderr  # keep library chatter off the protocol
    prepared: dict[str, Any] = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = run_request(request, prepared)
        except Exception as error:
            answer = {"error": f"{type(error).__name__}: {error}"}
        protocol.write(json.dumps(answer) + "\n")
        protocol.flush()


def run_request(request: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    """Time ``request["samples"]`` samples of the call ``request["spec"]`` describes.

    A call is prepared once per case: its data made, the call built and made once as a
    warm-up, which measures its peak memory (the answer's ``first``, ``peak``, ``shape``
    and ``sample``, repeated in every answer on it). ``prepared`` keeps the calls of the
    current case, one per implementation and method, and is emptied when another begins.
    """
    spec = request["spec"]
    case = {key: value for key, value in spec.items() if key not in ("impl", "method")}
    if prepared.get("case") != case:
        prepared.clear()
        prepared["case"] = case
    key = f"{spec['impl']} {spec['method']}"
    if key not in prepared:
        rng = np.random.default_rng(SEED)
        signal = rng.standard_normal(tuple(spec["shape"]))
        kernel = rng.standard_normal(tuple(spec["kernel"]))
        call = BUILDERS[spec["impl"]](signal, kernel, spec)
        prepared[key] = {"call": call, **warm_up(call)}
    facts = prepared[key]
    if request["samples"]:
        facts["call"]()  # untimed: caches and CPU back from the implementation that ran before
    times = [timed_sample(facts["call"], facts["number"]) for _ in range(request["samples"])]
    return {**{name: facts[name] for name in ("first", "peak", "shape", "sample")}, "times": times}


def build_convcli(signal: np.ndarray, kernel: np.ndarray, spec: dict) -> Callable[[], Any]:
    from convcli import convolve

    options = {key: spec[key] for key in ("stride", "dilation", "padding", "method")}
    return lambda: convolve(signal, kernel, **options)


def dilated(kernel: np.ndarray, dilation: int) -> np.ndarray:
    """The kernel with dilation - 1 zeros between taps along every axis."""
    if dilation == 1:
        return kernel
    stuffed = np.zeros(tuple(dilation * (k - 1) + 1 for k in kernel.shape))
    stuffed[(slice(None, None, dilation),) * kernel.ndim] = kernel
    return stuffed


def strided(values: np.ndarray, stride: int) -> np.ndarray:
    return values[(slice(None, None, stride),) * values.ndim]


def build_numpy(signal: np.ndarray, kernel: np.ndarray, spec: dict) -> Callable[[], Any]:
    taps, stride, mode = dilated(kernel, spec["dilation"]), spec["stride"], spec["padding"]
    return lambda: strided(np.convolve(signal, taps, mode), stride)


def build_scipy(signal: np.ndarray, kernel: np.ndarray, spec: dict) -> Callable[[], Any]:
    from scipy import signal as scipy_signal

    mode = spec["padding"]
    function = {
        "scipy": lambda f, h: scipy_signal.convolve(f, h, mode=mode, method="auto"),
        "oaconvolve": lambda f, h: scipy_signal.oaconvolve(f, h, mode=mode),
        "fftconvolve": lambda f, h: scipy_signal.fftconvolve(f, h, mode=mode),
    }[spec["impl"]]
    taps, stride = dilated(kernel, spec["dilation"]), spec["stride"]
    return lambda: strided(function(signal, taps), stride)


def build_torch(signal: np.ndarray, kernel: np.ndarray, spec: dict) -> Callable[[], Any]:
    import torch
    import torch.nn.functional as functional

    conv = (functional.conv1d, functional.conv2d, functional.conv3d)[signal.ndim - 1]
    inputs = torch.from_numpy(signal)[None, None]
    weights = torch.from_numpy(np.flip(kernel).copy())[None, None]
    reach = spec["dilation"] * (max(kernel.shape) - 1)
    padding = {"valid": 0, "same": "same", "full": reach}[spec["padding"]]
    options = {"stride": spec["stride"], "dilation": spec["dilation"], "padding": padding}

    return lambda: conv(inputs, weights, **options)[0, 0].numpy()


BUILDERS: dict[str, Callable[[np.ndarray, np.ndarray, dict], Callable[[], Any]]] = {
    "convcli": build_convcli,
    "numpy": build_numpy,
    "scipy": build_scipy,
    "oaconvolve": build_scipy,
    "fftconvolve": build_scipy,
    "torch": build_torch,
}


def peak_rss() -> int:
    """This process's peak resident set size so far, in bytes.

    VmHWM where Linux has it, else ru_maxrss (which on Linux also counts the
    parent's memory at the fork that started this process).
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        status = ""
    match = re.search(r"^VmHWM:\s*(\d+) kB", status, flags=re.MULTILINE)
    kib = int(match.group(1)) if match else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024


def reset_peak_rss() -> None:
    """Lower the peak RSS to the current RSS (Linux >= 4.0), so imports and data creation
    before a call do not hide the memory the call needs; elsewhere a no-op."""
    try:
        with open("/proc/self/clear_refs", "w") as control:
            control.write("5")
    except OSError:
        pass


def warm_up(call: Callable[[], Any]) -> dict[str, Any]:
    """The first call: its time, the rise of the peak memory during it, its output's shape
    and a sample of its values; and how many calls a timed sample loops, from the time of
    a second call where the first was short enough (a first call also pays for lazy
    imports and caches, so it would make samples of too few calls)."""
    reset_peak_rss()
    before = peak_rss()
    start = time.perf_counter()
    values = np.asarray(call())
    first = time.perf_counter() - start
    peak = max(peak_rss() - before, 0)
    typical = first
    if first < MIN_SAMPLE_SECONDS:
        start = time.perf_counter()
        call()
        typical = time.perf_counter() - start
    return {
        "first": first,
        "peak": peak,
        "shape": list(values.shape),
        "sample": sample(values),
        "number": min(max(1, math.ceil(MIN_SAMPLE_SECONDS / max(typical, 1e-7))), 100_000),
    }


def timed_sample(call: Callable[[], Any], number: int) -> float:
    """Seconds per call over ``number`` calls in a row."""
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number


def sample(values: np.ndarray, size: int = 64) -> list[float]:
    """Evenly spaced output values, to check that every implementation agrees."""
    flat = values.reshape(-1)
    if flat.size == 0:
        return []
    return [float(v) for v in flat[np.linspace(0, flat.size - 1, size).astype(int)]]


# ---------------------------------------------------------------- main side: processes


@dataclass
class Measured:
    """One implementation's result on one case, as the tables show it."""

    seconds: float | None = None  # the median time (or the one cold run)
    runs: int = 0  # timed samples behind the median; 0 means one cold run
    peak: int | None = None  # bytes
    error: str | None = None
    skipped: str | None = None  # why it was not run ("n/a" when it does not apply)
    shape: list[int] | None = None
    sample: list[float] | None = None

    @property
    def ok(self) -> bool:
        return self.seconds is not None and self.error is None and self.skipped is None


class Worker:
    """A worker process answering measurement requests, started when first asked."""

    def __init__(self, library: str, log: Path) -> None:
        self.library = library
        self.log = log
        self.process: subprocess.Popen[str] | None = None

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The worker's answer to one request; ``{"error": ...}`` if it died or timed out."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        assert self.process is not None and self.process.stdin and self.process.stdout
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            return {"error": self.died()}
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self.close()
            return {"error": f"timeout (> {timeout:g} s)"}
        line = self.process.stdout.readline()
        if not line:
            return {"error": self.died()}
        return json.loads(line)

    def start(self) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", self.library]
        pin = None if self.library in THREADED_LIBRARIES else engine_core()
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                preexec_fn=None if pin is None else partial(os.sched_setaffinity, 0, {pin}),
            )

    def died(self) -> str:
        self.close()
        lines = self.log.read_text(errors="replace").strip().splitlines()
        return f"worker died: {lines[-1] if lines else 'no message'}"

    def close(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    stream.close()
            self.process = None


def engine_core() -> int | None:
    """The one core every single-threaded engine worker runs on (None where processes
    cannot be pinned). On a shared machine one core can run slower than the other for
    many seconds at a time (measured: the same call 0.7 ms on one, 0.9 ms on the other,
    then the other way round); on one core, rounds share its spells alike."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    return max(os.sched_getaffinity(0))


@dataclass
class ProcessRun:
    """One finished subprocess: wall-clock seconds, peak RSS in bytes, any error."""

    seconds: float
    peak: int
    error: str | None = None


#: Runs argv[2:] and writes "seconds peak-bytes" of it to the file argv[1]. A process's
#: ru_maxrss on Linux includes its parent's resident memory at the fork, so commands are
#: started by this small launcher rather than by the benchmark itself, whose memory is
#: larger than what it measures; its own time is not counted either.
LAUNCHER = """\
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    except OSError as error:
        sys.stderr.write(f"{sys.argv[2]}: {error}\\n")
    os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as report:
    report.write(f"{seconds!r} {usage.ru_maxrss * 1024}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_process(
    command: Sequence[str],
    timeout: float,
    stdin: IO[bytes] | int = subprocess.DEVNULL,
    stdout: IO[bytes] | int = subprocess.DEVNULL,
    core: int | None = None,
) -> ProcessRun:
    """Run a command to its end: its wall-clock time and peak memory (os.wait4); pinned
    with its launcher to one core where ``core`` is given."""
    descriptor, name = tempfile.mkstemp(prefix="convcli-bench-", suffix=".run")
    os.close(descriptor)
    report = Path(name)
    launcher = [sys.executable, "-S", "-c", LAUNCHER, str(report), *command]
    try:
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(
                launcher,
                stdin=stdin,
                stdout=stdout,
                stderr=errors,
                cwd=ROOT,
                start_new_session=True,
                preexec_fn=None if core is None else partial(os.sched_setaffinity, 0, {core}),
            )
            killed = wait_for(process, timeout)
            return finished(process, report.read_text(), errors, timeout, killed)
    finally:
        report.unlink(missing_ok=True)


def wait_for(process: subprocess.Popen, timeout: float) -> bool:
    """Wait for a process, killing its process group after ``timeout`` seconds;
    whether it had to be killed."""
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, SIGKILL)
        process.wait()
        return True
    return False


def finished(
    process: subprocess.Popen, report: str, errors: IO[bytes], timeout: float, killed: bool
) -> ProcessRun:
    """The launcher's report of one run, or what went wrong."""
    words = report.split()
    run = ProcessRun(float(words[0]), int(words[1])) if len(words) == 2 else ProcessRun(0.0, 0)
    if killed:
        run.error = f"timeout (> {timeout:g} s)"
    elif process.returncode != 0 or len(words) != 2:
        errors.seek(0)
        lines = errors.read().decode(errors="replace").strip().splitlines()
        run.error = f"exit {process.returncode}: {lines[-1] if lines else 'no message'}"
    return run


def repeat_process(run: Callable[[], ProcessRun], repeats: int, budget: float) -> Measured:
    """A warm-up run, then up to ``repeats`` runs within the budget; the median time."""
    warm = run()
    if warm.error:
        return Measured(error=warm.error)
    if warm.seconds > budget:
        return Measured(seconds=warm.seconds, runs=0, peak=warm.peak)
    runs, deadline = [], time.perf_counter() + budget
    for _ in range(repeats):
        runs.append(run())
        if runs[-1].error:
            return Measured(error=runs[-1].error)
        if time.perf_counter() > deadline:
            break
    return Measured(
        seconds=statistics.median(r.seconds for r in runs),
        runs=len(runs),
        peak=max(r.peak for r in runs),
    )


def convcli_command() -> list[str]:
    """The console script of this Python environment, else ``python -m convcli``."""
    script = Path(sys.executable).parent / "convcli"
    return [str(script)] if script.exists() else [sys.executable, "-m", "convcli"]


# ---------------------------------------------------------------- engine benchmark


@dataclass
class EngineRow:
    case: str
    method: str
    cells: int
    convcli: Measured
    references: dict[str, Measured]
    differs: list[str] = field(default_factory=list)


def convcli_methods() -> tuple[str, ...]:
    """The methods this convcli has (``fft`` is being added in parallel)."""
    sys.path.insert(0, str(ROOT))
    from convcli.options import METHODS

    return tuple(METHODS)


def numpy_cost() -> float:
    """Seconds per multiply-add of numpy.convolve on this machine (best of 3)."""
    rng = np.random.default_rng(SEED)
    signal, kernel = rng.standard_normal(200_000), rng.standard_normal(500)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        np.convolve(signal, kernel, "valid")
        best = min(best, time.perf_counter() - start)
    return best / ((200_000 - 500 + 1) * 500)


def skip_reason(impl: str, case: EngineCase, cost: float) -> str | None:
    """Why a reference is not run on a case: n/a, or too slow or too big."""
    if impl == "numpy":
        if len(case.shape) != 1:
            return "n/a"
        predicted = cost * math.prod(case.full_output) * math.prod(case.reach)
        if predicted > NUMPY_LIMIT_SECONDS:
            return f"predicted {predicted:.0f} s"
    if impl == "torch":
        im2col = 8 * math.prod(case.kernel) * math.prod(case.output)
        if im2col > TORCH_LIMIT_BYTES:
            return f"im2col {im2col / 1e9:.0f} GB"
    return None


def agrees(reference: Measured, convcli: Measured) -> bool:
    """The same output shape and values up to floating-point rounding."""
    if reference.shape != convcli.shape or reference.sample is None or convcli.sample is None:
        return False
    ours, theirs = np.array(convcli.sample), np.array(reference.sample)
    scale = max(float(np.abs(ours).max(initial=0.0)), 1e-300)
    return bool(np.allclose(theirs, ours, rtol=1e-7, atol=1e-9 * scale))


def run_engine(
    settings: Settings, libraries: Iterable[str], log_dir: Path, progress: Progress
) -> list[EngineRow]:
    """Every selected engine case, each implementation timed in two worker processes of its
    library that serve every case (see measure_in_rounds)."""
    cases = [case for case in engine_cases(settings.quick) if settings.selected(case.name)]
    if not cases:
        return []
    cost = numpy_cost()
    workers = {
        name: (Worker(name, log_dir / f"{name}.log"), Worker(name, log_dir / f"{name}.log"))
        for name in [*libraries, "convcli"]
    }
    methods = [method for method in settings.methods if method in convcli_methods()]
    rows = []
    try:
        for case in cases:
            progress(case.name)
            references: dict[str, Measured] = {}
            timed: dict[str, tuple[tuple[Worker, Worker], dict[str, Any]]] = {}
            for impl, (library, _) in REFERENCES.items():
                if library not in workers:
                    continue
                reason = skip_reason(impl, case, cost)
                if reason is None:
                    timed[impl] = (workers[library], case.spec(impl, "auto"))
                else:
                    references[impl] = Measured(skipped=reason)
            for method in methods:
                timed[f"convcli {method}"] = (workers["convcli"], case.spec("convcli", method))
            results = measure_in_rounds(timed, settings)
            for method in methods:
                ours = results[f"convcli {method}"]
                if ours.ok:
                    ours.peak = first_call_peak(case.spec("convcli", method), settings, log_dir)
            references.update({impl: results[impl] for impl in REFERENCES if impl in results})
            for method in settings.methods:
                convcli = results.get(f"convcli {method}", Measured(skipped="not available"))
                rows.append(engine_row(case, method, convcli, references))
    finally:
        for pair in workers.values():
            for worker in pair:
                worker.close()
    return rows


def first_call_peak(spec: dict[str, Any], settings: Settings, log_dir: Path) -> int | None:
    """The rise of a fresh worker process's peak memory during its first call of ``spec``."""
    worker = Worker("convcli", log_dir / "convcli.log")
    try:
        return worker.ask({"spec": spec, "samples": 0}, settings.engine_timeout).get("peak")
    finally:
        worker.close()


def measure_in_rounds(
    timed: dict[str, tuple[tuple[Worker, Worker], dict[str, Any]]], settings: Settings
) -> dict[str, Measured]:
    """Time the implementations of one case in turn: a warm-up of each, then rounds of
    one sample of each, so that a spell in which the machine runs slower weighs on all of
    them alike. Rounds alternate between an implementation's two worker processes: the
    same call ran up to a third slower in one process than in another for minutes on end
    (much of it the core each ran on, now one for all: engine_core), and a median over
    two processes is not decided by one of them. An implementation stops after
    ``settings.repeats`` samples or once its samples have used ``settings.budget``
    seconds; one whose warm-up took longer than the budget keeps that one cold run."""
    answers, times, spent = {}, {name: [] for name in timed}, dict.fromkeys(timed, 0.0)
    for name, (pair, spec) in timed.items():
        answers[name] = pair[0].ask({"spec": spec, "samples": 0}, settings.engine_timeout)
    active = [
        name
        for name, answer in answers.items()
        if "error" not in answer and answer["first"] <= settings.budget
    ]
    for name in list(active):  # the second process's warm-up
        pair, spec = timed[name]
        answer = pair[1].ask({"spec": spec, "samples": 0}, settings.engine_timeout)
        if "error" in answer:
            answers[name] = answer
            active.remove(name)
    for round_ in range(settings.repeats):
        for name in list(active):
            pair, spec = timed[name]
            start = time.perf_counter()
            answer = pair[round_ % 2].ask({"spec": spec, "samples": 1}, settings.engine_timeout)
            spent[name] += time.perf_counter() - start
            if "error" in answer:
                answers[name] = answer
                active.remove(name)
                continue
            times[name] += answer["times"]
            if spent[name] > settings.budget:
                active.remove(name)
            if pair[0].library in THREADED_LIBRARIES:
                time.sleep(SETTLE_SECONDS)
    return {name: measured(answers[name], times[name]) for name in timed}


def measured(answer: dict[str, Any], times: list[float]) -> Measured:
    """An implementation's Measured from its worker's answer and its timed samples: the
    median sample, or the warm-up's time where there is none."""
    if "error" in answer:
        return Measured(error=answer["error"])
    return Measured(
        seconds=statistics.median(times) if times else answer["first"],
        runs=len(times),
        peak=answer["peak"],
        shape=answer["shape"],
        sample=answer["sample"],
    )


def engine_row(
    case: EngineCase, method: str, ours: Measured, references: dict[str, Measured]
) -> EngineRow:
    differs = [
        impl
        for impl, theirs in references.items()
        if theirs.ok and ours.ok and not agrees(theirs, ours)
    ]
    name = case.name if method == "auto" else f"{case.name} [{method}]"
    return EngineRow(name, method, case.cells, ours, references, differs)


# ---------------------------------------------------------------- pinned to one core

PINNED_CASE = EngineCase((10**5,), (31,))
PINNED_METHODS = ("auto", "fft", "direct")
#: auto's time at most this times the faster method's (its guard costs about a third of an FFT)
PINNED_LIMIT = 1.5


def pinned_main(repeats: int) -> None:
    """Time PINNED_METHODS in interleaved rounds in this process, every thread of which is
    first pinned to one core; print the medians as JSON."""
    sys.path.insert(0, str(ROOT))
    from convcli import convolve

    rng = np.random.default_rng(SEED)
    signal, kernel = rng.standard_normal(PINNED_CASE.shape), rng.standard_normal(PINNED_CASE.kernel)
    np.dot(signal, signal)  # BLAS has started its threads
    core = engine_core()
    if core is not None:
        for thread in os.listdir("/proc/self/task"):
            os.sched_setaffinity(int(thread), {core})
    calls = {method: partial(convolve, signal, kernel, method=method) for method in PINNED_METHODS}
    numbers = {method: warm_up(call)["number"] for method, call in calls.items()}
    times: dict[str, list[float]] = {method: [] for method in calls}
    for _ in range(repeats):
        for method, call in calls.items():
            call()  # untimed: caches back from the method before
            times[method].append(timed_sample(call, numbers[method]))
    medians = {method: statistics.median(values) for method, values in times.items()}
    print(json.dumps({"pinned": core is not None, "seconds": medians}))


@dataclass
class PinnedRow:
    case: str
    pinned: bool
    seconds: dict[str, float]
    error: str | None = None

    @property
    def ratio(self) -> float | None:
        """auto's time over the faster of the other methods'."""
        if self.error or not self.seconds:
            return None
        return self.seconds["auto"] / min(self.seconds["fft"], self.seconds["direct"])


def run_pinned(settings: Settings, progress: Progress) -> list[PinnedRow]:
    """The pinned comparison in a fresh process (see pinned_main)."""
    name = f"pinned {PINNED_CASE.name}"
    if not settings.selected(name):
        return []
    progress(name)
    command = [sys.executable, str(Path(__file__).resolve()), "--pinned", str(settings.repeats)]
    try:
        run = subprocess.run(
            command, capture_output=True, text=True, timeout=settings.engine_timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return [PinnedRow(name, False, {}, f"timeout (> {settings.engine_timeout:g} s)")]
    if run.returncode != 0:
        lines = run.stderr.strip().splitlines()
        return [PinnedRow(name, False, {}, f"exit {run.returncode}: {lines[-1] if lines else ''}")]
    answer = json.loads(run.stdout)
    return [PinnedRow(name, answer["pinned"], answer["seconds"])]


def pinned_section(rows: list[PinnedRow]) -> str:
    headers = ["case", *PINNED_METHODS, "auto / fft", "auto / direct"]
    body = []
    for row in rows:
        if row.error:
            body.append([row.case, row.error, *["-"] * (len(headers) - 2)])
            continue
        times = row.seconds
        body.append(
            [
                row.case if row.pinned else f"{row.case} (could not pin)",
                *(seconds_text(times[method]) for method in PINNED_METHODS),
                ratio_text(times["auto"] / times["fft"]),
                ratio_text(times["auto"] / times["direct"]),
            ]
        )
    note = (
        "Pinned: `convolve(method=...)` in one process whose every thread is pinned to one "
        "core after its imports (BLAS has a thread per core), median of interleaved rounds."
    )
    return note + "\n\n" + table(headers, body)


def pinned_targets(rows: list[PinnedRow]) -> list[Target]:
    label = f"auto pinned to one core: at most {PINNED_LIMIT}x the faster of fft and direct"
    ratio = rows[0].ratio if rows else None
    detail = ratio_text(ratio) if ratio else (rows[0].error if rows else "case not in this run")
    return [check(label, ratio, PINNED_LIMIT, detail or "", at_most=True)]


# ---------------------------------------------------------------- command-line benchmarks


@dataclass
class CliRow:
    """A start-up row: convcli's small command against ``python -c "import numpy"``."""

    case: str
    values: int
    convcli: Measured
    reference: Measured
    reference_label: str
    differs: bool = False


#: The commands of the CSV rows; corr is numpy.correlate(valid) for real inputs.
CSV_OPERATIONS = ("conv", "corr", "compare")


@dataclass
class CsvRow:
    """convcli conv, corr or compare on a CSV file against every reference script."""

    case: str
    operation: str
    values: int
    convcli: Measured
    references: dict[str, Measured]  # by name of scripts.CSV_SCRIPTS
    differs: list[str] = field(default_factory=list)


GENERATOR = """\
import sys

data = open(sys.argv[1], "rb").read()
out = sys.stdout.buffer
try:
    for _ in range(int(sys.argv[2])):
        out.write(data)
    out.flush()
except BrokenPipeError:
    sys.stderr.close()
"""


def write_csv(path: Path, size: int, seed: int, chunk: int = 10**6) -> None:
    """Random floats one a line, written with repr so they read back exactly."""
    rng = np.random.default_rng(seed)
    with path.open("w") as out:
        for start in range(0, size, chunk):
            values = rng.standard_normal(min(chunk, size - start))
            out.write("\n".join(map(repr, values.tolist())) + "\n")


def run_cli(settings: Settings, folder: Path, progress: Progress) -> list[CsvRow]:
    """convcli conv, corr and compare on CSV files against the reference scripts."""
    cases = [
        (operation, n)
        for n in settings.cli_sizes
        for operation in CSV_OPERATIONS
        if settings.selected(csv_name(operation, n))
    ]
    if not cases:
        return []
    kernel = folder / "kernel.csv"
    write_csv(kernel, STREAM_KERNEL, SEED + 1)
    paths = {}
    for name, (_, _, source) in scripts.CSV_SCRIPTS.items():
        # reference_NAME.py: a script named polars.py would import itself as polars
        paths[name] = folder / f"reference_{name}.py"
        paths[name].write_text(source)
    rows = []
    for n in sorted({n for _, n in cases}):
        signal = folder / f"signal-{n}.csv"
        write_csv(signal, n, SEED)
        for operation in [op for op, size in cases if size == n]:
            progress(csv_name(operation, n))
            rows.append(csv_row(operation, n, signal, kernel, paths, settings))
        signal.unlink()
    return rows


def csv_name(operation: str, n: int) -> str:
    return f"CLI {operation} CSV N={count(n)} K={STREAM_KERNEL}"


def csv_row(
    operation: str,
    n: int,
    signal: Path,
    kernel: Path,
    paths: dict[str, Path],
    settings: Settings,
) -> CsvRow:
    """convcli and every reference script on one case, in interleaved rounds on one core."""
    core = engine_core()
    outputs = {name: signal.with_suffix(f".{name}.out") for name in ["convcli", *paths]}
    convcli = [*convcli_command(), operation, str(signal), str(kernel), "--format", "csv"]

    def convcli_run() -> ProcessRun:
        with outputs["convcli"].open("wb") as out:
            return run_process(convcli, settings.process_timeout, stdout=out, core=core)

    runners: dict[str, Callable[[], ProcessRun]] = {"convcli": convcli_run}
    skipped = {}
    for name, path in paths.items():
        library = scripts.CSV_SCRIPTS[name][0]
        if importlib.util.find_spec(library) is None:
            skipped[name] = Measured(skipped=f"{library} not installed")
            continue
        command = [sys.executable, str(path), operation, str(signal), str(kernel)]
        command.append(str(outputs[name]))
        runners[name] = partial(run_process, command, settings.process_timeout, core=core)
    measures = in_rounds(runners, settings)
    differs = []
    if measures["convcli"].ok:
        ours = read_csv_columns(outputs["convcli"], operation == "compare")
        for name in paths:
            if name in measures and measures[name].ok:
                theirs = read_csv_columns(outputs[name], operation == "compare")
                if not same_values(ours, theirs):
                    differs.append(name)
    for path in outputs.values():
        path.unlink(missing_ok=True)
    references = {name: measures.get(name) or skipped[name] for name in paths}
    return CsvRow(csv_name(operation, n), operation, n, measures["convcli"], references, differs)


def in_rounds(
    runners: dict[str, Callable[[], ProcessRun]], settings: Settings
) -> dict[str, Measured]:
    """Run every command once per round, a warm-up round first (discarded), then up to
    ``--repeats`` rounds, stopping after at least three once the timed rounds have lasted
    the time budget of every command; each command's median time and highest peak. A
    command that fails is dropped from later rounds and reported by its error."""
    runs: dict[str, list[ProcessRun]] = {name: [] for name in runners}
    errors: dict[str, str] = {}
    started = 0.0
    for round_ in range(settings.repeats + 1):
        if round_ == 1:
            started = time.perf_counter()
        for name, run in runners.items():
            if name in errors:
                continue
            done = run()
            if done.error:
                errors[name] = done.error
            elif round_ > 0:
                runs[name].append(done)
        spent = time.perf_counter() - started
        if round_ >= min(3, settings.repeats) and spent > settings.budget * len(runners):
            break
    return {
        name: Measured(error=errors[name]) if name in errors else summarize(runs[name])
        for name in runners
    }


def read_csv_columns(path: Path, header: bool) -> np.ndarray:
    """Every value of a CSV output file, one column per field (polars where installed)."""
    if importlib.util.find_spec("polars") is not None:
        import polars as pl

        frame = pl.read_csv(path, has_header=header, infer_schema_length=None)
        return frame.to_numpy().astype(np.float64).reshape(len(frame), -1)
    return np.loadtxt(path, delimiter=",", skiprows=int(header), ndmin=2)


def same_values(ours: np.ndarray, theirs: np.ndarray, rtol: float = 1e-12) -> bool:
    """The same shape and, column by column, every value equal up to ``rtol`` (relative to
    each value, or to the column's largest magnitude for values near zero)."""
    if ours.shape != theirs.shape:
        return False
    for mine, other in zip(ours.T, theirs.T):
        scale = max(float(np.abs(mine).max(initial=0.0)), 1e-300)
        if not np.allclose(other, mine, rtol=rtol, atol=rtol * scale):
            return False
    return True


STARTUP = {
    "start-up conv": ["conv", "1,2,3", "1,1", "--format", "csv"],
    "start-up compare": ["compare", "1,2,3", "1,1", "--format", "table"],
}


def run_startup(settings: Settings, progress: Progress) -> list[CliRow]:
    """Small commands against ``python -c "import numpy"``, interleaved, median of runs."""
    names = [name for name in STARTUP if settings.selected(name)]
    if not names:
        return []
    progress("start-up")
    commands = {name: [*convcli_command(), *STARTUP[name]] for name in names}
    commands["import numpy"] = [sys.executable, "-c", "import numpy"]
    runs: dict[str, list[ProcessRun]] = {name: [] for name in commands}
    for round_ in range(settings.startup_runs + 1):
        for name, command in commands.items():
            run = run_process(command, settings.process_timeout)
            if round_ > 0 or run.error:  # the first round is a warm-up
                runs[name].append(run)
    baseline = summarize(runs.pop("import numpy"))
    label = 'python -c "import numpy"'
    return [CliRow(name, 0, summarize(done), baseline, label) for name, done in runs.items()]


def summarize(runs: list[ProcessRun]) -> Measured:
    errors = [run.error for run in runs if run.error]
    if errors:
        return Measured(error=errors[0])
    return Measured(
        seconds=statistics.median(run.seconds for run in runs),
        runs=len(runs),
        peak=max(run.peak for run in runs),
    )


@dataclass
class StreamRow:
    case: str
    values: int
    available: bool
    convcli: Measured
    reference: Measured = field(default_factory=lambda: Measured(skipped="not run"))


def stream_available() -> bool:
    """Whether this convcli has ``conv --stream`` (it is being added in parallel)."""
    run = subprocess.run(
        [*convcli_command(), "conv", "--help"], capture_output=True, text=True, check=False
    )
    return "--stream" in run.stdout


def run_stream(settings: Settings, folder: Path, progress: Progress) -> list[StreamRow]:
    """``convcli conv - kernel.csv --stream`` on values piped from a generator process, then
    the polars stream script (scripts.POLARS_STREAM) on the same pipe: one run each."""
    total = settings.stream_values
    name = f"stream N={count(total)} K={STREAM_KERNEL}"
    if not settings.selected(name):
        return []
    progress(name)
    chunk = min(total, 10**6)
    block, kernel = folder / "block.csv", folder / "kernel.csv"
    write_csv(block, chunk, SEED)
    write_csv(kernel, STREAM_KERNEL, SEED + 1)
    generator = [sys.executable, "-c", GENERATOR, str(block), str(total // chunk)]
    if importlib.util.find_spec("polars") is None:
        reference = Measured(skipped="polars not installed")
    else:
        script = folder / "reference_polars_stream.py"
        script.write_text(scripts.POLARS_STREAM)
        run = run_pipeline(
            generator, [sys.executable, str(script), str(kernel)], settings.stream_timeout
        )
        reference = Measured(seconds=run.seconds, runs=0, peak=run.peak, error=run.error)
    if not stream_available():
        return [StreamRow(name, total, False, Measured(skipped="not available"), reference)]
    command = [*convcli_command(), "conv", "-", str(kernel), "--stream", "--format", "csv"]
    run = run_pipeline(generator, command, settings.stream_timeout)
    measured = Measured(seconds=run.seconds, runs=0, peak=run.peak, error=run.error)
    return [StreamRow(name, total, True, measured, reference)]


def run_pipeline(generator: list[str], command: list[str], timeout: float) -> ProcessRun:
    """``generator | command > /dev/null``, timing and measuring the command alone. Neither
    is pinned: the stream's baseline (2.7 million values/s, issue 18) was measured with
    both cores free, and convcli reads ahead in a thread, as polars reads with its own."""
    source = subprocess.Popen(generator, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert source.stdout is not None
    try:
        return run_process(command, timeout, stdin=source.stdout)
    finally:
        source.stdout.close()
        source.kill()
        source.wait()


# ---------------------------------------------------------------- report


Progress = Callable[[str], None]


def progress_printer() -> Progress:
    """Progress lines on stderr, with the time since the start."""
    start = time.perf_counter()

    def report(message: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f} s] {message}", file=sys.stderr, flush=True)

    return report


def seconds_text(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def ratio_text(ratio: float) -> str:
    if ratio >= 100:
        return f"{ratio:.0f}x"
    if ratio >= 1:
        return f"{ratio:.2f}x"
    return f"{ratio:.2g}x"


def megabytes(size: int | None) -> str:
    if size is None:
        return "-"
    return f"{size / 1e6:.1f}" if size < 10e6 else f"{size / 1e6:.0f}"


def time_cell(measured: Measured) -> str:
    if measured.skipped:
        return measured.skipped
    if measured.error or measured.seconds is None:
        return f"error: {measured.error}"
    return seconds_text(measured.seconds) + ("*" if measured.runs == 0 else "")


def measured_cells(measured: Measured) -> list[str]:
    """A measurement's time and peak memory cells."""
    return [time_cell(measured), megabytes(measured.peak) if measured.ok else "-"]


def ratio_cell(ours: Measured, theirs: Measured | None, differs: bool = False) -> str:
    if theirs is None or theirs.skipped == "n/a":
        return "n/a"
    if theirs.skipped:
        return "-"
    if theirs.error:
        return "timeout" if theirs.error.startswith("timeout") else "error"
    if not ours.ok or theirs.seconds is None:
        return "-"
    assert ours.seconds is not None
    return ratio_text(ours.seconds / theirs.seconds) + ("!" if differs else "")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], left: Sequence[int] = (0,)) -> str:
    """A markdown table: the ``left`` columns (text) left-aligned, the others right-aligned."""
    rows = [list(row) for row in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * w if i in left else "-" * (w - 1) + ":" for i, w in enumerate(widths)]
    return "\n".join([line(headers), line(rule), *map(line, rows)])


def fastest(references: dict[str, Measured]) -> float | None:
    times = [m.seconds for m in references.values() if m.ok and m.seconds is not None]
    return min(times) if times else None


def best_ratio(row: EngineRow) -> float | None:
    reference = fastest(row.references)
    if reference is None or not row.convcli.ok or row.convcli.seconds is None:
        return None
    return row.convcli.seconds / reference


def grid_case(name: str) -> bool:
    """Whether a case is one of the 2-D or 3-D grid's (not a --quick size)."""
    return re.match(r"(2-D (500|1000|2000|4000)x|3-D 128x)", name) is not None


def scipy_ratio(row: EngineRow) -> float | None:
    """convcli's time over the fastest of scipy's convolve, oaconvolve and fftconvolve."""
    scipy = {name: row.references[name] for name in SCIPY if name in row.references}
    reference = fastest(scipy)
    if reference is None or not row.convcli.ok or row.convcli.seconds is None:
        return None
    return row.convcli.seconds / reference


def engine_section(rows: list[EngineRow], columns: list[str], settings: Settings) -> str:
    headers = ["case", "convcli", "peak MB", *(REFERENCES[c][1] for c in columns), "best"]
    body = []
    for row in rows:
        best = best_ratio(row)
        body.append(
            [
                row.case,
                *measured_cells(row.convcli),
                *(
                    ratio_cell(row.convcli, row.references.get(c), c in row.differs)
                    for c in columns
                ),
                ratio_text(best) if best is not None else "-",
            ]
        )
    skipped = sorted(
        {
            f"{REFERENCES[impl][1]} {m.skipped}"
            for row in rows
            for impl, m in row.references.items()
            if m.skipped and m.skipped != "n/a"
        }
    )
    notes = [
        "Engine: `convolve(signal, kernel, padding=...)`, valid unless the case names `same` "
        f"or `full` (scipy's `mode=`), float64 random data. Times: median of up "
        f"to {settings.repeats} timed samples after a warm-up, taken in rounds of one sample "
        "of every implementation, alternating between two worker processes of each, all "
        "but torch's on one core (`*`: one cold run). Peak MB: "
        "rise of the peak RSS (VmHWM) of a fresh process during convcli's first call, after "
        "imports and data creation. Ratios: convcli time / reference time (below 1x: convcli "
        "is faster); best: against the fastest reference; `-`: skipped, `!`: result differs.",
    ]
    if skipped:
        notes.append("Skipped: " + "; ".join(skipped) + ".")
    return "\n\n".join([*notes, table(headers, body)])


def csv_section(rows: list[CsvRow], settings: Settings) -> str:
    names = list(scripts.CSV_SCRIPTS)
    labels = [scripts.CSV_SCRIPTS[name][1] for name in names]
    ratios, times = [], []
    for row in rows:
        best = csv_best(row)
        ratios.append(
            [
                row.case,
                *measured_cells(row.convcli),
                *(ratio_cell(row.convcli, row.references[n], n in row.differs) for n in names),
                ratio_text(best) if best is not None else "-",
            ]
        )
        cells = [row.case, time_cell(row.convcli), megabytes(row.convcli.peak)]
        for name in names:
            measured = row.references[name]
            cells += [time_cell(measured), megabytes(measured.peak) if measured.ok else "-"]
        times.append(cells)
    skipped = sorted(
        {
            f"{scripts.CSV_SCRIPTS[name][1]}: {m.skipped}"
            for row in rows
            for name, m in row.references.items()
            if m.skipped
        }
    )
    note = (
        "Command line on CSV: `convcli conv|corr|compare signal.csv kernel.csv --format csv > "
        "out.csv` (random floats written with repr, a 31-tap kernel) against reference "
        "scripts, each a fresh process computing with numpy (convolve, correlate or both, "
        "valid) and writing what convcli writes (compare: a header and index, convolution, "
        "correlation): loadtxt = `numpy.loadtxt` + `savetxt('%.17g')`; polars = "
        "`polars.read_csv` + `DataFrame.write_csv`; pyarrow = `pyarrow.csv.read_csv` + "
        "`write_csv`; pandas = `pandas.read_csv(engine='c', float_precision='round_trip')` + "
        "`to_csv`. Interleaved rounds (one run of each per round, a warm-up round discarded, "
        f"up to {settings.repeats} timed rounds), every process pinned to the same core; time = "
        "median wall-clock, peak MB = the process's peak RSS (ru_maxrss from os.wait4). "
        "Ratios: convcli time / script time; best: against the fastest script whose output "
        "agrees; `-`: skipped, "
        "`!`: some output value differs from convcli's by more than 1e-12 (relative)."
    )
    if skipped:
        note += " Skipped: " + "; ".join(skipped) + "."
    ratio_headers = ["case", "convcli", "peak MB", *labels, "best"]
    time_headers = ["case", "convcli", "peak MB"]
    for label in labels:
        time_headers += [label, "peak MB"]
    return "\n\n".join(
        [note, table(ratio_headers, ratios), "Times of every process:", table(time_headers, times)]
    )


def csv_best(row: CsvRow) -> float | None:
    """convcli's time over the fastest script's (among those whose output agrees)."""
    agreeing = {n: m for n, m in row.references.items() if n not in row.differs}
    reference = fastest(agreeing)
    if reference is None or not row.convcli.ok or row.convcli.seconds is None:
        return None
    return row.convcli.seconds / reference


def cli_section(rows: list[CliRow]) -> str:
    headers = ["case", "convcli", "peak MB", "reference", "reference time", "peak MB", "ratio"]
    body = [
        [
            row.case,
            time_cell(row.convcli),
            megabytes(row.convcli.peak),
            row.reference_label,
            time_cell(row.reference),
            megabytes(row.reference.peak),
            ratio_cell(row.convcli, row.reference, row.differs),
        ]
        for row in rows
    ]
    note = (
        "Start-up: each run a subprocess, wall-clock time, peak MB = the process's peak RSS "
        "(ru_maxrss from os.wait4), median of interleaved runs. Ratio: convcli time / "
        "reference time."
    )
    return note + "\n\n" + table(headers, body, left=(0, 3))


def throughput(values: int, measured: Measured) -> float | None:
    if not measured.ok or not measured.seconds:
        return None
    return values / measured.seconds


def non_streamed(csv_rows: list[CsvRow]) -> CsvRow | None:
    """The largest conv CSV case: the non-streamed path the stream is compared with."""
    candidates = [row for row in csv_rows if row.operation == "conv" and row.convcli.ok]
    return max(candidates, key=lambda row: row.values) if candidates else None


def stream_section(rows: list[StreamRow], csv_rows: list[CsvRow]) -> str:
    base = non_streamed(csv_rows)
    base_rate = throughput(base.values, base.convcli) if base else None
    headers = [
        "case",
        "convcli",
        "values/s",
        "peak MB",
        "polars stream script",
        "values/s",
        "peak MB",
        "ratio",
        "non-streamed values/s",
        "stream/non-streamed",
    ]
    body = []
    for row in rows:
        rate = throughput(row.values, row.convcli)
        theirs = throughput(row.values, row.reference)
        body.append(
            [
                row.case,
                time_cell(row.convcli) if row.available else "not available",
                f"{rate:.3g}" if rate else "-",
                megabytes(row.convcli.peak) if row.convcli.ok else "-",
                time_cell(row.reference),
                f"{theirs:.3g}" if theirs else "-",
                megabytes(row.reference.peak) if row.reference.ok else "-",
                ratio_cell(row.convcli, row.reference),
                f"{base_rate:.3g} ({base.case})" if base and base_rate else "-",
                ratio_text(rate / base_rate) if rate and base_rate else "-",
            ]
        )
    note = (
        "Stream: `generator | convcli conv - kernel.csv --stream --format csv > /dev/null`, "
        "one run, against the polars stream script on the same pipe (polars.read_csv on "
        "pieces of 8 MiB of whole lines of standard input, numpy.convolve on each piece after "
        "the previous piece's last 30 values, polars.write_csv of each piece's outputs), "
        "one run; neither pinned to a core. Peak MB = the "
        "reader's peak RSS (ru_maxrss from os.wait4). Ratio: convcli time / script time; "
        "stream/non-streamed: convcli's streamed throughput / its non-streamed conv "
        "throughput."
    )
    return note + "\n\n" + table(headers, body)


# ---------------------------------------------------------------- targets


@dataclass
class Target:
    label: str
    status: str  # "met", "MISSED" or "not measured"
    detail: str

    def line(self) -> str:
        return f"- {self.label}: {self.status} ({self.detail})"


def check(label: str, value: float | None, limit: float, detail: str, *, at_most: bool) -> Target:
    if value is None:
        return Target(label, "not measured", detail)
    met = value <= limit if at_most else value >= limit
    return Target(label, "met" if met else "MISSED", detail)


def engine_targets(rows: list[EngineRow]) -> list[Target]:
    label = "engine 1-D/2-D, N >= 1e5: at most 1.1x the fastest reference on every case"
    large = [(best_ratio(r), r) for r in rows if r.method == "auto" and r.cells >= 10**5]
    large = [(ratio, row) for ratio, row in large if ratio is not None]
    if large:
        worst, row = max(large, key=lambda pair: pair[0])
        above = sum(ratio > 1.1 for ratio, _ in large)
        detail = f"worst {ratio_text(worst)} on {row.case}; {above} of {len(large)} cases above"
        targets = [check(label, worst, 1.1, detail, at_most=True)]
    else:
        targets = [check(label, None, 1.1, "no case with N >= 1e5 in this run", at_most=True)]
    label = "engine 2-D 500x500..4000x4000 and 3-D 128**3, every padding: at most 1.0x scipy's best"
    grid = [(scipy_ratio(r), r) for r in rows if r.method == "auto" and grid_case(r.case)]
    grid = [(ratio, row) for ratio, row in grid if ratio is not None]
    if grid:
        worst, row = max(grid, key=lambda pair: pair[0])
        above = sum(ratio > 1.0 for ratio, _ in grid)
        detail = f"worst {ratio_text(worst)} on {row.case}; {above} of {len(grid)} cases above"
        targets.append(check(label, worst, 1.0, detail, at_most=True))
    else:
        targets.append(check(label, None, 1.0, "no such case in this run", at_most=True))
    label = "at least 20x faster than numpy.convolve at N = 1e6, K = 1e4"
    match = [r for r in rows if r.case == "1-D N=1e6 K=1e4" and r.method == "auto"]
    ratio = None
    if match and match[0].convcli.ok and match[0].references.get("numpy", Measured()).ok:
        ratio = match[0].convcli.seconds / match[0].references["numpy"].seconds
    detail = f"{1 / ratio:.1f}x faster" if ratio else "case not in this run"
    return [*targets, check(label, ratio, 0.05, detail, at_most=True)]


def cli_targets(rows: list[CliRow]) -> list[Target]:
    targets = []
    wanted = [
        ("start-up conv", "start-up `conv ... --format csv`: at most 1.25x import numpy", 1.25),
        ("start-up compare", "start-up `compare ... --format table`: at most 1.5x", 1.5),
    ]
    for case, label, limit in wanted:
        match = [r for r in rows if r.case == case and r.convcli.ok and r.reference.ok]
        ratio = None
        if match:
            ratio = match[0].convcli.seconds / match[0].reference.seconds
        detail = ratio_text(ratio) if ratio else "case not in this run"
        targets.append(check(label, ratio, limit, detail, at_most=True))
    return targets


#: The CSV cases of the polars targets: conv, corr and compare at 10^6 and 10^7 values.
POLARS_CASES = [csv_name(op, n) for n in (10**6, 10**7) for op in CSV_OPERATIONS]


def csv_targets(rows: list[CsvRow]) -> list[Target]:
    """The loadtxt target at 10^6, and convcli against the polars script on every case of
    POLARS_CASES: wall time at most 1.0x (stretch 0.7x), peak memory at most the script's."""
    label = "CLI conv on 1e6 CSV values: at most 0.4x the loadtxt script"
    match = [r for r in rows if r.case == csv_name("conv", 10**6)]
    ratio = time_ratio(match[0].convcli, match[0].references["loadtxt"]) if match else None
    detail = ratio_text(ratio) if ratio else "case not in this run"
    targets = [check(label, ratio, 0.4, detail, at_most=True)]
    times: list[tuple[float, CsvRow]] = []
    memory: list[tuple[float, CsvRow]] = []
    for row in rows:
        polars = row.references.get("polars")
        ratio = time_ratio(row.convcli, polars) if row.case in POLARS_CASES and polars else None
        if ratio is not None and polars and polars.peak and row.convcli.peak:
            times.append((ratio, row))
            memory.append((row.convcli.peak / polars.peak, row))
    scope = "conv, corr, compare CSV at 1e6 and 1e7 values"
    if not times:
        why = "polars not installed" if any(r.references["polars"].skipped for r in rows) else ""
        why = why or "no such case in this run"
        return [
            *targets,
            check(f"{scope}: at most 1.0x the polars script's time", None, 1.0, why, at_most=True),
            check(f"{scope}: stretch, at most 0.7x", None, 0.7, why, at_most=True),
            check(
                f"{scope}: peak memory at most the polars script's", None, 1.0, why, at_most=True
            ),
        ]
    measured = f"{len(times)} of {len(POLARS_CASES)} cases measured"
    worst_time, time_row = max(times, key=lambda pair: pair[0])
    worst_memory, memory_row = max(memory, key=lambda pair: pair[0])
    listed = ", ".join(f"{short_case(r)} {ratio_text(t)}" for t, r in times)
    for limit, label in (
        (1.0, "at most 1.0x the polars script's time"),
        (0.7, "stretch, at most 0.7x"),
    ):
        above = sum(t > limit for t, _ in times)
        detail = f"worst {ratio_text(worst_time)} on {short_case(time_row)}; {above} above; {listed}; {measured}"
        targets.append(check(f"{scope}: {label}", worst_time, limit, detail, at_most=True))
    listed = ", ".join(f"{short_case(r)} {ratio_text(m)}" for m, r in memory)
    detail = (
        f"worst {ratio_text(worst_memory)} the script's peak on {short_case(memory_row)}; "
        f"{listed}; {measured}"
    )
    label = f"{scope}: peak memory at most the polars script's"
    targets.append(check(label, worst_memory, 1.0, detail, at_most=True))
    return targets


def time_ratio(ours: Measured, theirs: Measured) -> float | None:
    """convcli's time over a reference's, where both ran."""
    if not ours.ok or not theirs.ok or not ours.seconds or not theirs.seconds:
        return None
    return ours.seconds / theirs.seconds


def short_case(row: CsvRow) -> str:
    return f"{row.operation} {count(row.values)}"


#: Throughput the 10^8 stream must reach: ten times the 2.7 million values/s of issue 18.
STREAM_RATE_TARGET = 27e6


def stream_targets(rows: list[StreamRow], csv_rows: list[CsvRow]) -> list[Target]:
    label_memory = "stream of 1e8 values: peak memory under 100 MB"
    label_rate = "stream of 1e8 values: throughput at least the non-streamed CSV path (1e7)"
    label_fast = "stream of 1e8 values: at least 27 million values/s (10x the 2.7 M/s of issue 18)"
    match = [r for r in rows if r.values == 10**8]
    if not match or not match[0].convcli.ok:
        why = "not available" if match and not match[0].available else "case not in this run"
        if match and match[0].convcli.error:
            why = match[0].convcli.error
        return [
            check(label_memory, None, 0, why, at_most=True),
            check(label_rate, None, 0, why, at_most=False),
            check(label_fast, None, 0, why, at_most=False),
        ]
    stream = match[0].convcli
    assert stream.peak is not None
    peak = f"{megabytes(stream.peak)} MB"
    memory = Target(label_memory, "met" if stream.peak < 100e6 else "MISSED", peak)
    base = [r for r in csv_rows if r.case == csv_name("conv", 10**7) and r.convcli.ok]
    rate = throughput(10**8, stream)
    base_rate = throughput(10**7, base[0].convcli) if base else None
    ratio = rate / base_rate if rate and base_rate else None
    detail = (
        f"{ratio_text(ratio)} the non-streamed rate" if ratio else "no 1e7 CLI case in this run"
    )
    speed = f"{rate:.3g} values/s" if rate else "no time"
    fast = check(label_fast, rate, STREAM_RATE_TARGET, speed, at_most=False)
    return [memory, check(label_rate, ratio, 1.0, detail, at_most=False), fast]


def layer_targets(rows: list[layers.LayerRow], torch_here: bool) -> list[Target]:
    time_ratio, memory_ratio, detail = layers.layer_measures(rows)
    if not torch_here:
        detail = "torch is not installed"
    return [
        check(
            "layers: at most 1.0x torch float64 on every case",
            time_ratio,
            1.0,
            detail,
            at_most=True,
        ),
        check(
            "layers: peak memory at most torch float64's on every case",
            memory_ratio,
            1.0,
            detail,
            at_most=True,
        ),
    ]


def targets_section(targets: list[Target]) -> str:
    tally = {
        status: sum(t.status == status for t in targets)
        for status in ("met", "MISSED", "not measured")
    }
    summary = (
        f"targets: {tally['met']} met, {tally['MISSED']} missed, "
        f"{tally['not measured']} not measured"
    )
    return "\n".join(["Targets:", "", *(t.line() for t in targets), "", summary])


# ---------------------------------------------------------------- machine


def version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def memory_total() -> str:
    try:
        match = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text())
    except OSError:
        return "? GB RAM"
    return f"{int(match.group(1)) * 1024 / 1e9:.0f} GB RAM" if match else "? GB RAM"


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"git {head}" + (" with uncommitted changes" if dirty else "")


def machine_section(settings: Settings, libraries: Sequence[str]) -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    packages = ", ".join(
        f"{name} {version(name) or 'not installed'}"
        for name in ("numpy", "scipy", "torch", "polars", "pyarrow", "pandas")
    )
    run = "quick run (small sizes; not for docs/performance.md)" if settings.quick else "full run"
    return "\n".join(
        [
            f"convcli benchmark, {run}, {time.strftime('%Y-%m-%d')}",
            "",
            f"- machine: {cpu_model()}, {os.cpu_count()} cores ({usable} usable), "
            f"{memory_total()}, {platform.system()} {platform.release()}",
            f"- software: Python {platform.python_version()}, {packages}",
            f"- convcli {version('convcli') or '?'} ({git_revision()}); methods: "
            f"{', '.join(convcli_methods())}; --stream: "
            f"{'available' if stream_available() else 'not available'}; "
            f"references measured: {', '.join(libraries)}",
        ]
    )


# ---------------------------------------------------------------- command line


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark convcli against numpy, scipy and torch (see the module docstring)."
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke run under a minute"
    )
    parser.add_argument("--repeats", type=int, help="timed samples after the warm-up (11; quick 3)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run only the cases whose name matches this regular expression (repeatable)",
    )
    parser.add_argument(
        "--methods",
        default="auto",
        help="convcli methods to measure, comma-separated: auto (default), direct, fft",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save every measurement")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--pinned", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--layer-worker", nargs="+", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def make_settings(arguments: argparse.Namespace) -> Settings:
    quick = arguments.quick
    methods = tuple(m.strip() for m in arguments.methods.split(",") if m.strip())
    unknown = set(methods) - {"auto", "direct", "fft"}
    if unknown or not methods:
        raise SystemExit(f"--methods: choose from auto, direct, fft (got {arguments.methods!r})")
    repeats = arguments.repeats if arguments.repeats is not None else (3 if quick else 11)
    if repeats < 1:
        raise SystemExit("--repeats must be at least 1")
    return Settings(
        quick=quick,
        repeats=repeats,
        budget=1.0 if quick else 10.0,
        engine_timeout=30.0 if quick else 180.0,
        process_timeout=60.0 if quick else 300.0,
        stream_timeout=60.0 if quick else 900.0,
        startup_runs=5 if quick else 20,
        cli_sizes=(10**5,) if quick else (10**6, 10**7),
        stream_values=10**6 if quick else 10**8,
        methods=methods,
        patterns=tuple(re.compile(p, flags=re.IGNORECASE) for p in arguments.only),
    )


def available_libraries() -> list[str]:
    """The reference libraries importable here: numpy always, scipy and torch if installed."""
    return [name for name in ("numpy", "scipy", "torch") if importlib.util.find_spec(name)]


def main(argv: Sequence[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    if arguments.worker:
        worker_main()
        return
    if arguments.pinned:
        pinned_main(arguments.pinned)
        return
    if arguments.layer_worker:
        layers.worker_main(arguments.layer_worker)
        return
    settings = make_settings(arguments)
    libraries = available_libraries()
    progress = progress_printer()
    sections = [machine_section(settings, libraries)]
    with tempfile.TemporaryDirectory(prefix="convcli-bench-") as temporary:
        folder = Path(temporary)
        engine_rows = run_engine(settings, libraries, folder, progress)
        pinned_rows = run_pinned(settings, progress)
        csv_rows = run_cli(settings, folder, progress)
        startup_rows = run_startup(settings, progress)
        stream_rows = run_stream(settings, folder, progress)
    layer_rows = (
        layers.run_layers(
            settings.quick, settings.repeats, settings.budget, settings.selected, progress
        )
        if "torch" in libraries
        else []
    )
    columns = [impl for impl, (library, _) in REFERENCES.items() if library in libraries]
    if engine_rows:
        sections.append(engine_section(engine_rows, columns, settings))
    if pinned_rows:
        sections.append(pinned_section(pinned_rows))
    if csv_rows:
        sections.append(csv_section(csv_rows, settings))
    if startup_rows:
        sections.append(cli_section(startup_rows))
    if stream_rows:
        sections.append(stream_section(stream_rows, csv_rows))
    if layer_rows:
        sections.append(layers.layer_section(layer_rows, seconds_text))
    targets = engine_targets(engine_rows)
    targets += pinned_targets(pinned_rows)
    targets += csv_targets(csv_rows)
    targets += cli_targets(startup_rows)
    targets += stream_targets(stream_rows, csv_rows)
    targets += layer_targets(layer_rows, "torch" in libraries)
    sections.append(targets_section(targets))
    print("\n\n".join(sections))
    if arguments.json:
        save_json(
            arguments.json,
            engine_rows,
            pinned_rows,
            csv_rows,
            startup_rows,
            stream_rows,
            layer_rows,
        )


def save_json(path: Path, *groups: list) -> None:
    """Every row as JSON (without the output samples), for later analysis."""
    rows = [asdict(row) for group in groups for row in group]
    text = json.dumps(rows, indent=1, default=str)
    path.write_text(re.sub(r'"sample": \[[^\]]*\]', '"sample": null', text))


if __name__ == "__main__":
    main()
