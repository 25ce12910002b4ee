"""One search worker: joins the shared study and runs trials until the study has ``n_trials`` finished trials.

The budget counts finished trials: COMPLETE plus PRUNED. Optuna's ``MaxTrialsCallback`` checks it only after a
trial, so two workers that both see ``n - 1`` finished trials would both start one and finish ``n + 1``. Here a
worker checks before it asks for a trial, and again after: trials are numbered in the order the storage creates
them, so a trial with ``n`` live trials (finished, running or queued) numbered below it is surplus: it is failed at
once, before it samples anything, and tagged ``surplus``. A worker whose check finds the live trials enough but
not all finished waits (running trials may still fail, e.g. those of a worker that died) and stops only once ``n``
trials are finished. A trial whose worker died is failed after the heartbeat's grace period and its parameters are
queued as a new WAITING trial (``RetryHeartbeatStaleTrialCallback``), which the next worker to ask runs.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

import optuna
from optuna.storages import BaseStorage, RetryHeartbeatStaleTrialCallback, fail_stale_trials
from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
from optuna.trial import TrialState

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
LIVE = (*FINISHED, TrialState.RUNNING, TrialState.WAITING)

#: User attribute of a trial a worker created but did not run, because the budget was already taken.
SURPLUS_ATTR = "surplus"


class Move(Enum):
    """What a worker does next."""

    RUN = "run"
    WAIT = "wait"
    STOP = "stop"


class SurplusTrialError(Exception):
    """A trial created after the budget was taken by other workers' trials."""


class WorkerInterruptedError(Exception):
    """The worker was stopped by SIGINT; ``message`` says what became of its trial."""


@dataclass
class WorkerSummary:
    """What one worker did, and where the study stands."""

    ran: int
    finished: int
    n_trials: int


def next_move(counts: Counter[TrialState], n_trials: int, can_wait: bool) -> Move:
    """Run another trial, wait for running ones to finish, or stop.

    Queued (WAITING) trials are run even when the budget is taken: they are retries holding a place in it.
    Without a heartbeat (journal storage) a worker cannot tell a running trial from a dead one, so it stops.
    """
    finished = sum(counts[s] for s in FINISHED)
    live = sum(counts[s] for s in LIVE)
    if finished >= n_trials:
        return Move.STOP
    if live < n_trials or counts[TrialState.WAITING]:
        return Move.RUN
    return Move.WAIT if can_wait else Move.STOP


def count_states(study: optuna.Study) -> Counter[TrialState]:
    """Trials of the study by state."""
    return Counter(t.state for t in study.get_trials(deepcopy=False))


def is_surplus(study: optuna.Study, number: int, n_trials: int) -> bool:
    """Whether ``n_trials`` live trials are numbered below trial ``number`` (so it must not run)."""
    live = study.get_trials(deepcopy=False, states=LIVE)
    return sum(t.number < number for t in live) >= n_trials


def has_heartbeat(storage: BaseStorage) -> bool:
    return isinstance(storage, BaseHeartbeat) and is_heartbeat_enabled(storage)


class _QuietFailures(logging.Filter):
    """Drop Optuna's failure log, traceback included, for trials this module ends on purpose (surplus, SIGINT):
    the worker says what happened in one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[0] if record.exc_info else None
        return not (exc is not None and issubclass(exc, SurplusTrialError | KeyboardInterrupt))


@contextmanager
def _quiet_failures() -> Iterator[None]:
    logger = logging.getLogger("optuna.study._optimize")
    quiet = _QuietFailures()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


class _Guarded:
    """The objective behind the surplus check; remembers the trial it runs, for clean-up after SIGINT."""

    def __init__(self, objective: Callable[[optuna.Trial], float], n_trials: int) -> None:
        self.objective = objective
        self.n_trials = n_trials
        self.current: int | None = None

    def __call__(self, trial: optuna.Trial) -> float:
        self.current = trial._trial_id
        if is_surplus(trial.study, trial.number, self.n_trials):
            trial.set_user_attr(SURPLUS_ATTR, True)
            raise SurplusTrialError(f"trial {trial.number}: the study's {self.n_trials} trials are already taken")
        return self.objective(trial)


def fail_interrupted(study: optuna.Study, trial_id: int | None) -> str:
    """Mark the trial a SIGINT cut short FAIL (unless it already ended) and queue its parameters again."""
    if trial_id is None:
        return "no trial was running"
    storage = study._storage
    trial = storage.get_trial(trial_id)
    if trial.state == TrialState.RUNNING:
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
        trial = storage.get_trial(trial_id)
    if trial.state != TrialState.FAIL:
        return f"trial {trial.number} had ended ({trial.state.name})"
    if trial.user_attrs.get(SURPLUS_ATTR) or not trial.params:
        return f"trial {trial.number} marked FAIL"
    RetryHeartbeatStaleTrialCallback()(study, trial)
    return f"trial {trial.number} marked FAIL, its parameters queued for another worker"


def run_worker(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    n_trials: int,
    poll_s: float = 1.0,
) -> WorkerSummary:
    """Run trials of ``study`` until it has ``n_trials`` finished ones (across all its workers).

    Raises
    ------
    WorkerInterruptedError
        On SIGINT (KeyboardInterrupt), after marking the running trial FAIL.
    """
    guarded = _Guarded(objective, n_trials)
    can_wait = has_heartbeat(study._storage)
    ran = 0
    try:
        with _quiet_failures(), warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            while True:
                # Fail dead workers' trials first, so that their retries are queued before the budget is counted.
                fail_stale_trials(study)
                move = next_move(count_states(study), n_trials, can_wait)
                if move is Move.STOP:
                    break
                if move is Move.WAIT:
                    time.sleep(poll_s)
                    continue
                guarded.current = None
                study.optimize(guarded, n_trials=1, catch=(SurplusTrialError,))
                trial = study._storage.get_trial(guarded.current) if guarded.current is not None else None
                ran += trial is not None and not trial.user_attrs.get(SURPLUS_ATTR)
    except KeyboardInterrupt:
        raise WorkerInterruptedError(fail_interrupted(study, guarded.current)) from None
    finished = sum(count_states(study)[s] for s in FINISHED)
    return WorkerSummary(ran=ran, finished=finished, n_trials=n_trials)


def create_study(
    name: str, storage: BaseStorage, sampler: optuna.samplers.BaseSampler, pruner: optuna.pruners.BasePruner
) -> optuna.Study:
    """Create the study, or join it where another worker created it first (every worker runs the same command)."""
    return optuna.create_study(
        study_name=name, storage=storage, sampler=sampler, pruner=pruner, direction="maximize", load_if_exists=True
    )
