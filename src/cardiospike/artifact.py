"""Model artifacts: one folder with ``manifest.json`` and the model in LightGBM's text format; no pickle.

The manifest records the package version, the feature set, the training configuration and command, the SHA-256
of the training data and of every model file, a fingerprint of each training recording (:func:`fingerprint`), the
cross-validation metrics and the post-processing with its decision threshold. Loading checks the format version
and the checksums, so a missing, corrupt or incompatible artifact is a clear error. A local folder holds its files
themselves: a symbolic link in it (which could make the model read a file elsewhere) is refused. A folder may also be
a URL (``s3://bucket/models/x``), read and written through :mod:`cardiospike.remote`, whose errors become
:class:`ArtifactError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike

from cardiospike.ensemble import Stacker
from cardiospike.features import FeatureSpec, feature_names
from cardiospike.models.forest import Forest
from cardiospike.models.postprocess import PostProcess
from cardiospike.recording import ERROR_RR_MAX_MS, ERROR_RR_MIN_MS, Recording
from cardiospike.remote import RemoteError, RemoteFolder, is_url, upload
from cardiospike.version import package_version

FORMAT = "cardiospike-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LGBM_FILE = "lgbm.txt"
NETWORK_FILE = "network.onnx"
#: How recordings are fingerprinted (:func:`fingerprint`), recorded beside the fingerprints: a manifest whose
#: fingerprints were made otherwise is not matched against these.
FINGERPRINT_METHOD = "sha256-rr-ms-head"
#: The beats at a recording's start that its fingerprint covers.
FINGERPRINT_BEATS = 32


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


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(rr: ArrayLike) -> str:
    """A recording's fingerprint: the SHA-256 of its first :data:`FINGERPRINT_BEATS` RR in whole milliseconds
    (int64, little-endian), its first 16 hex digits.

    The same for the recording cut short at its end, renamed, timed otherwise, moved within a file or given in
    seconds; another for one that starts elsewhere, or is cut to fewer beats. RR alone, rounded: a recording's first
    32 beats name it as well as its id (train.csv's 183 recordings have 183 fingerprints, and none of test.csv's 46
    is among them), and a hash of them gives none of its values away.
    """
    head = np.asarray(rr, dtype=np.float64)[:FINGERPRINT_BEATS]
    whole = np.where(np.isfinite(head), np.rint(head), -1.0).astype("<i8")
    return hashlib.sha256(whole.tobytes()).hexdigest()[:16]


def training_fingerprints(recordings: Iterable[Recording]) -> dict[str, Any]:
    """The manifest's record of the recordings a model was trained on: how, and their fingerprints (sorted)."""
    return {
        "method": FINGERPRINT_METHOD,
        "beats": FINGERPRINT_BEATS,
        "recordings": sorted({fingerprint(r.rr) for r in recordings}),
    }


@dataclass
class Artifact:
    """A loaded (or to-be-saved) model: the classifier, its feature spec, post-processing and manifest."""

    model: Forest
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
        """The RR range (ms) outside which beats are flagged as measurement errors."""
        return _rr_range(self.manifest)

    @property
    def model_version(self) -> str:
        return str(self.manifest.get("model_version", "unknown"))

    def entry(self, *keys: str) -> Any:
        """The manifest's value at a path of keys (``entry("cv", "outer", "f1")``), None where any step is missing."""
        node: Any = self.manifest
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        return node

    @property
    def fingerprints(self) -> frozenset[str] | None:
        """The fingerprints of the training recordings (:func:`fingerprint`); None where the manifest records none
        made as :func:`fingerprint` makes them (a model trained before they were recorded)."""
        return _fingerprints(self.manifest)

    @property
    def cv_f1(self) -> float | None:
        """Per-beat F1 of the outer folds of nested cross-validation, from the manifest (None where it has none)."""
        f1 = self.entry("cv", "outer", "f1")
        return None if f1 is None else float(f1)


def _fingerprints(manifest: dict[str, Any]) -> frozenset[str] | None:
    """The training fingerprints a manifest records (None: none, or made otherwise); ValueError where malformed."""
    training = manifest.get("training")
    recorded = training.get("fingerprints") if isinstance(training, dict) else None
    if recorded is None:
        return None
    if not isinstance(recorded, dict) or not isinstance(recorded.get("recordings"), list):
        raise ValueError("training.fingerprints must hold a list of recordings")
    if recorded.get("method") != FINGERPRINT_METHOD or recorded.get("beats") != FINGERPRINT_BEATS:
        return None
    values = recorded["recordings"]
    if not all(isinstance(v, str) and len(v) == 16 for v in values):
        raise ValueError("training.fingerprints must be 16 hex digits each")
    return frozenset(values)


def _rr_range(manifest: dict[str, Any]) -> tuple[float, float]:
    """The measurement-error range a manifest records (the package's where it records none)."""
    low, high = manifest.get("rr_range", (ERROR_RR_MIN_MS, ERROR_RR_MAX_MS))
    return float(low), float(high)


def build_manifest(
    *,
    features: FeatureSpec,
    postprocess: PostProcess,
    training: dict[str, Any],
    cv: dict[str, Any],
    stacker: Stacker | None = None,
    rr_range: tuple[float, float] = (ERROR_RR_MIN_MS, ERROR_RR_MAX_MS),
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
        "postprocess": postprocess.to_dict(),
        "rr_range": list(rr_range),
        "training": {**training, "environment": _environment()},
        "cv": cv,
    }


@overload
def save_artifact(artifact: Artifact, out_dir: os.PathLike[str]) -> Path: ...
@overload
def save_artifact(artifact: Artifact, out_dir: str) -> Path | str: ...
def save_artifact(artifact: Artifact, out_dir: str | os.PathLike[str]) -> Path | str:
    """Write the artifact folder atomically: a reader sees the old folder or the complete new one.

    ``out_dir`` may be an ``s3://`` URL: the folder is written to a local staging folder first, then its files are
    uploaded, ``manifest.json`` last. Object stores have no atomic rename, so a reader that loads the model while it
    is being replaced may see the old manifest with a new file; the checksums then make that a clear error, never a
    silently mixed model. Returns the folder (a :class:`~pathlib.Path`, or the URL as given).
    """
    if is_url(out_dir):
        url = str(out_dir).rstrip("/")
        with tempfile.TemporaryDirectory(prefix=".cardiospike-upload.") as tmp:
            staged = save_artifact(artifact, Path(tmp) / "model")
            with _remote_errors():
                upload(staged, url, last=MANIFEST)
        return url
    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    # mkdir, not mkdtemp: the folder gets the usual permissions (umask), so a service running as another user
    # (the container's) can read a model written by the training user.
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    staging.mkdir()
    try:
        (staging / LGBM_FILE).write_text(artifact.model.text)
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


def _check_manifest(raw: bytes, where: str) -> dict[str, Any]:
    """Parse and check the bytes of a manifest; ``where`` (its path or URL) names it in errors."""
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{where} is corrupt: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{where} is not a {FORMAT} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{where} has format version {manifest.get('format_version')!r}; this cardiospike "
            f"({package_version()}) reads version {FORMAT_VERSION}: retrain the model or install a matching version"
        )
    missing = [k for k in ("model", "features", "postprocess", "files") if k not in manifest]
    if missing:
        raise ArtifactError(f"{where} is incomplete: missing {', '.join(missing)}")
    files = manifest["files"]
    if not isinstance(files, dict):
        raise ArtifactError(
            f"{where}: field 'files' must map each file name to its SHA-256 (a JSON object), not a {_json_type(files)}"
        )
    for name, digest in files.items():
        # Names are joined to the folder or URL: one that leaves the folder would read some other file.
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise ArtifactError(f"{where} names a file outside the model folder: {name!r}")
        if not isinstance(digest, str):
            raise ArtifactError(f"{where}: field 'files': the SHA-256 of {name} must be a string of hex digits")
    return manifest


def _json_type(value: object) -> str:
    """How JSON calls the type of a parsed value (for messages about a manifest)."""
    names = {list: "list", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _local_file(folder: Path, name: str) -> bytes:
    """The bytes of the file ``name`` of a local model folder: a file of the folder itself, never through a link.

    A symbolic link (to a file elsewhere, or on the way to one) would make the model read whatever it points to,
    which the folder's checksums were never made for; so is anything that resolves outside the folder.
    """
    path = folder / name
    if path.is_symlink():
        raise ArtifactError(f"{path} is a symbolic link: a model folder must hold its files themselves")
    if not path.is_file():
        raise ArtifactError(f"{folder}: model file {name} is missing")
    if path.resolve().parent != folder.resolve():
        raise ArtifactError(f"{path} resolves outside the model folder {folder}")
    # O_NOFOLLOW: a link put in its place since the check is refused all the same (where the system has it).
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(handle, "rb") as stream:
        return stream.read()


def _refuse_links(folder: Path) -> None:
    """ArtifactError where the model folder holds a symbolic link (see :func:`_local_file`)."""
    links = sorted(p.name for p in folder.iterdir() if p.is_symlink())
    if links:
        raise ArtifactError(
            f"model folder {folder} holds symbolic links ({', '.join(links)}): a model folder must hold its files "
            "themselves"
        )


def read_manifest(model_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``manifest.json`` of an artifact folder (a local path or an ``s3://`` URL)."""
    if is_url(model_dir):
        with _remote_errors():
            return _remote_manifest(RemoteFolder(str(model_dir)))
    folder = Path(model_dir)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ArtifactError(f"model folder {folder} does not exist")
    if not path.is_file() and not path.is_symlink():
        raise ArtifactError(f"{folder} is not a model artifact: it has no {MANIFEST}")
    # The folder itself may be a link (models/current -> models/v3); what it holds may not.
    _refuse_links(folder)
    try:
        raw = _local_file(folder, MANIFEST)
    except OSError as exc:
        raise ArtifactError(f"{path} cannot be read: {exc.strerror or exc}") from None
    return _check_manifest(raw, str(path))


def load_artifact(model_dir: str | os.PathLike[str]) -> Artifact:
    """Load an artifact folder (a local path or an ``s3://`` URL), verifying the checksum of every model file."""
    if is_url(model_dir):
        with _remote_errors():
            return _load_remote(RemoteFolder(str(model_dir)))
    folder = Path(model_dir)
    manifest = read_manifest(folder)
    blobs = {}
    for name, expected in manifest["files"].items():
        path = folder / name
        try:
            blobs[name] = _local_file(folder, name)
        except OSError as exc:
            raise ArtifactError(f"{path} cannot be read: {exc.strerror or exc}") from None
        if hashlib.sha256(blobs[name]).hexdigest() != expected:
            raise ArtifactError(f"{path} is corrupt: its SHA-256 does not match the manifest")
    return _build(manifest, blobs, str(folder))


def _build(manifest: dict[str, Any], blobs: dict[str, bytes], where: str) -> Artifact:
    """The artifact from its checked manifest and verified files (only files the manifest lists are used).

    The checksums catch a damaged file, not a wrong one written with its checksum (a faulty trainer, an edited
    manifest): so the model text is checked before LightGBM's native loader reads it, and every setting of the
    manifest is checked to be one that training could have made.
    """
    try:
        features = FeatureSpec.from_dict(manifest["features"])
        model = Forest(blobs[manifest["model"]["file"]].decode("utf-8"))
        postprocess = PostProcess(**manifest["postprocess"])
        postprocess.check()
        network_file = manifest["model"].get("network")
        network = None if network_file is None else blobs[network_file]
        stacker = None if manifest.get("stacker") is None else Stacker.from_dict(manifest["stacker"])
        if stacker is not None:
            stacker.check()
        if (stacker is None) != (network is None):
            raise ValueError("a stacked model needs both a network and a stacker")
        low, high = _rr_range(manifest)
        if not 0 <= low < high:
            raise ValueError(f"invalid rr_range {[low, high]}")
        _fingerprints(manifest)
    # UnicodeDecodeError and ModelTextError are ValueErrors; AttributeError: a field of the wrong JSON type (a list
    # where an object is expected).
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{where}: cannot load the model: {exc}") from None
    if model.n_features_in_ != len(feature_names(features)):
        raise ArtifactError(
            f"{where}: the model expects {model.n_features_in_} features but its feature set makes "
            f"{len(feature_names(features))}: the artifact is incompatible with this cardiospike"
        )
    return Artifact(model, features, postprocess, manifest, network=network, stacker=stacker)


@contextmanager
def _remote_errors() -> Iterator[None]:
    """The remote store's errors as artifact errors, with the same one-line message."""
    try:
        yield
    except RemoteError as exc:
        raise ArtifactError(str(exc)) from None


def _remote_manifest(folder: RemoteFolder) -> dict[str, Any]:
    """Read and check the manifest of an artifact folder at a URL."""
    try:
        raw = folder.read(MANIFEST)
    except FileNotFoundError:
        raise ArtifactError(_not_found(folder)) from None
    return _check_manifest(raw, f"{folder.url}/{MANIFEST}")


def _not_found(folder: RemoteFolder) -> str:
    """Why an artifact folder at a URL has no manifest: no bucket, no such folder, or a folder that is not one."""
    missing = folder.missing()
    if missing == "bucket":
        return f"{folder.url}: the bucket {folder.bucket!r} does not exist (or these credentials cannot see it)"
    if missing == "folder":
        return f"model folder {folder.url} does not exist"
    return f"{folder.url} is not a model artifact: it has no {MANIFEST}"


def _load_remote(folder: RemoteFolder) -> Artifact:
    """Load an artifact folder at a URL: every file read whole, its checksum checked as for a local folder."""
    manifest = _remote_manifest(folder)
    blobs: dict[str, bytes] = {}
    for name, expected in manifest["files"].items():
        try:
            blobs[name] = folder.read(name)
        except FileNotFoundError:
            raise ArtifactError(f"{folder.url}: model file {name} is missing") from None
        if hashlib.sha256(blobs[name]).hexdigest() != expected:
            raise ArtifactError(f"{folder.url}/{name} is corrupt: its SHA-256 does not match the manifest")
    return _build(manifest, blobs, folder.url)
