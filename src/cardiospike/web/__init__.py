"""The web app's files: ``templates/`` (the page) and ``static/`` (its script, style sheet and icon).

The page is plain HTML, CSS and JavaScript without a build step; it calls the REST API from the browser. Plotly.js
is not kept here: the service sends the copy that ships in the ``plotly`` Python package, so nothing is fetched from
a CDN and the app works offline. :mod:`cardiospike.serving.routes.web` serves these files; the HTML report
(:mod:`cardiospike.report`) inlines the same copy of Plotly.js.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

#: Folder of the page templates (Jinja2).
TEMPLATES_DIR = Path(str(files("cardiospike.web") / "templates"))
#: Folder of the static assets, served under ``/static``.
STATIC_DIR = Path(str(files("cardiospike.web") / "static"))


@lru_cache(maxsize=1)
def plotly_js() -> Path | None:
    """The ``plotly.min.js`` bundled in the ``plotly`` Python package, or None where the package is missing.

    ``find_spec`` locates the package without importing it (importing plotly takes long and is not needed here).
    """
    spec = importlib.util.find_spec("plotly")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    return None
