"""Training recordings recognised by their content: fingerprints recorded by training, matched by ``evaluate``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from cardiospike.artifact import (
    FINGERPRINT_BEATS,
    ArtifactError,
    fingerprint,
    load_artifact,
    sha256_file,
    training_fingerprints,
)
from cardiospike.cli import app
from cardiospike.data import read_recordings, recordings_to_frame, simulate_recordings, write_csv_atomic
from cardiospike.detector import default_model_path
from cardiospike.recording import Recording
from cardiospike.training.evaluate import in_training_data
from tests.conftest import real_data

runner = CliRunner()
WARNING = "recordings are in the model's training data: the figures overstate how it does on new patients"


def _evaluate(path: Path, model: Path) -> Any:
    return runner.invoke(app, ["evaluate", str(path), "-m", str(model), "--json"])


def _cut(rec: Recording, n: int, new_id: str) -> Recording:
    assert rec.labels is not None
    return Recording.from_rr(rec.rr[:n], id=new_id, labels=rec.labels[:n])


def test_a_fingerprint_is_of_the_first_beats_in_whole_ms():
    rng = np.random.default_rng(0)
    rr = rng.uniform(600, 1000, 100).round()
    assert len(fingerprint(rr)) == 16
    assert fingerprint(rr) == fingerprint(rr[:FINGERPRINT_BEATS])  # cut short at its end
    assert fingerprint(rr) == fingerprint(rr / 1000 * 1000)  # seconds read as ms: the product's noise
    assert fingerprint(rr) == fingerprint(rr + 0.3)  # rounded to whole ms
    assert fingerprint(rr) != fingerprint(rr[1:])  # started elsewhere
    assert fingerprint(rr) != fingerprint(rr[: FINGERPRINT_BEATS - 1])  # fewer beats than it covers
    assert fingerprint(np.array([800.0, np.nan, np.inf])) == fingerprint(np.array([800.0, -1.0, -1.0]))


def test_training_records_the_fingerprints_of_its_recordings(tiny_model_dir: Path, recordings: list[Recording]):
    manifest = json.loads((tiny_model_dir / "manifest.json").read_text())
    assert manifest["training"]["fingerprints"] == training_fingerprints(recordings)
    assert load_artifact(tiny_model_dir).fingerprints == {fingerprint(r.rr) for r in recordings}


def test_evaluate_finds_training_recordings_cut_renamed_and_among_others(
    tmp_path: Path, tiny_model_dir: Path, recordings: list[Recording]
):
    seen = [_cut(recordings[3], 300, "renamed"), _cut(recordings[0], 200, "0")]  # reordered, cut, renamed
    new = simulate_recordings(3, n_beats=300, seed=999)
    path = tmp_path / "mixed.csv"
    write_csv_atomic(recordings_to_frame([new[0], *seen, *new[1:]]), path)
    result = _evaluate(path, tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert f"2 of 5 {WARNING}" in result.stderr.replace("\n", " ")
    assert json.loads(result.stdout)["training_data"] == {
        "in_training": 2,
        "recordings": 5,
        "matched_by": "fingerprints",
        "warning": f"2 of 5 {WARNING}",
    }
    write_csv_atomic(recordings_to_frame(new), tmp_path / "new.csv")
    result = _evaluate(tmp_path / "new.csv", tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert "training data" not in result.stderr
    assert json.loads(result.stdout)["training_data"]["in_training"] == 0


def test_a_model_without_fingerprints_falls_back_to_the_files_hash(tmp_path: Path, tiny_model_dir: Path):
    model = tmp_path / "old"
    shutil.copytree(tiny_model_dir, model)
    manifest = json.loads((model / "manifest.json").read_text())
    del manifest["training"]["fingerprints"]
    (model / "manifest.json").write_text(json.dumps(manifest))
    assert load_artifact(model).fingerprints is None
    trained_on = tiny_model_dir.parent / "train.csv"
    result = _evaluate(trained_on, model)
    assert result.exit_code == 0, result.output
    assert f"8 of 8 {WARNING}" in result.stderr.replace("\n", " ")
    assert json.loads(result.stdout)["training_data"]["matched_by"] == "file"
    other = tmp_path / "other.csv"
    other.write_bytes(trained_on.read_bytes() + b"\n")
    result = _evaluate(other, model)
    assert "training data" not in result.stderr
    assert json.loads(result.stdout)["training_data"]["in_training"] == 0


@pytest.mark.parametrize("fingerprints", [[], {"method": "sha256-rr-ms-head", "beats": 32, "recordings": ["x"]}])
def test_malformed_fingerprints_are_an_artifact_error(tmp_path: Path, tiny_model_dir: Path, fingerprints: Any):
    model = tmp_path / "bad"
    shutil.copytree(tiny_model_dir, model)
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["training"]["fingerprints"] = fingerprints
    (model / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="fingerprints"):
        load_artifact(model)


# --- the shipped model and the real training data ------------------------------------------------------------------


@pytest.mark.real_data
def test_the_shipped_model_has_the_fingerprints_of_train_csv():
    path = real_data("train.csv")
    artifact = load_artifact(default_model_path())
    assert artifact.entry("training", "data", "sha256") == sha256_file(path)
    recordings = read_recordings(path, fmt="csv")
    assert artifact.fingerprints == {fingerprint(r.rr) for r in recordings}
    assert len(artifact.fingerprints) == len(recordings) == 183
    assert in_training_data(artifact, read_recordings(real_data("test.csv"))) == 0


@pytest.mark.real_data
def test_evaluate_warns_on_the_first_lines_of_train_csv(tmp_path: Path):
    head = tmp_path / "head.csv"
    head.write_text("".join(real_data("train.csv").read_text().splitlines(keepends=True)[:10_000]))
    n = len(read_recordings(head))
    result = runner.invoke(app, ["evaluate", str(head), "--json"])
    assert result.exit_code == 0, result.output
    assert f"{n} of {n} {WARNING}" in result.stderr.replace("\n", " ")
    assert json.loads(result.stdout)["training_data"]["in_training"] == n
