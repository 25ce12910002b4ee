"""Fixtures of the API tests: apps built on the session's tiny model, and clients that run their lifespan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cardiospike.serving import Settings, create_app

MakeApp = Callable[..., FastAPI]


@pytest.fixture(scope="session")
def make_settings(tiny_model_dir: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        # _env_file=None: a developer's .env must not change what the tests see.
        return Settings(_env_file=None, **{"model": tiny_model_dir, **overrides})  # type: ignore[call-arg]

    return make


@pytest.fixture(scope="session")
def make_app(make_settings: Callable[..., Settings]) -> MakeApp:
    return lambda **overrides: create_app(make_settings(**overrides))


@pytest.fixture(scope="module")
def client(make_app: MakeApp) -> Iterator[TestClient]:
    """A client of an app with the default settings, after its start-up (model loaded)."""
    with TestClient(make_app()) as c:
        yield c


@pytest.fixture(scope="module")
def small_client(make_app: MakeApp) -> Iterator[TestClient]:
    """A client of an app with small limits: 50 beats, 4 KiB bodies."""
    with TestClient(make_app(max_beats=50, max_body_bytes=4096)) as c:
        yield c


def assert_error(response: Any, status: int, loc: list[str | int] | None = None, type: str | None = None) -> dict:
    """The answer has ``status``, the error shape, and (where given) a problem at ``loc`` of kind ``type``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert body["detail"]
    if loc is not None or type is not None:
        assert any((loc is None or e["loc"] == loc) and (type is None or e["type"] == type) for e in body["errors"]), (
            body
        )
    return body
