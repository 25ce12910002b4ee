"""The HTML report in Chromium with no network: charts, tables and header, print layout, a day-long recording; and
the web page's button that downloads the report of the recording shown."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from cardiospike.arrays import flag_runs
from cardiospike.data import csv_text, recordings_to_frame, simulate_recording
from cardiospike.detector import ScoredRecording, load_detector
from cardiospike.metrics import flag_counts, precision_recall_f1
from cardiospike.recording import Recording, measurement_errors
from cardiospike.report import ModelInfo, SourceInfo, render_report
from cardiospike.summary import episodes_of
from tests.reports import chart_data

from .conftest import ARTIFACTS, LAPTOP, screenshot
from .test_web_app import RECORD_FORMS, load_demo, wait_for_recording

pytestmark = pytest.mark.e2e

READY = "() => document.body.dataset.chartsReady"
#: Beats of a day at about 83 beats per minute.
DAY_BEATS = 120_000


@pytest.fixture
def open_offline(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open report files in fresh browser contexts that are offline, where any request is refused and recorded."""
    contexts: list[Any] = []
    requests: list[str] = []
    errors: list[str] = []

    def refuse(route: Any) -> None:
        requests.append(route.request.url)
        route.abort()

    def open_file(path: Path, viewport: dict[str, int] = LAPTOP) -> Any:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        context.set_offline(True)
        context.route(re.compile(r"^(?!file:)"), refuse)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
        page.goto(path.as_uri())
        page.wait_for_function(READY)
        return page

    try:
        yield open_file
    finally:
        for context in contexts:
            context.close()
    assert not requests, f"the report asked the network for {requests}"
    assert not errors, f"console errors: {errors}"


@pytest.fixture(scope="module")
def three(
    tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[ScoredRecording], ModelInfo]:
    """A report of three recordings scored by the tiny model, one with an id that must be escaped."""
    detector = load_detector(tiny_model_dir)
    recordings = [
        simulate_recording(n, seed=s, id=i)
        for n, s, i in ((900, 21, "p-21"), (600, 22, "<b>p&22</b>"), (400, 23, "p-23"))
    ]
    scored = detector.score_many(recordings)
    model = ModelInfo.of(detector)
    path = tmp_path_factory.mktemp("report") / "three.html"
    path.write_text(render_report(scored, model=model, source=SourceInfo.of_bytes("three.csv", b"x")), encoding="utf-8")
    return path, scored, model


def marks(page: Any, number: int, kind: str) -> int:
    """How many marks of a kind (beat-marks, episode-shading) the report's script drew on chart ``number``."""
    return int(page.evaluate(f"() => document.querySelector('#chart-{number} g.{kind}').dataset.count"))


def client_point(page: Any, number: int, trace: int, index: int) -> tuple[float, float]:
    """Where on the screen a point of a chart's trace is."""
    return tuple(
        page.evaluate(
            """([number, trace, index]) => {
                const c = document.getElementById(`chart-${number}`);
                const { xaxis, yaxis } = c._fullLayout;
                const box = c.querySelector('.main-svg').getBoundingClientRect();
                const t = c.data[trace];
                return [box.left + xaxis._offset + xaxis.c2p(xaxis.d2c(t.x[index])),
                        box.top + yaxis._offset + yaxis.c2p(t.y[index])];
            }""",
            [number, trace, index],
        )
    )


def test_report_opens_offline_with_its_charts_and_tables(
    open_offline: Callable[..., Any], three: tuple[Path, list[ScoredRecording], ModelInfo]
):
    path, scored, model = three
    page = open_offline(path)
    assert page.locator("section.recording").count() == 3
    assert page.locator(".overview tbody tr").count() == 3
    assert page.inner_text("#recording-2-title") == "Recording <b>p&22</b>"  # shown as text, not markup
    assert page.inner_text("#model-version") == model.version
    assert page.inner_text("#source-name") == "three.csv"
    for number, s in enumerate(scored, start=1):
        assert page.locator(f"#chart-{number} .main-svg").count() > 0  # Plotly drew it
        assert marks(page, number, "beat-marks") == int(s.is_anomaly.sum()) + int(s.error.sum())
        episodes = page.locator(f"#recording-{number} .episode-table tbody tr").count()
        assert marks(page, number, "episode-shading") == episodes
        assert page.locator(f"#recording-{number} .summary dd").count() == 6
        assert page.locator(f"#recording-{number} .error-runs tbody tr").count() == int(s.error.sum())
    assert sum(int(s.is_anomaly.sum()) for s in scored) > 0, "the tiny model should flag some beats"
    screenshot(page, "report-01-three-recordings")

    # Hovering an anomalous beat shows its probability (the marks are drawn apart from Plotly's own traces).
    first = int(np.flatnonzero(scored[0].is_anomaly)[0])
    page.locator("#chart-1").scroll_into_view_if_needed()
    page.mouse.move(*client_point(page, 1, trace=1, index=0))
    page.wait_for_selector("#chart-1 .hovertext")
    assert f"P(anomaly) {scored[0].proba[first]:.3f}" in (page.text_content("#chart-1 .hoverlayer") or "")


def test_report_overlays_the_reference_labels(
    open_offline: Callable[..., Any], three: tuple[Path, list[ScoredRecording], ModelInfo]
):
    path, scored, _ = three
    page = open_offline(path)
    for number, s in enumerate(scored, start=1):
        labels = s.recording.labels
        assert labels is not None  # simulated recordings are labelled
        tp, fp, fn = flag_counts(labels, s.is_anomaly)
        f1 = float(precision_recall_f1(tp, fp, fn)[2])
        assert marks(page, number, "reference-band") == len(flag_runs(labels)[0])
        assert marks(page, number, "reference-marks") == fp + fn  # missed and false beats, each ringed
        # The model's own marks are counted apart: the labels add none to them.
        assert marks(page, number, "beat-marks") == int(s.is_anomaly.sum()) + int(s.error.sum())
        summary = page.inner_text(f"#recording-{number} .reference-summary")
        assert f"{f1:.3f}" in summary
        assert f"{fn:,}" in summary
    missed = [flag_counts(s.recording.labels, s.is_anomaly)[2] for s in scored if s.recording.labels is not None]
    assert sum(missed) > 0, "some beats should be missed"
    assert "Reference (labelled)" in (page.text_content("#chart-1 .legend") or "")
    screenshot(page, "report-06-reference-labels")


def test_report_prints_one_recording_a_page_without_controls(
    open_offline: Callable[..., Any], three: tuple[Path, list[ScoredRecording], ModelInfo]
):
    page = open_offline(three[0])
    page.emulate_media(media="print")
    assert not page.is_visible("#print")
    assert not page.locator(".modebar-container").first.is_visible()
    # 1000 px charts printed 700 px wide: inside an A4 page's 186 mm (703 px) between 12 mm margins.
    width = page.evaluate("document.getElementById('chart-1').getBoundingClientRect().width")
    assert 690 <= width <= 703
    breaks = page.evaluate(
        "Array.from(document.querySelectorAll('section.recording')).map(s => getComputedStyle(s).breakBefore)"
    )
    assert breaks == ["page"] * 3
    assert page.evaluate("getComputedStyle(document.querySelector('.chart-box')).breakInside") == "avoid"
    screenshot(page, "report-02-print")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(ARTIFACTS / "report-three.pdf"), format="A4", prefer_css_page_size=True)
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", (ARTIFACTS / "report-three.pdf").read_bytes())
    assert len(pages) >= 3  # each recording starts a page


def _day(tmp_path: Path) -> tuple[Path, ScoredRecording]:
    """A 24-hour recording (120,000 beats), its labelled episodes as the flags, many measurement errors."""
    rec = simulate_recording(DAY_BEATS, seed=24, episodes_per_1000=25, error_rate=0.01, mean_rr=720.0, id="day")
    assert rec.labels is not None
    flags = rec.labels.astype(bool)
    s = ScoredRecording(rec, np.where(flags, 0.8, 0.05), flags, measurement_errors(rec.rr), 0.4)
    path = tmp_path / "day.html"
    model = ModelInfo("synthetic-flags", 0.4, None, (300.0, 2000.0))
    path.write_text(render_report([s], model=model, source=SourceInfo.of_bytes("day.csv", b"x")), encoding="utf-8")
    return path, s


def test_a_day_long_recording_opens_with_every_mark(open_offline: Callable[..., Any], tmp_path: Path):
    path, s = _day(tmp_path)
    page = open_offline(path)  # waits until every chart is drawn (the time is measured in benchmarks/)
    n_marks = int(s.is_anomaly.sum()) + int(s.error.sum())
    assert n_marks > 20_000
    assert marks(page, 1, "beat-marks") == n_marks
    assert "decimated" in page.inner_text("#recording-1 figcaption")
    assert page.evaluate("document.getElementById('chart-1').data[0].x.length") <= 4000 + 2000
    screenshot(page, "report-03-day")

    # Zoomed to ten minutes, the chart draws the marks of those ten minutes (and of a margin of 10 pixels).
    page.evaluate("() => Plotly.relayout('chart-1', {'xaxis.range': ['2000-01-01 12:00:00', '2000-01-01 12:10:00']})")
    page.wait_for_function("() => Number(document.querySelector('#chart-1 g.beat-marks').dataset.count) < 1000")
    t = s.recording.time - s.recording.time[0]
    window = (t >= 12 * 3_600_000) & (t <= 12 * 3_600_000 + 600_000)
    assert marks(page, 1, "beat-marks") >= int((window & (s.is_anomaly | s.error)).sum())
    screenshot(page, "report-04-day-zoomed")


# --- the web page's button -------------------------------------------------------------------------------------------


def _download_report(page: Any, tmp_path: Path) -> str:
    with page.expect_download() as info:
        page.click("#report")
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    page.wait_for_function("() => document.getElementById('status').textContent.includes('downloaded')")
    return target.read_text(encoding="utf-8")


def test_web_page_downloads_the_report_of_the_demo(
    new_page: Callable[..., Any], api: httpx.Client, open_offline: Callable[..., Any], tmp_path: Path
):
    page = new_page()
    load_demo(page)
    assert page.is_enabled("#report")
    html = _download_report(page, tmp_path)
    (chart,) = chart_data(html)
    demo = api.get("/api/v1/demo", params={"seed": 2}).json()
    expected = api.post("/api/v1/predict", json={k: demo[k] for k in ("study", "sequence", "times")}).json()
    assert chart["n_beats"] == len(demo["sequence"])
    assert len(chart["anomalies"]["x"]) == sum(expected["is_anomaly"])
    assert ">demo-2.json<" in html
    assert f">{expected['model_version']}<" in html
    report = open_offline(tmp_path / "demo-2-report.html")  # the downloaded file itself, offline
    assert marks(report, 1, "beat-marks") == sum(expected["is_anomaly"]) + sum(expected["errors"])


def test_web_page_reports_the_uploaded_file_s_recording_shown(new_page: Callable[..., Any], tmp_path: Path):
    recordings = [simulate_recording(n, seed=s, id=f"patient-{s}") for n, s in ((700, 11), (500, 12), (300, 13))]
    content = csv_text(recordings_to_frame(recordings).drop(columns="y")).encode()
    page = new_page()
    page.goto("/")
    page.set_input_files("#file-input", files=[{"name": "three.csv", "mimeType": "text/csv", "buffer": content}])
    wait_for_recording(page, "patient-11")
    page.select_option("#recording-picker", label="patient-12 (500 beats)")
    wait_for_recording(page, "patient-12")
    html = _download_report(page, tmp_path)
    (chart,) = chart_data(html)
    assert chart["n_beats"] == 500
    assert "Recording</span> patient-12<" in html
    assert ">three.csv<" in html
    assert hashlib.sha256(content).hexdigest() in html  # the file as uploaded, named in the header
    screenshot(page, "report-05-web-button")


def test_web_page_reports_a_labelled_file_against_its_labels(new_page: Callable[..., Any], tmp_path: Path):
    rec = simulate_recording(600, seed=45, id="labelled-2")
    content = csv_text(recordings_to_frame([rec])).encode()  # with its y column: the reference labels
    page = new_page()
    page.goto("/")
    page.set_input_files("#file-input", files=[{"name": "labelled.csv", "mimeType": "text/csv", "buffer": content}])
    wait_for_recording(page, "labelled-2")
    summary = page.inner_text("#summary")
    html = _download_report(page, tmp_path)
    (chart,) = chart_data(html)
    assert chart["reference"] is not None
    f1 = re.search(r"<dt>F1</dt><dd>([\d.]+)</dd>", html)
    assert f1 is not None
    assert f"F1\n{f1.group(1)}" in summary  # the report and the page agree
    assert ">labelled.csv<" in html


def test_web_page_reports_pasted_text_read_with_the_page_s_options(new_page: Callable[..., Any], tmp_path: Path):
    rec = simulate_recording(300, seed=46)
    text = "".join(f"{v / 1000:.3f}\n" for v in rec.rr)
    page = new_page()
    page.add_init_script(RECORD_FORMS)
    page.goto("/")
    page.click("#reading-options summary")
    page.select_option("#read-unit", "s")
    page.fill("#paste-input", text)
    page.click("#paste-score")
    wait_for_recording(page, "pasted")
    html = _download_report(page, tmp_path)
    parse, report = page.evaluate("() => window.forms")
    assert report["url"] == "/api/v1/report"
    assert report["fields"] == {**parse["fields"], "recording": "pasted"}  # read as the page read it
    assert report["fields"]["unit"] == "s"
    (chart,) = chart_data(html)
    assert chart["n_beats"] == 300
    assert ">pasted.txt<" in html
    assert hashlib.sha256(text.encode()).hexdigest() in html
    lo, hi = chart["y_range"]
    assert lo > 300  # in ms
    assert hi < 3000


def test_report_of_an_ecg_draws_a_strip_per_episode_offline(
    open_offline: Callable[..., Any], tiny_model_dir: Path, tmp_path: Path
):
    """An ECG record's report: each episode's strip drawn (the ECG line, its beats marked, the episode shaded),
    offline, and printed at the page's width."""
    from cardiospike.data.ecg import ArraySignal, EcgSource
    from cardiospike.data.synthetic import render_ecg

    rec = simulate_recording(900, seed=45)  # synthetic: no patient's ECG
    beats_s = 0.5 + (np.cumsum(rec.rr) - rec.rr[0]) / 1000.0
    x, peaks = render_ecg(beats_s, 250.0, 0, int(np.ceil(beats_s[-1] + 1.0) * 250), noise=0.02, seed=45)
    ecg = Recording(id="holter", rr=np.r_[0.0, np.diff(peaks) * 4.0], time=np.asarray(peaks * 4.0, dtype=np.float64))
    detector = load_detector(tiny_model_dir)
    (scored,) = detector.score_many([ecg], threshold=0.1)
    n_strips = min(len(episodes_of(scored)), 20)
    assert n_strips
    html = render_report(
        [scored],
        model=ModelInfo.of(detector),
        source=SourceInfo.of_bytes("holter.edf", b"x"),
        ecg={"holter": EcgSource(ArraySignal(x, 250.0, "II"), peaks)},
    )
    path = tmp_path / "holter.html"
    path.write_text(html, encoding="utf-8")
    page = open_offline(path)
    assert page.locator(".strip .main-svg").count() >= n_strips  # Plotly drew every strip
    first = page.locator(".strip").first
    assert page.evaluate("() => document.querySelector('.strip').data.length") == 4  # the ECG and 3 kinds of beats
    assert page.evaluate("() => document.querySelector('.strip').layout.shapes.length") == 1  # the episode shaded
    assert page.evaluate("() => document.querySelector('.strip').layout.yaxis.title.text") == "II"
    first.scroll_into_view_if_needed()
    screenshot(page, "report-ecg")
    page.emulate_media(media="print")
    width = page.evaluate("document.querySelector('.strip').getBoundingClientRect().width")
    assert 690 <= width <= 703  # as the RR chart: 1000 px printed 700 px wide
    assert page.evaluate("getComputedStyle(document.querySelector('.strip-box')).breakInside") == "avoid"
