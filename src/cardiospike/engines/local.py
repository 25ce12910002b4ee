"""The ``local`` engine: the partitions scored one after another in this process, with the model it loaded."""

from __future__ import annotations

from cardiospike.engines.datasets import Dataset, DatasetError, Target
from cardiospike.engines.partitions import Job, PartitionResult, Survey, score_partition, spanning, survey_partition
from cardiospike.engines.progress import Progress


def run_local(dataset: Dataset, target: Target, job: Job, progress: Progress) -> list[PartitionResult]:
    """Score every partition here; stops at the first that fails (the ones before it stay written)."""
    if dataset.folder and len(dataset.partitions) > 1:
        refuse_spanning([survey_partition(p, job.reading) for p in dataset.partitions], "--engine dask")
    progress.start(len(dataset.partitions))
    results = []
    for partition in dataset.partitions:
        result = score_partition(partition, target.path_of(partition.name), job)
        results.append(result)
        progress.done(result)
        if result.failure is not None:
            break
    return results


def refuse_spanning(surveys: list[Survey], remedy: str | None) -> dict[str, list[str]]:
    """The recordings that span partitions (see :func:`spanning`); DatasetError for a partition that cannot be
    read, or, with a ``remedy`` to name, for any such recording."""
    failed = next((s for s in surveys if s.failure is not None), None)
    if failed is not None:
        raise DatasetError(str(failed.failure))
    spans = spanning(surveys)
    if spans and remedy is not None:
        raise DatasetError(f"{describe_spans(spans)}: {remedy} repartitions the dataset by recording id first")
    return spans


def describe_spans(spans: dict[str, list[str]]) -> str:
    """``recording 'p7' spans partitions a.parquet and b.parquet (and 3 other recordings span partitions)``."""
    rec_id, names = next(iter(sorted(spans.items())))
    more = f" (and {len(spans) - 1} other recording(s) span partitions)" if len(spans) > 1 else ""
    held = ", ".join(names[:-1]) + f" and {names[-1]}"
    return f"recording {rec_id!r} spans partitions {held}{more}"
