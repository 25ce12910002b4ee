"""Where and how ``predict`` writes its scores: the output's folder, its format by extension, clean numbers, ids as
the input had them, and the reference labels kept beside the model's flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.data import read_recordings, recordings_to_frame, write_csv_atomic
from cardiospike.data.output import OutputPathError, integer_ids, output_format, write_json
from cardiospike.detector import scored_columns, scored_names
from cardiospike.recording import Recording

runner = CliRunner()
SCORED = ["id", "time", "x", "y", "anomaly_proba", "error"]
LABELLED = ["id", "time", "x", "y", "label", "anomaly_proba", "error"]


def _predict(source: Path, out: Path | str, model: Path, *args: str) -> Any:
    return runner.invoke(app, ["predict", str(source), "-o", str(out), "--model", str(model), *args])


@pytest.fixture
def labelled_csv(tmp_path: Path, recordings: list[Recording]) -> Path:
    path = tmp_path / "labelled.csv"
    write_csv_atomic(recordings_to_frame(recordings[:3]), path)
    return path


@pytest.fixture
def numbered_csv(tmp_path: Path, recordings: list[Recording]) -> Path:
    """Three labelled recordings with the integer ids 1, 2, 3, as the competition files have them."""
    frame = recordings_to_frame(recordings[:3])
    frame["id"] = frame["id"].map({r.id: str(i + 1) for i, r in enumerate(recordings[:3])})
    path = tmp_path / "numbered.csv"
    write_csv_atomic(frame, path)
    return path


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _nothing_written(folder: Path, before: set[str]) -> None:
    assert {p.name for p in folder.iterdir()} == before


# --- the output's folder -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["t.csv", "t.json", "t.parquet"])
def test_a_missing_folder_is_refused_and_not_made(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path, name):
    before = {p.name for p in tmp_path.iterdir()}
    missing = tmp_path / "nonexistent" / "dir"
    result = _predict(labelled_csv, missing / name, tiny_model_dir)
    assert result.exit_code == 2, result.output
    assert f"--output: folder {missing} does not exist" in result.output.replace("\n", "")
    assert not (tmp_path / "nonexistent").exists()
    _nothing_written(tmp_path, before)


def test_python_refuses_a_missing_folder_too(tmp_path: Path, recordings: list[Recording]):
    with pytest.raises(OutputPathError, match=r"^folder .*nowhere does not exist$"):
        write_csv_atomic(recordings_to_frame(recordings[:1]), tmp_path / "nowhere" / "o.csv")
    assert not (tmp_path / "nowhere").exists()


def test_report_refuses_a_missing_folder_too(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path):
    missing = tmp_path / "nowhere"
    result = runner.invoke(app, ["report", str(labelled_csv), "-o", str(missing / "r.html"), "-m", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert f"--output: folder {missing} does not exist" in result.output.replace("\n", "")
    assert not missing.exists()


def test_a_dataset_output_folder_is_still_made(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path):
    data = tmp_path / "data"
    data.mkdir()
    pd.read_csv(labelled_csv).to_parquet(data / "part.0.parquet", index=False)
    result = _predict(data, tmp_path / "new" / "scored", tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "scored" / "part.0.parquet").is_file()


@pytest.mark.parametrize("name", ["scored/", "scored.csv/"])
@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_trailing_slash_names_a_folder(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path, name, kind):
    source = labelled_csv
    if kind == "parquet":
        source = tmp_path / "labelled.parquet"
        pd.read_csv(labelled_csv).to_parquet(source, index=False)
    result = _predict(source, f"{tmp_path}/{name}", tiny_model_dir)
    assert result.exit_code == 0, result.output
    folder = tmp_path / name.rstrip("/")
    assert folder.is_dir()  # a folder, as the name says: a dataset of one partition, named as the input
    assert [p.name for p in folder.iterdir()] == ["labelled.parquet"]
    assert _predict(labelled_csv, tmp_path / "s.csv", tiny_model_dir).exit_code == 0
    scored = pd.read_parquet(folder / "labelled.parquet")
    assert scored.columns.tolist() == LABELLED
    pd.testing.assert_frame_equal(scored, pd.read_csv(tmp_path / "s.csv"), check_dtype=False)
    # A folder that holds output already is refused, as for a dataset; --resume keeps what is complete.
    again = _predict(source, f"{tmp_path}/{name}", tiny_model_dir)
    assert again.exit_code == 2
    assert "already holds 1 file(s)" in again.output
    resumed = _predict(source, f"{tmp_path}/{name}", tiny_model_dir, "--resume")
    assert "Scored 0 of 1 partition(s) (1 already complete, kept)" in resumed.output


def test_a_trailing_slash_on_a_file_is_refused(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path):
    (tmp_path / "scored").write_text("a file")
    result = _predict(labelled_csv, f"{tmp_path}/scored/", tiny_model_dir)
    assert result.exit_code == 2
    assert f"{tmp_path}/scored/ names a folder, but {tmp_path}/scored is a file" in result.output.replace("\n", "")
    assert (tmp_path / "scored").read_text() == "a file"


# --- the format, by the extension ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["t.xlsx", "t.txt", "scored"])
def test_an_extension_of_no_format_is_refused(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path, name: str):
    before = {p.name for p in tmp_path.iterdir()}
    result = _predict(labelled_csv, tmp_path / name, tiny_model_dir)
    assert result.exit_code == 2, result.output
    message = result.output.replace("\n", "")
    assert message.startswith("Error: --output: cannot tell which format to write")
    assert ".csv, .tsv, .json, .ndjson, .jsonl, .parquet, .pq" in message
    _nothing_written(tmp_path, before)


def test_output_format_by_extension():
    assert output_format("a.CSV") == "csv"
    assert output_format("-") == "csv"
    assert output_format("a.tsv") == "tsv"
    assert output_format("a.jsonl") == "ndjson"
    assert output_format("a.pq") == "parquet"
    with pytest.raises(OutputPathError, match=r"files named \.xlsx"):
        output_format("a.xlsx")


def test_tsv_is_the_csv_tab_separated(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path):
    assert _predict(labelled_csv, tmp_path / "s.csv", tiny_model_dir).exit_code == 0
    assert _predict(labelled_csv, tmp_path / "s.tsv", tiny_model_dir).exit_code == 0
    text = (tmp_path / "s.tsv").read_text()
    assert text.startswith("\t".join(LABELLED) + "\n")
    assert "," not in text
    assert text.replace("\t", ",") == (tmp_path / "s.csv").read_text()


def test_json_is_an_object_per_recording_that_reads_back(tmp_path: Path, numbered_csv: Path, tiny_model_dir: Path):
    assert _predict(numbered_csv, tmp_path / "s.csv", tiny_model_dir).exit_code == 0
    result = _predict(numbered_csv, tmp_path / "s.json", tiny_model_dir)
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "s.json").read_text())
    assert [obj["id"] for obj in document] == [1, 2, 3]  # integer ids stay numbers
    assert list(document[0]) == LABELLED
    csv = pd.read_csv(tmp_path / "s.csv")
    for column in LABELLED[1:]:
        assert [v for obj in document for v in obj[column]] == csv[column].tolist()
    # The package reads its own JSON back, the reference labels as labels.
    (back,) = read_recordings(tmp_path / "s.json")[:1]
    assert back.labels is not None
    assert back.labels.tolist() == document[0]["label"]


def test_ndjson_is_one_recording_per_line(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path):
    assert _predict(labelled_csv, tmp_path / "s.jsonl", tiny_model_dir).exit_code == 0
    lines = (tmp_path / "s.jsonl").read_text().splitlines()
    assert len(lines) == 3
    assert [json.loads(line)["id"] for line in lines] == list(pd.read_csv(labelled_csv)["id"].unique())


def test_json_writes_missing_values_as_null(tmp_path: Path):
    columns = {"x": np.array([800.0, np.nan, 812.5]), "note": np.array(["a", None, "b"], dtype=object)}
    write_json([(["r"], [3], columns)], tmp_path / "o.json")
    assert json.loads((tmp_path / "o.json").read_text()) == [
        {"id": "r", "x": [800.0, None, 812.5], "note": ["a", None, "b"]}
    ]
    write_json([], tmp_path / "none.json")
    assert json.loads((tmp_path / "none.json").read_text()) == []


# --- clean numbers -------------------------------------------------------------------------------------------------


def test_times_and_rr_converted_from_seconds_are_written_clean(tmp_path: Path, tiny_model_dir: Path):
    rr = np.array([0.812, 1.001, 0.805, 1.003, 0.9] * 12)  # 1.001 * 1000 is 1000.9999999999999
    times = np.round(64.001 + np.cumsum(rr) - rr[0], 3)  # 64.001 * 1000 is 64001.00000000001
    source = tmp_path / "seconds.csv"
    source.write_text("id,time,x\n" + "".join(f"a,{float(t)!r},{float(v)!r}\n" for t, v in zip(times, rr, strict=True)))
    (read,) = read_recordings(source)
    assert (read.rr != np.round(read.rr)).any()  # as read: the noise of the conversion
    assert (read.time != np.round(read.time, 3)).any()
    assert _predict(source, tmp_path / "s.csv", tiny_model_dir).exit_code == 0
    assert _predict(source, tmp_path / "s.parquet", tiny_model_dir).exit_code == 0
    text = (tmp_path / "s.csv").read_text()
    assert "9999" not in text, text[:300]
    assert "0000000" not in text, text[:300]
    for scored in (pd.read_csv(tmp_path / "s.csv"), pd.read_parquet(tmp_path / "s.parquet")):
        np.testing.assert_array_equal(scored["x"], np.round(rr * 1000))
        np.testing.assert_array_equal(scored["time"], np.round(times * 1000, 3))


# --- ids as the input had them -------------------------------------------------------------------------------------


def test_parquet_keeps_integer_ids_integers(tmp_path: Path, numbered_csv: Path, tiny_model_dir: Path):
    result = _predict(numbered_csv, tmp_path / "s.parquet", tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert str(pq.read_schema(tmp_path / "s.parquet").field("id").type) == "int64"
    scored, source = pd.read_parquet(tmp_path / "s.parquet"), pd.read_csv(numbered_csv)
    joined = source.merge(scored[["id", "time", "anomaly_proba"]], on=["id", "time"], how="left")
    assert joined["anomaly_proba"].notna().all()
    # And the CSV writes them as the input has them.
    assert _predict(numbered_csv, tmp_path / "s.csv", tiny_model_dir).exit_code == 0
    assert pd.read_csv(tmp_path / "s.csv")["id"].tolist() == source["id"].tolist()


def test_text_ids_stay_text(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path):
    frame = pd.read_csv(labelled_csv, dtype={"id": str})
    frame["id"] = frame["id"].map(dict(zip(frame["id"].unique(), ["007", "12", "x-3"], strict=True)))
    write_csv_atomic(frame, tmp_path / "text.csv")
    assert _predict(tmp_path / "text.csv", tmp_path / "s.parquet", tiny_model_dir).exit_code == 0
    assert _predict(tmp_path / "text.csv", tmp_path / "s.csv", tiny_model_dir).exit_code == 0
    assert _is_text(pq.read_schema(tmp_path / "s.parquet").field("id").type)
    assert pd.read_parquet(tmp_path / "s.parquet")["id"].unique().tolist() == ["007", "12", "x-3"]
    assert (tmp_path / "s.csv").read_text().splitlines()[1].startswith("007,")


@pytest.mark.parametrize(("ids", "dtype"), [(["5", "6"], "int64"), (["1", "2"], "string")])
def test_a_parquet_inputs_id_type_is_kept(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path, ids, dtype):
    frame = pd.read_csv(labelled_csv)
    frame = frame[frame["id"].isin(frame["id"].unique()[:2])]
    frame["id"] = frame["id"].map(dict(zip(frame["id"].unique(), ids, strict=True)))
    frame["id"] = frame["id"].astype("int64" if dtype == "int64" else str)
    data = tmp_path / "data"
    data.mkdir()
    frame.to_parquet(data / "part.0.parquet", index=False)
    assert _predict(data, tmp_path / "out", tiny_model_dir).exit_code == 0
    written = pq.read_schema(tmp_path / "out" / "part.0.parquet").field("id").type
    assert (str(written) == "int64") if dtype == "int64" else _is_text(written)


def test_integer_ids_are_whole_numbers_written_as_numbers_are():
    assert integer_ids(["1", "-20", "0"]) == [1, -20, 0]
    for ids in (["1", "007"], ["+3"], ["1.0"], ["-0"], ["a"], [str(2**63)]):
        assert integer_ids(ids) is None, ids


# --- the reference labels ------------------------------------------------------------------------------------------


def test_labels_are_kept_beside_the_predictions(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path):
    assert _predict(labelled_csv, tmp_path / "s.csv", tiny_model_dir).exit_code == 0
    assert _predict(labelled_csv, tmp_path / "s.parquet", tiny_model_dir).exit_code == 0
    source = pd.read_csv(labelled_csv)
    for scored in (pd.read_csv(tmp_path / "s.csv"), pd.read_parquet(tmp_path / "s.parquet")):
        assert scored.columns.tolist() == LABELLED
        assert scored["label"].tolist() == source["y"].tolist()


def test_unlabelled_input_has_no_label_column(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path):
    pd.read_csv(labelled_csv).drop(columns="y").to_csv(tmp_path / "u.csv", index=False)
    assert _predict(tmp_path / "u.csv", tmp_path / "s.csv", tiny_model_dir).exit_code == 0
    assert pd.read_csv(tmp_path / "s.csv").columns.tolist() == SCORED


def test_evaluate_reads_the_reference_labels_of_a_scored_file(tmp_path: Path, labelled_csv: Path, tiny_model_dir):
    # Every beat flagged: the model's y differs from the reference wherever a beat is not in an episode.
    assert _predict(labelled_csv, tmp_path / "s.csv", tiny_model_dir, "--threshold", "0").exit_code == 0

    def f1(path: Path) -> float:
        result = runner.invoke(app, ["evaluate", str(path), "-m", str(tiny_model_dir), "--json"])
        assert result.exit_code == 0, result.output
        return float(json.loads(result.stdout)["overall"]["f1"])

    scored = pd.read_csv(tmp_path / "s.csv")
    assert (scored["y"] != scored["label"]).any()  # else the test could not tell the columns apart
    assert f1(tmp_path / "s.csv") == f1(labelled_csv)


def test_one_function_decides_the_columns(recordings: list[Recording]):
    unlabelled = Recording.from_rr(recordings[0].rr, id="u")
    assert scored_names(False) == tuple(SCORED)
    assert scored_names(True) == tuple(LABELLED)

    class Fake:  # a scored recording: what scored_columns reads of one
        def __init__(self, rec: Recording) -> None:
            n = len(rec)
            self.recording, self.proba = rec, np.zeros(n)
            self.is_anomaly, self.error = np.zeros(n, bool), np.zeros(n, bool)

    columns = scored_columns([Fake(recordings[0]), Fake(unlabelled)])  # type: ignore[list-item]
    assert list(columns) == LABELLED
    reference = columns["label"].to_pylist()
    assert reference[: len(recordings[0])] == recordings[0].labels.tolist()  # type: ignore[union-attr]
    assert reference[len(recordings[0]) :] == [None] * len(unlabelled)
