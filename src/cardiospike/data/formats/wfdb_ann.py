"""PhysioNet WFDB beat annotations (``100.atr`` and its header ``100.hea``), read with the ``wfdb`` package.

RR intervals are the NN intervals: between consecutive beat annotations that are both normal beats (``N``, and the
bundle-branch-block beats ``L``, ``R``, ``B``, which are conducted normally); each is timed at the beat that ends it.
An interval next to an ectopic beat (``V``, ``A`` ...) is left out, as HRV tools do; non-beat annotations (rhythm,
noise, comments) are skipped. Given the header (``.hea``), the first annotation file found beside it is read; where
there is none, or given the signal file (``.dat``), the record's ECG is read instead
(:mod:`~cardiospike.data.formats.ecg`). The sampling frequency comes from the annotation file or the header. ``wfdb``
comes with the ``wfdb`` extra (``pip install 'cardiospike[wfdb]'``).

Hostile files. ``wfdb.rdann`` (4.3) loops for ever on some files: where one of the first annotations holds a note
starting ``## `` that is neither ``## time resolution: F`` (the first one) nor a block of label definitions, its
reading of the definitions never moves on. It also decodes annotations one by one in Python (about 10 µs each). So
an annotation file is checked first (:func:`check_annotations`): at most :data:`MAX_ANNOTATION_BYTES`, and its
stream of 16-bit words decoded the way ``rdann`` decodes it (vectorised; a Python step only per SKIP or AUX field),
refusing one that is cut short, whose fields run past its end, or whose notes would send ``rdann`` into that loop.
``rdann`` then reads a private copy of the bytes that were checked, never the header beside them (whose regular
expressions take quadratic time on long lines): the sampling frequency is taken from the header's record line here.
"""

from __future__ import annotations

import math
import re
import tempfile
import warnings
from bisect import bisect_left
from pathlib import Path

import numpy as np

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.columns import Roles
from cardiospike.data.formats.table import Table, recordings_of

#: Annotation file extensions of common annotators (reference beats, QRS detectors).
ANNOTATION_SUFFIXES = (".atr", ".qrs", ".ecg", ".ann", ".ari", ".sqrs", ".wqrs", ".gqrs", ".pu", ".pu0", ".pu1")
#: The extension of a record's signal file, read as ECG (:mod:`~cardiospike.data.formats.ecg`).
SIGNAL_SUFFIX = ".dat"
#: Beat annotation symbols (everything else is rhythm, noise or a comment).
BEATS = frozenset("NLRBAaJSVrFejnE/fQ?")
#: Beats conducted normally: the ends of an NN interval.
NORMAL = frozenset("NLRB")

#: Largest annotation file read: at most 524,288 annotations (two bytes each; about four days of beats at 80 per
#: minute), which ``rdann`` decodes in a few seconds. Longer records: ``ann2rr`` writes their RR as text.
MAX_ANNOTATION_BYTES = 1024 * 1024
#: How much of a header is read (a header is a few lines; this bounds the search for its record line).
MAX_HEADER_BYTES = 64 * 1024
#: WFDB's sampling frequency where a header's record line names none.
DEFAULT_FS = 250.0

# The annotation format: little-endian 16-bit words, a 6-bit code over a 10-bit value. An annotation is any SKIPs (a
# word, then a signed 32-bit sample offset in two more words), a core word (code: its label; value: samples since
# the one before), then any extra fields: NUM, SUB, CHN (one word each) and AUX (a word whose low byte is the length
# of a note, then the note, padded to whole words). The file ends with a word 0.
_SKIP, _AUX = 59, 63
_NOTE = 22  # the label of a comment: at sample 0, it may give the sampling frequency or define labels
_FS_NOTE = re.compile(r"## time resolution: (?P<fs>\d+\.?\d*)")  # as rdann finds it
_DEFINITIONS, _END_OF_DEFINITIONS = "## annotation type definitions", "## end of definitions"


def read_wfdb(content: Content, opts: Options) -> Recordings:
    signal = signal_header(opts.path, opts.source)
    if signal is not None:
        from cardiospike.data.formats.ecg import read_wfdb_signal

        return read_wfdb_signal(signal, opts)
    try:
        import wfdb
    except ImportError:
        raise RecordingFormatError(
            opts.source, "reading WFDB annotations needs the 'wfdb' extra: pip install 'cardiospike[wfdb]'"
        ) from None
    raw, suffix = content.raw, Path(opts.source).suffix.lower()
    header: bytes | Path | None = None
    if opts.path is not None and opts.path.suffix.lower() == ".hea":
        found = [opts.path.with_suffix(s) for s in ANNOTATION_SUFFIXES if opts.path.with_suffix(s).is_file()]
        if not found:
            raise RecordingFormatError(
                opts.source, f"no annotation file beside the header ({', '.join(ANNOTATION_SUFFIXES)})"
            )
        header, suffix = raw, found[0].suffix.lower()
        try:
            size = found[0].stat().st_size
            if size > MAX_ANNOTATION_BYTES:  # checked before reading it
                raise _too_large(opts.source, size)
            raw = found[0].read_bytes()
        except OSError as exc:
            raise RecordingFormatError(opts.source, f"cannot read {found[0].name}: {exc.strerror}") from None
    elif opts.path is None and suffix == ".hea":
        raise RecordingFormatError(opts.source, "a WFDB header alone: give its annotation file (.atr, .qrs ...)")
    elif opts.path is not None:
        header = opts.path.with_suffix(".hea")
    check_annotations(raw, opts.source)
    # rdann reads files: it gets a folder of its own holding the checked bytes alone (no header for it to parse).
    with tempfile.TemporaryDirectory() as folder:
        extension = suffix.lstrip(".") if suffix in ANNOTATION_SUFFIXES else "atr"
        (Path(folder) / f"record.{extension}").write_bytes(raw)
        try:
            with warnings.catch_warnings():  # wfdb's own use of pandas warns of pandas' future; nothing to do here
                warnings.simplefilter("ignore")
                ann = wfdb.rdann(str(Path(folder) / "record"), extension)
        except Exception as exc:  # wfdb raises bare ValueError, IndexError, KeyError ... on odd label definitions
            raise RecordingFormatError(opts.source, f"not a WFDB annotation file ({type(exc).__name__})") from None
    fs = ann.fs or _header_fs(header)
    if not fs or not math.isfinite(float(fs)) or float(fs) <= 0:
        raise RecordingFormatError(
            opts.source, "no sampling frequency: put the record's header (.hea) beside the annotation file"
        )
    symbols = np.asarray(ann.symbol, dtype=object)
    if symbols.shape != np.shape(ann.sample):  # label definitions that name a label twice give more symbols
        raise RecordingFormatError(opts.source, "not a WFDB annotation file (its label definitions are ambiguous)")
    beats = np.isin(symbols, list(BEATS))
    samples, normal = np.asarray(ann.sample)[beats], np.isin(symbols[beats], list(NORMAL))
    nn = normal[1:] & normal[:-1]
    if not nn.any():
        raise RecordingFormatError(opts.source, "no two consecutive normal beats: no NN interval to read")
    ms_per_sample = 1000.0 / float(fs)
    ends = samples[1:][nn]
    rr = np.diff(samples)[nn] * ms_per_sample
    index = np.flatnonzero(beats)[1:][nn]
    table = Table(
        names=["rr", "time (ms)"],
        columns=[rr, ends * ms_per_sample],
        roles=Roles(rr=0, time=1),
        where=lambda col, i: (None, f"annotation {index[i]}"),
    )
    return recordings_of(table, opts)


def signal_header(path: Path | None, source: str) -> Path | None:
    """The header of the record whose ECG signal is the input, or None for annotations: a signal file (``.dat``),
    or a header with no annotation file beside it."""
    suffix = Path(source).suffix.lower()
    if suffix == SIGNAL_SUFFIX and path is None:
        raise RecordingFormatError(source, "a WFDB signal file alone: its header (.hea) must be beside it")
    if path is None:
        return None
    if path.suffix.lower() == SIGNAL_SUFFIX:
        return path.with_suffix(".hea")
    if path.suffix.lower() == ".hea" and not any(path.with_suffix(s).is_file() for s in ANNOTATION_SUFFIXES):
        return path
    return None


def check_annotations(raw: bytes, source: str) -> None:
    """Refuse an annotation file that ``wfdb.rdann`` would not read, or not in bounded time.

    The words are decoded as ``rdann`` decodes them. Where it would stop with an error (a field past the end), so
    does this, with the reason; so it does, more strictly, where the end word is missing (a file cut short, whose
    last word rdann drops unread) or a note's length is over 255. Where rdann would loop for ever, this refuses the
    file. A file accepted here is read by ``rdann`` in time linear in its size, at most :data:`MAX_ANNOTATION_BYTES`.
    """
    if len(raw) > MAX_ANNOTATION_BYTES:
        raise _too_large(source, len(raw))
    if len(raw) % 2:
        raise _malformed(source, "an odd number of bytes, where annotations are 2-byte words")
    words = np.frombuffer(raw, dtype="<u2")
    n = words.size
    if n == 0 or words[-1] != 0:
        raise _malformed(source, "no end word (cut short?)")
    code = words >> 10
    skips, auxes, end = _walk(code, words & 0xFF)
    # rdann reads an annotation after each one it finishes, until the word left is the last one: the fields must
    # leave exactly the end word, and it must not be the core of an annotation (directly after a SKIP).
    if end > n - 1 or (skips and skips[-1] + 3 == n - 1):
        raise _malformed(source, "an annotation runs into the end of the file (cut short?)")
    skip_at = np.asarray(skips, dtype=np.int64)
    aux_at = np.asarray(auxes, dtype=np.int64)
    if np.any((words[aux_at] & 0x3FF) > 0xFF):  # rdann would read the low byte alone: another length
        raise _malformed(source, "a note longer than 255 bytes")
    lengths = (words[aux_at] & 0xFF).astype(np.int64)
    # Words inside SKIP offsets and notes are data; every other word but the last is a core or an extra field.
    starts = np.concatenate([skip_at + 1, aux_at + 1])
    stops = np.concatenate([skip_at + 3, aux_at + 1 + (lengths + 1) // 2])
    inside = np.zeros(n + 1, dtype=np.int64)
    np.add.at(inside, starts, 1)
    np.add.at(inside, stops, -1)
    field = np.cumsum(inside[:n]) > 0
    after_skip = np.zeros(n, dtype=bool)
    after_skip[0] = True
    after_skip[skip_at + 3] = True
    core = ~field & (code != _SKIP) & ((code < _SKIP) | after_skip)  # a label 60-63 right after a SKIP is a core
    core[-1] = False
    cores = np.flatnonzero(core)
    # Samples: the running sum of the cores' values and the SKIP offsets (signed 32-bit, high word first).
    step = np.zeros(n, dtype=np.int64)
    step[cores] = words[cores] & 0x3FF
    offsets = (words[skip_at + 1].astype(np.uint32) << 16) | words[skip_at + 2]
    step[skip_at] = offsets.view(np.int32)
    sample = np.cumsum(step)[cores]
    definitions = int(np.count_nonzero((sample == 0) & (code[cores] == _NOTE)))
    _check_notes(raw, cores, aux_at, lengths, definitions, source)


def _walk(code: np.ndarray, low: np.ndarray) -> tuple[list[int], list[int], int]:
    """The SKIP and AUX fields of the word stream, as rdann reads it, and where the last field ends.

    Only SKIP (3 words) and AUX (1 + the note's words) are longer than a word, so the walk steps from one to the next;
    a word of code 63 right after a SKIP (or first) is the core of an annotation, not a note.
    """
    candidates = np.flatnonzero((code == _SKIP) | (code == _AUX))
    at, is_skip = candidates.tolist(), (code[candidates] == _SKIP).tolist()
    width = (1 + (low[candidates].astype(np.int64) + 1) // 2).tolist()
    skips: list[int] = []
    auxes: list[int] = []
    pos, core_next, j = 0, True, 0
    while j < len(at):
        c = at[j]
        if c < pos:  # inside the field just read: go to the first candidate after it
            j = bisect_left(at, pos, j + 1)
            continue
        if c > pos:  # a plain word (a core or a one-word field) came between: no core is due here
            core_next = False
        if is_skip[j]:
            skips.append(c)
            pos, core_next = c + 3, True
        elif core_next:
            pos, core_next = c + 1, False
        else:
            auxes.append(c)
            pos = c + width[j]
        j += 1
    return skips, auxes, pos


def _check_notes(
    raw: bytes, cores: np.ndarray, aux_at: np.ndarray, lengths: np.ndarray, definitions: int, source: str
) -> None:
    """Refuse notes on which rdann's reading of the file's definitions would never end.

    rdann keeps one note per annotation (``""`` where it has none, each note where it has several) and looks at the
    first ``definitions`` of them (that many annotations are comments at sample 0): a note starting ``## `` moves it on
    only if it is the first ``## time resolution: F``, or a block from ``## annotation type definitions`` to
    ``## end of definitions`` (which it reads to its end wherever that is). Any other such note: it stays there.
    """
    if aux_at.size == 0 or definitions == 0:
        return
    data = np.frombuffer(raw, dtype=np.uint8)
    first = 2 * (aux_at + 1)
    hashed = lengths >= 3
    hashed[hashed] = (
        (data[first[hashed]] == ord("#")) & (data[first[hashed] + 1] == ord("#")) & (data[first[hashed] + 2] == 32)
    )
    if not hashed.any():
        return
    # The index of each note in rdann's list: one entry per annotation, more for one with several notes.
    owner = np.searchsorted(cores, aux_at, side="right") - 1
    per = np.maximum(np.bincount(owner, minlength=cores.size), 1)
    first_entry = np.cumsum(per) - per
    rank = np.arange(owner.size) - np.searchsorted(owner, owner, side="left")
    entry = (first_entry[owner] + rank)[hashed].tolist()
    spans = zip(first[hashed].tolist(), lengths[hashed].tolist(), strict=True)
    notes = [raw[a : a + k].decode("latin-1") for a, k in spans]  # as rdann decodes them: a character per byte
    fs = 0.0
    i, k = 0, 0
    while True:
        k = bisect_left(entry, i, k)
        if k == len(entry) or entry[k] >= definitions:
            return  # the rest are plain notes, or past the definitions: rdann moves on to the end
        i, note = entry[k], notes[k]
        if not fs:
            found = _FS_NOTE.findall(note)
            if found:
                fs, i = float(found[0]), i + 1
                continue
        if note == _DEFINITIONS:
            end = next((m for m in range(k + 1, len(notes)) if notes[m] == _END_OF_DEFINITIONS), None)
            if end is None:
                return  # rdann reads past its last note and stops with an IndexError
            i = entry[end] + 1
            continue
        raise _malformed(
            source,
            f"note {i + 1} starts '## ' at sample 0 but is neither the sampling frequency nor a label definition",
        )


def _header_fs(header: bytes | Path | None) -> float | None:
    """The sampling frequency on a header's record line (``100 2 360 650000``), WFDB's default where it has none.

    Read here rather than by wfdb, whose expressions for these lines take quadratic time on long ones; only the
    header's start is read (its record line is the first one that is no comment).
    """
    if isinstance(header, Path):
        try:
            with header.open("rb") as file:
                header = file.read(MAX_HEADER_BYTES)
        except OSError:  # none beside the annotation (or none that can be read): no frequency from it
            return None
    if header is None:
        return None
    for line in header[:MAX_HEADER_BYTES].decode("ascii", "ignore").splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) < 2 or not fields[1].isdigit():
            return None  # not a record line: wfdb finds no frequency there either
        if len(fields) < 3:
            return DEFAULT_FS
        number = re.match(r"\d*\.?\d*", fields[2])
        value = number.group() if number else ""
        try:
            fs = float(value) if value else DEFAULT_FS
        except ValueError:
            return None
        return fs if math.isfinite(fs) and fs > 0 else None
    return None


def _too_large(source: str, size: int) -> RecordingFormatError:
    return RecordingFormatError(
        source,
        f"an annotation file of {size} bytes, more than the limit of {MAX_ANNOTATION_BYTES} (about 500,000 beats)",
        hint="write its RR intervals as text with ann2rr (ann2rr -r RECORD -a atr -i s -V s) and read that",
    )


def _malformed(source: str, problem: str) -> RecordingFormatError:
    return RecordingFormatError(source, f"not a WFDB annotation file: {problem}")
