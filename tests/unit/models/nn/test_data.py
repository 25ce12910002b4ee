"""Training crops: from each recording (padded where it is shorter), or from the recordings laid end to end."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("torch")

from cardiospike.models.nn.data import CropBatches
from cardiospike.recording import Recording


def _beats(rr: np.ndarray) -> np.ndarray:
    """Inputs that are the RR themselves: a crop's values say which beats it holds."""
    return rr[None, :].astype(np.float32)


def _short_recordings() -> list[Recording]:
    """Recordings of 40-120 beats whose RR are all different, labelled at random."""
    rng = np.random.default_rng(0)
    rr = 500.0 + np.arange(310)
    cut = np.cumsum([0, 40, 60, 90, 120])
    return [Recording.from_rr(rr[a:b], id=str(a), labels=rng.integers(0, 2, b - a)) for a, b in itertools.pairwise(cut)]


def test_crops_of_short_recordings_are_padded_at_their_end():
    crops = CropBatches(_short_recordings(), _beats, crop_len=128, batch_size=8, fill=-1.0, seed=1)
    x, _, w = next(iter(crops))
    assert x.shape == (8, 1, 128)
    assert (w.sum(dim=1) < 128).all()  # every crop is one recording, shorter than a crop
    assert ((x[:, 0] == -1.0) == (w == 0)).all()


def test_joined_crops_hold_several_recordings_and_their_labels():
    recordings = _short_recordings()
    crops = CropBatches(recordings, _beats, crop_len=128, batch_size=8, fill=-1.0, seed=1, joined_share=1.0)
    rr = np.concatenate([r.rr for r in recordings]).astype(np.float32)
    labels = {float(v): int(lab) for r in recordings for v, lab in zip(r.rr, np.asarray(r.labels), strict=True)}
    for x, y, w in crops:
        assert (w == 1).all()  # no padding: 310 joined beats fill every crop
        for crop, crop_labels in zip(x[:, 0].numpy(), y.numpy(), strict=True):
            assert np.isin(crop, rr).all()
            assert [labels[float(v)] for v in crop] == crop_labels.astype(int).tolist()
            assert np.unique(crop).size == 128  # each beat once


def test_a_share_of_the_crops_is_joined_and_passes_differ():
    crops = CropBatches(_short_recordings(), _beats, crop_len=128, batch_size=64, seed=2, joined_share=0.5)
    first = next(iter(crops))
    full = (first[2].sum(dim=1) == 128).float().mean().item()
    assert 0.3 < full < 0.7
    assert not np.array_equal(first[0].numpy(), next(iter(crops))[0].numpy())  # a new order and crops each pass
    with pytest.raises(ValueError, match="joined_share"):
        CropBatches(_short_recordings(), _beats, joined_share=1.5)
