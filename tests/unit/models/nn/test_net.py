"""Network shapes, any recording length, and that training learns synthetic spikes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from cardiospike.data import simulate_recording  # noqa: E402
from cardiospike.features import FeatureSpec  # noqa: E402
from cardiospike.models.nn.config import NetConfig  # noqa: E402
from cardiospike.models.nn.kinds import KINDS  # noqa: E402
from cardiospike.models.nn.lit import BeatNetModule, build_network, predict_network  # noqa: E402
from cardiospike.models.nn.net import CardioNet, FeatureNet, SequenceNet  # noqa: E402
from cardiospike.models.postprocess import choose_postprocess  # noqa: E402
from cardiospike.recording import Recording  # noqa: E402
from tests.conftest import network_config  # noqa: E402


@pytest.mark.parametrize("n", [1, 2, 17, 300])
def test_sequence_net_any_length(n):
    net = SequenceNet(channels=8, dilations=(1, 2), gru_hidden=4).eval()
    assert net(torch.zeros(2, 4, n)).shape == (2, n)
    assert SequenceNet(channels=8, gru_hidden=0).eval()(torch.zeros(1, 4, n)).shape == (1, n)


@pytest.mark.parametrize("batch", [1, 5])
def test_cardionet_shape(batch):
    assert CardioNet(window=17, conv_channels=4, gru_hidden=4).eval()(torch.zeros(batch, 17, 3)).shape == (batch,)


def test_receptive_field():
    assert SequenceNet(kernel=5, dilations=(1, 2, 4, 8)).receptive_field == 5 + 4 * 15


def test_sequence_net_is_local_without_gru():
    """A beat's output depends only on beats within the receptive field (no leakage through padding or norms)."""
    torch.manual_seed(0)
    net = SequenceNet(channels=8, kernel=3, dilations=(1, 2), gru_hidden=0).eval()
    x = torch.randn(1, 4, 40)
    y = x.clone()
    y[:, :, 30:] += 1.0
    reach = net.receptive_field // 2
    assert torch.equal(net(x)[0, : 30 - reach], net(y)[0, : 30 - reach])


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown network kind"):
        NetConfig(kind="transformer")


def test_config_round_trip_keeps_each_kinds_fields_with_its_kind():
    config = NetConfig.from_dict({"kind": "cardionet", "kernels": [3, 5], "dilations": [1, 3], "max_epochs": 3})
    assert config.arch.kernels == (3, 5)
    assert not hasattr(config.arch, "dilations")  # a sequence net's field, left aside for CardioNet
    assert config.max_epochs == 3
    assert NetConfig.from_dict(config.to_dict()) == config
    with pytest.raises(TypeError):
        NetConfig.from_dict({"kind": "cardionet", "no_such_field": 1})


def test_the_network_configuration_saved_in_a_manifest_reads():
    import json

    from cardiospike.detector import default_model_path

    manifest = json.loads((default_model_path() / "manifest.json").read_text())
    config = NetConfig.from_dict(manifest["training"]["config"]["model"]["nn"])
    assert (config.kind, config.arch.channels, config.monitor) == ("features", 32, "ap")
    assert config.inputs().features == FeatureSpec.from_dict(manifest["features"])


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_builds_a_network_that_reads_its_inputs(name):
    config = NetConfig(kind=name)
    net = build_network(config).eval()
    layout, x = config.network.layout, torch.from_numpy(config.inputs()(np.full(30, 800.0)))
    assert layout.unbatch(net(layout.batch(x))).shape == (30,)


@pytest.mark.parametrize("n", [1, 2, 17, 300])
@pytest.mark.parametrize("fixture", ["sequence_module", "cardionet_module", "features_module"])
def test_predict_any_length(fixture, n, request):
    module: BeatNetModule = request.getfixturevalue(fixture)
    (proba,) = predict_network(module, [Recording.from_rr(np.full(n, 800.0))])
    assert proba.shape == (n,)
    assert proba.dtype == np.float64
    assert np.all((proba >= 0) & (proba <= 1))


def _f1(recs, probas):
    y = np.concatenate([r.labels for r in recs])
    p = np.concatenate(probas)
    lengths = np.array([len(r) for r in recs])
    # Plain threshold only: the network must learn the spikes, not the post-processing.
    return choose_postprocess(y, p, lengths, smooths=(0,), max_gaps=(0,), min_runs=(1,))[1], y.mean()


@pytest.mark.parametrize("fixture", ["sequence_module", "cardionet_module", "features_module"])
def test_learns_synthetic_spikes(fixture, request, nn_valid):
    module: BeatNetModule = request.getfixturevalue(fixture)
    f1, positive_share = _f1(nn_valid, predict_network(module, nn_valid))
    # Flagging every beat (chance) gives F1 = 2p / (1 + p), about 0.15 here.
    chance = 2 * positive_share / (1 + positive_share)
    assert f1 > max(0.5, 2 * chance)
    assert module.best_epoch_ is not None
    assert module.best_epoch_ >= 1


def test_training_is_deterministic(nn_train, nn_valid):
    from cardiospike.models.nn.lit import fit_network

    config = NetConfig.from_dict(network_config("sequence"))
    recs = nn_train[:3]
    a = predict_network(fit_network(recs, nn_valid[:1], config), nn_valid[:1])[0]
    b = predict_network(fit_network(recs, nn_valid[:1], config), nn_valid[:1])[0]
    np.testing.assert_array_equal(a, b)


def test_fixed_epochs_without_validation(nn_train):
    from cardiospike.models.nn.lit import fit_network

    config = NetConfig.from_dict(network_config("sequence", "model.nn.gru_hidden=0"))  # the convolutions alone
    module = fit_network(nn_train[:2], None, config)
    assert module.best_epoch_ == 2
    assert not module.training


def test_training_needs_labels():
    from cardiospike.models.nn.lit import fit_network

    rec = simulate_recording(100, seed=1)
    unlabelled = Recording(id="u", rr=rec.rr, time=rec.time)
    with pytest.raises(ValueError, match="no labels"):
        fit_network([unlabelled], None, NetConfig.from_dict(network_config("sequence")))


def test_feature_net_standardises_and_fills_missing_values():
    torch.manual_seed(0)
    net = FeatureNet(in_features=3, channels=8, gru_hidden=4).eval()
    x = torch.randn(1, 3, 20)
    net.set_scaling(torch.tensor([0.0, 0.0, 0.0]), torch.tensor([1.0, 1.0, 1.0]))
    before = net(x)
    # Shifting and scaling a feature is undone by the network's own standardisation.
    net.set_scaling(torch.tensor([5.0, 0.0, 0.0]), torch.tensor([2.0, 1.0, 1.0]))
    shifted = x.clone()
    shifted[:, 0] = x[:, 0] * 2.0 + 5.0
    torch.testing.assert_close(net(shifted), before)
    gaps = x.clone()
    gaps[:, 1, ::3] = float("nan")
    assert torch.isfinite(net(gaps)).all()


@pytest.mark.parametrize("monitor", ["loss", "ap"])
def test_best_weights_are_those_of_the_best_epoch(monitor, nn_train, nn_valid):
    """The kept epoch is the one whose validation metric early stopping also judged best (not the epoch after)."""
    from lightning.pytorch import Callback, Trainer

    from cardiospike.models.nn.lit import MONITORS, KeepBestWeights, _loaders, _quiet_lightning

    metric, mode = MONITORS[monitor]
    history: list[float] = []

    class Record(Callback):
        def on_validation_end(self, trainer, pl_module):
            history.append(float(trainer.callback_metrics[metric]))

    config = NetConfig.from_dict(network_config("features", f"model.nn.monitor={monitor}", "model.nn.lr=0.02"))
    best = KeepBestWeights(metric, mode)
    module = BeatNetModule(config)
    with _quiet_lightning():
        trainer = Trainer(
            max_epochs=5, callbacks=[best, Record()], logger=False, enable_checkpointing=False,
            enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
        )  # fmt: skip
        trainer.fit(module, *_loaders(nn_train[:4], nn_valid[:2], config))
    assert len(history) == 5
    pick = int(np.argmin(history) if mode == "min" else np.argmax(history))
    assert best.best_epoch == pick + 1
    assert best.best == pytest.approx(history[pick] if mode == "min" else -history[pick])
