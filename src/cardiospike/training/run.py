"""One training run, start to end: compose the configuration, load the data, train, record provenance, save.

``cardiospike train``, the tests' tiny models and the quality benchmark all go through here, so a model's
manifest always says the same things about where it came from: the command, the resolved configuration, the
training data's file name, SHA-256 and size, and a fingerprint of each recording trained on (``evaluate`` tells by
them when it is given recordings the model has seen).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from cardiospike.artifact import save_artifact, sha256_file, training_fingerprints
from cardiospike.data import read_recordings, simulate_recordings
from cardiospike.recording import Recording
from cardiospike.remote import is_url
from cardiospike.training.config import compose_config, to_container, train_config
from cardiospike.training.cv import ProgressStep, TrainConfig, TrainResult, count_steps, no_progress, train


def load_recordings(data: Mapping[str, Any]) -> list[Recording]:
    """The labelled recordings a ``data`` configuration names.

    ``path`` (a competition CSV; ``ignore_time`` times beats by RR), or simulated recordings where
    ``synthetic.enabled``; only the first ``max_recordings`` where that is set. Raises
    :class:`~cardiospike.data.RecordingFormatError` for a file that cannot be read, ValueError for recordings
    without labels.
    """
    synthetic = data.get("synthetic") or {}
    if synthetic.get("enabled"):
        recordings = simulate_recordings(
            int(synthetic["recordings"]), n_beats=int(synthetic["beats"]), seed=int(synthetic["seed"])
        )
    else:
        recordings = read_recordings(data["path"], fmt="csv", use_time=not data.get("ignore_time", False))
        if any(r.labels is None for r in recordings):
            raise ValueError(f"{data['path']}: training needs labels: add a 'y' column (0/1 per beat)")
    limit = data.get("max_recordings")
    return recordings if limit is None else recordings[: int(limit)]


def provenance(command: str, cfg: DictConfig, recordings: Sequence[Recording]) -> dict[str, Any]:
    """Where a model comes from, as its manifest records it: the command, the resolved configuration, the data."""
    path = Path(cfg.data.path)
    return {
        "command": command,
        "config": to_container(cfg),
        "data": {
            "file": path.name,
            "sha256": sha256_file(path),
            "n_recordings": len(recordings),
            "n_beats": int(sum(len(r) for r in recordings)),
        },
        "fingerprints": training_fingerprints(recordings),
    }


@dataclass(frozen=True)
class Trained:
    """A finished run: what training found and where the model was written (a folder, or the URL as given)."""

    result: TrainResult
    location: Path | str


@dataclass(frozen=True)
class TrainingRun:
    """A training run as the configuration composes it, before it runs: ``cfg`` resolved, ``config`` built from it."""

    cfg: DictConfig
    config: TrainConfig

    @classmethod
    def compose(cls, overrides: Sequence[str] = ()) -> TrainingRun:
        """The run of ``cardiospike.conf``'s training configuration with Hydra ``overrides``; ConfigError if invalid."""
        cfg = compose_config(overrides)
        return cls(cfg=cfg, config=train_config(cfg))

    @property
    def n_steps(self) -> int:
        """The ``step`` calls :meth:`execute` makes (for progress bars)."""
        return count_steps(self.config.cv)

    def execute(self, command: str, step: ProgressStep = no_progress) -> Trained:
        """Load the data, train (nested CV, then the final models), record provenance and save the artifact."""
        recordings = load_recordings(self.cfg.data)
        result = train(recordings, self.config, step)
        artifact = result.artifact(self.config.features, provenance(command, self.cfg, recordings))
        out = str(self.cfg.out)
        return Trained(result=result, location=save_artifact(artifact, out if is_url(out) else Path(out)))


def train_model(overrides: Sequence[str], command: str, step: ProgressStep = no_progress) -> Trained:
    """The whole of ``cardiospike train``: compose with ``overrides``, load, train, record ``command``, save."""
    return TrainingRun.compose(overrides).execute(command, step)
