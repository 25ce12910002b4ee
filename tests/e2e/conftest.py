"""Browser tests of the web app: Playwright drives Debian's Chromium against a real ``cardiospike serve``.

No browser is downloaded (``playwright install`` is never run): the tests use ``/usr/bin/chromium`` and are skipped,
with the reason, where it is absent. Every test fails on a console error of the page, and keeps screenshots in
``tests/e2e/artifacts/`` (or the folder in ``CARDIOSPIKE_E2E_ARTIFACTS``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..server_process import serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("CARDIOSPIKE_E2E_ARTIFACTS") or Path(__file__).parent / "artifacts")
LAPTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium` to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server_url(browser: Any, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Depends on `browser` so that, without Chromium, no server is started only to be skipped.
    with serving(tiny_model_dir, tmp_path_factory.mktemp("e2e") / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def api(server_url: str) -> Iterator[httpx.Client]:
    """A plain HTTP client of the same server: the answers the page must agree with."""
    with httpx.Client(base_url=server_url, timeout=30.0) as client:
        yield client


@dataclass
class Console:
    """Console errors and uncaught exceptions of a page; HTTP statuses a test provokes on purpose are allowed."""

    errors: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def allow(self, *statuses: int) -> None:
        self.allowed_statuses.update(statuses)

    def unexpected(self) -> list[str]:
        def allowed(text: str) -> bool:
            # Chromium logs every 4xx answer to fetch() as "Failed to load resource: ... status of 422 (...)".
            status = re.search(r"Failed to load resource: the server responded with a status of (\d+)", text)
            return status is not None and int(status.group(1)) in self.allowed_statuses

        return [e for e in self.errors if not allowed(e)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def new_page(browser: Any, server_url: str, console: Console) -> Iterator[Callable[..., Any]]:
    """Open pages (each in a fresh browser context) whose console errors fail the test, unless ``console`` allows."""
    contexts: list[Any] = []

    def open_page(base_url: str | None = None, viewport: dict[str, int] = LAPTOP) -> Any:
        context = browser.new_context(viewport=viewport, accept_downloads=True, base_url=base_url or server_url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
        return page

    try:
        yield open_page
    finally:
        for context in contexts:
            context.close()
    assert not console.unexpected(), f"console errors: {console.unexpected()}"


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    """A page of the app's server on a laptop-sized screen."""
    return new_page()


def screenshot(page: Any, name: str) -> Path:
    """Keep a screenshot of the page as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
