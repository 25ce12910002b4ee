"""Work spread over threads: the results in order, a bounded number ahead, the cores a process is given."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cardiospike.parallel import available_cores, ordered_map, resolve_jobs


def test_jobs_default_to_every_core_this_process_may_use():
    assert resolve_jobs(None) == resolve_jobs(0) == available_cores() >= 1
    assert resolve_jobs(3) == 3
    with pytest.raises(ValueError, match="jobs must be a number of threads"):
        resolve_jobs(-1)


@pytest.mark.parametrize("threads", [0, 1, 3])
def test_results_come_in_the_items_order_whatever_the_threads(threads: int):
    def slow_square(x: int) -> int:
        time.sleep(0.001 * ((7 * x) % 5))  # later items often finish first
        return x * x

    executor = ThreadPoolExecutor(threads) if threads else None
    assert list(ordered_map(slow_square, range(40), executor, in_flight=4)) == [x * x for x in range(40)]


def test_at_most_in_flight_items_are_taken_ahead_of_the_result_yielded():
    taken: list[int] = []

    def items():
        for i in range(100):
            taken.append(i)
            yield i

    results = ordered_map(lambda x: x, items(), ThreadPoolExecutor(2), in_flight=3)
    assert next(results) == 0
    assert len(taken) == 3  # the first result is yielded once 3 are in flight, no more taken
    assert next(results) == 1
    assert len(taken) == 4


def test_an_error_reaches_the_consumer_and_the_waiting_items_are_cancelled():
    started = threading.Event()
    release = threading.Event()
    ran: list[int] = []

    def work(x: int) -> int:
        if x == 0:
            raise RuntimeError("bad item")
        started.set()
        release.wait(5)
        ran.append(x)
        return x

    with ThreadPoolExecutor(1) as executor:
        with pytest.raises(RuntimeError, match="bad item"):
            list(ordered_map(work, range(10), executor, in_flight=5))
        release.set()
    assert len(ran) <= 1  # the one running when the error came finishes; the queued ones never start
