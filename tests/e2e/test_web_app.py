"""The web app in Chromium: demo, upload and paste, the chart against the API's answer, slider, table, download."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from cardiospike.data import csv_text, recordings_to_frame, simulate_recording
from cardiospike.detector import ScoredRecording
from cardiospike.recording import Recording
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
    page.fill("#paste-input", "812, 790, 805\n1210\n640,800\n2400\n790")
    page.click("#paste-score")
    wait_for_recording(page, "pasted")
    assert chart(page, "c.data[0].x.length") == 8
    assert chart(page, "c.data[2].x.length") == 1  # 2,400 ms: a measurement error
    assert not page.is_visible("#synthetic-banner")


def test_bad_input_shows_a_clear_message(page: Any, console: Console):
    console.allow(422)  # the service answers the bad file with 422, which Chromium logs
    load_demo(page)
    bad = b"id,time,x\n1,0,800\n1,800,abc\n"
    page.set_input_files("#file-input", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}])
    alert = page.locator("[role=alert]")
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

    page.fill("#paste-input", "800, 810, abc")
    page.click("#paste-score")
    page.wait_for_function("() => document.getElementById('message').textContent.includes('Pasted value 3')")

    page.fill("#paste-input", "800, 200000")
    page.click("#paste-score")  # a valid number the service refuses: its 422 detail is shown
    page.wait_for_function("() => document.getElementById('message').textContent.includes('RR value 2 is refused')")
    assert not page.locator(".status.busy").count()


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
    stream = load_detector(tiny_model_dir).stream()
    events = stream.feed(rec.rr) + stream.close()
    flags = np.concatenate([e.is_anomaly for e in events if isinstance(e, BeatDecisions)])
    assert anomaly_markers(page) == int(flags.sum())
    closed = [e for e in events if not isinstance(e, BeatDecisions) and e.kind == "close"]
    assert page.locator("#episodes tbody tr").count() == max(len(closed), 1)  # a row saying "none" where none
    assert chart(page, "c.data[0].x.length") == len(rec)
    screenshot(page, "07-live-replay")
