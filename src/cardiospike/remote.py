"""The one place that knows URLs and object storage: what a URL is, reading and uploading files, mirrored folders.

Model artifacts (``s3://bucket/models/x``) and training's checkpoints and logs may live at any URL fsspec reaches
(s3fs for ``s3://``). fsspec is imported only where a URL is used, so local paths need neither it nor s3fs. Every
failure of the store is a :class:`RemoteError` whose one-line message names the URL and says why.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cardiospike.errors import first_line

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

#: botocore settings for ``s3://`` URLs. botocore's defaults (60 s connect timeout, several retries) would hold a
#: service with a wrong endpoint in start-up for minutes; a model is loaded once, at start-up, where failing fast
#: with the reason is worth more than riding out a blip.
S3_CONFIG: dict[str, Any] = {
    "connect_timeout": 5,
    "read_timeout": 60,
    "retries": {"max_attempts": 2, "mode": "standard"},
}

S3_CREDENTIALS_HINT = "check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's policy"

_INSTALL = "pip install 'cardiospike[s3]'"


class RemoteError(RuntimeError):
    """A URL that cannot be opened, read or written; the message names it and says why, on one line."""


def is_url(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` is a URL (``s3://bucket/models/x``) rather than a local path.

    Only a string can be a URL: a :class:`~pathlib.Path` is a local path whatever it holds.
    """
    return isinstance(location, str) and _URL.match(location) is not None


def join(location: str, *parts: str) -> str:
    """``location`` (a local path or a URL) with path ``parts`` appended."""
    return "/".join([location.rstrip("/"), *parts])


#: File systems by protocol and the environment they were made in (``AWS_*``): made once per process, not per URL.
_FILESYSTEMS: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path of ``url`` within it (without a trailing slash).

    The endpoint and credentials come from the environment (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY``; or ``~/.aws``, an instance role...), as botocore reads them.
    """
    protocol = url.split("://", 1)[0].lower()
    try:
        import fsspec
    except ImportError:
        raise RemoteError(f"{url}: URLs need the 's3' extra (fsspec is missing): {_INSTALL}") from None
    try:
        if protocol in ("s3", "s3a"):
            # Made once per process and environment: fsspec's own cache of instances goes by their arguments, not
            # by the environment they read. Listings are not cached: other processes (workers) write the same
            # folders.
            key = (protocol, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))))
            if key not in _FILESYSTEMS:
                options = {"config_kwargs": S3_CONFIG, "skip_instance_cache": True, "use_listings_cache": False}
                _FILESYSTEMS[key] = fsspec.core.url_to_fs(url, **options)[0]
            fs = _FILESYSTEMS[key]
            path = fs._strip_protocol(url)
        else:
            fs, path = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        raise RemoteError(
            f"{url}: {protocol}:// needs the 's3' extra ({exc.name or exc} is missing): {_INSTALL}"
        ) from None
    except ValueError as exc:  # fsspec: "Protocol not known"
        raise RemoteError(f"{url}: unsupported URL: {exc}") from None
    return fs, str(path).rstrip("/")


class RemoteFolder:
    """A folder at a URL whose files are read whole; every failure but a missing file is a :class:`RemoteError`."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.fs, self.path = filesystem(self.url)

    def read(self, name: str) -> bytes:
        """The bytes of the file ``name``; FileNotFoundError where it (or its bucket) does not exist."""
        try:
            return bytes(self.fs.cat_file(f"{self.path}/{name}"))
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise _failure(f"{self.url}/{name}", "read it", exc) from None

    @property
    def bucket(self) -> str | None:
        """The bucket of an object store's URL (``s3://bucket/...``); None for other file systems."""
        return self.path.split("/", 1)[0] if self.fs.protocol and "s3" in self.fs.protocol else None

    def missing(self) -> str | None:
        """What is missing of the folder: ``"bucket"``, the folder itself (``"folder"``) or nothing (None)."""
        try:
            if self.bucket is not None and not self.fs.exists(self.bucket):
                return "bucket"
            return None if self.fs.exists(self.path) else "folder"
        except Exception as exc:  # the store failed in between: say what failed
            raise _failure(self.url, "read it", exc) from None


def upload(folder: Path, url: str, last: str | None = None) -> None:
    """Upload every file below the local ``folder`` to the same relative path at ``url``, in name order.

    ``last`` (a file name) goes last: object stores have no atomic rename, so a reader that waits for that file
    (an artifact's manifest) never finds it before the files it describes.
    """
    fs, path = filesystem(url)
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    if last is not None and last in names:
        names = [*(n for n in names if n != last), last]
    for name in names:
        try:
            fs.put_file(str(folder / name), f"{path}/{name}")
        except Exception as exc:
            raise _failure(f"{url}/{name}", "upload it", exc) from None


@contextmanager
def mirrored(location: str) -> Iterator[str]:
    """A local folder whose content ends up at ``location`` (a local path or a URL).

    A local path is used as it is. For a URL, writers (Lightning's checkpoints, TensorBoard's event files) write
    into a temporary folder, uploaded when the block ends, so every storage fsspec reaches works the same way and
    a failed upload is one clear error rather than a half-written run.
    """
    if not is_url(location):
        Path(location).mkdir(parents=True, exist_ok=True)
        yield location
        return
    with tempfile.TemporaryDirectory(prefix="cardiospike-") as local:
        yield local
        upload(Path(local), location)


def _failure(url: str, doing: str, exc: Exception) -> RemoteError:
    """One store failure as a :class:`RemoteError` that names the URL and says why (access denied: which settings).

    Whatever the store's client raises (botocore's EndpointConnectionError, NoCredentialsError, timeouts ...) means
    the same thing: this cannot be done, and why.
    """
    if isinstance(exc, PermissionError):  # s3fs: AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch
        return RemoteError(f"{url}: access denied ({first_line(exc)}): {S3_CREDENTIALS_HINT}")
    return RemoteError(f"{url}: cannot {doing}: {type(exc).__name__}: {first_line(exc)}")


def stat(url: str) -> tuple[str, int] | None:
    """What is at ``url``, ``"file"`` or ``"folder"``, and its size in bytes (0 for a folder); None where nothing is
    (or its bucket does not exist)."""
    fs, path = filesystem(url)
    try:
        if fs.isfile(path):
            return "file", int(fs.size(path) or 0)
        return ("folder", 0) if fs.isdir(path) else None
    except FileNotFoundError:
        return None
    except Exception as exc:
        raise _failure(url, "read it", exc) from None


def list_files(url: str) -> list[tuple[str, int]]:
    """Every file below the folder at ``url``: its path relative to the folder (``a/b.parquet``) and its size."""
    fs, path = filesystem(url)
    try:
        found = fs.find(path, detail=True)
    except FileNotFoundError:
        return []
    except Exception as exc:
        raise _failure(url, "list it", exc) from None
    return [
        (str(name)[len(path) :].lstrip("/"), int(info.get("size") or 0))
        for name, info in sorted(found.items())
        if info.get("type") != "directory" and str(name).startswith(path + "/")
    ]


def read_file(url: str) -> bytes:
    """The bytes of the file at ``url``; FileNotFoundError where it does not exist."""
    fs, path = filesystem(url)
    try:
        return bytes(fs.cat_file(path))
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise _failure(url, "read it", exc) from None


@contextmanager
def open_file(url: str) -> Iterator[Any]:
    """The file at ``url`` opened for reading in ranges (a Parquet footer without the rest); FileNotFoundError where
    it does not exist."""
    fs, path = filesystem(url)
    try:
        handle = fs.open(path, "rb")
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise _failure(url, "read it", exc) from None
    with handle:
        yield handle


def write_file(url: str, data: bytes) -> None:
    """Write ``data`` as the file at ``url``: on an object store one upload, so the object appears whole or not at
    all (a multi-part upload is only visible once complete)."""
    fs, path = filesystem(url)
    try:
        fs.pipe_file(path, data)
    except Exception as exc:
        raise _failure(url, "write it", exc) from None
