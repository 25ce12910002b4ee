"""``--engine dask`` without a scheduler starts a ``LocalCluster`` whose dashboard takes no fixed port.

Dask's default dashboard address is ``:8787`` on every interface: a second run at once, a Jupyter server or another
cluster on 8787 made it warn and move, and the dashboard faced the network. The engine's cluster puts it on a free
port of loopback.
"""

from __future__ import annotations

import socket
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from cardiospike.engines.dask import connect, describe

pytestmark = pytest.mark.integration
distributed = pytest.importorskip("distributed", reason="the 'dask' extra is not installed")

DASK_DASHBOARD_PORT = 8787


@pytest.fixture
def port_8787_taken() -> Iterator[None]:
    """8787 held by another program, where this machine lets the test hold it (else something already holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        try:
            holder.bind(("127.0.0.1", DASK_DASHBOARD_PORT))
            holder.listen()
        except OSError:
            pass
        yield


def test_the_local_clusters_dashboard_takes_a_free_port_of_loopback(
    port_8787_taken: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: dict[str, Any] = {}
    real = distributed.LocalCluster

    def recording_cluster(*args: Any, **kwargs: Any) -> Any:
        asked.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(distributed, "LocalCluster", recording_cluster)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with connect(None, workers=1) as client:
            info = client.scheduler_info()
            text = describe(client)
    assert asked["dashboard_address"] == "127.0.0.1:0"
    assert len(info["workers"]) == 1
    port = info.get("services", {}).get("dashboard")  # absent where bokeh (the dashboard's need) is not installed
    assert port != DASK_DASHBOARD_PORT
    assert "8787" not in text
    assert not [w for w in caught if "8787" in str(w.message)]
