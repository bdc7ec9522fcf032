"""The import graph: each layer of ``sim`` imports only the layers before it.

Layers, in order (docs/architecture.md): model, traffic, detect, engine, analysis, io,
study, present, cli. ``sim.testing`` (the public strategies) may use every layer but the
command line; ``sim.scenario`` is the loader's first address and may use the model only.
Imports inside functions (kept lazy for start-up time) count like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"
LAYERS = ("model", "traffic", "detect", "engine", "analysis", "io", "study", "present", "cli")
# Top-level modules, placed as a layer: what they may import is what that layer may.
MODULE_LAYERS = {"scenario": "model", "rules": "detect", "testing": "present", "__main__": "cli",
                 "__init__": ""}


def layer_of(module: str) -> str | None:
    """The layer a dotted ``sim...`` module name belongs to ('' for the package root)."""
    parts = module.split(".")
    if parts[0] != "sim":
        return None
    if len(parts) == 1:
        return ""
    if parts[1] in LAYERS:
        return parts[1]
    return MODULE_LAYERS[parts[1]]


def rank(layer: str) -> int:
    return -1 if layer == "" else LAYERS.index(layer)


def imported_modules(path: Path) -> set[str]:
    """Every ``sim`` module a file imports, at any depth (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.split(".")[0] == "sim"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "sim":
            # ``from sim.detect import rules`` imports the submodule: count the deepest
            # name that is a module, else the package.
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                names.add(candidate if _is_module(candidate) else node.module)
    return names


def _is_module(dotted: str) -> bool:
    path = SIM.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Each import from a module to a module of a later layer, as 'a -> b' text."""
    found = []
    for module, imports in sorted(graph.items()):
        own = layer_of(module)
        assert own is not None
        for target in sorted(imports):
            other = layer_of(target)
            if other is None or other == "":
                continue  # the package root holds only __version__
            if rank(other) > rank(own) and not (own == "" and module == "sim.__main__"):
                found.append(f"{module} ({own or 'root'}) -> {target} ({other})")
    return found


def import_graph() -> dict[str, set[str]]:
    return {module_name(p): imported_modules(p) for p in sorted(SIM.rglob("*.py"))}


def test_no_layer_imports_a_later_one() -> None:
    assert violations(import_graph()) == []


def test_every_module_belongs_to_a_layer() -> None:
    for module in import_graph():
        assert layer_of(module) is not None, module


def test_every_layer_is_a_package_with_a_docstring() -> None:
    for layer in LAYERS:
        init = SIM / layer / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.splitlines()) >= 2, f"{init}: say what the layer is for"


@pytest.mark.parametrize(("graph", "expected"), [
    ({"sim.model.units": {"sim.traffic.sorties"}},
     ["sim.model.units (model) -> sim.traffic.sorties (traffic)"]),
    ({"sim.detect.rules": {"sim.engine.hotline", "sim.model.records"}},
     ["sim.detect.rules (detect) -> sim.engine.hotline (engine)"]),
    ({"sim.testing": {"sim.cli"}}, ["sim.testing (present) -> sim.cli (cli)"]),
    ({"sim.cli.run": {"sim.model.units", "sim.present.plots"}, "sim.engine.motion":
      {"sim.traffic.plans"}}, []),
])
def test_the_checker_sees_a_violation(graph: dict[str, set[str]], expected: list[str]) -> None:
    assert violations(graph) == expected


def test_lazy_imports_count(tmp_path: Path) -> None:
    file = tmp_path / "m.py"
    file.write_text("def f():\n    from sim.present.plots import corridor_map\n")
    assert imported_modules(file) == {"sim.present.plots"}
