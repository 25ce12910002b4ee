"""The one error of every reader: what is wrong, where (file, line, field), and how the file was taken.

Its hint names the option that would read the input as each surface calls it: the command line's ``--unit ms``,
Python's ``unit="ms"``, the REST API's ``"unit": "ms"``, the web page's *Unit* menu. Hints are written once, as
templates whose options are in braces (``{unit=ms} reads them as milliseconds``), and rendered by
:func:`render_hint` for the surface that shows them.
"""

from __future__ import annotations

import re
from typing import Literal

#: Where a message is shown: the command line, Python, the REST API, the web page.
Surface = Literal["cli", "python", "rest", "web"]
SURFACES: tuple[Surface, ...] = ("cli", "python", "rest", "web")

#: Each option of reading as each surface names it; ``{value}`` is the value the hint proposes.
OPTION_NAMES: dict[str, dict[Surface, str]] = {
    "unit": {"cli": "--unit {value}", "python": 'unit="{value}"', "rest": '"unit": "{value}"', "web": "Unit: {value}"},
    "format": {
        "cli": "--format {value}",
        "python": 'fmt="{value}"',
        "rest": '"format": "{value}"',
        "web": "Format: {value}",
    },
    "rr_column": {
        "cli": "--rr-column {value}",
        "python": 'rr_column="{value}"',
        "rest": '"rr_column": "{value}"',
        "web": "RR column: {value}",
    },
    "time_column": {
        "cli": "--time-column {value}",
        "python": 'time_column="{value}"',
        "rest": '"time_column": "{value}"',
        "web": "Time column: {value}",
    },
    "id_column": {
        "cli": "--id-column {value}",
        "python": 'id_column="{value}"',
        "rest": '"id_column": "{value}"',
        "web": "Recording column: {value}",
    },
    "sampling_rate": {
        "cli": "--sampling-rate {value}",
        "python": "sampling_rate={value}",
        "rest": '"sampling_rate": {value}',
        "web": "Sampling rate (Hz): {value}",
    },
    "ecg_channel": {
        "cli": "--ecg-channel {value}",
        "python": 'ecg_channel="{value}"',
        "rest": '"ecg_channel": "{value}"',
        "web": "ECG lead: {value}",
    },
    "ignore_time": {
        "cli": "--ignore-time",
        "python": "use_time=False",
        "rest": '"ignore_time": true',
        "web": "Ignore times",
    },
}
_OPTION = re.compile(r"\{(" + "|".join(OPTION_NAMES) + r")(?:=([^{}]*))?\}")
#: The most characters shown of each part of a message. Readers quote short excerpts of their input
#: (:func:`cardiospike.data.formats.checks.excerpt`); this bounds whatever else reaches a message (a file name, a
#: JSON path made of keys, a library's words), so no message is a copy of its input, and each is one line.
SHOWN = {"source": 300, "field": 120, "problem": 1_000, "value": 120}


def bounded(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (with ``...``), its non-printable characters escaped as ``repr`` does."""
    if not text[:limit].isprintable():  # escaped within the limit (an escape is longer than its character)
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit + 1])
    return text if len(text) <= limit else text[: limit - 3] + "..."


def render_hint(template: str, surface: Surface) -> str:
    """A hint template with each ``{option}`` or ``{option=value}`` named as ``surface`` names it.

    >>> render_hint("{unit=ms} reads them as milliseconds", "cli")
    '--unit ms reads them as milliseconds'
    >>> render_hint("choose one with {rr_column}", "python")
    'choose one with rr_column="NAME"'
    """
    return _OPTION.sub(lambda m: OPTION_NAMES[m.group(1)][surface].format(value=m.group(2) or "NAME"), template)


class RecordingFormatError(ValueError):
    """An input that cannot be read as RR recordings; the message names the source, row and field.

    ``value`` is what was found there (an offending value, a recording id), shown in ``str(error)`` for the
    person who gave the file; :meth:`without_value` is the message without it, for answers of a service.
    ``taken_as`` says which format the input was read as (and why), ``hint`` which option would read it.
    ``structural`` errors say the input is laid out otherwise than the format it was taken for (malformed, missing
    parts, no data): where the format was sniffed, the message then names the format that may read it.

    Parameters
    ----------
    source : str
        The file's name (a path, an upload's name).
    problem : str
        What is wrong, in words.
    row : int, optional
        Line of the file (from 1).
    field : str, optional
        Column or JSON path.
    value : str, optional
        The content found there, shown only by ``str(error)``.
    hint : str, optional
        The option or change that would read the input, a template of :func:`render_hint` (``{rr_column}``,
        ``{unit=s}`` ...).
    structural : bool
        The input is laid out otherwise than its format (see above).
    """

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        row: int | None = None,
        field: str | None = None,
        value: str | None = None,
        hint: str | None = None,
        structural: bool = False,
    ):
        self.source, self.problem, self.row, self.field, self.value = source, problem, row, field, value
        self.hint, self.structural = hint, structural
        self.taken_as: str | None = None
        self.surface: Surface = "python"
        super().__init__(bounded(source, SHOWN["source"]), bounded(problem, SHOWN["problem"]))  # repr shows these

    def __str__(self) -> str:
        return self._message(with_value=True)

    def shown_on(self, surface: Surface) -> RecordingFormatError:
        """Name options in the message as ``surface`` does (``str`` names them as Python does)."""
        self.surface = surface
        return self

    def _message(self, with_value: bool) -> str:
        where = [bounded(self.source, SHOWN["source"])]
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.field is not None:
            where.append(f"field {bounded(self.field, SHOWN['field'])!r}")
        found = f": {bounded(self.value, SHOWN['value'])}" if with_value and self.value is not None else ""
        notes = bounded(
            "; ".join(render_hint(n, self.surface) for n in (self.taken_as, self.hint) if n), SHOWN["problem"]
        )
        problem = bounded(render_hint(self.problem, self.surface), SHOWN["problem"])
        return f"{', '.join(where)}: {problem}{found}" + (f" ({notes})" if notes else "")

    def without_value(self) -> str:
        """The message without the value found in the input: where and what, nothing of the content."""
        return self._message(with_value=False)

    def read_as(self, note: str) -> RecordingFormatError:
        """Say which format the input was taken for (once: the first reader to say it is the one that read)."""
        if self.taken_as is None:
            self.taken_as = note
        return self
