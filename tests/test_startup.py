"""Start-up (issue 4, section 4): a small command imports numpy and click and nothing else.

Each test runs the command line in a fresh interpreter under ``python -X importtime``
and reads back which modules it imported, after the interpreter's own start-up
(``site``). No timings are asserted here (machines are noisy); what is checked is
what makes start-up slow: rich only where a table is drawn, and the teaching
modules, matplotlib, Pillow, scipy, json, pathlib and tempfile only where used.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import convcli

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
RUN_MAIN = "import sys; sys.argv[0] = 'convcli'; from convcli.cli.launch import main; main()"

#: Never imported by ``convcli conv 1,2,3 1,1 --format csv``.
NOT_ON_THE_CSV_PATH = (
    "rich",
    "convcli.render.tables",
    "convcli.render.explain",
    "convcli.analysis.gradients",
    "convcli.analysis.steps",
    "convcli.analysis.kernels",
    "convcli.render.plot",
    "convcli.formats.images",
    "convcli.engine.fft",
    "polars",
    "convcli.engine.streaming",
    "convcli.analysis.xcorr",
    "matplotlib",
    "PIL",
    "scipy",
    "numpy.fft",
    "numpy.ma",
    "json",
    "pathlib",
    "tempfile",
    "importlib.metadata",
)


def imports(code: str, *args: str) -> dict[str, str | None]:
    """The modules ``python -c code args...`` imports after start-up, each with its importer
    (None for an import made by the code itself); fails if the process fails."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,  # -c puts the working directory first on sys.path: this tree's convcli
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # "import time: self | cumulative |   name", children listed before their parent,
    # nested two spaces deeper.
    entries = [
        (len(name) - len(name.lstrip(" ")), name.strip())
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
        for name in [line.split("|")[2]]
        if name.strip() != "imported package"
    ]
    start = next(
        (i + 1 for i, (depth, name) in enumerate(entries) if (depth, name) == (1, "site")), 0
    )
    entries = entries[start:]
    importers: dict[str, str | None] = {}
    for index, (depth, name) in enumerate(entries):
        parent = next((other for level, other in entries[index + 1 :] if level < depth), None)
        importers[name] = parent
    return importers


def command_imports(*args: str) -> dict[str, str | None]:
    """What ``convcli args...`` imports, run as the console script runs it."""
    return imports(RUN_MAIN, *args)


def matching(importers: dict[str, str | None], prefixes: tuple[str, ...]) -> list[str]:
    """The imported modules that are one of ``prefixes`` or inside one, each with its
    importer; only the first of a chain (json, not json.decoder under it)."""

    def matches(name: str | None) -> bool:
        return name is not None and any(
            name == prefix or name.startswith(prefix + ".") for prefix in prefixes
        )

    return [
        f"{name} (imported by {importers[name] or 'the command'})"
        for name in importers
        if matches(name) and not matches(importers[name])
    ]


def assert_not_imported(importers: dict[str, str | None], prefixes: tuple[str, ...]) -> None:
    """Fail, naming each one and its importer, if any of these modules was imported."""
    found = matching(importers, prefixes)
    assert not found, f"imported, but should not be: {'; '.join(found)}"


def test_the_parser_reads_importtime_output() -> None:
    importers = imports("import json")
    assert "json" in importers
    assert importers["json.decoder"] == "json"
    assert importers["json"] is None


@pytest.mark.slow
def test_conv_csv_imports_only_numpy_click_and_what_it_uses() -> None:
    importers = command_imports("conv", "1,2,3", "1,1", "--format", "csv")
    assert {
        "numpy",
        "click",
        "convcli.cli.main",
        "convcli.engine",
        "convcli.formats.csv",
        "convcli.formats.serialise",
    } <= set(importers)
    assert_not_imported(importers, NOT_ON_THE_CSV_PATH)


@pytest.mark.slow
def test_conv_of_a_small_csv_file_imports_no_polars(tmp_path: Path) -> None:
    """Issue 18: polars (a tenth of a second to import) only for inputs that repay it."""
    small = tmp_path / "small.csv"
    small.write_text("x\n" + "".join(f"{n / 7!r}\n" for n in range(200)), encoding="utf-8")
    importers = command_imports("conv", str(small), "1,1", "--format", "csv")
    assert {"convcli.formats.csv", "convcli.formats.serialise"} <= set(importers)
    # a file's name is checked against the image formats' (convcli.formats.images)
    assert_not_imported(
        importers, tuple(name for name in NOT_ON_THE_CSV_PATH if name != "convcli.formats.images")
    )


@pytest.mark.slow
def test_conv_of_a_csv_file_of_a_few_megabytes_imports_polars(tmp_path: Path) -> None:
    large = tmp_path / "large.csv"
    rows = "".join(f"{n / 7!r}\n" for n in range(200_000))  # about 4 MB
    large.write_text(rows, encoding="utf-8")
    assert large.stat().st_size > 2 * (1 << 20)
    importers = command_imports("conv", str(large), "1,1", "--format", "csv")
    assert "polars" in importers  # in a function of convcli.formats.bulk: by "the command"


@pytest.mark.slow
def test_conv_with_a_named_kernel_imports_kernels_but_not_rich() -> None:
    importers = command_imports("corr", "1,2,3", "diff", "--format", "csv")
    assert "convcli.analysis.kernels" in importers
    assert_not_imported(importers, ("rich", "convcli.render.tables", "convcli.analysis.gradients"))


@pytest.mark.slow
def test_a_table_imports_rich() -> None:
    importers = command_imports("compare", "1,2,3", "1,1", "--format", "table")
    assert {"rich", "rich.console", "rich.table", "convcli.render.tables"} <= set(importers)
    assert_not_imported(
        importers, ("convcli.analysis.gradients", "convcli.render.plot", "matplotlib", "scipy")
    )
    # np.unique imports numpy.ma (~10 ms); the sparklines do without it.
    assert_not_imported(importers, ("numpy.ma",))


@pytest.mark.slow
def test_version_reads_no_package_metadata() -> None:
    importers = command_imports("--version")
    assert_not_imported(importers, ("importlib.metadata", "rich"))


@pytest.mark.slow
def test_import_convcli_imports_each_module_on_first_use() -> None:
    code = (
        "import sys, convcli; assert 'numpy' not in sys.modules; "
        "from convcli import convolve; import convcli.api as e; assert convolve is e.convolve; "
        "assert 'convcli.analysis.gradients' not in sys.modules; "
        "from convcli import Backward, backward; import convcli.analysis.gradients as g; "
        "assert (backward, Backward) == (g.backward, g.Backward)"
    )
    importers = imports(code)
    assert importers["convcli.api"] is None  # imported by the from-import, not before
    assert importers["convcli.analysis.gradients"] is None
    assert_not_imported(importers, ("rich", "click"))


@pytest.mark.slow
def test_the_console_script_loads_with_the_collector_paused_and_runs_with_it_on() -> None:
    code = (
        "import atexit, gc, sys; "
        "atexit.register(lambda: print(gc.isenabled(), gc.get_freeze_count(), file=sys.stderr)); "
        + RUN_MAIN
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "conv", "1,2,3", "1,1", "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
        check=False,
    )
    assert (result.returncode, result.stdout.split()) == (0, ["3", "5"]), result.stderr
    enabled, frozen = result.stderr.split()
    assert enabled == "True"
    assert int(frozen) > 10_000  # numpy's, click's and convcli's objects, out of the scans


def test_public_names_are_all_importable() -> None:
    for name in convcli.__all__:
        assert getattr(convcli, name) is not None
    assert set(convcli.__all__) <= set(dir(convcli))
    with pytest.raises(AttributeError):
        _ = convcli.no_such_name


def test_version_constant_matches_pyproject() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    declared = re.search(r'^version\s*=\s*"([^"]+)"', pyproject, re.MULTILINE)
    assert declared is not None
    assert convcli.__version__ == declared.group(1)


@pytest.mark.slow
def test_a_result_imports_its_renderer_only_when_displayed() -> None:
    code = (
        "import sys, convcli; result = convcli.compare([2, 1, 3], [1, -1]); "
        "assert 'convcli.render.notebook' not in sys.modules and 'rich' not in sys.modules; "
        "text = repr(result); assert text.startswith('Comparison:'), text"
    )
    importers = imports(code)
    assert importers["convcli.render.notebook"] is None  # by the repr, not by an import
    assert importers["convcli.render.tables"] == "convcli.render.notebook"
