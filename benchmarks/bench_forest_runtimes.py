"""The runtimes the forest could be scored with, side by side on one core: how the compiled forest was chosen.

Usage: python benchmarks/bench_forest_runtimes.py [--model DIR] [--beats 20000] [--repeats 10]

The shipped forest predicts the feature matrix of ``--beats`` real beats (train.csv recordings laid end to end;
synthetic where the data is absent) with each runtime: the compiled forest (lleaves, what the package uses),
LightGBM's own predictor, and, where onnxmltools is installed (``pip install onnxmltools``: not a dependency of the
project), the forest converted to an ONNX ``TreeEnsembleClassifier`` and run by the ONNX Runtime the package
already ships. Median seconds of ``--repeats`` calls, and each runtime's largest probability difference from
LightGBM's and the flags at 0.5 that differ. Results go to stdout and benchmarks/results/forest-runtimes.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from bench_speed import long_recording
from cardiospike.detector import load_detector
from cardiospike.features import beat_features
from cardiospike.models.forest import Forest


def timed(predict: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    out = predict()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), out


def onnx_tree_ensemble(text: str, n_features: int) -> Callable[[np.ndarray], np.ndarray] | None:
    """The forest as ONNX Runtime's tree ensemble (float32 inputs and thresholds: what the converter makes)."""
    try:
        import lightgbm as lgb
        import onnxruntime as ort
        from onnxmltools import convert_lightgbm
        from onnxmltools.convert.common.data_types import FloatTensorType
    except ImportError:
        return None
    model = convert_lightgbm(
        lgb.Booster(model_str=text), initial_types=[("X", FloatTensorType([None, n_features]))], zipmap=False
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return lambda X: np.asarray(session.run(None, {"X": X.astype(np.float32)})[1])[:, 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--beats", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    detector = load_detector(args.model)
    rr, source = long_recording(args.beats)
    X = np.ascontiguousarray(beat_features(rr, detector.artifact.features), dtype=np.float64)
    text = detector.artifact.model.text
    runtimes: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "compiled forest (lleaves; the package's)": Forest(text).load("compiled").anomaly_proba,
        "LightGBM's predictor": Forest(text).load("lightgbm").anomaly_proba,
    }
    if (tree_ensemble := onnx_tree_ensemble(text, X.shape[1])) is not None:
        runtimes["ONNX Runtime TreeEnsembleClassifier (onnxmltools, float32)"] = tree_ensemble
    results = {name: timed(partial(predict, X), args.repeats) for name, predict in runtimes.items()}
    reference = results["LightGBM's predictor"][1]
    lines = [
        "# The forest's runtimes on one core",
        "",
        f"- command: `python benchmarks/bench_forest_runtimes.py --beats {args.beats} --repeats {args.repeats}`",
        f"- model: {detector.model_version} ({detector.artifact.model.n_trees} trees, {X.shape[1]} features); input: "
        f"the feature matrix of {args.beats:,} beats ({source})",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, one thread used",
        "",
        "| runtime | median ms | rows/s | largest difference from LightGBM | flags at 0.5 that differ |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, (seconds, proba) in results.items():
        lines.append(
            f"| {name} | {seconds * 1e3:.1f} | {X.shape[0] / seconds:,.0f} | {np.abs(proba - reference).max():.1e} "
            f"| {int(((proba >= 0.5) != (reference >= 0.5)).sum())} |"
        )
    if len(results) < 3:
        lines += ["", "onnxmltools is not installed here: the ONNX tree ensemble was not measured."]
    text_out = "\n".join(lines) + "\n"
    print(text_out)
    out = Path(__file__).with_name("results") / "forest-runtimes.md"
    out.write_text(text_out)


if __name__ == "__main__":
    main()
