"""The LightGBM forest as scoring sees it: loaded from its text, predicting with the fastest runtime at hand.

Two runtimes give the same probabilities (within 1e-12, a test checks it; on 10,000 real beats the largest
difference was 3.8e-14 and no flag differed, ``benchmarks/results/speed.md``):

* ``compiled``: the forest compiled to machine code for this CPU by `lleaves <https://github.com/siboehm/lleaves>`_
  (LLVM), 2.8 times as fast as LightGBM on one core (``benchmarks/results/speed.md``). Compiling takes about 20 s,
  so it is done once per model and CPU and kept in a cache folder (:func:`cache_dir`), named by the model text's
  SHA-256 and what the code depends on; later loads read it back in milliseconds with llvmlite alone. Needs the
  ``fast`` extra (``pip install 'cardiospike[fast]'``).
* ``lightgbm``: LightGBM's own predictor (slower to import: it loads scikit-learn).

``auto`` takes the compiled forest where lleaves is installed, else LightGBM. The model text is checked
(:mod:`~cardiospike.models.lgbm_text`) before either runtime reads it: both trust their input.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from cardiospike.models.lgbm_text import check_model_text

Runtime = Literal["auto", "compiled", "lightgbm"]
RUNTIMES: tuple[Runtime, ...] = ("auto", "compiled", "lightgbm")

#: Rows converted to float64 and predicted at once: bounds the memory of the copy the runtimes need.
CHUNK_ROWS = 8_192
#: The compiled forest's entry point, as lleaves names it.
_ENTRY = "forest_root"


def cache_dir() -> Path:
    """Where compiled forests are kept: ``$CARDIOSPIKE_CACHE_DIR``, else ``$XDG_CACHE_HOME/cardiospike``, else
    ``~/.cache/cardiospike``."""
    if folder := os.environ.get("CARDIOSPIKE_CACHE_DIR"):
        return Path(folder)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cardiospike"


def compiled_available() -> bool:
    """Whether the ``compiled`` runtime can be used (lleaves and llvmlite are installed)."""
    try:
        version("lleaves")
        version("llvmlite")
    except PackageNotFoundError:
        return False
    return True


class Forest:
    """A binary LightGBM forest over the beat features, checked on construction, loaded for scoring on demand.

    Parameters
    ----------
    text : str
        The model in LightGBM's text format.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.n_features_in_ = check_model_text(text)
        self.sha256 = hashlib.sha256(text.encode()).hexdigest()
        self.runtime: Runtime | None = None
        self._predict: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None

    @property
    def n_trees(self) -> int:
        return self.text.count("\nTree=")

    def load(self, runtime: Runtime = "auto", on_compile: Callable[[str], None] | None = None) -> Forest:
        """Make the forest ready to predict with ``runtime`` (see the module docstring); returns it.

        ``on_compile`` is called with a message before the forest is compiled (it takes a while), e.g. to tell a
        user why they wait.
        """
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown runtime {runtime!r}: expected one of {', '.join(RUNTIMES)}")
        if runtime == "auto":
            runtime = "compiled" if compiled_available() else "lightgbm"
        if runtime == "compiled":
            self._predict = _CompiledForest(self.text, self.sha256, on_compile).predict
        else:
            self._predict = _lightgbm_predictor(self.text)
        self.runtime = runtime
        return self

    def anomaly_proba(self, X: NDArray[np.floating]) -> NDArray[np.float64]:
        """Anomaly probability of each row of the feature matrix ``X`` (n_rows, n_features): shape (n_rows,), float64,
        the positive column of the scikit-learn ``LGBMBeatClassifier.predict_proba`` that trained it.

        Loads the forest with the ``auto`` runtime first where :meth:`load` has not been called.
        """
        predict = self._predict or self.load()._predict
        assert predict is not None
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected a matrix of {self.n_features_in_} features, got shape {X.shape}")
        out = np.empty(X.shape[0], dtype=np.float64)
        for start in range(0, X.shape[0], CHUNK_ROWS):
            chunk = np.ascontiguousarray(X[start : start + CHUNK_ROWS], dtype=np.float64)
            out[start : start + chunk.shape[0]] = predict(chunk)
        return out


def _lightgbm_predictor(text: str) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    import lightgbm as lgb  # only for this runtime: importing it takes about a second

    booster = lgb.Booster(model_str=text)
    return lambda X: np.asarray(booster.predict(X, num_threads=1), dtype=np.float64)


class _CompiledForest:
    """The forest compiled by lleaves, loaded from (or first written to) the cache with llvmlite alone.

    lleaves is imported only to compile; loading reads the object code back the way lleaves writes it (the same
    target machine: this CPU, position-independent code, large code model), so a load costs milliseconds and
    imports neither lleaves nor pandas.
    """

    def __init__(self, text: str, sha256: str, on_compile: Callable[[str], None] | None) -> None:
        import llvmlite.binding as llvm

        llvm.initialize()
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        cpu = llvm.get_host_cpu_name()
        try:
            features = llvm.get_host_cpu_features().flatten()
        except RuntimeError:  # LLVM cannot tell this CPU's features
            features = ""
        key = hashlib.sha256(
            "\n".join([sha256, cpu, features, version("lleaves"), version("llvmlite")]).encode()
        ).hexdigest()
        code = _object_code(text, cache_dir() / "forests" / f"{key}.o", on_compile)
        machine = llvm.Target.from_triple(llvm.get_process_triple()).create_target_machine(
            cpu=cpu, features=features, reloc="pic", codemodel="large"
        )
        self._engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), machine)
        self._engine.set_object_cache(getbuffer_func=lambda _: code)
        self._engine.finalize_object()
        self._engine.run_static_constructors()
        pointer = ctypes.POINTER(ctypes.c_double)
        entry = ctypes.CFUNCTYPE(None, pointer, pointer, ctypes.c_int32, ctypes.c_int32)
        self._entry = entry(self._engine.get_function_address(_ENTRY))
        self._pointer = pointer

    def predict(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.zeros(X.shape[0], dtype=np.float64)
        # ctypes releases the GIL for the call: other threads run while the trees are evaluated.
        self._entry(X.ctypes.data_as(self._pointer), out.ctypes.data_as(self._pointer), 0, X.shape[0])
        return out


def _object_code(text: str, path: Path, on_compile: Callable[[str], None] | None) -> bytes:
    """The compiled forest from the cache at ``path``, compiled and kept there first where it is missing.

    A cache that cannot be written costs the compilation at every load, nothing more.
    """
    if path.is_file():
        return path.read_bytes()
    if on_compile is not None:
        on_compile(f"compiling the model's trees for this CPU, once (about 20 s); kept in {path.parent}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = tempfile.mkdtemp(dir=path.parent, prefix=".compiling-")
    except OSError:
        folder = tempfile.mkdtemp(prefix="cardiospike-compiling-")
    try:
        staged = Path(folder) / "forest.o"
        _compile(text, Path(folder) / "model.txt", staged)
        code = staged.read_bytes()
        if staged.parent.parent == path.parent:
            os.replace(staged, path)  # whole or absent: a reader never sees half a file
        return code
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _compile(text: str, model_file: Path, out: Path) -> None:
    import lleaves

    model_file.write_text(text)
    model: Any = lleaves.Model(model_file=str(model_file))
    model.compile(cache=str(out), froot_func_name=_ENTRY)
