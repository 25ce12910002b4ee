"""Reading a rendered HTML report for the tests: the charts' JSON it embeds."""

from __future__ import annotations

import json
import re
from typing import Any

_REPORT_DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.S)


def chart_data(html: str) -> list[dict[str, Any]]:
    """The charts' JSON embedded in a report, one per recording."""
    match = _REPORT_DATA.search(html)
    assert match is not None, "the report embeds no chart data"
    data: list[dict[str, Any]] = json.loads(match.group(1))
    return data
