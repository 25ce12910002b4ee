"""The search configuration: composed from the package's configs, overridden on the command line, checked."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.search import config
from cardiospike.search.sampling import TrialSeededSampler, make_sampler
from cardiospike.search.space import check_space, suggest
from cardiospike.training.config import ConfigError

runner = CliRunner()


def test_composes_with_overrides_and_shares_the_training_defaults():
    cfg = config.search_config(["study=cs1", "n_trials=20", "sampler.seed=1", "search_space=lgbm"])
    assert (cfg.study, cfg.n_trials, cfg.sampler.seed, cfg.search_space.model) == ("cs1", 20, 1, "lgbm")
    assert cfg.model.lgbm.early_stopping_rounds == 100  # from model/lgbm, the training config's group
    assert config.base_params(cfg)["n_jobs"] == 1
    # Threads and seed reach every model under the same names as in training.
    network = config.base_params(config.search_config(["search_space=nn", "seed=5"]))
    assert (network["n_jobs"], network["seed"]) == (1, 5)
    assert isinstance(config.sampler(cfg), TrialSeededSampler)
    assert isinstance(config.pruner(cfg), optuna.pruners.MedianPruner)


def test_debug_preset_shrinks_the_run():
    cfg = config.search_config(["search_debug=quick"])
    assert (cfg.cv.folds, cfg.data.max_recordings, cfg.model.lgbm.n_estimators) == (2, 12, 40)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("median", optuna.pruners.MedianPruner),
        ("wilcoxon", optuna.pruners.WilcoxonPruner),
        ("none", optuna.pruners.NopPruner),
    ],
)
def test_pruner_group(name: str, kind: type):
    assert isinstance(config.pruner(config.search_config([f"pruner={name}"])), kind)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("nope=1", "invalid configuration"),
        ("search_space.params.num_leaves.type=integer", "type must be one of"),
        ("search_space.params.learning_rate.low=1.0", "low must be below high"),
        ("n_trials=0", "n_trials must be at least 1"),
        ("heartbeat.grace_period=1", "interval < grace_period"),
    ],
)
def test_bad_configuration_is_one_clear_line(override: str, message: str):
    with pytest.raises(ConfigError, match=message):
        config.search_config([override])
    result = runner.invoke(app, ["search", "run", override])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cfg_job_prints_the_resolved_configuration():
    result = runner.invoke(app, ["search", "run", "--cfg", "job", "study=cs1", "cv.folds=3"])
    assert result.exit_code == 0, result.output
    assert "study: cs1" in result.output
    assert "folds: 3" in result.output
    assert "learning_rate:" in result.output


def test_study_and_storage_options_set_the_configuration_as_given():
    url = "postgresql+psycopg2://u:p,a=ss@db/cs"  # a comma and an equals sign: no Hydra override could hold them
    result = runner.invoke(app, ["search", "run", "--study", "cs2", "--storage", url, "--cfg", "job", "n_trials=7"])
    assert result.exit_code == 0, result.output
    assert "study: cs2" in result.output
    assert url in result.output
    assert "n_trials: 7" in result.output
    defaults = config.search_config()
    assert (defaults.study, defaults.storage) == ("cardiospike", "sqlite:///cardiospike-search.db")


def test_space_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown lo"):
        check_space({"x": {"type": "float", "low": 0, "high": 1, "lo": 2}})


def test_same_seed_repeats_a_run_and_trials_draw_apart():
    space = config.search_config([]).search_space.params

    def draws(seed: int) -> list[dict[str, object]]:
        sampler = make_sampler(seed)
        study = optuna.create_study(sampler=sampler, direction="maximize")
        study.optimize(lambda t: float(len(suggest(t, space))), n_trials=3)
        return [t.params for t in study.trials]

    first = draws(5)
    assert first == draws(5)
    assert first != draws(6)
    assert len({tuple(p.items()) for p in first}) == 3


def test_search_never_imports_serving_and_the_cli_loads_without_optuna():
    search = Path(config.__file__).parent
    imported = {
        node.module or ""
        for path in search.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
    }
    assert not [m for m in imported if m.startswith("cardiospike.serving")]
    code = "import sys, cardiospike.cli\nprint(sorted(m for m in sys.modules if m.startswith(('optuna', 'hydra'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
