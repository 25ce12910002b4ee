"""Datasets and their outputs: the partitions of an input (a file, or a folder of Parquet files, local or at a
URL), where each partition's scores go, and writing them so that a partition is complete or absent.

* A **dataset folder**'s partitions are its Parquet files (``.parquet``, ``.pq``) at any depth, ``key=value``
  folders included, in the natural order of their paths (``part.2`` before ``part.10``, as Dask writes them); files
  and folders whose names start with ``.`` or ``_`` (``_SUCCESS``, ``_metadata``, partial files) are skipped. Its
  output is a folder with one Parquet file per partition, at the same relative path: the input's partitioning.
* A **file** is one partition, its output one file; or, where the output names a folder (ends with ``/``), a folder
  holding ``NAME.parquet``: a dataset of one partition.
* **Atomic**: a local partition is written to a hidden ``.<name>.partial-<run>-<random>`` beside it and renamed
  over it when complete; on an object store a partition is one upload, visible whole or not at all. ``<run>`` is
  the run's own random token, recorded in the output folder's hidden ``.cardiospike-runs`` before anything is
  written: a complete run removes the partial files of the runs recorded there (killed workers', killed runs')
  and nothing else, whatever other files are named.
* **Resumable**: each output partition records, in its Parquet metadata, the run that wrote it (model, threshold,
  reading options), its input partition's path and size, and what the input's content was
  (:func:`source_identity`), so that a rerun with ``resume`` skips it while all of these are unchanged.
* **Safe**: an output that is the input, inside it or around it is refused; so is a folder holding Parquet files
  the run does not write (a reader of the folder would read them as scores), and one that already holds files
  unless the run resumes it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cardiospike.data.formats.parquet import SUFFIXES
from cardiospike.data.output import OutputError, output_target, write_atomic
from cardiospike.errors import first_line
from cardiospike.remote import (
    RemoteError,
    filesystem,
    is_url,
    join,
    list_files,
    open_file,
    read_file,
    stat,
    write_file,
)

#: The key of the Parquet metadata that says which run wrote an output partition.
METADATA_KEY = "cardiospike"
#: Partial files a killed writer leaves: ``.<name>.partial-<run>-<random>`` (8 hex digits each; files of an older
#: version have no ``<run>``). Only those whose ``<run>`` is recorded in :data:`RUNS` are ever removed.
_PARTIAL = re.compile(r"^\..+\.partial-(?:(?P<run>[0-9a-f]{8})-)?[0-9a-f]{8}$")
#: The hidden file of a local output folder that records the tokens of the runs writing into it, one per line.
RUNS = ".cardiospike-runs"
_TOKEN = re.compile(r"^[0-9a-f]{8}$")
#: What an object store says of an object that changes with its content (an ETag, a hash), and of when it was
#: written; with its size, these are an object's identity (:func:`source_identity`).
_CONTENT_KEYS = ("ETag", "etag", "md5Hash", "crc32c", "checksum")
_TIME_KEYS = ("LastModified", "last_modified", "mtime", "updated", "modified", "created")


class DatasetError(ValueError):
    """A dataset or an output that cannot be used; the message says which and why, on one line."""


@dataclass(frozen=True)
class Partition:
    """One input file: where it is (a path or a URL), its path relative to the dataset, its size in bytes, and what
    its content is (:func:`source_identity`; None until :func:`identify` finds it)."""

    source: str
    name: str
    size: int
    identity: str | None = None

    @property
    def stem(self) -> str:
        """The file's name without its extension: the recording id where the file names none."""
        return Path(self.name).stem


@dataclass(frozen=True)
class Dataset:
    """An input: its partitions, and whether it is a dataset folder (else a single file)."""

    location: str
    partitions: tuple[Partition, ...]
    folder: bool

    @property
    def identity(self) -> str | None:
        """What the whole input is (every partition's name and content identity): what a partition of a dataset
        repartitioned by id comes from. None until :func:`identify` has found every partition's."""
        found = [(p.name, p.identity) for p in self.partitions]
        if any(identity is None for _, identity in found):
            return None
        return "partitions:" + hashlib.sha256(json.dumps(sorted(found)).encode()).hexdigest()


def natural_key(name: str) -> list[Any]:
    """Sorts ``part.2`` before ``part.10``: runs of digits compared as numbers."""
    return [int(piece) if i % 2 else piece for i, piece in enumerate(re.split(r"(\d+)", name))]


def _visible(name: str) -> bool:
    return not any(part.startswith((".", "_")) for part in name.split("/"))


def open_dataset(location: str) -> Dataset:
    """The partitions of ``location``: a file, or a folder of Parquet files (local, or a URL fsspec reaches)."""
    if is_url(location):
        found_at = stat(location)
        if found_at is None:
            raise DatasetError(f"{location}: no such file or folder")
        if found_at[0] == "file":
            return Dataset(location, (Partition(location, location.rsplit("/", 1)[-1], found_at[1]),), folder=False)
        files = list_files(location)
        found = [(name, size) for name, size in files if _visible(name) and name.lower().endswith(SUFFIXES)]
        partitions = [Partition(join(location, name), name, size) for name, size in found]
    else:
        path = Path(location)
        if path.is_file():
            return Dataset(location, (Partition(str(path), path.name, path.stat().st_size),), folder=False)
        if not path.is_dir():
            raise DatasetError(f"{location}: no such file or folder")
        partitions = []
        for file in path.rglob("*"):
            name = file.relative_to(path).as_posix()
            if _visible(name) and file.suffix.lower() in SUFFIXES and file.is_file():
                partitions.append(Partition(str(file), name, file.stat().st_size))
    if not partitions:
        raise DatasetError(f"{location}: a folder without Parquet files (.parquet, .pq)")
    partitions.sort(key=lambda p: natural_key(p.name))
    return Dataset(location, tuple(partitions), folder=True)


def names_folder(output: str) -> bool:
    """Whether ``output`` ends with a path separator: it names a folder, whatever it holds or is called."""
    return output != "-" and (output.endswith("/") or output.endswith(os.sep))


def output_name(name: str) -> str:
    """The name in an output folder of the scores of the input partition ``name``: the same relative path, as a
    Parquet file (a file of another format, ``day.csv``, scored into a folder: ``day.parquet``)."""
    if name.lower().endswith(SUFFIXES):
        return name
    stem, _, _ = name.rpartition(".")
    return f"{stem or name}.parquet"


def repartitioned_names(n: int) -> list[str]:
    """The partitions a dataset repartitioned by id is written to (``engines.dask``): ``part-00000.parquet`` ..."""
    return [f"part-{i:05d}.parquet" for i in range(n)]


@dataclass(frozen=True)
class Target:
    """Where a dataset's scores go: a file, or a folder of partitions (for a dataset folder, or a file given a
    folder)."""

    location: str
    folder: bool

    def name_of(self, name: str) -> str:
        """The output's name, in the folder, of the input partition ``name`` (for a file, ``name`` itself)."""
        return output_name(name) if self.folder else name

    def path_of(self, name: str) -> str:
        """The output of the input partition ``name`` (or, for a file, the output file)."""
        if not self.folder:
            return self.location
        name = output_name(name)
        return join(self.location, name) if is_url(self.location) else str(Path(self.location, name))


def open_target(
    output: str, dataset: Dataset, *, force: bool = False, resume: bool = False, repartition: bool = False
) -> Target:
    """The output of ``dataset``, after refusing outputs that must not be written (see the module docstring).

    ``repartition``: the engine may repartition the dataset by id (``dask``), so the output's partitions may be
    :func:`repartitioned_names` rather than the input's.
    """
    if output == "-":
        raise DatasetError("Parquet cannot be written to standard output: give a file or folder with -o")
    if dataset.folder and output.lower().endswith(".csv"):
        raise DatasetError(
            f"{output}: a dataset folder is scored into a folder of Parquet partitions, not a CSV file: give a folder"
        )
    _refuse_overlap(output, dataset.location)
    if not dataset.folder and not names_folder(output):
        if not output.lower().endswith(SUFFIXES):
            raise DatasetError(
                f"{output}: scores are written as Parquet here: name the output NAME.parquet (a CSV output is "
                "written on this machine, from a local file, without --engine dask, --scheduler or --resume), or "
                "a folder (NAME/)"
            )
        if is_url(output):
            return Target(output, folder=False)
        try:
            target = output_target(output, [dataset.location], force=force)
        except OutputError as exc:
            raise DatasetError(str(exc)) from None
        assert target is not None
        return Target(str(target), folder=False)
    named = names_folder(output)
    if is_url(output):
        if (stat(output) or ("", 0))[0] == "file":
            raise DatasetError(_not_a_folder(output, named, output.rstrip("/")))
        output = output.rstrip("/")
        held = [name for name, _ in list_files(output)]
    else:
        folder = Path(output).absolute()
        if folder.exists() and not folder.is_dir():
            raise DatasetError(_not_a_folder(output, named, str(folder)))
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        if not os.access(existing, os.W_OK | os.X_OK):
            raise DatasetError(f"cannot write {output}: permission denied in {existing}")
        held = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
        output = str(folder)
    # Parquet files the run will not write over would be read with its scores by any reader of the folder (pyarrow,
    # Dask, Spark, this package): another dataset's, or an earlier run's of another partitioning. Refused before
    # anything is written, with or without --resume; never removed (they are not this run's).
    writes = {output_name(p.name) for p in dataset.partitions}
    if repartition and dataset.folder and len(dataset.partitions) > 1:
        writes.update(repartitioned_names(len(dataset.partitions)))
    foreign = sorted((n for n in held if _is_partition(n) and n not in writes), key=natural_key)
    if foreign:
        raise DatasetError(
            f"{output} holds {len(foreign)} Parquet file(s) this run does not write: {listed(foreign)}: a reader of "
            "the folder would read them as scores; move them elsewhere, or give another folder"
        )
    held = [name for name in held if not _PARTIAL.match(name.rsplit("/", 1)[-1]) and name != RUNS]
    if held and not resume:
        raise DatasetError(
            f"{output} already holds {len(held)} file(s): --resume completes it (keeping the partitions this model "
            "and these options already scored from the same input), or give a new folder"
        )
    return Target(output, folder=True)


def _not_a_folder(output: str, named: bool, path: str) -> str:
    if named:
        return f"{output} names a folder, but {path} is a file: give a folder, or a file name"
    return f"{output} is not a folder: a dataset folder is scored into a folder"


def _is_partition(name: str) -> bool:
    """Whether a reader of a dataset folder reads the file ``name`` (relative to it) as a partition."""
    return _visible(name) and name.lower().endswith(SUFFIXES)


def listed(names: list[str], most: int = 5) -> str:
    """``a, b, c`` (beyond ``most``: ``and N more``), to name files in one line."""
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def _refuse_overlap(output: str, source: str) -> None:
    """Refuse an output that is the input, lies inside it, or holds it: it would write over what is scored."""
    if is_url(output) != is_url(source):
        return
    if is_url(output):
        out, inp = output.rstrip("/"), source.rstrip("/")
    else:
        out, inp = str(Path(output).resolve()), str(Path(source).resolve())
    if out == inp:
        raise DatasetError(f"{output} is the input {source}: write the output elsewhere")
    if out.startswith(inp + "/"):
        raise DatasetError(f"{output} lies inside the input folder {source}: write the output elsewhere")
    if inp.startswith(out + "/"):
        raise DatasetError(f"{output} holds the input {source}: write the output elsewhere")


def write_output(path: str, data: bytes, *, tag: str = "") -> None:
    """Write an output partition (or file) atomically: a local file by renaming, an object by one upload.

    ``tag``: the run's token, carried by the name of the partial file (see :func:`start_output`).
    """
    if is_url(path):
        write_file(path, data)
    else:
        # A partition's folders (``date=2021-03-08/``) are made as it is written: the output folder is new or resumed.
        write_atomic(
            Path(path), lambda handle: handle.write(data), hidden=True, parents=True, tag=f"{tag}-" if tag else ""
        )


def written_by(path: str) -> dict[str, Any] | None:
    """What the run that wrote the output at ``path`` recorded in it (with its ``rows``); None where there is no
    output, or one no run of this package wrote completely."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if is_url(path):
            with open_file(path) as handle:
                meta = pq.read_metadata(handle)
        else:
            meta = pq.read_metadata(path)
    except (FileNotFoundError, IsADirectoryError):
        return None
    except (pa.ArrowInvalid, OSError, RemoteError):  # not Parquet, truncated: written by something else
        return None
    raw = (meta.metadata or {}).get(METADATA_KEY.encode())
    if raw is None:
        return None
    try:
        recorded = json.loads(raw)
    except ValueError:
        return None
    return {**recorded, "rows": meta.num_rows} if isinstance(recorded, dict) else None


# --- what an input was: its content's identity ---------------------------------------------------------------------


def source_identity(partition: Partition) -> str:
    """What the content of an input partition is: ``sha256:<hex>`` of a local file's bytes; for an object at a URL,
    what the store says of it that changes with its content (its ETag or hash, its size and when it was written),
    without reading it."""
    if is_url(partition.source):
        fs, path = filesystem(partition.source)
        try:
            info = fs.info(path)
        except FileNotFoundError:
            raise DatasetError(f"{partition.source}: no such file (removed since it was listed?)") from None
        except Exception as exc:
            raise RemoteError(f"{partition.source}: cannot read it: {type(exc).__name__}: {first_line(exc)}") from None
        return _object_identity(partition.source, info)
    try:
        with open(partition.source, "rb") as handle:
            return "sha256:" + hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        raise DatasetError(f"{partition.source}: no such file (removed since it was listed?)") from None
    except OSError as exc:
        raise DatasetError(f"{partition.source}: cannot read it: {exc.strerror or exc}") from None


def identify(dataset: Dataset) -> Dataset:
    """``dataset`` with every partition's :func:`source_identity` (a dataset folder at a URL: from one listing of
    it). Each partition carries its own to the worker that scores it, so that no task carries all of them."""
    if not (dataset.folder and is_url(dataset.location)):
        return replace(dataset, partitions=tuple(replace(p, identity=source_identity(p)) for p in dataset.partitions))
    fs, root = filesystem(dataset.location)
    try:
        found = fs.find(root, detail=True)
    except Exception as exc:
        raise RemoteError(f"{dataset.location}: cannot list it: {type(exc).__name__}: {first_line(exc)}") from None
    infos = {str(name)[len(root) :].lstrip("/"): info for name, info in found.items()}
    partitions = tuple(
        replace(p, identity=_object_identity(p.source, infos[p.name]) if p.name in infos else source_identity(p))
        for p in dataset.partitions
    )
    return replace(dataset, partitions=partitions)


def _object_identity(url: str, info: dict[str, Any]) -> str:
    """An object's identity from what its store says of it; its bytes' SHA-256 where the store says nothing that
    changes with its content (no ETag, hash or time: its size alone would not tell a change)."""
    keys = [k for k in (*_CONTENT_KEYS, "size", *_TIME_KEYS) if info.get(k) not in (None, "")]
    if not set(keys) - {"size"}:
        return "sha256:" + hashlib.sha256(read_file(url)).hexdigest()
    return ";".join(f"{k}={_text(info[k])}" for k in keys)


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime.datetime | datetime.date) else str(value)


# --- the run's own files: its token, its partial files, and Parquet files it did not write --------------------------


def start_output(target: Target, token: str) -> Path | None:
    """Record the run's ``token`` in a local output folder (made where missing) before anything is written into it;
    returns the topmost folder this made (None: none), which :func:`finish_output` removes again if left empty."""
    if not target.folder or is_url(target.location):
        return None
    folder = Path(target.location)
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / RUNS, "a", encoding="ascii") as handle:
            handle.write(token + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise DatasetError(f"cannot write {target.location}: {exc.strerror or exc}") from None
    return missing[-1] if missing else None


def finish_output(target: Target, token: str, *, complete: bool, made: Path | None = None) -> int:
    """Tidy a local output after a run; returns how many partial files were removed.

    After a ``complete`` run, no writer of it is left: the partial files of the runs recorded in the folder (this
    one's, and killed runs') are removed, then the record. Only files whose names carry a recorded token: a file
    named like a partial file by anyone else stays. After a failed run, writers may still be at work (a Dask task
    is not stopped when it is cancelled): the record stays for the next run, unless nothing else was written (an
    output refused before its first partition), when the record goes, and the folders the run ``made``.
    """
    if is_url(target.location):
        return 0
    if not target.folder:  # a file's own partial files lie beside it, in a folder that is not the run's
        path = Path(target.location)
        if not complete or not path.parent.is_dir():
            return 0
        mine = f".{path.name}.partial-{token}-"
        return _remove((p for p in path.parent.iterdir() if p.name.startswith(mine)), {token})
    folder = Path(target.location)
    if not folder.is_dir():
        return 0
    record = folder / RUNS
    removed = 0
    if complete:
        runs = {token}
        if record.is_file():
            lines = record.read_text(encoding="ascii", errors="replace").split()
            runs.update(line for line in lines if _TOKEN.match(line))
        removed = _remove(folder.rglob(".*.partial-*"), runs)
        record.unlink(missing_ok=True)
    elif [p.name for p in folder.iterdir()] == [RUNS]:
        record.unlink(missing_ok=True)
        for empty in (folder, *folder.parents):
            if made is None or not empty.is_relative_to(made):
                break
            try:
                empty.rmdir()
            except OSError:  # not empty: something else is in it
                break
    return removed


def _remove(paths: Iterable[Path], runs: Collection[str]) -> int:
    """Remove the partial files among ``paths`` whose names carry the token of one of ``runs``."""
    removed = 0
    for path in paths:
        match = _PARTIAL.match(path.name)
        if match and match["run"] in runs and path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def unwritten(target: Target, written: Collection[str]) -> list[str]:
    """The Parquet files in an output folder, by their relative paths, that are not among those ``written`` (or
    kept) by the run: another partitioning's, left by an earlier run (a repartition decided after the folder was
    checked)."""
    if not target.folder:
        return []
    if is_url(target.location):
        names = [name for name, _ in list_files(target.location)]
    else:
        folder = Path(target.location)
        names = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    return sorted((n for n in names if _is_partition(n) and n not in written), key=natural_key)
