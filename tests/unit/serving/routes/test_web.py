import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cardiospike.serving.routes.web import PLOTLY_PATH, plotly_js
from cardiospike.web import STATIC_DIR, TEMPLATES_DIR

from ..conftest import MakeApp

ROOT = Path(__file__).resolve().parents[4]


def test_index_page_has_the_app_s_parts(client: TestClient):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for element_id in (
        "demo-form", "demo-seed", "file-input", "paste-input", "recording-picker", "chart", "threshold",
        "threshold-note", "episodes", "summary", "download", "report", "message", "synthetic-banner",
    ):  # fmt: skip
        assert f'id="{element_id}"' in html, element_id
    assert re.search(r'id="message"[^>]*role="alert"', html)
    for control in ("threshold", "paste-input", "file-input", "demo-seed", "recording-picker"):
        assert f'for="{control}"' in html, control  # every control has a label
    assert "synthetic" in html.lower()
    assert 'id="api-key"' not in html  # no key configured: no key field


def test_index_page_loads_only_local_assets(client: TestClient):
    html = client.get("/").text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    for source in sources:
        response = client.get(source)
        assert response.status_code == 200, source


def test_index_page_asks_for_the_key_where_one_is_set(make_app: MakeApp):
    with TestClient(make_app(api_key="secret")) as keyed:
        response = keyed.get("/")  # the page itself needs no key
        assert response.status_code == 200
        assert 'id="api-key"' in response.text
        assert 'data-api-key-required="true"' in response.text


def test_page_and_assets_are_not_api(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert PLOTLY_PATH not in paths
    assert {"/api/v1/demo", "/api/v1/recordings/parse"} <= set(paths)


@pytest.mark.parametrize(("name", "media"), [("app.js", "javascript"), ("app.css", "text/css"), ("favicon.svg", "svg")])
def test_static_assets(client: TestClient, name: str, media: str):
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert media in response.headers["content-type"]
    assert response.content == (STATIC_DIR / name).read_bytes()
    assert client.get("/static/missing.js").status_code == 404


def test_plotly_is_served_from_the_plotly_package(client: TestClient):
    path = plotly_js()
    assert path is not None
    assert path.parent.name == "package_data"
    response = client.get(PLOTLY_PATH)
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.content[:200] == path.read_bytes()[:200]
    assert b"plotly.js v" in response.content[:200]
    assert "max-age" in response.headers["cache-control"]


def test_static_files_are_counted_under_one_metrics_label(client: TestClient):
    client.get("/static/app.css")
    assert 'route="/static/{path}"' in client.get("/metrics").text


def test_every_web_file_is_package_data():
    """An installed (not editable) package must carry every file of the web app."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["cardiospike"]
    package = ROOT / "src" / "cardiospike"
    files = [p for d in (TEMPLATES_DIR, STATIC_DIR) for p in d.rglob("*") if p.is_file()]
    assert files
    for path in files:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch(relative, g) for g in globs), f"{relative} is not in [tool.setuptools.package-data]"


def test_reading_options_are_the_command_line_s_and_named_as_messages_name_them(client: TestClient):
    """Each reading option has a labelled control, whose label is how the service's messages (hints=web) name it,
    and the page's script sends it as the form field the service reads."""
    from cardiospike.data.errors import OPTION_NAMES
    from cardiospike.serving.scoring import READING_FIELDS

    html = client.get("/").text
    script = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    labels = {
        control: re.sub(r"<[^>]+>", "", label).strip()
        for control, label in re.findall(r'<label[^>]*for="(read-[\w-]+)"[^>]*>(.*?)</label>', html, re.S)
    }
    # The script's pattern of messages that name an option (such a message opens the reading options).
    pattern = re.search(r"const NAMES_AN_OPTION = /(.+)/;", script)
    assert pattern is not None
    names_an_option = re.compile(pattern.group(1))
    for option, names in OPTION_NAMES.items():
        label = names["web"].split(":")[0]
        assert labels.get("read-" + option.replace("_", "-")) == label, (option, labels)
        assert names_an_option.search("choose one with " + names["web"].format(value="X")), option
        assert option in READING_FIELDS
    # Sampling rate and lead, sent where set, as the fields sampling_rate and ecg_channel.
    assert labels["read-sampling-rate"] == "Sampling rate (Hz)"
    assert labels["read-ecg-channel"] == "ECG lead"
    fields = re.search(r"for \(const field of \[([^\]]*)\]\)", script)
    assert fields is not None
    assert {"sampling_rate", "ecg_channel"} <= set(re.findall(r'"(\w+)"', fields.group(1)))
    assert "sampling_rate: el.readSamplingRate.value.trim()" in script
    assert "ecg_channel: el.readEcgChannel.value.trim()" in script
    # EDF and ECG samples can be chosen, and an EDF file picked.
    assert '<option value="edf">edf</option>' in html
    assert '<option value="ecg">ecg</option>' in html
    accept = re.search(r'id="file-input"[^>]*accept="([^"]+)"', html)
    assert accept is not None
    assert ".edf" in accept.group(1).split(",")
