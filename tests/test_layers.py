"""The package's layers import only downward, and no modules import each other in a circle.

Every ``import`` in convcli counts, including those inside functions (made there for
start-up time): a lazy import upward is still an upward dependency. The layers, lowest
first, are docs/architecture.md's.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "convcli"

#: Each layer and what it may import besides itself. render and formats are siblings:
#: neither imports the other. display, at the bottom, imports nothing of convcli.
MAY_IMPORT = {
    "display": set(),
    "options": {"errors"},
    "errors": set(),
    "engine": {"options", "errors", "display"},
    "analysis": {"engine", "options", "errors", "display"},
    "api": {"analysis", "engine", "options", "errors", "display"},
    "formats": {"analysis", "engine", "options", "errors", "display"},
    "render": {"analysis", "engine", "options", "errors", "display"},
    "cli": {
        "render",
        "formats",
        "api",
        "analysis",
        "engine",
        "options",
        "errors",
        "display",
        "package",
    },
    # The facade installs the renderer that display calls (dependency inversion): the only
    # import of render from below cli, made on the first display.
    "package": {"render", "api", "analysis", "engine", "options", "errors", "display"},
}


def module_name(path: Path) -> str:
    """convcli/engine/core.py -> convcli.engine.core; convcli/__init__.py -> convcli."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    """The layer a module belongs to: its subpackage, or its own name at the top."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return "package" if len(parts) == 1 else "cli"
    return parts[1]


def imports(path: Path) -> set[str]:
    """The convcli modules a source file imports, anywhere in it (relative imports resolved;
    ``import convcli`` or ``from convcli import name`` is the package's facade)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            # ``from convcli.engine import fft`` imports the module convcli.engine.fft
            found.update(f"{base}.{alias.name}" for alias in node.names)
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name for name in found if name in modules and name != module}


def upward(modules: dict[str, set[str]]) -> list[str]:
    """Every import of a module from a layer above the importer's, or a sibling's."""
    return [
        f"{module} imports {imported}"
        for module, imported_modules in modules.items()
        for imported in sorted(imported_modules)
        if layer(imported) != layer(module) and layer(imported) not in MAY_IMPORT[layer(module)]
    ]


def graph() -> dict[str, set[str]]:
    """Each convcli module and the convcli modules it imports."""
    return {module_name(path): imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_is_in_a_known_layer():
    assert {layer(module) for module in graph()} <= set(MAY_IMPORT)


def test_layers_import_only_downward():
    assert upward(graph()) == []


def test_no_import_cycles():
    modules = graph()
    cycles = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(modules[module]):
            if state.get(imported) == "open":
                cycles.append(" -> ".join([*path[path.index(imported) :], imported]))
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in modules:
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("subpackage", ["engine", "analysis", "formats", "render", "cli"])
def test_subpackages_start_empty(subpackage):
    """An import of one module loads no others through its package's __init__."""
    init = PACKAGE / subpackage / "__init__.py"
    tree = ast.parse(init.read_text(encoding="utf-8"))
    assert [node for node in tree.body if not isinstance(node, ast.Expr)] == []


@pytest.mark.parametrize(
    "source",
    [
        "def f():\n    from convcli.cli import main\n",  # lazily, inside a function
        "from ..cli import main\n",  # relatively
        "import convcli\n",  # the facade, above every layer
        "from convcli import convolve\n",
    ],
)
def test_the_checks_see_an_upward_import(tmp_path, monkeypatch, source):
    package = tmp_path / "convcli"
    for folder in ("engine", "cli"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("", encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "cli" / "main.py").write_text("", encoding="utf-8")
    (package / "engine" / "probe.py").write_text(source, encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.PACKAGE", package)
    assert [line for line in upward(graph()) if "probe" in line] != []
