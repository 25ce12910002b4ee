import pytest

from cardiospike.features import FeatureSpec
from cardiospike.training.config import ConfigError, compose_config, to_container, train_config


def test_default_config_matches_the_code_defaults():
    config = train_config(compose_config())
    assert config.features == FeatureSpec()
    assert (config.cv.outer, config.cv.inner, config.cv.seed) == (5, 5, 42)
    assert config.models["lgbm"]["learning_rate"] == 0.05
    assert config.models["lgbm"]["n_jobs"] == 2


def test_debug_config_shrinks_the_run_and_overrides_apply():
    cfg = compose_config(["debug=default", "seed=7", "model.lgbm.num_leaves=3"])
    config = train_config(cfg)
    assert (config.cv.outer, config.cv.inner, config.cv.seed) == (2, 2, 7)
    assert config.models["lgbm"]["num_leaves"] == 3
    assert config.models["lgbm"]["seed"] == 7
    assert to_container(cfg)["cv"]["seed"] == 7  # interpolations resolved in what the artifact saves


@pytest.mark.parametrize("override", ["nope=1", "cv.outer=", "debug=missing"])
def test_bad_overrides_are_config_errors(override: str):
    with pytest.raises(ConfigError, match="invalid configuration"):
        train_config(compose_config([override]))


def test_the_nn_group_picks_the_network_or_none():
    default = train_config(compose_config()).models.get("nn")
    assert default is not None
    assert default["kind"] == "features"
    assert train_config(compose_config(["model/nn=none"])).models.get("nn") is None
    config = train_config(compose_config(["model/nn=cardionet", "model.nn.conv_channels=8", "seed=3"]))
    assert "nn" in config.models
    assert config.models["nn"]["kind"] == "cardionet"
    assert config.models["nn"]["conv_channels"] == 8
    assert (config.models["nn"]["seed"], config.models["nn"]["n_jobs"]) == (3, 2)
    assert "enabled" not in config.models["nn"]
    assert [lr.name for lr in config.learners()] == ["lgbm", "nn"]
    assert train_config(compose_config(["ensemble.C=0.1"])).stack_c == 0.1


def test_every_network_config_builds_a_network():
    torch = pytest.importorskip("torch")
    from cardiospike.models.nn.config import NetConfig
    from cardiospike.models.nn.lit import build_network

    for name in ("cardionet", "sequence", "features"):
        nn = train_config(compose_config([f"model/nn={name}"])).models.get("nn")
        assert nn is not None
        assert isinstance(build_network(NetConfig.from_dict(nn)), torch.nn.Module)


def test_feature_network_reads_the_configured_features():
    config = train_config(compose_config(["model/nn=features", "features.half_window=5"]))
    assert "nn" in config.models
    assert config.features.half_window == 5
    assert FeatureSpec.from_dict(config.models["nn"]["features"]) == config.features


def test_checkpoints_and_logs_come_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    assert train_config(compose_config()).logs_dir is None
    monkeypatch.setenv("LOGS_DIR", "s3://bucket/logs")
    monkeypatch.setenv("CHECKPOINTS_DIR", "/tmp/ckpt")
    config = train_config(compose_config(["model/nn=cardionet"]))
    assert (config.logs_dir, config.checkpoints_dir) == ("s3://bucket/logs", "/tmp/ckpt")
    monkeypatch.setenv("LOGS_DIR", "")
    assert train_config(compose_config()).logs_dir is None
    net = config.learners()[1]
    assert (net.logs, net.checkpoints) == ("s3://bucket/logs", "/tmp/ckpt")  # type: ignore[attr-defined]
