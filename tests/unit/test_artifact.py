import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from cardiospike.artifact import (
    LGBM_FILE,
    MANIFEST,
    ArtifactError,
    load_artifact,
    read_manifest,
    save_artifact,
)
from cardiospike.features import FeatureSpec, beat_features


@pytest.fixture
def model_copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))


def test_round_trip_keeps_predictions_threshold_and_manifest(tiny_model_dir: Path, recordings, tmp_path: Path):
    art = load_artifact(tiny_model_dir)
    manifest = json.loads((tiny_model_dir / MANIFEST).read_text())
    assert set(manifest) >= {
        "package_version",
        "features",
        "training",
        "cv",
        "threshold",
        "files",
        "model_version",
    }
    assert manifest["files"][LGBM_FILE]
    X = beat_features(recordings[0].rr, art.features)
    again = load_artifact(save_artifact(art, tmp_path / "again"))
    np.testing.assert_array_equal(again.model.predict_proba(X), art.model.predict_proba(X))
    assert again.threshold == art.threshold
    assert again.features == art.features


def test_no_pickle_in_the_artifact(tiny_model_dir: Path):
    assert sorted(p.name for p in tiny_model_dir.iterdir()) == [LGBM_FILE, MANIFEST]
    assert (tiny_model_dir / LGBM_FILE).read_text().startswith("tree")


def test_missing_folder_and_manifest(tmp_path: Path):
    with pytest.raises(ArtifactError, match="does not exist"):
        load_artifact(tmp_path / "nope")
    with pytest.raises(ArtifactError, match=r"has no manifest\.json"):
        load_artifact(tmp_path)


def test_corrupt_manifest(model_copy: Path):
    (model_copy / MANIFEST).write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        load_artifact(model_copy)


def test_corrupt_model_file_fails_checksum(model_copy: Path):
    with open(model_copy / LGBM_FILE, "a") as handle:
        handle.write("\n")
    with pytest.raises(ArtifactError, match="SHA-256 does not match"):
        load_artifact(model_copy)


def test_missing_model_file(model_copy: Path):
    (model_copy / LGBM_FILE).unlink()
    with pytest.raises(ArtifactError, match="is missing"):
        load_artifact(model_copy)


def test_incompatible_format_version(model_copy: Path):
    manifest = json.loads((model_copy / MANIFEST).read_text())
    manifest["format_version"] = 99
    (model_copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="format version 99"):
        read_manifest(model_copy)


def test_feature_set_mismatch(model_copy: Path):
    manifest = json.loads((model_copy / MANIFEST).read_text())
    manifest["features"] = FeatureSpec(half_window=3).to_dict()
    (model_copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="incompatible"):
        load_artifact(model_copy)


def test_save_replaces_existing_folder_whole(tiny_model_dir: Path, tmp_path: Path):
    target = tmp_path / "m"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    save_artifact(load_artifact(tiny_model_dir), target)
    assert sorted(p.name for p in target.iterdir()) == [LGBM_FILE, MANIFEST]
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_saved_folder_gets_the_usual_permissions(tiny_model_dir: Path, tmp_path: Path):
    """Readable by a service running as another user, like any folder the user creates (not 0700 like a temp dir)."""
    plain = tmp_path / "plain"
    plain.mkdir()
    folder = save_artifact(load_artifact(tiny_model_dir), tmp_path / "m")
    assert folder.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
