"""Request and response bodies of the API (pydantic models; they also make the OpenAPI schema at ``/docs``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from cardiospike.recording import MAX_RR_MS, first_time_not_after
from cardiospike.summary import Episode

#: One RR interval in ms: a JSON number (strict: no strings, no booleans) in [0, MAX_RR_MS], the rule of the file
#: readers too. Values outside the physiological range (0 included: a dropped beat) are scored and flagged as errors.
RRValue = Annotated[float, Field(strict=True, ge=0, le=MAX_RR_MS, allow_inf_nan=False)]
#: One beat time in ms: a finite JSON number.
TimeValue = Annotated[float, Field(strict=True, allow_inf_nan=False)]
StudyId = Annotated[str, Field(min_length=1, max_length=256, description="Recording (study) identifier, echoed back.")]
#: The id of a recording of an uploaded file: any id the file readers read (a column's value, a file's name), so
#: not bounded as a study id is; the body limit bounds it.
RecordingId = Annotated[str, Field(min_length=1, description="Id of a recording of the uploaded file.")]
#: 0/1 per beat, as in the competition files and the scored CSV.
Flag = Annotated[int, Field(ge=0, le=1)]


#: Where an answer's messages are shown: a REST client (options named as this API's fields) or the web page (named
#: as its controls).
Hints = Literal["rest", "web"]
HINTS: tuple[Hints, ...] = get_args(Hints)


class PredictRequest(BaseModel):
    """One RR recording to score."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"study": "patient-1", "sequence": [812, 790, 805, 1210, 640, 800]}]},
    )

    study: StudyId
    sequence: list[RRValue] = Field(
        min_length=1,
        description="RR intervals, one per beat, at most max_beats (setting) of them, in milliseconds unless `unit` "
        "reads them in seconds (then each at most 100 s).",
    )
    times: list[TimeValue] | None = Field(
        None,
        min_length=1,
        description="Time of each beat, in the unit of `sequence`, strictly increasing: exactly as many values as "
        "`sequence` has (one per beat; a list of another length is refused). Default: the cumulative sum of RR, first "
        "beat at 0.",
    )
    unit: Literal["auto", "ms", "s"] = Field(
        "auto",
        description="Unit of `sequence` and `times`: ms, s, or auto (seconds where the median RR is below 10, as the "
        "file readers decide). The answer's `unit` says which was taken.",
    )
    labels: list[Flag] | None = Field(
        None,
        min_length=1,
        description="Reference labels (0/1 per beat, as many as `sequence`): the answer's `reference` then compares "
        "the model's flags with them.",
    )
    hints: Hints = Field(
        "rest", description="How messages name options: as this API's fields (rest) or as the web page's controls."
    )

    @field_validator("labels")
    @classmethod
    def _labels_match_sequence(cls, labels: list[int] | None, info: ValidationInfo) -> list[int] | None:
        sequence = info.data.get("sequence")
        if labels is not None and sequence is not None and len(labels) != len(sequence):
            raise PydanticCustomError(
                "labels_length",
                "{n_labels} labels for {n_beats} RR values: expected one label per beat",
                {"n_labels": len(labels), "n_beats": len(sequence)},
            )
        return labels

    @field_validator("times")
    @classmethod
    def _times_match_sequence(cls, times: list[float] | None, info: ValidationInfo) -> list[float] | None:
        sequence = info.data.get("sequence")
        if times is None or sequence is None:  # sequence itself invalid: its own error says why
            return times
        if len(times) != len(sequence):
            raise PydanticCustomError(
                "times_length",
                "{n_times} times for {n_beats} RR values: expected one time per beat",
                {"n_times": len(times), "n_beats": len(sequence)},
            )
        back = first_time_not_after(np.asarray(times, dtype=np.float64), np.asarray(sequence, dtype=np.float64))
        if back is not None:
            raise PydanticCustomError(
                "times_not_increasing",
                "times must increase: times[{index}] is not after times[{previous}]",
                {"index": back, "previous": back - 1},
            )
        return times


class LegacyPredictRequest(BaseModel):
    """The request of the original hackathon service (unknown fields are ignored, as there)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"study": "patient-1", "sequence": [812, 790, 805]}]})

    study: StudyId
    sequence: list[RRValue] = Field(
        min_length=1,
        description="RR intervals in milliseconds, one per beat, at most max_beats (setting) of them.",
    )


class SummaryOut(BaseModel):
    """Episodes and time-domain HRV of the recording; HRV uses only beats that are not measurement errors."""

    n_beats: int = Field(description="Beats in the recording.")
    n_valid: int = Field(description="Beats that are not measurement errors (the beats HRV is computed on).")
    n_episodes: int
    anomaly_share: float = Field(description="Share of beats flagged anomalous (0-1).")
    mean_rr: float | None = Field(description="Mean RR (ms); null without valid beats.")
    sdnn: float | None = Field(description="Sample standard deviation of RR (ms); null with fewer than 2 valid beats.")
    rmssd: float | None = Field(description="RMS of successive differences of consecutive valid beats (ms).")
    pnn50: float | None = Field(description="Percentage of those successive differences larger than 50 ms.")
    mean_hr: float | None = Field(description="Mean instantaneous heart rate, 60000 / RR (beats per minute).")


class LegacyPredictResponse(BaseModel):
    """The response of the original hackathon service."""

    study: str
    anomaly_proba: list[float] = Field(description="Anomaly probability of each beat.")
    anomaly_thresh: float = Field(description="Decision threshold: a beat is anomalous where its probability >= it.")
    errors: list[Flag] = Field(description="1 where the RR interval is a measurement error, per beat.")


class ReferenceOut(BaseModel):
    """The model's flags against the recording's reference labels, beat by beat."""

    n_labelled: int = Field(description="Beats labelled anomalous.")
    n_missed: int = Field(description="Beats labelled anomalous and not flagged.")
    n_false: int = Field(description="Beats flagged and not labelled anomalous.")
    precision: float
    recall: float
    f1: float = Field(description="The competition's F1 (1 where there is nothing to find and nothing flagged).")


class PredictResponse(LegacyPredictResponse):
    """Per-beat probabilities and flags, the anomaly episodes and a summary of the recording."""

    model_version: str
    unit: Literal["ms", "s"] = Field("ms", description="The unit `sequence` was read in (see the request's `unit`).")
    unit_note: str | None = Field(None, description="Why that unit, where it was not plainly milliseconds.")
    is_anomaly: list[Flag] = Field(description="1 where the beat is anomalous (probability >= threshold).")
    episodes: list[Episode]
    summary: SummaryOut
    warnings: list[str] = Field(
        default_factory=list,
        description="What may be read wrongly (e.g. mostly measurement errors: RR in another unit or column?).",
    )
    reference: ReferenceOut | None = Field(None, description="With the request's `labels`: flags against them.")


class DemoRecording(BaseModel):
    """A synthetic recording for trying the service: simulated, seeded, never a patient's data."""

    study: str
    sequence: list[float] = Field(description="RR intervals in milliseconds, one per beat.")
    times: list[float] = Field(description="Time of each beat in ms (the cumulative sum of RR, first beat at 0).")
    synthetic: Literal[True] = Field(True, description="Always true: the recording is simulated.")


class ParsedRecording(BaseModel):
    """One recording read from an uploaded file, as the readers of ``cardiospike predict`` read it."""

    id: str = Field(description="The file's id of the recording, else the file's name without its extension.")
    rr: list[float] = Field(description="RR intervals in milliseconds, one per beat (converted where in seconds).")
    time: list[float] = Field(description="Time of each beat in ms, as in the file or the cumulative sum of RR.")
    labels: list[Flag] | None = Field(None, description="Reference labels of the file (0/1 per beat), if any.")


class ParseResponse(BaseModel):
    """The recordings of an uploaded file, in file order, and how it was read."""

    source: str = Field(description="The uploaded file's name.")
    format: str = Field(description="The format it was read as (csv, text, json ...).")
    taken_as: str = Field(description="And why: as asked, from the extension, or from the content.")
    unit: Literal["ms", "s"] = Field(description="The unit RR had in the file (they are given here in ms).")
    unit_note: str | None = Field(None, description="Why that unit, where it was not plainly milliseconds.")
    warnings: list[str] = Field(
        default_factory=list, description="What may be read wrongly (a column of ids not read as ids ...)."
    )
    recordings: list[ParsedRecording]


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    status: Literal["ready"] = "ready"
    model_version: str


class VersionResponse(BaseModel):
    """What is serving: the package and a summary of the model's manifest (null where the manifest lacks it)."""

    package_version: str = Field(description="Version of the cardiospike package serving.")
    model_version: str
    model_package_version: str | None = Field(description="Version of cardiospike that trained the model.")
    model_created: str | None
    threshold: float
    feature_set: dict[str, Any] = Field(description="The feature set the model was trained on.")
    training_data_sha256: str | None
    cv_f1: float | None = Field(description="Per-beat F1 of the outer folds of nested cross-validation.")


class ErrorItem(BaseModel):
    """One problem of a request: where (``loc``), what (``msg``) and its kind (``type``); values are not echoed."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: a message that says what is wrong and where, and the problems one by one."""

    detail: str
    errors: list[ErrorItem] = Field(default_factory=list)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of error responses, so clients and schema checks know every status a route returns."""
    text = {
        400: "The body cannot be read (e.g. JSON nested too deeply).",
        401: "Missing or wrong X-API-Key (only where the service has an API key).",
        413: "The body is larger than the limit.",
        422: "The input is invalid: the message says what and where.",
        503: "The model is not loaded (yet).",
    }
    return {code: {"model": ErrorResponse, "description": text[code]} for code in codes}
