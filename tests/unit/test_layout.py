"""The package's import direction (docs/architecture.md): a module imports only its own layer and the layers before it.

Imports inside functions count too: they defer loading, not dependence.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cardiospike

SRC = Path(cardiospike.__file__).parent

#: Layers in import order; modules of one layer may import each other. The first layer imports nothing of the
#: package (``conf`` and ``web`` hold the configuration files and the web app's assets).
LAYERS = [
    {"version", "errors", "metrics", "recording", "arrays", "parallel", "conf", "web"},
    {"data"},
    {"features"},
    {"models"},
    {"ensemble"},
    {"remote"},
    {"artifact"},
    {"episodes"},
    {"live"},
    {"detector"},
    {"summary"},
    {"report"},
    {"training", "serving", "engines"},
    {"search"},
    {"cli", "__main__"},
]
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}
#: Pairs of the same or a later layer that still must not meet: the service never loads training, the search or
#: the engines (nor Dask through them); the engines need neither training nor the service.
FORBIDDEN = {
    ("serving", "training"),
    ("serving", "search"),
    ("training", "serving"),
    ("serving", "engines"),
    ("engines", "serving"),
    ("engines", "training"),
    ("training", "engines"),
}


def _top(module: str) -> str:
    """The top-level part of a module of the package (``cardiospike.models.nn.lit`` -> ``models``)."""
    return module.split(".")[1]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cardiospike."):
            found.add(_top(node.module))
        elif isinstance(node, ast.Import):
            found |= {_top(a.name) for a in node.names if a.name.startswith("cardiospike.")}
    return found


def test_every_module_imports_only_earlier_layers():
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts == ("__init__",):
            continue  # the public API re-exports every layer
        own = parts[0]
        for target in _imports(path) - {own}:
            if RANK[target] > RANK[own] or (own, target) in FORBIDDEN:
                wrong.append(f"{path.relative_to(SRC)} imports cardiospike.{target}")
    assert not wrong, wrong


def test_every_part_of_the_package_has_a_layer():
    modules = {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    assert modules | packages == set(RANK)
