"""The deployment files, checked without Docker (no engine on these machines): what they say must hold."""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.serving.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
ENV_EXAMPLE = DEPLOY / ".env.example"

#: ``${NAME}``, ``${NAME:-default}`` in the compose file.
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _env_example() -> dict[str, str]:
    """The settings of .env.example (``NAME=value`` lines; comments skipped)."""
    pairs = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def _with_defaults(text: str) -> str:
    """``text`` with every ``${NAME:-default}`` replaced by its default, as compose does without a .env."""
    return INTERPOLATION.sub(lambda m: m.group(2) or "", text)


def _stages() -> dict[str, str]:
    """The Dockerfile's stages by name, each the text from its FROM to the next."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    parts = re.split(r"^FROM ", text, flags=re.M)[1:]
    stages = {}
    for part in parts:
        header = part.splitlines()[0]
        name = header.split(" AS ")[-1].strip() if " AS " in header else header
        stages[name] = "FROM " + part
    return stages


def _instructions(stage: str, keyword: str) -> list[str]:
    return [line[len(keyword) + 1 :].strip() for line in stage.splitlines() if line.startswith(keyword + " ")]


# --- .env.example and the settings -----------------------------------------------------------------------------------


def test_env_example_documents_every_setting_and_only_settings():
    documented = {
        name.removeprefix("CARDIOSPIKE_").lower() for name in _env_example() if name.startswith("CARDIOSPIKE_")
    }
    assert documented == set(Settings.model_fields)


def test_env_example_values_are_the_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("CARDIOSPIKE_"):
            monkeypatch.delenv(name)
    from_file = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]

    def plain(s: Settings) -> dict[str, Any]:
        return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in s.model_dump().items()}

    assert plain(from_file) == plain(defaults)


def test_env_example_documents_storage_s3_and_training_outputs():
    text = ENV_EXAMPLE.read_text()
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "POSTGRES_USER", "POSTGRES_PASSWORD",
                 "POSTGRES_DB", "CHECKPOINTS_DIR", "LOGS_DIR"):  # fmt: skip
        assert re.search(rf"^#? ?{name}=", text, flags=re.M), name


def test_every_compose_variable_is_documented():
    used = {m.group(1) for m in INTERPOLATION.finditer(COMPOSE.read_text())}
    assert used <= set(_env_example()), used - set(_env_example())


# --- docker-compose.yml ----------------------------------------------------------------------------------------------


def test_compose_services_ports_and_healthchecks():
    services = _compose()["services"]
    assert {"api", "worker", "postgres", "dashboard", "minio", "dask-scheduler", "dask-worker"} <= set(services)
    ports = {name: [_with_defaults(p) for p in s.get("ports", [])] for name, s in services.items()}
    assert ports["api"] == ["8000:8000"]
    assert ports["dashboard"] == ["8080:8080"]
    for name in ("api", "postgres", "dashboard", "minio"):
        assert services[name]["healthcheck"]["test"], name
    api_check = " ".join(services["api"]["healthcheck"]["test"])
    assert "urllib" in api_check
    assert "/health" in api_check
    assert services["api"]["environment"]["CARDIOSPIKE_HOST"] == "0.0.0.0"
    assert services["api"]["build"]["target"] == "api"
    assert services["worker"]["build"]["target"] == "worker"
    assert {v.split(":")[0] for v in _compose()["volumes"]} == {"postgres-data", "minio-data", "forest-cache"}


def test_worker_scales():
    worker = _compose()["services"]["worker"]
    # docker compose up --scale worker=N refuses a fixed container name or a published host port.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_dask_scheduler_and_scalable_workers_from_the_worker_image():
    services = _compose()["services"]
    scheduler, worker = services["dask-scheduler"], services["dask-worker"]
    assert scheduler["build"]["target"] == worker["build"]["target"] == "worker"
    assert scheduler["image"] == worker["image"] == services["worker"]["image"]
    assert [_with_defaults(p) for p in scheduler["ports"]] == ["8786:8786", "8787:8787"]
    check = " ".join(scheduler["healthcheck"]["test"])
    assert "urllib" in check
    assert "8787/health" in check
    # docker compose up --scale dask-worker=N refuses a fixed container name or a published host port.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["depends_on"]["dask-scheduler"]["condition"] == "service_healthy"
    command = [_with_defaults(str(part)) for part in worker["command"]]
    assert command[:3] == ["dask", "worker", "tcp://dask-scheduler:8786"]
    assert command[command.index("--nthreads") + 1] == "1"  # one core per worker process, as LocalCluster does
    # The workers read datasets and models from the same S3 as the other services, and share compiled forests.
    assert worker["environment"]["AWS_ENDPOINT_URL"] == services["api"]["environment"]["AWS_ENDPOINT_URL"]
    assert worker["environment"]["CARDIOSPIKE_CACHE_DIR"] == "/app/.cache"
    assert "forest-cache:/app/.cache" in worker["volumes"]
    assert "ENV CARDIOSPIKE_CACHE_DIR=/app/.cache" in _stages()["worker"]
    # As a local cluster's workers: one thread for NumPy's libraries, no glibc trimming threshold (Dask's default).
    environ = ast.literal_eval(worker["environment"]["DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON"])
    assert environ["MALLOC_TRIM_THRESHOLD_"] is None
    assert environ["OMP_NUM_THREADS"] == environ["OPENBLAS_NUM_THREADS"] == 1


@pytest.mark.parametrize("service", ["dask-scheduler", "dask-worker"])
def test_dask_commands_take_their_options(service: str):
    pytest.importorskip("distributed", reason="the 'dask' extra is not installed")
    command = [_with_defaults(str(part)) for part in _compose()["services"][service]["command"]]
    dask = Path(sys.executable).parent / "dask"
    usage = subprocess.run([str(dask), command[1], "--help"], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 0, usage.stderr
    for option in (part for part in command if part.startswith("--")):
        assert option in usage.stdout, option


def _cardiospike_commands() -> list[list[str]]:
    """Every ``cardiospike ...`` command line in the compose file and the Dockerfile."""
    commands = []
    for service in _compose()["services"].values():
        command = service.get("command")
        if isinstance(command, str):
            command = shlex.split(command)
        if command and command[0] == "cardiospike":
            commands.append([_with_defaults(part) for part in command])
    for stage in _stages().values():
        for cmd in _instructions(stage, "CMD") + _instructions(stage, "ENTRYPOINT"):
            parsed = json.loads(cmd) if cmd.startswith("[") else shlex.split(cmd)
            if parsed and parsed[0] == "cardiospike":
                commands.append(parsed)
    return commands


def test_every_cardiospike_command_exists():
    commands = _cardiospike_commands()
    assert ["cardiospike", "serve"] in commands
    assert any(c[:3] == ["cardiospike", "search", "run"] for c in commands)
    for command in commands:
        words = [w for w in command[1:] if "=" not in w and not w.startswith("-")]
        result = CliRunner().invoke(app, [*words, "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_worker_command_composes_with_the_search_config():
    pytest.importorskip("optuna", reason="the 'search' extra is not installed")
    from cardiospike.search.config import search_config

    command = [_with_defaults(part) for part in _compose()["services"]["worker"]["command"]]
    assert command[:3] == ["cardiospike", "search", "run"]
    conf = search_config(command[3:])
    assert conf.storage == "postgresql+psycopg2://cardiospike:cardiospike@postgres:5432/cardiospike"
    assert conf.study == "cardiospike"
    assert conf.data.path == "/data/train.csv"
    assert int(conf.n_trials) >= 1


def test_dashboard_reads_the_workers_storage():
    services = _compose()["services"]
    storage = next(p for p in services["worker"]["command"] if p.startswith("storage="))
    assert services["dashboard"]["environment"]["OPTUNA_STORAGE"] == storage.removeprefix("storage=")


# --- Dockerfile and .dockerignore ------------------------------------------------------------------------------------


def test_final_stage_is_the_api_non_root_with_a_healthcheck():
    stages = _stages()
    name, final = list(stages.items())[-1]
    assert name == "api"
    assert final.startswith("FROM runtime")
    assert stages["runtime"].startswith("FROM ${PYTHON_IMAGE}")
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in DOCKERFILE.read_text()
    users = _instructions(final, "USER")
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    (check,) = _instructions(final, "HEALTHCHECK")
    assert "/health" in check
    assert "urllib" in check
    assert "curl" not in check
    assert _instructions(final, "CMD") == ['["cardiospike", "serve"]']
    assert "CARDIOSPIKE_HOST=0.0.0.0" in final
    assert _instructions(final, "EXPOSE") == ["8000"]


def test_no_image_installs_the_train_extra():
    stages = _stages()
    (copied,) = re.findall(r"COPY --from=(\S+) /opt/venv", stages["api"])
    installs = " ".join(re.findall(r"pip install (.*)", stages[copied]))
    # The package, its serving dependencies (the compiled forest among them) and s3fs: no torch, no Lightning.
    assert installs == '-c /lock.txt "${wheel}[s3]"'  # the locked versions
    (worker_extras,) = re.findall(r"ARG WORKER_EXTRAS=(\S+)", stages["worker-env"])
    assert set(worker_extras.split(",")) == {"search", "s3", "dask"}
    for stage in stages.values():
        for install in re.findall(r"pip install (.*)", stage):
            assert "train" not in install
            assert "torch" not in install


def test_dockerignore_keeps_the_context_small():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache", "**/__pycache__"} <= ignored
    for needed in ("src", "pyproject.toml", "README.md", "requirements"):  # what the builder stage copies
        assert needed not in ignored
