"""The web app: the page at ``/``, its static assets under ``/static`` and Plotly.js from the ``plotly`` package.

None of these routes is in the OpenAPI schema (they are not API) or behind the API key: the page holds no data of
its own and asks for the key, where the service has one, before it calls the API.
"""

from __future__ import annotations

import importlib.metadata
from functools import lru_cache

import jinja2
from fastapi import APIRouter, FastAPI, HTTPException, status
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from cardiospike.serving.deps import API_KEY_HEADER, SettingsDep
from cardiospike.version import package_version
from cardiospike.web import STATIC_DIR, TEMPLATES_DIR, plotly_js

STATIC_PREFIX = "/static"
PLOTLY_PATH = "/vendor/plotly.min.js"

router = APIRouter(include_in_schema=False)


def _plotly_version() -> str:
    try:
        return importlib.metadata.version("plotly")
    except importlib.metadata.PackageNotFoundError:
        return "missing"


@lru_cache(maxsize=8)
def render_index(api_key_required: bool, max_body_bytes: int) -> str:
    """The page, rendered once per combination of the settings it shows (they are fixed for an app's life)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    version = package_version()
    return env.get_template("index.html").render(
        version=version,
        # Versions in the asset URLs: browsers may cache assets for long, and still get new ones after an upgrade.
        static=STATIC_PREFIX,
        plotly_url=f"{PLOTLY_PATH}?v={_plotly_version()}",
        api_key_required=api_key_required,
        api_key_header=API_KEY_HEADER,
        max_body_bytes=max_body_bytes,
    )


@router.get("/", response_class=HTMLResponse)
def index(settings: SettingsDep) -> HTMLResponse:
    html = render_index(settings.api_key is not None, settings.max_body_bytes)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get(PLOTLY_PATH)
def plotly() -> FileResponse:
    path = plotly_js()
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "plotly.min.js not found: install the 'plotly' package")
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})


def add_web_app(app: FastAPI) -> None:
    """Serve the page and its assets from ``app`` (the same process and port as the API)."""
    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
