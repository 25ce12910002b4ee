"""Small Garmin FIT files for the tests, written by hand: a header, a file_id message and hrv messages, with CRCs.

The layout is the FIT protocol's (header of 14 bytes, definition and data messages, CRC-16 of the file); ``hrv``
(global message 78) holds field 0, ``time``: five uint16 in milliseconds (the profile scales them to seconds),
65535 where unused.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

_CRC_TABLE = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
              0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)  # fmt: skip
UNUSED = 0xFFFF


def crc16(data: bytes, crc: int = 0) -> int:
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            tmp = _CRC_TABLE[crc & 0xF]
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _CRC_TABLE[nibble]
    return crc


def fit_file(hrv_messages: Sequence[Sequence[int]]) -> bytes:
    """A FIT activity file whose hrv messages hold these RR intervals (ms, at most five per message)."""
    body = bytes([0x40, 0, 0]) + struct.pack("<H", 0) + bytes([1, 0, 1, 0x00])  # definition: file_id.type (enum)
    body += bytes([0x00, 4])  # file_id: type = activity
    body += bytes([0x41, 0, 0]) + struct.pack("<H", 78) + bytes([1, 0, 10, 0x84])  # definition: hrv.time uint16[5]
    for values in hrv_messages:
        body += bytes([0x01]) + struct.pack("<5H", *values, *([UNUSED] * (5 - len(values))))
    header = struct.pack("<BBHI4s", 14, 0x20, 2093, len(body), b".FIT")
    header += struct.pack("<H", crc16(header))
    data = header + body
    return data + struct.pack("<H", crc16(data))
