"""The package's version, read from its installed metadata (whose one source is ``pyproject.toml``).

Imports nothing heavy, so that ``cardiospike --version`` answers at once.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """The installed version of cardiospike (``0+unknown`` in a source tree that is not installed)."""
    try:
        return version("cardiospike")
    except PackageNotFoundError:
        return "0+unknown"
