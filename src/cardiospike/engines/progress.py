"""How a run tells what it does: notes, then the partitions as they are done (a progress bar, a log ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cardiospike.engines.partitions import PartitionResult


class Progress(Protocol):
    """What a run reports to; every method is called from the thread that started the run."""

    def note(self, message: str) -> None:
        """Something worth saying (the cluster's dashboard, a repartition, a compilation)."""

    def start(self, partitions: int) -> None:
        """Scoring begins: ``partitions`` to go."""

    def done(self, result: PartitionResult) -> None:
        """One partition is done (scored, skipped, or failed)."""


class Silent:
    """Progress that says nothing."""

    def note(self, message: str) -> None:
        pass

    def start(self, partitions: int) -> None:
        pass

    def done(self, result: PartitionResult) -> None:
        pass
