"""The ``dask`` engine: partitions spread over a Dask cluster, each scored whole by one worker.

* **The cluster**: an existing one, by its scheduler's address (``tcp://host:8786``), or a ``LocalCluster`` of one
  worker process per core (one thread each), whose workers share this machine's cache of compiled forests.
* **The model** is loaded once per worker process, at its first partition (:func:`~.partitions.detector_for`), from
  the package, a folder at the same path on every worker, or a URL; the detector stays in the worker for the next
  partitions.
* **Recordings that span partitions**: the recording ids of every partition are read first (their column alone); if
  a recording has rows in two partitions, the dataset is repartitioned by id (a Dask shuffle) into as many
  partitions, ``part-00000.parquet`` ..., each recording's rows kept in their input order.
* **Workers that die**: Dask runs a dead worker's partitions again on another (a partition is written whole or not
  at all, so nothing half-written remains); one that kills its worker again and again (out of memory) stops the
  run, with the partitions done so far kept for ``--resume``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from cardiospike.engines.datasets import Dataset, DatasetError, Target, repartitioned_names
from cardiospike.engines.local import describe_spans, refuse_spanning
from cardiospike.engines.partitions import (
    Job,
    PartitionResult,
    Survey,
    read_rows,
    rows_frame,
    score_partition,
    score_rows,
    survey_partition,
)
from cardiospike.engines.progress import Progress
from cardiospike.errors import first_line
from cardiospike.models.forest import cache_dir

if TYPE_CHECKING:
    from distributed import Client

#: How long to wait for the scheduler, and then for a first worker (seconds).
CONNECT_TIMEOUT = 30
#: The variable Dask's nannies set for their workers that a local cluster's workers go without: with glibc's trimming
#: threshold set (Dask sets it to 64 KiB), every large array is a fresh mapping of zeroed pages, and scoring was
#: about 40% slower (benchmarks/results/dask.md). The deployment's workers go without it too (docker-compose.yml).
NO_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
_INSTALL = "pip install 'cardiospike[dask]'"


def cores() -> int:
    """The cores this process may run on (a container's or a CPU set's, where they are limited)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def connect(scheduler: str | None, workers: int | None = None) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of a ``LocalCluster`` of ``workers`` processes (one per core),
    closed when the block ends."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise DatasetError(f"--engine dask needs the 'dask' extra (distributed is missing): {_INSTALL}") from None
    cluster = None
    try:
        if scheduler is not None:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        else:
            with dask.config.set({NO_TRIM: None}):
                cluster = LocalCluster(
                    n_workers=workers or cores(),
                    threads_per_worker=1,
                    processes=True,
                    silence_logs=logging.ERROR,
                    # A free port of loopback, not Dask's fixed 8787: two runs at once, or a Jupyter or a cluster
                    # already on 8787, must not clash (the link is printed), nor the dashboard face the network.
                    dashboard_address="127.0.0.1:0",
                    # The workers read the forest this process compiled, rather than compile it again each.
                    env={"CARDIOSPIKE_CACHE_DIR": str(cache_dir())},
                )
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise DatasetError(f"cannot reach {where}: {first_line(exc)}") from None
    try:
        if scheduler is not None:
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            except TimeoutError:
                raise DatasetError(f"the Dask scheduler at {scheduler} has no workers") from None
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def describe(client: Client) -> str:
    """``Dask: 2 workers at tcp://127.0.0.1:40000, dashboard http://127.0.0.1:8787/status``."""
    info = client.scheduler_info()
    dashboard = f", dashboard {client.dashboard_link}" if "dashboard" in info.get("services", {}) else ""
    return f"Dask: {len(info.get('workers', {}))} worker(s) at {info.get('address', '?')}{dashboard}"


def run_dask(
    dataset: Dataset, target: Target, job: Job, progress: Progress, *, scheduler: str | None = None,
    workers: int | None = None,
) -> list[PartitionResult]:  # fmt: skip
    """Score every partition on a Dask cluster (see the module docstring); stops at the first that fails."""
    with connect(scheduler, workers) as client:
        progress.note(describe(client))
        partitions = list(dataset.partitions)
        if dataset.folder and len(partitions) > 1:
            surveys = client.gather(client.map(survey_partition, partitions, reading=job.reading, pure=False))
            spans = refuse_spanning(surveys, remedy=None)
            if spans:
                return _repartitioned(client, dataset, surveys, target, job, progress, spans)
        paths = [target.path_of(p.name) for p in partitions]
        return _collect(client, client.map(score_partition, partitions, paths, job=job, pure=False), progress)


def _repartitioned(
    client: Client, dataset: Dataset, surveys: list[Survey], target: Target, job: Job, progress: Progress,
    spans: dict[str, list[str]],
) -> list[PartitionResult]:  # fmt: skip
    """Repartition the dataset by recording id (a shuffle), then score each new partition."""
    import dask
    import dask.dataframe as dd
    import numpy as np
    import pyarrow as pa

    id_column = next(s.id_column for s in surveys if s.id_column is not None)
    if lacking := [s.name for s in surveys if s.id_column != id_column]:
        raise DatasetError(
            f"{describe_spans(spans)}, yet {lacking[0]} has no {id_column!r} column: the dataset cannot be "
            "repartitioned by recording"
        )
    n = len(dataset.partitions)
    progress.note(f"{describe_spans(spans)}: repartitioning the dataset by {id_column!r} into {n} partitions first")
    offsets = np.concatenate([[0], np.cumsum([s.rows for s in surveys])[:-1]]).astype(int).tolist()
    meta = rows_frame(surveys[0].schema.empty_table(), 0, id_column)
    rows = dd.from_map(
        read_rows, list(dataset.partitions), offsets, id_column=id_column, meta=meta, enforce_metadata=False
    )
    shuffled = rows.shuffle(on=id_column, npartitions=n)
    size = sum(p.size for p in dataset.partitions)
    integer = pa.types.is_integer(surveys[0].schema.field(id_column).type)  # the shuffle made the ids text
    names = repartitioned_names(n)  # the names the output folder's check expects (engines.datasets)
    tasks = [
        dask.delayed(score_rows, pure=False)(
            part, i, n, target.path_of(names[i]), job, dataset.location, id_column, size, integer
        )
        for i, part in enumerate(shuffled.to_delayed())
    ]
    return _collect(client, client.compute(tasks), progress)


def _collect(client: Client, futures: list[Any], progress: Progress) -> list[PartitionResult]:
    """The partitions' results as they come; at the first failure the rest are cancelled."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    progress.start(len(futures))
    results: list[PartitionResult] = []
    try:
        for future in as_completed(futures):
            try:
                result = future.result()
            except KilledWorker as exc:
                raise DatasetError(
                    f"a partition killed every worker that scored it (out of memory?): {first_line(exc)}; "
                    f"{sum(not r.failure for r in results)} partition(s) were written: --resume completes the output"
                ) from None
            results.append(result)
            progress.done(result)
            if result.failure is not None:
                break
    finally:
        client.cancel(futures)
    return results
