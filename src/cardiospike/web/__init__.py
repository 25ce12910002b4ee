"""The web app's files: ``templates/`` (the page) and ``static/`` (its script, style sheet and icon).

The page is plain HTML, CSS and JavaScript without a build step; it calls the REST API from the browser. Plotly.js
is not kept here: the service sends the copy that ships in the ``plotly`` Python package, so nothing is fetched from
a CDN and the app works offline. :mod:`cardiospike.serving.routes.web` serves these files.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: Folder of the page templates (Jinja2).
TEMPLATES_DIR = Path(str(files("cardiospike.web") / "templates"))
#: Folder of the static assets, served under ``/static``.
STATIC_DIR = Path(str(files("cardiospike.web") / "static"))
