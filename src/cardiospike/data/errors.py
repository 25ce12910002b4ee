"""The one error of every reader: what is wrong, where (file, line, field), and how the file was taken."""

from __future__ import annotations


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
        The option or change that would read the input (``--rr-column NAME``, ``--unit s`` ...).
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
        super().__init__(source, problem)

    def __str__(self) -> str:
        return self._message(with_value=True)

    def _message(self, with_value: bool) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        found = f": {self.value}" if with_value and self.value is not None else ""
        notes = "; ".join(note for note in (self.taken_as, self.hint) if note)
        return f"{', '.join(where)}: {self.problem}{found}" + (f" ({notes})" if notes else "")

    def without_value(self) -> str:
        """The message without the value found in the input: where and what, nothing of the content."""
        return self._message(with_value=False)

    def read_as(self, note: str) -> RecordingFormatError:
        """Say which format the input was taken for (once: the first reader to say it is the one that read)."""
        if self.taken_as is None:
            self.taken_as = note
        return self
