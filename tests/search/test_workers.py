"""Whole workers, each in a process of its own, sharing one study in a real PostgreSQL server."""

from __future__ import annotations

import signal
import uuid

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from cardiospike.search.worker import FINISHED, SURPLUS_ATTR

from .conftest import wait_for_running_trial, worker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning"),
]


def _study(storage: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=storage)


def _by_state(study: optuna.Study) -> dict[TrialState, list[optuna.trial.FrozenTrial]]:
    trials = study.get_trials(deepcopy=False)
    return {state: [t for t in trials if t.state == state] for state in TrialState}


def _assert_exactly(study: optuna.Study, n: int) -> None:
    trials = study.get_trials(deepcopy=False)
    by_state = _by_state(study)
    assert sum(len(by_state[s]) for s in FINISHED) == n
    assert not by_state[TrialState.RUNNING]
    assert not by_state[TrialState.WAITING]
    assert len({t.number for t in trials}) == len(trials)


def test_two_workers_finish_exactly_n_trials_between_them(postgres_url: str):
    name, n = f"two-{uuid.uuid4().hex[:8]}", 6
    procs = [worker(postgres_url, name, f"n_trials={n}", "sampler.seed=3") for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    study = _study(postgres_url, name)
    _assert_exactly(study, n)
    # A failed trial here can only be one a worker created after the budget was taken, and never ran.
    assert all(t.user_attrs.get(SURPLUS_ATTR) for t in _by_state(study)[TrialState.FAIL])
    finished = [t for t in study.get_trials(deepcopy=False) if t.state in FINISHED]
    # Per-trial seeding: the workers never sampled the same point.
    assert len({tuple(sorted(t.params.items())) for t in finished}) == n
    assert "Worker done" in outputs[0][0]
    assert "Worker done" in outputs[1][0]


def test_a_killed_workers_trial_fails_after_the_grace_period_and_is_retried(postgres_url: str):
    name, n = f"kill-{uuid.uuid4().hex[:8]}", 3
    doomed = worker(postgres_url, name, f"n_trials={n}")
    killed = wait_for_running_trial(postgres_url, name, doomed)
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate(timeout=10)
    survivor = worker(postgres_url, name, f"n_trials={n}")
    _out, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err
    study = _study(postgres_url, name)
    _assert_exactly(study, n)
    dead = study.trials[killed]
    assert dead.state == TrialState.FAIL
    (retry,) = [t for t in study.trials if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == killed]
    assert retry.state in FINISHED
    assert retry.params == dead.params


def test_sigint_stops_a_worker_cleanly(postgres_url: str):
    name = f"int-{uuid.uuid4().hex[:8]}"
    proc = worker(postgres_url, name, "n_trials=50")
    number = wait_for_running_trial(postgres_url, name, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in out + err
    assert f"interrupted: trial {number} marked FAIL" in err
    study = _study(postgres_url, name)
    assert study.trials[number].state == TrialState.FAIL
    assert not _by_state(study)[TrialState.RUNNING]
    (queued,) = _by_state(study)[TrialState.WAITING]
    assert queued.params == study.trials[number].params
