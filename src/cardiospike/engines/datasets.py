"""Datasets and their outputs: the partitions of an input (a file, or a folder of Parquet files, local or at a
URL), where each partition's scores go, and writing them so that a partition is complete or absent.

* A **dataset folder**'s partitions are its Parquet files (``.parquet``, ``.pq``) at any depth, ``key=value``
  folders included, in the natural order of their paths (``part.2`` before ``part.10``, as Dask writes them); files
  and folders whose names start with ``.`` or ``_`` (``_SUCCESS``, ``_metadata``, partial files) are skipped. Its
  output is a folder with one Parquet file per partition, at the same relative path: the input's partitioning.
* A **file** is one partition, its output one file.
* **Atomic**: a local partition is written to a hidden ``.<name>.partial-<random>`` beside it and renamed over it
  when complete; on an object store a partition is one upload, visible whole or not at all. Each output partition
  records, in its Parquet metadata, the run that wrote it (model, threshold, reading options) and the size of the
  input partition, so that a rerun with ``resume`` can skip it.
* **Safe**: an output that is the input, inside it or around it is refused; so is a folder that already holds
  files, unless the run resumes it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cardiospike.data.formats.parquet import SUFFIXES
from cardiospike.data.output import OutputError, output_target, write_atomic
from cardiospike.remote import RemoteError, is_url, join, list_files, open_file, stat, write_file

#: The key of the Parquet metadata that says which run wrote an output partition.
METADATA_KEY = "cardiospike"
#: Partial files a killed writer leaves: ``.<name>.partial-<8 hex digits>``.
_PARTIAL = re.compile(r"^\..+\.partial-[0-9a-f]{8}$")


class DatasetError(ValueError):
    """A dataset or an output that cannot be used; the message says which and why, on one line."""


@dataclass(frozen=True)
class Partition:
    """One input file: where it is (a path or a URL), its path relative to the dataset, and its size in bytes."""

    source: str
    name: str
    size: int

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


@dataclass(frozen=True)
class Target:
    """Where a dataset's scores go: a file (for a file), or a folder of partitions (for a dataset folder)."""

    location: str
    folder: bool

    def path_of(self, name: str) -> str:
        """The output of the input partition ``name`` (or, for a file, the output file)."""
        if not self.folder:
            return self.location
        return join(self.location, name) if is_url(self.location) else str(Path(self.location, name))


def open_target(output: str, dataset: Dataset, *, force: bool = False, resume: bool = False) -> Target:
    """The output of ``dataset``, after refusing outputs that must not be written (see the module docstring)."""
    if output == "-":
        raise DatasetError("Parquet cannot be written to standard output: give a file or folder with -o")
    if dataset.folder and output.lower().endswith(".csv"):
        raise DatasetError(
            f"{output}: a dataset folder is scored into a folder of Parquet partitions, not a CSV file: give a folder"
        )
    _refuse_overlap(output, dataset.location)
    if not dataset.folder:
        if not output.lower().endswith(SUFFIXES):
            raise DatasetError(
                f"{output}: scores are written as Parquet here: name the output NAME.parquet (a CSV output is "
                "written on this machine, from a local file, without --engine dask, --scheduler or --resume)"
            )
        if is_url(output):
            return Target(output, folder=False)
        try:
            target = output_target(output, [dataset.location], force=force)
        except OutputError as exc:
            raise DatasetError(str(exc)) from None
        assert target is not None
        return Target(str(target), folder=False)
    if is_url(output):
        if (stat(output) or ("", 0))[0] == "file":
            raise DatasetError(f"{output} is a file: a dataset folder is scored into a folder")
        held = [name for name, _ in list_files(output)]
    else:
        folder = Path(output).absolute()
        if folder.exists() and not folder.is_dir():
            raise DatasetError(f"{output} is not a folder: a dataset folder is scored into a folder")
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        if not os.access(existing, os.W_OK | os.X_OK):
            raise DatasetError(f"cannot write {output}: permission denied in {existing}")
        held = [p.name for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
        output = str(folder)
    held = [name for name in held if not _PARTIAL.match(name.rsplit("/", 1)[-1])]
    if held and not resume:
        raise DatasetError(
            f"{output} already holds {len(held)} file(s): --resume completes it (keeping the partitions this model "
            "and these options already scored), or give a new folder"
        )
    return Target(output, folder=True)


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


def write_output(path: str, data: bytes) -> None:
    """Write an output partition (or file) atomically: a local file by renaming, an object by one upload."""
    if is_url(path):
        write_file(path, data)
    else:
        # A partition's folders (``date=2021-03-08/``) are made as it is written: the output folder is new or resumed.
        write_atomic(Path(path), lambda handle: handle.write(data), hidden=True, parents=True)


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


def remove_partials(target: Target) -> int:
    """Remove the partial files killed writers left in a local output folder; returns how many."""
    if not target.folder or is_url(target.location) or not Path(target.location).is_dir():
        return 0
    removed = 0
    for path in Path(target.location).rglob(".*.partial-*"):
        if _PARTIAL.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed
