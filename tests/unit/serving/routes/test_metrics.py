from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ..conftest import MakeApp


def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_requests_latency_and_beats(make_app: MakeApp):
    with TestClient(make_app(max_body_bytes=2048)) as client:
        client.post("/api/v1/predict", json={"study": "a", "sequence": [800, 810, 790]})
        client.post("/predict", json={"study": "a", "sequence": [800, 810]})
        client.post("/api/v1/predict", json={"study": "a", "sequence": []})
        client.post("/api/v1/predict", content=b"x" * 4096, headers={"Content-Type": "application/json"})
        client.get("/no/such/path")
        samples = _samples(client)

    def requests(route: str, status: str, method: str = "POST") -> float:
        key = ("cardiospike_http_requests_total", (("method", method), ("route", route), ("status", status)))
        return samples.get(key, 0.0)

    assert requests("/api/v1/predict", "200") == 1
    assert requests("/api/v1/predict", "422") == 1
    assert requests("/api/v1/predict", "413") == 1  # answered by the body limit, before routing
    assert requests("/predict", "200") == 1
    assert requests("<unmatched>", "404", "GET") == 1
    assert samples[("cardiospike_beats_scored_total", ())] == 5
    assert samples[("cardiospike_http_request_duration_seconds_count", (("route", "/api/v1/predict"),))] == 3


def test_metrics_are_open_without_the_api_key(make_app: MakeApp):
    with TestClient(make_app(api_key="k")) as client:
        assert client.get("/metrics").status_code == 200
