"""One run: a dataset scored into its output by an engine, and what it found, summed over the partitions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cardiospike.artifact import load_artifact
from cardiospike.detector import default_model_path, load_detector
from cardiospike.engines import ENGINES, Engine
from cardiospike.engines.datasets import (
    DatasetError,
    finish_output,
    identify,
    listed,
    open_dataset,
    open_target,
    start_output,
    unwritten,
)
from cardiospike.engines.partitions import Job, PartitionResult, keep_detector, run_key
from cardiospike.engines.progress import Progress, Silent
from cardiospike.recording import NAMED_MOSTLY_ERRORS, Reading
from cardiospike.remote import is_url


@dataclass
class Summary:
    """A run's partitions (scored, and skipped as already complete) and what their recordings hold."""

    partitions: int = 0
    scored: int = 0
    skipped: int = 0
    recordings: int = 0
    beats: int = 0
    anomalous: int = 0
    errors: int = 0
    episodes: int = 0
    unit_notes: list[tuple[str, str]] = field(default_factory=list)
    mostly_errors: list[str] = field(default_factory=list)
    n_mostly_errors: int = 0
    mostly_errors_hint: str | None = None
    #: Worker processes that scored, and how many times a model was loaded in them (once each, unless one died).
    processes: int = 0
    model_loads: int = 0

    @classmethod
    def of(cls, results: list[PartitionResult], partitions: int) -> Summary:
        summary = cls(partitions=partitions)
        for r in results:
            if r.failure is not None:
                continue
            summary.skipped += r.skipped
            summary.scored += not r.skipped
            summary.recordings += r.recordings
            summary.beats += r.beats
            summary.anomalous += r.anomalous
            summary.errors += r.errors
            summary.episodes += r.episodes
            if r.unit_note:
                summary.unit_notes.append((r.name, r.unit_note))
            summary.mostly_errors += r.mostly_errors[: NAMED_MOSTLY_ERRORS - len(summary.mostly_errors)]
            summary.n_mostly_errors += r.n_mostly_errors
            summary.mostly_errors_hint = summary.mostly_errors_hint or r.mostly_errors_hint
            summary.model_loads += r.loaded_model
        summary.processes = len({r.process for r in results if not r.skipped and r.failure is None})
        return summary


def score_dataset(
    source: str,
    output: str,
    *,
    model: str | None = None,
    threshold: float | None = None,
    reading: Reading | None = None,
    engine: Engine = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    force: bool = False,
    jobs: int | None = 1,
    progress: Progress | None = None,
) -> Summary:
    """Score a dataset (a Parquet file or dataset folder, or a file of any format) into Parquet.

    Parameters
    ----------
    source, output : str
        Local paths or URLs (``s3://bucket/path``). A dataset folder is scored into a folder, partition by
        partition at the same relative paths; a file into a file (see :mod:`~cardiospike.engines.datasets`).
    model : str, optional
        The model artifact: a folder (at the same path on every worker), a URL, or None for the shipped one.
    threshold : float, optional
        Decision threshold (default: the model's).
    reading : Reading, optional
        How the input is read (format, unit, RR and time columns, times used or not).
    engine : {"local", "dask"}
        Where the partitions are scored (see :mod:`cardiospike.engines`).
    scheduler : str, optional
        With ``dask``: the address of a running cluster's scheduler; without it, a ``LocalCluster``.
    workers : int, optional
        With ``dask`` and no scheduler: the local cluster's worker processes (default: one per core).
    resume : bool
        Keep the output partitions this model and these options already wrote completely from the same input (its
        partitions' content the same: a local file's SHA-256, an object's ETag, size and time); score the others.
        Without it, an output folder that already holds files is refused. Either way, one holding Parquet files
        the run does not write is refused.
    force : bool
        Where the output is a symbolic link to a file, replace the file it points to.
    jobs : int or None
        With ``local``: the threads that score a partition's recordings (None: every core; see
        :class:`~cardiospike.detector.Detector`). Dask's workers score one partition each, on one thread.
    progress : Progress, optional
        Told of the run's progress.

    Raises
    ------
    DatasetError
        For an unusable input or output, a partition that cannot be read (the partitions scored before it stay
        written), or a scheduler that cannot be reached.
    cardiospike.artifact.ArtifactError
        For a model that cannot be loaded.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if scheduler is not None and engine != "dask":
        raise ValueError("a scheduler is used by the dask engine only")
    progress = progress or Silent()
    reading = reading or Reading()
    dataset = open_dataset(source)
    target = open_target(output, dataset, force=force, resume=resume, repartition=engine == "dask")
    # The model is checked here, before any work. Loaded here, its forest is compiled for this CPU once, into the
    # cache this machine's workers read; a remote cluster's workers compile it for theirs, so for them the artifact
    # alone is read (and its files checked).
    detector = (
        None if scheduler else load_detector(model, on_compile=progress.note, jobs=jobs if engine == "local" else 1)
    )
    artifact = detector.artifact if detector else load_artifact(default_model_path() if model is None else model)
    shipped = model if model is None or is_url(model) else str(Path(model).resolve())
    # What each input partition holds, found once, before any is scored: recorded with its scores, and compared by
    # --resume, which keeps only scores of the same content (a size alone does not tell a rewritten file).
    dataset = identify(dataset)
    # The run's own token, in the names of its partial files and recorded in the output folder first: the partial
    # files removed at the end are the ones it (or a killed run it recorded) left, never others named alike.
    token = secrets.token_hex(4)
    job = Job(shipped, threshold, reading, run_key(artifact, threshold, reading), resume, token, dataset.identity)
    made = start_output(target, token)
    complete = False
    try:
        if engine == "local":
            from cardiospike.engines.local import run_local

            assert detector is not None
            keep_detector(job.model, detector)
            results = run_local(dataset, target, job, progress)
        else:
            from cardiospike.engines.dask import run_dask

            results = run_dask(dataset, target, job, progress, scheduler=scheduler, workers=workers)
        complete = all(r.failure is None for r in results)
    finally:
        finish_output(target, token, complete=complete, made=made)
    summary = Summary.of(results, len(dataset.partitions))
    failed = next((r for r in results if r.failure is not None), None)
    if failed is not None:
        written = summary.scored + summary.skipped
        raise DatasetError(
            f"{failed.failure} ({written} of {summary.partitions} partition(s) written: --resume completes the output)"
        )
    # The folder was checked before the run for Parquet files it would not write; a Dask run decides to repartition
    # by id only once it has read the ids, so an earlier run's partitions of the other layout are found here.
    if stale := unwritten(target, {target.name_of(r.name) for r in results}):
        raise DatasetError(
            f"{target.location} also holds {len(stale)} Parquet file(s) this run did not write: {listed(stale)}: a "
            "reader of the folder would read them with its scores; remove them"
        )
    return summary
