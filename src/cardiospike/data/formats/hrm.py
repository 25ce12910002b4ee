"""Polar HRM: ``[Params]`` with ``Interval=238`` (R-R recording), then one RR interval in ms per line of ``[HRData]``.

Other columns of ``[HRData]`` (speed, cadence, altitude ... as ``SMode`` says) are carried as extra columns. An
``Interval`` other than 238 means heart rate sampled every so many seconds: no RR intervals to read.
"""

from __future__ import annotations

import re

import numpy as np

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.columns import Roles
from cardiospike.data.formats.table import Table, recordings_of

#: ``Interval`` of a Polar HRM file that holds R-R intervals.
RR_INTERVAL = "238"
_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")


def is_hrm(head: str) -> bool:
    return bool(re.search(r"^\s*\[(HRData|Params)\]\s*$", head, re.IGNORECASE | re.MULTILINE))


def read_hrm(content: Content, opts: Options) -> Recordings:
    sections: dict[str, list[tuple[int, str]]] = {}
    current = None
    for number, line in enumerate(content.text.split("\n"), start=1):
        found = _SECTION.match(line)
        if found:
            current = sections.setdefault(found.group(1).strip().lower(), [])
        elif current is not None and line.strip():
            current.append((number, line.strip()))
    params = dict(line.split("=", 1) for _, line in sections.get("params", []) if "=" in line)
    interval = params.get("Interval", "").strip()
    if interval != RR_INTERVAL:
        raise RecordingFormatError(
            opts.source,
            f"[Params] Interval={interval or '(none)'}: heart rate samples, not RR intervals "
            f"(a Polar HRM file of RR intervals has Interval={RR_INTERVAL})",
        )
    rows = sections.get("hrdata", [])
    if not rows:
        raise RecordingFormatError(opts.source, "empty recording: no lines in [HRData]", structural=True)
    lines = np.array([number for number, _ in rows])
    fields = [line.split() for _, line in rows]
    n_columns = max(len(f) for f in fields)
    columns = [np.array([f[i] if i < len(f) else "" for f in fields], dtype=object) for i in range(n_columns)]
    names = ["rr", *(f"hrdata{i + 1}" for i in range(1, n_columns))]
    table = Table(names=names, columns=columns, roles=Roles(rr=0), where=lambda col, i: (int(lines[i]), names[col]))
    return recordings_of(table, opts)
