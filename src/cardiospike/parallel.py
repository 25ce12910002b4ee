"""Work spread over the cores a process is given: threads, since scoring runs in code that releases the GIL (numpy,
the compiled forest through ctypes, ONNX Runtime)."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system tells it (``taskset``, a container's
    cpuset), else the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def resolve_jobs(jobs: int | None) -> int:
    """The number of threads ``jobs`` asks for: itself where positive, every available core for None or 0."""
    if jobs is not None and jobs < 0:
        raise ValueError(f"jobs must be a number of threads, or 0 or None for every core, not {jobs}")
    return jobs or available_cores()


def ordered_map(
    function: Callable[[T], R], items: Iterable[T], executor: ThreadPoolExecutor | None, in_flight: int
) -> Iterator[R]:
    """``function`` over ``items``, on the executor's threads (here, one after another, without one), the results in
    the items' order.

    At most ``in_flight`` items are submitted ahead of the result being yielded, so memory holds a bounded number of
    results (and of the items, where ``items`` is a generator), whatever the length of ``items``.
    """
    if executor is None:
        yield from map(function, items)
        return
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(executor.submit(function, item))
            if len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # a consumer that stops early (or an error) leaves nothing running for it
        for future in pending:
            future.cancel()
