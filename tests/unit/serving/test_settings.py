from pathlib import Path

import pytest

from cardiospike.serving.settings import MiB, Settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)  # no .env here
    s = Settings()
    assert (s.host, s.port, s.workers, s.model) == ("127.0.0.1", 8000, 1, None)
    assert (s.max_beats, s.max_body_bytes, s.api_key, s.cors_origins) == (100_000, 8 * MiB, None, [])


def test_environment_with_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CARDIOSPIKE_PORT", "9001")
    monkeypatch.setenv("CARDIOSPIKE_MODEL", "/models/x")
    monkeypatch.setenv("CARDIOSPIKE_API_KEY", "s3cret")
    monkeypatch.setenv("CARDIOSPIKE_CORS_ORIGINS", "https://a.org, https://b.org")
    s = Settings()
    assert (s.port, s.model, s.cors_origins) == (9001, Path("/models/x"), ["https://a.org", "https://b.org"])
    assert s.api_key is not None
    assert s.api_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s)  # a secret: never printed with the settings


def test_dotenv_file_and_json_origins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text('CARDIOSPIKE_WORKERS=3\nCARDIOSPIKE_CORS_ORIGINS=["https://c.org"]\n')
    s = Settings()
    assert (s.workers, s.cors_origins) == (3, ["https://c.org"])


def test_empty_api_key_means_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CARDIOSPIKE_API_KEY", "")
    assert Settings().api_key is None


def test_init_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CARDIOSPIKE_PORT", "9001")
    assert Settings(port=9002).port == 9002


def test_the_stream_key_deadline_and_the_stuck_job_limit(monkeypatch: pytest.MonkeyPatch):
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (defaults.stream_auth_timeout, defaults.stuck_after) == (5.0, 60.0)
    monkeypatch.setenv("CARDIOSPIKE_STREAM_AUTH_TIMEOUT", "2.5")
    monkeypatch.setenv("CARDIOSPIKE_STUCK_AFTER", "120")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.stream_auth_timeout, settings.stuck_after) == (2.5, 120.0)


def test_scoring_jobs_share_the_cores_among_the_workers(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("cardiospike.serving.settings.available_cores", lambda: 8)
    assert Settings(workers=1).scoring_jobs() == 8
    assert Settings(workers=3).scoring_jobs() == 2
    assert Settings(workers=16).scoring_jobs() == 1
    assert Settings(workers=3, jobs=0).scoring_jobs() == 2  # 0: the default
    monkeypatch.setenv("CARDIOSPIKE_JOBS", "5")
    assert Settings(workers=3).scoring_jobs() == 5
