"""benchmarks/calibrate.py: the module it writes and the table docs/performance.md quotes
(its renderer and its wiring, not its timing, which takes minutes)."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convcli.engine import calibration

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def calibrate():
    """benchmarks/calibrate.py as a module (it imports its neighbour machine.py)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("calibrate", BENCHMARKS / "calibrate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["calibrate"] = module  # where its dataclass looks up its annotations
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def header_of(calibrate, text):
    """The Provenance a module's header names."""
    fields = dict(re.findall(r"^(Command|Machine|Date|numpy): (.+)$", text, flags=re.MULTILINE))
    return calibrate.Provenance(
        fields["Command"], fields["Machine"], fields["Date"], fields["numpy"]
    )


def current_values(calibrate):
    return {name: getattr(calibration, name) for name in calibrate.COMMENTS}


def test_the_renderer_reproduces_the_committed_module(calibrate):
    text = Path(calibration.__file__).read_text(encoding="utf-8")
    assert calibrate.render(current_values(calibrate), header_of(calibrate, text)) == text
    assert {name for name in vars(calibration) if name.isupper()} == set(calibrate.COMMENTS)


#: Values that make the renderer wrap: long tables, a fourth kind, one-item tuples.
AWKWARD = {
    "COMPILED_TAPS": tuple(range(3, 300, 7)),
    "NS_COMPILED_OUTPUT": {
        kind: tuple(round(float(v), 3) for v in np.random.default_rng(1).uniform(0, 1e4, 40))
        for kind in "ifcO"
    },
    "PHASE_SPLITS": (2,),
    "NS_PHASE_EXTRA": {"i": (0.531,), "f": (1.79,), "c": (3.92,)},
    "NS_PER_VECTOR_MAC": {"i": 1.09, "f": 1.03, "c": 2.716, "O": 200.0},
    "NS_PER_FFT_UNIT_1D": {"i": 0.356, "f": 0.334, "c": 0.866},
    "NS_PER_FFT_UNIT_ND": {"i": 1.15, "f": 0.809, "c": 1.987},
    "NS_FFT_CALL": {"i": 123456789.5, "f": 49293.0, "c": 0.001},
}


@pytest.mark.parametrize("awkward", [False, True], ids=["current", "awkward"])
def test_the_written_module_holds_the_values_and_needs_no_formatting(calibrate, awkward):
    values = AWKWARD if awkward else current_values(calibrate)
    provenance = calibrate.Provenance("python benchmarks/calibrate.py", "CPU, 2 cores", "d", "2")
    text = calibrate.render(values, provenance)
    namespace = {}
    exec(compile(text, "calibration.py", "exec"), namespace)
    assert {name: namespace[name] for name in values} == values
    assert all(len(line) <= calibrate.LINE_LENGTH for line in text.splitlines())
    pytest.importorskip("ruff")
    for check in (["format", "--check"], ["check"]):
        run = subprocess.run(
            [sys.executable, "-m", "ruff", *check, "--stdin-filename", "convcli/engine/c.py", "-"],
            input=text,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr


def test_a_dry_run_prints_the_module_and_writes_nothing(calibrate, monkeypatch, capsys):
    asked = []
    monkeypatch.setattr(calibrate, "measure", lambda repeats: asked.append(repeats) or AWKWARD)
    before = calibrate.MODULE.read_bytes()
    calibrate.main(["--dry-run", "--repeats", "2"])
    printed = capsys.readouterr().out
    assert asked == [2]
    assert calibrate.MODULE.read_bytes() == before
    provenance = header_of(calibrate, printed)
    assert provenance.command == "python benchmarks/calibrate.py --repeats 2"
    assert provenance.numpy == np.__version__
    assert "cores" in provenance.machine
    assert printed == calibrate.render(AWKWARD, provenance)


def test_a_run_writes_the_module_then_prints_the_crossovers(
    calibrate, monkeypatch, capsys, tmp_path
):
    module = tmp_path / "convcli" / "engine" / "calibration.py"
    module.parent.mkdir(parents=True)
    commands = []
    monkeypatch.setattr(calibrate, "ROOT", tmp_path)
    monkeypatch.setattr(calibrate, "MODULE", module)
    monkeypatch.setattr(calibrate, "measure", lambda repeats: AWKWARD)
    monkeypatch.setattr(
        calibrate.subprocess, "run", lambda command, check: commands.append(command)
    )
    calibrate.main([])
    text = module.read_text(encoding="utf-8")
    assert text == calibrate.render(AWKWARD, header_of(calibrate, text))
    assert header_of(calibrate, text).command == "python benchmarks/calibrate.py"
    assert commands == [[sys.executable, calibrate.__file__, "--crossovers"]]
    assert "wrote convcli/engine/calibration.py" in capsys.readouterr().out


def test_docs_quote_where_auto_switches_by_these_constants(calibrate):
    """docs/performance.md's crossover table is what ``calibrate.py --crossovers`` prints."""
    performance = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    assert calibrate.crossover_table() in performance
