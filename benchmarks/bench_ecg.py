"""ECG input: beat detectors compared on simulated ECG, and a day-long record scored end to end.

Usage:
    python benchmarks/bench_ecg.py accuracy [--seconds 300]   # needs sleepecg and neurokit2 (see below)
    python benchmarks/bench_ecg.py day [--hours 24] [--fs 250]  # needs the ecg extra

1. ``accuracy``: ``sleepecg.detect_heartbeats`` against NeuroKit2 (``ecg_clean`` then ``ecg_peaks``, its default
   method) on simulated ECG: the package's own (:func:`cardiospike.data.synthetic.simulate_ecg`, whose R peaks are
   known) and NeuroKit2's ECGSYN (``ecg_simulate``, R peaks taken from the clean signal's maxima), at several heart
   rates and noise levels. Sensitivity and positive predictivity of detections within 75 ms of an R peak (matched one
   to one), and samples detected per second on one core. NeuroKit2 needs pandas < 3, which the project does not
   install: run this part in a virtual environment of its own (``pip install neurokit2 sleepecg pyarrow`` and
   ``PYTHONPATH=src``).
2. ``day``: a simulated record of ``--hours`` at ``--fs`` Hz written as a WFDB record (format 16), then
   ``cardiospike predict RECORD.hea -o scores.csv`` on one core (``taskset -c 0``): wall time and peak memory
   (maximum resident set of the process, from ``/usr/bin/time``). Target: 24 hours at 250 Hz in at most 60 s and
   1 GB.

Results go to stdout and benchmarks/results/ecg.md (each part replaces its own section).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cardiospike.data.synthetic import render_ecg, simulate_beats, simulate_ecg

RESULTS = Path(__file__).parent / "results" / "ecg.md"
TOLERANCE_S = 0.075
RATES = (45.0, 70.0, 100.0, 150.0)


def matched(reference: np.ndarray, found: np.ndarray, tolerance: int) -> int:
    """How many detections match a reference beat within ``tolerance`` samples, one to one (both sorted)."""
    if not reference.size or not found.size:
        return 0
    j = np.clip(np.searchsorted(found, reference), 1, found.size - 1)
    nearest = np.where(np.abs(found[j - 1] - reference) <= np.abs(found[j] - reference), j - 1, j)
    near = np.abs(found[nearest] - reference) <= tolerance
    return int(np.unique(nearest[near]).size)


def detectors() -> dict[str, Callable[[np.ndarray, float], np.ndarray]]:
    import neurokit2 as nk  # type: ignore[import-not-found,unused-ignore]
    import sleepecg

    def neurokit(x: np.ndarray, fs: float) -> np.ndarray:
        _, info = nk.ecg_peaks(nk.ecg_clean(x, sampling_rate=fs), sampling_rate=fs)
        return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)

    return {"sleepecg": lambda x, fs: np.asarray(sleepecg.detect_heartbeats(x, fs)), "neurokit2": neurokit}


def signals(seconds: float, fs: float) -> list[tuple[str, float, str, np.ndarray, np.ndarray]]:
    """(simulator, heart rate, noise label, signal, reference R peaks) for each case."""
    import neurokit2 as nk  # type: ignore[import-not-found,unused-ignore]
    from scipy.signal import find_peaks  # type: ignore[import-untyped,unused-ignore]

    cases = []
    for hr in RATES:
        for noise in (0.0, 0.05, 0.15, 0.3):
            x, peaks = simulate_ecg(seconds, fs=fs, heart_rate=hr, noise=noise, seed=int(hr))
            cases.append(("cardiospike", hr, f"{noise:g} mV", x, peaks))
        clean = nk.ecg_simulate(duration=int(seconds), sampling_rate=int(fs), heart_rate=hr, noise=0, random_state=1)
        peaks, _ = find_peaks(clean, height=0.5 * np.max(clean), distance=int(0.5 * 60.0 / hr * fs))
        rng = np.random.default_rng(int(hr))
        for noise in (0.0, 0.05, 0.15, 0.3):  # the same noise as above: white, mains hum, baseline wander
            t = np.arange(clean.size) / fs
            extra = rng.normal(0, noise, clean.size) + 0.5 * noise * np.sin(2 * np.pi * 50 * t)
            extra += 2.0 * noise * np.sin(2 * np.pi * 0.25 * t)
            cases.append(("neurokit2 ecgsyn", hr, f"{noise:g} mV", clean + extra, peaks))
    return cases


def accuracy(seconds: float, fs: float) -> str:
    found = detectors()
    tolerance = round(TOLERANCE_S * fs)
    lines = [
        "| simulator | heart rate | noise | detector | sensitivity | positive predictivity |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
    ]
    clean: dict[str, list[float]] = {name: [] for name in found}
    for simulator, hr, noise, x, peaks in signals(seconds, fs):
        for name, detect in found.items():
            beats = np.sort(detect(x, fs))
            tp = matched(peaks, beats, tolerance)
            se, ppv = tp / max(peaks.size, 1), tp / max(beats.size, 1)
            if noise == "0 mV":
                clean[name] += [se, ppv]
            lines.append(f"| {simulator} | {hr:g} | {noise} | {name} | {se:.2%} | {ppv:.2%} |")
    speed = [f"| detector | samples/s (1 hour at {fs:g} Hz, one core) |", "| --- | ---: |"]
    x, _ = simulate_ecg(3600, fs=fs, heart_rate=70, noise=0.05, seed=3)
    for name, detect in found.items():
        best = min(_timed(lambda d=detect: d(x, fs)) for _ in range(3))  # type: ignore[misc]
        speed.append(f"| {name} | {x.size / best:,.0f} |")
    worst = {name: min(v) for name, v in clean.items()}
    summary = ", ".join(f"{name} {v:.2%}" for name, v in worst.items())
    return "\n".join(
        [
            f"Detections within {TOLERANCE_S * 1000:g} ms of an R peak, {seconds:g} s per case at {fs:g} Hz. Lowest "
            f"sensitivity or positive predictivity on clean ECG: {summary}.",
            "",
            *lines,
            "",
            *speed,
        ]
    )


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def write_record(folder: Path, hours: float, fs: float) -> Path:
    """A WFDB record of simulated ECG (format 16, 200 units per mV), written an hour at a time."""
    seconds = hours * 3600.0
    beats = simulate_beats(seconds, heart_rate=70.0, seed=11)
    n = round(seconds * fs)
    step = int(3600 * fs)
    with (folder / "day.dat").open("wb") as file:
        for k, start in enumerate(range(0, n, step)):
            x, _ = render_ecg(beats, fs, start, min(start + step, n), noise=0.03, seed=k)
            np.clip(np.round(x * 200), -32767, 32767).astype("<i2").tofile(file)
    (folder / "day.hea").write_text(f"day 1 {fs:g} {n}\nday.dat 16 200/mV 16 0 0 0 0 ECG\n")
    return folder / "day.hea"


def day(hours: float, fs: float) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        header = write_record(folder, hours, fs)
        cli = str(Path(sys.executable).with_name("cardiospike"))
        command = [
            "taskset",
            "-c",
            "0",
            "/usr/bin/time",
            "-v",
            cli,
            "predict",
            str(header),
            "-o",
            str(folder / "s.csv"),
        ]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))  # type: ignore[union-attr]
        with (folder / "s.csv").open() as file:
            rows = sum(1 for _ in file) - 1
    shown = shlex.join(["taskset", "-c", "0", "cardiospike", "predict", "day.hea", "-o", "s.csv"])
    return (
        f"`{shown}` on a simulated {hours:g}-hour record at {fs:g} Hz ({round(hours * 3600 * fs):,} samples, WFDB "
        f"format 16): {wall:.1f} s wall, {peak / 1024:,.0f} MiB peak resident memory, {rows:,} beats written "
        "(target: at most 60 s and 1 GB)."
    )


def write_section(title: str, body: str, command: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# ECG input\n\nWritten by `benchmarks/bench_ecg.py`.\n"
    section = f"## {title}\n\n`{command}` on {platform.processor() or platform.machine()}, Python " \
        f"{platform.python_version()}.\n\n{body}\n"  # fmt: skip
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    RESULTS.write_text(text.rstrip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=("accuracy", "day"))
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--fs", type=float, default=250.0)
    args = parser.parse_args()
    command = shlex.join(["python", "benchmarks/bench_ecg.py", *sys.argv[1:]])
    if args.part == "accuracy":
        body = accuracy(args.seconds, args.fs)
        write_section("Detectors on simulated ECG", body, command)
    else:
        body = day(args.hours, args.fs)
        write_section("A day-long record end to end", body, command)
    print(body)


if __name__ == "__main__":
    main()
