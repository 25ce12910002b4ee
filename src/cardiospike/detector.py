"""The detector: loads a model artifact and scores recordings end to end."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cardiospike.artifact import Artifact, ArtifactError, load_artifact
from cardiospike.errors import first_line
from cardiospike.features import features_for_recordings
from cardiospike.live import BLOCK, BeatStream
from cardiospike.models.forest import Runtime
from cardiospike.parallel import ordered_map, resolve_jobs
from cardiospike.recording import (
    ERROR,
    ID,
    LABEL,
    PROBA,
    REFERENCE,
    RR,
    TIME,
    FloatArray,
    Recording,
    Unit,
)

if TYPE_CHECKING:
    import pandas as pd

#: Beats scored in one call: many recordings are scored in batches of at most this many beats, and a longer
#: recording in pieces of this many, each with the beats around it that its decisions look at
#: (:attr:`Detector.decision_reach`), which gives the decisions of the whole recording scored at once. It bounds the
#: memory of a call (a piece's features, not the whole recording's) and makes calls for every thread to score.
BATCH_BEATS = 16_384
#: Columns of the scored CSV, in order: the input's id, time and RR, then per beat the predicted label, the anomaly
#: probability and the measurement-error flag.
SCORED_COLUMNS = (ID, TIME, RR, LABEL, PROBA, ERROR)
#: Times and RR are written to the microsecond (3 decimals of a millisecond): see :func:`_beat_columns`.
MS_DECIMALS = 3


def batches_of(recordings: Sequence[Recording], max_beats: int | None = None) -> Iterator[list[Recording]]:
    """Consecutive recordings in groups of at most ``max_beats`` beats (default :data:`BATCH_BEATS`; a longer
    recording is a group of its own)."""
    max_beats = BATCH_BEATS if max_beats is None else max_beats
    batch: list[Recording] = []
    beats = 0
    for rec in recordings:
        if batch and beats + len(rec) > max_beats:
            yield batch
            batch, beats = [], 0
        batch.append(rec)
        beats += len(rec)
    if batch:
        yield batch


@dataclass(frozen=True)
class _Call:
    """One call of the model: whole recordings, or a piece of one (``offset``: its first beat in the recording) of
    which the beats ``keep`` (counted from the piece's first) are kept."""

    recordings: list[Recording]
    offset: int | None = None
    keep: slice | None = None


def _calls(batch: list[Recording], piece_beats: int, margin: int) -> list[_Call]:
    """The calls that score a batch of :func:`batches_of`: the batch itself, or a longer recording's pieces of
    ``piece_beats`` beats, each with ``margin`` beats more on either side (fewer at the recording's ends)."""
    rec = batch[0]
    n = len(rec)
    if len(batch) > 1 or n <= piece_beats:
        return [_Call(batch)]
    calls = []
    for first in range(0, n, piece_beats):
        start, stop = max(first - margin, 0), min(first + piece_beats + margin, n)
        doubtful = None if rec.doubtful is None else rec.doubtful[start:stop]
        piece = Recording(rec.id, rec.rr[start:stop], rec.time[start:stop], unit=rec.unit, doubtful=doubtful)
        calls.append(_Call([piece], start, slice(first - start, min(first + piece_beats, n) - start)))
    return calls


def default_model_path() -> Path:
    """Folder of the model shipped inside the package."""
    return Path(str(files("cardiospike") / "default_model"))


@dataclass(frozen=True, eq=False)
class ScoredRecording:
    """A recording with, per beat, the anomaly probability, the anomaly flag and the measurement-error flag."""

    recording: Recording
    proba: FloatArray
    is_anomaly: NDArray[np.bool_]
    error: NDArray[np.bool_]
    threshold: float

    def to_frame(self) -> pd.DataFrame:
        """One row per beat, in input order: ``id,time,x,y,anomaly_proba,error`` (y is the predicted label), with
        the recording's own labels as ``label`` after ``y`` where it has them."""
        return scored_frame([self])


def scored_names(labelled: bool) -> tuple[str, ...]:
    """The scored output's columns, in order: :data:`SCORED_COLUMNS`, with :data:`REFERENCE` after the predicted
    ``y`` where the input is ``labelled``. The one place that decides them (files, the batch route, the docs)."""
    if not labelled:
        return SCORED_COLUMNS
    at = SCORED_COLUMNS.index(LABEL) + 1
    return (*SCORED_COLUMNS[:at], REFERENCE, *SCORED_COLUMNS[at:])


def is_labelled(recordings: Sequence[Recording]) -> bool:
    """Whether the scored output of ``recordings`` has the :data:`REFERENCE` column: any of them has labels."""
    return any(r.labels is not None for r in recordings)


def scored_columns(scored: Sequence[ScoredRecording], labelled: bool | None = None) -> dict[str, Any]:
    """The scored output's columns (:func:`scored_names`) of many scored recordings, laid end to end.

    ``labelled``: whether to add the reference labels; None decides by these recordings (:func:`is_labelled`). A
    caller that writes many batches into one file decides once for all of them, so that every batch has the same
    columns; a recording without labels among labelled ones gets empty (null) cells there.

    The ids are an arrow array taken from the recordings' ids: no Python object per beat.
    """
    from cardiospike.data.arrow import arrow_numbers, arrow_strings

    recordings = [s.recording for s in scored]
    labelled = is_labelled(recordings) if labelled is None else labelled
    lengths = [len(r) for r in recordings]
    ids = arrow_strings([r.id for r in recordings]).take(arrow_numbers(np.repeat(np.arange(len(scored)), lengths)))
    columns = dict(zip(SCORED_COLUMNS, (ids, *_beat_columns(scored)), strict=True))
    if labelled:
        columns[REFERENCE] = _reference_labels(recordings)
    return {name: columns[name] for name in scored_names(labelled)}


def scored_frame(scored: Sequence[ScoredRecording], labelled: bool | None = None) -> pd.DataFrame:
    """:func:`scored_columns` as a pandas DataFrame, the ids as Python strings (reference labels, where some
    recordings have none, as pandas' nullable ``Int8``)."""
    import pandas as pd  # only where a table is wanted: scoring itself needs no pandas
    import pyarrow as pa

    columns = scored_columns(scored, labelled)
    columns[ID] = columns[ID].to_numpy(zero_copy_only=False)
    if isinstance(columns.get(REFERENCE), pa.Array):
        columns[REFERENCE] = pd.array(columns[REFERENCE].to_pandas(), dtype="Int8")
    return pd.DataFrame(columns)


def _beat_columns(scored: Sequence[ScoredRecording]) -> tuple[np.ndarray, ...]:
    """The scored CSV's columns after the id, of scored recordings laid end to end (none: empty columns).

    Times and RR are rounded to the microsecond here, where they are written, not where they are read: those
    converted from seconds carry the noise of the product (``0.812 * 1000`` is ``812.0000000000001``, a time
    ``64879.99999999999``), which no device measures, and the model scores the values as read. A microsecond, not
    less: the times of dates (epoch milliseconds, about 1.6e12) hold no finer digits in a float64 either.
    """

    def joined(arrays: list[NDArray[Any]], dtype: type) -> NDArray[Any]:
        return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)

    return (
        np.round(joined([s.recording.time for s in scored], np.float64), MS_DECIMALS),
        np.round(joined([s.recording.rr for s in scored], np.float64), MS_DECIMALS),
        joined([s.is_anomaly for s in scored], np.int8),
        np.round(joined([s.proba for s in scored], np.float64), 6),
        joined([s.error for s in scored], np.int8),
    )


def _reference_labels(recordings: Sequence[Recording]) -> Any:
    """The recordings' own labels laid end to end: int8, or an arrow int8 array with nulls for the beats of
    recordings that have none."""
    if not recordings:
        return np.zeros(0, dtype=np.int8)
    if all(r.labels is not None for r in recordings):
        return np.concatenate([r.labels for r in recordings if r.labels is not None]).astype(np.int8)
    import pyarrow as pa

    values = np.concatenate([np.zeros(len(r), np.int8) if r.labels is None else r.labels for r in recordings])
    missing = np.concatenate([np.full(len(r), r.labels is None) for r in recordings])
    return pa.array(values.astype(np.int8), type=pa.int8(), mask=missing)


class Detector:
    """Scores RR recordings with a trained artifact.

    Parameters
    ----------
    artifact : Artifact
        A loaded model artifact (see :func:`load_detector`).
    runtime : {"auto", "compiled", "lightgbm"}
        How the forest predicts (:mod:`cardiospike.models.forest`): the same probabilities, at different speeds.
    on_compile : callable, optional
        Called with a message before the forest is compiled for this CPU (once per model; it takes a while).
    jobs : int or None
        Threads that score many recordings, or the pieces of a long one, at once (:meth:`score_batches`): 1 (the
        default) scores in the calling thread; None or 0 uses every core this process may use (see
        :func:`~cardiospike.parallel.resolve_jobs`). The same probabilities and flags, to the bit, whatever the
        number.
    """

    def __init__(
        self,
        artifact: Artifact,
        runtime: Runtime = "auto",
        on_compile: Callable[[str], None] | None = None,
        jobs: int | None = 1,
    ) -> None:
        self.artifact = artifact
        self.jobs = resolve_jobs(jobs)
        # Threads, not processes: the features (numpy), the forest (through ctypes) and ONNX Runtime release the GIL.
        self._executor = ThreadPoolExecutor(self.jobs, "cardiospike-scoring") if self.jobs > 1 else None
        try:
            artifact.model.load(runtime, on_compile)
        except (ImportError, OSError, RuntimeError) as exc:  # llvmlite's and LightGBM's errors
            raise ArtifactError(f"the model's trees cannot be loaded: {first_line(exc)}") from None
        self.network = None
        if artifact.network is not None:
            # ONNX Runtime, not torch: serving needs neither torch nor Lightning.
            from cardiospike.models.nn.runtime import OnnxBeatNet

            try:
                self.network = OnnxBeatNet(artifact.network)
            except Exception as exc:  # ONNX Runtime's errors (InvalidProtobuf, InvalidGraph ...) share no base class
                raise ArtifactError(f"the model's network cannot be loaded: {first_line(exc)}") from None
        self._check()

    def _check(self) -> None:
        """Score a synthetic recording once: a model that cannot, or gives no probabilities, fails at load."""
        probe = _probe_recording()
        try:
            proba = self.raw_proba([probe])
        except Exception as exc:  # the native libraries' errors share no base class
            raise ArtifactError(f"the model cannot score a recording: {first_line(exc)}") from None
        if proba.shape != (len(probe),) or not (np.isfinite(proba) & (proba >= 0) & (proba <= 1)).all():
            raise ArtifactError("the model gives no valid probabilities (NaN or outside [0, 1]) on a test recording")

    @property
    def threshold(self) -> float:
        return self.artifact.threshold

    @property
    def model_version(self) -> str:
        return self.artifact.model_version

    @property
    def reach(self) -> int:
        """The furthest (in beats) a beat's probability looks from it, either way: the features', or the network's
        (its window and its inputs). A beat's probability is a function of the beats within ``reach`` of it."""
        return max(self.artifact.features.reach, 0 if self.network is None else self.network.reach)

    def raw_proba(self, recordings: Sequence[Recording], offsets: Sequence[int] | None = None) -> FloatArray:
        """Anomaly probability of every beat of the recordings (stacked), before post-processing.

        One feature matrix for all the recordings (features never cross a recording's edge) and one call of the
        forest, whatever the number of recordings. ``offsets``: each recording is a piece that starts at that beat
        of a longer recording (see :meth:`score_piece`); default: whole recordings.
        """
        lengths = [len(r) for r in recordings]
        features = features_for_recordings(recordings, self.artifact.features)
        lgbm = self.artifact.model.anomaly_proba(features)
        stacker = self.artifact.stacker
        if stacker is None or self.network is None:
            return lgbm
        # A network over the same feature matrix reads the one just computed rather than building it again.
        cut = np.cumsum(lengths)[:-1]
        shared = np.split(features, cut) if self.network.features == self.artifact.features else None
        network = np.concatenate(self.network.predict_many([r.rr for r in recordings], shared, offsets))
        return stacker.anomaly_proba(np.column_stack([lgbm, network]))

    def stream(
        self,
        lookahead: int | None = None,
        block: int = BLOCK,
        history: int | None = None,
        threshold: float | None = None,
        unit: Unit = "auto",
    ) -> BeatStream:
        """Live scoring of a beat stream (see :mod:`cardiospike.live`): feed it RR intervals as they arrive, in
        ``unit`` (``auto``: decided on the first beats as the file readers decide)."""
        return BeatStream(self, lookahead, block, history, threshold, unit)

    def score(
        self,
        recording: Recording | ArrayLike | pd.Series | pd.DataFrame,
        threshold: float | None = None,
        *,
        unit: Unit = "auto",
        rr_column: str | None = None,
        time_column: str | None = None,
        id_column: str | None = None,
    ) -> ScoredRecording:
        """Score one recording; ``threshold`` overrides the model's decision threshold.

        ``recording`` may also be RR intervals (a 1-D array, list or pandas Series) or a DataFrame with an RR
        column; ``unit`` and the columns say how to read those (see :func:`cardiospike.data.as_recording`): RR in
        seconds are taken as such where ``unit="auto"`` finds them.
        """
        if not isinstance(recording, Recording):
            from cardiospike.data.coerce import as_recording  # pandas: only for inputs that are not recordings

            recording = as_recording(
                recording, unit=unit, rr_column=rr_column, time_column=time_column, id_column=id_column
            )
        return self.score_many([recording], threshold)[0]

    @property
    def decision_reach(self) -> int:
        """Beats beyond which a beat's decision does not look, either way: how far the model looks
        (:attr:`reach`) and, beyond that, what post-processing looks at (smoothing, gaps, the shortest run). A live
        stream waits this long before it decides a beat (:func:`cardiospike.live.default_lookahead`)."""
        post = self.artifact.postprocess
        return self.reach + post.smooth + post.max_gap + post.min_run

    def score_piece(self, recording: Recording, offset: int, threshold: float | None = None) -> ScoredRecording:
        """Score ``recording`` as a piece that starts at beat ``offset`` of a longer recording.

        Its beats further than :attr:`reach` (plus what post-processing looks at) from the piece's ends score exactly
        as in the whole recording: the network's windows are laid as in the whole (see
        :mod:`cardiospike.models.nn.windows`), and every feature looks no further. Live streams score their history
        so.
        """
        return self._score_batch([recording], threshold, [offset])[0]

    def score_batches(
        self,
        recordings: Sequence[Recording],
        threshold: float | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[list[ScoredRecording]]:
        """Score recordings of any number and length, batch by batch (:func:`batches_of`), each batch's scored
        recordings yielded in order as it is done.

        A batch is one call of the model; a recording longer than :data:`BATCH_BEATS` is a batch of its own, scored
        in pieces of that many beats (see :data:`BATCH_BEATS`). With :attr:`jobs` threads, that many calls run at
        once and at most twice as many are started ahead of the batch yielded: memory holds the features of those
        calls, not of all.
        ``progress`` is called with the number of beats of each call as it is done (a piece's kept beats).
        """
        margin = self.decision_reach
        plan: deque[tuple[Recording, int]] = deque()  # per batch: its first recording and its number of calls

        def calls() -> Iterator[_Call]:
            for batch in batches_of(recordings):
                batch_calls = _calls(batch, BATCH_BEATS, margin)
                plan.append((batch[0], len(batch_calls)))
                yield from batch_calls

        def run(call: _Call) -> list[ScoredRecording]:
            offsets = None if call.offset is None else [call.offset]
            return [_kept(s, call.keep) for s in self._score_batch(call.recordings, threshold, offsets)]

        results = ordered_map(run, calls(), self._executor, 2 * self.jobs)
        if progress is not None:
            results = map(lambda scored: _told(progress, scored), results)
        for scored in results:
            first, n_calls = plan.popleft()  # filled by calls() before its calls' results come
            if n_calls == 1:
                yield scored
            else:
                pieces = scored + [piece for _ in range(n_calls - 1) for piece in next(results)]
                yield [_joined(first, pieces)]

    def score_many(
        self,
        recordings: Sequence[Recording],
        threshold: float | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[ScoredRecording]:
        """Score many recordings, in the batches of :meth:`score_batches` (far faster than one call per recording):
        the same probabilities and flags as each scored alone. ``progress``: see :meth:`score_batches`."""
        return [scored for batch in self.score_batches(recordings, threshold, progress) for scored in batch]

    def _score_batch(
        self, recordings: Sequence[Recording], threshold: float | None, offsets: Sequence[int] | None = None
    ) -> list[ScoredRecording]:
        """Score recordings with one call of the model (``offsets``: see :meth:`raw_proba`)."""
        if not recordings:
            return []
        post = self.artifact.postprocess
        if threshold is not None:
            post = replace(post, threshold=float(threshold))
        lengths = np.array([len(r) for r in recordings])
        proba = post.proba(self.raw_proba(recordings, offsets), lengths)
        flags = post.flags(proba, lengths)
        low, high = self.artifact.rr_range
        cut = np.cumsum(lengths)[:-1]
        return [
            ScoredRecording(
                recording=rec,
                proba=p,
                is_anomaly=f,
                error=rec.errors(low, high),
                threshold=post.threshold,
            )
            for rec, p, f in zip(recordings, np.split(proba, cut), np.split(flags, cut), strict=True)
        ]


def _kept(scored: ScoredRecording, keep: slice | None) -> ScoredRecording:
    """The beats ``keep`` of a scored recording (all of them for None)."""
    if keep is None:
        return scored
    return replace(scored, proba=scored.proba[keep], is_anomaly=scored.is_anomaly[keep], error=scored.error[keep])


def _told(progress: Callable[[int], None], scored: list[ScoredRecording]) -> list[ScoredRecording]:
    progress(sum(s.proba.size for s in scored))
    return scored


def _joined(recording: Recording, pieces: list[ScoredRecording]) -> ScoredRecording:
    """A recording scored from the kept beats of its pieces, in order."""
    return ScoredRecording(
        recording=recording,
        proba=np.concatenate([p.proba for p in pieces]),
        is_anomaly=np.concatenate([p.is_anomaly for p in pieces]),
        error=np.concatenate([p.error for p in pieces]),
        threshold=pieces[0].threshold,
    )


def _probe_recording() -> Recording:
    """What every model scores at load: 300 beats of a slow rhythm, a spike every 50 beats and a measurement error
    (made here rather than simulated: loading a model imports none of the readers)."""
    beat = np.arange(300)
    rr = 800.0 + 30.0 * np.sin(beat / 7.0)
    rr[10::50] *= 1.08
    rr[11::50] *= 0.92
    rr[150] = 3000.0
    return Recording.from_rr(rr, id="probe")


def load_detector(
    model: str | os.PathLike[str] | None = None,
    *,
    runtime: Runtime = "auto",
    on_compile: Callable[[str], None] | None = None,
    jobs: int | None = 1,
) -> Detector:
    """Load a detector from an artifact folder or URL, or the default model shipped with the package.

    ``runtime``, ``on_compile`` and ``jobs``: see :class:`Detector`.
    """
    artifact = load_artifact(default_model_path() if model is None else model)
    return Detector(artifact, runtime, on_compile, jobs)
