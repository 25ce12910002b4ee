import hashlib
import html as htmllib
import json
import re
from datetime import UTC, datetime

import numpy as np
import pytest

from cardiospike.data import simulate_recording
from cardiospike.recording import Recording
from cardiospike.report import ModelInfo, SourceInfo, render_report
from cardiospike.report.content import MAX_ERROR_RUNS
from cardiospike.report.decimate import BUCKETS, MAX_LINE_POINTS
from cardiospike.report.render import UNDEFINED, clock, inline_script, script_json
from cardiospike.summary import episodes_of, hrv_summary
from cardiospike.version import package_version
from cardiospike.web import plotly_js
from tests.reports import chart_data

from .conftest import MODEL, SOURCE, scored, simulated

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
DASH = UNDEFINED  # an en dash, also between the ends of a range


def _text(html: str) -> str:
    """The report's visible text, tags removed and entities decoded, on one line."""
    body = re.sub(r"<(script|style).*?</\1>", " ", html, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_header_names_the_model_the_input_and_the_date():
    content = b"id,time,x\na,0,800\n"
    source = SourceInfo.of_bytes("folder/rr file.csv", content)
    html = render_report([simulated(900)], model=MODEL, source=source, created=WHEN)
    text = _text(html)
    assert source.name == "rr file.csv"
    for expected in (
        "Model stack-test",
        "Decision threshold 0.390",
        "Cross-validated F1 0.861",
        "Input file rr file.csv",
        f"SHA-256 {hashlib.sha256(content).hexdigest()}",
        f"CardioSpike {package_version()}",
        "Created 2026-03-04 05:06:07 UTC",
        "Size 18 bytes",
    ):
        assert expected in text, expected
    assert "set for this report" not in text


def test_a_threshold_other_than_the_model_s_is_said():
    html = render_report([scored(simulate_recording(600, seed=2), threshold=0.7)], model=MODEL, source=SOURCE)
    assert "0.700 (set for this report; the model's is 0.390)" in _text(html)


def test_a_model_without_cross_validation_shows_a_dash():
    model = ModelInfo("m", 0.5, None, (300.0, 2000.0))
    assert f"Cross-validated F1 {DASH} per beat" in _text(render_report([simulated(300)], model=model, source=SOURCE))


def test_each_recording_has_its_section():
    recordings = [simulated(n, seed=s, id=f"patient-{s}") for n, s in ((900, 3), (500, 4), (700, 5))]
    html = render_report(recordings, model=MODEL, source=SOURCE)
    text = _text(html)
    charts = chart_data(html)
    assert len(charts) == 3
    assert 'class="several"' in html  # one recording a page in print
    assert "Recordings 3 (2,100 beats)" in text
    for number, s in enumerate(recordings, start=1):
        section = html.split(f'<section class="recording" id="recording-{number}"')[1].split(
            '<section class="recording"'
        )[0]
        part = _text(section)
        episodes = episodes_of(s)
        hrv = hrv_summary(s)
        assert f"Recording {s.recording.id}" in part
        assert f'id="chart-{number}" data-index="{number - 1}"' in section
        assert f"Episodes ({len(episodes)})" in part
        assert episodes
        assert section.split('class="episode-table"')[1].count("<tr><td>") == len(episodes)
        assert f"Mean RR {hrv.mean_rr:.0f} ms" in part
        assert f"SDNN {hrv.sdnn:.1f} ms" in part
        assert f"RMSSD {hrv.rmssd:.1f} ms" in part
        assert f"Valid beats {hrv.n_valid}" in part
        n_errors = int(s.error.sum())
        assert f"{n_errors} of {len(s.recording)} beats ({100 * n_errors / len(s.recording):.2f} %)" in part
        assert f'href="#recording-{number}"' in html  # the overview links to it
        chart = charts[number - 1]
        assert len(chart["anomalies"]["x"]) == int(s.is_anomaly.sum())
        assert len(chart["episodes"]) == len(episodes)


def test_one_recording_has_no_overview():
    html = render_report([simulated(300)], model=MODEL, source=SOURCE)
    assert 'class="one"' in html
    assert 'class="overview"' not in html


def test_episodes_table_shows_times_from_the_first_beat():
    rec = simulate_recording(800, seed=6)
    later = Recording(rec.id, rec.rr, rec.time + 3_600_000.0, rec.labels)  # an hour into the device's clock
    s = scored(later)
    first = episodes_of(s)[0]
    text = _text(render_report([s], model=MODEL, source=SOURCE))
    assert f"1 {clock(first.start_ms - later.time[0])} {clock(first.end_ms - later.time[0])}" in text


def test_errors_are_listed_where_they_are():
    rr = np.full(50, 800.0)
    rr[[3, 4, 20]] = [0.0, 65535.0, 250.0]
    s = scored(Recording.from_rr(rr, id="e", labels=np.zeros(50, dtype=np.int8)))
    time = s.recording.time
    text = _text(render_report([s], model=MODEL, source=SOURCE))
    assert f"3 of 50 beats (6.00 %) have an RR outside 300{DASH}2,000 ms" in text
    assert f"{clock(time[3])} 4 2 0{DASH}65,535" in text  # beats 4 and 5 (counted from 1), a run of two
    assert f"{clock(time[20])} 21 1 250" in text


def test_very_many_error_runs_are_counted_beyond_the_list():
    rr = np.tile([800.0, 100.0], 300)  # 300 runs of one error each
    s = scored(Recording.from_rr(rr, labels=np.zeros(rr.size, dtype=np.int8)))
    html = render_report([s], model=MODEL, source=SOURCE)
    assert f"And {300 - MAX_ERROR_RUNS} more runs of errors" in _text(html)
    assert len(chart_data(html)[0]["errors"]["x"]) == 300  # the chart marks every one


def test_undefined_statistics_show_a_dash():
    s = scored(Recording.from_rr([800.0], labels=[0]))
    text = _text(render_report([s], model=MODEL, source=SOURCE))
    assert f"SDNN {DASH} RMSSD {DASH} pNN50 {DASH}" in text
    assert "Mean RR 800 ms" in text


def test_short_recordings_are_drawn_whole():
    s = simulated(1200, seed=7)
    html = render_report([s], model=MODEL, source=SOURCE)
    (chart,) = chart_data(html)
    assert not chart["decimated"]
    assert "decimated" not in _text(html)
    line = chart["line"]
    assert len(line["x"]) == len(line["y"]) == len(line["p"]) == 1200
    # Gaps at measurement errors: the line joins only real beats.
    assert [i for i, y in enumerate(line["y"]) if y is None] == np.flatnonzero(s.error).tolist()
    np.testing.assert_allclose(line["x"], s.recording.time - s.recording.time[0], atol=0.05)


def test_long_recordings_keep_every_anomalous_beat_and_error():
    s = simulated(120_000, seed=8, episodes_per_1000=25, error_rate=0.01)
    html = render_report([s], model=MODEL, source=SOURCE)
    (chart,) = chart_data(html)
    t = s.recording.time - s.recording.time[0]
    assert chart["decimated"]
    assert sum(x is not None for x in chart["line"]["x"]) <= 2 * BUCKETS
    flagged = np.flatnonzero(s.is_anomaly)
    errors = np.flatnonzero(s.error)
    assert flagged.size > 10_000
    assert errors.size > 500
    np.testing.assert_allclose(chart["anomalies"]["x"], t[flagged], atol=0.05)
    np.testing.assert_allclose(chart["anomalies"]["rr"], s.recording.rr[flagged], atol=0.05)
    np.testing.assert_allclose(chart["errors"]["x"], t[errors], atol=0.05)
    np.testing.assert_allclose(chart["errors"]["rr"], s.recording.rr[errors], atol=0.05)
    lo, hi = chart["y_range"]
    assert all(lo < y < hi for y in chart["errors"]["y"])  # drawn inside the chart, at its edge
    text = _text(html)
    valid = int((~s.error).sum())
    assert f"The RR line is decimated for display: of the {valid:,} valid beats it draws" in text
    assert "Every anomalous beat and every measurement error is drawn" in text
    assert len(html) < 6_000_000  # Plotly.js is 4.8 MB of it


def test_more_valid_beats_than_the_line_keeps_are_decimated():
    few = np.full(MAX_LINE_POINTS, 800.0)
    many = np.full(MAX_LINE_POINTS + 1, 800.0)
    charts = chart_data(
        render_report(
            [scored(Recording.from_rr(rr, labels=np.zeros(rr.size, dtype=np.int8))) for rr in (few, many)],
            model=MODEL,
            source=SOURCE,
        )
    )
    assert [c["decimated"] for c in charts] == [False, True]


def test_times_beyond_dates_are_drawn_in_seconds():
    rec = Recording(id="far", rr=np.array([800.0, 800.0]), time=np.array([0.0, 2e13]), labels=np.zeros(2, np.int8))
    (chart,) = chart_data(render_report([scored(rec)], model=MODEL, source=SOURCE))
    assert not chart["date_axis"]
    assert chart["line"]["x"] == [0, 2e10]


def test_times_beyond_integers_are_drawn_as_they_are():
    # Whole numbers are written as integers only where int64 holds them: 1e300 never wraps around to a negative.
    rec = Recording(id="huge", rr=np.array([800.0, 800.0]), time=np.array([0.0, 1e300]), labels=np.zeros(2, np.int8))
    (chart,) = chart_data(render_report([scored(rec)], model=MODEL, source=SOURCE))
    assert chart["line"]["x"] == [0, 1e297]


def test_what_comes_from_the_input_is_escaped():
    evil = '</script><script>alert("id")</script><!--'
    source = SourceInfo.of_bytes('<img src=x onerror=alert("name")>.csv', b"x")
    html = render_report([simulated(300, id=evil), simulated(300, seed=2, id="a&b\u2028")], model=MODEL, source=source)
    assert "alert(" not in html.replace("alert(&#34;", "")  # only escaped copies of the payloads
    assert "<img" not in html
    assert html.count("<script") == 3  # the chart data, Plotly.js and the report's script
    assert html.count("</script>") == 3
    assert "&lt;/script&gt;&lt;script&gt;alert(&#34;id&#34;)" in html
    assert "&lt;img src=x onerror=alert(&#34;name&#34;)&gt;.csv" in html
    names = [c["name"] for c in chart_data(html)]  # image file names, from the ids
    assert all(re.fullmatch(r"[\w.-]+", name, re.ASCII) for name in names), names


def test_plotly_is_inlined_and_nothing_is_fetched():
    html = render_report([simulated(300)], model=MODEL, source=SOURCE)
    path = plotly_js()
    assert path is not None
    head = path.read_text()[:200]
    assert head in html
    page = re.sub(r"<script.*?</script>", "", html, flags=re.S)  # Plotly.js itself holds links in strings
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)
    assert "<link" not in page
    assert re.findall(r"<script[^>]*>", html) == [
        '<script type="application/json" id="report-data">',
        "<script>",
        "<script>",
    ]


def test_script_text_cannot_close_its_element():
    assert inline_script('var a = "</script>", b = "<!--", c = "</SCRIPT";') == (
        'var a = "\\x3C/script>", b = "\\x3C!--", c = "\\x3C/SCRIPT";'
    )
    value = {"id": "</script><!-- & \u2028"}
    text = script_json(value)
    assert not set("<>&\u2028") & set(text)
    assert json.loads(text) == value


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (0, "0:00:00.0"),
        (59_960, "0:01:00.0"),
        (3_723_400, "1:02:03.4"),
        (90_000_000, "25:00:00.0"),
        (-1500, "-0:00:01.5"),
    ],
)
def test_clock(ms: float, expected: str):
    assert clock(ms) == expected


def test_model_info_comes_from_the_detector(tiny_model_dir):
    from cardiospike.detector import load_detector

    detector = load_detector(tiny_model_dir)
    info = ModelInfo.of(detector)
    assert info.version == detector.model_version
    assert info.threshold == detector.threshold
    assert info.cv_f1 == pytest.approx(detector.artifact.manifest["cv"]["outer"]["f1"])
    assert info.rr_range == detector.artifact.rr_range


def test_source_of_a_file(tmp_path):
    path = tmp_path / "rr.txt"
    path.write_bytes(b"800\n810\n")
    assert SourceInfo.of_file(path) == SourceInfo("rr.txt", 8, hashlib.sha256(b"800\n810\n").hexdigest())
