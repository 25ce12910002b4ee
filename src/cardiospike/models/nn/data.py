"""Torch datasets built from :class:`~cardiospike.recording.Recording` objects.

Every batch is ``(x, y, weight)``: inputs, 0/1 labels and a loss weight (0 on padding), so one masked loss serves
every network kind. Inputs come from :mod:`cardiospike.models.nn.inputs` (vectorised numpy), computed once per
recording: crops are slices of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, IterableDataset

from cardiospike.models.nn.windows import Windowing, cut
from cardiospike.recording import Recording

Batch = tuple[Tensor, Tensor, Tensor]
#: The inputs of one recording's RR intervals (ms): shape (channels, n) for whole recordings, (n, window,
#: channels) for windows.
RecordingInputs = Callable[[np.ndarray], np.ndarray]


def _labels(rec: Recording) -> np.ndarray:
    if rec.labels is None:
        raise ValueError(f"recording {rec.id!r} has no labels: training needs labelled recordings")
    return rec.labels.astype(np.float32)


def pad_batch(
    inputs: Sequence[np.ndarray], labels: Sequence[np.ndarray], length: int | None = None, fill: float = 0.0
) -> Batch:
    """Stack (channels, n_i) inputs and (n_i,) labels into one batch padded with ``fill``, with a 0/1 padding weight.

    The sequence net's inputs are 0 where a beat is missing; the feature network's are NaN.
    """
    length = max(x.shape[1] for x in inputs) if length is None else length
    x = np.full((len(inputs), inputs[0].shape[0], length), fill, dtype=np.float32)
    y = np.zeros((len(inputs), length), dtype=np.float32)
    w = np.zeros((len(inputs), length), dtype=np.float32)
    for i, (xi, yi) in enumerate(zip(inputs, labels, strict=True)):
        n = xi.shape[1]
        x[i, :, :n], y[i, :n], w[i, :n] = xi, yi, 1.0
    return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(w)


class CropBatches(IterableDataset[Batch]):
    """Random crops of ``crop_len`` beats from the recordings, in batches: one pass is one epoch.

    A crop starts at a beat drawn uniformly over all beats (so long recordings give proportionally more crops);
    recordings shorter than a crop are taken whole and padded. An epoch holds about as many beats as the data
    (``epoch_beats`` overrides). With ``augment_scale`` = a, each crop's relative RR and steps are multiplied by
    ``exp(U(-a, a))`` (sequence inputs only). Seeded, and reseeded per pass from the pass number: epochs differ,
    runs repeat. ``inputs`` builds each recording's (channels, n) inputs; padding is ``fill``.

    With ``joined_share`` = s, a share s of the crops is cut instead from all the recordings laid end to end (in a
    new order each pass, their inputs built over the joined beats): a crop then holds other beats where a
    recording ends, as in a long recording, rather than padding, which marks a recording's end and so its length.
    """

    def __init__(
        self,
        recordings: Sequence[Recording],
        inputs: RecordingInputs,
        crop_len: int = 256,
        batch_size: int = 16,
        epoch_beats: int | None = None,
        seed: int = 0,
        augment_scale: float = 0.0,
        fill: float = 0.0,
        joined_share: float = 0.0,
    ) -> None:
        if not 0.0 <= joined_share <= 1.0:
            raise ValueError(f"joined_share is a share of the crops, from 0 to 1, not {joined_share}")
        self.augment_scale, self.fill, self.joined_share = augment_scale, fill, joined_share
        self.build_inputs = inputs
        self.rr = [r.rr for r in recordings]
        self.inputs = [inputs(r.rr) for r in recordings]
        self.labels = [_labels(r) for r in recordings]
        self.lengths = np.array([len(r) for r in recordings])
        self.crop_len, self.batch_size, self.seed = crop_len, batch_size, seed
        total = int(self.lengths.sum())
        self.n_batches = max(1, round((epoch_beats or total) / (crop_len * batch_size)))
        self._passes = 0

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self) -> Iterator[Batch]:
        rng = np.random.default_rng([self.seed, self._passes])
        self._passes += 1
        p = self.lengths / self.lengths.sum()
        sources, labels = self.inputs, self.labels
        if self.joined_share > 0:
            order = rng.permutation(self.lengths.size)
            joined = len(sources)  # the joined recording is the last source
            sources = [*sources, self.build_inputs(np.concatenate([self.rr[i] for i in order]))]
            labels = [*labels, np.concatenate([self.labels[i] for i in order])]
        for _ in range(self.n_batches):
            recs = rng.choice(self.lengths.size, size=self.batch_size, p=p)
            if self.joined_share > 0:
                recs = np.where(rng.random(self.batch_size) < self.joined_share, joined, recs)
            xs, ys = [], []
            for r in recs:
                n = int(sources[r].shape[1])
                start = int(rng.integers(0, n - self.crop_len + 1)) if n > self.crop_len else 0
                x = sources[r][:, start : start + self.crop_len]
                if self.augment_scale > 0:
                    # Spike sizes vary between patients: rescale the relative RR and its steps (not the mask).
                    x = x.copy()
                    x[:3] *= np.float32(np.exp(rng.uniform(-self.augment_scale, self.augment_scale)))
                xs.append(x)
                ys.append(labels[r][start : start + self.crop_len])
            yield pad_batch(xs, ys, self.crop_len, self.fill)


def window_batches(
    recordings: Sequence[Recording], inputs: RecordingInputs, windowing: Windowing, fill: float, batch_size: int
) -> list[Batch]:
    """The recordings cut into windows as scoring cuts them, in batches; the weight is 1 on each window's kept beats
    only, so the loss and the metrics see every beat once, from the window that scores it."""
    windows = cut([len(r) for r in recordings], windowing)
    labels = np.concatenate([_labels(r) for r in recordings]) if recordings else np.zeros(0, np.float32)
    y = np.zeros((windows.n_windows, windowing.length), dtype=np.float32)
    w = np.zeros_like(y)
    y[windows.window, windows.position] = labels[windows.beat]
    w[windows.window, windows.position] = 1.0
    xs = windows.batches([inputs(r.rr) for r in recordings], fill, batch_size)
    return [
        (torch.from_numpy(x), torch.from_numpy(y[i : i + batch_size]), torch.from_numpy(w[i : i + batch_size]))
        for x, i in zip(xs, range(0, windows.n_windows, batch_size), strict=True)
    ]


class WindowBeats(Dataset[Batch]):
    """Every beat of the recordings as a centred window (CardioNet's input), its label and weight 1.

    ``inputs`` builds each recording's windows, shape (n, window, channels).
    """

    def __init__(self, recordings: Sequence[Recording], inputs: RecordingInputs) -> None:
        self.x = torch.from_numpy(np.concatenate([inputs(r.rr) for r in recordings]))
        self.y = torch.from_numpy(np.concatenate([_labels(r) for r in recordings]))
        self.w = torch.ones_like(self.y)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def __getitem__(self, i: int | list[int]) -> Batch:
        # A list of indices (from a BatchSampler) gathers a whole batch at once.
        idx = torch.as_tensor(i)
        return self.x[idx], self.y[idx], self.w[idx]
