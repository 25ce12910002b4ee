"""Where training writes checkpoints and logs: a local folder or any fsspec URL (``s3://bucket/prefix`` ...)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def is_remote(url: str) -> bool:
    """True for URLs with a scheme other than ``file`` (``s3://``, ``gs://``, ``memory://`` ...)."""
    return "://" in url and not url.startswith("file://")


def join(url: str, *parts: str) -> str:
    """``url`` with path ``parts`` appended, for local paths and URLs alike."""
    return "/".join([url.rstrip("/"), *parts])


@contextmanager
def mirrored(url: str) -> Iterator[str]:
    """A local folder whose content ends up at ``url``.

    Local paths are used as they are. For a URL, writers (Lightning's checkpoints, TensorBoard's event files) write
    into a temporary folder, uploaded with fsspec when the block ends, so every storage fsspec reaches works the
    same way and a failed upload is one clear error rather than a half-written run.
    """
    if not is_remote(url):
        Path(url).mkdir(parents=True, exist_ok=True)
        yield url
        return
    import fsspec  # only for URLs: a local run needs no fsspec

    with tempfile.TemporaryDirectory(prefix="cardiospike-") as local:
        yield local
        fs, path = fsspec.core.url_to_fs(url)
        for file in sorted(Path(local).rglob("*")):
            if file.is_file():
                fs.put_file(str(file), f"{path.rstrip('/')}/{file.relative_to(local).as_posix()}")
