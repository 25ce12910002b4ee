"""ONNX export: ONNX Runtime agrees with torch (absolute tolerance 1e-5), and the runtime needs no torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from cardiospike.data import read_recordings, simulate_recording
from cardiospike.models.nn.export import export_onnx, onnx_bytes
from cardiospike.models.nn.lit import BeatNetModule, predict_network
from cardiospike.models.nn.runtime import OnnxBeatNet
from cardiospike.recording import Recording
from tests.conftest import network_config, real_data

FIXTURES = ["sequence_module", "cardionet_module", "features_module"]


def _agree(module: BeatNetModule, runtime: OnnxBeatNet, recs: list[Recording]) -> None:
    for rec, expected in zip(recs, predict_network(module, recs), strict=True):
        np.testing.assert_allclose(runtime.anomaly_proba(rec.rr), expected, rtol=0, atol=1e-5, err_msg=rec.id)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_onnx_matches_torch_on_synthetic(fixture, request, tmp_path):
    module: BeatNetModule = request.getfixturevalue(fixture)
    path = tmp_path / "net.onnx"
    export_onnx(module, path)
    runtime = OnnxBeatNet(path)
    assert runtime.kind == module.config.kind
    recs = [simulate_recording(n, seed=n) for n in (1, 2, 17, 300, 1500)]
    recs.append(Recording.from_rr([100.0, 5000.0, 800.0]))  # mostly measurement errors
    _agree(module, runtime, recs)
    assert runtime.anomaly_proba(np.zeros(0)).shape == (0,)


@pytest.mark.real_data
@pytest.mark.parametrize("fixture", FIXTURES)
def test_onnx_matches_torch_on_real_data(fixture, request):
    recs = read_recordings(real_data("train.csv"))[:20]
    module: BeatNetModule = request.getfixturevalue(fixture)
    _agree(module, OnnxBeatNet(onnx_bytes(module)), recs)


def test_metadata_is_checked(sequence_module):
    import onnx

    model = onnx.load_from_string(onnx_bytes(sequence_module))
    for entry in model.metadata_props:
        if entry.key == "inputs":
            entry.value = "nn-inputs-v0"
    with pytest.raises(ValueError, match="re-export"):
        OnnxBeatNet(model.SerializeToString())


def test_sequence_export_has_dynamic_length(sequence_module):
    import onnx

    model = onnx.load_from_string(onnx_bytes(sequence_module))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ["batch", "", "beats"]


def test_runtime_does_not_import_torch(sequence_module, tmp_path):
    path = tmp_path / "net.onnx"
    export_onnx(sequence_module, path)
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from cardiospike.models.nn.runtime import OnnxBeatNet
        import cardiospike.models.nn
        p = OnnxBeatNet({str(path)!r}).anomaly_proba(np.full(50, 800.0))
        assert p.shape == (50,)
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "lightning", "pytorch_lightning"))
        assert not heavy, heavy
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_runtime_reads_a_feature_matrix_computed_already(features_module, sequence_module):
    from cardiospike.features import beat_features

    runtime = OnnxBeatNet(onnx_bytes(features_module))
    assert runtime.features is not None
    rec = simulate_recording(500, seed=5)
    shared = beat_features(rec.rr, runtime.features)
    np.testing.assert_array_equal(runtime.anomaly_proba(rec.rr, shared), runtime.anomaly_proba(rec.rr))
    assert OnnxBeatNet(onnx_bytes(sequence_module)).features is None  # only a feature network reads features


@pytest.fixture(scope="module")
def windowed_module(nn_train, nn_valid):
    from cardiospike.models.nn.config import NetConfig
    from cardiospike.models.nn.lit import fit_network

    settings = network_config("features", "model.nn.crop_len=64", "model.nn.window_context=16")
    return fit_network(nn_train, nn_valid, NetConfig.from_dict(settings))


def test_windowed_network_scores_as_trained_and_batches_alike(windowed_module, tmp_path):
    runtime = OnnxBeatNet(onnx_bytes(windowed_module))
    assert runtime.windowing is not None
    assert (runtime.windowing.length, runtime.windowing.context) == (64, 16)
    recs = [simulate_recording(n, seed=n) for n in (1, 30, 64, 65, 300, 1000)]
    _agree(windowed_module, runtime, recs)  # one recording at a time, as torch scores them
    together = runtime.predict_many([r.rr for r in recs])
    for rec, proba in zip(recs, together, strict=True):
        np.testing.assert_allclose(proba, runtime.anomaly_proba(rec.rr), rtol=0, atol=1e-6)


def test_a_windowed_beat_depends_only_on_its_window(windowed_module):
    from cardiospike.features import beat_features

    runtime = OnnxBeatNet(onnx_bytes(windowed_module))
    rec = simulate_recording(600, seed=4)
    assert runtime.features is not None
    features = beat_features(rec.rr, runtime.features)
    changed = features.copy()
    changed[500:] += 1.0  # far beyond the windows of the first 300 beats
    a, b = runtime.anomaly_proba(rec.rr, features), runtime.anomaly_proba(rec.rr, changed)
    np.testing.assert_array_equal(a[:300], b[:300])
    assert not np.array_equal(a[500:], b[500:])
