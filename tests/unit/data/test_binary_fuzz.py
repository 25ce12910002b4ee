"""Hostile binary inputs: a valid ``.npy``, FIT or WFDB annotation file, changed at random a few hundred times (bytes
flipped, cut, inserted, headers edited), is each time read or refused with a ``RecordingFormatError``, promptly; and
the inputs that once stalled or crashed these readers (an annotation that sent ``wfdb.rdann`` into an endless loop,
a ``.npy`` header claiming 10^13 values, corrupted FIT files that escaped as ``struct.error``) are refused within a
second.
"""

from __future__ import annotations

import io
import random
import signal
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from cardiospike.data import RecordingFormatError, parse_recordings, read_recordings
from cardiospike.data.formats import READERS, Content, Options, wfdb_ann
from cardiospike.data.formats import fit as fit_format
from tests.unit.data.fit_files import crc16, fit_file

#: The reader of each test input, by its extension.
FORMATS = {".npy": "npy", ".fit": "fit", ".atr": "wfdb"}
#: Changed files per reader (the whole run of one reader takes a few seconds at most).
CASES = 300
#: Longest a single case may take, and a whole reader's run (generous: the machines that run tests are shared).
CASE_SECONDS, RUN_SECONDS = 1.0, 20.0

quiet_wfdb = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index")


@contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    """Fail, rather than hang the suite, where a reader does not return (SIGALRM interrupts a Python loop)."""

    def stop(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    if not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_or_refuse(data: bytes, source: str) -> tuple[str, float]:
    """``"read"`` or ``"refused"``, and the seconds it took; any other exception fails the test, with the input.

    The reader is called itself, not through ``parse_recordings``, which would turn any exception into a
    ``RecordingFormatError`` of its own: each reader names its own errors.
    """
    reader = READERS[FORMATS[Path(source).suffix]]
    start = time.perf_counter()
    try:
        with hang_guard(5 * CASE_SECONDS):
            reader.read(Content(data, source), Options(source=source, fixed_unit=reader.fixed_unit))
        outcome = "read"
    except RecordingFormatError:
        outcome = "refused"
    except Exception as exc:
        pytest.fail(f"{type(exc).__name__} escaped the reader of {source} on {data.hex()}")
    return outcome, time.perf_counter() - start


def fuzz(valid: list[bytes], source: str, mutate: Callable[[bytes, random.Random], bytes], seed: int) -> dict:
    rng = random.Random(seed)
    outcomes = {"read": 0, "refused": 0}
    slowest, start = 0.0, time.perf_counter()
    for _ in range(CASES):
        data = mutate(rng.choice(valid), rng)
        outcome, seconds = read_or_refuse(data, source)
        assert seconds < CASE_SECONDS, f"{seconds:.2f} s on {data.hex()}"
        outcomes[outcome] += 1
        slowest = max(slowest, seconds)
    assert time.perf_counter() - start < RUN_SECONDS
    return outcomes


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One to four changes: a bit flipped, a byte set, bytes inserted, a range deleted or repeated, the end cut."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        at = rng.randrange(len(b) + 1)
        if op == 0 and at < len(b):
            b[at] ^= 1 << rng.randrange(8)
        elif op == 1 and at < len(b):
            b[at] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        elif op == 2:
            b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3:
            del b[at : at + rng.randint(1, 16)]
        elif op == 4:
            b[at:at] = b[at : at + rng.randint(1, 32)]
        else:
            del b[at:]
    return bytes(b)


# --- npy -----------------------------------------------------------------------------------------------------------


def npy_file(header: dict, data: bytes) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)  # the magic string, then the header
    return buf.getvalue() + data


def valid_npy() -> list[bytes]:
    rr = np.random.default_rng(1).uniform(600, 1000, 40)
    fields = np.zeros(20, dtype=[("time", "<f8"), ("rr", "<f4"), ("id", "<U3")])
    fields["time"], fields["rr"], fields["id"] = np.cumsum(rr[:20]), rr[:20], "a"
    out = []
    for array in (
        rr,
        np.column_stack([np.cumsum(rr), rr]),
        rr.astype(">i2"),
        np.asfortranarray(rr.reshape(2, 20)),
        fields,
    ):
        buf = io.BytesIO()
        np.save(buf, array)
        out.append(buf.getvalue())
    return out


SHAPES = [(10**13,), (-1,), (0,), (2**63,), (2**32, 2**32), (), (40,), (20, 2), (2, 20), (1, 40), (0, 10**18), (5, -8)]
DESCRS: list[object] = ["<f8", ">f8", "<i2", "|b1", "|O", "<c16", "<U3", "|V8", "<M8[ns]", "|S0", ("<f8", (2,))]
DESCRS += [[("t", "<f8"), ("rr", "<f8")], [("rr", "|O")], [("rr", "<f8", (2,))], [("rr", [("x", "<f8")])]]


def mutate_npy(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.4:  # a header of another shape, type or order before the same values
        header = {"descr": rng.choice(DESCRS), "fortran_order": rng.random() < 0.3, "shape": rng.choice(SHAPES)}
        try:
            return npy_file(header, data[128:])
        except (ValueError, TypeError):
            pass
    b = bytearray(data)
    if rng.random() < 0.3:  # an edit of the header's text
        b[rng.randrange(10, 120)] = rng.choice(b"(),:'0123456789-{}[]ObfiUV<>|xTrueFalse ")
        return bytes(b)
    if rng.random() < 0.4:  # values changed, the size kept (NaN, infinities, huge or negative numbers ...)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(128, len(b))] = rng.randrange(256)
        return bytes(b)
    return mutate_bytes(data, rng)


def test_npy_fuzz():
    outcomes = fuzz(valid_npy(), "rr.npy", mutate_npy, seed=11)
    assert outcomes["read"] > 20
    assert outcomes["refused"] > 20


def test_npy_header_claiming_ten_trillion_values_is_refused_at_once():
    data = npy_file({"descr": "<f8", "fortran_order": False, "shape": (10**13,)}, bytes(64))
    assert len(data) == 192
    outcome, seconds = read_or_refuse(data, "x.npy")
    assert outcome == "refused"
    assert seconds < 1.0
    with pytest.raises(RecordingFormatError, match="declares more bytes than the file holds"):
        parse_recordings(data, source="x.npy")


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ({"descr": "<f8", "fortran_order": False, "shape": (2**32, 2**32)}, "more bytes than"),  # wraps to 0 in int64
        ({"descr": "<f8", "fortran_order": False, "shape": (-2, -4)}, "negative size"),
        ({"descr": "<f8", "fortran_order": False, "shape": (4,)}, "fewer bytes than"),
        ({"descr": "|O", "fortran_order": False, "shape": (10**9,)}, "Python objects"),
        ({"descr": "<c16", "fortran_order": False, "shape": (2,)}, "not of numbers"),
        ({"descr": [("rr", "|O")], "fortran_order": False, "shape": (1,)}, "Python objects"),
        ({"descr": [("rr", "<f8", (2,))], "fortran_order": False, "shape": (4,)}, "not all numbers or text"),
    ],
)
def test_npy_headers_are_checked_against_the_bytes_and_plain_types(header: dict, problem: str):
    with pytest.raises(RecordingFormatError, match=problem):
        parse_recordings(npy_file(header, bytes(64)), source="x.npy")


def test_npy_fortran_order_and_byte_order_are_read():
    columns = np.array([[1000.0, 1800.0, 2600.0], [800.0, 800.0, 800.0]])  # time, then RR: column by column
    data = npy_file({"descr": ">f8", "fortran_order": True, "shape": (3, 2)}, columns.astype(">f8").tobytes())
    (rec,) = parse_recordings(data, source="x.npy")
    np.testing.assert_array_equal(rec.time, columns[0])
    np.testing.assert_array_equal(rec.rr, columns[1])


# --- FIT -----------------------------------------------------------------------------------------------------------


def with_checksums(data: bytes) -> bytes:
    """The same FIT file with its sizes and checksums made right again, so that the decoder reads the changes."""
    if len(data) < 16:
        return data
    body = data[14:-2]
    header = bytes([14]) + data[1:4] + struct.pack("<I", len(body)) + data[8:12]
    header += struct.pack("<H", crc16(header))
    return header + body + struct.pack("<H", crc16(header + body))


def valid_fit() -> list[bytes]:
    return [
        fit_file([[812, 790, 805], [1210, 640], [800]]),
        fit_file([[700 + i, 710, 720, 730, 740] for i in range(20)]),
    ]


def mutate_fit(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.15:  # the header alone: its size, versions, declared size
        b = bytearray(data)
        b[rng.choice([0, 1, 2, 3, 4, 5, 6, 7])] = rng.randrange(256)
        return bytes(b)
    changed = mutate_bytes(data, rng)
    return with_checksums(changed) if rng.random() < 0.6 else changed


def test_fit_fuzz():
    pytest.importorskip("fitdecode", reason="the 'fit' extra (fitdecode) is not installed")
    outcomes = fuzz(valid_fit(), "a.fit", mutate_fit, seed=12)
    assert outcomes["read"] > 10
    assert outcomes["refused"] > 100


def test_fit_crc_matches_the_reference():
    rng = random.Random(3)
    for size in (0, 1, 2, 3, 7, 8, 255, 1000, 4099):
        data = bytes(rng.randrange(256) for _ in range(size))
        assert fit_format.crc16(data) == crc16(data)


def corrupted_fits() -> dict[str, bytes]:
    valid = fit_file([[800 + i % 50, 810, 790, 805, 820] for i in range(180)])  # about 2 KB
    flipped = bytearray(valid)
    flipped[1000] ^= 0x10
    wide_header = bytearray(valid)
    wide_header[0] = 20  # fitdecode unpacked its CRC from 8 bytes: struct.error
    zero_field = bytearray(fit_file([[800, 810]]))
    zero_field[14 + 18] = 0  # the size of hrv.time in its definition, 0: fitdecode's ValueError('size')
    return {
        "a byte changed": bytes(flipped),
        "cut short": valid[: len(valid) // 2],
        "a header of 20 bytes": bytes(wide_header),
        "a field of 0 bytes, checksums right": with_checksums(bytes(zero_field)),
        "no messages declared, checksums right": with_checksums(valid[:14] + valid[-2:]),
        "only a header": valid[:14],
    }


@pytest.mark.parametrize("case", list(corrupted_fits()))
def test_corrupted_fit_files_are_refused_at_once(case: str):
    pytest.importorskip("fitdecode", reason="the 'fit' extra (fitdecode) is not installed")
    data = corrupted_fits()[case]
    outcome, seconds = read_or_refuse(data, "a.fit")
    assert outcome == "refused"
    assert seconds < 1.0
    with pytest.raises(RecordingFormatError, match=r"not a readable FIT file|no beat-to-beat"):
        parse_recordings(data, source="a.fit")


def test_fit_limits(monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("fitdecode", reason="the 'fit' extra (fitdecode) is not installed")
    big = fit_file([[800]])[:14] + bytes(fit_format.MAX_FIT_BYTES)
    start = time.perf_counter()
    with pytest.raises(RecordingFormatError, match="more than the limit"):
        parse_recordings(big, source="a.fit")
    assert time.perf_counter() - start < 1.0
    monkeypatch.setattr(fit_format, "MAX_FIT_MESSAGES", 10)
    with pytest.raises(RecordingFormatError, match="more than 10 messages"):
        parse_recordings(fit_file([[800]] * 20), source="a.fit")
    assert len(parse_recordings(fit_file([[800]] * 5), source="a.fit")[0]) == 5


def test_chained_fit_files_are_read_and_checked_each():
    pytest.importorskip("fitdecode", reason="the 'fit' extra (fitdecode) is not installed")
    one, two = fit_file([[800, 810]]), fit_file([[820]])
    np.testing.assert_array_equal(parse_recordings(one + two, source="a.fit")[0].rr, [800, 810, 820])
    broken = bytearray(two)
    broken[-3] ^= 1
    with pytest.raises(RecordingFormatError, match="checksum"):
        parse_recordings(one + bytes(broken), source="a.fit")
    with pytest.raises(RecordingFormatError, match="no FIT file header at byte"):
        parse_recordings(one + b"\x00" * 20, source="a.fit")


# --- WFDB annotations ----------------------------------------------------------------------------------------------


def word(code: int, value: int = 0) -> bytes:
    return struct.pack("<H", (code << 10) | value)


def note(text: bytes) -> bytes:
    """An AUX field: its length, then the note padded to whole words."""
    return word(63, len(text)) + text + b"\x00" * (len(text) % 2)


HELLO = word(22) + note(b"## hello") + word(0)  # a comment at sample 0 whose note starts "## "


def valid_annotations(folder: Path) -> list[bytes]:
    wfdb = pytest.importorskip("wfdb", reason="the 'wfdb' extra is not installed")
    samples = np.cumsum(np.r_[100, np.full(30, 280), 5000, np.full(10, 300)])  # a gap over 1023 samples: a SKIP
    symbols = np.array(list("N" * 12 + "V" + "N" * 9 + "+" + "N" * 19))
    aux = [""] * len(samples)
    aux[22] = "(AFIB"
    wfdb.wrann("a", "atr", samples, symbols, aux_note=aux, fs=360, write_dir=str(folder))
    wfdb.wrann(
        "b", "atr", samples[:12], symbols[:12], chan=np.arange(12) % 2, num=np.arange(12) % 3, write_dir=str(folder)
    )
    # the frequency as a comment at sample 0, written by hand
    by_hand = word(22) + note(b"## time resolution: 250") + b"".join(word(1, 200) for _ in range(20)) + word(0)
    return [(folder / "a.atr").read_bytes(), (folder / "b.atr").read_bytes(), by_hand]


SPECIAL = [59, 60, 61, 62, 63, 22, 0, 1, 5]
NOTES = [b"## hello", b"## time resolution: 360", b"## annotation type definitions", b"## end of definitions", b"(N"]


def mutate_annotations(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(b) // 2 + 1) * 2
        op = rng.randrange(4)
        if op == 0:  # a field word of any kind
            code = rng.choice(SPECIAL)
            b[at:at] = word(code, rng.randrange(12) if code == 63 else rng.randrange(1024))
        elif op == 1:  # a note, often one that starts "## "
            b[at:at] = note(rng.choice(NOTES))
        elif op == 2:  # a comment at sample 0, where rdann looks for definitions
            b[0:0] = word(22) + note(rng.choice(NOTES))
        else:
            b = bytearray(mutate_bytes(bytes(b), rng))
    return bytes(b)


@quiet_wfdb
def test_wfdb_fuzz(tmp_path: Path):
    outcomes = fuzz(valid_annotations(tmp_path), "100.atr", mutate_annotations, seed=13)
    assert outcomes["read"] > 20
    assert outcomes["refused"] > 20


@quiet_wfdb
@pytest.mark.parametrize(
    "data",
    [
        HELLO,
        word(22) + note(b"## time resolution: 360") + word(22) + note(b"## hello") + word(1, 200) * 3 + word(0),
        word(22) + note(b"## time resolution: 360") + word(22) + note(b"## time resolution: 360") + word(0),
        word(22) + note(b"## end of definitions") + word(0),
        word(22) + note(b"(N") + word(22) + note(b"## x") + word(0),
    ],
    ids=["hello", "hello after the frequency", "the frequency twice", "an end without a start", "second comment"],
)
def test_wfdb_notes_that_sent_rdann_into_an_endless_loop_are_refused_at_once(data: bytes):
    pytest.importorskip("wfdb", reason="the 'wfdb' extra is not installed")
    outcome, seconds = read_or_refuse(data, "100.atr")
    assert outcome == "refused"
    assert seconds < 1.0
    with pytest.raises(RecordingFormatError, match="neither the sampling frequency nor a label definition"):
        parse_recordings(data, source="100.atr")


@quiet_wfdb
def test_wfdb_notes_rdann_reads_are_read():
    pytest.importorskip("wfdb", reason="the 'wfdb' extra is not installed")
    beats = word(1, 200) * 4 + word(0)
    frequency = word(22) + note(b"## time resolution: 250")
    definitions = word(22) + note(b"## annotation type definitions") + word(22) + note(b"42 X custom")
    definitions += word(22) + note(b"## end of definitions")
    later = word(1, 200) + word(22) + note(b"## hello")  # past the comments at sample 0: rdann does not look there
    for data, intervals in (
        (frequency + beats, 3),
        (frequency + definitions + beats, 3),
        (frequency + later + beats, 4),
    ):
        (rec,) = parse_recordings(data, source="100.atr")
        np.testing.assert_array_equal(rec.rr, [800.0] * intervals)


@quiet_wfdb
@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (word(1, 200) * 3 + b"\x00", "odd number of bytes"),
        (word(1, 200) * 3, "no end word"),
        (word(1, 200) + word(59) + word(0), "runs into the end"),
        (word(1, 200) + word(63, 40) + b"ab" + word(0), "runs into the end"),
        (word(1, 200) + word(63, 0x1FF) + bytes(256) + word(0), "longer than 255 bytes"),
    ],
)
def test_wfdb_malformed_word_streams(data: bytes, problem: str):
    pytest.importorskip("wfdb", reason="the 'wfdb' extra is not installed")
    with pytest.raises(RecordingFormatError, match=problem):
        parse_recordings(data, source="100.atr")


@quiet_wfdb
def test_wfdb_limits_and_headers(tmp_path: Path):
    pytest.importorskip("wfdb", reason="the 'wfdb' extra is not installed")
    big = word(1, 200) * (wfdb_ann.MAX_ANNOTATION_BYTES // 2) + word(0)
    start = time.perf_counter()
    with pytest.raises(RecordingFormatError, match="more than the limit") as info:
        parse_recordings(big, source="100.atr")
    assert time.perf_counter() - start < 1.0
    assert "ann2rr" in str(info.value)
    with pytest.raises(RecordingFormatError, match="header alone"):
        parse_recordings(b"100 1 360 650000\n", source="100.hea")
    # The frequency from the header beside the annotation; a header of one long line of digits (quadratic in wfdb's
    # expressions) is read at once.
    (tmp_path / "100.atr").write_bytes(word(1, 200) * 4 + word(0))
    (tmp_path / "100.hea").write_text("# a comment\n100 1 250/2(0) 100000\n")
    np.testing.assert_array_equal(read_recordings(tmp_path / "100.atr")[0].rr, [800.0] * 3)
    np.testing.assert_array_equal(read_recordings(tmp_path / "100.hea")[0].rr, [800.0] * 3)
    (tmp_path / "100.hea").write_text("100 1\n")  # no frequency: WFDB's default, 250
    np.testing.assert_array_equal(read_recordings(tmp_path / "100.atr")[0].rr, [800.0] * 3)
    (tmp_path / "100.hea").write_text("1" * 60_000 + "\n")
    start = time.perf_counter()
    with pytest.raises(RecordingFormatError, match="no sampling frequency"):
        read_recordings(tmp_path / "100.atr")
    assert time.perf_counter() - start < 1.0
