import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardiospike.detector import ScoredRecording, load_detector
from cardiospike.recording import Recording
from cardiospike.summary import episodes_of, hrv_summary


def scored(
    rr: np.ndarray, *, flags: np.ndarray | None = None, proba: np.ndarray | None = None, valid: np.ndarray | None = None
) -> ScoredRecording:
    """A recording scored by hand: ``flags`` anomalous, ``valid`` not measurement errors (default: all)."""
    n = rr.size
    return ScoredRecording(
        recording=Recording.from_rr(rr, time=np.arange(n) * 1000.0),
        proba=np.zeros(n) if proba is None else proba,
        is_anomaly=np.zeros(n, bool) if flags is None else flags,
        error=np.zeros(n, bool) if valid is None else ~valid,
        threshold=0.5,
    )


def test_episodes_runs_times_and_peaks():
    flags = np.array([1, 1, 0, 0, 1, 1, 1, 0, 1], dtype=bool)
    proba = np.array([0.6, 0.7, 0.9, 0.1, 0.5, 0.8, 0.55, 0.95, 0.51])
    eps = episodes_of(scored(np.full(9, 800.0), flags=flags, proba=proba))
    assert [(e.start, e.end, e.n_beats) for e in eps] == [(0, 1, 2), (4, 6, 3), (8, 8, 1)]
    # The 0.9 and 0.95 beats lie outside the episodes and must not count as their peaks.
    assert [e.max_proba for e in eps] == [0.7, 0.8, 0.51]
    assert (eps[1].start_ms, eps[1].end_ms) == (4000.0, 6000.0)


def test_labelled_episodes_of_a_recording():
    rec = Recording.from_rr(np.full(6, 800.0), labels=[0, 1, 1, 0, 0, 1])
    assert [(e.start, e.end, e.max_proba) for e in episodes_of(rec)] == [(1, 2, 1.0), (5, 5, 1.0)]
    with pytest.raises(ValueError, match="no labels"):
        episodes_of(Recording.from_rr([800.0]))


def test_no_episodes():
    assert episodes_of(scored(np.full(5, 800.0))) == []


# --- HRV ---------------------------------------------------------------------------------------------------------


def test_hrv_by_hand():
    rr = np.array([800.0, 900.0, 820.0, 880.0])
    hrv = hrv_summary(scored(rr))
    assert hrv.n_valid == 4
    assert hrv.mean_rr == 850.0
    assert hrv.sdnn == round(math.sqrt((50**2 + 50**2 + 30**2 + 30**2) / 3), 6)
    assert hrv.rmssd == round(math.sqrt((100**2 + 80**2 + 60**2) / 3), 6)
    assert hrv.pnn50 == 100.0
    assert hrv.mean_hr == round(np.mean(60_000 / rr), 6)


def test_differences_skip_pairs_touching_an_invalid_beat():
    rr = np.array([800.0, 3000.0, 820.0, 850.0, 100.0, 860.0, 870.0])
    valid = np.array([1, 0, 1, 1, 0, 1, 1], bool)
    # Only (820, 850) and (860, 870) are pairs of consecutive valid beats; 800 -> 820 would bridge a removed beat.
    hrv = hrv_summary(scored(rr, valid=valid))
    assert hrv.n_valid == 5
    assert hrv.mean_rr == 840.0
    assert hrv.rmssd == round(math.sqrt((30**2 + 10**2) / 2), 6)
    assert hrv.pnn50 == 0.0


def test_too_few_beats_give_none():
    assert hrv_summary(scored(np.array([]))).to_dict() == {
        "n_valid": 0, "mean_rr": None, "sdnn": None, "rmssd": None, "pnn50": None, "mean_hr": None,
    }  # fmt: skip
    alternating = hrv_summary(scored(np.array([800.0, 5000.0, 800.0]), valid=np.array([1, 0, 1], bool)))
    assert (alternating.sdnn, alternating.rmssd, alternating.pnn50) == (0.0, None, None)


def test_hrv_summary_leaves_out_measurement_errors(tiny_model_dir):
    rr = np.array([800.0, 810.0, 2500.0, 790.0, 200.0, 805.0])
    by_model = load_detector(tiny_model_dir).score(Recording.from_rr(rr))
    assert hrv_summary(by_model) == hrv_summary(scored(rr, valid=np.array([1, 1, 0, 1, 0, 1], bool)))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(250, 2100), st.booleans()), max_size=40),
)
def test_vectorised_equals_a_plain_loop(beats):
    rr = np.array([b[0] for b in beats], dtype=np.float64)
    valid = np.array([b[1] for b in beats], dtype=bool)
    pairs = [rr[i + 1] - rr[i] for i in range(len(rr) - 1) if valid[i] and valid[i + 1]]
    good = [x for x, ok in zip(rr, valid, strict=True) if ok]
    hrv = hrv_summary(scored(rr, valid=valid))
    assert hrv.n_valid == len(good)
    if pairs:
        assert hrv.rmssd == pytest.approx(math.sqrt(sum(d * d for d in pairs) / len(pairs)), abs=1e-5)
        assert hrv.pnn50 == pytest.approx(100 * sum(abs(d) > 50 for d in pairs) / len(pairs), abs=1e-5)
    else:
        assert hrv.rmssd is None
        assert hrv.pnn50 is None
    if len(good) > 1:
        mean = sum(good) / len(good)
        assert hrv.sdnn == pytest.approx(math.sqrt(sum((x - mean) ** 2 for x in good) / (len(good) - 1)), abs=1e-5)
