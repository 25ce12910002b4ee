"""``/api/v1/stream``: live scoring of a beat stream over a WebSocket (see :mod:`cardiospike.live`).

The client sends JSON text messages ``{"rr": [...], "times": [...]?}`` as beats arrive, and ``{"end": true}`` when
the stream ends; the server answers ``{"type": "ready", ...}`` first, then ``beats`` (final decisions), and
``episode_open`` / ``episode_close`` events as they become final, and after ``end`` the last decisions, then closes
(1000). RR and times are in the stream's unit: the query parameter ``unit`` (``ms``, ``s`` or ``auto``, the default),
or a field ``"unit"`` of a message before the first beats. With ``auto`` the unit is decided on the first beats, as
the file readers decide, and said in a message ``{"type": "unit", "unit": "s", "note": ...}``.

Where the service has an API key, it comes in the ``X-API-Key`` header or, from a browser (which cannot set headers on
a WebSocket), as the first message ``{"api_key": "..."}`` within ``stream_auth_timeout`` seconds. The key is checked
before anything else: until then the socket is not a stream (not counted among ``stream_max_connections``, given no
detector) and is sent nothing, ``ready`` included. At most ``stream_max_connections`` sockets wait for their key at
once, apart from the streams, so clients without the key can hold neither the streams' places nor, for long, their
own.

Bad input gets ``{"type": "error", "detail": ..., "code": ...}`` and the socket is closed with that code: 1008 a
missing or wrong key, 1003 a binary message (the stream reads JSON text only), 1007 an invalid message (where and
what, never the values: a value of the wrong type, ``end`` other than ``true``/``false``, times that do not increase
within a message or from one message to the next), 1009 a message too large (closed by the server before it is
read), 1001 idle for too long, 1013 too many streams (or sockets waiting for their key) at once, 1011 the model is
not loaded.
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any, Literal, get_args

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from cardiospike.detector import Detector
from cardiospike.live import BeatDecisions, BeatStream
from cardiospike.recording import Unit
from cardiospike.serving.deps import API_KEY_HEADER
from cardiospike.serving.schemas import RRValue, TimeValue
from cardiospike.serving.scoring import in_thread
from cardiospike.serving.settings import Settings

router = APIRouter()

INVALID, POLICY, AWAY, SERVER_ERROR, TRY_LATER, UNSUPPORTED = 1007, 1008, 1001, 1011, 1013, 1003


class StreamMessage(BaseModel):
    """One message of a stream: beats, and/or the end of the stream."""

    model_config = ConfigDict(extra="forbid")

    rr: Annotated[list[RRValue], Field(max_length=10_000, fail_fast=True)] = Field(default_factory=list)
    times: Annotated[list[TimeValue], Field(max_length=10_000, fail_fast=True)] | None = None
    unit: Literal["auto", "ms", "s"] | None = None
    # Strict: JSON true or false only; "yes", 1 or "false" would otherwise end (or not end) a stream by accident.
    end: StrictBool = False


class Refused(Exception):  # noqa: N818 (not an error of the service: a reason to close the socket)
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@router.websocket("/api/v1/stream")
async def stream(websocket: WebSocket) -> None:
    settings: Settings = websocket.app.state.settings
    state = websocket.app.state
    await websocket.accept()
    try:
        await _authorise(websocket, settings)  # before anything is counted, made or sent
        detector: Detector | None = state.detector
        if detector is None:
            raise Refused(SERVER_ERROR, "the model is not loaded")
        if state.streams >= settings.stream_max_connections:
            raise Refused(TRY_LATER, f"more than {settings.stream_max_connections} streams at once: try again later")
        state.streams += 1
        try:
            await _serve(websocket, detector, settings)
        finally:
            state.streams -= 1
    except Refused as refused:
        await _refuse(websocket, refused)
    except WebSocketDisconnect:  # the client went away: nothing to answer
        return


async def _authorise(websocket: WebSocket, settings: Settings) -> None:
    """Check the API key, where the service has one: the header, else a first message within
    ``stream_auth_timeout`` seconds. A socket waiting for its key holds a place of its own, not a stream's."""
    if settings.api_key is None:
        return
    header_key = websocket.headers.get(API_KEY_HEADER)
    if header_key is not None:
        _check_key(header_key, settings)
        return
    state = websocket.app.state
    if state.awaiting_key >= settings.stream_max_connections:
        raise Refused(
            TRY_LATER,
            f"more than {settings.stream_max_connections} streams waiting for their API key at once: try again later",
        )
    state.awaiting_key += 1
    try:
        with anyio.move_on_after(settings.stream_auth_timeout) as late:
            text = await _receive_text(websocket)
        if late.cancelled_caught:
            raise Refused(
                POLICY,
                f"missing API key: send {API_KEY_HEADER} or, within {settings.stream_auth_timeout:g} s (setting "
                'stream_auth_timeout), first the message {"api_key": "..."}',
            )
        _check_key(_key_message(text), settings)
    finally:
        state.awaiting_key -= 1


async def _serve(websocket: WebSocket, detector: Detector, settings: Settings) -> None:
    unit = websocket.query_params.get("unit", "auto")
    if unit not in get_args(Unit):
        raise Refused(INVALID, f"unknown unit {unit!r} (query parameter unit): expected one of auto, ms, s")
    beats = detector.stream(unit=unit)  # type: ignore[arg-type]
    await websocket.send_json(
        {
            "type": "ready",
            "model_version": detector.model_version,
            "threshold": detector.threshold,
            "lookahead": beats.lookahead,
            "block": beats.block,
            "max_beats": settings.stream_max_beats,
            "unit": unit,
        }
    )
    metrics = websocket.app.state.metrics
    while True:
        with anyio.move_on_after(settings.stream_idle_timeout) as idle:
            text = await _receive_text(websocket)
        if idle.cancelled_caught:
            raise Refused(AWAY, f"no message for {settings.stream_idle_timeout:g} s (setting stream_idle_timeout)")
        message = _parse(text)
        if message.unit is not None:
            if beats.received:
                raise Refused(INVALID, "invalid message: unit: the unit is set before the first beats")
            beats = detector.stream(unit=message.unit)
        undecided = beats.unit is None
        if beats.received + len(message.rr) > settings.stream_max_beats:
            raise Refused(
                INVALID, f"more than {settings.stream_max_beats} beats in the stream (setting stream_max_beats)"
            )
        events = await _feed(websocket, beats, message)
        metrics.beats.inc(sum(e.is_anomaly.size for e in events if isinstance(e, BeatDecisions)))
        if undecided and beats.unit is not None:
            await websocket.send_json({"type": "unit", "unit": beats.unit, "note": beats.unit_note})
        for event in events:
            await websocket.send_json(event.to_dict())
        if message.end:
            await websocket.close(1000)
            return


async def _receive_text(websocket: WebSocket) -> str:
    """The next message's text; a binary message is refused (``receive_text`` would fail on it with a KeyError)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is None:
        raise Refused(UNSUPPORTED, "binary message: the stream reads JSON text messages only")
    return str(text)


async def _feed(websocket: WebSocket, beats: BeatStream, message: StreamMessage) -> list[Any]:
    """The message's beats fed to the stream (and the stream closed at its end), off the event loop."""

    def work() -> list[Any]:
        try:
            events = beats.feed(message.rr, message.times) if message.rr or message.times else []
        except ValueError as exc:  # the stream's checks: one time per beat, times increasing, RR in range
            raise Refused(INVALID, f"invalid message: {exc}") from None
        return events + beats.close() if message.end else events

    async with websocket.app.state.cpu_limiter:
        return await in_thread(websocket.app.state, work)


def _parse(text: str) -> StreamMessage:
    try:
        return StreamMessage.model_validate_json(text)
    except ValidationError as exc:
        problem = exc.errors(include_input=False)[0]
        where = ".".join(str(part) for part in problem["loc"]) or "message"
        raise Refused(INVALID, f"invalid message: {where}: {problem['msg']}") from None


def _key_message(text: str) -> str:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("api_key"), str):
        raise Refused(POLICY, f'missing API key: send {API_KEY_HEADER} or first the message {{"api_key": "..."}}')
    return str(doc["api_key"])


def _check_key(key: str, settings: Settings) -> None:
    assert settings.api_key is not None
    if not secrets.compare_digest(key.encode(), settings.api_key.get_secret_value().encode()):
        raise Refused(POLICY, "wrong API key")


async def _refuse(websocket: WebSocket, refused: Refused) -> None:
    try:
        await websocket.send_json({"type": "error", "detail": refused.detail, "code": refused.code})
        await websocket.close(refused.code)
    except (WebSocketDisconnect, RuntimeError):  # the client left first
        pass
