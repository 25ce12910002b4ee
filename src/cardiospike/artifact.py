"""Model artifacts: one folder with ``manifest.json`` and the model in LightGBM's text format; no pickle.

The manifest records the package version, the feature set, the training configuration and command, the SHA-256
of the training data and of every model file, the cross-validation metrics, the decision threshold and the rest
of the post-processing. Loading
checks the format version and the checksums, so a missing, corrupt or incompatible artifact is a clear error.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from cardiospike.ensemble import Stacker
from cardiospike.features import FeatureSpec, feature_names
from cardiospike.models.lgbm import LGBMBeatClassifier
from cardiospike.models.postprocess import PostProcess
from cardiospike.recording import DEFAULT_RR_MAX_MS, DEFAULT_RR_MIN_MS

FORMAT = "cardiospike-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LGBM_FILE = "lgbm.txt"
NETWORK_FILE = "network.onnx"


class ArtifactError(RuntimeError):
    """A model artifact that cannot be used; the message says which folder or file and why."""


def _environment() -> dict[str, str]:
    """Versions that decide what a retraining reproduces."""
    import platform

    versions = {"python": platform.python_version()}
    for name in ("numpy", "pandas", "scikit-learn", "lightgbm"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "absent"
    return versions


def package_version() -> str:
    try:
        return version("cardiospike")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Artifact:
    """A loaded (or to-be-saved) model: the classifier, its feature spec, post-processing and manifest."""

    model: LGBMBeatClassifier
    features: FeatureSpec
    postprocess: PostProcess
    manifest: dict[str, Any]
    network: bytes | None = None
    stacker: Stacker | None = None

    @property
    def threshold(self) -> float:
        return self.postprocess.threshold

    @property
    def rr_range(self) -> tuple[float, float]:
        low, high = self.manifest.get("rr_range", (DEFAULT_RR_MIN_MS, DEFAULT_RR_MAX_MS))
        return float(low), float(high)

    @property
    def model_version(self) -> str:
        return str(self.manifest.get("model_version", "unknown"))


def build_manifest(
    *,
    features: FeatureSpec,
    postprocess: PostProcess,
    training: dict[str, Any],
    cv: dict[str, Any],
    stacker: Stacker | None = None,
    rr_range: tuple[float, float] = (DEFAULT_RR_MIN_MS, DEFAULT_RR_MAX_MS),
) -> dict[str, Any]:
    """A manifest for a newly trained model (file checksums are added by :func:`save_artifact`)."""
    created = datetime.now(UTC).replace(microsecond=0)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": package_version(),
        "model_version": created.strftime(f"{'lgbm' if stacker is None else 'stack'}-%Y%m%dT%H%M%SZ"),
        "created": created.isoformat(),
        "model": {"kind": "lgbm", "file": LGBM_FILE}
        if stacker is None
        else {"kind": "stack", "file": LGBM_FILE, "network": NETWORK_FILE},
        "stacker": None if stacker is None else stacker.to_dict(),
        "features": features.to_dict(),
        "threshold": postprocess.threshold,
        "postprocess": postprocess.to_dict(),
        "rr_range": list(rr_range),
        "training": {**training, "environment": _environment()},
        "cv": cv,
    }


def save_artifact(artifact: Artifact, out_dir: str | os.PathLike[str]) -> Path:
    """Write the artifact folder atomically: a reader sees the old folder or the complete new one."""
    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        (staging / LGBM_FILE).write_text(artifact.model.to_text())
        if artifact.network is not None:
            (staging / NETWORK_FILE).write_bytes(artifact.network)
        files = sorted(p.name for p in staging.iterdir())
        manifest = {**artifact.manifest, "files": {name: sha256_file(staging / name) for name in files}}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
        if target.exists():
            backup = target.with_name(f".{target.name}.old")
            shutil.rmtree(backup, ignore_errors=True)
            target.rename(backup)
            staging.rename(target)
            shutil.rmtree(backup)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    artifact.manifest = manifest
    return target


def read_manifest(model_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``manifest.json`` of an artifact folder."""
    folder = Path(model_dir)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ArtifactError(f"model folder {folder} does not exist")
    if not path.is_file():
        raise ArtifactError(f"{folder} is not a model artifact: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path} is corrupt: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{path} is not a {FORMAT} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{path} has format version {manifest.get('format_version')!r}; this cardiospike "
            f"({package_version()}) reads version {FORMAT_VERSION}: retrain the model or install a matching version"
        )
    missing = [k for k in ("model", "features", "postprocess", "files") if k not in manifest]
    if missing:
        raise ArtifactError(f"{path} is incomplete: missing {', '.join(missing)}")
    return manifest


def load_artifact(model_dir: str | os.PathLike[str]) -> Artifact:
    """Load an artifact folder, verifying the checksum of every model file."""
    folder = Path(model_dir)
    manifest = read_manifest(folder)
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise ArtifactError(f"{folder}: model file {name} is missing")
        if sha256_file(path) != expected:
            raise ArtifactError(f"{path} is corrupt: its SHA-256 does not match the manifest")
    try:
        features = FeatureSpec.from_dict(manifest["features"])
        model = LGBMBeatClassifier.from_text((folder / manifest["model"]["file"]).read_text(), n_jobs=1)
        postprocess = PostProcess(**manifest["postprocess"])
        network_file = manifest["model"].get("network")
        network = None if network_file is None else (folder / network_file).read_bytes()
        stacker = None if manifest.get("stacker") is None else Stacker.from_dict(manifest["stacker"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{folder}: cannot load the model: {exc}") from None
    if model.n_features_in_ != len(feature_names(features)):
        raise ArtifactError(
            f"{folder}: the model expects {model.n_features_in_} features but its feature set makes "
            f"{len(feature_names(features))}: the artifact is incompatible with this cardiospike"
        )
    return Artifact(model, features, postprocess, manifest, network=network, stacker=stacker)
