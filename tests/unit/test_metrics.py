import numpy as np
import pytest

from cardiospike.metrics import episode_counts, f1_score, flag_counts, precision_recall_f1


def test_f1_is_the_competition_formula():
    y = [1, 1, 0, 0, 1]
    flags = [1, 0, 1, 0, 1]
    assert flag_counts(y, flags) == (2, 1, 1)
    assert f1_score(y, flags) == pytest.approx(2 / (2 + (1 + 1) / 2))


def test_nothing_to_find_and_nothing_flagged_scores_one_per_recording():
    precision, recall, f1 = precision_recall_f1([0, 3], [0, 1], [0, 0])
    assert f1.tolist() == [1.0, pytest.approx(3 / 3.5)]
    assert precision.tolist() == [0.0, 0.75]
    assert recall.tolist() == [0.0, 1.0]


def test_episodes_found_missed_and_false():
    #       recording 1            recording 2
    y = [0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1]
    flags = [0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0]
    ids = [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]
    # Found: beats 1-2 and 6-7 (the runs of recording 1's end and recording 2's start are two episodes, not one).
    # Missed: beat 5 and beats 10-11. False: the flags at beats 4 and 9.
    assert episode_counts(y, flags, ids) == (2, 2, 2)


def test_one_flagged_run_over_two_episodes_is_one_true_run():
    y = np.array([1, 1, 0, 1, 1])
    flags = np.ones(5, bool)
    assert episode_counts(y, flags, np.zeros(5)) == (2, 0, 0)
    assert episode_counts([], [], []) == (0, 0, 0)
