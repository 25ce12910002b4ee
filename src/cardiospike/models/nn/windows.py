"""Whole-recording networks run on windows of a fixed length, as they are trained on crops of that length. Torch-free.

A network that reads a whole recording (a BiGRU over it) is trained on random crops of ``length`` beats, yet a
recording can hold tens of thousands: run over all of it at once, a beat's output depends on beats thousands away
(what the training never showed), memory grows with the recording, and nothing can be decided before its end. So
each recording is cut into windows of ``length`` beats (a shorter recording is one window, padded at its end as
training pads its crops), and each window keeps the outputs of its middle: every kept beat has ``context`` beats on
either side in its window (fewer only at a recording's own ends). Then a beat's output depends on at most
``length`` beats around it, all windows have one shape (many recordings are one batch), and memory is bounded.

The kept parts tile the beats from the recording's first in steps of ``length - 2 * context``, and a window is never
moved to fit the recording's end (it is padded there instead): so which window scores a beat depends on the beat's
index alone, a piece of a recording that starts at beat ``offset`` of it (a live stream's history) is cut as the
whole recording is, and its beats far enough from the piece's ends score exactly as in the whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Windowing:
    """Windows of ``length`` beats whose middle (all but ``context`` beats at each side) is kept."""

    length: int = 256
    context: int = 64

    def __post_init__(self) -> None:
        if not 0 <= 2 * self.context < self.length:
            raise ValueError(f"context {self.context} leaves nothing of windows of {self.length} beats")

    @property
    def keep(self) -> int:
        return self.length - 2 * self.context

    def spans(self, n: int, offset: int = 0) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """For ``n`` beats that start at beat ``offset`` of a recording: each window's first beat, and the first and
        stop beat it keeps (counted from the first of the ``n``).

        The kept parts tile the recording in steps of :attr:`keep` from its first beat; a window starts ``context``
        beats before its kept part, but never before the ``n`` beats, and is padded past their end. A whole recording
        of at most ``length`` beats is one window.
        """
        if offset == 0 and n <= self.length:
            return np.zeros(1, np.int64), np.zeros(1, np.int64), np.array([n], np.int64)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        tiles = np.arange(offset // self.keep * self.keep, offset + n, self.keep, dtype=np.int64) - offset
        first = np.maximum(tiles, 0)
        start = np.maximum(first - self.context, 0)
        return start, first, np.append(first[1:], n)


@dataclass(frozen=True)
class WindowLayout:
    """Where the windows of many recordings lie, and where their kept outputs go; the windows' inputs are made
    batch by batch (:meth:`batches`), so memory holds one batch of windows, not all of them."""

    #: Each window's recording and its first beat in it.
    owner: NDArray[np.int64]
    start: NDArray[np.int64]
    #: For each kept output: the window, the position in it, and the beat (of all recordings laid end to end).
    window: NDArray[np.int64]
    position: NDArray[np.int64]
    beat: NDArray[np.int64]
    n_beats: int
    length: int

    @property
    def n_windows(self) -> int:
        return int(self.owner.size)

    def batches(
        self, inputs: Sequence[NDArray[np.floating]], fill: float, size: int, rows: bool = False
    ) -> Iterator[NDArray[np.float32]]:
        """The windows' inputs, ``size`` windows at a time, shape (size, channels, length); padding is ``fill``.

        ``inputs`` are each recording's (channels, n) arrays, or with ``rows`` its (n, channels) arrays (a feature
        matrix as it is: no transposed copy of it is made).
        """
        channels = (inputs[0].shape[1] if rows else inputs[0].shape[0]) if inputs else 0
        for at in range(0, self.n_windows, size):
            owners, starts = self.owner[at : at + size], self.start[at : at + size]
            x = np.full((owners.size, channels, self.length), fill, dtype=np.float32)
            for i, (owner, first) in enumerate(zip(owners.tolist(), starts.tolist(), strict=True)):
                source = inputs[owner]
                part = source[first : first + self.length].T if rows else source[:, first : first + self.length]
                x[i, :, : part.shape[1]] = part
            yield x

    def run(
        self,
        forward: Callable[[NDArray[np.float32]], NDArray[np.floating]],
        inputs: Sequence[NDArray[np.floating]],
        fill: float,
        size: int,
        rows: bool = False,
    ) -> NDArray[np.float64]:
        """Per-beat outputs (all recordings laid end to end) of ``forward`` run on the windows' inputs, ``size``
        windows a call (see :meth:`batches` and :meth:`gather`)."""
        parts = [forward(batch) for batch in self.batches(inputs, fill, size, rows)]
        return self.gather(np.concatenate(parts) if parts else np.zeros((0, self.length), np.float32))

    def gather(self, outputs: NDArray[np.floating]) -> NDArray[np.float64]:
        """Per-beat values (all recordings laid end to end) from the windows' outputs (n_windows, length)."""
        out = np.empty(self.n_beats, dtype=np.float64)
        out[self.beat] = outputs[self.window, self.position]
        return out


def cut(lengths: Sequence[int], windowing: Windowing, offsets: Sequence[int] | None = None) -> WindowLayout:
    """The windows of recordings of ``lengths`` beats, each a piece that starts at beat ``offsets[i]`` of a longer
    recording (default: whole recordings, all 0; see :meth:`Windowing.spans`)."""
    owners: list[NDArray[np.int64]] = []
    starts: list[NDArray[np.int64]] = []
    kept_window: list[NDArray[np.int64]] = []
    kept_position: list[NDArray[np.int64]] = []
    kept_beat: list[NDArray[np.int64]] = []
    base = beat0 = 0
    for r, n in enumerate(lengths):
        start, first, stop = windowing.spans(int(n), 0 if offsets is None else int(offsets[r]))
        w = np.repeat(np.arange(start.size), stop - first)
        beat = np.arange(n)  # the kept parts tile the recording in order
        owners.append(np.full(start.size, r, np.int64))
        starts.append(start)
        kept_window.append(base + w)
        kept_position.append(beat - start[w])
        kept_beat.append(beat0 + beat)
        base += start.size
        beat0 += int(n)
    return WindowLayout(
        owner=_joined(owners),
        start=_joined(starts),
        window=_joined(kept_window),
        position=_joined(kept_position),
        beat=_joined(kept_beat),
        n_beats=beat0,
        length=windowing.length,
    )


def _joined(parts: list[NDArray[np.int64]]) -> NDArray[np.int64]:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
