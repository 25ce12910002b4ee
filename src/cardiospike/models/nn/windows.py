"""Whole-recording networks run on windows of a fixed length, as they are trained on crops of that length. Torch-free.

A network that reads a whole recording (a BiGRU over it) is trained on random crops of ``length`` beats, yet a
recording can hold tens of thousands: run over all of it at once, a beat's output depends on beats thousands away
(what the training never showed), memory grows with the recording, and nothing can be decided before its end. So
each recording is cut into windows of ``length`` beats (a shorter recording is one window, padded at its end as
training pads its crops), and each window keeps the outputs of its middle: every kept beat has ``context`` beats on
either side in its window (fewer only at a recording's own ends). Then a beat's output depends on at most
``length`` beats around it, all windows have one shape (many recordings are one batch), and memory is bounded.
"""

from __future__ import annotations

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

    def spans(self, n: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """For a recording of ``n`` beats: each window's first beat, and the first and stop beat it keeps.

        The kept parts tile the recording in order. A window starts ``context`` beats before its kept part, but
        never before the recording nor so late that it would run past the end (there it ends with the recording).
        """
        if n <= self.length:
            return np.zeros(1, np.int64), np.zeros(1, np.int64), np.array([n], np.int64)
        first = np.arange(0, n, self.keep, dtype=np.int64)
        stop = np.minimum(first + self.keep, n)
        start = np.clip(first - self.context, 0, n - self.length)
        return start, first, stop


@dataclass(frozen=True)
class WindowBatch:
    """The windows of many recordings: ``x`` (n_windows, channels, length) and where their kept outputs go."""

    x: NDArray[np.float32]
    #: For each kept output: the window, the position in it, and the beat (of all recordings laid end to end).
    window: NDArray[np.int64]
    position: NDArray[np.int64]
    beat: NDArray[np.int64]
    n_beats: int

    def gather(self, outputs: NDArray[np.floating]) -> NDArray[np.float64]:
        """Per-beat values (all recordings laid end to end) from the windows' outputs (n_windows, length)."""
        out = np.empty(self.n_beats, dtype=np.float64)
        out[self.beat] = outputs[self.window, self.position]
        return out


def cut(inputs: list[NDArray[np.float32]], windowing: Windowing, fill: float) -> WindowBatch:
    """The windows of recordings whose inputs (channels, n_i) are ``inputs``; padding is ``fill``."""
    channels = inputs[0].shape[0] if inputs else 0
    starts: list[int] = []
    owners: list[int] = []
    kept_window: list[NDArray[np.int64]] = []
    kept_position: list[NDArray[np.int64]] = []
    kept_beat: list[NDArray[np.int64]] = []
    beat0 = 0
    for r, x in enumerate(inputs):
        n = x.shape[1]
        start, first, stop = windowing.spans(n)
        base = len(starts)
        starts += start.tolist()
        owners += [r] * start.size
        sizes = stop - first
        w = np.repeat(np.arange(start.size), sizes)
        beat = np.arange(n)  # the kept parts tile the recording in order
        kept_window.append(base + w)
        kept_position.append(beat - start[w])
        kept_beat.append(beat0 + beat)
        beat0 += n
    x = np.full((len(starts), channels, windowing.length), fill, dtype=np.float32)
    for i, (owner, at) in enumerate(zip(owners, starts, strict=True)):
        part = inputs[owner][:, at : at + windowing.length]
        x[i, :, : part.shape[1]] = part
    return WindowBatch(x, _joined(kept_window), _joined(kept_position), _joined(kept_beat), beat0)


def _joined(parts: list[NDArray[np.int64]]) -> NDArray[np.int64]:
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)
