"""The RR recording type, the column names and input formats shared by readers, writers and the detector.

This module imports nothing from the rest of the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import NDArray

#: Column names of the competition format (``id,time,x[,y]``) and of scored output.
ID = "id"
TIME = "time"
RR = "x"
LABEL = "y"
PROBA = "anomaly_proba"
ERROR = "error"
#: The column of the reference labels in scored output (the doctors' ``y`` of a labelled input), after the predicted
#: ``y``.
REFERENCE = "label"

#: The input formats readers know ("auto": sniffed from the extension and the content). Their readers are in
#: ``cardiospike.data.formats``; the names live here so that the command line's help needs nothing else.
#: ``wfdb`` reads beat annotations, or a record's ECG signal where no annotation is beside its header (or the signal
#: file, ``.dat``, is given); ``edf`` reads EDF/EDF+ ECG, ``ecg`` a CSV, text or ``.npy`` of ECG samples.
Format = Literal["auto", "csv", "text", "hrm", "json", "ndjson", "npy", "fit", "wfdb", "edf", "ecg", "parquet"]
FORMATS: tuple[Format, ...] = ("auto", "csv", "text", "hrm", "json", "ndjson", "npy", "fit", "wfdb", "edf", "ecg")
#: Formats read from files only, never from content a service receives: Parquet, whose reader trusts the sizes a
#: file declares (a small upload could claim gigabytes once decompressed).
FILE_FORMATS: tuple[Format, ...] = ("parquet",)

#: Units RR (and times) may be given in; "auto" reads seconds where the median RR is below :data:`SECONDS_BELOW`.
Unit = Literal["auto", "ms", "s"]
UNITS: tuple[Unit, ...] = ("auto", "ms", "s")
#: A unit RR were found or said to be in (``auto`` decided).
RRUnit = Literal["ms", "s"]


#: No RR interval in milliseconds is below 10 (a heart rate of 6,000 per minute), and none in seconds above it.
SECONDS_BELOW = 10.0


@dataclass(frozen=True)
class Reading:
    """How to read an input, the same on every surface: the options of ``cardiospike predict`` (``--format``,
    ``--unit``, ``--rr-column``, ``--time-column``, ``--id-column``, ``--ignore-time``, ``--sampling-rate``,
    ``--ecg-channel``), the REST API's upload fields, the web page's reading options, and the keyword arguments of
    :func:`cardiospike.data.read_recordings` (:meth:`kwargs`).

    ``sampling_rate`` (Hz) reads a CSV, text or ``.npy`` file as ECG samples; ``ecg_channel`` (a name, or a number
    from 1) chooses the lead of an ECG record of several."""

    fmt: Format = "auto"
    unit: Unit = "auto"
    rr_column: str | None = None
    time_column: str | None = None
    id_column: str | None = None
    use_time: bool = True
    sampling_rate: float | None = None
    ecg_channel: str | None = None

    @classmethod
    def of_options(
        cls,
        fmt: str,
        unit: str,
        rr_column: str | None,
        time_column: str | None,
        id_column: str | None,
        ignore_time: bool,
        sampling_rate: float | None = None,
        ecg_channel: str | None = None,
    ) -> Reading:
        """As the command line's options and the service's form fields say it (their values checked there)."""
        return cls(
            fmt=cast(Format, fmt),
            unit=cast(Unit, unit),
            rr_column=rr_column,
            time_column=time_column,
            id_column=id_column,
            use_time=not ignore_time,
            sampling_rate=sampling_rate,
            ecg_channel=ecg_channel,
        )

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``read_recordings`` and ``parse_recordings`` that read as this says."""
        return asdict(self)


#: RR intervals outside this closed range (ms) are measurement errors: kept, scored and flagged, never dropped.
ERROR_RR_MIN_MS = 300.0
ERROR_RR_MAX_MS = 2000.0
#: The models' input range (ms), an open interval: beats outside it are masked (missing) in every model input. Its top
#: lies below the measurement-error bound because no labelled anomaly has an RR at or above 1,400 ms: such beats
#: are missing data to the models rather than signal.
MODEL_RR_MIN_MS = 300.0
MODEL_RR_MAX_MS = 1400.0
#: A recording with a larger share of its beats outside the measurement range is probably read wrongly (RR in
#: another unit or column): the commands warn about it (:func:`mostly_errors`), naming the first few of them.
MOSTLY_ERRORS = 0.5
NAMED_MOSTLY_ERRORS = 5
#: The largest value read as an RR interval (ms), in files and in the API alike. Devices write dropped beats as 0 or
#: 65,535 (kept and flagged as measurement errors); a value beyond 100 s is no heart beat interval in milliseconds
#: (microseconds, or another column), and the bound keeps cumulative beat times exact.
MAX_RR_MS = 100_000.0
#: The most beats of one recording that a limit anywhere allows (the service's ``max_beats`` setting, the demo
#: command): a day of beats at 200 a minute is under 300,000.
MAX_RECORDING_BEATS = 1_000_000

FloatArray = NDArray[np.float64]
LabelArray = NDArray[np.int8]


@dataclass(frozen=True, eq=False)
class Recording:
    """One RR-interval recording.

    Attributes
    ----------
    id : str
        Recording (patient session) identifier.
    rr : ndarray of float64
        RR intervals in milliseconds, one per beat. Files give values from 0 to :data:`MAX_RR_MS`; built in Python
        (:meth:`from_rr`), a value may also be negative or not finite. Every value outside the measurement range
        (0, NaN and infinities included) is kept, scored and flagged as a measurement error.
    time : ndarray of float64
        Time of each beat in milliseconds, finite; increasing (read from a file: strictly increasing).
    labels : ndarray of int8 or None
        1 where a beat lies inside an anomaly episode, 0 elsewhere; None when unlabelled.
    unit : {"ms", "s"}
        The unit RR had where the recording was read or given; ``rr`` itself is always in milliseconds.
    doubtful : ndarray of bool or None
        True where an RR interval is doubtful although inside the measurement range (beats detected in an ECG whose
        signal quality is low): it is kept as it is, and flagged as a measurement error (:meth:`errors`). None:
        none is.
    """

    id: str
    rr: FloatArray
    time: FloatArray
    labels: LabelArray | None = None
    unit: RRUnit = "ms"
    doubtful: NDArray[np.bool_] | None = None

    def __post_init__(self) -> None:
        if self.rr.ndim != 1 or self.time.shape != self.rr.shape:
            raise ValueError(f"recording {self.id!r}: rr and time must be 1-D arrays of one length")
        if self.labels is not None and self.labels.shape != self.rr.shape:
            raise ValueError(f"recording {self.id!r}: labels must have one value per beat")
        if self.doubtful is not None and self.doubtful.shape != self.rr.shape:
            raise ValueError(f"recording {self.id!r}: doubtful must have one value per beat")

    def __len__(self) -> int:
        return int(self.rr.shape[0])

    def errors(self, rr_min: float = ERROR_RR_MIN_MS, rr_max: float = ERROR_RR_MAX_MS) -> NDArray[np.bool_]:
        """The measurement errors: RR outside ``[rr_min, rr_max]`` (:func:`measurement_errors`), and the doubtful
        intervals (:attr:`doubtful`)."""
        errors = measurement_errors(self.rr, rr_min, rr_max)
        return errors if self.doubtful is None else errors | self.doubtful

    @classmethod
    def from_rr(
        cls,
        rr: NDArray[np.number] | Sequence[float],
        *,
        id: str | int = "recording",
        time: NDArray[np.number] | Sequence[float] | None = None,
        labels: NDArray[np.integer] | Sequence[int] | None = None,
        unit: RRUnit = "ms",
    ) -> Recording:
        """Build a recording from RR intervals in milliseconds, checking its shape but keeping every value.

        Parameters
        ----------
        rr : array-like of float
            RR intervals in ms, one per beat. Values that are not finite or not positive are kept
            as they are: the detector scores them and flags them as measurement errors, as it does 0 or 65,535.
        id : str or int
            Recording identifier.
        time : array-like of float, optional
            Time of each beat in ms: one finite value per beat, never decreasing. Without it, beats are timed
            by the cumulative sum of RR from 0 for the first beat, and a time does not advance over an RR that
            is not a positive finite number (so times are never NaN).
        labels : array-like of int, optional
            0/1 per beat (1: inside a labelled anomaly episode).
        unit : {"ms", "s"}
            The unit the values had before they were converted to ms (kept on the recording, see :attr:`unit`).

        Raises
        ------
        ValueError
            For RR that are not numbers or not one-dimensional, times of another length, not finite or
            decreasing, and labels of another length or other than 0/1.
        """
        rr_arr = _float_array(rr, "rr")
        if rr_arr.ndim != 1:
            raise ValueError(f"rr must be a one-dimensional sequence, not of shape {rr_arr.shape}")
        if time is None:
            time_arr = time_from_rr(rr_arr)
        else:
            time_arr = _float_array(time, "time")
            if time_arr.shape != rr_arr.shape:
                raise ValueError(f"{time_arr.size} times for {rr_arr.size} RR values: expected one time per beat")
            bad = np.flatnonzero(~np.isfinite(time_arr))
            if bad.size:
                raise ValueError(f"time[{bad[0]}] is not a finite number")
            back = np.flatnonzero(np.diff(time_arr) < 0)
            if back.size:
                raise ValueError(f"time must not decrease: time[{back[0] + 1}] is before time[{back[0]}]")
        label_arr = None
        if labels is not None:
            raw = np.asarray(labels)
            if raw.shape != rr_arr.shape or not np.isin(raw, (0, 1)).all():
                raise ValueError("labels must be 0 or 1, one per beat")
            label_arr = raw.astype(np.int8)
        return cls(id=str(id), rr=rr_arr, time=time_arr, labels=label_arr, unit=unit)


def _float_array(values: object, name: str) -> FloatArray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers only") from None


def time_from_rr(rr: FloatArray) -> FloatArray:
    """Beat times as in the competition data: 0 for the first beat, then the running sum of the next RRs.

    An RR that is not a positive finite number (a dropped beat written as 0, a NaN given in Python) adds nothing,
    so times stay finite and never go back.
    """
    steps = np.where(np.isfinite(rr) & (rr > 0), rr, 0.0)
    time = np.cumsum(steps, dtype=np.float64)
    return time - steps[0] if rr.size else time


def first_time_not_after(time: NDArray[np.floating], rr: NDArray[np.floating]) -> int | None:
    """The first beat whose time is not after the beat before it, or None: times must increase, and may stay put
    only over an RR that is not a positive number (a dropped beat written as 0, which :func:`time_from_rr` does not
    advance over either), so that times computed from RR are accepted back."""
    with np.errstate(over="ignore", invalid="ignore"):  # times near +-1e308: the difference overflows to inf
        steps = np.diff(time)
    dropped = ~(np.isfinite(rr[1:]) & (rr[1:] > 0))
    back = np.flatnonzero(~(steps > 0) & ~((steps == 0) & dropped))
    return int(back[0]) + 1 if back.size else None


def positive_median(values: NDArray[np.floating]) -> float | None:
    """The median of the positive finite values (None without any): RR below :data:`SECONDS_BELOW` are seconds."""
    positive = values[np.isfinite(values) & (values > 0)]
    return float(np.median(positive)) if positive.size else None


def mostly_errors(errors: int, n_beats: int) -> bool:
    """Whether more than :data:`MOSTLY_ERRORS` of a recording's ``n_beats`` beats are measurement errors."""
    return errors > MOSTLY_ERRORS * n_beats


def measurement_errors(
    rr: NDArray[np.floating], rr_min: float = ERROR_RR_MIN_MS, rr_max: float = ERROR_RR_MAX_MS
) -> NDArray[np.bool_]:
    """Flag RR intervals outside the physiological range ``[rr_min, rr_max]`` as measurement errors (NaN too)."""
    return ~((rr >= rr_min) & (rr <= rr_max))


def in_model_range(
    rr: NDArray[np.floating], rr_min: float = MODEL_RR_MIN_MS, rr_max: float = MODEL_RR_MAX_MS
) -> NDArray[np.bool_]:
    """Beats inside the models' open input range ``(rr_min, rr_max)``; the others are masked in every model input.

    NaN (a window's padding past either end of a recording) compares false, so it is outside.
    """
    rr = np.asarray(rr, dtype=np.float64)
    return (rr > rr_min) & (rr < rr_max)
