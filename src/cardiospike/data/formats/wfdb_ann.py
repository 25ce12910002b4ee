"""PhysioNet WFDB beat annotations (``100.atr`` and its header ``100.hea``), read with the ``wfdb`` package.

RR intervals are the NN intervals: between consecutive beat annotations that are both normal beats (``N``, and the
bundle-branch-block beats ``L``, ``R``, ``B``, which are conducted normally); each is timed at the beat that ends it.
An interval next to an ectopic beat (``V``, ``A`` ...) is left out, as HRV tools do; non-beat annotations (rhythm,
noise, comments) are skipped. Given the header (``.hea``), the first annotation file found beside it is read. The
sampling frequency comes from the annotation file or the header. ``wfdb`` comes with the ``wfdb`` extra
(``pip install 'cardiospike[wfdb]'``).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.columns import Roles
from cardiospike.data.formats.table import Table, recordings_of

#: Annotation file extensions of common annotators (reference beats, QRS detectors).
ANNOTATION_SUFFIXES = (".atr", ".qrs", ".ecg", ".ann", ".ari", ".sqrs", ".wqrs", ".gqrs", ".pu", ".pu0", ".pu1")
#: Beat annotation symbols (everything else is rhythm, noise or a comment).
BEATS = frozenset("NLRBAaJSVrFejnE/fQ?")
#: Beats conducted normally: the ends of an NN interval.
NORMAL = frozenset("NLRB")


def read_wfdb(content: Content, opts: Options) -> Recordings:
    try:
        import wfdb
    except ImportError:
        raise RecordingFormatError(
            opts.source, "reading WFDB annotations needs the 'wfdb' extra: pip install 'cardiospike[wfdb]'"
        ) from None
    if opts.path is None:
        # An upload: the annotation alone, written to a folder of its own (wfdb reads files).
        with tempfile.TemporaryDirectory() as folder:
            suffix = Path(opts.source).suffix.lower()
            path = Path(folder) / f"record{suffix if suffix in ANNOTATION_SUFFIXES else '.atr'}"
            path.write_bytes(content.raw)
            return _read(wfdb, path, opts)
    return _read(wfdb, opts.path, opts)


def _read(wfdb: object, path: Path, opts: Options) -> Recordings:
    if path.suffix.lower() == ".hea":
        found = [path.with_suffix(s) for s in ANNOTATION_SUFFIXES if path.with_suffix(s).is_file()]
        if not found:
            raise RecordingFormatError(
                opts.source, f"no annotation file beside the header ({', '.join(ANNOTATION_SUFFIXES)})"
            )
        path = found[0]
    try:
        with warnings.catch_warnings():  # wfdb's own use of pandas warns of pandas' future; nothing to do here
            warnings.simplefilter("ignore")
            ann = wfdb.rdann(str(path.with_suffix("")), path.suffix.lstrip("."))  # type: ignore[attr-defined]
    except Exception as exc:  # wfdb raises bare ValueError, IndexError ... for a file that is not an annotation
        raise RecordingFormatError(opts.source, f"not a WFDB annotation file ({type(exc).__name__})") from None
    if not ann.fs:
        raise RecordingFormatError(
            opts.source, "no sampling frequency: put the record's header (.hea) beside the annotation file"
        )
    symbols = np.asarray(ann.symbol, dtype=object)
    beats = np.isin(symbols, list(BEATS))
    samples, normal = np.asarray(ann.sample)[beats], np.isin(symbols[beats], list(NORMAL))
    nn = normal[1:] & normal[:-1]
    if not nn.any():
        raise RecordingFormatError(opts.source, "no two consecutive normal beats: no NN interval to read")
    ms_per_sample = 1000.0 / float(ann.fs)
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
