"""Garmin FIT SDK ``FitCSVTool`` CSV: the ``hrv`` messages of a FIT file, written as text.

``java -jar FitCSVTool.jar activity.fit`` writes one row per FIT message under the header
``Type,Local Number,Message,Field 1,Value 1,Units 1,Field 2,Value 2,Units 2,...``: ``Definition`` and ``Data`` rows,
each with as many (field, value, units) triples as its message has, so rows differ in length and may end in empty
cells. The RR are in the ``Data`` rows of the message ``hrv``: its field ``time`` holds up to five intervals in
seconds, separated by ``|`` (``"0.859|0.867|0.871|65.535|65.535"``, units ``s``). 65.535 s, the FIT invalid value of
that field (a uint16 at 1/1000 s), pads the places a message leaves unused: it is dropped, never read as a beat.
Every other message (``file_id``, ``record``, ``event``, ``lap``, ``session`` ...) is ignored.

The file is one recording (its id the file's), timed by the cumulative sum of RR: ``hrv`` messages carry no times.
The units the export writes decide the unit of RR (seconds where they are empty, as the FIT profile defines them),
unless the option ``unit`` says otherwise; ``rr_column`` and ``time_column`` do not apply. The CSV reader hands such
files here (see :func:`is_fitcsv`), so the format ``csv`` and sniffing read them.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cardiospike.data.arrow import numpy_of
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.checks import check_count, numeric, show
from cardiospike.data.formats.columns import Roles
from cardiospike.data.formats.table import Table, recordings_of
from cardiospike.recording import RRUnit

#: The start of the header FitCSVTool writes (quotes and spaces allowed, as a spreadsheet may save it again).
_HEADER = re.compile(r'\s*"?Type"?\s*,\s*"?Local Number"?\s*,\s*"?Message"?\s*(?:,|$)', re.IGNORECASE)
#: A data row of the message ``hrv`` (RE2 syntax, for pyarrow).
_HRV_ROW = r'^\s*"?Data"?\s*,[^,]*,\s*"?hrv"?\s*,'
#: The FIT invalid value of ``hrv.time`` (uint16, 1/1000 s): 65535 ms, written 65.535 s.
PADDING_MS = 65_535.0
#: Milliseconds per unit of the ``Units`` cells FitCSVTool may write; an empty cell is the profile's unit, seconds.
_SCALES = {"s": 1000.0, "": 1000.0, "ms": 1.0}
_NO_HRV = "a FIT CSV export without hrv messages: the device recorded no RR intervals (record with HRV logging on)"


def is_fitcsv(head: str) -> bool:
    """Whether text starts (after blank lines) with the header of FitCSVTool: ``Type,Local Number,Message,...``."""
    return _HEADER.match(head.lstrip()) is not None


def read_fitcsv(content: Content, opts: Options) -> Recordings:
    """The RR intervals of the ``hrv`` messages of a FitCSVTool export, as one recording (see the module)."""
    import pandas as pd  # here, not at import: the CSV reader imports this module, and needs no pandas itself

    source = opts.source
    check_count(1, opts.max_recordings, source)  # a file of one recording: checked before any is built
    # The hrv rows are picked out of the lines by pyarrow, so that the other messages (a row per second of the
    # activity, and often longer rows than the header names) are never parsed as CSV.
    lines = pc.list_flatten(pc.split_pattern(pa.array([content.text]), "\n"))
    mask = pc.match_substring_regex(lines, _HRV_ROW).to_numpy(zero_copy_only=False)
    line_of = np.flatnonzero(mask) + 1
    if not line_of.size:
        raise RecordingFormatError(source, _NO_HRV)
    rows = pc.filter(lines, pa.array(mask))
    # Quoted commas make this count too many fields, never too few: the columns past a row's end are empty.
    width = int(pc.max(pc.count_substring(rows, ",")).as_py()) + 1
    n_triples = max(1, -(-(width - 3) // 3))
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(rows.to_pylist())),
            header=None,
            names=list(range(3 + 3 * n_triples)),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except pd.errors.ParserError as exc:
        raise RecordingFormatError(source, f"malformed CSV in the hrv rows: {exc}", row=int(line_of[0])) from None
    if len(frame) != len(line_of):  # a quote left open joined rows
        raise RecordingFormatError(source, "malformed CSV in the hrv rows (a quote left open?)", row=int(line_of[0]))
    cells = frame.fillna("").to_numpy(dtype=object)

    # The triple whose field is "time", per row; rows without one hold no RR.
    is_time = np.char.strip(cells[:, 3::3].astype(str)) == "time"
    has = is_time.any(axis=1)
    rows_at, triple, line_of = np.flatnonzero(has), is_time.argmax(axis=1)[has], line_of[has]
    row_values = cells[rows_at, 4 + 3 * triple]
    row_units = np.char.strip(cells[rows_at, 5 + 3 * triple].astype(str))
    unknown = np.flatnonzero(~np.isin(row_units, list(_SCALES)))
    if unknown.size:
        i = int(unknown[0])
        raise RecordingFormatError(
            source,
            "hrv times in an unknown unit: expected s or ms",
            row=int(line_of[i]),
            field=f"Units {triple[i] + 1}",
            value=show(str(row_units[i])),
        )

    # One item per beat, with its row and its place in the row's list (for messages); empty items are no beats.
    parts = pc.split_pattern(pa.array(row_values, type=pa.string()), "|")
    items = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    row = numpy_of(pc.list_parent_indices(parts))
    place = np.arange(len(items)) - numpy_of(parts.offsets)[row]
    keep = pc.not_equal(items, "").to_numpy(zero_copy_only=False)
    items, place, row = items.filter(pa.array(keep)), place[keep], row[keep]

    def where(i: int) -> tuple[int | None, str]:
        return int(line_of[row[i]]), f"Value {triple[row[i]] + 1}[{place[i]}]"

    try:
        rr = numpy_of(pc.cast(items, pa.float64()))
    except pa.ArrowInvalid:  # read again to name the first value that is no number
        rr = numeric(np.asarray(items.to_pylist(), dtype=object), source, where)
    scale = np.where(row_units == "ms", 1.0, 1000.0)[row]  # every other unit was refused above
    real = np.abs(rr * scale - PADDING_MS) > 1e-6
    rr, scale, kept = rr[real], scale[real], np.flatnonzero(real)
    if not rr.size:
        raise RecordingFormatError(
            source,
            "a FIT CSV export whose hrv messages hold no RR intervals, only padding (65.535)",
            row=int(line_of[0]),
        )
    unit: RRUnit = "ms" if np.all(scale == 1.0) else "s"
    rr = rr * (scale / _SCALES[unit])  # a file of both units (none seen) is read in seconds
    table = Table(names=["hrv.time"], columns=[rr], roles=Roles(rr=0), where=lambda col, i: where(int(kept[i])))
    if opts.unit != "auto":  # the option decides, as for every CSV (and the table says where it doubts it)
        return recordings_of(table, replace(opts, fixed_unit=None))
    recordings = recordings_of(table, replace(opts, fixed_unit=unit))
    if unit == "s":
        recordings.unit_note = "RR read in seconds: the FIT CSV export gives hrv times in s"
    return recordings
