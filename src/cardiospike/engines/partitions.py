"""Scoring one partition: what a worker runs, in this process (``local``) or in a Dask worker process.

Every function here takes picklable arguments and returns a small picklable result, so that Dask can ship it; the
package's own errors (a bad value, an unreadable file) come back as the result's ``failure`` with their whole
message, never as exceptions to unpickle. The model is loaded once per process (:func:`detector_for`) and kept for
the next partitions.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cardiospike.artifact import Artifact, ArtifactError
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Options, Recordings
from cardiospike.data.formats.columns import misread_hint
from cardiospike.data.formats.parquet import (
    MAGIC,
    SUFFIXES,
    is_parquet,
    parquet_file,
    recordings_of_arrow,
)
from cardiospike.data.formats.table import OUTPUT_COLUMNS
from cardiospike.data.io import MAX_INPUT_BYTES, parse_recordings, read_recordings
from cardiospike.data.output import OutputError, parquet_bytes
from cardiospike.data.output import integer_ids as as_integers
from cardiospike.detector import Detector, load_detector, scored_frame
from cardiospike.engines.datasets import (
    METADATA_KEY,
    DatasetError,
    Partition,
    source_identity,
    write_output,
    written_by,
)
from cardiospike.recording import ID, LABEL, NAMED_MOSTLY_ERRORS, Reading, mostly_errors
from cardiospike.remote import RemoteError, is_url, open_file, read_file
from cardiospike.summary import episodes_of
from cardiospike.version import package_version

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

#: The column that keeps each row's place in the input while a dataset is repartitioned by recording id.
POSITION = "__cardiospike_row"
#: The errors a partition can fail with, reported with their message (anything else is a fault, raised).
EXPECTED = (RecordingFormatError, RemoteError, OutputError, DatasetError, ArtifactError)


def _options(reading: Reading, source: str, default_id: str) -> Options:
    """How a partition is read: as ``reading`` says, its other columns kept for the output."""
    return Options.of(reading, source, default_id, keep_columns=True)


@dataclass(frozen=True)
class Job:
    """What every partition of a run is scored with.

    Attributes
    ----------
    model : str or None
        The model as each worker loads it: an absolute folder, a URL, or None for the shipped one.
    threshold : float or None
        The decision threshold (None: the model's).
    reading : Reading
        How partitions are read.
    key : str
        The run's identity (:func:`run_key`), recorded in every output partition.
    resume : bool
        Skip partitions whose output this run's identity already wrote completely, from the same input.
    token : str
        The run's own random token, carried by the names of its partial files (``datasets.start_output``).
    source : str or None
        What the whole input is (``Dataset.identity``): recorded by, and compared for, the partitions of a dataset
        repartitioned by id, which come from all of it (a partition carries its own identity).
    """

    model: str | None
    threshold: float | None
    reading: Reading
    key: str
    resume: bool = False
    token: str = ""
    source: str | None = None


def run_key(artifact: Artifact, threshold: float | None, reading: Reading) -> str:
    """What makes two runs' outputs the same: the model (its whole manifest), the threshold and the reading."""
    identity = {
        "manifest": artifact.manifest,
        "threshold": artifact.threshold if threshold is None else float(threshold),
        "reading": asdict(reading),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:32]


@dataclass
class PartitionResult:
    """What scoring one partition gave (or why it failed): counts for the run's summary."""

    name: str
    beats: int = 0
    recordings: int = 0
    anomalous: int = 0
    errors: int = 0
    episodes: int = 0
    skipped: bool = False
    failure: str | None = None
    unit_note: str | None = None
    mostly_errors: list[str] = field(default_factory=list)
    n_mostly_errors: int = 0
    mostly_errors_hint: str | None = None
    loaded_model: bool = False
    process: int = 0


_DETECTORS: dict[str | None, Detector] = {}
_LOCK = threading.Lock()


def detector_for(model: str | None) -> tuple[Detector, bool]:
    """This process's detector of ``model``, loaded at its first use; and whether this call loaded it."""
    with _LOCK:
        if model in _DETECTORS:
            return _DETECTORS[model], False
        detector = load_detector(model)
        _DETECTORS[model] = detector
        return detector, True


def keep_detector(model: str | None, detector: Detector) -> None:
    """Use ``detector`` for ``model`` in this process (one already loaded, to check the model, is not loaded again)."""
    with _LOCK:
        _DETECTORS.setdefault(model, detector)


def score_partition(partition: Partition, path: str, job: Job) -> PartitionResult:
    """Read a partition, score it and write its output to ``path`` (skipped where ``job.resume`` finds it done)."""
    result = PartitionResult(partition.name, process=os.getpid())
    try:
        # The identity the run found before any partition was scored: if the file changes after, the output records
        # what it was, and the next resume scores it again (never keeps scores of content it did not read).
        identity = partition.identity or source_identity(partition)
        meta = {"source": partition.name, "source_size": partition.size, "source_identity": identity}
        if job.resume and _done(path, job, **meta):
            result.skipped = True
        else:
            recordings, integer_ids, labelled = _read(partition, job.reading)
            frame = _score(recordings, job, result, integer_ids, labelled)
            write_output(path, parquet_bytes(frame, _metadata(job, result, meta)), tag=job.token)
    except EXPECTED as exc:
        result.failure = str(exc)
    return result


def _read(partition: Partition, reading: Reading) -> tuple[Recordings, bool | None, bool | None]:
    """The recordings of one input file (Parquet, or any format for a file of its own), with its other columns;
    whether the ids are integers in the input: a Parquet file's id column says (no id
    column: the file's name, text), a file of another format does not (None); and, for a Parquet file without rows,
    whether it has labels (None: its recordings say)."""
    source = partition.source
    if partition.size > MAX_INPUT_BYTES:
        raise RecordingFormatError(
            source, f"file is {partition.size} bytes, more than the limit of {MAX_INPUT_BYTES}: split it in partitions"
        )
    opts = _options(reading, source, partition.stem)
    suffix = Path(partition.name).suffix.lower()
    named_parquet = suffix in SUFFIXES
    if not is_url(source) and not (reading.fmt == "parquet" or (reading.fmt == "auto" and is_parquet(source))):
        return read_recordings(source, **reading.kwargs(), keep_columns=True), None, None
    content = _content(source)
    if reading.fmt == "parquet" or (reading.fmt == "auto" and (named_parquet or content.startswith(MAGIC))):
        how = "as asked" if reading.fmt == "parquet" else "from the content"
        how = f"from the extension {suffix}" if reading.fmt == "auto" and named_parquet else how
        try:
            file = parquet_file(content, source)
            integer = _integer_ids(file.schema_arrow, opts.roles(file.schema_arrow.names).id)
            if file.metadata.num_rows == 0:
                return _empty(file.schema_arrow, opts), integer, _has_labels(file.schema_arrow, opts)
            return recordings_of_arrow(file.read(use_threads=False), opts), integer, None
        except RecordingFormatError as exc:
            raise exc.read_as(f"read as parquet, {how}") from None
    recordings = parse_recordings(
        content, source=source, default_id=partition.stem, **reading.kwargs(), keep_columns=True
    )
    return recordings, None, None


def _integer_ids(schema: pa.Schema, id_column: int | None) -> bool:
    """Whether a Parquet file's recording ids are integers (none without an id column: ids are then file names)."""
    import pyarrow as pa

    return id_column is not None and pa.types.is_integer(schema.field(id_column).type)


def _has_labels(schema: pa.Schema, opts: Options) -> bool:
    """Whether a Parquet file has a column of labels: its output, empty or not, has the reference labels then."""
    return opts.roles(schema.names).label is not None


def _empty(schema: pa.Schema, opts: Options) -> Recordings:
    """No recordings, with the input's other columns (none of their rows): the output of an empty partition."""
    roles = opts.roles(schema.names)
    extra = schema.empty_table().to_pandas()
    recordings = Recordings()
    kept = [name for i, name in enumerate(schema.names) if i not in roles.used()]
    recordings.extra = extra[kept].rename(columns={n: f"input_{n}" for n in kept if n in OUTPUT_COLUMNS})
    return recordings


def _score(
    recordings: Recordings,
    job: Job,
    result: PartitionResult,
    integer_ids: bool | None = None,
    labelled: bool | None = None,
) -> pd.DataFrame:
    """Score the recordings in batches (as the single-machine path does); their rows, and counts in ``result``.

    ``integer_ids``: the input's ids are integers (True), text (False), or unknown (None: a format without types,
    such as CSV, whose ids are integers where every one is written as one). Integer ids are written as int64, so
    that the scores join back onto the input's rows; read, every id is text. ``labelled``: whether the output has
    the reference labels (None: where any recording has labels).
    """
    import pandas as pd

    detector, result.loaded_model = detector_for(job.model)
    scored = detector.score_many(recordings, job.threshold)
    frame = scored_frame(scored, labelled)
    numbers = None if integer_ids is False else as_integers([r.id for r in recordings])
    if numbers is not None:
        frame[ID] = np.repeat(np.asarray(numbers, dtype=np.int64), [len(r) for r in recordings])
    if recordings.extra is not None and len(recordings.extra.columns):
        extra = recordings.extra.reset_index(drop=True)
        frame = pd.concat([frame, extra], axis=1)
    result.beats, result.recordings = len(frame), len(scored)
    result.anomalous = int(frame[LABEL].sum()) if len(frame) else 0
    result.errors = int(sum(int(s.error.sum()) for s in scored))
    result.episodes = sum(len(episodes_of(s)) for s in scored)
    result.unit_note = recordings.unit_note
    bad = [s for s in scored if mostly_errors(int(s.error.sum()), len(s.recording))]
    result.mostly_errors = [s.recording.id for s in bad[:NAMED_MOSTLY_ERRORS]]
    result.n_mostly_errors = len(bad)
    if bad:
        result.mostly_errors_hint = misread_hint(bad[0].recording.rr, bad[0].recording.unit)
    return frame


def _metadata(job: Job, result: PartitionResult, more: dict[str, Any]) -> dict[str, str]:
    detector, _ = detector_for(job.model)
    recorded = {
        "version": package_version(),
        "model_version": detector.model_version,
        "run": job.key,
        "recordings": result.recordings,
        **more,
    }
    return {METADATA_KEY: json.dumps(recorded, sort_keys=True)}


def _done(path: str, job: Job, **expected: Any) -> bool:
    """Whether the output at ``path`` was written completely by a run like this one, from the same input: the same
    run identity and every ``expected`` value recorded alike (the input's name, size and content identity). An
    expected value not known (None) is never alike: an output whose input cannot be told the same is scored again."""
    if any(value is None for value in expected.values()):
        return False
    recorded = written_by(path)
    return (
        recorded is not None
        and recorded.get("run") == job.key
        and all(recorded.get(k) == v for k, v in expected.items())
    )


# --- recordings that span partitions: a survey of the ids, then a repartition by id ----------------------------------


@dataclass
class Survey:
    """One Parquet partition's rows, the column holding recording ids (None: the file is one recording) and the
    ids in it; or why it cannot be read."""

    name: str
    rows: int = 0
    id_column: str | None = None
    ids: frozenset[str] = frozenset()
    schema: Any = None
    failure: str | None = None


def survey_partition(partition: Partition, reading: Reading) -> Survey:
    """The recording ids of a Parquet partition, read from its id column alone."""
    import pyarrow.compute as pc

    survey = Survey(partition.name)
    try:
        with _opened(partition.source) as handle:
            file = parquet_file(handle, partition.source)
            survey.rows, survey.schema = file.metadata.num_rows, file.schema_arrow
            roles = _options(reading, partition.source, partition.stem).roles(survey.schema.names)
            if roles.id is not None:
                survey.id_column = survey.schema.names[roles.id]
                column = file.read(columns=[survey.id_column], use_threads=False).column(0)
                text = pc.utf8_trim_whitespace(column.cast("string")).combine_chunks()
                survey.ids = frozenset(str(v) for v in pc.unique(text).to_pylist() if v is not None)
    except EXPECTED as exc:
        survey.failure = str(exc)
    return survey


def _content(source: str) -> bytes:
    """The bytes of a local file or a URL; RecordingFormatError naming it where it cannot be read."""
    try:
        return read_file(source) if is_url(source) else Path(source).read_bytes()
    except FileNotFoundError:
        raise RecordingFormatError(source, "no such file (removed since it was listed?)") from None
    except OSError as exc:
        raise RecordingFormatError(source, f"cannot read it: {exc.strerror or exc}") from None


@contextmanager
def _opened(source: str) -> Iterator[Any]:
    """A local file or a URL opened for reading in ranges (a Parquet footer and one column, not the whole file)."""
    try:
        with open_file(source) if is_url(source) else open(source, "rb") as handle:
            yield handle
    except FileNotFoundError:
        raise RecordingFormatError(source, "no such file (removed since it was listed?)") from None
    except OSError as exc:
        raise RecordingFormatError(source, f"cannot read it: {exc.strerror or exc}") from None


def spanning(surveys: list[Survey]) -> dict[str, list[str]]:
    """The recording ids found in more than one partition, each with the partitions that hold it."""
    seen: dict[str, str] = {}
    spans: dict[str, list[str]] = {}
    for survey in surveys:
        if survey.id_column is None:
            continue
        for rec_id in survey.ids:
            if rec_id in seen:
                spans.setdefault(rec_id, [seen[rec_id]]).append(survey.name)
            else:
                seen[rec_id] = survey.name
    return spans


def rows_frame(table: pa.Table, offset: int, id_column: str) -> pd.DataFrame:
    """A partition's rows as a frame to repartition: ids as text, and each row's place in the whole input."""
    import pyarrow as pa
    import pyarrow.compute as pc

    index = table.column_names.index(id_column)
    ids = pc.utf8_trim_whitespace(table.column(index).cast(pa.string()))
    frame = table.set_column(index, id_column, ids).to_pandas()
    frame[POSITION] = np.arange(offset, offset + len(frame), dtype=np.int64)
    return frame


def read_rows(partition: Partition, offset: int, id_column: str) -> pd.DataFrame:
    """Every row of a Parquet partition, as :func:`rows_frame` gives them."""
    content = _content(partition.source)
    return rows_frame(parquet_file(content, partition.source).read(use_threads=False), offset, id_column)


def score_rows(
    frame: pd.DataFrame, index: int, of: int, path: str, job: Job, source: str, id_column: str, source_size: int,
    integer_ids: bool | None = None,
) -> PartitionResult:  # fmt: skip
    """Score the rows one partition of a repartitioned dataset holds (whole recordings, in any order) and write them
    to ``path``: each recording's rows in their input order, the recordings in the order of their first rows.
    ``source_size`` is the input's size (all its partitions), recorded with the whole input's identity
    (``job.source``) to tell a changed input; ``integer_ids``: whether the input's ids were integers
    (:func:`rows_frame` made them text)."""
    import pyarrow as pa

    name = path.rsplit("/", 1)[-1]
    result = PartitionResult(name, process=os.getpid())
    try:
        identity = job.source
        expected = {"partitions": of, "part": index, "source_size": source_size, "source_identity": identity}
        if job.resume and _done(path, job, **expected):
            result.skipped = True
        else:
            where = f"{source} (repartitioned by id, part {index + 1} of {of})"
            opts = _options(job.reading, where, name)
            table = pa.Table.from_pandas(_in_input_order(frame, id_column), preserve_index=False)
            labelled = None
            if table.num_rows == 0:
                recordings, labelled = _empty(table.schema, opts), _has_labels(table.schema, opts)
            else:
                try:
                    recordings = recordings_of_arrow(table, opts)
                except RecordingFormatError as exc:
                    raise exc.read_as("read as parquet") from None
            scored = _score(recordings, job, result, integer_ids, labelled)
            write_output(path, parquet_bytes(scored, _metadata(job, result, expected)), tag=job.token)
    except EXPECTED as exc:
        result.failure = str(exc)
    return result


def _in_input_order(frame: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """Each recording's rows together, in their input order; the recordings in the order of their first rows."""
    if frame.empty:
        return frame.drop(columns=[POSITION])
    first = frame.groupby(id_column, sort=False)[POSITION].transform("min").to_numpy()
    order = np.lexsort((frame[POSITION].to_numpy(), first))
    return frame.iloc[order].drop(columns=[POSITION]).reset_index(drop=True)
