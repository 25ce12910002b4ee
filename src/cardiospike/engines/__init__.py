"""Scoring datasets larger than one machine's memory: Parquet partitions, local or in object storage (``s3://``).

Each partition is scored whole, with the same batched scoring as the single-machine path
(:meth:`~cardiospike.detector.Detector.score_many`), and written as one Parquet file that is complete or absent.
Two engines run the partitions:

* ``local`` (:mod:`~cardiospike.engines.local`): one after another, in this process;
* ``dask`` (:mod:`~cardiospike.engines.dask`): spread over a Dask cluster, an existing one (a scheduler's address)
  or a ``LocalCluster`` of one worker process per core; the model is loaded once per worker. Needs the ``dask``
  extra (``pip install 'cardiospike[dask]'``), which neither the plain install nor the service needs.

:func:`~cardiospike.engines.run.score_dataset` is the entry point. Importing this package loads neither pandas nor
Dask.
"""

from __future__ import annotations

from typing import Literal

Engine = Literal["local", "dask"]
#: The engines by name (``cardiospike predict --engine``).
ENGINES: tuple[Engine, ...] = ("local", "dask")
