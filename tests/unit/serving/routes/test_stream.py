"""``/api/v1/stream``: live decisions over a WebSocket, the same as the Python stream's; bad input closes cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from cardiospike.data import simulate_recording
from cardiospike.detector import load_detector
from cardiospike.live import BeatDecisions

from ..conftest import MakeApp

URL = "/api/v1/stream"


def _collect(ws: Any) -> list[dict[str, Any]]:
    """Messages until the server closes the socket."""
    out = []
    while True:
        try:
            out.append(ws.receive_json())
        except WebSocketDisconnect:
            return out


def test_streamed_decisions_equal_the_python_streams(client: TestClient, tiny_model_dir: Path):
    rec = simulate_recording(700, seed=21)
    with client.websocket_connect(URL) as ws:
        ready = ws.receive_json()
        assert ready["type"] == "ready"
        for start in range(0, len(rec), 50):
            ws.send_json({"rr": rec.rr[start : start + 50].tolist()})
        ws.send_json({"end": True})
        messages = _collect(ws)
    beats = [m for m in messages if m["type"] == "beats"]
    flags = np.concatenate([m["is_anomaly"] for m in beats])
    proba = np.concatenate([m["anomaly_proba"] for m in beats])
    stream = load_detector(tiny_model_dir).stream()
    assert (ready["lookahead"], ready["block"]) == (stream.lookahead, stream.block)
    events = stream.feed(rec.rr) + stream.close()
    expected = np.concatenate([e.is_anomaly for e in events if isinstance(e, BeatDecisions)])
    np.testing.assert_array_equal(flags, expected.astype(int))
    assert proba.size == len(rec)
    kinds = [m["type"] for m in messages if m["type"].startswith("episode")]
    assert kinds == [e.to_dict()["type"] for e in events if not isinstance(e, BeatDecisions)]


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ('{"rr": [800, -3]}', "rr.1"),
        ('{"rr": "800"}', "rr"),
        ('{"beats": [800]}', "beats"),
        ("not json", "message"),
        ('{"rr": [800, 810], "times": [0]}', "one time per beat"),
    ],
)
def test_bad_messages_get_an_error_and_a_close_code(client: TestClient, message: str, problem: str):
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        ws.send_text(message)
        error = ws.receive_json()
        assert error["type"] == "error"
        assert error["code"] == 1007
        assert problem in error["detail"]
        assert "-3" not in error["detail"]  # values are not echoed
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1007


def test_the_key_comes_in_the_header_or_the_first_message(make_app: MakeApp):
    with TestClient(make_app(api_key="secret", stream_auth_timeout=0.3)) as keyed:
        with keyed.websocket_connect(URL) as ws:  # no key at all: nothing is sent, ready included, until it closes
            error = ws.receive_json()
            assert (error["type"], error["code"]) == ("error", 1008)
            assert "setting stream_auth_timeout" in error["detail"]
        with keyed.websocket_connect(URL) as ws:
            ws.send_json({"rr": [800.0]})  # beats before the key
            assert ws.receive_json()["code"] == 1008
        with keyed.websocket_connect(URL) as ws:
            ws.send_json({"api_key": "wrong"})
            error = ws.receive_json()
            assert (error["code"], error["detail"]) == (1008, "wrong API key")
        with keyed.websocket_connect(URL) as ws:
            ws.send_json({"api_key": "secret"})
            assert ws.receive_json()["type"] == "ready"  # the first thing sent, once the key is right
            ws.send_json({"rr": [800.0, 810.0], "end": True})
            assert any(m["type"] == "beats" for m in _collect(ws))
        with keyed.websocket_connect(URL, headers={"X-API-Key": "secret"}) as ws:
            ws.receive_json()
            ws.send_json({"rr": [800.0], "end": True})
            assert [m["type"] for m in _collect(ws)] == ["unit", "beats"]  # auto: the unit taken comes first
        with keyed.websocket_connect(URL, headers={"X-API-Key": "wrong"}) as ws:
            assert ws.receive_json()["code"] == 1008


def test_sockets_waiting_for_their_key_take_no_streams_place(make_app: MakeApp):
    app = make_app(api_key="secret", stream_max_connections=1, stream_auth_timeout=5.0)
    # The first socket has no key: it waits for it, and is not counted as a stream.
    with TestClient(app) as keyed, keyed.websocket_connect(URL) as waiting:
        with keyed.websocket_connect(URL, headers={"X-API-Key": "secret"}) as ws:
            assert ws.receive_json()["type"] == "ready"
            assert (app.state.streams, app.state.awaiting_key) == (1, 1)
        with keyed.websocket_connect(URL) as second:  # those waiting are bounded apart, as streams are
            error = second.receive_json()
            assert (error["code"], "waiting for their API key" in error["detail"]) == (1013, True)
        waiting.send_json({"api_key": "secret"})
        assert waiting.receive_json()["type"] == "ready"
        assert (app.state.streams, app.state.awaiting_key) == (1, 0)


@pytest.mark.parametrize("keyed", [False, True])
def test_a_binary_message_gets_an_error_and_1003(make_app: MakeApp, keyed: bool):
    with TestClient(make_app(api_key="secret" if keyed else None)) as client, client.websocket_connect(URL) as ws:
        if not keyed:
            ws.receive_json()  # ready
        ws.send_bytes(b'{"rr": [800]}')
        error = ws.receive_json()
        assert (error["type"], error["code"]) == ("error", 1003)
        assert "binary message" in error["detail"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1003


@pytest.mark.parametrize(
    ("messages", "problem"),
    [
        (['{"end": "yes"}'], "end: Input should be a valid boolean"),
        (['{"rr": [800], "end": 1}'], "end: Input should be a valid boolean"),
        (['{"rr": [800, 810], "times": [5, 1]}'], "times[1]: not after times[0]"),
        (['{"rr": [800, 810], "times": [5, 5]}'], "times[1]: not after times[0]"),
        (['{"rr": [800, 810], "times": [0, 800]}', '{"rr": [800], "times": [800]}'], "times[0]: not after the last"),
        # Timed by RR, the second beat is at 810: a given time must come after it.
        (['{"rr": [800, 810]}', '{"rr": [800], "times": [810]}'], "times[0]: not after the last"),
        (['{"rr": [0.8, 0.81], "times": [0, 1e308]}'], "times[1]: not a finite time"),  # 1e308 s: no float in ms
    ],
)
def test_malformed_end_and_times_that_do_not_increase(client: TestClient, messages: list[str], problem: str):
    url = f"{URL}?unit=s" if "1e308" in messages[-1] else URL
    with client.websocket_connect(url) as ws:
        ws.receive_json()
        for text in messages:
            ws.send_text(text)
        received = _collect(ws)
    error = received[-1]
    assert (error["type"], error["code"]) == ("error", 1007)
    assert error["detail"].startswith("invalid message: ")
    assert problem in error["detail"]


def test_times_that_increase_across_messages_are_taken(client: TestClient):
    with client.websocket_connect(f"{URL}?unit=ms") as ws:
        ws.receive_json()
        ws.send_json({"rr": [800.0, 810.0]})  # timed by RR: 0, 810
        ws.send_json({"rr": [805.0, 790.0], "times": [1615.0, 2405.0]})
        ws.send_json({"rr": [800.0], "end": True})
        messages = _collect(ws)
    assert sum(len(m["is_anomaly"]) for m in messages if m["type"] == "beats") == 5


def test_stream_limits(make_app: MakeApp):
    with TestClient(make_app(stream_max_beats=100, stream_idle_timeout=0.2, stream_max_connections=1)) as client:
        with client.websocket_connect(URL) as ws:
            ws.receive_json()
            ws.send_json({"rr": [800.0] * 101})
            assert "setting stream_max_beats" in ws.receive_json()["detail"]
        with client.websocket_connect(URL) as ws:
            ws.receive_json()
            error = ws.receive_json()  # nothing sent: the idle timeout closes the stream
            assert (error["code"], "stream_idle_timeout" in error["detail"]) == (1001, True)
        with client.websocket_connect(URL) as first:
            first.receive_json()
            with client.websocket_connect(URL) as second:
                assert second.receive_json()["code"] == 1013


def _decisions(messages: list[dict[str, Any]]) -> tuple[list[int], list[float]]:
    beats = [m for m in messages if m["type"] == "beats"]
    return [f for m in beats for f in m["is_anomaly"]], [p for m in beats for p in m["anomaly_proba"]]


@pytest.mark.parametrize("how", ["query", "message", "auto"])
def test_a_stream_in_seconds_is_decided_as_in_milliseconds(client: TestClient, how: str):
    rec = simulate_recording(600, seed=5)

    def run(url: str, rr: np.ndarray, first: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with client.websocket_connect(url) as ws:
            ready = ws.receive_json()
            if first is not None:
                ws.send_json(first)
            for start in range(0, len(rr), 64):
                ws.send_json({"rr": rr[start : start + 64].tolist()})
            ws.send_json({"end": True})
            return [ready, *_collect(ws)]

    in_ms = run(f"{URL}?unit=ms", rec.rr)
    seconds = rec.rr / 1000.0
    in_s = {
        "query": lambda: run(f"{URL}?unit=s", seconds),
        "message": lambda: run(URL, seconds, {"unit": "s"}),
        "auto": lambda: run(URL, seconds),
    }[how]()
    assert in_ms[0]["unit"] == "ms"
    flags_ms, proba_ms = _decisions(in_ms)
    flags_s, proba_s = _decisions(in_s)
    assert len(flags_s) == len(rec)
    assert flags_s == flags_ms
    np.testing.assert_allclose(proba_s, proba_ms, atol=1e-6)
    errors = [[e for m in run if m["type"] == "beats" for e in m["errors"]] for run in (in_ms, in_s)]
    assert errors[0] == errors[1]
    assert sum(errors[1]) < len(rec) / 10
    if how == "auto":
        unit = next(m for m in in_s if m["type"] == "unit")
        assert unit["unit"] == "s"
        assert "seconds" in unit["note"]


def test_a_stream_refuses_an_unknown_unit_or_a_late_one(client: TestClient):
    with client.websocket_connect(f"{URL}?unit=minutes") as ws:
        error = ws.receive_json()
        assert error["code"] == 1007
        assert "query parameter unit" in error["detail"]
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        ws.send_json({"rr": [800.0, 810.0]})
        ws.send_json({"unit": "s"})
        messages = _collect(ws)
        assert messages[-1]["code"] == 1007
        assert "before the first beats" in messages[-1]["detail"]


def test_times_may_stay_put_over_a_dropped_beat(client: TestClient):
    """As times computed from RR do (a 0 adds no time): the web page replays a recording's own times."""
    with client.websocket_connect(URL) as ws:
        ws.receive_json()
        ws.send_json({"rr": [800.0, 0.0, 810.0], "times": [0.0, 0.0, 810.0]})
        ws.send_json({"rr": [0.0, 790.0], "times": [810.0, 1600.0]})
        ws.send_json({"end": True})
        messages = _collect(ws)
    assert not any(m["type"] == "error" for m in messages)
    assert sum(len(m["errors"]) for m in messages if m["type"] == "beats") == 5
