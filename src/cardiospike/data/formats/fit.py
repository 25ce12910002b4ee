"""Garmin FIT activity files: the beat-to-beat intervals of their ``hrv`` messages (read with ``fitdecode``).

A watch or chest strap writes them where HRV logging is on: each ``hrv`` message holds up to five RR intervals
(seconds in the profile, stored as whole milliseconds, which are read as they are); unused places are empty.
``fitdecode`` comes with the ``fit`` extra (``pip install 'cardiospike[fit]'``).

Hostile files. ``fitdecode`` is bounded by its input: every record it reads takes bytes it checks are there, its
loops run over counts of at most 255 read from those bytes, and it allocates nothing from a declared size. But it
decodes each message in Python (5-30 µs, whatever its size: a 1-byte message costs as much as a beat's), and
computes the checksum byte by byte after reading everything, so a large or corrupted file held a thread for seconds
before it was refused. Here, before ``fitdecode`` sees a byte: the file holds at most :data:`MAX_FIT_BYTES`, each
header's declared size is checked against the bytes present, and the checksums (CRC-16) are computed vectorised, so
a corrupted file is refused at once; ``fitdecode`` then stops after :data:`MAX_FIT_MESSAGES` messages, and anything
it raises becomes a :class:`~cardiospike.data.errors.RecordingFormatError`.
"""

from __future__ import annotations

import io
import struct

import numpy as np

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.columns import Roles
from cardiospike.data.formats.table import Table, recordings_of

MAGIC_AT, MAGIC = 8, b".FIT"
#: The global number of the ``hrv`` message in the FIT profile.
HRV_MESSAGE = 78
#: Largest FIT file read: a day of per-second records with HRV logging is about 4 MB.
MAX_FIT_BYTES = 4 * 1024 * 1024
#: Most messages read from a FIT file (about a day's worth, as above): ``fitdecode`` takes 5-30 µs for each.
MAX_FIT_MESSAGES = 200_000
#: Most FIT files chained in one (each is checked apart; devices chain a few at most).
MAX_CHAINED = 64

# CRC-16 of FIT (reflected polynomial 0xA001, from 0, no final xor): the byte-wise table.
_CRC_TABLE = np.zeros(256, dtype=np.uint32)
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ 0xA001 if _crc & 1 else _crc >> 1
    _CRC_TABLE[_byte] = _crc


def is_fit(raw: bytes) -> bool:
    return raw[MAGIC_AT : MAGIC_AT + len(MAGIC)] == MAGIC


def crc16(data: bytes) -> int:
    """The FIT CRC-16 of ``data``, vectorised: about 10 ms a megabyte, where a loop over bytes takes a second.

    The CRC is linear and starts from 0, so zeros in front change nothing, and the CRC of two blocks ``A + B`` is
    that of ``A`` carried over ``len(B)`` zero bytes, xor that of ``B``. Every byte's CRC is a table look-up; pairs
    of neighbouring blocks are then joined, level by level (blocks of 1, 2, 4 ... bytes). Carrying a CRC over a
    block of zeros is linear in its 16 bits, so it is two look-up tables (its low and its high byte), squared (the
    tables applied to themselves) from one level to the next.
    """
    crc = _CRC_TABLE[np.frombuffer(data, dtype=np.uint8)]
    # Carried over 1 zero byte: (c >> 8) ^ TABLE[c & 0xFF], which for a low byte x is TABLE[x], for a high byte y, y.
    low, high = _CRC_TABLE.copy(), np.arange(256, dtype=np.uint32)
    while crc.size > 1:
        if crc.size % 2:
            crc = np.concatenate([np.zeros(1, dtype=np.uint32), crc])  # a block of zeros in front
        crc = low[crc[0::2] & 0xFF] ^ high[crc[0::2] >> 8] ^ crc[1::2]
        basis = np.concatenate([low, high])  # where each low byte, then each high byte, is carried to
        twice = low[basis & 0xFF] ^ high[basis >> 8]
        low, high = twice[:256], twice[256:]
    return int(crc[0]) if crc.size else 0


def check_fit(raw: bytes, source: str) -> None:
    """Refuse a FIT file larger than the limit, whose headers declare more than it holds or whose checksums fail.

    A FIT file is a header (12 or 14 bytes: its size, versions, the size of its messages, ``.FIT``, and for 14 bytes
    a CRC of the first 12), the messages, and a CRC of all that; several may follow one another (chained).
    """
    if len(raw) > MAX_FIT_BYTES:
        raise RecordingFormatError(
            source, f"a FIT file of {len(raw)} bytes, more than the limit of {MAX_FIT_BYTES} (about a day of records)"
        )
    start = 0
    for chained in range(MAX_CHAINED + 1):
        if start == len(raw):
            return
        if chained == MAX_CHAINED:
            raise _unreadable(source, f"more than {MAX_CHAINED} FIT files chained in one")
        if len(raw) - start < 14 or raw[start] not in (12, 14) or raw[start + MAGIC_AT : start + 12] != MAGIC:
            raise _unreadable(source, f"no FIT file header at byte {start} (cut short, or not a FIT file)")
        header_size = raw[start]
        (data_size,) = struct.unpack_from("<I", raw, start + 4)
        end = start + header_size + data_size + 2
        if end > len(raw):
            raise _unreadable(
                source,
                f"its header declares {data_size} bytes of messages, the file holds {len(raw) - start} (cut short?)",
            )
        if header_size == 14:
            (header_crc,) = struct.unpack_from("<H", raw, start + 12)
            if header_crc and header_crc != crc16(raw[start : start + 12]):  # 0: no header CRC, as the SDK allows
                raise _unreadable(source, "the header's checksum does not match (a corrupted file)")
        if crc16(raw[start:end]):  # the CRC of data followed by its own CRC is 0
            raise _unreadable(source, "its checksum does not match (a corrupted file)")
        start = end


def read_fit(content: Content, opts: Options) -> Recordings:
    try:
        import fitdecode
    except ImportError:
        raise RecordingFormatError(
            opts.source, "reading FIT files needs the 'fit' extra: pip install 'cardiospike[fit]'"
        ) from None
    check_fit(content.raw, opts.source)
    rr: list[int] = []
    where: list[str] = []
    n = 0
    try:
        # Checksums were checked above; no processor: the raw values are read, so its conversions (dates ...) would be
        # work for nothing, and a source of errors on odd values.
        strict = {"check_crc": fitdecode.CrcCheck.DISABLED, "error_handling": fitdecode.ErrorHandling.RAISE}
        with fitdecode.FitReader(io.BytesIO(content.raw), processor=None, **strict) as fit:
            for n, frame in enumerate(fit, start=1):
                if n > MAX_FIT_MESSAGES:
                    raise RecordingFormatError(
                        opts.source, f"more than {MAX_FIT_MESSAGES} messages in this FIT file (about a day of records)"
                    )
                if frame.frame_type != fitdecode.FIT_FRAME_DATA or frame.global_mesg_num != HRV_MESSAGE:
                    continue
                if not frame.has_field("time"):
                    continue
                raw = frame.get_raw_value("time")
                values = raw if isinstance(raw, tuple | list) else (raw,)
                for j, value in enumerate(values):
                    if value is None:
                        continue
                    if not isinstance(value, int):  # a definition that stores them otherwise than as integers
                        raise _unreadable(opts.source, f"message {n}: hrv.time holds no whole milliseconds")
                    rr.append(value)
                    where.append(f"message {n}, hrv.time[{j}]")
    except RecordingFormatError:
        raise
    except Exception as exc:  # FitError, and struct.error, ValueError, AssertionError ... on malformed messages
        # Named by its type alone: fitdecode's messages quote values of the file.
        what = _FIT_ERRORS.get(type(exc).__name__, f"malformed message {{n}} ({type(exc).__name__})")
        raise _unreadable(opts.source, what.format(n=n + 1)) from None
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


#: What fitdecode's own errors say, in words (``{n}``: the message it was reading).
_FIT_ERRORS = {
    "FitHeaderError": "a malformed file header (message {n})",
    "FitEOFError": "cut short (in message {n})",
    "FitCRCError": "a checksum that does not match (message {n})",
    "FitParseError": "malformed message {n}",
}


def _unreadable(source: str, problem: str) -> RecordingFormatError:
    return RecordingFormatError(source, f"not a readable FIT file: {problem}")
