"""The report of recordings with reference labels (a ``y`` or ``label`` column): the labels overlaid on the chart,
the model's precision, recall and F1 against them, the missed and false beats; and the warning of a recording that
is mostly measurement errors."""

from __future__ import annotations

import html as htmllib
import re

import numpy as np

from cardiospike.arrays import flag_runs
from cardiospike.data import simulate_recording
from cardiospike.detector import ScoredRecording
from cardiospike.metrics import flag_counts, precision_recall_f1
from cardiospike.recording import Recording, measurement_errors
from cardiospike.report import render_report, section_of
from tests.reports import chart_data

from .conftest import MODEL, SOURCE, scored


def _text(html: str) -> str:
    body = re.sub(r"<(script|style).*?</\1>", " ", html, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def imperfect(recording: Recording) -> ScoredRecording:
    """``recording`` scored by a model that flags each labelled episode two beats late, and some unlabelled beats."""
    assert recording.labels is not None
    labels = recording.labels.astype(bool)
    flags = np.r_[False, False, labels[:-2]]
    flags[::97] = True  # false beats here and there
    proba = np.where(flags, 0.8, 0.1)
    return ScoredRecording(recording, proba, flags, measurement_errors(recording.rr), 0.39)


def test_labelled_recording_gives_precision_recall_f1_and_missed_and_false_beats():
    s = imperfect(simulate_recording(1500, seed=31, id="labelled"))
    labels = s.recording.labels
    assert labels is not None
    tp, fp, fn = flag_counts(labels, s.is_anomaly)
    precision, recall, f1 = precision_recall_f1(tp, fp, fn)
    assert fp > 0  # the test sees both kinds of disagreement
    assert fn > 0

    section = section_of(s, 1)
    assert section.reference is not None
    assert section.reference.n_labelled == int(labels.sum())
    assert section.reference.n_episodes == len(flag_runs(labels)[0])
    assert (section.reference.n_missed, section.reference.n_false) == (fn, fp)
    assert section.reference.f1 == float(f1)

    html = render_report([s], model=MODEL, source=SOURCE)
    text = _text(html)
    assert "Against the reference labels" in text
    assert f"Precision {float(precision):.3f} Recall {float(recall):.3f} F1 {float(f1):.3f}" in text
    assert f"Missed beats {fn:,} False beats {fp:,}" in text
    assert f"Labelled beats {int(labels.sum()):,}" in text

    (chart,) = chart_data(html)
    ref = chart["reference"]
    t = s.recording.time - s.recording.time[0]
    missed = np.flatnonzero(labels.astype(bool) & ~s.is_anomaly)
    false = np.flatnonzero(~labels.astype(bool) & s.is_anomaly)
    np.testing.assert_allclose(ref["missed"]["x"], t[missed], atol=0.05)
    np.testing.assert_allclose(ref["false"]["x"], t[false], atol=0.05)
    np.testing.assert_allclose(ref["missed"]["rr"], s.recording.rr[missed], atol=0.05)
    assert len(ref["runs"]) == section.reference.n_episodes
    # The labels' band lies under the RR: inside the chart's range, below every beat's mark.
    lo = chart["y_range"][0]
    band_lo, band_hi = ref["band"]
    assert lo == band_lo < band_hi < min(chart["errors"]["y"] + chart["anomalies"]["y"])


def test_a_recording_without_labels_has_no_reference():
    rec = simulate_recording(600, seed=32)
    unlabelled = Recording(rec.id, rec.rr, rec.time)
    s = ScoredRecording(unlabelled, np.full(600, 0.1), np.zeros(600, bool), measurement_errors(rec.rr), 0.39)
    assert section_of(s, 1).reference is None
    html = render_report([s], model=MODEL, source=SOURCE)
    assert chart_data(html)[0]["reference"] is None
    assert "reference labels" not in _text(html)
    assert "F1 vs labels" not in _text(html)


def test_the_overview_gives_each_labelled_recording_s_f1():
    labelled = imperfect(simulate_recording(900, seed=33, id="with-labels"))
    rec = simulate_recording(500, seed=34, id="without")
    unlabelled = ScoredRecording(
        Recording(rec.id, rec.rr, rec.time), np.full(500, 0.1), np.zeros(500, bool), measurement_errors(rec.rr), 0.39
    )
    html = render_report([labelled, unlabelled], model=MODEL, source=SOURCE)
    overview = html.split('<nav class="overview"')[1].split("</nav>")[0]
    reference = section_of(labelled, 1).reference
    assert reference is not None
    assert "F1 vs labels" in _text(overview)
    rows = [_text(row) for row in overview.split("<tbody>")[1].split("</tr>")[:2]]
    assert rows[0].startswith("1 with-labels 900 ")
    assert rows[0].endswith(f" {reference.f1:.3f}")
    assert rows[1].startswith("2 without 500 ")
    assert rows[1].endswith(" \N{EN DASH}")  # no labels: no F1


def test_perfect_flags_score_one():
    s = scored(simulate_recording(800, seed=35))
    reference = section_of(s, 1).reference
    assert reference is not None
    assert (reference.precision, reference.recall, reference.f1, reference.n_missed, reference.n_false) == (
        1.0, 1.0, 1.0, 0, 0,
    )  # fmt: skip


def test_a_recording_of_mostly_errors_is_warned_about():
    rr = np.r_[np.full(35, 812.0), np.full(65, 0.8)]  # 65 % of the beats read in the wrong unit
    s = scored(Recording.from_rr(rr, id="mixed", labels=np.zeros(100, dtype=np.int8)))
    section = section_of(s, 1)
    assert len(section.warnings) == 1
    assert "65 of 100 beats (65%) are measurement errors" in section.warnings[0]
    text = _text(render_report([s], model=MODEL, source=SOURCE))
    assert "Warning: 65 of 100 beats (65%) are measurement errors" in text
    assert "is RR in another unit (s) or another column?" in text
    assert "Read with care: see the warning above." in text

    fine = scored(simulate_recording(600, seed=36))
    assert section_of(fine, 1).warnings == ()
    assert "Warning:" not in _text(render_report([fine], model=MODEL, source=SOURCE))
