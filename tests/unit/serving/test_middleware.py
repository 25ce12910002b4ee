from collections.abc import Iterator

from fastapi.testclient import TestClient

from .conftest import assert_error


def test_body_over_the_limit_by_content_length(small_client: TestClient):
    body = b'{"study": "a", "sequence": [' + b"800, " * 1000 + b"800]}"
    response = small_client.post("/api/v1/predict", content=body, headers={"Content-Type": "application/json"})
    detail = assert_error(response, 413)["detail"]
    assert f"{len(body)} bytes" in detail
    assert "limit is 4096 bytes" in detail


def test_body_over_the_limit_while_streaming(small_client: TestClient):
    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is known only as the body arrives
        yield b'{"study": "a", "sequence": ['
        for _ in range(200):
            yield b"800, " * 10
        yield b"800]}"

    response = small_client.post("/api/v1/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert "limit is 4096 bytes" in assert_error(response, 413)["detail"]


def test_body_under_the_limit_is_replayed_whole(small_client: TestClient):
    def chunks() -> Iterator[bytes]:
        yield b'{"study": "a", '
        yield b'"sequence": [800, 810, 790]}'

    response = small_client.post("/api/v1/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["n_beats"] == 3


def test_batch_upload_over_the_limit(small_client: TestClient):
    csv = b"id,time,x\n" + b"".join(b"1,%d,800\n" % (i * 800) for i in range(1000))
    assert_error(small_client.post("/api/v1/predict/batch", files={"file": ("big.csv", csv)}), 413)
