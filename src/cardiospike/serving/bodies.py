"""Request bodies read by the routes themselves, off the event loop, with bounded work.

FastAPI would parse a JSON or multipart body and validate it on the event loop, before a route runs: a body of
millions of values would then hold every other request (``/health`` included) for seconds. Here the body (already
buffered, within ``max_body_bytes``, by :class:`~cardiospike.serving.middleware.BodySizeLimit`) is first bounded by
a count that costs next to nothing (its commas, an upper bound of the values it holds), then parsed and validated
in a worker thread, stopping at the first invalid value. Parsing takes a turn among ``scoring_threads`` as scoring
does: threads that hold the GIL delay the event loop, so however many bodies arrive at once, at most that many
threads parse and score (``/health`` beside hostile uploads: ``benchmarks/results/hostile.md``). The routes declare
these bodies in the OpenAPI document with :func:`json_body_schema` and :func:`file_body_schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache, partial
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, Field, ValidationError, create_model
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import Field as MultipartField
from python_multipart.multipart import File as MultipartFile
from python_multipart.multipart import create_form_parser

from cardiospike.serving.errors import InputError, ValidationProblemsError
from cardiospike.serving.schemas import RRValue, TimeValue
from cardiospike.serving.scoring import off_loop
from cardiospike.serving.settings import MAX_BEATS

M = TypeVar("M", bound=BaseModel)

#: Values a JSON body may hold beyond two per beat (RR and time): the study id and the keys.
EXTRA_VALUES = 1024


def values_limit(max_beats: int) -> int:
    """Most values (commas) a JSON body may hold: RR and time of ``max_beats`` beats, and a margin."""
    return 2 * max_beats + EXTRA_VALUES


@lru_cache(maxsize=32)
def limited(model: type[M], max_beats: int) -> type[M]:
    """``model`` with its per-beat lists bounded by ``max_beats`` (validation stops at the first bad value)."""
    fields: dict[str, Any] = {}
    for name, item in (("sequence", RRValue), ("times", TimeValue)):
        if name not in model.model_fields:
            continue
        info = model.model_fields[name]
        required = info.is_required()
        annotation = list[item] if required else list[item] | None  # type: ignore[valid-type]
        field = Field(
            ... if required else None,
            # min_length 1 for times too: the schema must not allow `times: []`, which one time per beat refuses.
            min_length=1,
            max_length=max_beats,
            fail_fast=True,
            description=info.description,
        )
        fields[name] = (annotation, field)
    return create_model(model.__name__, __base__=model, **fields)


async def json_body(request: Request, model: type[M], max_beats: int) -> M:
    """The request's JSON body as ``model`` (bounded by ``max_beats``), parsed and validated in a worker thread."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise InputError(["body"], "the body must be JSON (Content-Type: application/json)", "content_type")
    body = await request.body()
    limit = values_limit(max_beats)
    # bytes.count runs in C at memory speed: a body of millions of values is refused before anything parses it.
    if body.count(b",") > limit:
        raise InputError(
            ["body"],
            f"more than {limit} values: the limit is {max_beats} beats per recording (setting max_beats)",
            "too_many_values",
        )
    bounded = limited(model, max_beats)
    try:
        return await off_loop(request, partial(bounded.model_validate_json, body))
    except ValidationError as exc:
        raise ValidationProblemsError(exc.errors(include_input=False), prefix=["body"], max_beats=max_beats) from None


async def uploaded_file(request: Request, field: str = "file") -> tuple[str, bytes]:
    """The name and content of the file uploaded in the multipart form field ``field`` (parsed in a worker thread)."""
    name, content, _ = await uploaded_form(request, field)
    return name, content


async def uploaded_form(
    request: Request, field: str = "file", texts: tuple[str, ...] = ()
) -> tuple[str, bytes, dict[str, str]]:
    """As :func:`uploaded_file`, and the values of the form's text fields named in ``texts`` (those it holds).

    Values such as a recording id travel in the body, not in the query string, which access logs write.
    """
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise InputError(["body", field], "expected a multipart/form-data upload with a file field", "missing")
    body = await request.body()
    files: list[MultipartFile] = []
    fields: list[MultipartField] = []

    def parse() -> None:
        headers = {"Content-Type": content_type.encode("latin-1"), "Content-Length": str(len(body)).encode()}
        # Kept in memory: the body is in memory already, and bounded by max_body_bytes.
        config = {"MAX_MEMORY_FILE_SIZE": len(body) + 1}
        parser = create_form_parser(headers, fields.append, files.append, config=config)
        parser.write(body)
        parser.finalize()

    try:
        await off_loop(request, parse)
    except (FormParserError, ValueError) as exc:
        raise InputError(["body"], f"malformed multipart body ({type(exc).__name__})", "multipart") from None
    upload = next((f for f in files if f.field_name == field.encode()), None)
    if upload is None:
        raise InputError(["body", field], "Field required", "missing")
    upload.file_object.seek(0)
    name = (upload.file_name or b"").decode("utf-8", "replace")
    values: dict[str, str] = {}
    for text in texts:
        given = next((f for f in fields if f.field_name == text.encode()), None)
        if given is None:
            continue
        try:
            values[text] = (given.value or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(["body", text], "not UTF-8 text", "string_unicode") from None
    return _safe_name(name) or "upload", upload.file_object.read(), values


def _safe_name(name: str) -> str:
    """An uploaded file's name for messages: its last path part, printable, at most 100 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:100]


def json_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of a JSON route that reads ``model``, its lists bounded by the highest max_beats."""
    schema = limited(model, MAX_BEATS).model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def file_body_schema(
    description: str, field: str = "file", texts: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of a route that takes one uploaded file, not empty, and optionally the text fields
    ``texts`` (each one's JSON schema by its name)."""
    schema = {
        "type": "object",
        "properties": {
            field: {"type": "string", "format": "binary", "minLength": 1, "description": description},
            **(texts or {}),
        },
        "required": [field],
    }
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}
