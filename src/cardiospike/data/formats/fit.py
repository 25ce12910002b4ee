"""Garmin FIT activity files: the beat-to-beat intervals of their ``hrv`` messages (read with ``fitdecode``).

A watch or chest strap writes them where HRV logging is on: each ``hrv`` message holds up to five RR intervals
(seconds in the profile, stored as whole milliseconds, which are read as they are); unused places are empty.
``fitdecode`` comes with the ``fit`` extra (``pip install 'cardiospike[fit]'``).
"""

from __future__ import annotations

import io

import numpy as np

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.columns import Roles
from cardiospike.data.formats.table import Table, recordings_of

MAGIC_AT, MAGIC = 8, b".FIT"
#: The global number of the ``hrv`` message in the FIT profile.
HRV_MESSAGE = 78


def is_fit(raw: bytes) -> bool:
    return raw[MAGIC_AT : MAGIC_AT + len(MAGIC)] == MAGIC


def read_fit(content: Content, opts: Options) -> Recordings:
    try:
        import fitdecode
    except ImportError:
        raise RecordingFormatError(
            opts.source, "reading FIT files needs the 'fit' extra: pip install 'cardiospike[fit]'"
        ) from None
    rr: list[int] = []
    where: list[str] = []
    try:
        # A file that fails its checksum or holds malformed messages is refused, not read in part.
        strict = {"check_crc": fitdecode.CrcCheck.RAISE, "error_handling": fitdecode.ErrorHandling.RAISE}
        with fitdecode.FitReader(io.BytesIO(content.raw), **strict) as fit:
            for n, frame in enumerate(m for m in fit if m.frame_type == fitdecode.FIT_FRAME_DATA):
                if frame.global_mesg_num != HRV_MESSAGE or not frame.has_field("time"):
                    continue
                raw = frame.get_raw_value("time")
                values = raw if isinstance(raw, tuple | list) else (raw,)
                for j, value in enumerate(values):
                    if value is not None:
                        rr.append(int(value))
                        where.append(f"message {n + 1}, hrv.time[{j}]")
    except fitdecode.FitError as exc:
        raise RecordingFormatError(opts.source, f"not a readable FIT file: {exc}") from None
    if not rr:
        raise RecordingFormatError(
            opts.source,
            "no beat-to-beat intervals (hrv messages) in this FIT file: record with HRV logging on",
        )
    table = Table(
        names=["rr"],
        columns=[np.asarray(rr, dtype=np.float64)],
        roles=Roles(rr=0),
        where=lambda col, i: (None, where[i]),
    )
    return recordings_of(table, opts)
