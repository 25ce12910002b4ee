"""Error answers: every 4xx has the :class:`~cardiospike.serving.schemas.ErrorResponse` shape and says what and where.

Request values (RR intervals, times) are never logged and never echoed: an answer names the location of a
problem (``body.sequence.3``), not the value found there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from cardiospike.serving.schemas import ErrorItem, ErrorResponse

#: Most problems listed one by one in an answer (a body of 100,000 bad values must not make a 100,000-item answer).
MAX_ERROR_ITEMS = 20


class ValidationProblemsError(Exception):
    """A body that failed validation: pydantic's problems (without their inputs), located under ``prefix``.

    A list longer than ``max_beats`` is reported with the limit and the setting that sets it.
    """

    def __init__(self, problems: Sequence[Any], prefix: Sequence[str | int] = (), max_beats: int | None = None) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = []
        for problem in problems:
            item = {"loc": [*prefix, *problem["loc"]], "msg": str(problem["msg"]), "type": str(problem["type"])}
            ctx = problem.get("ctx") or {}
            if item["type"] == "too_long" and max_beats is not None and ctx.get("max_length") == max_beats:
                item["msg"] = (
                    f"{ctx.get('actual_length', 'more')} beats, more than the limit of {max_beats} per recording "
                    "(setting max_beats)"
                )
            self.problems.append(item)


class InputError(Exception):
    """Input that passed the schema but cannot be scored; answered with ``status`` (422 unless said otherwise)."""

    def __init__(self, loc: Sequence[str | int], msg: str, type: str = "value_error", status: int = 422) -> None:
        super().__init__(msg)
        self.item = ErrorItem(loc=list(loc), msg=msg, type=type)
        self.status = status


def _where(loc: Sequence[str | int]) -> str:
    return ".".join(map(str, loc))


def error_json(
    status: int, detail: str, items: Sequence[ErrorItem] = (), headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse(detail=detail, errors=list(items))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def validation_response(problems: Sequence[dict[str, Any]]) -> JSONResponse:
    """422 from pydantic's errors, keeping location, message and type and dropping the offending input."""
    items = [ErrorItem(loc=list(p["loc"]), msg=str(p["msg"]), type=str(p["type"])) for p in problems[:MAX_ERROR_ITEMS]]
    detail = "; ".join(f"{_where(i.loc)}: {i.msg}" for i in items[:3])
    if len(problems) > 3:
        detail += f" (and {len(problems) - 3} more problems)"
    return error_json(422, f"invalid request: {detail}", items)


async def _on_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_response(exc.errors())


async def _on_problems(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationProblemsError)
    return validation_response(exc.problems)


async def _on_input(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    return error_json(exc.status, f"invalid request: {_where(exc.item.loc)}: {exc.item.msg}", [exc.item])


async def _on_http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_json(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(ValidationProblemsError, _on_problems)
    app.add_exception_handler(InputError, _on_input)
    app.add_exception_handler(HTTPException, _on_http)
