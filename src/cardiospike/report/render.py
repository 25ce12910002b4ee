"""The report as one self-contained HTML file: the sections laid out by a Jinja2 template, the charts drawn by the
Plotly.js that ships in the ``plotly`` Python package, inlined with the page's style sheet and script.

Nothing is fetched when the file opens, so it works offline and can be sent by email. Everything that comes from
the input (recording ids, the file's name) is escaped: in the HTML by Jinja2's autoescape, and in the JSON of the
chart data, where ``<``, ``>`` and ``&`` are written as ``\\u003c`` ... so that no text can close the script element.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from cardiospike.data.ecg import EcgSource
from cardiospike.detector import ScoredRecording
from cardiospike.report.content import ModelInfo, SourceInfo, file_stem, section_of
from cardiospike.report.strips import MAX_STRIP_POINTS, MAX_STRIP_S, PAD_S
from cardiospike.version import package_version
from cardiospike.web import plotly_js

#: Folder of the report's template, style sheet and script (package data).
TEMPLATES_DIR = Path(str(files("cardiospike.report") / "templates"))


#: What a table shows for a statistic that is undefined (too few beats), as the web app does.
UNDEFINED = "\N{EN DASH}"


class ReportError(RuntimeError):
    """A report that cannot be made (the message says why), such as Plotly.js missing from the installation."""


def render_report(
    scored: Sequence[ScoredRecording],
    *,
    model: ModelInfo,
    source: SourceInfo,
    created: datetime | None = None,
    ecg: Mapping[str, EcgSource] | None = None,
) -> str:
    """The HTML report of scored recordings: a header naming the model and input, then a section per recording.

    Parameters
    ----------
    scored : sequence of ScoredRecording
        The recordings of one input, scored by one detector (with one threshold), in input order.
    model : ModelInfo
        The model that scored them (:meth:`ModelInfo.of` a detector).
    source : SourceInfo
        The input file they were read from.
    created : datetime, optional
        When the report is made (default: now); shown in UTC.
    ecg : mapping of str to EcgSource, optional
        The ECG of the recordings read from one, by recording id (:attr:`cardiospike.data.formats.Recordings.ecg`):
        their sections show an ECG strip of each of their first episodes, read again from the record.
    """
    ecg = ecg or {}
    sections = [section_of(s, i + 1, ecg.get(s.recording.id)) for i, s in enumerate(scored)]
    charts = [{**s.chart, "name": f"{file_stem(s.id)}-rr"} for s in sections]
    when = (created or datetime.now(UTC)).astimezone(UTC)
    template = _environment().get_template("report.html")
    return template.render(
        sections=sections,
        model=model,
        source=source,
        threshold=scored[0].threshold if scored else model.threshold,
        n_beats=sum(s.n_beats for s in sections),
        created=when.strftime("%Y-%m-%d %H:%M:%S UTC"),
        version=package_version(),
        style=Markup(_asset("report.css")),
        script=inline_script(_asset("report.js")),
        plotly=_plotly_source(),
        data=script_json(charts),
        pad_s=PAD_S,
        max_strip_s=MAX_STRIP_S,
        max_strip_points=MAX_STRIP_POINTS,
    )


def script_json(value: Any) -> Markup:
    """``value`` as JSON to place inside a ``<script>`` element: no ``</script>``, ``<!--`` or ``&`` can appear.

    JSON's ``\\u`` escapes read back as the same characters; ``ensure_ascii`` also escapes U+2028 and U+2029.
    """
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def inline_script(source: str) -> Markup:
    """JavaScript source to place inside a ``<script>`` element, ``<`` written ``\\x3C`` where it would end it.

    ``</script`` ends the element and ``<!--`` changes how the HTML parser reads the rest; inside the string and
    regular expression literals where such text can occur, ``\\x3C`` is the same ``<``.
    """
    return Markup(re.sub(r"<(?=/script|!--)", lambda _: "\\x3C", source, flags=re.IGNORECASE))


def clock(ms: float) -> str:
    """Milliseconds as ``h:mm:ss.s`` (as the web app shows times from the first beat)."""
    sign = "-" if ms < 0 else ""
    tenths = round(abs(ms) / 100)  # rounded first, so that 59.96 s never shows as 0:00:60.0
    hours, rest = divmod(tenths, 36_000)
    minutes, rest = divmod(rest, 600)
    return f"{sign}{hours}:{minutes:02d}:{rest // 10:02d}.{rest % 10}"


def fixed(value: float | None, digits: int = 1, unit: str = "") -> str:
    """A number with ``digits`` decimals and its unit; an en dash where it is undefined (None)."""
    return UNDEFINED if value is None else f"{value:,.{digits}f}{unit}"


def percent(share: float, digits: int = 1) -> str:
    return f"{100 * share:.{digits}f} %"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(clock=clock, fixed=fixed, percent=percent, thousands=lambda n: f"{n:,}")
    return env


@lru_cache(maxsize=4)
def _asset(name: str) -> str:
    return (TEMPLATES_DIR / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _plotly_source() -> Markup:
    path = plotly_js()
    if path is None:
        raise ReportError("plotly.min.js not found: the report needs the 'plotly' package installed")
    return inline_script(path.read_text(encoding="utf-8"))
