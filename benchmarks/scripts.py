"""The reference scripts of the command-line benchmark (benchmarks/run.py), as source text.

Each CSV script is what a user would write with one library to do the job of ``convcli conv``,
``corr`` or ``compare`` on a CSV file: it runs as a fresh process,
``python script.py OPERATION SIGNAL KERNEL OUTPUT``, reads the two one-column files (no
header), computes with numpy (``convolve``, ``correlate`` or both, all ``valid``) and writes
the output file as convcli's ``--format csv`` does: one value a line, or for ``compare``
a header and the columns ``index,convolution,correlation``.

The stream script reads CSV values from standard input in pieces, convolves each piece with
the tail the previous one left (the kernel's length less one value), and writes each piece's
outputs to standard output: the job of ``convcli conv - kernel.csv --stream --format csv``.
"""

from __future__ import annotations

#: The part every CSV script shares: its arguments, and the valid results by operation.
COMMON = """\
import sys

import numpy as np

operation, signal_path, kernel_path, output_path = sys.argv[1:5]


def results(signal, kernel):
    if operation == "conv":
        return {"value": np.convolve(signal, kernel, "valid")}
    if operation == "corr":
        return {"value": np.correlate(signal, kernel, "valid")}
    convolution = np.convolve(signal, kernel, "valid")
    correlation = np.correlate(signal, kernel, "valid")
    index = np.arange(convolution.size)
    return {"index": index, "convolution": convolution, "correlation": correlation}


"""

LOADTXT = """\
signal = np.loadtxt(signal_path)
kernel = np.loadtxt(kernel_path)
columns = results(signal, kernel)
if operation == "compare":
    np.savetxt(
        output_path,
        np.column_stack(list(columns.values())),
        fmt=["%d", "%.17g", "%.17g"],
        delimiter=",",
        header=",".join(columns),
        comments="",
    )
else:
    np.savetxt(output_path, columns["value"], fmt="%.17g")
"""

POLARS = """\
import polars as pl

signal = pl.read_csv(signal_path, has_header=False).to_series().to_numpy()
kernel = pl.read_csv(kernel_path, has_header=False).to_series().to_numpy()
columns = results(signal, kernel)
pl.DataFrame(columns).write_csv(output_path, include_header=operation == "compare")
"""

PYARROW = """\
import pyarrow as pa
import pyarrow.csv as csv

options = csv.ReadOptions(autogenerate_column_names=True)
signal = csv.read_csv(signal_path, read_options=options).column(0).to_numpy()
kernel = csv.read_csv(kernel_path, read_options=options).column(0).to_numpy()
columns = results(signal, kernel)
header = csv.WriteOptions(include_header=operation == "compare")
csv.write_csv(pa.table(columns), output_path, write_options=header)
"""

PANDAS = """\
import pandas as pd


def read(path):
    frame = pd.read_csv(path, header=None, engine="c", float_precision="round_trip")
    return frame[0].to_numpy()


columns = results(read(signal_path), read(kernel_path))
pd.DataFrame(columns).to_csv(output_path, index=False, header=operation == "compare")
"""

#: Reference scripts of the CSV rows: name -> (library it needs, table label, source).
CSV_SCRIPTS: dict[str, tuple[str, str, str]] = {
    "loadtxt": ("numpy", "loadtxt", COMMON + LOADTXT),
    "polars": ("polars", "polars", COMMON + POLARS),
    "pyarrow": ("pyarrow", "pyarrow", COMMON + PYARROW),
    "pandas": ("pandas", "pandas", COMMON + PANDAS),
}

#: ``python script.py KERNEL < values > outputs``: polars reads standard input in pieces of
#: whole lines, numpy convolves each piece after the previous piece's last K - 1 values,
#: polars writes each piece's outputs.
POLARS_STREAM = """\
import io
import sys

import numpy as np
import polars as pl

PIECE = 1 << 23  # bytes of CSV text per piece

kernel = pl.read_csv(sys.argv[1], has_header=False).to_series().to_numpy()
source, sink = sys.stdin.buffer, sys.stdout.buffer
tail = np.empty(0)
rest = b""
while True:
    block = source.read(PIECE)
    text = rest + block
    if block:
        cut = text.rfind(b"\\n") + 1
        text, rest = text[:cut], text[cut:]
    if text.strip():
        frame = pl.read_csv(io.BytesIO(text), has_header=False, new_columns=["value"])
        values = np.concatenate([tail, frame.to_series().to_numpy()])
        if values.size >= kernel.size:
            outputs = np.convolve(values, kernel, "valid")
            pl.DataFrame({"value": outputs}).write_csv(sink, include_header=False)
        tail = values[max(values.size - kernel.size + 1, 0) :]
    if not block:
        break
sink.flush()
"""
