"""What every reader shares: the reading options, the input's content, and the recordings a reader returns."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.columns import Roles, find_roles
from cardiospike.recording import UNITS, Reading, Recording, RRUnit, Unit

if TYPE_CHECKING:
    import pandas as pd

    from cardiospike.data.ecg import EcgSource


@dataclass(frozen=True)
class Options:
    """How to read an input (see :func:`cardiospike.data.read_recordings` for each option).

    ``fixed_unit`` is no option of the caller's: the parse path sets it from the reader (:attr:`Reader.fixed_unit`).
    ``progress`` is called by the ECG readers with the samples done and the samples in all, as they go.
    """

    source: str = "<input>"
    default_id: str = "recording"
    use_time: bool = True
    unit: Unit = "auto"
    rr_column: str | None = None
    time_column: str | None = None
    id_column: str | None = None
    max_recordings: int | None = None
    keep_columns: bool = False
    path: Path | None = None
    fixed_unit: RRUnit | None = None
    sampling_rate: float | None = None
    ecg_channel: str | None = None
    progress: Callable[[int, int], None] | None = None

    @classmethod
    def of(cls, reading: Reading, source: str, default_id: str, **more: object) -> Options:
        """The options that read as ``reading`` says, for the input ``source`` (more: any other field)."""
        return cls(
            source=source,
            default_id=default_id,
            use_time=reading.use_time,
            unit=reading.unit,
            rr_column=reading.rr_column,
            time_column=reading.time_column,
            id_column=reading.id_column,
            sampling_rate=reading.sampling_rate,
            ecg_channel=reading.ecg_channel,
            **more,  # type: ignore[arg-type]
        )

    def roles(self, names: Sequence[str], **where: Any) -> Roles:
        """The columns of each role among ``names``, by their names or as the options choose them
        (:func:`~cardiospike.data.formats.columns.find_roles`; ``where``: its other arguments)."""
        return find_roles(
            names,
            self.source,
            rr_column=self.rr_column,
            time_column=self.time_column,
            id_column=self.id_column,
            **where,
        )

    def __post_init__(self) -> None:
        # Here, not in one entry point: every path (files, content, Parquet, dataset partitions) builds its options.
        if self.unit not in UNITS:
            raise RecordingFormatError(self.source, f"unknown unit {self.unit!r}; expected one of {', '.join(UNITS)}")
        if self.sampling_rate is not None:
            from cardiospike.data.ecg import check_sampling_rate  # the ECG module: it defines the rates read

            check_sampling_rate(self.sampling_rate, self.source)


class Content:
    """An input's bytes, with its UTF-8 bytes and its text worked out once, when a reader first asks for them.

    UTF-8 with or without a byte order mark and UTF-16 with one are read; line ends (CRLF, CR) become ``\\n`` in
    :attr:`text`. :attr:`utf8` keeps the original line ends, for readers that take bytes (they read CRLF as well).
    """

    def __init__(self, raw: bytes | str, source: str) -> None:
        self.source = source
        self._str = raw if isinstance(raw, str) else None
        self.raw = raw.encode("utf-8") if isinstance(raw, str) else raw

    @cached_property
    def utf8(self) -> bytes:
        raw = self.raw
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            try:
                return raw.decode("utf-16").encode("utf-8")
            except UnicodeDecodeError as exc:
                raise RecordingFormatError(self.source, f"not UTF-16 text (byte {exc.start})") from None
        try:
            raw.decode("utf-8")  # checked once here: readers of bytes may then take any part as text
        except UnicodeDecodeError as exc:
            raise RecordingFormatError(
                self.source,
                f"not UTF-8 text (byte {exc.start})",
                hint="save it as UTF-8, or as UTF-16 with a byte order mark",
            ) from None
        return raw

    @cached_property
    def text(self) -> str:
        text = self._str.lstrip("\ufeff") if self._str is not None else self.utf8.decode("utf-8")
        return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text

    def head(self, n_bytes: int = 65_536) -> str:
        """The start of the text, about ``n_bytes`` of it, for sniffing without decoding a whole large file.

        Whole lines where the start holds a line end (a last line cut short is left out), else the start as it is.
        """
        if self._str is None and len(self.raw) > n_bytes:  # a large file: only its start is decoded
            text = self.utf8[:n_bytes].decode("utf-8", "ignore").replace("\r\n", "\n").replace("\r", "\n")
        else:
            text = self.text
            if len(text) <= n_bytes:
                return text
        cut = text.rfind("\n", 0, n_bytes)
        return text[: cut + 1] if cut >= 0 else text[:n_bytes]


class Recordings(list[Recording]):
    """The recordings of an input, in input order, and what was found out while reading it.

    A list of :class:`~cardiospike.recording.Recording` with these attributes:

    Attributes
    ----------
    format : str
        The format the input was read as (``csv``, ``text``, ``json`` ...).
    taken_as : str
        And why: ``"read as csv, from the extension .csv"``, ``"read as text, from the content"``,
        ``"read as json, as asked"``.
    unit : {"ms", "s"}
        The unit RR were given in (they are converted to milliseconds).
    unit_note : str or None
        Why that unit, where it was not plain milliseconds or where the input's values make it doubtful.
    extra : pandas.DataFrame or None
        With ``keep_columns``: the input's other columns, one row per beat in input order (values as read).
    warnings : tuple of str
        What may be read wrongly although it could be read (a column of ids not read as ids, recordings that are
        mostly measurement errors), as hint templates (:func:`cardiospike.data.errors.render_hint`).
    ecg : mapping of str to EcgSource
        The ECG of each recording read from one, by recording id (:class:`~cardiospike.data.ecg.EcgSource`: its
        channel, to read stretches of again, and each beat's sample); empty for RR inputs.
    """

    format: str = ""
    taken_as: str = ""
    unit: RRUnit = "ms"
    unit_note: str | None = None
    extra: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()
    # Read-only: the class attribute is every instance's default, and each ECG reader sets a mapping of its own.
    ecg: Mapping[str, EcgSource] = MappingProxyType({})


ReadFunction = Callable[[Content, Options], Recordings]


@dataclass(frozen=True)
class Reader:
    """One input format: its name, the suffixes that name it and its reading function.

    ``read`` takes the content and the options; ``binary`` formats are no text; ``fixed_unit`` is the RR unit of
    formats that define it themselves (the option ``unit`` does not apply to them).
    """

    name: str
    suffixes: tuple[str, ...]
    read: ReadFunction
    binary: bool = False
    fixed_unit: RRUnit | None = None
