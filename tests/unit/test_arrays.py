import warnings

import numpy as np
import pytest

from cardiospike.arrays import flag_runs, sigmoid


def test_flag_runs_start_and_stop_of_each_run():
    starts, stops = flag_runs(np.array([1, 1, 0, 1, 0, 0, 1, 1, 1], dtype=bool))
    np.testing.assert_array_equal(starts, [0, 3, 6])
    np.testing.assert_array_equal(stops, [2, 4, 9])
    for flags in (np.zeros(0, bool), np.zeros(4, bool)):
        assert all(side.size == 0 for side in flag_runs(flags))


@pytest.mark.parametrize(
    ("lengths", "starts", "stops"),
    [
        ([3, 3], [0, 3], [3, 6]),  # a run over the boundary is two runs
        ([0, 6, 0], [0], [6]),  # empty recordings at either end cut nothing
        ([2, 0, 4], [0, 2], [2, 6]),
    ],
)
def test_flag_runs_break_at_the_ends_of_recordings(lengths, starts, stops):
    found = flag_runs(np.ones(6, dtype=bool), lengths)
    np.testing.assert_array_equal(found[0], starts)
    np.testing.assert_array_equal(found[1], stops)


def test_sigmoid_is_the_logistic_function_without_overflow():
    z = np.array([-1000.0, -30.0, 0.0, 2.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = sigmoid(z)
    np.testing.assert_allclose(p[1:4], 1 / (1 + np.exp(-z[1:4])), rtol=1e-12)
    assert p[0] == 0.0
    assert p[-1] == 1.0
    assert p.dtype == np.float64
