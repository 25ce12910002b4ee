import numpy as np
import pytest

from cardiospike.metrics import boundary_errors, episode_counts, f1_score, flag_counts, precision_recall_f1


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


def test_boundary_errors_of_found_episodes():
    #       recording 1                  recording 2
    y = [0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0]
    flags = [0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1]
    ids = [1] * 9 + [2] * 6
    # Episode at 2-4 flagged 1-3: a beat early at both ends. Episode at 7-8: missed, no error. Episode at 10-12
    # flagged at 11 only: a beat late to start, a beat early to end (the false run at 13-14 does not touch it).
    start, end = boundary_errors(y, flags, ids)
    assert start.tolist() == [-1, 1]
    assert end.tolist() == [-1, -1]


def test_boundary_errors_span_every_run_touching_an_episode():
    y = [0, 1, 1, 1, 1, 1, 0]
    flags = [1, 1, 0, 0, 1, 1, 1]  # two runs touch the one episode: together they span beats 0-6
    start, end = boundary_errors(y, flags, [0] * 7)
    assert (start.tolist(), end.tolist()) == ([-1], [1])
    assert [a.tolist() for a in boundary_errors([], [], [])] == [[], []]
