import numpy as np
import pytest

from cardiospike.data.splits import group_folds, nested_group_folds


@pytest.fixture
def groups():
    rng = np.random.default_rng(0)
    return np.repeat(np.arange(23), rng.integers(5, 50, 23))


def test_group_folds_partition_rows_and_never_split_a_recording(groups):
    folds = group_folds(groups, 5, seed=3)
    tests = np.concatenate([f.test for f in folds])
    assert np.array_equal(np.sort(tests), np.arange(len(groups)))
    owner: dict[int, int] = {}
    for k, f in enumerate(folds):
        assert not set(groups[f.train]) & set(groups[f.test])
        for g in np.unique(groups[f.test]):
            assert owner.setdefault(g, k) == k


def test_group_folds_are_seeded(groups):
    a = [f.test.tolist() for f in group_folds(groups, 4, seed=1)]
    b = [f.test.tolist() for f in group_folds(groups, 4, seed=1)]
    c = [f.test.tolist() for f in group_folds(groups, 4, seed=2)]
    assert a == b
    assert a != c


def test_nested_folds_stay_inside_outer_training_part(groups):
    for outer in nested_group_folds(groups, 5, 4, seed=0):
        assert len(outer.inner) == 4
        train = set(outer.train.tolist())
        inner_tests = np.concatenate([f.test for f in outer.inner])
        assert set(inner_tests.tolist()) == train
        for inner in outer.inner:
            assert set(inner.train.tolist()) <= train
            assert not set(groups[inner.train]) & set(groups[inner.test])
            assert not set(groups[inner.test]) & set(groups[outer.test])


def test_too_many_folds_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot make 3 folds from 2 recordings"):
        group_folds(np.array([0, 0, 1]), 3, seed=0)
