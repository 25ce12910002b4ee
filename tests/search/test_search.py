"""Workers in this process: the budget rule, SQLite and journal studies, pruning, and the best parameters."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.search import config
from cardiospike.search.report import best_of, overrides
from cardiospike.search.storage import open_storage
from cardiospike.search.worker import Move, create_study, is_surplus, next_move, run_worker
from cardiospike.training.config import compose_config

from .conftest import QUICK

runner = CliRunner()
C, P, R, W, F = TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING, TrialState.FAIL


@pytest.mark.parametrize(
    ("states", "can_wait", "move"),
    [
        ({}, True, Move.RUN),
        ({C: 2, P: 1}, True, Move.STOP),  # finished trials count, pruned ones included
        ({C: 1, F: 5}, True, Move.RUN),  # failed ones do not
        ({C: 2, R: 1}, True, Move.WAIT),  # the running trial may still fail: wait for it
        ({C: 2, R: 1}, False, Move.STOP),  # no heartbeat: a dead worker's trial would be waited for forever
        ({C: 1, R: 1, W: 1}, True, Move.RUN),  # a queued retry holds a place in the budget: run it
    ],
)
def test_next_move(states: dict[TrialState, int], can_wait: bool, move: Move):
    assert next_move(Counter(states), 3, can_wait) is move


def test_a_trial_numbered_after_the_budget_is_surplus():
    study = optuna.create_study()
    for state in (C, F, R, P):
        study.add_trial(optuna.create_trial(state=state, value=0.5 if state == C else None))
    assert not is_surplus(study, 4, n_trials=4)  # trials 0, 2 and 3 are live: one place left
    assert is_surplus(study, 4, n_trials=3)


@pytest.fixture(scope="module")
def quick_cfg():
    return config.search_config([*QUICK, "n_trials=2", "sampler.seed=1"])


@pytest.fixture(scope="module")
def objective(quick_cfg):
    return config.objective(quick_cfg)


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_a_small_study_runs_on_sqlite_and_journal(kind: str, tmp_path: Path, quick_cfg, objective):
    url = f"sqlite:///{tmp_path}/s.db" if kind == "sqlite" else f"journal://{tmp_path}/s.log"
    storage = open_storage(url, config.heartbeat(quick_cfg))
    study = create_study("small", storage, config.sampler(quick_cfg), config.pruner(quick_cfg))
    summary = run_worker(study, objective, n_trials=2)
    assert (summary.ran, summary.finished) == (2, 2)
    trial = study.trials[0]
    assert trial.state == C
    assert trial.value is not None
    assert 0 <= trial.value <= 1
    assert len(trial.user_attrs["fold_f1"]) == 2
    assert sorted(trial.intermediate_values) == [0, 1]  # one report per fold
    assert set(trial.params) == set(quick_cfg.search_space.params)
    # Another worker joining the finished study runs nothing.
    assert run_worker(create_study("small", open_storage(url), config.sampler(quick_cfg), config.pruner(quick_cfg)),
                      objective, n_trials=2).ran == 0  # fmt: skip


@pytest.mark.parametrize("name", ["median", "wilcoxon"])
def test_pruning_prunes_a_synthetic_objective(name: str):
    """Trials score x on every one of 8 folds (plus noise); the pruner stops the poor ones part-way."""
    cfg = config.search_config([f"pruner={name}", "sampler.seed=0"])
    study = optuna.create_study(direction="maximize", sampler=config.sampler(cfg), pruner=config.pruner(cfg))
    steps_run = []

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        for step in range(8):
            steps_run.append(step)
            trial.report(x + 0.01 * ((step * 7) % 3), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return x

    study.optimize(objective, n_trials=30)
    pruned = [t for t in study.trials if t.state == P]
    assert len(pruned) >= 5
    assert len(steps_run) < 30 * 8 * 0.8


def test_best_writes_a_training_config_that_round_trips(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/best.db"
    study = optuna.create_study(study_name="cs1", storage=url, direction="maximize")
    dists = {"learning_rate": FloatDistribution(0.01, 0.3, log=True), "num_leaves": IntDistribution(7, 127)}
    for value, lr, leaves in [(0.7, 0.1, 15), (0.9, 0.042, 63), (0.8, 0.2, 7)]:
        study.add_trial(
            optuna.create_trial(value=value, params={"learning_rate": lr, "num_leaves": leaves}, distributions=dists)
        )
    study.add_trial(optuna.create_trial(state=P, params={"learning_rate": 0.3, "num_leaves": 9}, distributions=dists))
    out = tmp_path / "best.yaml"
    result = runner.invoke(app, ["search", "best", "--study", "cs1", "--storage", url, "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = yaml.safe_load(out.read_text())
    assert written == {"model": {"lgbm": {"learning_rate": 0.042, "num_leaves": 63}}}
    # The printed overrides make the training configuration with these values.
    train_cfg = compose_config(overrides(best_of(study)))
    assert (train_cfg.model.lgbm.learning_rate, train_cfg.model.lgbm.num_leaves) == (0.042, 63)
    assert "model.lgbm.learning_rate=0.042" in result.output

    status = runner.invoke(app, ["search", "status", "--study", "cs1", "--storage", url])
    assert status.exit_code == 0, status.output
    assert "COMPLETE" in status.output
    assert "Best so far: trial 1, F1 0.9000" in status.output

    missing = runner.invoke(app, ["search", "status", "--study", "nope", "--storage", url])
    assert missing.exit_code == 2
    assert "it holds: cs1" in missing.output


def test_best_of_a_study_without_a_completed_trial_is_a_clear_error(tmp_path: Path):
    url = f"journal://{tmp_path}/empty.log"
    optuna.create_study(study_name="empty", storage=open_storage(url))
    result = runner.invoke(app, ["search", "best", "--study", "empty", "--storage", url, "-o", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert "no completed trial" in result.output


def test_the_network_space_runs_a_trial(tmp_path: Path):
    pytest.importorskip("torch")
    from .conftest import QUICK

    cfg = config.search_config([*QUICK, "search_space=nn"])
    study = create_study("nn", open_storage(f"sqlite:///{tmp_path}/nn.db"), config.sampler(cfg), config.pruner(cfg))
    assert run_worker(study, config.objective(cfg), n_trials=1).finished == 1
    trial = study.trials[0]
    assert set(trial.params) == {"lr", "weight_decay", "dropout", "gru_hidden", "channels"}
    assert all(1 <= info["rounds"] <= 2 for info in trial.user_attrs["fold_info"])
