import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cardiospike.artifact import (
    LGBM_FILE,
    MANIFEST,
    NETWORK_FILE,
    ArtifactError,
    load_artifact,
    read_manifest,
    save_artifact,
)
from cardiospike.detector import load_detector
from cardiospike.ensemble import Stacker, fit_stacker
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
        "postprocess",
        "files",
        "model_version",
    }
    assert "threshold" not in manifest  # written once, in postprocess
    assert manifest["files"][LGBM_FILE]
    X = beat_features(recordings[0].rr, art.features)
    again = load_artifact(save_artifact(art, tmp_path / "again"))
    np.testing.assert_array_equal(again.model.anomaly_proba(X), art.model.anomaly_proba(X))
    assert again.threshold == art.threshold
    assert again.features == art.features


def test_manifests_that_also_hold_a_top_level_threshold_still_load(model_copy: Path):
    # Manifests of earlier versions wrote the threshold beside the post-processing too; loading reads postprocess.
    manifest = json.loads((model_copy / MANIFEST).read_text())
    (model_copy / MANIFEST).write_text(json.dumps({**manifest, "threshold": 0.99}))
    assert load_artifact(model_copy).threshold == manifest["postprocess"]["threshold"]


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


# --- damaged artifacts whose checksums were rewritten too (a faulty trainer, an edited folder) ---------------------


def _rewrite(folder: Path, name: str, content: bytes | None = None, **manifest_changes: object) -> None:
    """Change a file and/or manifest keys of a model folder, with the checksums made to match again."""
    manifest = json.loads((folder / MANIFEST).read_text())
    if content is not None:
        (folder / name).write_bytes(content)
        manifest["files"][name] = hashlib.sha256(content).hexdigest()
    manifest.update(manifest_changes)
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _load_in_subprocess(folder: Path) -> subprocess.CompletedProcess[str]:
    # A separate process: a native crash (segmentation fault, abort) fails this test instead of ending the run.
    code = f"from cardiospike.detector import load_detector; load_detector({str(folder)!r})"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[: len(text) // 2], "truncated"),
        (lambda text: text.replace("split_feature=", "split_feature=9999 ", 1), "tree"),
        (lambda text: text.replace("tree_sizes=", "tree_sizes=99999999 ", 1), "tree_sizes"),
        (lambda text: _first_value(text, "left_child", "0"), "tree 0: the child links do not form a tree"),
        (lambda text: text.replace("num_class=1", "num_class=3"), "not a binary classifier"),
    ],
)
def test_damaged_lightgbm_text_is_an_error_not_a_crash(model_copy: Path, damage, message: str):
    _rewrite(model_copy, LGBM_FILE, damage((model_copy / LGBM_FILE).read_text()).encode())
    with pytest.raises(ArtifactError, match=message):
        load_artifact(model_copy)
    result = _load_in_subprocess(model_copy)
    assert result.returncode == 1, result.stderr  # an exception, not a signal
    assert "ArtifactError" in result.stderr


def _first_value(text: str, key: str, digit: str) -> str:
    """``text`` with the first value of ``key`` replaced by ``digit`` repeated to the same length.

    The tree keeps its size in bytes, so the sizes in the header still hold and only the check of the value itself
    can find the damage (a node that is its own child: ``00``; fewer features than the trees use: ``000``).
    """
    head, _, rest = text.partition(f"{key}=")
    first = rest.split(None, 1)[0]
    return head + f"{key}=" + digit * len(first) + rest[len(first) :]


def test_same_length_bad_feature_index_is_caught(model_copy: Path):
    # The header claims fewer features (same length in bytes): the trees now split on features it does not have.
    text = _first_value((model_copy / LGBM_FILE).read_text(), "max_feature_idx", "0")
    _rewrite(model_copy, LGBM_FILE, text.encode())
    with pytest.raises(ArtifactError, match="split_feature holds a feature the model does not have"):
        load_artifact(model_copy)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"postprocess": {"threshold": 0.0001, "smooth": 0, "max_gap": 0, "min_run": 1}}, "threshold"),
        ({"postprocess": {"threshold": 0.5, "smooth": -1, "max_gap": 0, "min_run": 1}}, "smooth"),
        ({"rr_range": [2000, 300]}, "rr_range"),
        ({"stacker": {"names": ["lgbm", "nn"], "coef": [1.0, 1.0], "intercept": 0.0}}, "network and a stacker"),
    ],
)
def test_manifest_settings_training_cannot_make_are_refused(model_copy: Path, changes: dict, message: str):
    _rewrite(model_copy, MANIFEST, **changes)
    with pytest.raises(ArtifactError, match=message):
        load_artifact(model_copy)


@pytest.mark.parametrize(
    ("coef", "message"),
    [([-0.6, -0.3], "non-negative"), ([0.6], "one finite coefficient"), ([0.6, float("nan")], "finite")],
)
def test_stacker_coefficients_are_checked(coef: list[float], message: str):
    with pytest.raises(ValueError, match=message):
        Stacker(names=("lgbm", "nn"), coef=tuple(coef), intercept=0.1).check()


def test_fit_stacker_never_gives_a_negative_coefficient():
    rng = np.random.default_rng(0)
    y = rng.random(2000) < 0.3
    good = np.where(y, rng.uniform(0.5, 1, y.size), rng.uniform(0, 0.5, y.size))
    # A second model that is the first one's noise: alone it carries nothing, beside it a negative weight would fit.
    copy = np.clip(good + rng.normal(0, 0.05, y.size), 0.01, 0.99)
    stacker = fit_stacker(np.column_stack([good, 1 - copy]), y, ["a", "b"])
    stacker.check()
    assert stacker.coef[1] == 0.0


def test_garbage_network_is_an_error_not_a_traceback(model_copy: Path):
    _rewrite(
        model_copy,
        NETWORK_FILE,
        b"\x08\x07garbage" * 100,
        model={"kind": "stack", "file": LGBM_FILE, "network": NETWORK_FILE},
        stacker={"names": ["lgbm", "nn"], "coef": [0.6, 0.3], "intercept": 0.2},
    )
    with pytest.raises(ArtifactError, match="network cannot be loaded"):
        load_detector(model_copy)


def test_a_model_whose_features_read_whole_recordings_is_refused_with_the_remedy(model_copy: Path):
    """Models trained before bounded context read a recording's length and median: they must not score quietly."""
    manifest = json.loads((model_copy / MANIFEST).read_text())
    features = {k: v for k, v in manifest["features"].items() if k not in ("level_half", "distance_reach", "reach")}
    old = {**manifest, "features": {**features, "name": "spike-context-v2", "reach": None}}
    (model_copy / MANIFEST).write_text(json.dumps(old))
    with pytest.raises(ArtifactError, match=r"reads whole recordings.*retrain the model"):
        load_detector(model_copy)
    assert manifest["features"]["reach"] == FeatureSpec.from_dict(manifest["features"]).reach  # recorded


def test_a_model_folder_that_holds_symbolic_links_is_refused(model_copy: Path, tmp_path: Path):
    # The same bytes elsewhere, so the checksum matches: only the link itself tells that the model reads elsewhere.
    outside = tmp_path / "elsewhere.txt"
    shutil.copyfile(model_copy / LGBM_FILE, outside)
    (model_copy / LGBM_FILE).unlink()
    (model_copy / LGBM_FILE).symlink_to(outside)
    with pytest.raises(ArtifactError, match=rf"symbolic links \({LGBM_FILE}\)"):
        load_artifact(model_copy)


def test_a_linked_manifest_or_an_unlisted_link_is_refused_too(model_copy: Path, tmp_path: Path):
    (model_copy / "notes").symlink_to(tmp_path)
    with pytest.raises(ArtifactError, match=r"symbolic links \(notes\)"):
        read_manifest(model_copy)
    (model_copy / "notes").unlink()
    shutil.move(model_copy / MANIFEST, tmp_path / MANIFEST)
    (model_copy / MANIFEST).symlink_to(tmp_path / MANIFEST)
    with pytest.raises(ArtifactError, match="symbolic link"):
        load_artifact(model_copy)


def test_the_model_folder_itself_may_be_a_link(model_copy: Path, tmp_path: Path):
    current = tmp_path / "current"  # models/current -> models/v3, as deployments switch models
    current.symlink_to(model_copy, target_is_directory=True)
    assert load_artifact(current).threshold == load_artifact(model_copy).threshold


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([LGBM_FILE], r"field 'files' must map each file name to its SHA-256 \(a JSON object\), not a list"),
        ("lgbm.txt", "not a string"),
        ({LGBM_FILE: 7}, "the SHA-256 of lgbm.txt must be a string"),
    ],
)
def test_a_manifest_whose_files_are_not_a_mapping_is_an_artifact_error(model_copy: Path, files: object, message: str):
    manifest = json.loads((model_copy / MANIFEST).read_text())
    (model_copy / MANIFEST).write_text(json.dumps({**manifest, "files": files}))
    with pytest.raises(ArtifactError, match=message):
        load_artifact(model_copy)


def test_a_manifest_whose_files_are_a_list_stops_the_command_line_with_a_message(model_copy: Path, tmp_path: Path):
    manifest = json.loads((model_copy / MANIFEST).read_text())
    (model_copy / MANIFEST).write_text(json.dumps({**manifest, "files": list(manifest["files"])}))
    sample = tmp_path / "s.csv"
    sample.write_text("x\n800\n810\n")
    args = [sys.executable, "-m", "cardiospike.cli", "predict", str(sample), "-o", str(tmp_path / "o.csv")]
    done = subprocess.run([*args, "--model", str(model_copy)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "field 'files'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_manifest_field_of_the_wrong_json_type_is_an_artifact_error(model_copy: Path):
    manifest = json.loads((model_copy / MANIFEST).read_text())
    (model_copy / MANIFEST).write_text(json.dumps({**manifest, "features": ["half_window"]}))
    with pytest.raises(ArtifactError, match="cannot load the model"):
        load_artifact(model_copy)
