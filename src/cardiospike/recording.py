"""The RR recording type, the column names and input formats shared by readers, writers and the detector.

This module imports nothing from the rest of the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

#: Column names of the competition format (``id,time,x[,y]``) and of scored output.
ID = "id"
TIME = "time"
RR = "x"
LABEL = "y"
PROBA = "anomaly_proba"
ERROR = "error"

#: The input formats readers know ("auto": sniffed from the content).
Format = Literal["auto", "csv", "text", "json"]
FORMATS: tuple[Format, ...] = ("auto", "csv", "text", "json")

#: RR intervals outside this closed range (ms) are measurement errors: kept, scored and flagged, never dropped.
ERROR_RR_MIN_MS = 300.0
ERROR_RR_MAX_MS = 2000.0
#: The models' input range (ms), an open interval: beats outside it are masked (missing) in every model input. Its top
#: lies below the measurement-error bound because no labelled anomaly has an RR at or above 1,400 ms: such beats
#: are missing data to the models rather than signal.
MODEL_RR_MIN_MS = 300.0
MODEL_RR_MAX_MS = 1400.0
#: The largest value read as an RR interval (ms), in files and in the API alike. Devices write dropped beats as 0 or
#: 65,535 (kept and flagged as measurement errors); a value beyond 100 s is no heart beat interval in milliseconds
#: (microseconds, or another column), and the bound keeps cumulative beat times exact.
MAX_RR_MS = 100_000.0

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int8]


@dataclass(frozen=True, eq=False)
class Recording:
    """One RR-interval recording.

    Attributes
    ----------
    id : str
        Recording (patient session) identifier.
    rr : ndarray of float64
        RR intervals in milliseconds, one per beat, finite and positive.
    time : ndarray of float64
        Time of each beat in milliseconds, strictly increasing.
    labels : ndarray of int8 or None
        1 where a beat lies inside an anomaly episode, 0 elsewhere; None when unlabelled.
    """

    id: str
    rr: FloatArray
    time: FloatArray
    labels: IntArray | None = None

    def __post_init__(self) -> None:
        if self.rr.ndim != 1 or self.time.shape != self.rr.shape:
            raise ValueError(f"recording {self.id!r}: rr and time must be 1-D arrays of one length")
        if self.labels is not None and self.labels.shape != self.rr.shape:
            raise ValueError(f"recording {self.id!r}: labels must have one value per beat")

    def __len__(self) -> int:
        return int(self.rr.shape[0])

    @classmethod
    def from_rr(
        cls,
        rr: NDArray[np.floating] | list[float],
        *,
        id: str | int = "recording",
        time: NDArray[np.floating] | list[float] | None = None,
        labels: NDArray[np.integer] | list[int] | None = None,
    ) -> Recording:
        """Build a recording; without ``time``, beats are timed by the cumulative sum of RR from 0."""
        rr_arr = np.asarray(rr, dtype=np.float64)
        time_arr = time_from_rr(rr_arr) if time is None else np.asarray(time, dtype=np.float64)
        label_arr = None if labels is None else np.asarray(labels, dtype=np.int8)
        return cls(id=str(id), rr=rr_arr, time=time_arr, labels=label_arr)


def time_from_rr(rr: FloatArray) -> FloatArray:
    """Beat times as in the competition data: 0 for the first beat, then the running sum of the next RRs."""
    time = np.cumsum(rr, dtype=np.float64)
    return time - rr[0] if rr.size else time


def measurement_errors(
    rr: NDArray[np.floating], rr_min: float = ERROR_RR_MIN_MS, rr_max: float = ERROR_RR_MAX_MS
) -> NDArray[np.bool_]:
    """Flag RR intervals outside the physiological range ``[rr_min, rr_max]`` as measurement errors."""
    return (rr < rr_min) | (rr > rr_max)


def in_model_range(
    rr: NDArray[np.floating], rr_min: float = MODEL_RR_MIN_MS, rr_max: float = MODEL_RR_MAX_MS
) -> NDArray[np.bool_]:
    """Beats inside the models' open input range ``(rr_min, rr_max)``; the others are masked in every model input.

    NaN (a window's padding past either end of a recording) compares false, so it is outside.
    """
    rr = np.asarray(rr, dtype=np.float64)
    return (rr > rr_min) & (rr < rr_max)
