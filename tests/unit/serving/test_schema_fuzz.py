"""Property-based run against the app's own OpenAPI schema (schemathesis): no input gives a 5xx, and every answer,
errors included, has a status and a body that the schema declares.

Hypothesis drives each operation's schemathesis strategy directly (schemathesis' pytest fixture loader relies on
pytest internals that pytest 9 removed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    CheckContext,
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import MakeApp

#: Examples per operation and mode; operations without input (the GET routes) stop after their few distinct cases.
EXAMPLES = {GenerationMode.POSITIVE: 110, GenerationMode.NEGATIVE: 90}
MIN_CASES = 500

#: Operations whose invalid-by-schema inputs may be valid all the same. The parse and report routes read a file in
#: any format, and a multipart part is bytes whatever type the fuzzer meant: a "number" put in `file` is a one-beat
#: text file.
ACCEPTS_ANY_FILE = {"POST /api/v1/recordings/parse", "POST /api/v1/report"}

#: Rules the schema states in words because JSON Schema cannot: one time and one label per RR value, times
#: increasing, an uploaded file must hold RR recordings (a file of random bytes is a valid multipart body all the
#: same), a recording asked for by id must be in the file, and RR read in seconds is at most 100 s (times, as many ms
#: as a float holds).
DESCRIBED_RULES = {
    "times_length",
    "labels_length",
    "times_not_increasing",
    "recording_format",
    "recording_not_found",
    "rr_too_large_in_seconds",
    "time_too_large_in_seconds",
}


@schemathesis.check
def positive_data_acceptance_but_described_rules(ctx: CheckContext, response: Any, case: schemathesis.Case) -> None:
    """Schema-valid input is accepted, except where it breaks a rule that the schema describes in words."""
    if response.status_code == 422 and {e["type"] for e in response.json()["errors"]} <= DESCRIBED_RULES:
        return
    positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    positive_data_acceptance_but_described_rules,
]


@pytest.fixture(scope="module")
def api_schema(make_app: MakeApp) -> Iterator[Any]:
    # The default limits: the schema states the largest max_beats, so a smaller one would reject valid data (the
    # limits have tests of their own). schemathesis counts only 400/422-like statuses as rejections of invalid data.
    app = make_app()
    with TestClient(app):  # runs the lifespan: schemathesis then calls the same, started, app
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


def test_api_conforms_to_its_schema(api_schema: Any) -> None:
    calls: dict[str, int] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode, n in EXAMPLES.items():
            takes_input = any(len(p) for p in (operation.query, operation.body, operation.path_parameters))
            if mode is GenerationMode.NEGATIVE and not takes_input:
                continue  # e.g. /health: there is nothing invalid to send
            name = f"{operation.method.upper()} {operation.path}"
            label = f"{name} ({mode.value})"
            calls[label] = 0
            excluded = [negative_data_rejection] if name in ACCEPTS_ANY_FILE else []

            @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: schemathesis.Case) -> None:
                calls[label] += 1  # noqa: B023 (the function runs right here, in this iteration)
                case.call_and_validate(checks=CHECKS, excluded_checks=excluded)  # noqa: B023 (as above)

            check()
    assert sum(calls.values()) >= MIN_CASES, calls
    print(calls)
