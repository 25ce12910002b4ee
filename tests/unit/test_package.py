"""The package's public API: every name resolves, the type checkers' view agrees, and importing it stays light."""

import ast
import subprocess
import sys
from importlib import import_module
from importlib.metadata import version
from pathlib import Path

import cardiospike


def test_every_public_name_resolves():
    for name in cardiospike.__all__:
        assert getattr(cardiospike, name) is not None, name
    assert cardiospike.__version__ == version("cardiospike")


def test_type_checkers_see_the_same_names():
    tree = ast.parse(Path(cardiospike.__file__).read_text())
    (block,) = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    seen = {
        (alias.name, node.module) for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    # The same names as the running program's, each the very object the running program gives.
    assert {name for name, _ in seen} == set(cardiospike.__all__) - {"__version__"}
    for name, module in seen:
        assert module is not None
        assert getattr(cardiospike, name) is getattr(import_module(module), name), name


def test_importing_the_package_loads_no_heavy_library():
    code = "import sys, cardiospike; print(sorted(m for m in ('pandas', 'sklearn', 'lightgbm') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_loading_the_default_model_imports_no_reader():
    from cardiospike.detector import load_detector

    load_detector()  # the compiled forest in the cache (compiling imports lleaves, which needs pandas)
    code = (
        "import sys; from cardiospike.detector import load_detector; load_detector(); "
        "print(sorted(m for m in ('pandas', 'pyarrow', 'sklearn', 'cardiospike.data') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _pyproject() -> dict:
    import tomllib

    return tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())


def test_dask_is_an_extra_of_its_own_that_dev_pulls_in():
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    assert {req.split(">")[0].split("=")[0] for req in extras["dask"]} == {"dask[dataframe]", "distributed"}
    dask_free = [*project["dependencies"], *(req for name, reqs in extras.items() if name != "dask" for req in reqs)]
    assert not [req for req in dask_free if req.startswith(("dask", "distributed"))]
    (own,) = [req for req in extras["dev"] if req.startswith("cardiospike[")]
    assert "dask" in own.removeprefix("cardiospike[").rstrip("]").split(",")
