"""``python -m cardiospike``: the same command line as ``cardiospike``."""

from cardiospike.cli import app

app(prog_name="cardiospike")
