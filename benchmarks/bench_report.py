"""How long the HTML report of a day-long recording takes to open in Chromium without WebGL, and how large it is.

Usage: python benchmarks/bench_report.py [--beats 120000] [--repeats 7]

Two recordings of ``--beats`` beats: the labelled train.csv recordings laid end to end, each scored by the shipped
model on its own (a heavy case: about 16% anomalous beats and 11% measurement errors), and a synthetic one with
dense episodes whose labels stand for the flags (no data needed). Each report is written as ``cardiospike report``
writes it and opened ``--repeats`` times, each in a fresh context of headless Chromium started with
``--disable-gpu`` (no WebGL), offline. "Open" is the time from the start of navigation until every chart is drawn:
the report's script records ``performance.now()`` then. Plotly.js alone (the same page with nothing but the script)
is the floor; "zoom" is a ``Plotly.relayout`` to ten minutes, marks drawn again. Results go to stdout and to
benchmarks/results/report.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from cardiospike.data import read_recordings, simulate_recording
from cardiospike.detector import ScoredRecording, load_detector
from cardiospike.recording import Recording, measurement_errors
from cardiospike.report import ModelInfo, SourceInfo, render_report
from cardiospike.report.decimate import BUCKETS, MAX_LINE_POINTS
from cardiospike.report.render import inline_script
from cardiospike.web import plotly_js

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cardiospike" / "train.csv"
RESULTS = Path(__file__).resolve().parent / "results" / "report.md"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
ZOOM = """async () => {
    const start = performance.now();
    await Plotly.relayout('chart-1', {'xaxis.range': ['2000-01-01 12:00:00', '2000-01-01 12:10:00']});
    return performance.now() - start;
}"""


def real_day(n_beats: int) -> tuple[ScoredRecording, ModelInfo, str] | None:
    """train.csv's recordings, each scored on its own by the shipped model, laid end to end."""
    if not DATA.is_file():
        return None
    detector = load_detector()
    scored = detector.score_many(read_recordings(DATA))
    repeats = -(-n_beats // sum(len(s.recording) for s in scored))

    def laid(field: Any) -> np.ndarray:
        return np.concatenate([field(s) for s in scored] * repeats)[:n_beats]

    rec = Recording.from_rr(laid(lambda s: s.recording.rr), id="train.csv end to end")
    flags = laid(lambda s: s.is_anomaly)
    day = ScoredRecording(rec, laid(lambda s: s.proba), flags, laid(lambda s: s.error), detector.threshold)
    return day, ModelInfo.of(detector), "train.csv recordings, each scored by the shipped model, end to end"


def synthetic_day(n_beats: int) -> tuple[ScoredRecording, ModelInfo, str]:
    rec = simulate_recording(n_beats, seed=24, episodes_per_1000=25, error_rate=0.01, mean_rr=720.0, id="synthetic")
    assert rec.labels is not None
    flags = rec.labels.astype(bool)
    day = ScoredRecording(rec, np.where(flags, 0.8, 0.05), flags, measurement_errors(rec.rr), 0.4)
    return day, ModelInfo("labels as flags", 0.4, None, (300.0, 2000.0)), "synthetic, dense episodes, labels as flags"


def open_times(browser: Any, path: Path, repeats: int, zoom: bool) -> tuple[list[float], list[float]]:
    opened, zoomed = [], []
    for _ in range(repeats):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.set_offline(True)
        page = context.new_page()
        page.goto(path.as_uri())
        page.wait_for_function("() => document.body.dataset.chartsReady", timeout=60_000)
        opened.append(float(page.evaluate("document.body.dataset.chartsReady")))
        if zoom:
            zoomed.append(float(page.evaluate(ZOOM)))
        context.close()
    return opened, zoomed


def main() -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        raise SystemExit(f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium` to measure the report")
    parser = argparse.ArgumentParser()
    parser.add_argument("--beats", type=int, default=120_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    cases = [c for c in (real_day(args.beats), synthetic_day(args.beats)) if c is not None]
    rows = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        plotly = plotly_js()
        assert plotly is not None, "the plotly package is not installed"
        floor = Path(tmp) / "plotly.html"
        floor.write_text(
            "<!doctype html><html><body><script>" + str(inline_script(plotly.read_text())) + "</script><script>"
            "document.body.dataset.chartsReady = String(performance.now())</script></body></html>",
            encoding="utf-8",
        )
        plotly_only, _ = open_times(browser, floor, args.repeats, zoom=False)
        for day, model, what in cases:
            start = time.perf_counter()
            html = render_report([day], model=model, source=SourceInfo.of_bytes("day.csv", b""))
            rendered = time.perf_counter() - start
            path = Path(tmp) / "day.html"
            path.write_text(html, encoding="utf-8")
            opened, zoomed = open_times(browser, path, args.repeats, zoom=True)
            marks = int(day.is_anomaly.sum() + day.error.sum())
            rows.append((what, day, marks, rendered, path.stat().st_size, opened, zoomed))
        version = browser.version
        plotly_size = plotly.stat().st_size
        browser.close()
    load_after = os.getloadavg()

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values):,.0f} / {max(values):,.0f}"

    lines = [
        "# Report of a day-long recording in Chromium",
        "",
        f"- command: `python benchmarks/bench_report.py --beats {args.beats} --repeats {args.repeats}`",
        f"- browser: Chromium {version}, headless, `--disable-gpu` (no WebGL), offline; a fresh context per opening",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after (other work shared the cores)",
        "- open: navigation start until every chart is drawn (`performance.now()` when the report's script has "
        "drawn the last chart and its marks); median / slowest of the openings",
        "",
        "| recording | beats | anomalous beats + errors (marks) | report written (s) | file size | open, ms | "
        "zoom to 10 min, ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {what} | {len(day.recording):,} | {int(day.is_anomaly.sum()):,} + {int(day.error.sum()):,} = "
            f"{marks:,} | {rendered:.2f} | {size / 2**20:.1f} MiB | {ms(opened)} | {ms(zoomed)} |"
            for what, day, marks, rendered, size, opened, zoomed in rows
        ),
        f"| Plotly.js alone (the floor) | | | | {plotly_size / 2**20:.1f} MiB | {ms(plotly_only)} | |",
        "",
        f"The RR line is drawn from at most {MAX_LINE_POINTS:,} points (the lowest and highest beat of {BUCKETS:,} "
        "stretches of time); "
        "every anomalous beat and measurement error is drawn, as one SVG path per colour rather than one element "
        "per beat.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
