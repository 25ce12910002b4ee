"""ECG input: beats detected in simulated ECG, piece by piece as whole, and ECG files read (or refused) as RR."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiospike.data import RecordingFormatError, read_recordings
from cardiospike.data.ecg import ArraySignal, Beats, detect_beats, ecg_recording
from cardiospike.data.synthetic import simulate_ecg
from cardiospike.recording import Recording

pytest.importorskip("sleepecg", reason="the 'ecg' extra (sleepecg) is not installed")

FS = 250.0
TOLERANCE = round(0.075 * FS)


def _matched(reference: np.ndarray, found: np.ndarray) -> int:
    """Detections within 75 ms of a reference beat, matched one to one."""
    j = np.clip(np.searchsorted(found, reference), 1, found.size - 1)
    nearest = np.where(np.abs(found[j - 1] - reference) <= np.abs(found[j] - reference), j - 1, j)
    return int(np.unique(nearest[np.abs(found[nearest] - reference) <= TOLERANCE]).size)


@pytest.mark.parametrize("heart_rate", [45.0, 70.0, 100.0, 150.0])
def test_clean_ecg_beats_are_found_within_75_ms(heart_rate: float):
    x, peaks = simulate_ecg(300, fs=FS, heart_rate=heart_rate, seed=int(heart_rate))
    found = detect_beats(ArraySignal(x, FS), "sim")
    tp = _matched(peaks, found.samples)
    assert tp / peaks.size >= 0.995
    assert tp / found.samples.size >= 0.995
    assert not found.doubtful[1:-1].any()


@pytest.mark.parametrize("noise", [0.05, 0.15, 0.3])
def test_noisy_ecg_is_reported(noise: float, capsys: pytest.CaptureFixture[str]):
    x, peaks = simulate_ecg(300, fs=FS, heart_rate=70.0, noise=noise, seed=1)
    found = detect_beats(ArraySignal(x, FS), "sim")
    tp = _matched(peaks, found.samples)
    with capsys.disabled():
        print(
            f"\nnoise {noise} mV: sensitivity {tp / peaks.size:.2%}, positive predictivity "
            f"{tp / found.samples.size:.2%}, doubtful {found.doubtful.mean():.1%}"
        )
    assert tp / peaks.size > 0.8  # a loose floor: the figures are the report's (benchmarks/results/ecg.md)


@pytest.mark.parametrize(("heart_rate", "noise"), [(45.0, 0.0), (70.0, 0.05), (150.0, 0.15), (100.0, 0.0)])
def test_pieces_detect_the_beats_of_the_whole(heart_rate: float, noise: float):
    x, _ = simulate_ecg(1500, fs=FS, heart_rate=heart_rate, noise=noise, seed=3)
    whole = detect_beats(ArraySignal(x, FS), "sim", chunk_s=1e9)
    for chunk_s in (60.0, 97.3, 300.0):
        parts = detect_beats(ArraySignal(x, FS), "sim", chunk_s=chunk_s)
        np.testing.assert_array_equal(parts.samples, whole.samples)  # none lost or doubled at the edges
        np.testing.assert_allclose(parts.quality, whole.quality, atol=1e-6)


def test_progress_is_reported_piece_by_piece():
    x, _ = simulate_ecg(300, fs=FS, seed=4)
    seen: list[tuple[int, int]] = []
    detect_beats(ArraySignal(x, FS), "sim", chunk_s=60, progress=lambda done, total: seen.append((done, total)))
    assert [d for d, _ in seen] == [15000, 30000, 45000, 60000, 75000]
    assert {t for _, t in seen} == {75000}


def test_doubtful_beats_are_measurement_errors_with_their_rr_kept():
    beats = Beats(np.array([100, 300, 500, 700, 900]), np.array([0.9, 0.95, 0.2, 0.9, 0.9]))
    recording, columns = ecg_recording(beats, FS, "r")
    np.testing.assert_array_equal(recording.rr, [0.0, 800.0, 800.0, 800.0, 800.0])  # kept, in range
    np.testing.assert_array_equal(recording.time, [400.0, 1200.0, 2000.0, 2800.0, 3600.0])
    # The first beat has no interval; the two intervals at the doubtful beat are doubtful.
    np.testing.assert_array_equal(recording.errors(), [True, False, True, True, False])
    np.testing.assert_array_equal(columns["sample"], beats.samples)
    assert not Recording.from_rr([800.0, 800.0]).errors().any()


def test_noisy_stretch_is_flagged_doubtful():
    x, _ = simulate_ecg(120, fs=FS, seed=5)
    rng = np.random.default_rng(0)
    x[int(50 * FS) : int(60 * FS)] += rng.normal(0, 0.8, int(10 * FS))
    found = detect_beats(ArraySignal(x, FS), "sim")
    t = found.samples / FS
    inside, outside = (t > 51) & (t < 59), (t < 45) | (t > 65)
    assert found.doubtful[inside].mean() > 0.5
    assert found.doubtful[outside][1:-1].sum() == 0


# ---------------------------------------------------------------------------------------------------------- files


def _wfdb(folder: Path, x: np.ndarray, *, fs: float = FS, declared: int | None = None, name: str = "rec") -> Path:
    (folder / f"{name}.dat").write_bytes(np.clip(np.round(x * 200), -32767, 32767).astype("<i2").tobytes())
    n = x.size if declared is None else declared
    (folder / f"{name}.hea").write_text(f"{name} 1 {fs:g} {n}\n{name}.dat 16 200/mV 16 0 0 0 0 MLII\n")
    return folder / f"{name}.hea"


def _edf(path: Path, x: np.ndarray, label: str = "ECG") -> Path:
    edfio = pytest.importorskip("edfio", reason="the 'ecg' extra (edfio) is not installed")
    edfio.Edf([edfio.EdfSignal(np.full(x.size, 1.0), FS, label="EEG Fpz"), edfio.EdfSignal(x, FS, label=label)]).write(
        path
    )
    return path


@pytest.fixture(scope="module")
def ecg() -> tuple[np.ndarray, np.ndarray]:
    return simulate_ecg(60, fs=FS, heart_rate=72, seed=6)


def test_wfdb_record_is_read_as_one_beat_per_row(tmp_path: Path, ecg):
    pytest.importorskip("wfdb", reason="the 'ecg' extra (wfdb) is not installed")
    x, peaks = ecg
    header = _wfdb(tmp_path, x)
    for given in (header, header.with_suffix(".dat")):
        recordings = read_recordings(given, keep_columns=True)
        assert recordings.format == "wfdb"
        assert len(recordings) == 1
        assert recordings.extra is not None
        samples = recordings.extra["sample"].to_numpy()
        assert _matched(peaks, samples) == peaks.size == samples.size
        np.testing.assert_allclose(recordings[0].time, samples * 1000 / FS)


def test_edf_channel_is_chosen_by_name_or_number(tmp_path: Path, ecg):
    x, peaks = ecg
    path = _edf(tmp_path / "r.edf", x)
    assert len(read_recordings(path)[0]) == peaks.size  # the ECG-named channel, not the first
    assert len(read_recordings(path, ecg_channel="2")[0]) == peaks.size
    assert len(read_recordings(path, ecg_channel="ecg")[0]) == peaks.size
    with pytest.raises(RecordingFormatError, match=r"field 'ecg_channel'.*no channel 'V9'"):
        read_recordings(path, ecg_channel="V9")
    with pytest.raises(RecordingFormatError, match="flat"):
        read_recordings(path, ecg_channel="1")


def test_samples_are_ecg_only_with_a_sampling_rate(tmp_path: Path, ecg):
    x, peaks = ecg
    csv, npy = tmp_path / "s.csv", tmp_path / "s.npy"
    csv.write_text("ECG\n" + "\n".join(f"{v:.4f}" for v in x) + "\n")
    np.save(npy, x.astype(np.float32))
    for path in (csv, npy):
        recordings = read_recordings(path, sampling_rate=FS)
        assert recordings.format == "ecg"
        assert len(recordings[0]) == peaks.size
    rr_csv = tmp_path / "rr.csv"
    rr_csv.write_text("x\n800\n810\n790\n")
    assert read_recordings(rr_csv).format == "csv"  # without a sampling rate: RR, as ever
    with pytest.raises(RecordingFormatError, match=r"field 'sampling_rate'.*need their sampling rate"):
        read_recordings(csv, fmt="ecg")


# ------------------------------------------------------------------------------------------------- malformed files


def test_truncated_dat_and_a_header_that_lies_are_refused(tmp_path: Path, ecg):
    pytest.importorskip("wfdb", reason="the 'ecg' extra (wfdb) is not installed")
    header = _wfdb(tmp_path, ecg[0])
    data = header.with_suffix(".dat")
    data.write_bytes(data.read_bytes()[:-1000])
    with pytest.raises(RecordingFormatError, match=r"rec.hea, field 'number of samples': the header declares 15000 "):
        read_recordings(header)
    lying = _wfdb(tmp_path, ecg[0], declared=10**6, name="lies")
    with pytest.raises(RecordingFormatError, match=r"declares 1000000 samples but lies\.dat holds 15000"):
        read_recordings(lying)


@pytest.mark.parametrize("fs", ["0", "-250", "abc"])
def test_a_header_with_a_bad_sampling_frequency_is_refused(tmp_path: Path, ecg, fs: str):
    pytest.importorskip("wfdb", reason="the 'ecg' extra (wfdb) is not installed")
    header = _wfdb(tmp_path, ecg[0])
    header.write_text(header.read_text().replace(" 250 ", f" {fs} ", 1))
    with pytest.raises(RecordingFormatError, match=r"rec.hea"):
        read_recordings(header)


def test_edf_with_a_bad_record_count_is_refused(tmp_path: Path, ecg):
    path = _edf(tmp_path / "r.edf", ecg[0])
    raw = bytearray(path.read_bytes())
    raw[236:244] = b"999     "
    path.write_bytes(bytes(raw))
    with pytest.raises(RecordingFormatError, match="field 'number of data records': the header declares 999 data"):
        read_recordings(path)
    path.write_bytes(bytes(raw[:-7]))
    with pytest.raises(RecordingFormatError, match="number of data records"):
        read_recordings(path)


@pytest.mark.parametrize("rate", [0.0, -5.0, float("nan"), 20.0, 1e6])
def test_a_bad_sampling_rate_is_refused(tmp_path: Path, rate: float):
    path = tmp_path / "s.csv"
    path.write_text("\n".join(["0.1", "0.2"] * 500))
    with pytest.raises(RecordingFormatError, match=r"s\.csv, field 'sampling_rate'"):
        read_recordings(path, sampling_rate=rate)


def test_a_sampling_rate_other_than_the_files_is_refused(tmp_path: Path, ecg):
    path = _edf(tmp_path / "r.edf", ecg[0])
    with pytest.raises(RecordingFormatError, match="field 'sampling_rate': a sampling rate of 500 Hz was given"):
        read_recordings(path, sampling_rate=500)


@pytest.mark.parametrize(("values", "problem"), [(np.zeros(5000), "flat"), (np.full(5000, np.nan), "missing")])
def test_flat_or_missing_signal_is_refused(tmp_path: Path, values: np.ndarray, problem: str):
    path = tmp_path / "s.npy"
    np.save(path, values)
    with pytest.raises(RecordingFormatError, match=f"s.npy, field 'samples': the signal is {problem}"):
        read_recordings(path, sampling_rate=FS)


def test_missing_samples_are_read_as_doubtful_beats(ecg):
    x = ecg[0].copy()
    x[5000:5500] = np.nan
    found = detect_beats(ArraySignal(x, FS), "s")
    near = (found.samples >= 5000 - 20) & (found.samples < 5500 + 20)  # a QRS of 80 ms either side touches them
    assert found.doubtful[near].all()
    assert not found.doubtful[~near][1:-1].any()


def test_real_ecg_gives_plausible_beats():
    """Five minutes of MIT-BIH record 208 (frequent ventricular beats, a noisy stretch), as sleepecg ships it: no
    annotation comes with it, so the beats are checked for plausibility, not matched."""
    sleepecg = pytest.importorskip("sleepecg")
    x, fs = sleepecg.get_toy_ecg()
    recording, columns = ecg_recording(detect_beats(ArraySignal(x, float(fs)), "208"), float(fs), "208")
    assert 450 <= len(recording) <= 520  # about 98 beats a minute in this record
    errors = recording.errors()
    assert errors.mean() < 0.1
    assert 400 < np.median(recording.rr[~errors]) < 1000
    assert (np.diff(columns["sample"]) > 0).all()
