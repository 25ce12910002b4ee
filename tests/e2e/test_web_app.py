"""The web app in Chromium: demo, upload and paste, the chart against the API's answer, slider, table, download."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from cardiospike.data import csv_text, recordings_to_frame, simulate_recording
from cardiospike.detector import ScoredRecording
from cardiospike.recording import Recording, measurement_errors
from cardiospike.summary import episodes_of

from ..server_process import serving
from .conftest import Console, screenshot

pytestmark = pytest.mark.e2e

SEED = 2
TABLET = {"width": 768, "height": 1024}
API_KEY = "e2e-secret"


def chart(page: Any, expression: str) -> Any:
    """Evaluate ``expression`` on the Plotly chart element ``c`` (its ``data`` and ``layout``)."""
    return page.evaluate(f"() => {{ const c = document.getElementById('chart'); return {expression}; }}")


def wait_for_recording(page: Any, study: str) -> None:
    page.wait_for_function(
        "id => { const c = document.getElementById('chart'); return c.layout && c.layout.title.text.includes(id); }",
        arg=f">{study}<",
    )
    page.wait_for_function("() => !document.getElementById('status').classList.contains('busy')")


def load_demo(page: Any, seed: int = SEED) -> None:
    page.goto("/")
    page.fill("#demo-seed", str(seed))
    page.click("#demo-load")
    wait_for_recording(page, f"demo-{seed}")


def scored_demo(api: httpx.Client, seed: int = SEED) -> dict[str, Any]:
    demo = api.get("/api/v1/demo", params={"seed": seed}).json()
    response = api.post("/api/v1/predict", json={k: demo[k] for k in ("study", "sequence", "times")})
    return {**response.json(), "times": demo["times"], "sequence": demo["sequence"]}


def anomaly_markers(page: Any) -> int:
    return int(chart(page, "c.data[1].x.length"))


def test_demo_chart_matches_the_api(page: Any, api: httpx.Client):
    page.goto("/")
    screenshot(page, "01-empty")
    expected = scored_demo(api)
    n_episodes = len(expected["episodes"])
    assert n_episodes > 0, "the demo should show episodes"

    page.fill("#demo-seed", str(SEED))
    page.click("#demo-load")
    wait_for_recording(page, f"demo-{SEED}")

    assert page.is_visible("#synthetic-banner")
    assert "Synthetic" in page.inner_text("#synthetic-banner")
    assert not page.is_visible("#recording-picker")  # one recording: nothing to pick
    assert not page.locator(".placeholder").count()
    assert f"{n_episodes} episode" in chart(page, "c.layout.title.text")
    assert page.locator("#episodes tbody tr").count() == n_episodes
    assert page.inner_text("#episode-count") == f"({n_episodes})"
    assert anomaly_markers(page) == sum(expected["is_anomaly"])
    assert chart(page, "c.data[2].x.length") == sum(expected["errors"])  # measurement errors, their own trace
    assert chart(page, "c.layout.shapes.length") == n_episodes
    assert chart(page, "c.data[0].x.length") == len(expected["sequence"])
    colours = chart(page, "c.data[1].marker.color")
    np.testing.assert_allclose(
        sorted(colours), sorted(p for p, f in zip(expected["anomaly_proba"], expected["is_anomaly"], strict=True) if f)
    )
    summary = page.inner_text("#summary")
    assert f"{expected['summary']['mean_rr']:.0f} ms" in summary
    assert page.inner_text("#model-threshold") == f"{expected['anomaly_thresh']:.3f}"
    assert expected["model_version"] in page.inner_text("#model-version")
    screenshot(page, "02-demo")

    # An episode row zooms the chart to it: by click, and by Enter from the keyboard.
    whole = chart(page, "c.layout.xaxis.range.slice()")
    page.click("#episodes tbody tr >> nth=0")
    page.wait_for_function(f"() => document.getElementById('chart').layout.xaxis.range[0] !== {whole[0]!r}")
    first = chart(page, "c.layout.xaxis.range.slice()")
    last = page.locator("#episodes tbody tr").last
    last.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.getElementById('chart').layout.xaxis.range[0] !== {first[0]!r}")
    assert last.get_attribute("aria-current") == "true"
    screenshot(page, "03-episode-zoomed")
    page.click("#zoom-reset")
    page.wait_for_function(f"() => document.getElementById('chart').layout.xaxis.range[0] === {whole[0]!r}")


def test_slider_recolours_without_a_request(page: Any, api: httpx.Client):
    expected = scored_demo(api)
    load_demo(page)
    model_count = anomaly_markers(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    page.fill("#threshold", "0.05")
    page.wait_for_function("() => document.getElementById('threshold-mode').textContent.includes('plain')")
    proba = np.asarray(expected["anomaly_proba"])
    flags = proba >= 0.05
    recording = Recording.from_rr(expected["sequence"], time=expected["times"])
    errors = np.asarray(expected["errors"], dtype=bool)
    episodes = episodes_of(ScoredRecording(recording, proba, flags, errors, threshold=0.05))
    assert anomaly_markers(page) == int(flags.sum()) != model_count
    assert page.locator("#episodes tbody tr").count() == len(episodes)
    assert f"{len(episodes)} episode" in chart(page, "c.layout.title.text")
    assert chart(page, "c.layout.shapes.length") == len(episodes)
    assert page.inner_text("#threshold-value") == "0.05"
    screenshot(page, "04-slider-low")

    page.focus("#threshold")
    page.keyboard.press("End")  # the keyboard moves the slider too: threshold 1, few beats or none
    page.wait_for_function("() => document.getElementById('threshold-value').textContent === '1.00'")
    assert anomaly_markers(page) == int((proba >= 1).sum())

    model_mode = "() => document.getElementById('threshold-mode').textContent.includes(\"model's flags\")"
    page.fill("#threshold", f"{expected['anomaly_thresh']:.2f}")  # the slider's step at the model's threshold
    page.wait_for_function(model_mode)
    assert anomaly_markers(page) == model_count == sum(expected["is_anomaly"])
    assert page.locator("#episodes tbody tr").count() == len(expected["episodes"])

    page.fill("#threshold", "0.05")
    page.wait_for_function("() => document.getElementById('threshold-mode').textContent.includes('plain')")
    page.click("#threshold-reset")  # the button goes back to the model's own flags and episodes too
    page.wait_for_function(model_mode)
    assert anomaly_markers(page) == model_count
    assert not requests, f"the slider sent requests: {requests}"


def test_upload_several_recordings_and_switch(page: Any, api: httpx.Client, tmp_path: Path):
    recordings = [simulate_recording(n, seed=s, id=f"patient-{s}") for n, s in ((700, 11), (500, 12), (300, 13))]
    content = csv_text(recordings_to_frame(recordings).drop(columns="y"))
    page.goto("/")
    page.set_input_files(
        "#file-input", files=[{"name": "three.csv", "mimeType": "text/csv", "buffer": content.encode()}]
    )
    wait_for_recording(page, "patient-11")
    assert page.is_visible("#recording-picker")
    assert page.locator("#recording-picker option").all_inner_texts() == [
        "patient-11 (700 beats)", "patient-12 (500 beats)", "patient-13 (300 beats)",
    ]  # fmt: skip
    assert not page.is_visible("#synthetic-banner")  # an uploaded file is not labelled synthetic

    page.select_option("#recording-picker", label="patient-12 (500 beats)")
    wait_for_recording(page, "patient-12")
    rec = recordings[1]
    expected = api.post(
        "/api/v1/predict", json={"study": rec.id, "sequence": rec.rr.tolist(), "times": rec.time.tolist()}
    ).json()
    n = len(expected["episodes"])
    assert f"{n} episode" in chart(page, "c.layout.title.text")
    assert chart(page, "c.data[0].x.length") == 500
    assert anomaly_markers(page) == sum(expected["is_anomaly"])
    screenshot(page, "05-upload-second-recording")

    page.select_option("#recording-picker", index=0)  # back to the first: from the page's cache
    wait_for_recording(page, "patient-11")
    assert chart(page, "c.data[0].x.length") == 700


def test_download_scored_csv(page: Any, api: httpx.Client):
    expected = scored_demo(api)
    load_demo(page)
    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == f"demo-{SEED}-scored.csv"
    frame = pd.read_csv(io.StringIO(Path(download.path()).read_text()))
    assert list(frame.columns) == ["id", "time", "x", "y", "anomaly_proba", "error"]
    assert len(frame) == len(expected["sequence"])
    assert (frame["id"] == f"demo-{SEED}").all()
    np.testing.assert_allclose(frame["x"], expected["sequence"])
    np.testing.assert_allclose(frame["time"], expected["times"])
    np.testing.assert_allclose(frame["anomaly_proba"], expected["anomaly_proba"])
    assert frame["y"].tolist() == expected["is_anomaly"]
    assert frame["error"].tolist() == expected["errors"]


def test_download_neutralises_formulas(page: Any):
    rec = simulate_recording(300, seed=5)
    content = "id,x\n" + "".join(f"@risky,{rr:g}\n" for rr in rec.rr)  # written by hand: csv_text would escape it
    page.goto("/")
    page.set_input_files("#file-input", files=[{"name": "f.csv", "mimeType": "text/csv", "buffer": content.encode()}])
    wait_for_recording(page, "@risky")
    with page.expect_download() as info:
        page.click("#download")
    frame = pd.read_csv(io.StringIO(Path(info.value.path()).read_text()))
    assert (frame["id"] == "'@risky").all()  # a spreadsheet shows the text instead of running it


def test_paste_rr_intervals(page: Any):
    page.goto("/")
    page.fill("#paste-input", "812\n790\n805\n1210\n640\n800\n2400\n790")
    page.click("#paste-score")
    wait_for_recording(page, "pasted")  # named after pasted.txt, as the service names a file's recording
    assert chart(page, "c.data[0].x.length") == 8
    assert chart(page, "c.data[2].x.length") == 1  # 2,400 ms: a measurement error
    assert not page.is_visible("#synthetic-banner")
    info = page.inner_text("#source-info")
    assert "Pasted text (pasted.txt)" in info
    assert "read as text" in info


def test_bad_input_shows_a_clear_message(page: Any, console: Console):
    console.allow(422)  # the service answers the bad file with 422, which Chromium logs
    load_demo(page)
    bad = b"id,time,x\n1,0,800\n1,800,abc\n"
    page.set_input_files("#file-input", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}])
    alert = page.locator("#message[role=alert]")
    alert.wait_for(state="visible")
    # The service names the place and the problem, never the value (the page's user knows their file).
    assert alert.inner_text() == (
        "The file cannot be used: bad.csv, line 3, field 'x': not a number (read as csv, from the extension .csv)"
    )
    page.wait_for_function("() => !document.getElementById('status').classList.contains('busy')")
    assert page.is_enabled("#demo-load")
    assert page.is_enabled("#file-input")
    assert f"demo-{SEED}" in chart(page, "c.layout.title.text")  # what was shown stays shown
    screenshot(page, "06-bad-file")

    page.fill("#paste-input", "   \n")
    page.click("#paste-score")  # nothing to read: said at once, nothing sent
    page.wait_for_function("() => document.getElementById('message').textContent.includes('Paste at least one')")

    # Pasted text is read by the service as a file would be: its message names the place in pasted.txt.
    page.fill("#paste-input", "800\n200000")
    page.click("#paste-score")
    page.wait_for_function(
        "() => document.getElementById('message').textContent.startsWith("
        "'The pasted text cannot be used: pasted.txt, line 2')"
    )
    assert not page.locator(".status.busy").count()
    assert f"demo-{SEED}" in chart(page, "c.layout.title.text")


def test_tablet_layout_has_no_horizontal_scroll(new_page: Callable[..., Any]):
    page = new_page(viewport=TABLET)
    load_demo(page)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "07-tablet")


@pytest.fixture(scope="module")
def keyed_url(browser: Any, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("e2e-keyed") / "server.log"
    with serving(tiny_model_dir, log, env={"CARDIOSPIKE_API_KEY": API_KEY}) as url:
        yield url


def test_api_key_field(new_page: Callable[..., Any], keyed_url: str, console: Console):
    console.allow(401)  # the first request goes without the key, on purpose
    page = new_page(base_url=keyed_url)
    page.goto("/")
    page.click("#demo-load")  # no key yet: the service answers 401, the page says what to do
    page.wait_for_function("() => document.getElementById('message').textContent.includes('API key')")
    page.fill("#api-key", API_KEY)
    page.click("#demo-load")
    wait_for_recording(page, "demo-1")
    assert page.inner_text("#message") == ""
    screenshot(page, "08-api-key")


def test_live_replay_marks_what_the_stream_decides(page: Any, tiny_model_dir: Path):
    from cardiospike.detector import load_detector
    from cardiospike.live import BeatDecisions

    load_demo(page)
    page.select_option("#live-speed", "100")
    page.click("#live-play")
    page.wait_for_function(
        "() => document.getElementById('live-status').textContent.startsWith('Done')", timeout=120_000
    )
    rec = simulate_recording(1200, seed=SEED, id=f"demo-{SEED}")
    detector = load_detector(tiny_model_dir)
    stream = detector.stream()
    events = stream.feed(rec.rr) + stream.close()
    flags = np.concatenate([e.is_anomaly for e in events if isinstance(e, BeatDecisions)])
    assert anomaly_markers(page) == int(flags.sum())
    closed = [e for e in events if not isinstance(e, BeatDecisions) and e.kind == "close"]
    assert page.locator("#episodes tbody tr").count() == max(len(closed), 1)  # a row saying "none" where none
    assert chart(page, "c.data[0].x.length") == len(rec)
    # The threshold card describes the replay on the chart, not the batch result.
    mode = page.inner_text("#threshold-mode")
    assert mode.startswith("Live replay (ended), the stream's threshold")
    assert f"{len(rec):,} of {len(rec):,} beats decided, {int(flags.sum())} anomalous, {len(closed)} episode" in mode
    assert page.inner_text("#threshold-value") == f"{detector.threshold:.3f}"
    assert page.is_disabled("#threshold")
    assert page.is_disabled("#download")  # the download holds the batch result, not the replay
    screenshot(page, "07-live-replay")

    page.click("#live-back")  # back to the batch result: chart, card and downloads
    page.wait_for_function("() => document.getElementById('threshold-mode').textContent.includes(\"model's flags\")")
    assert page.is_enabled("#threshold")
    assert page.is_enabled("#download")
    assert page.is_disabled("#live-back")


def test_threshold_card_follows_the_replay_while_it_runs(page: Any):
    load_demo(page)
    page.select_option("#live-speed", "10")
    page.click("#live-play")
    # Once the stream's ready message has come (before it, the card says it waits for the stream).
    page.wait_for_function(
        "() => /^Live replay, the stream's threshold.*beats decided so far, \\d+ anomalous, \\d+ episodes? so far/"
        ".test(document.getElementById('threshold-mode').textContent)"
    )
    page.click("#live-stop")
    page.wait_for_function("() => document.getElementById('live-status').textContent.startsWith('Stopped')")
    assert page.inner_text("#threshold-mode").startswith("Live replay (ended)")
    page.click("#live-back")
    page.wait_for_function("() => document.getElementById('threshold-mode').textContent.includes(\"model's flags\")")


# --- reading: the service reads pasted text and files alike, with the page's reading options --------------------------


def parse(api: httpx.Client, name: str, content: bytes, **fields: str) -> dict[str, Any]:
    """The service's reading of a file, as the page asks for it."""
    response = api.post("/api/v1/recordings/parse", files={"file": (name, content)}, data={"hints": "web", **fields})
    assert response.status_code == 200, response.text
    return response.json()


def seconds_text(n_beats: int = 300, seed: int = 41) -> tuple[Recording, str]:
    """A simulated recording and its RR written in seconds, one per line (as a chest strap app exports them)."""
    rec = simulate_recording(n_beats, seed=seed)
    return rec, "".join(f"{v / 1000:.3f}\n" for v in rec.rr)


def test_pasted_seconds_are_shown_downloaded_and_replayed_in_ms(page: Any, api: httpx.Client):
    rec, text = seconds_text()
    read = parse(api, "pasted.txt", text.encode())
    assert read["unit"] == "s"
    (expected,) = read["recordings"]
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))

    page.goto("/")
    page.fill("#paste-input", text)
    page.click("#paste-score")
    wait_for_recording(page, "pasted")
    # The chart plots the service's values, in ms: not 0.8 on the "RR (ms)" axis.
    assert chart(page, "c.layout.yaxis.title.text") == "RR (ms)"
    y = [v for v in chart(page, "c.data[0].y") if v is not None]
    valid = ~read_errors(expected["rr"])
    np.testing.assert_allclose(y, np.asarray(expected["rr"])[valid])
    assert min(y) > 300
    assert chart(page, "c.data[2].x.length") == int(np.sum(read_errors(expected["rr"])))
    lo, hi = chart(page, "c.layout.yaxis.range")
    assert lo > 100
    assert hi < 3000
    # Times in ms from the first beat: the clock advances (not 00:00:00 throughout).
    xs = chart(page, "c.data[0].x")
    assert xs[0] == "1970-01-01 00:00:00.000"
    assert xs[-1] > "1970-01-01 00:03:00"
    assert "RR in s" in page.inner_text("#source-info")

    with page.expect_download() as info:
        page.click("#download")
    frame = pd.read_csv(io.StringIO(Path(info.value.path()).read_text()))
    assert list(frame.columns) == ["id", "time", "x", "y", "anomaly_proba", "error"]
    np.testing.assert_allclose(frame["x"], expected["rr"])
    np.testing.assert_allclose(frame["time"], expected["time"])
    assert frame["x"].median() > 300

    page.select_option("#live-speed", "100")
    page.click("#live-play")
    page.wait_for_function(
        "() => document.getElementById('live-status').textContent.startsWith('Done')", timeout=120_000
    )
    assert sockets
    assert sockets[0].endswith("/api/v1/stream?unit=ms")
    # Replayed in ms: the beats are beats, not measurement errors of 0.8 ms.
    assert chart(page, "c.data[2].x.length") == int(np.sum(read_errors(expected["rr"])))
    assert chart(page, "c.data[0].x.length") == len(rec)


def read_errors(rr: list[float]) -> np.ndarray:
    return measurement_errors(np.asarray(rr, dtype=np.float64))


#: Keeps the fields of each form the page posts in ``window.forms`` (Chromium gives Playwright no body with a file).
RECORD_FORMS = """
window.forms = [];
const fetchAll = window.fetch;
window.fetch = (url, options) => {
  if (options && options.body instanceof FormData) {
    const fields = {};
    for (const [name, value] of options.body.entries()) {
      fields[name] = typeof value === "string" ? value : `file ${value.name}`;
    }
    window.forms.push({ url: String(url), fields });
  }
  return fetchAll(url, options);
};
"""


def test_unit_menu_reads_again_and_warnings_are_shown(page: Any, api: httpx.Client):
    _, text = seconds_text(200, seed=42)
    page.add_init_script(RECORD_FORMS)
    page.goto("/")
    assert page.locator("#read-unit option").all_text_contents() == ["auto", "ms", "s"]
    assert page.locator("#read-format option").all_text_contents() == [
        "auto", "csv", "text", "hrm", "json", "ndjson", "npy", "fit", "wfdb", "edf", "ecg",
    ]  # fmt: skip
    # The controls are named as the service's messages name them ("Unit: ms", "RR column: NAME" ...).
    page.click("#reading-options summary")
    for label in (
        "Unit", "Format", "RR column", "Time column", "Recording column", "Sampling rate (Hz)", "ECG lead",
        "Ignore times",
    ):  # fmt: skip
        assert page.get_by_label(label, exact=True).count() == 1, label

    # Seconds read as milliseconds, on purpose: every beat is a measurement error, and the page says so.
    page.select_option("#read-unit", "ms")
    page.fill("#read-rr-column", "1")
    page.fill("#paste-input", text)
    page.click("#paste-score")
    wait_for_recording(page, "pasted")
    (form,) = page.evaluate("() => window.forms")
    assert form["url"] == "/api/v1/recordings/parse"
    assert form["fields"] == {  # the empty columns are left to the service
        "file": "file pasted.txt", "unit": "ms", "format": "auto", "rr_column": "1", "ignore_time": "false",
        "hints": "web",
    }  # fmt: skip
    read = parse(api, "pasted.txt", text.encode(), unit="ms", rr_column="1")
    predicted = api.post(
        "/api/v1/predict",
        json={"study": "pasted", "sequence": read["recordings"][0]["rr"], "times": read["recordings"][0]["time"],
              "unit": "ms", "hints": "web"},
    ).json()  # fmt: skip
    expected = [*read["warnings"], *predicted["warnings"]]
    assert expected, "the service should warn about a recording of measurement errors"
    warnings = page.locator("#warnings")
    assert warnings.is_visible()
    assert warnings.get_attribute("role") == "alert"
    shown = page.locator("#warning-list li").all_inner_texts()
    assert set(shown) == set(expected)
    assert any("Unit: s" in w for w in shown)  # named as the page's control is
    assert page.is_visible("#summary-warning")  # HRV stays shown, flagged
    assert "Mean HR" in page.inner_text("#summary")
    assert page.evaluate("() => document.getElementById('reading-options').open")
    screenshot(page, "09-warning")

    page.select_option("#read-unit", "s")
    page.click("#read-again")  # the same pasted text, read again with the unit it has
    page.wait_for_function("() => document.getElementById('warnings').hidden")
    assert "RR in s" in page.inner_text("#source-info")
    assert not page.is_visible("#summary-warning")
    assert min(v for v in chart(page, "c.data[0].y") if v is not None) > 300


def test_an_edf_upload_is_read_as_ecg_and_its_report_has_strips(page: Any, api: httpx.Client, tmp_path: Path):
    """An EDF record (binary) uploaded through the page, its lead chosen with "ECG lead": the page shows the beats
    the service detected, and the report it downloads has the ECG strips of the episodes."""
    pytest.importorskip("sleepecg", reason="the 'ecg' extra (sleepecg) is not installed")
    edfio = pytest.importorskip("edfio", reason="the 'ecg' extra (edfio) is not installed")
    from cardiospike.data.synthetic import render_ecg

    rec = simulate_recording(600, seed=44)  # synthetic: no patient's ECG
    beats_s = 0.5 + (np.cumsum(rec.rr) - rec.rr[0]) / 1000.0
    x, _ = render_ecg(beats_s, 250.0, 0, int(np.ceil(beats_s[-1] + 1.0) * 250), noise=0.02, seed=44)
    path = tmp_path / "holter.edf"
    breathing = np.sin(np.arange(x.size) / 250.0)
    edfio.Edf([edfio.EdfSignal(breathing, 250.0, label="Resp"), edfio.EdfSignal(x, 250.0, label="Lead B")]).write(path)
    content = path.read_bytes()
    read = parse(api, "holter.edf", content, ecg_channel="Lead B")
    page.add_init_script(RECORD_FORMS)
    page.goto("/")
    page.click("#reading-options summary")
    page.fill("#read-ecg-channel", "Lead B")
    page.set_input_files(
        "#file-input", files=[{"name": "holter.edf", "mimeType": "application/octet-stream", "buffer": content}]
    )
    wait_for_recording(page, "holter")
    (form,) = page.evaluate("() => window.forms")
    assert form["fields"]["ecg_channel"] == "Lead B"
    assert "sampling_rate" not in form["fields"]  # EDF gives its own
    assert chart(page, "c.data[0].x.length") == len(read["recordings"][0]["rr"])
    assert "edf" in page.inner_text("#source-info")
    with page.expect_download() as info:
        page.click("#report")
    html = Path(info.value.path()).read_text(encoding="utf-8")
    assert "ECG of the episodes" in html or "No episodes at this threshold" in html
    assert "Channel <strong>Lead B</strong>" in html


def test_upload_shows_the_file_and_its_recording_named_after_it(page: Any, api: httpx.Client):
    rec = simulate_recording(400, seed=43)
    content = "RR (ms)\n" + "".join(f"{v:g}\n" for v in rec.rr)
    read = parse(api, "kubios_export.txt", content.encode())
    page.goto("/")
    page.set_input_files(
        "#file-input", files=[{"name": "kubios_export.txt", "mimeType": "text/plain", "buffer": content.encode()}]
    )
    wait_for_recording(page, "kubios_export")  # as the CLI names it, not "recording"
    info = page.inner_text("#source-info")
    assert info.startswith("File kubios_export.txt")
    assert read["taken_as"] in info
    assert not page.is_visible("#recording-picker")  # one recording: nothing to pick, the file named all the same
    assert page.is_visible("#source-info")


def test_labelled_upload_shows_f1_and_the_reference(page: Any, api: httpx.Client):
    rec = simulate_recording(900, seed=44, id="labelled-1")
    assert rec.labels is not None
    content = csv_text(recordings_to_frame([rec]))  # id,time,x,y: y holds the reference labels
    page.goto("/")
    upload = {"name": "labelled.csv", "mimeType": "text/csv", "buffer": content.encode()}
    page.set_input_files("#file-input", files=[upload])
    wait_for_recording(page, "labelled-1")
    expected = api.post(
        "/api/v1/predict",
        json={"study": rec.id, "sequence": rec.rr.tolist(), "times": rec.time.tolist(), "labels": rec.labels.tolist(),
              "unit": "ms"},
    ).json()  # fmt: skip
    reference = expected["reference"]
    assert reference is not None
    summary = page.inner_text("#summary")
    assert f"F1\n{reference['f1']:.3f}" in summary
    assert f"Precision\n{reference['precision']:.3f}" in summary
    assert f"Recall\n{reference['recall']:.3f}" in summary
    assert f"Missed beats\n{reference['n_missed']}" in summary
    assert f"False beats\n{reference['n_false']}" in summary
    assert "with reference labels" in page.inner_text("#source-info")

    names = chart(page, "c.data.map(t => t.name)")
    traces = {name: i for i, name in enumerate(names)}
    labelled = chart(page, f"c.data[{traces['Reference (labelled)']}].x.length")
    assert labelled == int(rec.labels.sum())
    assert chart(page, f"c.data[{traces['missed (labelled, not flagged)']}].x.length") == reference["n_missed"]
    assert chart(page, f"c.data[{traces['false (flagged, not labelled)']}].x.length") == reference["n_false"]
    assert page.is_visible("#reference-legend")
    screenshot(page, "10-labelled")

    with page.expect_download() as info:
        page.click("#download")
    frame = pd.read_csv(io.StringIO(Path(info.value.path()).read_text()))
    assert list(frame.columns) == ["id", "time", "x", "y", "label", "anomaly_proba", "error"]
    assert frame["label"].tolist() == rec.labels.tolist()
    assert frame["y"].tolist() == expected["is_anomaly"]


def test_live_replay_shows_the_stream_s_unit_note(page: Any):
    """A ``unit`` message (sent where the stream decides the unit) is shown; injected here into the real stream."""
    note = "their median, 0.8, is seconds"

    def relay(ws: Any) -> None:
        server = ws.connect_to_server()  # the page's messages go on to the server as they are

        def to_page(message: str | bytes) -> None:
            ws.send(message)
            if json.loads(message)["type"] == "ready":
                ws.send(json.dumps({"type": "unit", "unit": "s", "note": note}))

        server.on_message(to_page)

    page.route_web_socket(re.compile(r"/api/v1/stream\?unit=ms$"), relay)
    load_demo(page)
    page.select_option("#live-speed", "100")
    page.click("#live-play")
    page.wait_for_function(
        "() => document.getElementById('live-status').textContent.startsWith('Done')", timeout=120_000
    )
    assert page.inner_text("#live-status").endswith(f"RR read in s: {note}.")
